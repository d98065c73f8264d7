//! The dated parameters of the law (SPEC §2), each with its official source: the only place the
//! rules take a date from.

use chrono::NaiveDate;

/// A date the law turns on, with where it comes from.
pub struct DatedParameter {
    pub name: &'static str,
    pub date: NaiveDate,
    pub meaning: &'static str,
    pub source: &'static str,
}

const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("invalid parameter date"),
    }
}

/// A Danish test counts only if passed on or after this date ("efter den 1. januar 2018"; no test
/// is held on New Year's Day, so "after" and "on or after" agree).
pub const EXAM_FROM: DatedParameter = DatedParameter {
    name: "EXAM_FROM",
    date: date(2018, 1, 1),
    meaning: "a Danish test counts for danskbonus only if passed on or after this date",
    source: "bekendtgørelse nr. 617 af 27. maj 2018 § 9, stk. 2; later integrationsloven § 22, stk. 1",
};

/// Danskbonus under integrationsloven § 22 enters into force: no earlier decision is one.
pub const IL22_IN_FORCE: DatedParameter = DatedParameter {
    name: "IL22_IN_FORCE",
    date: date(2018, 7, 1),
    meaning: "danskbonus under integrationsloven § 22 enters into force",
    source: "lov nr. 320 af 25. april 2018; bekendtgørelse nr. 617 af 27. maj 2018 § 9",
};

/// From this date § 22 requires that the applicant was offered the programme; applications made
/// before it are governed by the former provision, which Ankestyrelsen reads as exhaustive.
pub const AMENDED_FROM: DatedParameter = DatedParameter {
    name: "AMENDED_FROM",
    date: date(2021, 6, 9),
    meaning: "applications made on or after this date fall under the amended § 22 (programme offer required); earlier ones under the former provision",
    source: "lov nr. 1192 af 8. juni 2021 (L 228); Udlændinge- og Integrationsministeriets skrivelse nr. 9446 af 10. juni 2021",
};

/// The practice change itself (no single date: the news of 2021).
pub const PRACTICE_SOURCE: &str = "Ankestyrelsen 2021: \"Ændring af praksis om betingelserne for at modtage danskbonus efter integrationsloven\"";

/// All parameters, for `genoptag rules` and the summary.
pub const ALL: [&DatedParameter; 3] = [&EXAM_FROM, &IL22_IN_FORCE, &AMENDED_FROM];

/// Bumped whenever a rule, a parameter or a pattern changes what a row is classified as.
pub const RULES_VERSION: &str = "2021.1";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_in_legal_order() {
        assert!(EXAM_FROM.date < IL22_IN_FORCE.date);
        assert!(IL22_IN_FORCE.date < AMENDED_FROM.date);
    }
}
