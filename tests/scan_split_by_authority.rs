//! `genoptag scan --split-by-authority` (SPEC §6.1): besides the full lists, one reopen and one
//! review list per `decided_by`, since the authority that last handled a case decides its
//! reopening. File names come from the validated authority, never from raw input.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A REOPEN row per municipality code: one that is not three digits, one that tries to name a
/// path; both are `kommune:ukendt`.
const ODD_CODES: &str = "\
case_id,cpr,municipality_code,benefit,decision,application_date,decision_date,refusal_reasons,refusal_text,person_category,program,public_assistance,exam,exam_date,prior_bonus,appeal_outcome
ODD-1,020202-2002,46,IL22,REFUSED,2019-01-01,2019-02-01,PROGRAM,,REFUGEE,NO,NO,PD2,2018-05-01,NO,
ODD-2,030303-3003,../../etc/passwd,IL22,REFUSED,2019-01-01,2019-02-01,PROGRAM,,REFUGEE,NO,NO,PD2,2018-05-01,NO,
";

struct Run {
    _dir: tempfile::TempDir,
    out: PathBuf,
}

fn scan(split: bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("odd.csv");
    std::fs::write(&odd, ODD_CODES).unwrap();
    let out = dir.path().join("out");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_genoptag"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "fixtures/across", "fixtures/explain"])
        .arg(&odd)
        .args(["--quiet", "--threads", "2", "--out"])
        .arg(&out);
    if split {
        cmd.arg("--split-by-authority");
    }
    let output = cmd.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Run { _dir: dir, out }
}

fn lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn case_ids(file: &Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    reader
        .records()
        .map(|r| r.unwrap()[2].to_string())
        .collect()
}

#[test]
fn each_authority_with_cases_gets_its_own_reopen_and_review_list() {
    let run = scan(true);
    assert_eq!(
        names(&run.out.join("reopen")),
        [
            "kommune-101.csv",
            "kommune-461.csv",
            "kommune-751.csv",
            "kommune-ukendt.csv"
        ]
    );
    assert_eq!(
        names(&run.out.join("review")),
        ["ankestyrelsen.csv", "kommune-461.csv", "kommune-751.csv"],
        "only authorities with REVIEW rows get a review list"
    );
    assert_eq!(
        case_ids(&run.out.join("reopen/kommune-101.csv")),
        ["P4-A", "P4-B"]
    );
    assert_eq!(
        case_ids(&run.out.join("reopen/kommune-ukendt.csv")),
        ["ODD-1", "ODD-2"]
    );
    assert_eq!(
        case_ids(&run.out.join("review/ankestyrelsen.csv")),
        ["EX-NODATE"],
        "an upheld appeal: Ankestyrelsen decides"
    );
}

#[test]
fn the_lists_per_authority_together_are_the_full_list_with_its_columns_and_order() {
    let run = scan(true);
    for list in ["reopen", "review"] {
        let full = lines(&run.out.join(format!("{list}.csv")));
        let mut seen = 0;
        for name in names(&run.out.join(list)) {
            let part = lines(&run.out.join(list).join(&name));
            assert_eq!(part[0], full[0], "{list}/{name} has the full list's header");
            let decided_by = name
                .trim_end_matches(".csv")
                .replacen("kommune-", "kommune:", 1);
            let mut last = 0;
            for row in &part[1..] {
                assert!(
                    row.contains(&format!(",{decided_by},")),
                    "{list}/{name}: {row}"
                );
                let at = full
                    .iter()
                    .position(|l| l == row)
                    .expect("a row of the full list");
                assert!(at > last, "{list}/{name} keeps the full list's order");
                last = at;
            }
            seen += part.len() - 1;
        }
        assert_eq!(
            seen,
            full.len() - 1,
            "{list}: every row in one authority's list"
        );
    }
}

#[test]
fn the_lists_per_authority_are_readable_by_their_owner_only() {
    let run = scan(true);
    for list in ["reopen", "review"] {
        let dir = run.out.join(list);
        for name in names(&dir) {
            let mode = std::fs::metadata(dir.join(&name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{list}/{name}");
        }
    }
}

#[test]
fn without_the_option_there_are_only_the_full_lists() {
    let run = scan(false);
    assert!(!run.out.join("reopen").exists());
    assert!(!run.out.join("review").exists());
    let summary = std::fs::read_to_string(run.out.join("summary.json")).unwrap();
    assert!(summary.contains("\"split_by_authority\": false"));
}

/// The rows of a list, without its header, as bytes (`--excel`: `;`, a byte-order mark).
fn rows_of(file: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(file).unwrap();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(bytes);
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    reader.byte_headers().unwrap();
    let mut start = reader.position().byte() as usize;
    while reader.read_byte_record(&mut record).unwrap() {
        let end = reader.position().byte() as usize;
        rows.push(bytes[start..end].to_vec());
        start = end;
    }
    rows
}

#[test]
fn with_excel_the_authority_lists_hold_the_full_lists_rows_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "fixtures/across", "fixtures/explain"])
        .args(["--quiet", "--excel", "--split-by-authority", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    for list in ["reopen", "review"] {
        let full = rows_of(&out.join(format!("{list}.csv")));
        assert!(!full.is_empty(), "{list}.csv has rows");
        let mut split = Vec::new();
        for name in names(&out.join(list)) {
            let file = out.join(list).join(&name);
            let bytes = std::fs::read(&file).unwrap();
            assert!(bytes.starts_with(b"\xEF\xBB\xBFsource;line;"), "{name}");
            split.extend(rows_of(&file));
        }
        let (mut full_sorted, mut split_sorted) = (full.clone(), split);
        full_sorted.sort();
        split_sorted.sort();
        assert_eq!(full_sorted, split_sorted, "{list}");
    }
}

#[test]
fn the_output_directory_holds_only_the_outputs() {
    // fixtures/across has rows that step 7 and the duplicate check change after the first pass:
    // the lists are patched, and nothing of that work is left behind.
    let run = scan(false);
    assert_eq!(
        names(&run.out),
        [
            "audit.csv",
            "rejects.csv",
            "reopen.csv",
            "report.html",
            "review.csv",
            "summary.json"
        ]
    );
}
