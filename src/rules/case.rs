//! The case as the rules see it: one decision on one application, in canonical values (SPEC §3.1),
//! and the warnings reading it raised.

use chrono::NaiveDate;

use super::Warning;

/// Which benefit the decision is about (`benefit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Benefit {
    /// Danskbonus under integrationsloven § 22: the only benefit re-evaluated.
    Il22,
    /// Danskbonus under aktivloven § 22, stk. 4.
    Aktl22,
    /// The former dansktillæg under aktivloven.
    Dansktillaeg,
    /// Any other benefit.
    Other,
}

impl Benefit {
    /// IL22, AKTL22 and DANSKTILLAEG are validated, audited and checked across rows.
    pub fn is_bonus_related(self) -> bool {
        self != Benefit::Other
    }
    pub fn code(self) -> &'static str {
        match self {
            Benefit::Il22 => "IL22",
            Benefit::Aktl22 => "AKTL22",
            Benefit::Dansktillaeg => "DANSKTILLAEG",
            Benefit::Other => "OTHER",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Granted,
    Refused,
}

/// `person_category`: who integrationsloven § 2, stk. 2-4 covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonCategory {
    Refugee,
    FamilyReunified,
    Other,
}

/// A yes/no field (`program`, `public_assistance`, `prior_bonus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum YesNo {
    Yes,
    No,
}

/// `exam`: the Danish test passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exam {
    Pd2,
    Pd3,
    Studieproeve,
    FvuLaesning2,
    FvuLaesning3,
    FvuLaesning4,
    Pd1,
    FvuLaesning1,
    None,
    /// Another test claimed to be equivalent: only a caseworker can judge it.
    Equivalent,
}

impl Exam {
    /// Prøve i Dansk 2, FVU-læsning trin 2, or a higher test.
    pub fn qualifies(self) -> Option<bool> {
        match self {
            Exam::Pd2
            | Exam::Pd3
            | Exam::Studieproeve
            | Exam::FvuLaesning2
            | Exam::FvuLaesning3
            | Exam::FvuLaesning4 => Some(true),
            Exam::Pd1 | Exam::FvuLaesning1 | Exam::None => Some(false),
            Exam::Equivalent => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Exam::Pd2 => "PD2",
            Exam::Pd3 => "PD3",
            Exam::Studieproeve => "STUDIEPROEVE",
            Exam::FvuLaesning2 => "FVU_LAESNING_2",
            Exam::FvuLaesning3 => "FVU_LAESNING_3",
            Exam::FvuLaesning4 => "FVU_LAESNING_4",
            Exam::Pd1 => "PD1",
            Exam::FvuLaesning1 => "FVU_LAESNING_1",
            Exam::None => "NONE",
            Exam::Equivalent => "EQUIVALENT",
        }
    }
}

/// `appeal_outcome`; no value means not appealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Appeal {
    /// Stadfæstet: Ankestyrelsen upheld the refusal and so decides the reopening.
    Upheld,
    /// Ændret / ophævet: the refusal was overturned.
    Changed,
    /// Hjemvist: sent back; the new decision is its own row.
    Remitted,
    /// Afvist: the appeal was not heard on its merits.
    Dismissed,
}

impl Appeal {
    pub fn code(self) -> &'static str {
        match self {
            Appeal::Upheld => "UPHELD",
            Appeal::Changed => "CHANGED",
            Appeal::Remitted => "REMITTED",
            Appeal::Dismissed => "DISMISSED",
        }
    }
}

/// A refusal-reason code (`refusal_reasons`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReasonCode {
    Program,
    NotSelfSupporting,
    NoExam,
    PriorBonus,
    NotCoveredPerson,
    Other,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 6] = [
        ReasonCode::Program,
        ReasonCode::NotSelfSupporting,
        ReasonCode::NoExam,
        ReasonCode::PriorBonus,
        ReasonCode::NotCoveredPerson,
        ReasonCode::Other,
    ];
    pub fn code(self) -> &'static str {
        match self {
            ReasonCode::Program => "PROGRAM",
            ReasonCode::NotSelfSupporting => "NOT_SELF_SUPPORTING",
            ReasonCode::NoExam => "NO_EXAM",
            ReasonCode::PriorBonus => "PRIOR_BONUS",
            ReasonCode::NotCoveredPerson => "NOT_COVERED_PERSON",
            ReasonCode::Other => "OTHER",
        }
    }
}

/// One decision, read and validated. Optional fields are `None` when empty (unknown) or unreadable
/// (with an `UNREADABLE:<column>` warning): never read as yes or as no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub case_id: String,
    pub cpr: String,
    pub municipality_code: String,
    pub benefit: Benefit,
    pub decision: Decision,
    pub application_date: Option<NaiveDate>,
    pub decision_date: NaiveDate,
    pub refusal_reasons: Vec<ReasonCode>,
    pub refusal_text: String,
    pub person_category: Option<PersonCategory>,
    pub program: Option<YesNo>,
    pub public_assistance: Option<YesNo>,
    pub exam: Option<Exam>,
    pub exam_date: Option<NaiveDate>,
    pub prior_bonus: Option<YesNo>,
    pub appeal: Option<Appeal>,
    /// Warnings raised while reading (CPR_INVALID, UNKNOWN_MUNICIPALITY, UNREADABLE:…,
    /// UNKNOWN_REASON_CODE:…), in column order.
    pub warnings: Vec<Warning>,
}

impl Case {
    /// A case with nothing read into it yet: the room [`record::parse_into`] reads record
    /// after record into.
    ///
    /// [`record::parse_into`]: crate::input::record::parse_into
    pub fn blank() -> Case {
        Case {
            case_id: String::new(),
            cpr: String::new(),
            municipality_code: String::new(),
            benefit: Benefit::Il22,
            decision: Decision::Refused,
            application_date: None,
            decision_date: NaiveDate::MIN,
            refusal_reasons: Vec::new(),
            refusal_text: String::new(),
            person_category: None,
            program: None,
            public_assistance: None,
            exam: None,
            exam_date: None,
            prior_bonus: None,
            appeal: None,
            warnings: Vec::new(),
        }
    }
}
