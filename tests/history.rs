//! `genoptag history --ledger FILE [--case CASE_ID]` (SPEC §6.2): what IT sees when it looks a
//! ledger up. (The nightly sequence in `ledger.rs` checks the lines of a real history.)

mod nightly;

use nightly::*;
use rusqlite::Connection;

#[test]
fn a_missing_ledger_is_an_error_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let run = genoptag(dir.path())
        .args(["history", "--ledger", "nightly.db"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run)
            .contains("nightly.db: no such ledger: `genoptag scan --ledger FILE` creates one"),
        "{}",
        stderr(&run)
    );
    assert!(!dir.path().join("nightly.db").exists());
}

#[test]
fn a_case_never_listed_says_so() {
    let dir = tempfile::tempdir().unwrap();
    assert_ok(&scan_night(dir.path(), 1));
    // S-2021-008 is in the export, but NOT_AFFECTED: never on a list.
    let run = genoptag(dir.path())
        .args(["history", "--ledger", "ledger.db", "--case", "S-2021-008"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains(
            "case `S-2021-008` has never been on the REOPEN or REVIEW list of a run recorded in this ledger"
        ),
        "{}",
        stderr(&run)
    );
}

#[test]
fn history_can_be_read_while_a_run_is_recording() {
    let dir = tempfile::tempdir().unwrap();
    assert_ok(&scan_night(dir.path(), 1));
    let writer = Connection::open(dir.path().join("ledger.db")).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    let run = genoptag(dir.path())
        .args(["history", "--ledger", "ledger.db", "--case", "S-2019-001"])
        .output()
        .unwrap();
    writer.execute_batch("ROLLBACK").unwrap();
    assert_ok(&run);
    let text = stdout(&run);
    assert!(
        text.starts_with("case S-2019-001, decided by kommune:461 (Odense Kommune)\n"),
        "{text}"
    );
    assert!(text.contains("on the lists of the latest run"), "{text}");
    assert_no_cpr("history", &text);
}
