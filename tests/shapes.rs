//! Exports in every shape of SPEC §3.2 read as the same cases: the canonical export and its Danish
//! twin (fixtures/shapes/, written by scripts/make_shapes.py), a UTF-8 file with a byte-order mark,
//! tab- and `|`-delimited copies, and `--excel` output.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/shapes")
        .join(name)
}

/// Scans `input` with the shapes' mapping into `out`; panics with stderr on failure.
fn scan(input: &Path, out: &Path, extra: &[&str]) {
    let result = Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .arg("scan")
        .arg(input)
        .arg("--out")
        .arg(out)
        .arg("--mapping")
        .arg(fixture("mapping.toml"))
        .arg("--quiet")
        .args(extra)
        .output()
        .expect("run genoptag");
    assert!(
        result.status.success(),
        "scan of {} failed: {}",
        input.display(),
        String::from_utf8_lossy(&result.stderr)
    );
}

/// The rows of an output CSV (header included), `;` for `--excel`, a byte-order mark dropped.
fn rows(path: &Path, delimiter: u8) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

/// Asserts two scans wrote the same rows: every column but `source`, the CPR compared without
/// its hyphen.
fn assert_same_rows(expected: &Path, actual: &Path, file: &str) {
    let (want, got) = (
        rows(&expected.join(file), b','),
        rows(&actual.join(file), b','),
    );
    assert_eq!(want.len(), got.len(), "{file}: row counts differ");
    assert!(want.len() > 1, "{file}: no rows to compare");
    let header = &want[0];
    for (w, g) in want.iter().zip(&got).skip(1) {
        for (i, name) in header.iter().enumerate() {
            match name.as_str() {
                "source" | "raw" => {}
                "cpr" => assert_eq!(
                    w[i].replace('-', ""),
                    g[i].replace('-', ""),
                    "{file}: cpr of case {}",
                    w[2]
                ),
                _ => assert_eq!(w[i], g[i], "{file}: `{name}` of the row {w:?}"),
            }
        }
    }
}

fn column<'a>(rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = rows[0].iter().position(|h| h == name).unwrap();
    rows[1..].iter().map(|r| r[i].as_str()).collect()
}

#[test]
fn the_danish_windows_1252_export_classifies_exactly_as_its_canonical_twin() {
    let dir = tempfile::tempdir().unwrap();
    let (canonical, danish) = (dir.path().join("canonical"), dir.path().join("danish"));
    scan(&fixture("canonical.csv"), &canonical, &[]);
    scan(&fixture("danish.csv"), &danish, &[]);
    assert_same_rows(&canonical, &danish, "audit.csv");
    assert_same_rows(&canonical, &danish, "reopen.csv");
    assert_same_rows(&canonical, &danish, "review.csv");
    assert_same_rows(&canonical, &danish, "rejects.csv");

    // The fixture is no trivial one: it holds every kind of outcome and the data problems.
    let audit = rows(&danish.join("audit.csv"), b',');
    let rules = column(&audit, "rule");
    for rule in [
        "R1", "R2", "R3", "R5", "R6", "R8", "R9", "SCOPE", "APPEAL", "REGIME",
    ] {
        assert!(rules.contains(&rule), "no {rule} row in the shapes fixture");
    }
    let warnings = column(&audit, "warnings").join("|");
    for w in [
        "CPR_INVALID",
        "UNKNOWN_MUNICIPALITY",
        "UNREADABLE:exam_date",
        "UNKNOWN_REASON_CODE:XYZ",
        "APPLICATION_AFTER_DECISION",
        "BEFORE_IL22",
    ] {
        assert!(warnings.contains(w), "no {w} warning in {warnings}");
    }
    // The text with a `;` and a line break inside quotes did not split its row: the next case
    // starts two lines further down, in both files.
    let lines: Vec<(&str, &str)> = column(&audit, "case_id")
        .into_iter()
        .zip(column(&audit, "line"))
        .collect();
    assert!(
        lines.contains(&("S16", "17")) && lines.contains(&("S17", "19")),
        "{lines:?}"
    );

    let s = summary(&danish);
    let input = &s["inputs"][0];
    assert_eq!(input["encoding"], "windows-1252");
    assert_eq!(input["delimiter"], ";");
    assert_eq!(input["extra_columns"], serde_json::json!(["Sagsbehandler"]));
    assert_eq!(
        input["columns"]["decision_date"]["header"],
        "Afgørelsesdato"
    );
    assert_eq!(input["columns"]["decision_date"]["found"], "alias");
    assert_eq!(
        input["columns"]["public_assistance"]["header"],
        "Offentlig hjælp"
    );
    assert_eq!(
        s["benefit_words_caught"],
        serde_json::json!({"Boligstøtte": 1, "Kontanthjælp": 1})
    );
    let c = summary(&canonical);
    assert_eq!(c["inputs"][0]["encoding"], "utf-8");
    assert_eq!(c["inputs"][0]["delimiter"], ",");
    assert_eq!(c["counts"], s["counts"]);
}

/// Copies the canonical export with another delimiter (the csv writer quotes what needs it).
fn with_delimiter(dir: &Path, delimiter: u8, name: &str) -> PathBuf {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(fixture("canonical.csv"))
        .unwrap();
    let path = dir.join(name);
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_path(&path)
        .unwrap();
    for rec in reader.byte_records() {
        writer.write_byte_record(&rec.unwrap()).unwrap();
    }
    writer.flush().unwrap();
    path
}

#[test]
fn bom_tab_and_pipe_exports_read_as_the_canonical_one() {
    let dir = tempfile::tempdir().unwrap();
    let canonical = dir.path().join("canonical");
    scan(&fixture("canonical.csv"), &canonical, &[]);

    let bom = dir.path().join("bom.csv");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(std::fs::read(fixture("canonical.csv")).unwrap());
    std::fs::write(&bom, bytes).unwrap();
    let tab = with_delimiter(dir.path(), b'\t', "tab.csv");
    let pipe = with_delimiter(dir.path(), b'|', "pipe.csv");
    let pipe_text = std::fs::read_to_string(&pipe).unwrap();
    assert!(
        pipe_text.contains("|\"PROGRAM|NO_EXAM\"|"),
        "the reasons field holding `|` is quoted in the `|` file"
    );

    for (input, encoding, delimiter) in [
        (&bom, "utf-8-bom", ","),
        (&tab, "utf-8", "\\t"),
        (&pipe, "utf-8", "|"),
    ] {
        let out = dir.path().join(format!("out-{delimiter}-{encoding}"));
        scan(input, &out, &[]);
        assert_same_rows(&canonical, &out, "audit.csv");
        assert_same_rows(&canonical, &out, "rejects.csv");
        let s = summary(&out);
        assert_eq!(s["inputs"][0]["encoding"], encoding);
        assert_eq!(s["inputs"][0]["delimiter"], delimiter);
    }
}

#[test]
fn given_encoding_and_delimiter_override_the_sniffing() {
    let dir = tempfile::tempdir().unwrap();
    let (sniffed, given) = (dir.path().join("sniffed"), dir.path().join("given"));
    scan(&fixture("danish.csv"), &sniffed, &[]);
    scan(
        &fixture("danish.csv"),
        &given,
        &["--encoding", "windows-1252", "--delimiter", ";"],
    );
    assert_same_rows(&sniffed, &given, "audit.csv");
    // Forced to UTF-8 against its encoding, the header's Danish letters break: the scan stops
    // and names the column, rather than misreading every row.
    let wrong = Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .arg("scan")
        .arg(fixture("danish.csv"))
        .arg("--out")
        .arg(dir.path().join("wrong"))
        .args(["--encoding", "utf-8", "--quiet"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("danish.csv") && stderr.contains("`decision`"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("wrong").exists(),
        "no output from a failed scan"
    );
}

#[test]
fn excel_outputs_start_with_a_bom_use_semicolons_and_keep_danish_letters() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("excel");
    scan(&fixture("danish.csv"), &out, &["--excel"]);
    for file in ["audit.csv", "reopen.csv", "review.csv", "rejects.csv"] {
        let bytes = std::fs::read(out.join(file)).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBFsource;line;"), "{file}");
    }
    let audit = std::fs::read_to_string(out.join("audit.csv")).unwrap();
    assert!(audit.contains("praksisændring"), "æøå intact in UTF-8");
    let plain = dir.path().join("plain");
    scan(&fixture("danish.csv"), &plain, &[]);
    let (excel, plain) = (
        rows(&out.join("audit.csv"), b';'),
        rows(&plain.join("audit.csv"), b','),
    );
    assert_eq!(excel, plain, "--excel changes the form, not the content");
}

/// Regression: the csv crate put each record of a CRLF file one line early (it stops between
/// `\r` and `\n`), and a blank line shifted every later line.
#[test]
fn crlf_line_ends_and_blank_lines_do_not_shift_reject_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("crlf.csv");
    std::fs::write(
        &input,
        "case_id;cpr;municipality_code;benefit;decision;decision_date\r\n\
         A;0101801234;101;IL22;REFUSED;2020-03-01\r\n\
         B;short\r\n\
         \r\n\
         \"C\r\nspans two lines\";0101801234;101;IL22;NOPE;2020-03-01\r\n\
         D;short",
    )
    .unwrap();
    let out = dir.path().join("out");
    scan(&input, &out, &[]);
    let rejects = rows(&out.join("rejects.csv"), b',');
    let got: Vec<(&str, &str, &str)> = column(&rejects, "line")
        .into_iter()
        .zip(column(&rejects, "column"))
        .zip(column(&rejects, "reason"))
        .map(|((l, c), r)| (l, c, r))
        .collect();
    assert_eq!(
        got,
        [
            ("3", "", "FIELD_COUNT"),
            ("5", "decision", "UNKNOWN_VALUE"),
            ("7", "", "FIELD_COUNT"),
        ]
    );
    let audit = rows(&out.join("audit.csv"), b',');
    assert_eq!(column(&audit, "line"), ["2"]);
}
