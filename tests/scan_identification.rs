//! `genoptag scan`, `identification_complete` (SPEC §5): when a row was rejected or a case is
//! REVIEW, not every affected case is identified, and Ankestyrelsen then requires the authority
//! to inform the public that citizens can ask for reopening: the stderr summary says so in one
//! sentence, and summary.json records it.

use std::path::Path;
use std::process::Command;

const HEADER: &str = "case_id,cpr,municipality_code,benefit,decision,application_date,decision_date,refusal_reasons,refusal_text,person_category,program,public_assistance,exam,exam_date,prior_bonus,appeal_outcome\n";
const REOPEN: &str = "C-1,010190-1001,461,IL22,REFUSED,2020-03-01,2020-05-01,PROGRAM,,REFUGEE,NO,NO,PD2,2019-01-10,NO,\n";
/// G unknown, C1 unknown: R9, REVIEW.
const REVIEW: &str =
    "C-2,010190-1002,461,IL22,REFUSED,2020-03-01,2020-05-01,,,,NO,NO,PD2,2019-01-10,NO,\n";
/// A two-digit year: the row is rejected.
const REJECT: &str = "C-3,010190-1003,461,IL22,REFUSED,,01-05-20,,,,,,,,,\n";

/// Runs a scan of the rows; gives stderr and `identification_complete`.
fn scan(rows: &[&str]) -> (String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("export.csv");
    std::fs::write(&input, format!("{HEADER}{}", rows.concat())).unwrap();
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .args(["scan", "--out"])
        .arg(&out)
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(&out).join("summary.json")).unwrap())
            .unwrap();
    (
        String::from_utf8(output.stderr).unwrap(),
        summary["identification_complete"].as_bool().unwrap(),
    )
}

fn notice(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("inform the public"))
        .collect()
}

#[test]
fn all_cases_identified_needs_no_public_notice() {
    let (stderr, complete) = scan(&[REOPEN]);
    assert!(complete);
    assert_eq!(notice(&stderr), Vec::<&str>::new(), "{stderr}");
}

#[test]
fn a_review_case_means_the_public_must_be_told_it_can_ask_for_reopening() {
    let (stderr, complete) = scan(&[REOPEN, REVIEW]);
    assert!(!complete);
    let notice = notice(&stderr);
    assert_eq!(notice.len(), 1, "{stderr}");
    let sentence = notice[0];
    for words in [
        "Ankestyrelsen",
        "inform the public (website, press)",
        "citizens can ask",
        "reopened",
    ] {
        assert!(sentence.contains(words), "{words}: {sentence}");
    }
    assert_eq!(
        sentence.matches(". ").count(),
        0,
        "one sentence: {sentence}"
    );
    assert!(sentence.ends_with('.'));
}

#[test]
fn a_rejected_row_means_the_same() {
    let (stderr, complete) = scan(&[REOPEN, REJECT]);
    assert!(!complete);
    assert_eq!(notice(&stderr).len(), 1, "{stderr}");
    assert!(!stderr.contains("010190"), "no CPR on stderr: {stderr}");
}
