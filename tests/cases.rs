//! The decision table as data (STYLE.md "Tests as data"): every `fixtures/cases/*.csv` is scanned
//! as one export, and each row's classification, expected outcome, rule and warnings — or its
//! reject reason — must be what the row says. A failure names file, line and the case's sentence.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

struct Listed {
    classification: String,
    outcome: String,
    rule: String,
    warnings: String,
}

fn by_line(path: &Path, key: &str) -> HashMap<u64, csv::StringRecord> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let line_at = headers.iter().position(|h| h == key).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[line_at].parse().unwrap(), r)
        })
        .collect()
}

fn check_file(file: &str, failures: &mut Vec<String>) -> usize {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .args(["scan", file, "--audit-all", "--quiet", "--out"])
        .arg(out.path().join("o"))
        .status()
        .unwrap();
    assert!(status.success(), "{file}: scan failed");
    let audit = by_line(&out.path().join("o/audit.csv"), "line");
    let rejects = by_line(&out.path().join("o/rejects.csv"), "line");

    let mut reader = csv::Reader::from_path(file).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{file}: no column {name}"))
    };
    let (name, class, outcome, rule, warnings) = (
        col("name"),
        col("expected_classification"),
        col("expected_outcome"),
        col("expected_rule"),
        col("expected_warnings"),
    );
    let mut checked = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let line = record.position().unwrap().line();
        let expected = &record[class];
        let mut fail =
            |what: String| failures.push(format!("{file}:{line}: {}\n    {what}", &record[name]));
        checked += 1;
        if let Some(reason) = expected.strip_prefix("REJECT:") {
            match rejects.get(&line) {
                Some(r) if &r[3] == reason => {}
                Some(r) => fail(format!("rejected as {}, expected {reason}", &r[3])),
                None => fail(format!("not rejected, expected REJECT:{reason}")),
            }
            continue;
        }
        let Some(row) = audit.get(&line) else {
            fail(match rejects.get(&line) {
                Some(r) => format!("rejected as {} ({}), expected {expected}", &r[3], &r[2]),
                None => "missing from audit.csv and rejects.csv".to_string(),
            });
            continue;
        };
        let got = Listed {
            classification: row[8].to_string(),
            outcome: row[9].to_string(),
            rule: row[10].to_string(),
            warnings: row[17].to_string(),
        };
        let want = Listed {
            classification: expected.to_string(),
            outcome: record[outcome].to_string(),
            rule: record[rule].to_string(),
            warnings: record[warnings].to_string(),
        };
        for (what, g, w) in [
            ("classification", &got.classification, &want.classification),
            ("expected_outcome", &got.outcome, &want.outcome),
            ("rule", &got.rule, &want.rule),
            ("warnings", &got.warnings, &want.warnings),
        ] {
            if g != w {
                fail(format!("{what}: got `{g}`, expected `{w}`"));
            }
        }
    }
    checked
}

#[test]
fn every_case_in_fixtures_cases_is_classified_as_it_says() {
    let mut files: Vec<String> = std::fs::read_dir("fixtures/cases")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the case files are missing");
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in &files {
        checked += check_file(file, &mut failures);
    }
    assert!(checked > 100, "only {checked} cases");
    assert!(
        failures.is_empty(),
        "{} of {checked} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_of_the_table_has_cases() {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for entry in std::fs::read_dir("fixtures/cases").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let at = reader
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "expected_rule")
            .unwrap();
        for r in reader.records() {
            *seen.entry(r.unwrap()[at].to_string()).or_default() += 1;
        }
    }
    for rule in [
        "SCOPE", "APPEAL", "REGIME", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10",
    ] {
        assert!(
            seen.get(rule).copied().unwrap_or(0) >= 2,
            "rule {rule} has fewer than two cases"
        );
    }
}
