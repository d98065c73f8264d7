//! One record of an export, read into a [`Case`] (SPEC §3.1, §3.3): a broken row becomes a
//! reject with its column and reason; a suspicious but usable value becomes a warning; a row of
//! another benefit is out of scope as soon as its `benefit` is read.

use std::borrow::Cow;

use crate::input::columns::Col;
use crate::input::dates::parse_date;
use crate::input::kommuner;
use crate::input::values::{Read, Vocabulary};
use crate::rules::Warning;
use crate::rules::case::{Benefit, Case};

/// Why a row could not be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    FieldCount,
    UnknownValue,
    EmptyRequired,
    UnreadableDate,
}

impl RejectReason {
    pub const ALL: [RejectReason; 4] = [
        RejectReason::FieldCount,
        RejectReason::UnknownValue,
        RejectReason::EmptyRequired,
        RejectReason::UnreadableDate,
    ];
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::FieldCount => "FIELD_COUNT",
            RejectReason::UnknownValue => "UNKNOWN_VALUE",
            RejectReason::EmptyRequired => "EMPTY_REQUIRED",
            RejectReason::UnreadableDate => "UNREADABLE_DATE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The column at fault; none for a wrong field count.
    pub column: Option<Col>,
    pub reason: RejectReason,
}

/// What a record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Reject(Reject),
    /// Another benefit: out of scope, not validated. `caught` is set when the word was only known
    /// through the catch-all.
    Other {
        caught: bool,
    },
    /// A bonus-related row (IL22, AKTL22, DANSKTILLAEG), read in full.
    Bonus(Box<Case>),
}

/// Whether a CPR number is 10 digits (`DDMMYY-SSSS` allowed) whose first six are a date.
pub fn cpr_valid(cpr: &str) -> bool {
    let cpr = super::trim(cpr).as_bytes();
    let mut digits = [0u8; 10];
    match cpr.len() {
        10 => digits.copy_from_slice(cpr),
        11 if cpr[6] == b'-' => {
            digits[..6].copy_from_slice(&cpr[..6]);
            digits[6..].copy_from_slice(&cpr[7..]);
        }
        _ => return false,
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let two = |i: usize| u32::from(digits[i] - b'0') * 10 + u32::from(digits[i + 1] - b'0');
    let (day, month) = (two(0), two(2));
    // The century is in the serial number; 29 February is allowed in any year.
    let max_day = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => 29,
        _ => return false,
    };
    (1..=max_day).contains(&day)
}

/// Whether a text might hold a CPR number (a run of six or more digits): such a text is never
/// shown on stdout, stderr or in `summary.json`, even where a word of the export is.
pub fn may_hold_cpr(text: &str) -> bool {
    let mut run = 0;
    text.bytes().any(|b| {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        run >= 6
    })
}

/// What is shown of an export's word: itself, or a placeholder when it might hold a CPR number.
pub fn shown_word(word: &str) -> &str {
    if may_hold_cpr(word) {
        "(a word that looks like a CPR number, not shown)"
    } else {
        word
    }
}

/// Reads a record whose field count was checked. `get` gives a canonical column's text (empty
/// when the export lacks the column).
pub fn parse<'a>(get: impl Fn(Col) -> Cow<'a, str>, vocab: &Vocabulary) -> Parsed {
    SCRATCH.with_borrow_mut(|case| match parse_into(get, vocab, case) {
        Kind::Bonus => Parsed::Bonus(Box::new(case.clone())),
        Kind::Other { caught } => Parsed::Other { caught },
        Kind::Reject(r) => Parsed::Reject(r),
    })
}

thread_local! {
    /// The case [`parse`] reads into before it copies it out.
    static SCRATCH: std::cell::RefCell<Case> = std::cell::RefCell::new(Case::blank());
}

/// What a record is, as [`parse_into`] read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Reject(Reject),
    /// Another benefit, as [`Parsed::Other`].
    Other {
        caught: bool,
    },
    /// A bonus-related row, read in full into the case.
    Bonus,
}

/// [`parse`] into a case the caller keeps and reads record after record into: its texts and
/// lists keep their room, so reading a bonus-related row allocates nothing once they are large
/// enough (a scan reads half a million; a fresh case took seven allocations). Every field is
/// written when the result is [`Kind::Bonus`]; otherwise the case holds whatever it held.
pub fn parse_into<'a>(
    get: impl Fn(Col) -> Cow<'a, str>,
    vocab: &Vocabulary,
    case: &mut Case,
) -> Kind {
    let reject = |column: Col, reason: RejectReason| {
        Kind::Reject(Reject {
            column: Some(column),
            reason,
        })
    };
    let set = |to: &mut String, from: &str| {
        to.clear();
        to.push_str(from);
    };
    let benefit = match vocab.benefit(&get(Col::Benefit)) {
        Read::Value(Ok(Benefit::Other)) => return Kind::Other { caught: false },
        Read::Value(Err(())) => return Kind::Other { caught: true },
        Read::Value(Ok(b)) => b,
        Read::Empty | Read::Unknown => return reject(Col::Benefit, RejectReason::UnknownValue),
    };
    set(&mut case.case_id, super::trim(&get(Col::CaseId)));
    if case.case_id.is_empty() {
        return reject(Col::CaseId, RejectReason::EmptyRequired);
    }
    let decision = match vocab.decision(&get(Col::Decision)) {
        Read::Value(d) => d,
        Read::Empty | Read::Unknown => return reject(Col::Decision, RejectReason::UnknownValue),
    };
    let decision_date = match parse_date(&get(Col::DecisionDate)) {
        Ok(Some(d)) => d,
        Ok(None) | Err(_) => return reject(Col::DecisionDate, RejectReason::UnreadableDate),
    };

    let warnings = &mut case.warnings;
    warnings.clear();
    set(&mut case.cpr, super::trim(&get(Col::Cpr)));
    if !cpr_valid(&case.cpr) {
        warnings.push(Warning::CprInvalid);
    }
    set(
        &mut case.municipality_code,
        super::trim(&get(Col::MunicipalityCode)),
    );
    if !kommuner::is_known(&case.municipality_code) {
        warnings.push(Warning::UnknownMunicipality);
    }
    case.application_date = optional(
        warnings,
        Col::ApplicationDate,
        date(&get(Col::ApplicationDate)),
    );
    case.benefit = benefit;
    case.decision = decision;
    case.decision_date = decision_date;
    set(&mut case.refusal_text, &get(Col::RefusalText));
    case.refusal_reasons.clear();
    // Most rows have no code: their empty field is not split (a search of its own each time).
    let codes = get(Col::RefusalReasons);
    let codes = (!codes.is_empty()).then_some(codes);
    for code in codes
        .iter()
        .flat_map(|codes| codes.split('|'))
        .map(super::trim)
        .filter(|c| !c.is_empty())
    {
        let reason = vocab.reason(code).unwrap_or_else(|| {
            let warning = Warning::UnknownReasonCode(code.to_string());
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
            crate::rules::case::ReasonCode::Other
        });
        if !case.refusal_reasons.contains(&reason) {
            case.refusal_reasons.push(reason);
        }
    }
    case.person_category = optional(
        warnings,
        Col::PersonCategory,
        vocab.person(&get(Col::PersonCategory)),
    );
    case.program = optional(
        warnings,
        Col::Program,
        vocab.yes_no(Col::Program, &get(Col::Program)),
    );
    case.public_assistance = optional(
        warnings,
        Col::PublicAssistance,
        vocab.yes_no(Col::PublicAssistance, &get(Col::PublicAssistance)),
    );
    case.exam = optional(warnings, Col::Exam, vocab.exam(&get(Col::Exam)));
    case.exam_date = optional(warnings, Col::ExamDate, date(&get(Col::ExamDate)));
    case.prior_bonus = optional(
        warnings,
        Col::PriorBonus,
        vocab.yes_no(Col::PriorBonus, &get(Col::PriorBonus)),
    );
    case.appeal = optional(
        warnings,
        Col::AppealOutcome,
        vocab.appeal(&get(Col::AppealOutcome)),
    );
    Kind::Bonus
}

/// An optional field: empty is unknown; an unreadable value is unknown too, with a warning.
fn optional<T>(warnings: &mut Vec<Warning>, col: Col, read: Read<T>) -> Option<T> {
    match read {
        Read::Value(v) => Some(v),
        Read::Empty => None,
        Read::Unknown => {
            warnings.push(Warning::Unreadable(col.name()));
            None
        }
    }
}

fn date(field: &str) -> Read<chrono::NaiveDate> {
    match parse_date(field) {
        Ok(Some(d)) => Read::Value(d),
        Ok(None) => Read::Empty,
        Err(_) => Read::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpr_numbers_are_checked_for_shape_and_date() {
        assert!(cpr_valid("0101801234"));
        assert!(cpr_valid("290280-1234"));
        assert!(!cpr_valid("3102801234"), "31 February");
        assert!(!cpr_valid("01018012345"));
        assert!(!cpr_valid("010180123"));
        assert!(!cpr_valid("0101-801234"));
        assert!(!cpr_valid(""));
    }

    #[test]
    fn words_that_may_hold_a_cpr_number_are_not_shown() {
        assert!(may_hold_cpr("010180-1234"));
        assert!(may_hold_cpr("x0101801234"));
        assert_eq!(shown_word("Kontanthjælp"), "Kontanthjælp");
        assert_eq!(shown_word("Ydelse 2020-21"), "Ydelse 2020-21");
        assert_ne!(shown_word("0101801234"), "0101801234");
    }
}
