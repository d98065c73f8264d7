//! The dated parameters of the law (SPEC §2), each with its official source: the only place the
//! rules take a date from.

use chrono::NaiveDate;

use super::Rule;

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

/// What a rule, or the step that decided, rests on, and the dated parameter that bounds it.
pub fn rule_source(rule: Rule) -> (&'static str, Option<&'static DatedParameter>) {
    match rule {
        Rule::Scope => (
            "integrationsloven § 22 (danskbonus): only its refusals are re-evaluated, from its entry into force",
            Some(&IL22_IN_FORCE),
        ),
        Rule::Appeal => (
            "the decision on appeal replaces the refusal: one changed on appeal is overturned, one remitted is decided anew (SPEC §4 step 2)",
            None,
        ),
        Rule::Regime => (
            "the application date decides whether the former or the amended integrationslov § 22 applies",
            Some(&AMENDED_FROM),
        ),
        _ => (
            "the former integrationslov § 22 lists its conditions exhaustively, so the programme under § 16 cannot be required: Ankestyrelsen 2021, \"Ændring af praksis om betingelserne for at modtage danskbonus efter integrationsloven\"; for applications before the amendment",
            Some(&AMENDED_FROM),
        ),
    }
}

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
