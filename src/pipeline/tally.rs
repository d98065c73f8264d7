//! The counts a scan keeps while it writes (SPEC §5's summary.json and the report): rows per
//! classification, rule, reject reason, authority and decision year, the benefit words caught,
//! and the REOPEN and REVIEW cases; pass 2 takes back what its rows counted before.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::render::Rendered;
use super::{InputSha256, ListedCase};
use crate::output::summary::{Counts, ListCounts, ListCountsWithNotAffected};
use crate::rules::{self, Authority, Classification, Rule};

/// Counts kept while writing.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) counts: Counts,
    /// Rows per rule, in the order of [`Rule::ALL`].
    pub(super) rules: [u64; Rule::ALL.len()],
    pub(super) rejects: BTreeMap<&'static str, u64>,
    /// By `decided_by` (written as its text in `summary.json`: [`Tally::by_authority`]).
    pub(super) by_authority: BTreeMap<Authority, ListCounts>,
    pub(super) caught: HashMap<Vec<u8>, u64>,
    pub(super) years: BTreeMap<i32, ListCountsWithNotAffected>,
    /// The rows counted per decision year; a year all of whose rows pass 2 took back is left out.
    pub(super) year_rows: BTreeMap<i32, u64>,
    /// The REOPEN and REVIEW cases, in output order.
    pub(super) listed: Vec<Listed>,
    /// The `decided_by` of the listed cases, each once, and where it stands.
    pub(super) authorities: Vec<Arc<str>>,
    /// Looked up for every listed row: FxHash, not SipHash, for a key of four bytes.
    pub(super) authority_index: rustc_hash::FxHashMap<Authority, u16>,
    pub(super) input_sha256: Vec<InputSha256>,
}

impl Tally {
    pub(super) fn classified(&mut self, classification: Classification, rule: Rule) {
        self.classified_by(classification, rule, false);
    }

    /// Counts a classified row, or with `undo` takes its count back.
    pub(super) fn classified_by(&mut self, classification: Classification, rule: Rule, undo: bool) {
        step(&mut self.counts.evaluated, undo);
        step(
            match classification {
                Classification::Reopen => &mut self.counts.reopen,
                Classification::Review => &mut self.counts.review,
                Classification::NotAffected => &mut self.counts.not_affected,
                Classification::OutOfScope => &mut self.counts.out_of_scope,
            },
            undo,
        );
        step(&mut self.rules[rule as usize], undo);
    }

    /// The rules that classified rows, by their codes, with their rows.
    pub(super) fn rule_counts(&self) -> BTreeMap<&'static str, u64> {
        Rule::ALL
            .iter()
            .zip(self.rules)
            .filter(|&(_, n)| n > 0)
            .map(|(rule, n)| (rule.code(), n))
            .collect()
    }

    /// Counts a row written to the lists: a bonus-related row (`bonus`), or another benefit's
    /// with `--audit-all` (counted as out of scope when read). With `undo`, takes back the
    /// counts of a row counted before (pass 2 classifies some rows again). `listed` is kept
    /// apart (see [`Tally::list`]).
    pub(super) fn row(&mut self, row: &Rendered, bonus: bool, duplicate: bool, undo: bool) {
        let step = |n: &mut u64| step(n, undo);
        if bonus {
            self.classified_by(row.classification, row.rule, undo);
        }
        if duplicate {
            step(&mut self.counts.duplicates);
            return;
        }
        if let Some(y) = row.year {
            step(self.year_rows.entry(y).or_default());
            let year = self.years.entry(y).or_default();
            match row.classification {
                Classification::Reopen => step(&mut year.reopen),
                Classification::Review => step(&mut year.review),
                Classification::NotAffected => step(&mut year.not_affected),
                Classification::OutOfScope => {}
            }
        }
        if let Some((_, decided_by)) = &row.listed {
            let counts = match self.by_authority.get_mut(decided_by) {
                Some(counts) => counts,
                None => self.by_authority.entry(decided_by.clone()).or_default(),
            };
            match row.classification {
                Classification::Reopen => step(&mut counts.reopen),
                _ => step(&mut counts.review),
            }
            if counts.reopen == 0 && counts.review == 0 {
                self.by_authority.remove(decided_by);
            }
        }
    }

    /// The counts per `decided_by`, by its text, as `summary.json` writes them.
    pub(super) fn by_authority(&mut self) -> BTreeMap<String, ListCounts> {
        std::mem::take(&mut self.by_authority)
            .into_iter()
            .map(|(authority, counts)| (authority.to_string(), counts))
            .collect()
    }

    /// Puts bonus row `n`, if a REOPEN or REVIEW row, on the cases for the ledger and the report.
    pub(super) fn list(&mut self, n: u32, mut row: Rendered) {
        if let Some(listed) = self.listed_of(n, &mut row) {
            self.listed.push(listed);
        }
    }

    /// Bonus row `n` as the listed cases keep it, if a REOPEN or REVIEW row: its case id is
    /// taken from the row.
    pub(super) fn listed_of(&mut self, n: u32, row: &mut Rendered) -> Option<Listed> {
        let (case_id, decided_by) = row.listed.take()?;
        let authority = match self.authority_index.get(&decided_by) {
            Some(&i) => i,
            None => {
                let i =
                    u16::try_from(self.authorities.len()).expect("fewer than 65536 authorities");
                self.authorities.push(decided_by.to_string().into());
                self.authority_index.insert(decided_by, i);
                i
            }
        };
        Some(Listed {
            n,
            case_id,
            authority,
            classification: row.classification,
            rule: row.rule,
            expected_outcome: row.outcome,
        })
    }

    /// Replaces the listed cases of the rows pass 2 classified again (by bonus-row number, in
    /// order) with what they are now.
    pub(super) fn relist(&mut self, again: Vec<(u32, Option<Listed>)>) {
        let old = std::mem::take(&mut self.listed);
        self.listed = Vec::with_capacity(old.len() + again.len());
        let mut old = old.into_iter().peekable();
        for (n, listed) in again {
            while let Some(before) = old.next_if(|l| l.n < n) {
                self.listed.push(before);
            }
            old.next_if(|l| l.n == n);
            self.listed.extend(listed);
        }
        self.listed.extend(old);
    }

    /// The listed cases, as the ledger and the report take them.
    pub(super) fn listed_cases(&mut self) -> Vec<ListedCase> {
        std::mem::take(&mut self.listed)
            .into_iter()
            .map(|l| ListedCase {
                case_id: l.case_id.into(),
                decided_by: self.authorities[usize::from(l.authority)].clone(),
                classification: l.classification,
                rule: l.rule,
                expected_outcome: l.expected_outcome,
            })
            .collect()
    }
}

/// A REOPEN or REVIEW case while the run lasts: a [`ListedCase`] in half the memory (a run may
/// list hundreds of thousands), with its bonus-row number.
pub(super) struct Listed {
    n: u32,
    case_id: Box<str>,
    /// In [`Tally::authorities`].
    authority: u16,
    classification: Classification,
    rule: Rule,
    expected_outcome: Option<rules::Outcome>,
}

/// One more, or with `undo` one fewer.
fn step(n: &mut u64, undo: bool) {
    if undo {
        *n -= 1;
    } else {
        *n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, decided_by: &str) -> Rendered {
        Rendered {
            tail: crate::pipeline::render::Tail::Own(Vec::new()),
            classification: Classification::Reopen,
            outcome: None,
            rule: Rule::R1,
            listed: Some((id.into(), Authority::from_decided_by(decided_by))),
            year: None,
        }
    }

    #[test]
    fn rows_are_counted_by_rule_under_each_rules_code() {
        let mut tally = Tally::default();
        for rule in Rule::ALL {
            tally.classified(Classification::Review, rule);
        }
        tally.classified(Classification::Reopen, Rule::R1);
        tally.classified_by(Classification::Review, Rule::R9, true);
        let counts = tally.rule_counts();
        let expected: BTreeMap<&str, u64> = Rule::ALL
            .iter()
            .filter(|&&rule| rule != Rule::R9)
            .map(|rule| (rule.code(), if *rule == Rule::R1 { 2 } else { 1 }))
            .collect();
        assert_eq!(counts, expected);
    }

    #[test]
    fn rows_classified_again_take_their_place_among_the_listed_cases() {
        let mut tally = Tally::default();
        for (n, id) in [(1, "a"), (3, "c"), (5, "e")] {
            tally.list(n, row(id, "kommune:461"));
        }
        // Row 0 joins, row 3 leaves, row 5 changes, row 7 joins at the end.
        let again = [(0, "z"), (3, ""), (5, "E"), (7, "g")].map(|(n, id)| {
            let listed = tally.listed_of(n, &mut row(id, "ankestyrelsen"));
            (n, listed.filter(|_| n != 3))
        });
        tally.relist(again.into());
        let cases = tally.listed_cases();
        let ids: Vec<(&str, &str)> = cases
            .iter()
            .map(|c| (c.case_id.as_str(), &*c.decided_by))
            .collect();
        assert_eq!(
            ids,
            [
                ("z", "ankestyrelsen"),
                ("a", "kommune:461"),
                ("E", "ankestyrelsen"),
                ("g", "ankestyrelsen")
            ]
        );
    }
}
