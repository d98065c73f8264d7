//! The parallel, memory-mapped reading of a file (`input::scan`, `pipeline::mapped`) against the
//! single streaming csv reader that standard input goes through: on tricky generated exports,
//! cut into many small pieces, both give byte-identical `reopen.csv`, `review.csv`, `audit.csv`
//! and `rejects.csv`, and the same counts, caught words and digest in `summary.json`.
//!
//! The exports hold what breaks naive splitting: quoted fields with line breaks, delimiters and
//! doubled quotes; quoted fields that hold whole lines looking like records (so a cut can be
//! fooled, and the reader must notice and read on); a quote in the middle of a field; a lone
//! `\r`; blank lines; CRLF; a byte-order mark; `;` as delimiter; Windows-1252; rejects of every
//! reason; duplicates; a quoted `benefit`.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

mod support;
use support::{Dice, genoptag};

const COLUMNS: [&str; 16] = [
    "case_id",
    "cpr",
    "municipality_code",
    "benefit",
    "decision",
    "application_date",
    "decision_date",
    "refusal_reasons",
    "refusal_text",
    "person_category",
    "program",
    "public_assistance",
    "exam",
    "exam_date",
    "prior_bonus",
    "appeal_outcome",
];

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// One export as text, with `sep` between fields and `eol` after each line.
fn export(rows: usize, sep: char, eol: &str, seed: u64) -> String {
    let mut dice = Dice(seed);
    let texts = [
        "Du har ikke deltaget i introduktionsprogrammet.",
        "Du er ikke selvforsørgende; du modtager kontanthjælp",
        "Afslag, jf. integrationslovens §16.\nDu kan klage inden 4 uger.",
        "Prøven er \"ikke bestået\"",
        "Du har tidligere fået danskbonus",
        "",
        "Afslag på boligstøtte, da indkomsten overstiger grænsen.",
    ];
    let mut out = COLUMNS.join(&sep.to_string()) + eol;
    for i in 0..rows {
        let benefit = match dice.next(10) {
            0..=5 => "OTHER",
            6 => "IL22",
            7 => "AKTL22",
            8 => "DANSKTILLAEG",
            _ => "il22",
        };
        let decision = dice.pick(&["REFUSED", "Afslag", "GRANTED", "bevilget"]);
        let mut text = dice.pick(&texts).to_string();
        if dice.next(25) == 0 {
            // Whole lines that look like records, inside one quoted field.
            for k in 0..6 {
                text.push_str(&format!(
                    "\nF-{k}{sep}0101801234{sep}461{sep}OTHER{sep}REFUSED{sep}{sep}2020-01-01{sep}{sep}x{sep}{sep}{sep}{sep}{sep}{sep}{sep}"
                ));
            }
        }
        let fields: Vec<String> = vec![
            format!("K-{}", i % 997),
            dice.pick(&["0101801234", "290280-1234", "3102801234", ""])
                .to_string(),
            dice.pick(&["461", "101", "999", "751"]).to_string(),
            benefit.to_string(),
            decision.to_string(),
            dice.pick(&["2020-01-10", "", "15.03.2021", "2021-07-01"])
                .to_string(),
            dice.pick(&["2020-02-01", "01/03/2021", "2021-08-01", "2018-05-01"])
                .to_string(),
            dice.pick(&["PROGRAM", "NO_EXAM|PROGRAM", "", "OTHER"])
                .to_string(),
            quoted(&text),
            dice.pick(&["REFUGEE", "familiesammenført", "", "OTHER"])
                .to_string(),
            dice.pick(&["YES", "NO", "", "ja"]).to_string(),
            dice.pick(&["YES", "NO", ""]).to_string(),
            dice.pick(&["PD2", "PD1", "", "EQUIVALENT"]).to_string(),
            dice.pick(&["2019-05-01", "", "2017-01-01"]).to_string(),
            dice.pick(&["NO", "", "YES"]).to_string(),
            dice.pick(&["", "", "UPHELD", "Ophævet og hjemvist"])
                .to_string(),
        ];
        let mut line = fields.join(&sep.to_string());
        let mut end = eol;
        match dice.next(40) {
            0 => line = format!("K-{i}{sep}0101801234{sep}461{sep}IL22"), // too few fields
            1 => line = line.replacen(benefit, "Boligstøtte", 1),         // unknown benefit word
            2 => line = line.replacen(&format!("K-{}", i % 997), "", 1),  // empty case_id
            3 => line = line.replacen("2020-02-01", "15-02-20", 1),       // unreadable date
            4 => line = line.replacen("OTHER", "\"OTHER\"", 1),           // a quoted benefit
            5 => line.push_str(&format!("{sep}5\" skærm")), // a quote mid-field, one field too many
            6 => line.push_str(eol),                        // a blank line after
            7 => end = "\r",                                // a lone CR ends the line too
            _ => {}
        }
        out.push_str(&line);
        out.push_str(end);
        if dice.next(30) == 0 {
            // The same row again: a duplicate.
            out.push_str(&line);
            out.push_str(eol);
        }
    }
    out
}

/// Runs a scan, `stdin` on its standard input when given; asserts it ends with exit code 0.
fn scan(input: &str, out: &Path, stdin: Option<&[u8]>, extra: &[&str]) {
    let out = out.to_str().unwrap();
    let args = [&["scan", input, "--quiet", "--out", out][..], extra].concat();
    let result = genoptag(None, &args, stdin);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

fn summary(out: &Path) -> serde_json::Value {
    let mut s: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in ["started_at", "finished_at", "elapsed_seconds", "threads"] {
        s.as_object_mut().unwrap().remove(key);
    }
    s["inputs"][0]["path"] = "?".into();
    s
}

/// No staging directory of a run that stopped is left beside its output in `dir`.
fn assert_no_staging_left(dir: &Path) {
    let left: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("genoptag-tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Scans `bytes` as a file, cut into pieces of each size, and through stdin; all must agree.
fn file_and_stdin_agree(name: &str, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    fs::write(&path, bytes).unwrap();
    let path = path.to_str().unwrap();
    let piped = dir.path().join("stdin-out");
    scan("-", &piped, Some(bytes), &["--threads", "2"]);
    let rejects = fs::read_to_string(piped.join("rejects.csv")).unwrap();
    assert!(
        rejects.lines().count() > 5,
        "the export should hold rejects: {rejects}"
    );
    for chunk in ["64", "1000", "4096", "4194304"] {
        for threads in ["1", "2"] {
            let out = dir.path().join(format!("out-{chunk}-{threads}"));
            scan(
                path,
                &out,
                None,
                &["--chunk-size", chunk, "--threads", threads],
            );
            for file in ["reopen.csv", "review.csv", "audit.csv", "rejects.csv"] {
                let ours = fs::read(out.join(file)).unwrap();
                let ours = String::from_utf8(ours).unwrap().replace(path, "stdin");
                let theirs = fs::read_to_string(piped.join(file)).unwrap();
                assert!(
                    ours == theirs,
                    "{name}: {file} differs with --chunk-size {chunk} --threads {threads}:\n{}",
                    first_difference(&ours, &theirs)
                );
            }
            assert_eq!(summary(&out), summary(&piped), "{name}, chunk {chunk}");
        }
    }
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n file:  {x}\n stdin: {y}", i + 1);
        }
    }
    format!("{} lines against {}", a.lines().count(), b.lines().count())
}

#[test]
fn utf8_with_bom_semicolons_and_crlf_read_alike_in_pieces_and_streamed() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(export(1500, ';', "\r\n", 7).as_bytes());
    file_and_stdin_agree("windows-excel.csv", &bytes);
}

#[test]
fn windows_1252_commas_and_lf_read_alike_in_pieces_and_streamed() {
    let text = export(1500, ',', "\n", 11);
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    assert!(bytes.contains(&0xF8), "ø as one byte");
    file_and_stdin_agree("latin.csv", &bytes);
}

/// A last quoted field never closed runs to the end of the export. Streamed, the record had been
/// put on the line before its own (a row of another case), and its field had kept the line end
/// the reader gives an export without one: in pieces and streamed it is now rejected alike, on
/// its own line, with its bytes as they stand.
#[test]
fn a_last_quoted_field_never_closed_is_rejected_alike_on_its_own_line() {
    for end in ["", "\n", "\r\n", "x\"\"", "x\"\"\n"] {
        let mut text = export(300, ',', "\n", 4);
        let line = 1 + text.matches('\n').count() + text.matches('\r').count()
            - text.matches("\r\n").count();
        text.push_str(&format!(
            "K-LAST,0101801234,461,IL22,\"REFUSED\nAfslag,,{end}"
        ));
        file_and_stdin_agree("unclosed.csv", text.as_bytes());

        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        scan("-", &out, Some(text.as_bytes()), &[]);
        let rejects = fs::read_to_string(out.join("rejects.csv")).unwrap();
        let wanted = format!("stdin,{line},,FIELD_COUNT,\"K-LAST,");
        assert!(rejects.contains(&wanted), "{end:?}: {wanted} in\n{rejects}");
        // The field as read (line ends as `\n`, a doubled quote as one), written quoted.
        let field = end.replace("\r\n", "\n").replace("\"\"", "\"");
        let raw = format!("REFUSED\nAfslag,,{}\"\n", field.replace('"', "\"\""));
        assert!(
            rejects.ends_with(&raw),
            "{end:?}: {raw:?} at the end of\n{rejects}"
        );
    }
}

#[test]
fn an_export_without_a_last_line_end_reads_alike() {
    let mut text = export(300, ',', "\n", 3);
    text.pop();
    file_and_stdin_agree("no-last-eol.csv", text.as_bytes());
}

#[test]
fn a_cut_fooled_by_lines_like_records_inside_a_quoted_field_is_read_again() {
    // Each refusal text holds eight lines that look like whole records: a cut among the first
    // of them passes every look, and only the piece before, read to its end, shows it wrong.
    let mut text = COLUMNS.join(",") + "\n";
    for i in 0..60 {
        let fake: Vec<String> = (0..8)
            .map(|k| format!("F-{k},0101801234,461,OTHER,REFUSED,,2020-01-01,,x,,,,,,,"))
            .collect();
        let benefit = if i % 3 == 0 { "IL22" } else { "OTHER" };
        text.push_str(&format!(
            "K-{i},0101801234,461,{benefit},REFUSED,2020-01-10,2020-02-01,,\"a\n{}\nb\",REFUGEE,NO,NO,PD2,2019-05-01,NO,\n",
            fake.join("\n")
        ));
        if i % 7 == 0 {
            text.push_str(&format!("K-bad-{i},0101801234\n"));
        }
    }
    file_and_stdin_agree("fooled.csv", text.as_bytes());
}

/// Another program that cuts an export short while the scan reads it through its memory map
/// (an export job writing the file anew) makes a page unreadable: the run ends with an error
/// that names the file, not a "Bus error", and the last run's output stays as it was.
#[test]
fn an_export_cut_short_while_it_is_read_ends_the_run_with_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("export.csv");
    let text = export(4000, ',', "\n", 11);
    assert!(
        text.len() > 256 << 10,
        "{} bytes: several pages",
        text.len()
    );
    fs::write(&input, &text).unwrap();
    let input = input.to_str().unwrap();
    let out = dir.path().join("out");
    scan(input, &out, None, &[]);
    let kept = fs::read(out.join("audit.csv")).unwrap();

    let run = Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .args(["scan", input, "--quiet", "--chunk-size", "65536", "--out"])
        .arg(&out)
        .env("GENOPTAG_TEST_FAIL_AT", "input-cut")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&run.stderr),
        format!(
            "genoptag: error: {input}: the file was cut short while it was read (is another \
             program writing it?): scan it again once it is complete\n"
        )
    );
    assert!(run.stdout.is_empty());
    assert_eq!(fs::read(out.join("audit.csv")).unwrap(), kept);

    // Written again in full, it is scanned, and the cut run's staging directory is gone.
    fs::write(input, &text).unwrap();
    scan(input, &out, None, &[]);
    assert_eq!(fs::read(out.join("audit.csv")).unwrap(), kept);
    assert_no_staging_left(dir.path());
}

/// Scans `text` with the benefit catch-all, as a file cut into pieces of several sizes and
/// streamed: the summaries and `audit.csv` agree. Returns the streamed run's summary.
fn alike_with_the_catch_all(text: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("catch-all.toml");
    fs::write(&mapping, "[values.benefit]\n\"*\" = \"OTHER\"\n").unwrap();
    let mapping = mapping.to_str().unwrap();
    let path = dir.path().join("export.csv");
    fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap();
    let piped = dir.path().join("stdin-out");
    scan("-", &piped, Some(text.as_bytes()), &["--mapping", mapping]);
    for chunk in ["1000", "65536", "4194304"] {
        let out = dir.path().join(format!("out-{chunk}"));
        scan(
            path,
            &out,
            None,
            &[
                "--mapping",
                mapping,
                "--chunk-size",
                chunk,
                "--threads",
                "2",
            ],
        );
        assert_eq!(summary(&out), summary(&piped), "chunk {chunk}");
        let ours = fs::read_to_string(out.join("audit.csv")).unwrap();
        let theirs = fs::read_to_string(piped.join("audit.csv")).unwrap();
        assert_eq!(ours.replace(path, "stdin"), theirs, "chunk {chunk}");
    }
    summary(&piped)
}

/// An export naming hundreds of other benefits (more than a piece remembers, `mapped::words`),
/// some differing only in their last bytes or in length, with the catch-all: every word is
/// counted as often as it stands, in pieces of any size as streamed, and the lists agree.
#[test]
fn an_export_of_hundreds_of_benefit_words_counts_each_alike_in_pieces_and_streamed() {
    let mut dice = Dice(5);
    let words: Vec<String> = (0..300)
        .map(|k| match k % 4 {
            0 => format!("YDELSE{k}"),
            1 => format!("Ydelse nr. {k:03} (kommunal)"),
            2 => format!("Y{k}"),
            _ => format!("YDELSE{k}X"),
        })
        .collect();
    let mut counts = std::collections::BTreeMap::new();
    let mut text = COLUMNS.join(",") + "\n";
    for i in 0..6000 {
        let benefit = if i % 50 == 0 {
            "IL22".to_string()
        } else {
            // Runs of one word, as exports sorted by benefit hold, and words at random.
            let k = if i % 1000 < 300 {
                i / 100 % 300
            } else {
                dice.next(300)
            };
            *counts.entry(words[k].clone()).or_insert(0u64) += 1;
            words[k].clone()
        };
        text.push_str(&format!(
            "K-{i},0101801234,461,{benefit},REFUSED,2020-01-10,2020-02-01,PROGRAM,\"Afslag\",REFUGEE,NO,NO,PD2,2019-05-01,NO,\n"
        ));
    }
    let expected: serde_json::Map<String, serde_json::Value> = counts
        .iter()
        .map(|(word, &n)| (word.clone(), n.into()))
        .collect();
    let caught = &alike_with_the_catch_all(&text)["benefit_words_caught"];
    assert_eq!(caught, &serde_json::Value::Object(expected));
}

/// An export that quotes every field, as many systems write them: a quoted `benefit` word is
/// counted by what stands between its quotes, one with a doubled quote inside is read in full,
/// and both read as the streamed reader reads them.
#[test]
fn an_export_quoting_every_field_counts_its_words_alike_in_pieces_and_streamed() {
    let mut dice = Dice(9);
    let words = [
        "OTHER",
        "Kontanthjælp",
        "Bolig\"\"støtte",
        "IL22",
        "",
        "Sygedagpenge",
    ];
    let quote_all = |fields: &[&str]| {
        let quoted: Vec<String> = fields.iter().map(|f| format!("\"{f}\"")).collect();
        quoted.join(",") + "\n"
    };
    let mut text = quote_all(&COLUMNS);
    for i in 0..3000 {
        let case = format!("K-{i}");
        let benefit = dice.pick(&words);
        text.push_str(&quote_all(&[
            &case,
            "0101801234",
            "461",
            benefit,
            "REFUSED",
            "2020-01-10",
            "2020-02-01",
            "PROGRAM",
            "Afslag, jf. \"\"§ 16\"\"",
            "REFUGEE",
            "NO",
            "NO",
            "PD2",
            "2019-05-01",
            "NO",
            "",
        ]));
    }
    let summary = alike_with_the_catch_all(&text);
    let caught = &summary["benefit_words_caught"];
    assert!(caught["Bolig\"støtte"].as_u64().unwrap() > 300, "{caught}");
    assert!(caught["Sygedagpenge"].as_u64().unwrap() > 300, "{caught}");
    assert!(
        summary["counts"]["rejected"].as_u64().unwrap() > 300,
        "the empty words"
    );
}

/// A file of several BLAKE3 subtrees (256 KiB each), its rows shifted off the subtrees' places
/// by a byte-order mark: whether the pieces hash the subtrees within them (cut large) or the
/// writing thread hashes those across pieces (cut small), the digest is BLAKE3's of its bytes.
#[test]
fn the_digest_of_a_file_read_in_pieces_is_that_of_its_bytes_however_it_is_cut() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(export(12_000, ',', "\n", 13).as_bytes());
    assert!(bytes.len() > 5 * (256 << 10), "{} bytes", bytes.len());
    let expected = blake3::hash(&bytes).to_hex().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    fs::write(&path, &bytes).unwrap();
    for chunk in ["1000", "300000", "4194304"] {
        for threads in ["1", "2"] {
            let out = dir.path().join(format!("out-{chunk}-{threads}"));
            let args = ["--chunk-size", chunk, "--threads", threads];
            scan(path.to_str().unwrap(), &out, None, &args);
            let digest = summary(&out)["inputs"][0]["digest"].clone();
            assert_eq!(
                digest,
                expected.as_str(),
                "chunk {chunk}, {threads} threads"
            );
        }
    }
}

/// A bug that panics while one piece of an export is read, on one of the scan's threads, ends
/// the run with exit code 1 and an internal-error report naming where it happened — it had
/// left the writing thread waiting for that piece for ever, at full speed on a core. The
/// report masks the CPR number the panic's message quoted, and the last run's output stays.
#[test]
fn a_panic_while_a_piece_is_read_ends_the_run_with_an_internal_error_and_no_cpr() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("export.csv");
    let mut text = COLUMNS.join(",") + "\n";
    for i in 0..4000 {
        let benefit = if i % 7 == 0 { "IL22" } else { "OTHER" };
        text += &format!(
            "K-{i},0101{i:06},461,{benefit},REFUSED,2020-01-10,2020-02-01,PROGRAM,\"Afslag, jf. § 16\",REFUGEE,NO,YES,PD2,2019-05-01,NO,\n"
        );
    }
    fs::write(&input, &text).unwrap();
    let input = input.to_str().unwrap();
    let out = dir.path().join("out");
    scan(input, &out, None, &[]);
    let kept = fs::read(out.join("audit.csv")).unwrap();

    for threads in ["1", "2"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_genoptag"))
            .args(["scan", input, "--quiet", "--chunk-size", "16384"])
            .args(["--threads", threads, "--out"])
            .arg(&out)
            .env("GENOPTAG_TEST_FAIL_AT", "piece-panic")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > std::time::Duration::from_secs(60) {
                child.kill().unwrap();
                panic!("--threads {threads}: the run still waits for the piece after 60 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let run = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "--threads {threads}: {stderr}");
        assert!(run.stdout.is_empty());
        assert!(
            stderr.starts_with("genoptag: internal error in thread `")
                && stderr.contains("src/pipeline/mapped/piece.rs:")
                && stderr.contains("test-only bug in the piece at byte ")
                && stderr.contains("this is a bug in genoptag, not in the input"),
            "--threads {threads}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 2, "reported once: {stderr}");
        // The first row the message quoted has its CPR number masked, and no other is there.
        assert!(stderr.contains(",##########,"), "{stderr}");
        for i in 0..4000 {
            let cpr = format!("0101{i:06}");
            assert!(!stderr.contains(&cpr), "CPR {cpr} on stderr: {stderr}");
        }
        assert_eq!(fs::read(out.join("audit.csv")).unwrap(), kept);
    }
    assert_no_staging_left(dir.path());
}

/// A quoted benefit word that the catch-all takes and that holds a line break (`\r\n`, a lone
/// `\r` or `\n`) is counted under one word, its line ends as `\n`, in pieces as streamed: the
/// pieces had counted the bytes as they stand, so `summary.json` differed between `scan FILE`
/// and `scan -`.
#[test]
fn a_caught_benefit_word_holding_a_line_break_is_counted_alike_in_pieces_and_streamed() {
    let mut text = COLUMNS.join(",") + "\r\n";
    for (i, word) in [
        "\"Bolig\r\nstøtte\"",
        "\"Bolig\rstøtte\"",
        "\"Bolig\nstøtte\"",
    ]
    .iter()
    .cycle()
    .take(3000)
    .enumerate()
    {
        text += &format!("K-{i},0101801234,461,{word},GRANTED,2020-01-10,2020-02-01,,,,,,,,,\r\n");
    }
    let summary = alike_with_the_catch_all(&text);
    assert_eq!(
        summary["benefit_words_caught"],
        serde_json::json!({ "Bolig\nstøtte": 3000 })
    );
}

/// A record far longer than what a piece reads past its end (a refusal text of 400 KB whose
/// lines look like records, so that the cuts fall inside it) is read whole however the file is
/// cut: the piece it starts in is read again through the map, and the pieces cut inside it are
/// passed over.
#[test]
fn a_record_longer_than_a_piece_reads_past_its_end_is_read_whole() {
    let before = export(300, ',', "\n", 9);
    let after = export(300, ',', "\n", 10);
    let long: String = (0..8_000)
        .map(|k| format!("F-{k},0101801234,461,OTHER,REFUSED,,2020-01-01,,x,,,,,,,\n"))
        .collect();
    let text = format!(
        "{before}K-LONG,0101801234,461,IL22,REFUSED,2020-01-10,2020-02-01,PROGRAM,{},REFUGEE,NO,YES,PD2,2019-05-01,NO,\n{}",
        quoted(&long),
        after.split_once('\n').unwrap().1
    );
    assert!(long.len() > 256 << 10);
    file_and_stdin_agree("long.csv", text.as_bytes());
}
