//! The ledger's schema, as numbered SQL migrations kept beside this file and applied in order;
//! the database's `PRAGMA user_version` says how many it has.

use rusqlite::Connection;

/// The migrations, in order: migration `i` brings the schema to version `i + 1`. Never edit one
/// that has been released: add the next.
const MIGRATIONS: [&str; 1] = [include_str!("migrations/001_runs_and_listed_cases.sql")];

/// The schema version this genoptag writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// The schema version of an open database (0 for a new, empty one).
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Brings the schema to [`LATEST`]. Runs inside the caller's transaction, so a run that fails
/// leaves the schema as it was too.
pub fn apply(conn: &Connection) -> rusqlite::Result<()> {
    let from = version(conn)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
        conn.execute_batch(sql)?;
        conn.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_is_brought_to_the_latest_version_once() {
        let conn = Connection::open_in_memory().unwrap();
        apply(&conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        apply(&conn).unwrap();
        assert_eq!(version(&conn).unwrap(), LATEST);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 4);
    }
}
