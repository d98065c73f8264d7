//! The decision table of SPEC §4 step 6 (R1-R10), written as data: read it row by row beside the
//! SPEC. The first row that matches G, P and E decides.

use super::ground::Ground;
use super::{Classification, Eligibility, Outcome, Rule};

/// Which programme status (`program`, P) a row matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum P {
    Any,
    Yes,
    NoOrUnknown,
}

/// Which eligibility (E) a row matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum E {
    Met,
    Undetermined,
    Failed,
    FailedOrUndetermined,
}

pub struct TableRow {
    pub rule: Rule,
    pub ground: Ground,
    pub program: P,
    pub eligibility: E,
    pub classification: Classification,
    pub outcome: Option<Outcome>,
}

use Classification::{NotAffected, Reopen, Review};
use Ground::{Cited, NotCited, Unknown};

const fn row(
    rule: Rule,
    ground: Ground,
    program: P,
    eligibility: E,
    classification: Classification,
    outcome: Option<Outcome>,
) -> TableRow {
    TableRow {
        rule,
        ground,
        program,
        eligibility,
        classification,
        outcome,
    }
}

#[rustfmt::skip]
pub const TABLE: [TableRow; 10] = [
    //   rule       G          P              E                         classification  expected_outcome
    row(Rule::R1,  Cited,     P::Any,         E::Met,                   Reopen,       Some(Outcome::Grant)),
    row(Rule::R2,  Cited,     P::Any,         E::Undetermined,          Reopen,       Some(Outcome::Assess)),
    row(Rule::R3,  Cited,     P::Any,         E::Failed,                Reopen,       Some(Outcome::Refuse)),
    row(Rule::R4,  NotCited,  P::Any,         E::Met,                   Review,       Some(Outcome::Assess)),
    row(Rule::R5,  NotCited,  P::Any,         E::FailedOrUndetermined,  NotAffected,  None),
    row(Rule::R6,  Unknown,   P::Yes,         E::Met,                   Review,       Some(Outcome::Assess)),
    row(Rule::R7,  Unknown,   P::Yes,         E::FailedOrUndetermined,  NotAffected,  None),
    row(Rule::R8,  Unknown,   P::NoOrUnknown, E::Met,                   Reopen,       Some(Outcome::Grant)),
    row(Rule::R9,  Unknown,   P::NoOrUnknown, E::Undetermined,          Review,       Some(Outcome::Assess)),
    row(Rule::R10, Unknown,   P::NoOrUnknown, E::Failed,                NotAffected,  None),
];

impl P {
    fn matches(self, program_yes: bool) -> bool {
        match self {
            P::Any => true,
            P::Yes => program_yes,
            P::NoOrUnknown => !program_yes,
        }
    }
}

impl E {
    fn matches(self, e: Eligibility) -> bool {
        matches!(
            (self, e),
            (E::Met, Eligibility::Met)
                | (E::Undetermined, Eligibility::Undetermined)
                | (E::Failed, Eligibility::Failed)
                | (
                    E::FailedOrUndetermined,
                    Eligibility::Failed | Eligibility::Undetermined
                )
        )
    }
}

/// The row of the table for G, P (`program_yes`: P = YES) and E. The table covers every
/// combination, which the tests check.
pub fn lookup(ground: Ground, program_yes: bool, eligibility: Eligibility) -> &'static TableRow {
    TABLE
        .iter()
        .find(|r| {
            r.ground == ground
                && r.program.matches(program_yes)
                && r.eligibility.matches(eligibility)
        })
        .expect("the decision table covers every combination of G, P and E")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_combination_is_decided_by_exactly_one_row() {
        for g in [Cited, NotCited, Unknown] {
            for p in [true, false] {
                for e in [
                    Eligibility::Met,
                    Eligibility::Undetermined,
                    Eligibility::Failed,
                ] {
                    let n = TABLE
                        .iter()
                        .filter(|r| {
                            r.ground == g && r.program.matches(p) && r.eligibility.matches(e)
                        })
                        .count();
                    assert_eq!(n, 1, "{g:?} {p} {e:?}");
                }
            }
        }
    }
}
