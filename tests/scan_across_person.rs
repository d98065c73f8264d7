//! `genoptag scan`, SPEC §4 step 7 end to end: the rows of one person spread over two exports
//! (`fixtures/across/`), with grants before, after and on the same day as a refusal, remitted
//! refusals with and without their new decision, several refusals, and a duplicate. Step 7 works
//! across all inputs together, so every person here has rows in both files or depends on a row
//! in the other file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURE: &str = "fixtures/across";

/// One output row, by the columns a caseworker reads.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    source: String,
    line: String,
    classification: String,
    rule: String,
    outcome: String,
    warnings: String,
    explanation: String,
}

fn scan(out: &Path, extra: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", FIXTURE, "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("genoptag runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The rows of a list file, by case id (a case id twice keeps both, in order).
fn rows(file: &Path) -> BTreeMap<String, Vec<Row>> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut by_case: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for record in reader.records() {
        let r = record.unwrap();
        by_case
            .entry(r[col("case_id")].to_string())
            .or_default()
            .push(Row {
                source: r[col("source")].to_string(),
                line: r[col("line")].to_string(),
                classification: r[col("classification")].to_string(),
                rule: r[col("rule")].to_string(),
                outcome: r[col("expected_outcome")].to_string(),
                warnings: r[col("warnings")].to_string(),
                explanation: r[col("explanation")].to_string(),
            });
    }
    by_case
}

struct Run {
    _dir: tempfile::TempDir,
    out: PathBuf,
    audit: BTreeMap<String, Vec<Row>>,
}

fn run(extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    scan(&out, extra);
    Run {
        audit: rows(&out.join("audit.csv")),
        out,
        _dir: dir,
    }
}

impl Run {
    fn one(&self, case_id: &str) -> &Row {
        let rows = &self.audit[case_id];
        assert_eq!(rows.len(), 1, "{case_id}: {rows:?}");
        &rows[0]
    }

    /// classification, rule, expected_outcome, warnings.
    fn verdict(&self, case_id: &str) -> (&str, &str, &str, &str) {
        let r = self.one(case_id);
        (&r.classification, &r.rule, &r.outcome, &r.warnings)
    }

    fn listed(&self, list: &str) -> Vec<String> {
        rows(&self.out.join(list)).into_keys().collect()
    }
}

#[test]
fn an_earlier_grant_in_the_other_export_fails_c4_and_r1_becomes_r3_still_reopened_to_refuse() {
    let run = run(&[]);
    assert_eq!(
        run.verdict("P1-R1"),
        ("REOPEN", "R3", "REFUSE", "PRIOR_GRANT_FOUND")
    );
    assert!(
        run.one("P1-R1")
            .explanation
            .contains("ikke tidligere at have fået danskbonus eller dansktillæg"),
        "R3 names the failed condition"
    );
}

#[test]
fn an_earlier_dansktillaeg_turns_r8_into_r10_not_affected() {
    let run = run(&[]);
    assert_eq!(
        run.verdict("P2-R8"),
        ("NOT_AFFECTED", "R10", "", "PRIOR_GRANT_FOUND")
    );
}

#[test]
fn the_prior_grant_reclassifies_rows_of_the_unknown_regime_too() {
    let run = run(&[]);
    assert_eq!(
        run.verdict("P10-NODATE"),
        (
            "NOT_AFFECTED",
            "REGIME",
            "",
            "APPLICATION_DATE_MISSING|PRIOR_GRANT_FOUND"
        )
    );
}

#[test]
fn a_later_grant_in_the_other_export_turns_a_reopening_into_review_naming_the_grant() {
    let run = run(&[]);
    // The grant's CPR is written without the hyphen: still the same person.
    assert_eq!(
        run.verdict("P3-R1"),
        ("REVIEW", "R1", "ASSESS", "LATER_GRANTED:P3-GRANT")
    );
    assert!(run.listed("review.csv").contains(&"P3-R1".to_string()));
    assert!(!run.listed("reopen.csv").contains(&"P3-R1".to_string()));
}

#[test]
fn several_refusals_of_one_person_across_exports_each_stay_reopen() {
    let run = run(&[]);
    for case_id in ["P4-A", "P4-B"] {
        assert_eq!(
            run.verdict(case_id),
            ("REOPEN", "R1", "GRANT", "SEVERAL_REFUSALS"),
            "{case_id}"
        );
    }
}

#[test]
fn a_remitted_refusal_without_a_later_decision_in_the_input_is_reviewed() {
    let run = run(&[]);
    assert_eq!(
        run.verdict("P5-REM"),
        (
            "REVIEW",
            "APPEAL",
            "ASSESS",
            "REMITTED_WITHOUT_NEW_DECISION"
        )
    );
}

#[test]
fn a_remitted_refusal_whose_new_decision_is_in_the_other_export_is_not_affected() {
    let run = run(&[]);
    assert_eq!(run.verdict("P6-REM"), ("NOT_AFFECTED", "APPEAL", "", ""));
    assert_eq!(run.verdict("P6-NEW"), ("NOT_AFFECTED", "R5", "", ""));
}

#[test]
fn a_grant_on_the_day_of_the_refusal_is_neither_before_nor_after_it() {
    let run = run(&[]);
    assert_eq!(run.verdict("P7-R1"), ("REOPEN", "R1", "GRANT", ""));
}

#[test]
fn a_grant_between_two_refusals_is_later_for_the_first_and_prior_for_the_second() {
    let run = run(&[]);
    assert_eq!(
        run.verdict("P8-A"),
        ("REVIEW", "R1", "ASSESS", "LATER_GRANTED:P8-GRANT")
    );
    // Only one REOPEN row is left for the person: no SEVERAL_REFUSALS.
    assert_eq!(
        run.verdict("P8-B"),
        ("REOPEN", "R3", "REFUSE", "PRIOR_GRANT_FOUND")
    );
}

#[test]
fn a_duplicate_in_the_other_export_is_one_decision_not_several_refusals() {
    let run = run(&[]);
    let rows = &run.audit["P11-R1"];
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].warnings, "", "the first copy is one refusal alone");
    assert_eq!(
        rows[1].warnings,
        "DUPLICATE_OF:fixtures/across/1-export.csv:12"
    );
    assert_eq!(
        (rows[1].source.as_str(), rows[1].line.as_str()),
        ("fixtures/across/2-export.csv", "11")
    );
    let reopen = rows_of(&run.out.join("reopen.csv"), "P11-R1");
    assert_eq!(reopen, 1, "the copy is left out of reopen.csv");
}

#[test]
fn a_grant_of_another_benefit_is_no_prior_grant() {
    let run = run(&[]);
    // P4 has a granted OTHER benefit before both refusals.
    assert!(!run.one("P4-A").warnings.contains("PRIOR_GRANT_FOUND"));
}

#[test]
fn every_row_is_accounted_for_once() {
    let run = run(&[]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.out.join("summary.json")).unwrap())
            .unwrap();
    let counts = &summary["counts"];
    assert_eq!(counts["rows_read"], 21);
    assert_eq!(counts["rejected"], 0);
    assert_eq!(counts["evaluated"], 21);
    assert_eq!(counts["duplicates"], 1);
    let bonus_rows: usize = run.audit.values().map(Vec::len).sum();
    assert_eq!(bonus_rows, 20, "every bonus-related row is in audit.csv");
}

#[test]
fn one_thread_and_four_give_byte_identical_outputs_over_many_small_batches() {
    let one = run(&["--threads", "1", "--batch-size", "2"]);
    let four = run(&["--threads", "4", "--batch-size", "2"]);
    let files = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(files(&one.out), files(&four.out));
    for name in files(&one.out) {
        let (a, b) = (
            std::fs::read(one.out.join(&name)).unwrap(),
            std::fs::read(four.out.join(&name)).unwrap(),
        );
        if name == "summary.json" {
            // Only the times and the thread count may differ.
            let strip = |bytes: &[u8]| {
                let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                let o = v.as_object_mut().unwrap();
                for key in ["started_at", "finished_at", "elapsed_seconds", "threads"] {
                    o.remove(key);
                }
                v
            };
            assert_eq!(strip(&a), strip(&b));
        } else if name == "report.html" {
            // Its times are each inside a <time> element: only they may differ.
            let strip = |bytes: &[u8]| {
                let text = String::from_utf8(bytes.to_vec()).unwrap();
                let mut parts = text.split("<time");
                let mut out = parts.next().unwrap_or_default().to_string();
                for part in parts {
                    out.push_str(part.split_once("</time>").map_or(part, |(_, rest)| rest));
                }
                out
            };
            assert_eq!(strip(&a), strip(&b), "report.html differs beyond its times");
        } else {
            assert!(a == b, "{name} differs between 1 and 4 threads");
        }
    }
    // And the many batches give what one big batch gives.
    let whole = run(&["--threads", "1"]);
    for name in ["audit.csv", "reopen.csv", "review.csv", "rejects.csv"] {
        assert_eq!(
            std::fs::read(whole.out.join(name)).unwrap(),
            std::fs::read(one.out.join(name)).unwrap(),
            "{name}"
        );
    }
}

fn rows_of(file: &Path, case_id: &str) -> usize {
    rows(file).get(case_id).map_or(0, Vec::len)
}
