//! `genoptag explain`: what a caseworker reads for one case, compared exactly with the snapshots in
//! `tests/snapshots/explain/` (run with `UPDATE_SNAPSHOTS=1` to rewrite them, then read the diff).
//! The fixture `fixtures/explain/` spreads the rows of its persons over two exports, since step 7
//! reads all inputs together.

use std::path::Path;
use std::process::{Command, Output};

const INPUTS: [&str; 2] = [
    "fixtures/explain/export-2020.csv",
    "fixtures/explain/export-2022.csv",
];

/// Every CPR number in the fixture, with and without the hyphen.
const CPRS: [&str; 5] = [
    "0101801234",
    "1502754321",
    "2303901111",
    "1205882222",
    "0505703333",
];

fn explain(case_id: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("explain")
        .args(INPUTS)
        .args(["--case", case_id])
        .output()
        .expect("genoptag runs")
}

fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/explain")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_SNAPSHOTS=1 to write it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output, first at line {}:\n  expected: {:?}\n  actual:   {:?}\n--- whole output ---\n{actual}",
            path.display(),
            first + 1,
            expected.lines().nth(first).unwrap_or("(end)"),
            actual.lines().nth(first).unwrap_or("(end)"),
        );
    }
}

/// Runs `explain` for a case that exists: exit 0, nothing on stderr, the output as in `name`.
fn explains_as(case_id: &str, name: &str) -> String {
    let out = explain(case_id);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
    snapshot(name, &stdout);
    stdout
}

#[test]
fn a_refusal_citing_the_programme_with_all_four_conditions_met_is_reopened_by_r1() {
    let text = explains_as("EX-R1", "r1_reopen.txt");
    assert!(text.contains("Result: REOPEN · rule R1 · expected outcome GRANT"));
    assert!(text.contains("cpr 010180-XXXX"));
}

#[test]
fn a_reopening_becomes_review_when_the_person_was_granted_danskbonus_later_in_another_export() {
    let text = explains_as("EX-LATER", "later_granted.txt");
    assert!(text.contains("warnings: LATER_GRANTED:EX-GRANT"));
    assert!(text.contains("export-2022.csv 2    EX-GRANT IL22    GRANTED  2022-03-01    after"));
}

#[test]
fn an_application_under_the_amended_rule_is_not_affected_and_its_duplicate_is_explained_too() {
    let text = explains_as("EX-REGIME", "regime_amended_and_duplicate.txt");
    assert!(text.contains("=== Row 2 of 2: fixtures/explain/export-2022.csv, line 4"));
    assert!(text.contains("DUPLICATE_OF:fixtures/explain/export-2020.csv:4"));
}

#[test]
fn a_missing_application_date_after_the_amendment_turns_a_reopening_into_review_by_ankestyrelsen() {
    let text = explains_as("EX-NODATE", "regime_unknown_upheld.txt");
    assert!(text.contains(
        "Result: REVIEW · rule REGIME · expected outcome ASSESS · decided by ankestyrelsen"
    ));
}

#[test]
fn an_earlier_grant_under_aktivloven_fails_c4_and_the_table_is_applied_again() {
    let text = explains_as("EX-PRIOR", "prior_grant.txt");
    assert!(text.contains("the table again: R9 REVIEW → R10 NOT_AFFECTED"));
}

#[test]
fn a_case_of_another_benefit_is_out_of_scope() {
    explains_as("EX-OTHER", "other_benefit.txt");
}

#[test]
fn a_rejected_row_says_why_it_was_not_classified() {
    let text = explains_as("EX-BROKEN", "rejected.txt");
    assert!(text.contains("Rejected: UNREADABLE_DATE (column decision_date)"));
}

#[test]
fn an_unknown_case_id_says_so_on_stderr_and_exits_1() {
    let out = explain("EX-NOWHERE");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"");
    snapshot(
        "unknown_case.stderr.txt",
        &String::from_utf8(out.stderr).unwrap(),
    );
}

#[test]
fn a_case_id_typed_as_a_cpr_number_is_not_echoed() {
    let out = explain("010180-1234");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("case `010180-XXXX` is not in the input"),
        "{stderr}"
    );
}

#[test]
fn no_cpr_number_is_ever_shown_in_full() {
    for case_id in [
        "EX-R1",
        "EX-LATER",
        "EX-REGIME",
        "EX-NODATE",
        "EX-PRIOR",
        "EX-TILLAEG",
        "EX-GRANT",
        "EX-AKTL",
        "EX-OTHER",
        "EX-BROKEN",
        "EX-NOWHERE",
    ] {
        let out = explain(case_id);
        let all = [out.stdout, out.stderr].concat();
        let text = String::from_utf8(all).unwrap();
        for cpr in CPRS {
            let hyphenated = format!("{}-{}", &cpr[..6], &cpr[6..]);
            assert!(
                !text.contains(cpr) && !text.contains(&hyphenated),
                "{case_id} shows {hyphenated}"
            );
        }
    }
}

/// Runs `explain` on `bytes` written to a file, as a file (pieces read in parallel, other rows
/// passed over by their bytes) and through stdin (every row read in full): both must find it.
fn explain_bytes(bytes: &[u8], case_id: &str) -> [String; 2] {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    std::fs::write(&path, bytes).unwrap();
    let run = |input: &str, stdin: Option<&[u8]>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_genoptag"))
            .args(["explain", input, "--case", case_id])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut pipe = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut pipe, stdin.unwrap_or_default()).unwrap();
        drop(pipe);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{case_id}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let file = run(path.to_str().unwrap(), None);
    let streamed = run("-", Some(bytes)).replace("stdin", "export");
    [file.replace(path.to_str().unwrap(), "export"), streamed]
}

#[test]
fn a_case_of_another_benefit_is_found_however_its_case_id_is_written() {
    let header = "case_id,cpr,municipality_code,benefit,decision,application_date,decision_date,\
                  refusal_reasons,refusal_text,person_category,program,public_assistance,exam,\
                  exam_date,prior_bonus,appeal_outcome\n";
    let other = |id: &str| format!("{id},,461,OTHER,REFUSED,,2020-02-01,,,,,,,,,\n");
    // The row sought, among many of other case ids; written quoted, padded, in Windows-1252
    // (its `Ø` one byte), or with a quote of its own (doubled in the file).
    for (written, case_id, latin) in [
        ("OT-7", "OT-7", false),
        ("\"OT-7\"", "OT-7", false),
        (" OT-7 ", "OT-7", false),
        ("\"SAG-Ø1\"", "SAG-Ø1", true),
        ("\"SAG \"\"7\"\"\"", "SAG \"7\"", false),
    ] {
        let mut text = header.to_string();
        for i in 0..3000 {
            text.push_str(&other(&format!("OT-{}", i + 10)));
            if i == 1500 {
                text.push_str(&other(written));
            }
        }
        let bytes = if latin {
            encoding_rs::WINDOWS_1252.encode(&text).0.into_owned()
        } else {
            text.into_bytes()
        };
        let [file, streamed] = explain_bytes(&bytes, case_id);
        assert!(file.contains("line 1503"), "{written}: {file}");
        assert!(file.contains("benefit `OTHER`"), "{written}: {file}");
        assert_eq!(file, streamed, "{written}");
    }
}
