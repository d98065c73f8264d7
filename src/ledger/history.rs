//! Reading the ledger back: the recorded runs (`history`, the report's trend), the REOPEN and
//! REVIEW lists of a run, and one case's history (`history --case`).

use std::collections::BTreeMap;

use rusqlite::params;

use super::Ledger;
use super::changes::{Key, Listing, code};
use crate::error::Error;

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
                        classification: code(r.get(2)?),
                        rule: code(r.get(3)?),
                        expected_outcome: code(r.get(4)?),
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
                                classification: code(classification),
                                rule: code(r.get::<_, Option<String>>(4)?.unwrap_or_default()),
                                expected_outcome: code(
                                    r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                                ),
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

/// Whether a case is in the ledger's latest lists.
pub fn on_latest_lists(history: &CaseHistory) -> bool {
    history.last_seen.0 == history.latest_run
}
