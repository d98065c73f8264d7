//! The bundled sample export (`fixtures/sample_export.csv`, made by `scripts/make_sample.py`):
//! every IL22 refusal and every bad row is classified as the generator intended
//! (`fixtures/sample_expected.csv`), and the outputs equal the reviewed files in
//! `fixtures/e2e/sample/` byte for byte (regenerate them with `scripts/regen-e2e`, read the diff).

use std::collections::HashMap;
use std::fs;
use std::process::Command;

fn scan_sample(out: &std::path::Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .args(["scan", "fixtures/sample_export.csv", "--quiet", "--out"])
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn the_sample_is_classified_as_its_generator_intended() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    scan_sample(&out);
    let read = |name: &str| -> HashMap<String, csv::StringRecord> {
        let mut r = csv::Reader::from_path(out.join(name)).unwrap();
        r.records()
            .map(|r| r.unwrap())
            .map(|r| (r[1].to_string(), r))
            .collect()
    };
    let audit = read("audit.csv");
    let rejects = read("rejects.csv");
    let mut expected = csv::Reader::from_path("fixtures/sample_expected.csv").unwrap();
    let mut n = 0;
    for row in expected.records() {
        let row = row.unwrap();
        let (case_id, line, class, rule) = (&row[0], &row[1], &row[2], &row[3]);
        n += 1;
        if let Some(reason) = class.strip_prefix("REJECT:") {
            assert_eq!(&rejects[line][3], reason, "line {line} ({case_id})");
        } else {
            let got = &audit[line];
            assert_eq!(
                (&got[2], &got[8], &got[10]),
                (case_id, class, rule),
                "line {line}"
            );
        }
    }
    assert!(n > 50);
    // reopen.csv lists exactly the expected REOPEN cases, less identical copies of one decision.
    let mut listed: Vec<String> = csv::Reader::from_path(out.join("reopen.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap()[1].to_string())
        .collect();
    let mut want: Vec<String> = csv::Reader::from_path("fixtures/sample_expected.csv")
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[2] == "REOPEN" && !audit[&r[1]][17].contains("DUPLICATE_OF"))
        .map(|r| r[1].to_string())
        .collect();
    listed.sort();
    want.sort();
    assert_eq!(listed, want, "reopen.csv lists exactly the expected cases");
    assert!(listed.len() > 15);
}

#[test]
fn the_sample_outputs_equal_the_reviewed_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    scan_sample(&out);
    for name in ["reopen.csv", "review.csv", "audit.csv", "rejects.csv"] {
        let got = fs::read_to_string(out.join(name)).unwrap();
        let want = fs::read_to_string(format!("fixtures/e2e/sample/{name}")).unwrap();
        assert!(
            got == want,
            "{name} differs from fixtures/e2e/sample/{name}: run scripts/regen-e2e and review the diff"
        );
    }
}
