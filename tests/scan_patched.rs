//! The lists after pass 2's patching (SPEC §3.3, §4 step 7): pass 1 writes every row as it stands,
//! and pass 2 rewrites the rows that repeated case ids and the person's other rows change. On
//! random exports full of such rows, every row of `audit.csv` must be what the rules give it with
//! its settled facts — computed here from the library's own parts, row by row — and `reopen.csv`
//! and `review.csv` exactly its REOPEN and REVIEW rows that repeat no earlier row.

use std::borrow::Cow;
use std::process::Command;

use genoptag::input::columns::Col;
use genoptag::input::record::{self, Parsed};
use genoptag::input::values::Vocabulary;
use genoptag::rules::across::Index;
use genoptag::rules::ground::Patterns;
use genoptag::rules::{self, Classification, Facts};
use proptest::prelude::*;

const HEADER: &str = "case_id,cpr,municipality_code,benefit,decision,application_date,decision_date,refusal_reasons,refusal_text,person_category,program,public_assistance,exam,exam_date,prior_bonus,appeal_outcome";

/// One random bonus-related row, from small pools so that case ids and persons repeat.
fn row() -> impl Strategy<Value = String> {
    (
        0..12u32,
        0..5u32,
        prop::sample::select(vec!["IL22", "IL22", "IL22", "AKTL22", "DANSKTILLAEG"]),
        prop::sample::select(vec!["REFUSED", "REFUSED", "GRANTED"]),
        (2018..2023i32, 1..13u32),
        prop::sample::select(vec!["PROGRAM", "NOT_SELF_SUPPORTING", ""]),
        prop::sample::select(vec!["", "", "REMITTED", "UPHELD", "CHANGED"]),
        prop::sample::select(vec!["NO", "YES", ""]),
        prop::sample::select(vec!["", "", "0000000000"]),
    )
        .prop_map(
            |(case, person, benefit, decision, (year, month), reason, appeal, prior, odd_cpr)| {
                let cpr = if odd_cpr.is_empty() {
                    format!("0101{:02}-10{person:02}", 80 + person)
                } else {
                    odd_cpr.to_string()
                };
                format!(
                    "C-{case},{cpr},461,{benefit},{decision},{year}-{month:02}-01,{year}-{month:02}-20,{reason},,REFUGEE,NO,NO,PD2,2017-05-01,{prior},{appeal}"
                )
            },
        )
}

/// What the rules give each row with its settled facts: (line, classification, rule, duplicate).
fn expected(rows: &[String]) -> Vec<(u64, String, String, bool)> {
    let (vocab, patterns) = (Vocabulary::default(), Patterns::default());
    let names = vec!["export.csv".to_string()];
    let mut index = Index::default();
    let mut cases = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let fields: Vec<&str> = row.split(',').collect();
        let get = |col: Col| Cow::Borrowed(fields[col as usize]);
        let Parsed::Bonus(case) = record::parse(get, &vocab) else {
            panic!("row {i} is not bonus-related: {row}");
        };
        let (alone, with_prior_grant) = rules::evaluate_as_it_stands(&case, &patterns);
        let line = i as u64 + 2;
        index.push(&case, 0, line, alone.classification, with_prior_grant);
        cases.push((line, case));
    }
    index.settle();
    cases
        .iter()
        .enumerate()
        .map(|(n, (line, case))| {
            let facts: Facts = index.facts(n as u32, &names);
            let eval = rules::evaluate(case, &patterns, &facts);
            (
                *line,
                eval.classification.code().to_string(),
                eval.rule.code().to_string(),
                index.is_duplicate(n as u32),
            )
        })
        .collect()
}

/// (line, classification, rule) of each row of a list.
fn listed(path: &std::path::Path) -> Vec<(u64, String, String)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[1].parse().unwrap(), r[8].to_string(), r[10].to_string())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn patched_lists_hold_each_row_as_its_settled_facts_classify_it(
        rows in prop::collection::vec(row(), 1..80),
        copies in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        threads in 1..4usize,
    ) {
        // Some rows again, identical: one decision exported twice.
        let mut rows = rows;
        for copy in copies {
            let row = rows[copy.index(rows.len())].clone();
            rows.push(row);
        }
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("export.csv");
        std::fs::write(&export, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
        let out = dir.path().join("out");
        let status = Command::new(env!("CARGO_BIN_EXE_genoptag"))
            .current_dir(dir.path())
            .args(["scan", "export.csv", "--quiet", "--chunk-size", "512", "--batch-size", "7"])
            .args(["--threads", &threads.to_string(), "--out"])
            .arg(&out)
            .status()
            .unwrap();
        prop_assert!(status.success());

        let expected = expected(&rows);
        let audit = listed(&out.join("audit.csv"));
        let want: Vec<(u64, String, String)> =
            expected.iter().map(|(l, c, r, _)| (*l, c.clone(), r.clone())).collect();
        prop_assert_eq!(&audit, &want);
        for (list, class) in [("reopen.csv", Classification::Reopen), ("review.csv", Classification::Review)] {
            let want: Vec<(u64, String, String)> = expected
                .iter()
                .filter(|(_, c, _, duplicate)| c == class.code() && !duplicate)
                .map(|(l, c, r, _)| (*l, c.clone(), r.clone()))
                .collect();
            prop_assert_eq!(listed(&out.join(list)), want, "{}", list);
        }
        let left: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
        prop_assert!(left.iter().all(|n| !n.to_string_lossy().contains("patched")), "{:?}", left);
    }
}
