//! A run's write to the ledger: the write lock (`BEGIN IMMEDIATE`) with the schema brought up to
//! date under it, the run recorded in the open transaction, the commit, and the rollback when a
//! run ends without one.

use std::time::Duration;

use rusqlite::{ErrorCode, params};

use super::changes::{self, Change};
use super::{Ledger, ledger_error, migrations};
use crate::error::Error;
use crate::output::summary::Summary;

impl Ledger {
    /// Takes the write lock, waiting up to `wait` while another run holds it (`on_wait` is told
    /// once, when waiting starts), and brings the schema up to date inside the transaction.
    pub fn lock(self, wait: Duration, on_wait: impl FnOnce()) -> Result<Locked, Error> {
        let begin = |ledger: &Ledger, timeout: Duration| {
            ledger.conn.busy_timeout(timeout)?;
            ledger.conn.execute_batch("BEGIN IMMEDIATE")
        };
        match begin(&self, Duration::ZERO) {
            Ok(()) => {}
            Err(e) if is_busy(&e) => {
                on_wait();
                match begin(&self, wait) {
                    Ok(()) => {}
                    Err(e) if is_busy(&e) => {
                        return Err(Error::LedgerBusy {
                            path: self.path.clone(),
                            waited: wait,
                        });
                    }
                    Err(e) => return Err(self.error(e)),
                }
            }
            Err(e) => return Err(self.error(e)),
        }
        // Later statements (the commit waits for readers to finish) wait as long.
        let locked = Locked { ledger: self };
        locked
            .ledger
            .conn
            .busy_timeout(wait)
            .and_then(|()| migrations::apply(&locked.ledger.conn))
            .map_err(|e| locked.ledger.error(e))?;
        Ok(locked)
    }
}

/// The ledger under this run's write lock, in its open transaction; rolled back if dropped
/// before [`Locked::commit`].
pub struct Locked {
    ledger: Ledger,
}

impl std::ops::Deref for Locked {
    type Target = Ledger;
    fn deref(&self) -> &Ledger {
        &self.ledger
    }
}

impl Locked {
    /// Records a run as run number `id`: its manifest, its lists and its changes (its inputs
    /// follow, [`Locked::record_inputs`]). `changes` are its lists against those of run `last`,
    /// the ledger's last run, as [`changes::diff`] gives them. Written in the open transaction;
    /// nothing is visible before [`Locked::commit`].
    pub fn record(
        &self,
        id: i64,
        last: Option<i64>,
        summary: &Summary,
        changes: &[Change],
    ) -> Result<(), Error> {
        let conn = &self.ledger.conn;
        let e = |e| self.ledger.error(e);
        let c = &summary.counts;
        let n = |v: u64| v as i64;
        let count = |kind| changes.iter().filter(|c| c.kind == kind).count() as i64;
        conn.execute(
            "INSERT INTO run (id, started_at, finished_at, tool_version, rules_version,
                 rows_read, evaluated, rejected, duplicates, reopen, review, not_affected,
                 out_of_scope, identification_complete, new_cases, changed_cases, gone_cases)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                id,
                summary.started_at,
                summary.finished_at,
                summary.tool_version,
                summary.rules_version,
                n(c.rows_read),
                n(c.evaluated),
                n(c.rejected),
                n(c.duplicates),
                n(c.reopen),
                n(c.review),
                n(c.not_affected),
                n(c.out_of_scope),
                summary.identification_complete,
                count(changes::Kind::New),
                count(changes::Kind::Changed),
                count(changes::Kind::Gone),
            ],
        )
        .map_err(e)?;
        // Every case the last run listed is seen in this run too, in one statement; a case gone
        // goes back to the last run, and a case new or changed is written. A nightly run's
        // unchanged cases (nearly all) then cost no statement each: 126,525 upserts had taken
        // 0.35 s.
        if let Some(last) = last {
            conn.execute(
                "UPDATE listed_case SET last_seen_run = ?1 WHERE last_seen_run = ?2",
                params![id, last],
            )
            .map_err(e)?;
        }
        let mut gone = conn
            .prepare(
                "UPDATE listed_case SET last_seen_run = ?3 WHERE case_id = ?1 AND decided_by = ?2",
            )
            .map_err(e)?;
        let mut listed = conn
            .prepare(
                "INSERT INTO listed_case (case_id, decided_by, classification, rule,
                     expected_outcome, first_seen_run, last_seen_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT (case_id, decided_by) DO UPDATE SET
                     classification = excluded.classification,
                     rule = excluded.rule,
                     expected_outcome = excluded.expected_outcome,
                     last_seen_run = excluded.last_seen_run",
            )
            .map_err(e)?;
        for c in changes {
            match &c.new {
                None => gone.execute(params![c.case_id, c.decided_by, last]),
                Some(l) => listed.execute(params![
                    c.case_id,
                    c.decided_by,
                    l.classification,
                    l.rule,
                    l.expected_outcome,
                    id
                ]),
            }
            .map_err(e)?;
        }
        let mut stmt = conn
            .prepare(
                "INSERT INTO case_change (run_id, change, case_id, decided_by,
                     old_classification, new_classification, old_rule, new_rule,
                     old_expected_outcome, new_expected_outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(e)?;
        for c in changes {
            let (code, sides) = (c.kind.code(), c.sides());
            let named: [&dyn rusqlite::ToSql; 4] = [&id, &code, &c.case_id, &c.decided_by];
            let values: Vec<&dyn rusqlite::ToSql> = named
                .into_iter()
                .chain(sides.iter().map(|side| side as &dyn rusqlite::ToSql))
                .collect();
            stmt.execute(values.as_slice()).map_err(e)?;
        }
        Ok(())
    }

    /// Records the inputs of run `id`, [`Locked::record`] made: path, size, rows and SHA-256.
    pub fn record_inputs(
        &self,
        id: i64,
        summary: &Summary,
        sha256: &[Option<String>],
    ) -> Result<(), Error> {
        let e = |e| self.ledger.error(e);
        let mut stmt = self
            .ledger
            .conn
            .prepare(
                "INSERT INTO run_input (run_id, position, path, size, sha256, rows)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(e)?;
        for (position, input) in summary.inputs.iter().enumerate() {
            let sha256 = sha256.get(position).cloned().flatten().ok_or_else(|| {
                ledger_error(
                    &self.ledger.path,
                    format!("no SHA-256 was computed for input {}", input.path),
                )
            })?;
            let n = |v: u64| v as i64;
            stmt.execute(params![
                id,
                position as i64,
                input.path,
                n(input.size),
                sha256,
                n(input.rows)
            ])
            .map_err(e)?;
        }
        Ok(())
    }

    /// Commits the transaction and releases the lock.
    pub fn commit(self) -> Result<(), Error> {
        self.ledger
            .conn
            .execute_batch("COMMIT")
            .map_err(|e| self.ledger.error(e))
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        if !self.ledger.conn.is_autocommit() {
            let _ = self.ledger.conn.execute_batch("ROLLBACK");
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}
