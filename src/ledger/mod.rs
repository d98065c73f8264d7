//! The ledger of nightly runs (SPEC §5.1): an embedded SQLite database (rusqlite's bundled SQLite,
//! so nothing is installed by hand) that records each run — its time, versions, inputs with their
//! SHA-256, counts — and every case that has been on the REOPEN or REVIEW list, with the run it
//! was first and last seen in and each change. It holds no CPR number.
//!
//! A run writes the ledger in one transaction taken with `BEGIN IMMEDIATE` (the write lock) after
//! classification, and commits it last, after its outputs are in place (`run`): a run that fails
//! or is killed leaves the ledger as it was, and a second run waits for the lock or stops with a
//! clear message. The schema lives in `migrations/`, applied under the same lock.
//!
//! The lock, the recording of a run and the commit are in `transaction`; reading runs and cases
//! back is in `history`.

pub mod changes;
mod history;
mod migrations;
pub mod run;
mod transaction;

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::Error;
pub use history::{CaseEvent, CaseHistory, PastRun, on_latest_lists};
pub use transaction::Locked;

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
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
