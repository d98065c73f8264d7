//! What changed on the REOPEN and REVIEW lists since the ledger's last run (SPEC §5.1): the pure
//! comparison, and `changes.csv`.
//!
//! A case is known by its `case_id` together with the authority that decides its reopening
//! (`decided_by`): when a case moves from one authority to another, it is `GONE` from the first's
//! list and `NEW` on the second's, which is what each of them has to act on.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::error::Error;
use crate::output::dir::Staging;
use crate::output::lists::CsvOut;
use crate::pipeline::ListedCase;
use crate::rules::{Classification, Outcome, Rule};

pub const FILE: &str = "changes.csv";

pub const COLUMNS: [&str; 9] = [
    "change",
    "case_id",
    "decided_by",
    "old_classification",
    "new_classification",
    "old_rule",
    "new_rule",
    "old_expected_outcome",
    "new_expected_outcome",
];

/// A case as the ledger knows it: `(case_id, decided_by)`.
pub type Key = (String, String);

/// How a case stands on the lists in one run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listing {
    pub classification: Code,
    pub rule: Code,
    pub expected_outcome: Code,
}

/// A classification, rule or outcome code: one of the rules' own, held without a copy (a nightly
/// run compares two runs' lists of 126,525 cases each: with three codes copied for each case its
/// peak was 106-126 MB on the 10M-row file, 102-115 MB without), or, read from a ledger, any
/// other text as it stands.
pub type Code = Cow<'static, str>;

/// A code read from a ledger: the rules' own where it is one of them.
pub fn code(text: String) -> Code {
    let known = Classification::ALL
        .iter()
        .map(|c| c.code())
        .chain(Rule::ALL.iter().map(|r| r.code()))
        .chain([Outcome::Grant, Outcome::Assess, Outcome::Refuse].map(Outcome::code))
        .chain([""])
        .find(|known| *known == text);
    known.map_or(Cow::Owned(text), Cow::Borrowed)
}

/// This run's lists by case. Rows that share a key (differing rows with one case id, each
/// `REVIEW` with `CONFLICTING_DUPLICATE`) are one case here; the smallest listing stands for them
/// (`REOPEN` before `REVIEW`), so the result does not depend on the order of the inputs.
pub fn current(listed: &[ListedCase]) -> BTreeMap<Key, Listing> {
    let mut lists: BTreeMap<Key, Listing> = BTreeMap::new();
    for case in listed {
        let listing = Listing {
            classification: Cow::Borrowed(case.classification.code()),
            rule: Cow::Borrowed(case.rule.code()),
            expected_outcome: Cow::Borrowed(case.expected_outcome.map_or("", |o| o.code())),
        };
        lists
            .entry((case.case_id.clone(), case.decided_by.to_string()))
            .and_modify(|l| {
                if listing < *l {
                    *l = listing.clone();
                }
            })
            .or_insert(listing);
    }
    lists
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    New,
    Changed,
    Gone,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::New => "NEW",
            Kind::Changed => "CHANGED",
            Kind::Gone => "GONE",
        }
    }
}

/// One row of `changes.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    pub case_id: String,
    pub decided_by: String,
    pub old: Option<Listing>,
    pub new: Option<Listing>,
}

impl Change {
    /// The old and the new classification, rule and expected outcome, in the order of the
    /// columns of `changes.csv` and of the ledger's `case_change`; none on a side where the case
    /// is not listed.
    pub fn sides(&self) -> [Option<&str>; 6] {
        let (old, new) = (self.old.as_ref(), self.new.as_ref());
        [
            old.map(|l| &*l.classification),
            new.map(|l| &*l.classification),
            old.map(|l| &*l.rule),
            new.map(|l| &*l.rule),
            old.map(|l| &*l.expected_outcome),
            new.map(|l| &*l.expected_outcome),
        ]
    }
}

/// The changes from `previous` to `current`: `NEW`, then `CHANGED`, then `GONE`, each sorted by
/// case id and authority.
pub fn diff(previous: &BTreeMap<Key, Listing>, current: &BTreeMap<Key, Listing>) -> Vec<Change> {
    let change =
        |kind, (case_id, decided_by): &Key, old: Option<&Listing>, new: Option<&Listing>| Change {
            kind,
            case_id: case_id.clone(),
            decided_by: decided_by.clone(),
            old: old.cloned(),
            new: new.cloned(),
        };
    let mut changes = Vec::new();
    for (key, new) in current {
        match previous.get(key) {
            None => changes.push(change(Kind::New, key, None, Some(new))),
            Some(old) if old != new => {
                changes.push(change(Kind::Changed, key, Some(old), Some(new)))
            }
            Some(_) => {}
        }
    }
    for (key, old) in previous {
        if !current.contains_key(key) {
            changes.push(change(Kind::Gone, key, Some(old), None));
        }
    }
    changes.sort_by(|a, b| {
        (a.kind, &a.case_id, &a.decided_by).cmp(&(b.kind, &b.case_id, &b.decided_by))
    });
    changes
}

/// Writes `changes.csv` into the staging directory.
pub fn write_csv(staging: &Staging, changes: &[Change], excel: bool) -> Result<(), Error> {
    let mut out = CsvOut::create(staging, FILE, &COLUMNS, excel)?;
    for c in changes {
        let sides = c.sides().map(|side| side.unwrap_or(""));
        let named = [c.kind.code(), c.case_id.as_str(), c.decided_by.as_str()];
        out.write(named.into_iter().chain(sides))?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Classification, Outcome, Rule};

    fn listed(case_id: &str, classification: Classification, rule: Rule) -> ListedCase {
        ListedCase {
            case_id: case_id.to_string(),
            decided_by: "kommune:461".into(),
            classification,
            rule,
            expected_outcome: Some(Outcome::Assess),
        }
    }

    #[test]
    fn the_same_lists_twice_are_no_change() {
        let lists = current(&[
            listed("A", Classification::Reopen, Rule::R2),
            listed("B", Classification::Review, Rule::R9),
        ]);
        assert!(diff(&lists, &lists).is_empty());
    }

    #[test]
    fn a_new_a_changed_and_a_gone_case_come_in_that_order() {
        let before = current(&[
            listed("B", Classification::Review, Rule::R9),
            listed("C", Classification::Reopen, Rule::R2),
        ]);
        let after = current(&[
            listed("A", Classification::Reopen, Rule::R2),
            listed("B", Classification::Reopen, Rule::R2),
        ]);
        let changes = diff(&before, &after);
        let kinds: Vec<(Kind, &str)> = changes
            .iter()
            .map(|c| (c.kind, c.case_id.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [(Kind::New, "A"), (Kind::Changed, "B"), (Kind::Gone, "C")]
        );
        assert_eq!(changes[1].old.as_ref().unwrap().rule, "R9");
        assert_eq!(changes[1].new.as_ref().unwrap().rule, "R2");
    }

    #[test]
    fn rows_sharing_a_case_id_are_one_case_whatever_their_order() {
        let a = listed("A", Classification::Review, Rule::R9);
        let b = listed("A", Classification::Review, Rule::R4);
        assert_eq!(current(&[a.clone(), b.clone()]), current(&[b, a]));
    }
}
