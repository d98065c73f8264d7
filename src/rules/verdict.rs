//! What an evaluation says of one row, in the words of the output columns: its classification,
//! expected outcome, the rule or step that decided, the four conditions C1-C4 and eligibility E,
//! the warnings, and the path taken. The procedure that decides them is in `rules` (SPEC §4).

use std::fmt;

use super::authority::Authority;
use super::case::{Case, YesNo};
use super::ground::GroundFinding;

/// The one classification every evaluated row gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Classification {
    Reopen,
    Review,
    NotAffected,
    OutOfScope,
}

impl Classification {
    pub const ALL: [Classification; 4] = [
        Classification::Reopen,
        Classification::Review,
        Classification::NotAffected,
        Classification::OutOfScope,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Classification::Reopen => "REOPEN",
            Classification::Review => "REVIEW",
            Classification::NotAffected => "NOT_AFFECTED",
            Classification::OutOfScope => "OUT_OF_SCOPE",
        }
    }
}

/// What the reopened case is expected to end in (`expected_outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Grant,
    Assess,
    Refuse,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Grant => "GRANT",
            Outcome::Assess => "ASSESS",
            Outcome::Refuse => "REFUSE",
        }
    }
}

/// The rule, or the step, that classified a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    Scope,
    Appeal,
    Regime,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    R7,
    R8,
    R9,
    R10,
}

impl Rule {
    pub const ALL: [Rule; 13] = [
        Rule::Scope,
        Rule::Appeal,
        Rule::Regime,
        Rule::R1,
        Rule::R2,
        Rule::R3,
        Rule::R4,
        Rule::R5,
        Rule::R6,
        Rule::R7,
        Rule::R8,
        Rule::R9,
        Rule::R10,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Rule::Scope => "SCOPE",
            Rule::Appeal => "APPEAL",
            Rule::Regime => "REGIME",
            Rule::R1 => "R1",
            Rule::R2 => "R2",
            Rule::R3 => "R3",
            Rule::R4 => "R4",
            Rule::R5 => "R5",
            Rule::R6 => "R6",
            Rule::R7 => "R7",
            Rule::R8 => "R8",
            Rule::R9 => "R9",
            Rule::R10 => "R10",
        }
    }
}

/// A warning on a classified row; written as its code, in the order the steps raise them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    CprInvalid,
    UnknownMunicipality,
    Unreadable(&'static str),
    UnknownReasonCode(String),
    BeforeIl22,
    ApplicationAfterDecision,
    ProgramCitedButOffered,
    ApplicationDateMissing,
    ProgramCitedButCovered,
    PriorGrantFound,
    LaterGranted(String),
    RemittedWithoutNewDecision,
    SeveralRefusals,
    DuplicateOf(String, u64),
    ConflictingDuplicate,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::CprInvalid => f.write_str("CPR_INVALID"),
            Warning::UnknownMunicipality => f.write_str("UNKNOWN_MUNICIPALITY"),
            Warning::Unreadable(column) => write!(f, "UNREADABLE:{column}"),
            Warning::UnknownReasonCode(code) => write!(f, "UNKNOWN_REASON_CODE:{code}"),
            Warning::BeforeIl22 => f.write_str("BEFORE_IL22"),
            Warning::ApplicationAfterDecision => f.write_str("APPLICATION_AFTER_DECISION"),
            Warning::ProgramCitedButOffered => f.write_str("PROGRAM_CITED_BUT_OFFERED"),
            Warning::ApplicationDateMissing => f.write_str("APPLICATION_DATE_MISSING"),
            Warning::ProgramCitedButCovered => f.write_str("PROGRAM_CITED_BUT_COVERED"),
            Warning::PriorGrantFound => f.write_str("PRIOR_GRANT_FOUND"),
            Warning::LaterGranted(case_id) => write!(f, "LATER_GRANTED:{case_id}"),
            Warning::RemittedWithoutNewDecision => f.write_str("REMITTED_WITHOUT_NEW_DECISION"),
            Warning::SeveralRefusals => f.write_str("SEVERAL_REFUSALS"),
            Warning::DuplicateOf(source, line) => write!(f, "DUPLICATE_OF:{source}:{line}"),
            Warning::ConflictingDuplicate => f.write_str("CONFLICTING_DUPLICATE"),
        }
    }
}

/// One condition of the former § 22 (SPEC §4 step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Met,
    NotMet,
    Unknown,
}

impl Condition {
    pub fn code(self) -> &'static str {
        match self {
            Condition::Met => "MET",
            Condition::NotMet => "NOT_MET",
            Condition::Unknown => "UNKNOWN",
        }
    }
}

/// The four conditions, C1-C4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conditions {
    pub c1_person: Condition,
    pub c2_self_supporting: Condition,
    pub c3_exam: Condition,
    pub c4_first_time: Condition,
}

impl Conditions {
    pub fn all(&self) -> [(u8, Condition); 4] {
        [
            (1, self.c1_person),
            (2, self.c2_self_supporting),
            (3, self.c3_exam),
            (4, self.c4_first_time),
        ]
    }

    /// E: MET if all four are met, FAILED if any is not, otherwise UNDETERMINED.
    pub fn eligibility(&self) -> Eligibility {
        let all = self.all();
        if all.iter().any(|(_, c)| *c == Condition::NotMet) {
            Eligibility::Failed
        } else if all.iter().all(|(_, c)| *c == Condition::Met) {
            Eligibility::Met
        } else {
            Eligibility::Undetermined
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eligibility {
    Met,
    Undetermined,
    Failed,
}

/// What step 4-6 found, written in the `c1_person` … `program` columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFinding {
    pub conditions: Conditions,
    pub ground: GroundFinding,
    pub program: Option<YesNo>,
    /// The table's own verdict, kept for the explanation where step 3 or 7 overrode it.
    pub table_rule: Rule,
    pub table_classification: Classification,
}

/// The result for one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub classification: Classification,
    pub outcome: Option<Outcome>,
    pub rule: Rule,
    pub finding: Option<TableFinding>,
    pub warnings: Vec<Warning>,
    pub decided_by: Authority,
    /// Which path of a step decided, for the explanation.
    pub path: Path,
}

/// The path within a step that decided the row (for explanations and `explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    NotIl22,
    Granted,
    BeforeIl22,
    AppealChanged,
    AppealRemitted,
    ApplicationAfterDecision,
    Amended,
    AmendedCitedButOffered,
    RegimeUnknown,
    Table,
}

impl Evaluation {
    pub(super) fn new(
        case: &Case,
        classification: Classification,
        rule: Rule,
        path: Path,
    ) -> Evaluation {
        Evaluation {
            classification,
            outcome: (classification == Classification::Review).then_some(Outcome::Assess),
            rule,
            finding: None,
            warnings: case.warnings.clone(),
            decided_by: Authority::of(&case.municipality_code, case.appeal),
            path,
        }
    }

    pub(super) fn warn(&mut self, warning: Warning) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Makes the row REVIEW (a caseworker must look), keeping its rule.
    pub(super) fn make_review(&mut self) {
        self.classification = Classification::Review;
        self.outcome = Some(Outcome::Assess);
    }
}
