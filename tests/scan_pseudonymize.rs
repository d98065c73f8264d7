//! `genoptag scan --pseudonymize-key FILE` (SPEC §6.1, §7): no output holds a CPR number, one
//! person keeps one pseudonym across the files, and a missing or empty key stops the run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Inputs with rows of one person in two files (with and without the hyphen), a rejected row
/// whose raw text holds a CPR, and rows of another benefit.
const INPUTS: [&str; 2] = ["fixtures/across", "fixtures/explain"];

fn genoptag(args: &[&str], out: &Path, key: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_genoptag"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("scan")
        .args(INPUTS)
        .args(args)
        .arg("--out")
        .arg(out);
    if let Some(key) = key {
        cmd.arg("--pseudonymize-key").arg(key);
    }
    cmd.output().unwrap()
}

struct Run {
    dir: tempfile::TempDir,
    out: PathBuf,
}

fn pseudonymized_run() -> Run {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, b"a secret only the municipality keeps").unwrap();
    let out = dir.path().join("out");
    let output = genoptag(&["--split-by-authority", "--audit-all"], &out, Some(&key));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Run { dir, out }
}

/// Every CPR number of the inputs, as digits only.
fn input_cprs() -> BTreeSet<String> {
    let mut cprs = BTreeSet::new();
    for dir in INPUTS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for entry in std::fs::read_dir(dir).unwrap() {
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(b'\0')
                .has_headers(false)
                .from_path(entry.unwrap().path())
                .unwrap();
            for record in reader.records() {
                let line = record.unwrap()[0].to_string();
                // Any field that is a CPR number, whatever the delimiter.
                for field in line.split([',', ';']) {
                    let digits: String = field.chars().filter(|c| *c != '-').collect();
                    if digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit()) {
                        cprs.insert(digits);
                    }
                }
            }
        }
    }
    assert!(cprs.len() >= 15, "the inputs hold many persons: {cprs:?}");
    cprs
}

fn all_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// cpr column by (case_id, source, line) of a list file.
fn cpr_column(file: &Path) -> BTreeMap<(String, String, String), String> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                (r[2].to_string(), r[0].to_string(), r[1].to_string()),
                r[3].to_string(),
            )
        })
        .collect()
}

/// The files of an output directory that hold any of the CPR numbers.
fn files_with_a_cpr(out: &Path, cprs: &BTreeSet<String>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    all_files(out, &mut files);
    files.retain(|file| {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        cprs.iter().any(|cpr| {
            let hyphenated = format!("{}-{}", &cpr[..6], &cpr[6..]);
            text.contains(cpr.as_str()) || text.contains(&hyphenated)
        })
    });
    files.sort();
    files
}

#[test]
fn no_output_file_holds_a_cpr_number_with_or_without_the_hyphen() {
    let cprs = input_cprs();
    let run = pseudonymized_run();
    let mut files = Vec::new();
    all_files(&run.out, &mut files);
    assert!(
        files.len() >= 8,
        "lists, split lists, rejects, summary: {files:?}"
    );
    assert_eq!(files_with_a_cpr(&run.out, &cprs), Vec::<PathBuf>::new());

    // The same search finds them where they belong without the key.
    let plain = run.dir.path().join("plain");
    let output = genoptag(&["--quiet", "--split-by-authority"], &plain, None);
    assert_eq!(output.status.code(), Some(0));
    let found = files_with_a_cpr(&plain, &cprs);
    for name in ["audit.csv", "rejects.csv", "reopen.csv", "review.csv"] {
        assert!(found.contains(&plain.join(name)), "{name}: {found:?}");
    }
    assert!(!found.contains(&plain.join("summary.json")));
}

#[test]
fn rejects_keep_their_position_and_reason_but_not_the_raw_row() {
    let run = pseudonymized_run();
    let mut reader = csv::Reader::from_path(run.out.join("rejects.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], "fixtures/explain/export-2022.csv");
    assert_eq!(&rows[0][1], "6");
    assert_eq!(&rows[0][2], "decision_date");
    assert_eq!(&rows[0][3], "UNREADABLE_DATE");
    assert_eq!(&rows[0][4], "", "raw is left empty");
}

#[test]
fn one_person_has_one_pseudonym_in_every_file_and_different_persons_different_ones() {
    let run = pseudonymized_run();
    let audit = cpr_column(&run.out.join("audit.csv"));
    let reopen = cpr_column(&run.out.join("reopen.csv"));
    let split = cpr_column(&run.out.join("reopen/kommune-101.csv"));
    let of = |case_id: &str| {
        let found: Vec<&String> = audit
            .iter()
            .filter(|((c, _, _), _)| c == case_id)
            .map(|(_, p)| p)
            .collect();
        found[0].clone()
    };
    // P3's refusal writes the CPR with a hyphen, its later grant (other file) without.
    assert_eq!(of("P3-R1"), of("P3-GRANT"));
    assert_eq!(of("P4-A"), of("P4-B"));
    assert_eq!(
        of("P4-A"),
        of("P4-OTHER"),
        "rows of other benefits too (--audit-all)"
    );
    assert_ne!(of("P4-A"), of("P3-R1"));
    for pseudonym in audit.values() {
        assert_eq!(pseudonym.len(), 64, "{pseudonym}");
        assert!(pseudonym.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    for (key, pseudonym) in reopen.iter().chain(&split) {
        assert_eq!(&audit[key], pseudonym, "{key:?}: the same in every file");
    }
}

#[test]
fn the_same_key_gives_the_same_pseudonyms_in_the_next_run() {
    let first = pseudonymized_run();
    let second = pseudonymized_run();
    assert_eq!(
        std::fs::read(first.out.join("audit.csv")).unwrap(),
        std::fs::read(second.out.join("audit.csv")).unwrap()
    );
    assert_ne!(first.dir.path(), second.dir.path());
}

#[test]
fn the_summary_records_that_pseudonymisation_was_on_but_not_the_key() {
    let run = pseudonymized_run();
    let text = std::fs::read_to_string(run.out.join("summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(summary["options"]["pseudonymized"], true);
    assert!(!text.contains("a secret only the municipality keeps"));
    assert!(!text.contains(run.dir.path().join("key").to_str().unwrap()));
}

#[test]
fn a_missing_key_file_stops_the_run_naming_the_file_and_leaves_the_last_output() {
    let run = pseudonymized_run();
    let before = std::fs::read(run.out.join("audit.csv")).unwrap();
    let missing = run.dir.path().join("no-such-key");
    let output = genoptag(&["--quiet"], &run.out, Some(&missing));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains(missing.to_str().unwrap()), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert_eq!(std::fs::read(run.out.join("audit.csv")).unwrap(), before);
}

#[test]
fn an_empty_key_file_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [("empty", &b""[..]), ("blank", &b" \n"[..])] {
        let key = dir.path().join(name);
        std::fs::write(&key, content).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let output = genoptag(&["--quiet"], &out, Some(&key));
        assert_eq!(output.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(key.to_str().unwrap()), "{stderr}");
        assert!(stderr.contains("is empty"), "{stderr}");
        assert!(!out.exists(), "{name}: no output written");
    }
}
