//! Robustness: random exports never make a scan panic or fail once the header is readable, and
//! every row is accounted for exactly once (SPEC §3.3, §5): `rows_read = evaluated + rejected`,
//! every evaluated row in `audit.csv` with `--audit-all`, and without it audit rows + rejects +
//! the other-benefit rows only counted = rows_read. For well-formed CSV the rows' lines are known
//! in advance, so each must appear once, on its own line.
//!
//! Shapes vary at random: delimiter, column order, canonical or Danish header names, an extra
//! column, byte-order mark, CRLF or LF, a missing last line end, Windows-1252 bytes, quotes, line
//! breaks and delimiters inside fields, wrong field counts, and values drawn from real value words
//! and garbage.

use std::path::Path;

use clap::Parser;
use proptest::prelude::*;

use genoptag::cli::{Cli, Command};
use genoptag::output::summary::Counts;

/// Canonical name and the Danish aliases a header may use instead.
const COLUMNS: [(&str, &[&str]); 16] = [
    ("case_id", &["Sagsnummer", "sagsnr"]),
    ("cpr", &["CPR-nr", "Personnummer"]),
    ("municipality_code", &["Kommunekode", "kommune_nr"]),
    ("benefit", &["Ydelse", "Ydelsestype"]),
    ("decision", &["Afgørelse", "Resultat"]),
    ("application_date", &["Ansøgningsdato"]),
    ("decision_date", &["Afgørelsesdato"]),
    ("refusal_reasons", &["Afslagsgrunde"]),
    ("refusal_text", &["Begrundelse"]),
    ("person_category", &["Persongruppe"]),
    ("program", &["Programstatus"]),
    ("public_assistance", &["Offentlig hjælp", "Forsørgelse"]),
    ("exam", &["Danskprøve"]),
    ("exam_date", &["Prøvedato"]),
    ("prior_bonus", &["Tidligere bonus"]),
    ("appeal_outcome", &["Klageresultat"]),
];
const REQUIRED: usize = 7; // case_id … decision_date, with application_date among them

/// Real value words of every column (SPEC §3.1), with the dates and codes exports hold.
const WORDS: &[&str] = &[
    "IL22",
    "il22",
    "AKTL22",
    "DANSKTILLAEG",
    "Dansktillæg",
    "OTHER",
    "Kontanthjælp",
    "Boligstøtte",
    "REFUSED",
    "GRANTED",
    "Afslag",
    "afslået",
    "Bevilget",
    "Imødekommet",
    "afvist",
    "REFUGEE",
    "Flygtning",
    "Familiesammenført",
    "FAMILY_REUNIFIED",
    "ja",
    "nej",
    "YES",
    "NO",
    "PD2",
    "PD3",
    "FVU_LAESNING_2",
    "EQUIVALENT",
    "NONE",
    "UPHELD",
    "Stadfæstet",
    "Ophævet og hjemvist",
    "Ændret",
    "DISMISSED",
    "PROGRAM",
    "PROGRAM|NO_EXAM",
    "NOT_SELF_SUPPORTING|XYZ",
    "Du er ikke omfattet af introduktionsprogrammet, jf. § 16",
    "ikke selvforsørgende; modtager kontanthjælp",
    "2020-03-15",
    "15-03-2020",
    "15.03.2020",
    "15/03/2020 10:30",
    "2021-06-09",
    "2018-06-30",
    "15-03-20",
    "2020-02-30",
    "0101801234",
    "010180-1234",
    "3102801234",
    "101",
    "461",
    "999",
    "K-1",
    "K-2",
    "",
    " ",
];

#[derive(Debug, Clone)]
struct Shape {
    delimiter: u8,
    /// Per header position: (canonical column index or None for an extra column, alias choice).
    header: Vec<(Option<usize>, usize)>,
    bom: bool,
    crlf: bool,
    latin: bool,
    final_newline: bool,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop::sample::select(vec![b',', b';', b'\t', b'|']),
        prop::sample::subsequence((REQUIRED..16).collect::<Vec<_>>(), 0..=9),
        any::<bool>(),
        any::<u64>(),
        any::<(bool, bool, bool, bool)>(),
    )
        .prop_map(
            |(delimiter, optional, extra, seed, (bom, crlf, latin, final_newline))| {
                let mut header: Vec<(Option<usize>, usize)> = (0..REQUIRED)
                    .chain(optional)
                    .map(|c| (Some(c), (seed >> (c * 2)) as usize % 3))
                    .collect();
                if extra {
                    header.push((None, 0));
                }
                // A column order of its own, from the seed.
                let n = header.len();
                for i in (1..n).rev() {
                    let j = (seed.rotate_left(i as u32) as usize) % (i + 1);
                    header.swap(i, j);
                }
                Shape {
                    delimiter,
                    header,
                    bom,
                    crlf,
                    latin,
                    final_newline,
                }
            },
        )
}

/// A field: a real word, or garbage with quotes, delimiters, line breaks and Danish letters.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(str::to_string),
        1 => "[a-zæøåÆØÅ§ \"';,|\t\r\n0-9-]{0,12}",
        1 => any::<String>().prop_map(|s| s.chars().take(8).collect()),
    ]
}

/// A row: as many fields as the header, or a few more or fewer.
fn rows() -> impl Strategy<Value = Vec<(i8, Vec<String>)>> {
    prop::collection::vec(
        (
            prop_oneof![6 => Just(0i8), 1 => -3i8..=3],
            prop::collection::vec(field(), 20),
        ),
        0..10,
    )
}

fn header_name(col: Option<usize>, alias: usize) -> &'static str {
    match col {
        None => "Sagsbehandler",
        Some(c) => {
            let (name, aliases) = COLUMNS[c];
            if alias == 0 {
                name
            } else {
                aliases[(alias - 1) % aliases.len()]
            }
        }
    }
}

fn quote(field: &str, delimiter: u8) -> String {
    let special = |c: char| c == '"' || c == '\r' || c == '\n' || c == delimiter as char;
    if field.contains(special) || field.starts_with(' ') {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Writes a well-formed export; returns its bytes and the line each record starts on.
fn export(shape: &Shape, rows: &[(i8, Vec<String>)]) -> (Vec<u8>, Vec<u64>) {
    let sep = (shape.delimiter as char).to_string();
    let end = if shape.crlf { "\r\n" } else { "\n" };
    let header: Vec<&str> = shape
        .header
        .iter()
        .map(|&(c, a)| header_name(c, a))
        .collect();
    let mut text = header.join(&sep);
    let mut lines = Vec::new();
    let mut line = 1u64;
    for (delta, fields) in rows {
        let width = (header.len() as i64 + i64::from(*delta)).clamp(1, 20) as usize;
        let mut record: Vec<String> = fields[..width]
            .iter()
            .map(|f| quote(f, shape.delimiter))
            .collect();
        if width == 1 && record[0].is_empty() {
            record[0] = "\"\"".to_string(); // an empty line is no record
        }
        let record = record.join(&sep);
        text.push_str(end);
        line += 1;
        lines.push(line);
        // Line breaks inside quoted fields: `\r\n` and a lone `\r` each end one physical line.
        line += record.replace("\r\n", "\n").matches(['\n', '\r']).count() as u64;
        text.push_str(&record);
    }
    if shape.final_newline {
        text.push_str(end);
    }
    let mut bytes = if shape.bom {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    if shape.latin {
        bytes.extend_from_slice(&encoding_rs::WINDOWS_1252.encode(&text).0);
    } else {
        bytes.extend_from_slice(text.as_bytes());
    }
    (bytes, lines)
}

struct Run {
    counts: Counts,
    input_rows: u64,
    audit_lines: Vec<u64>,
    audit_out_of_scope: u64,
    reject_lines: Vec<u64>,
}

fn scan(dir: &Path, export: &[u8], audit_all: bool, catch_all: bool) -> Result<Run, String> {
    let input = dir.join("export.csv");
    std::fs::write(&input, export).unwrap();
    let mapping = dir.join("catch-all.toml");
    std::fs::write(&mapping, "[values.benefit]\n\"*\" = \"OTHER\"\n").unwrap();
    let out = dir.join(if audit_all { "out-all" } else { "out" });
    let mut argv = vec![
        "genoptag".to_string(),
        "scan".into(),
        input.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--threads".into(),
        "1".into(),
        "--quiet".into(),
        "--batch-size".into(),
        "3".into(),
    ];
    if audit_all {
        argv.push("--audit-all".into());
    }
    if catch_all {
        argv.push("--mapping".into());
        argv.push(mapping.display().to_string());
    }
    let Command::Scan(args) = Cli::try_parse_from(&argv).unwrap().command else {
        unreachable!()
    };
    let cfg = genoptag::cmd::scan::config(&args).map_err(|e| e.to_string())?;
    let mut scanned = genoptag::pipeline::scan(&cfg).map_err(|e| e.to_string())?;
    // The lists' last rows may still be patched in behind the scan.
    scanned.staging.finished().map_err(|e| e.to_string())?;
    let staging = scanned.staging.path();
    let read = |file: &str| -> Vec<csv::StringRecord> {
        csv::Reader::from_path(staging.join(file))
            .unwrap()
            .records()
            .map(Result::unwrap)
            .collect()
    };
    let audit = read("audit.csv");
    let rejects = read("rejects.csv");
    Ok(Run {
        counts: scanned.summary.counts.clone(),
        input_rows: scanned.summary.inputs[0].rows,
        audit_lines: audit.iter().map(|r| r[1].parse().unwrap()).collect(),
        audit_out_of_scope: audit.iter().filter(|r| &r[8] == "OUT_OF_SCOPE").count() as u64,
        reject_lines: rejects.iter().map(|r| r[1].parse().unwrap()).collect(),
    })
}

/// The invariants of one export scanned with and without `--audit-all`; `lines` are the
/// records' start lines when known.
fn check_accounting(
    export: &[u8],
    catch_all: bool,
    lines: Option<&[u64]>,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let all = scan(dir.path(), export, true, catch_all)
        .map_err(|e| TestCaseError::fail(format!("scan failed: {e}")))?;
    let lists = scan(dir.path(), export, false, catch_all)
        .map_err(|e| TestCaseError::fail(format!("scan failed: {e}")))?;
    let c = &all.counts;
    prop_assert_eq!(c.rows_read, c.evaluated + c.rejected);
    prop_assert_eq!(
        c.evaluated,
        c.reopen + c.review + c.not_affected + c.out_of_scope
    );
    prop_assert_eq!(all.input_rows, c.rows_read);
    prop_assert_eq!(all.audit_lines.len() as u64, c.evaluated);
    prop_assert_eq!(all.reject_lines.len() as u64, c.rejected);
    // Without --audit-all, rows of other benefits are only counted.
    let l = &lists.counts;
    prop_assert_eq!(
        (l.rows_read, l.evaluated, l.rejected, l.out_of_scope),
        (c.rows_read, c.evaluated, c.rejected, c.out_of_scope)
    );
    let other_counted = l.out_of_scope - lists.audit_out_of_scope;
    prop_assert_eq!(
        lists.audit_lines.len() as u64 + lists.reject_lines.len() as u64 + other_counted,
        l.rows_read
    );
    if let Some(lines) = lines {
        let mut seen: Vec<u64> = all
            .audit_lines
            .iter()
            .chain(&all.reject_lines)
            .copied()
            .collect();
        seen.sort_unstable();
        prop_assert_eq!(
            seen,
            lines.to_vec(),
            "each record once, on the line it starts"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn well_formed_exports_of_any_shape_account_for_every_row_on_its_line(
        shape in shape(),
        rows in rows(),
        catch_all in any::<bool>(),
    ) {
        let (bytes, lines) = export(&shape, &rows);
        check_accounting(&bytes, catch_all, Some(&lines))?;
    }

    #[test]
    fn random_bytes_after_a_readable_header_never_break_the_accounting(
        shape in shape(),
        body in prop::collection::vec(
            prop_oneof![
                4 => any::<u8>(),
                2 => prop::sample::select(b"\",;|\t\r\n".to_vec()),
            ],
            0..600,
        ),
        catch_all in any::<bool>(),
    ) {
        // A Windows-1252 header, so that an invalid UTF-8 body cannot change how it is decoded.
        let shape = Shape { latin: true, ..shape };
        let (mut bytes, _) = export(&shape, &[]);
        bytes.extend_from_slice(b"\n");
        bytes.extend_from_slice(&body);
        check_accounting(&bytes, catch_all, None)?;
    }

    #[test]
    fn any_bytes_at_all_give_a_scan_or_a_fatal_error_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let dir = tempfile::tempdir().unwrap();
        match scan(dir.path(), &bytes, true, false) {
            Ok(run) => {
                let c = &run.counts;
                prop_assert_eq!(c.rows_read, c.evaluated + c.rejected);
                prop_assert_eq!(run.audit_lines.len() as u64 + run.reject_lines.len() as u64, c.rows_read);
            }
            Err(message) => prop_assert!(message.contains("export.csv"), "a fatal error names the file: {}", message),
        }
    }
}
