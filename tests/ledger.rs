//! `genoptag scan --ledger` (SPEC §5.1): nightly runs on changing exports, `changes.csv`, a run
//! killed before it records, and two runs on one ledger at the same time.

mod nightly;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nightly::*;
use rusqlite::Connection;

fn summary(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("out/summary.json")).unwrap()).unwrap()
}

fn runs_in(ledger: &std::path::Path) -> i64 {
    Connection::open(ledger)
        .unwrap()
        .query_row("SELECT count(*) FROM run", [], |r| r.get(0))
        .unwrap()
}

/// Every listed case as the ledger holds it: case, authority, listing, first and last run.
fn listed_cases(ledger: &std::path::Path) -> Vec<String> {
    let conn = Connection::open(ledger).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT case_id || ' ' || decided_by || ' ' || classification || ' ' || rule || ' '
                    || expected_outcome || ' ' || first_seen_run || '-' || last_seen_run
             FROM listed_case ORDER BY case_id, decided_by",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_nightly_sequence_shows_each_change_in_changes_csv_the_report_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // Night 1: a new ledger; every listed case is NEW.
    let first = scan_night(d, 1);
    assert_ok(&first);
    assert!(
        stderr(&first).contains("First run recorded in the ledger ledger.db: its 5 cases to reopen and 2 cases to review are all NEW"),
        "{}",
        stderr(&first)
    );
    let changes = csv_rows(&d.join("out/changes.csv"));
    assert_eq!(
        changes[0],
        "change,case_id,decided_by,old_classification,new_classification,old_rule,new_rule,old_expected_outcome,new_expected_outcome"
    );
    assert_eq!(changes.len(), 1 + 7);
    assert!(changes[1..].iter().all(|r| r.starts_with("NEW,")));
    assert_eq!(summary(d)["changes"]["NEW"], 7);
    assert_eq!(summary(d)["changes"]["since_run"], serde_json::Value::Null);

    // Night 2: one case added.
    let second = scan_night(d, 2);
    assert_ok(&second);
    assert_eq!(
        csv_rows(&d.join("out/changes.csv"))[1..],
        ["NEW,S-2021-014,kommune:101,,REOPEN,,R8,,GRANT"]
    );
    assert!(
        stderr(&second).contains("1 new case to reopen since the run of "),
        "{}",
        stderr(&second)
    );

    // Night 3: one case changed (its prior bonus is now known), one removed from the export.
    let third = scan_night(d, 3);
    assert_ok(&third);
    assert_eq!(
        csv_rows(&d.join("out/changes.csv"))[1..],
        [
            "CHANGED,S-2019-002,kommune:461,REOPEN,REOPEN,R2,R1,ASSESS,GRANT",
            "GONE,S-2020-005,kommune:751,REVIEW,,R4,,ASSESS,",
        ]
    );
    assert!(
        stderr(&third).contains("1 changed and 1 no longer on the lists since the run of "),
        "{}",
        stderr(&third)
    );
    let s = summary(d);
    assert_eq!(
        (
            &s["changes"]["run"],
            &s["changes"]["since_run"],
            &s["changes"]["NEW"],
            &s["changes"]["CHANGED"],
            &s["changes"]["GONE"]
        ),
        (&3.into(), &2.into(), &0.into(), &1.into(), &1.into())
    );

    // The report's trend: every run with its REOPEN, REVIEW, NEW, CHANGED and GONE.
    let report = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    let row = |run| {
        let text = trend_row(&report, run).unwrap_or_else(|| panic!("run {run} not in the trend"));
        // Drop the run number and the time (date and hour): the counts remain.
        text.split(' ').skip(3).collect::<Vec<_>>().join(" ")
    };
    assert_eq!(row(1), "5 2 7 0 0");
    assert_eq!(row(2), "6 2 1 0 0");
    assert_eq!(row(3), "6 1 0 1 1");
    assert!(
        report.contains("aria-label=\"REOPEN og REVIEW over kørslerne\""),
        "no trend chart"
    );

    // history: one line per run, and the changed and the gone case's stories.
    let history = genoptag(d)
        .args(["history", "--ledger", "ledger.db"])
        .output()
        .unwrap();
    assert_ok(&history);
    let lines: Vec<Vec<String>> = stdout(&history)
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    assert_eq!(lines.len(), 4, "{}", stdout(&history));
    let counts = |l: &Vec<String>| l[0..1].iter().chain(&l[3..8]).cloned().collect::<Vec<_>>();
    assert_eq!(counts(&lines[1]), ["1", "5", "2", "7", "0", "0"]);
    assert_eq!(counts(&lines[2]), ["2", "6", "2", "1", "0", "0"]);
    assert_eq!(counts(&lines[3]), ["3", "6", "1", "0", "1", "1"]);
    assert!(lines[3].last().unwrap().ends_with("night3.csv"));

    let changed = genoptag(d)
        .args(["history", "--ledger", "ledger.db", "--case", "S-2019-002"])
        .output()
        .unwrap();
    assert_ok(&changed);
    let text = stdout(&changed);
    assert!(
        text.contains("decided by kommune:461 (Odense Kommune)"),
        "{text}"
    );
    assert!(text.contains("first seen  run 1 ("), "{text}");
    assert!(text.contains("last seen   run 3 ("), "{text}");
    assert!(text.contains("on the lists of the latest run"), "{text}");
    let events: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("run "))
        .collect();
    assert_eq!(events.len(), 2, "{text}");
    assert!(
        events[0].ends_with("NEW      REOPEN  R2   ASSESS"),
        "{text}"
    );
    assert!(events[1].ends_with("CHANGED  REOPEN  R1   GRANT"), "{text}");

    let gone = genoptag(d)
        .args(["history", "--ledger", "ledger.db", "--case", "S-2020-005"])
        .output()
        .unwrap();
    assert_ok(&gone);
    assert!(
        stdout(&gone).contains("last seen   run 2 (")
            && stdout(&gone).contains("not on the lists since run 3"),
        "{}",
        stdout(&gone)
    );

    assert_eq!(
        listed_cases(&d.join("ledger.db")),
        [
            "S-2019-001 kommune:461 REOPEN R1 GRANT 1-3",
            "S-2019-002 kommune:461 REOPEN R1 GRANT 1-3",
            "S-2020-003 kommune:101 REOPEN R3 REFUSE 1-3",
            "S-2020-004 kommune:751 REOPEN R8 GRANT 1-3",
            "S-2020-005 kommune:751 REVIEW R4 ASSESS 1-2",
            "S-2021-006 ankestyrelsen REVIEW R9 ASSESS 1-3",
            "S-2021-007 ankestyrelsen REOPEN R1 GRANT 1-3",
            "S-2021-014 kommune:101 REOPEN R8 GRANT 2-3",
        ]
    );
}

#[test]
fn the_same_export_twice_gives_no_changes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_ok(&scan_night(d, 3));
    let again = scan_night(d, 3);
    assert_ok(&again);
    assert_eq!(
        csv_rows(&d.join("out/changes.csv")).len(),
        1,
        "only the header"
    );
    assert!(stderr(&again).contains("No changes to the lists since the run of "));
    let s = summary(d);
    assert_eq!(
        (
            &s["changes"]["NEW"],
            &s["changes"]["CHANGED"],
            &s["changes"]["GONE"]
        ),
        (&0.into(), &0.into(), &0.into())
    );
    assert_eq!(runs_in(&d.join("ledger.db")), 2);
}

#[test]
fn the_ledger_holds_no_cpr_number_and_the_sha256_of_each_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = scan_night(d, 1);
    assert_ok(&run);
    assert_no_cpr("stderr", &stderr(&run));
    assert_no_cpr("stdout", &stdout(&run));
    for file in ["changes.csv", "summary.json", "report.html"] {
        assert_no_cpr(
            file,
            &std::fs::read_to_string(d.join("out").join(file)).unwrap(),
        );
    }
    // Every text the ledger holds, and its raw bytes.
    let conn = Connection::open(d.join("ledger.db")).unwrap();
    let mut texts = String::new();
    for table in ["run", "run_input", "listed_case", "case_change"] {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                if let Ok(Some(text)) = row.get::<_, Option<String>>(i) {
                    texts.push_str(&text);
                    texts.push('\n');
                }
            }
        }
    }
    assert_no_cpr("the ledger's values", &texts);
    let bytes = String::from_utf8_lossy(&std::fs::read(d.join("ledger.db")).unwrap()).into_owned();
    for cpr in fixture_cprs() {
        assert!(!bytes.contains(&cpr), "the ledger file holds {cpr}");
    }

    let (path, size, sha256): (String, i64, String) = conn
        .query_row("SELECT path, size, sha256 FROM run_input", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let input = std::fs::read(night(1)).unwrap();
    assert_eq!(path, night(1).display().to_string());
    assert_eq!(size as usize, input.len());
    use sha2::Digest;
    let expected: String = sha2::Sha256::digest(&input)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(sha256, expected);

    // On one thread the SHA-256 is taken in the scan's order, on two behind it: the same.
    for threads in ["1", "2"] {
        let ledger = format!("ledger-{threads}.db");
        let run = genoptag(d)
            .args([
                "scan",
                "--out",
                "out",
                "--threads",
                threads,
                "--ledger",
                &ledger,
            ])
            .arg(night(1))
            .output()
            .unwrap();
        assert_ok(&run);
        let sha256: String = Connection::open(d.join(&ledger))
            .unwrap()
            .query_row("SELECT sha256 FROM run_input", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sha256, expected, "--threads {threads}");
    }
}

#[test]
fn a_run_killed_after_classification_leaves_the_ledger_and_the_outputs_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_ok(&scan_night(d, 1));
    let before = listed_cases(&d.join("ledger.db"));
    let summary_before = std::fs::read(d.join("out/summary.json")).unwrap();

    let killed = genoptag(d)
        .args(["scan", "--out", "out", "--ledger", "ledger.db"])
        .arg(night(2))
        .env("GENOPTAG_TEST_FAIL_AT", "classified")
        .output()
        .unwrap();
    assert!(!killed.status.success());
    assert!(stderr(&killed).contains("test-only failure injected at `classified`"));

    assert_eq!(runs_in(&d.join("ledger.db")), 1);
    assert_eq!(listed_cases(&d.join("ledger.db")), before);
    assert_eq!(
        std::fs::read(d.join("out/summary.json")).unwrap(),
        summary_before
    );

    // The next run compares with the last recorded run, as if the killed one never happened.
    assert_ok(&scan_night(d, 2));
    assert_eq!(
        csv_rows(&d.join("out/changes.csv"))[1..],
        ["NEW,S-2021-014,kommune:101,,REOPEN,,R8,,GRANT"]
    );
}

#[test]
fn a_run_killed_just_before_the_ledger_commit_leaves_the_ledger_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_ok(&scan_night(d, 1));
    let before = listed_cases(&d.join("ledger.db"));

    let killed = genoptag(d)
        .args(["scan", "--out", "out", "--ledger", "ledger.db"])
        .arg(night(2))
        .env("GENOPTAG_TEST_FAIL_AT", "ledger-commit")
        .output()
        .unwrap();
    assert!(!killed.status.success());
    assert!(stderr(&killed).contains("test-only failure injected at `ledger-commit`"));
    // The run had written its rows into the open transaction: SQLite's journal undoes them.
    assert!(d.join("ledger.db-journal").exists());
    assert_eq!(runs_in(&d.join("ledger.db")), 1);
    assert_eq!(listed_cases(&d.join("ledger.db")), before);
    // Its outputs were already in place (SPEC §5.1: the ledger is written after them).
    assert_eq!(
        csv_rows(&d.join("out/changes.csv"))[1..],
        ["NEW,S-2021-014,kommune:101,,REOPEN,,R8,,GRANT"]
    );

    let again = scan_night(d, 2);
    assert_ok(&again);
    assert_eq!(runs_in(&d.join("ledger.db")), 2);
    assert_eq!(summary(d)["changes"]["since_run"], 1);
    assert_eq!(
        csv_rows(&d.join("out/changes.csv"))[1..],
        ["NEW,S-2021-014,kommune:101,,REOPEN,,R8,,GRANT"]
    );
}

#[test]
fn a_second_run_waits_for_the_ledger_then_stops_with_a_clear_message_after_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_ok(&scan_night(d, 1));
    let summary_before = std::fs::read(d.join("out/summary.json")).unwrap();

    // Another writer holds the ledger's write lock for the whole of the second run.
    let holder = Connection::open(d.join("ledger.db")).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let blocked = genoptag(d)
        .args([
            "scan",
            "--out",
            "out",
            "--ledger",
            "ledger.db",
            "--ledger-wait",
            "1",
        ])
        .arg(night(2))
        .output()
        .unwrap();
    let waited = started.elapsed();
    holder.execute_batch("ROLLBACK").unwrap();

    assert_eq!(blocked.status.code(), Some(1), "{}", stderr(&blocked));
    assert!(waited >= Duration::from_secs(1), "gave up after {waited:?}");
    let err = stderr(&blocked);
    assert!(
        err.contains("another run is recording in this ledger; waiting up to 1 s"),
        "{err}"
    );
    assert!(
        err.contains("ledger.db: the ledger is in use by another genoptag run, which did not finish within 1 s; this run wrote nothing and the last run's outputs are untouched"),
        "{err}"
    );
    assert_eq!(runs_in(&d.join("ledger.db")), 1);
    assert_eq!(
        std::fs::read(d.join("out/summary.json")).unwrap(),
        summary_before
    );
    assert!(
        std::fs::read_dir(d).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("genoptag-tmp")),
        "the staging directory was left behind"
    );
}

#[test]
fn a_second_run_that_is_waiting_records_when_the_first_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_ok(&scan_night(d, 1));

    let holder = Connection::open(d.join("ledger.db")).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut waiting = genoptag(d)
        .args([
            "scan",
            "--out",
            "out",
            "--ledger",
            "ledger.db",
            "--ledger-wait",
            "120",
        ])
        .arg(night(2))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Release the lock only once the run says it is waiting for it.
    let mut err = BufReader::new(waiting.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("waiting up to 120 s") {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "the run ended: {said}"
        );
        said.push_str(&line);
    }
    holder.execute_batch("COMMIT").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(waiting.wait().unwrap().success(), "{said}{rest}");
    assert!(
        rest.contains("1 new case to reopen since the run of "),
        "{rest}"
    );
    assert_eq!(runs_in(&d.join("ledger.db")), 2);
}

#[test]
fn a_file_that_is_not_a_ledger_stops_the_run_before_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("ledger.db"),
        "case_id,cpr\nthis is a CSV file, not a ledger\n",
    )
    .unwrap();
    let run = scan_night(d, 1);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("ledger.db: not a genoptag ledger (not an SQLite database)"),
        "{}",
        stderr(&run)
    );
    assert!(!d.join("out").exists());
}
