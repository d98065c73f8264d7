//! The ledger of nightly runs (SPEC §5.1): an embedded SQLite database (rusqlite's bundled SQLite,
//! so nothing is installed by hand) that records each run — its time, versions, inputs with their
//! SHA-256, counts — and every case that has been on the REOPEN or REVIEW list, with the run it
//! was first and last seen in and each change. It holds no CPR number.
//!
//! A run writes the ledger in one transaction taken with `BEGIN IMMEDIATE` (the write lock) after
//! classification, and commits it last, after its outputs are in place (`run`): a run that fails
//! or is killed leaves the ledger as it was, and a second run waits for the lock or stops with a
//! clear message. The schema lives in `migrations/`, applied under the same lock.

pub mod changes;
mod migrations;
pub mod run;

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, params};

use crate::error::Error;
use crate::output::summary::Summary;
use changes::{Change, Key, Listing};

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

/// A past run, as `history` and the report's trend show it.
#[derive(Debug, Clone)]
pub struct PastRun {
    pub id: i64,
    pub started_at: String,
    pub rules_version: String,
    pub inputs: Vec<String>,
    pub reopen: u64,
    pub review: u64,
    pub new: u64,
    pub changed: u64,
    pub gone: u64,
}

/// One case's history (`history --case`), for one authority that decides it.
#[derive(Debug, Clone)]
pub struct CaseHistory {
    pub case_id: String,
    pub decided_by: String,
    pub first_seen: (i64, String),
    pub last_seen: (i64, String),
    /// The ledger's latest run: the case is on the lists now if `last_seen` is that run.
    pub latest_run: i64,
    /// The runs in which the case was new, changed or gone, with its listing after each.
    pub events: Vec<CaseEvent>,
}

#[derive(Debug, Clone)]
pub struct CaseEvent {
    pub run: i64,
    pub started_at: String,
    pub change: String,
    pub listing: Option<Listing>,
}

impl Ledger {
    /// Opens the ledger a scan will record in, creating it (readable by its owner only) if
    /// missing. Its schema is checked now, before the scan, and brought up to date under the
    /// write lock, in the run's own transaction.
    pub fn open(path: &Path) -> Result<Ledger, Error> {
        if !path.exists() {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| ledger_error(path, format!("cannot create the ledger: {e}")))?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_error(path, e))?;
        let ledger = Ledger {
            conn,
            path: path.to_path_buf(),
        };
        ledger.check_schema()?;
        Ok(ledger)
    }

    /// Opens an existing ledger for reading only (`history`).
    pub fn open_existing(path: &Path) -> Result<Ledger, Error> {
        if !path.is_file() {
            return Err(ledger_error(
                path,
                "no such ledger: `genoptag scan --ledger FILE` creates one".to_string(),
            ));
        }
        // Read-write, so that a run killed mid-transaction is rolled back on opening; the
        // connection itself never writes.
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .or_else(|_| Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY))
        .map_err(|e| sql_error(path, e))?;
        conn.pragma_update(None, "query_only", true)
            .map_err(|e| sql_error(path, e))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| sql_error(path, e))?;
        let ledger = Ledger {
            conn,
            path: path.to_path_buf(),
        };
        let version = ledger.check_schema()?;
        if version != 0 && version != migrations::LATEST {
            return Err(ledger_error(
                path,
                format!(
                    "the ledger has schema version {version}; a scan with this genoptag brings it to version {}",
                    migrations::LATEST
                ),
            ));
        }
        Ok(ledger)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_schema(&self) -> Result<i64, Error> {
        let version = migrations::version(&self.conn).map_err(|e| sql_error(&self.path, e))?;
        if version > migrations::LATEST {
            return Err(ledger_error(
                &self.path,
                format!(
                    "the ledger was written by a newer genoptag (schema version {version}; this one knows up to {}): use that version",
                    migrations::LATEST
                ),
            ));
        }
        if version == 0 {
            let tables: i64 = self
                .conn
                .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
                .map_err(|e| sql_error(&self.path, e))?;
            if tables > 0 {
                return Err(ledger_error(
                    &self.path,
                    "an SQLite database, but not a genoptag ledger: choose another --ledger file"
                        .to_string(),
                ));
            }
        }
        Ok(version)
    }

    fn has_schema(&self) -> Result<bool, Error> {
        Ok(migrations::version(&self.conn).map_err(|e| self.error(e))? > 0)
    }

    fn error(&self, e: rusqlite::Error) -> Error {
        sql_error(&self.path, e)
    }

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

    /// Every recorded run, oldest first.
    pub fn runs(&self) -> Result<Vec<PastRun>, Error> {
        if !self.has_schema()? {
            return Ok(Vec::new());
        }
        let mut inputs: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut stmt = self
            .conn
            .prepare("SELECT run_id, path FROM run_input ORDER BY run_id, position")
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.error(e))?;
        for row in rows {
            let (run, path) = row.map_err(|e| self.error(e))?;
            inputs.entry(run).or_default().push(path);
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, started_at, rules_version, reopen, review, new_cases, changed_cases, gone_cases
                 FROM run ORDER BY id",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(PastRun {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    rules_version: r.get(2)?,
                    inputs: Vec::new(),
                    reopen: r.get::<_, i64>(3)? as u64,
                    review: r.get::<_, i64>(4)? as u64,
                    new: r.get::<_, i64>(5)? as u64,
                    changed: r.get::<_, i64>(6)? as u64,
                    gone: r.get::<_, i64>(7)? as u64,
                })
            })
            .map_err(|e| self.error(e))?;
        let mut runs = Vec::new();
        for row in rows {
            let mut run = row.map_err(|e| self.error(e))?;
            run.inputs = inputs.remove(&run.id).unwrap_or_default();
            runs.push(run);
        }
        Ok(runs)
    }

    /// The REOPEN and REVIEW lists of a run, by case.
    pub fn lists_of(&self, run: i64) -> Result<BTreeMap<Key, Listing>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT case_id, decided_by, classification, rule, expected_outcome
                 FROM listed_case WHERE last_seen_run = ?1",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([run], |r| {
                Ok((
                    (r.get(0)?, r.get(1)?),
                    Listing {
                        classification: r.get(2)?,
                        rule: r.get(3)?,
                        expected_outcome: r.get(4)?,
                    },
                ))
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// The history of one case id, one entry per authority it has been listed for; empty if it
    /// has never been on a list.
    pub fn case_history(&self, case_id: &str) -> Result<Vec<CaseHistory>, Error> {
        if !self.has_schema()? {
            return Ok(Vec::new());
        }
        let latest_run: i64 = self
            .conn
            .query_row("SELECT coalesce(max(id), 0) FROM run", [], |r| r.get(0))
            .map_err(|e| self.error(e))?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.decided_by, c.first_seen_run, f.started_at, c.last_seen_run, l.started_at
                 FROM listed_case c
                 JOIN run f ON f.id = c.first_seen_run
                 JOIN run l ON l.id = c.last_seen_run
                 WHERE c.case_id = ?1 ORDER BY c.decided_by",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([case_id], |r| {
                Ok(CaseHistory {
                    case_id: case_id.to_string(),
                    decided_by: r.get(0)?,
                    first_seen: (r.get(1)?, r.get(2)?),
                    last_seen: (r.get(3)?, r.get(4)?),
                    latest_run,
                    events: Vec::new(),
                })
            })
            .map_err(|e| self.error(e))?;
        let mut histories: Vec<CaseHistory> =
            rows.collect::<Result<_, _>>().map_err(|e| self.error(e))?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.run_id, r.started_at, c.change,
                        c.new_classification, c.new_rule, c.new_expected_outcome
                 FROM case_change c JOIN run r ON r.id = c.run_id
                 WHERE c.case_id = ?1 AND c.decided_by = ?2 ORDER BY c.run_id",
            )
            .map_err(|e| self.error(e))?;
        for history in &mut histories {
            let rows = stmt
                .query_map(params![case_id, history.decided_by], |r| {
                    let classification: Option<String> = r.get(3)?;
                    Ok(CaseEvent {
                        run: r.get(0)?,
                        started_at: r.get(1)?,
                        change: r.get(2)?,
                        listing: match classification {
                            Some(classification) => Some(Listing {
                                classification,
                                rule: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                                expected_outcome: r
                                    .get::<_, Option<String>>(5)?
                                    .unwrap_or_default(),
                            }),
                            None => None,
                        },
                    })
                })
                .map_err(|e| self.error(e))?;
            history.events = rows.collect::<Result<_, _>>().map_err(|e| self.error(e))?;
        }
        Ok(histories)
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
    /// Records a run as run number `id`: its manifest, its inputs' SHA-256, its lists and its
    /// changes. Written in the open transaction; nothing is visible before [`Locked::commit`].
    pub fn record(
        &self,
        id: i64,
        summary: &Summary,
        sha256: &[Option<String>],
        lists: &BTreeMap<Key, Listing>,
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
        let mut stmt = conn
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
        let mut stmt = conn
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
        for ((case_id, decided_by), l) in lists {
            stmt.execute(params![
                case_id,
                decided_by,
                l.classification,
                l.rule,
                l.expected_outcome,
                id
            ])
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
            let side = |l: &Option<Listing>, pick: fn(&Listing) -> &str| {
                l.as_ref().map(|l| pick(l).to_string())
            };
            stmt.execute(params![
                id,
                c.kind.code(),
                c.case_id,
                c.decided_by,
                side(&c.old, |l| &l.classification),
                side(&c.new, |l| &l.classification),
                side(&c.old, |l| &l.rule),
                side(&c.new, |l| &l.rule),
                side(&c.old, |l| &l.expected_outcome),
                side(&c.new, |l| &l.expected_outcome),
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

fn ledger_error(path: &Path, message: String) -> Error {
    Error::Ledger {
        path: path.to_path_buf(),
        message,
    }
}

fn sql_error(path: &Path, e: rusqlite::Error) -> Error {
    let message = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            "not a genoptag ledger (not an SQLite database): choose another --ledger file"
                .to_string()
        }
        Some(ErrorCode::ReadOnly) => format!(
            "the ledger cannot be written ({e}): check its permissions and those of its folder"
        ),
        _ => format!("ledger error: {e}"),
    };
    ledger_error(path, message)
}

/// Whether a case is in the ledger's latest lists.
pub fn on_latest_lists(history: &CaseHistory) -> bool {
    history.last_seen.0 == history.latest_run
}
