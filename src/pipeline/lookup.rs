//! The lookup behind `genoptag explain`: the rows of one case id, read and settled exactly as
//! `scan` reads and settles them (the same pass 1, the same index and step 7), without writing
//! any output, and the other bonus-related rows of the same persons.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::BufReader;

use csv::StringRecord;

use super::spill::SPILL_HEAD;
use super::{ScanConfig, pass1, with_threads};
use crate::error::Error;
use crate::input::columns::Col;
use crate::input::record::{self, Parsed};
use crate::input::values::Vocabulary;
use crate::output::dir::Staging;
use crate::rules::Facts;
use crate::rules::across::person_key;
use crate::rules::case::{Benefit, Case, Decision};

/// A rejected row of the looked-up case: where it is and why it could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    pub source: String,
    pub line: u64,
    pub column: Option<&'static str>,
    pub reason: &'static str,
}

/// A row with the looked-up case id, as the scan reads it.
#[derive(Debug, Clone)]
pub enum Looked {
    /// A bonus-related row, with the facts the scan settles for it (step 7, duplicates).
    Bonus { case: Box<Case>, facts: Facts },
    /// A row of another benefit: out of scope as soon as `benefit` is read, not validated.
    Other {
        benefit: String,
        municipality_code: String,
    },
}

/// Another bonus-related row of the same person (same CPR), without the CPR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub source: String,
    pub line: u64,
    pub case_id: String,
    pub benefit: Benefit,
    pub decision: Decision,
    pub decision_date: chrono::NaiveDate,
}

/// One row with the looked-up case id, and the other bonus-related rows of its person.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub source: String,
    pub line: u64,
    pub row: Looked,
    pub related: Vec<Related>,
}

/// Everything the inputs hold about one case id (for `genoptag explain`).
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The evaluated rows with the case id, in input order.
    pub rows: Vec<CaseRow>,
    /// The rows with the case id that were rejected, in input order.
    pub rejected: Vec<RejectedRow>,
    pub rows_read: u64,
}

/// Reads and settles the inputs exactly as `scan` does (pass 1, then the settling of duplicates
/// and step 7), without writing any output, and returns the rows of one case id with their
/// settled facts and the other rows of their persons. The spill goes to a private temporary
/// directory that is removed when the lookup ends.
pub fn look_up(cfg: &ScanConfig, case_id: &str) -> Result<Lookup, Error> {
    // Rows of other benefits with the case id are spilled too (pass 1 keeps them for `watch`),
    // so a case id of another benefit is found.
    let names: Vec<String> = cfg.sources.iter().map(|s| s.name.clone()).collect();
    // Never committed: each lookup works in its own staging directory beside this name
    // (`.genoptag-explain.genoptag-tmp-PID`), which a later lookup removes if this one is killed.
    let scratch = std::env::temp_dir().join("genoptag-explain");
    let staging = Staging::create(&scratch)?;
    let first = with_threads(cfg, |pool| pass1(cfg, pool, &staging, Some(case_id), None))?;
    first.progress.finish();

    // The case's rows, and the persons they name.
    let mut rows = Vec::new();
    let mut persons = HashSet::new();
    for_each_spilled(&first.spill.path, &cfg.vocab, |number, rec, parsed| {
        let field = |col: Col| rec.get(SPILL_HEAD + col as usize).unwrap_or_default();
        if field(Col::CaseId).trim() != case_id {
            return;
        }
        let (source, line) = spilled_position(rec, &names);
        let row = match (number, parsed) {
            (Some(n), Some(Parsed::Bonus(case))) => {
                persons.extend(person_key(&case.cpr));
                Looked::Bonus {
                    facts: first.index.facts(n, &names),
                    case,
                }
            }
            _ => Looked::Other {
                benefit: field(Col::Benefit).trim().to_string(),
                municipality_code: field(Col::MunicipalityCode).trim().to_string(),
            },
        };
        rows.push(CaseRow {
            source,
            line,
            row,
            related: Vec::new(),
        });
    })?;

    // Every bonus-related row of those persons.
    let mut of_persons: Vec<(u128, Related)> = Vec::new();
    if !persons.is_empty() {
        for_each_spilled(&first.spill.path, &cfg.vocab, |_, rec, parsed| {
            if let Some(Parsed::Bonus(case)) = parsed
                && let Some(person) = person_key(&case.cpr).filter(|p| persons.contains(p))
            {
                let (source, line) = spilled_position(rec, &names);
                of_persons.push((
                    person,
                    Related {
                        source,
                        line,
                        case_id: case.case_id,
                        benefit: case.benefit,
                        decision: case.decision,
                        decision_date: case.decision_date,
                    },
                ));
            }
        })?;
    }
    for row in &mut rows {
        let Looked::Bonus { case, .. } = &row.row else {
            continue;
        };
        let Some(person) = person_key(&case.cpr) else {
            continue;
        };
        row.related = of_persons
            .iter()
            .filter(|(p, r)| *p == person && !(r.source == row.source && r.line == row.line))
            .map(|(_, r)| r.clone())
            .collect();
    }
    Ok(Lookup {
        rows,
        rejected: first.watched,
        rows_read: first.tally.counts.rows_read,
    })
}

/// Reads the spill file back in order, giving each row its bonus-row number and, for a
/// bonus-related row, the case read from it.
fn for_each_spilled(
    spill_path: &std::path::Path,
    vocab: &Vocabulary,
    mut each: impl FnMut(Option<u32>, &StringRecord, Option<Parsed>),
) -> Result<(), Error> {
    let file = std::fs::File::open(spill_path).map_err(|e| Error::output(spill_path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(BufReader::new(file));
    let mut rec = StringRecord::new();
    let mut next_bonus = 0u32;
    while reader
        .read_record(&mut rec)
        .map_err(|e| Error::output(spill_path, std::io::Error::other(e.to_string())))?
    {
        if &rec[0] == "B" {
            let field = |col: Col| rec.get(SPILL_HEAD + col as usize).unwrap_or_default();
            let parsed = record::parse(|col| Cow::Borrowed(field(col)), vocab);
            each(Some(next_bonus), &rec, Some(parsed));
            next_bonus += 1;
        } else {
            each(None, &rec, None);
        }
    }
    Ok(())
}

/// A spilled row's input name and line.
fn spilled_position(rec: &StringRecord, names: &[String]) -> (String, u64) {
    let source = rec
        .get(1)
        .and_then(|s| s.parse::<usize>().ok())
        .and_then(|s| names.get(s))
        .cloned()
        .unwrap_or_default();
    let line = rec.get(2).and_then(|l| l.parse().ok()).unwrap_or(0);
    (source, line)
}
