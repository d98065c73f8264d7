//! The steps of `explain`: SPEC §4 steps 1-7 told for one row, each condition with the value
//! that decided it and the dated parameter it was measured against, and the small wording helpers
//! the rest of `explain` shares.

use std::fmt::Write as _;

use chrono::NaiveDate;

use crate::rules::case::{Appeal, Case, Decision, Exam, PersonCategory, YesNo};
use crate::rules::ground::{Patterns, ground_of};
use crate::rules::params::{AMENDED_FROM, DatedParameter, EXAM_FROM, IL22_IN_FORCE};
use crate::rules::table::{P, TABLE};
use crate::rules::{self, Condition, Eligibility, Evaluation, Facts, Path, Warning};

/// Steps 1-7, as far as they were taken.
pub(super) fn steps(
    out: &mut String,
    case: &Case,
    facts: &Facts,
    eval: &Evaluation,
    patterns: &Patterns,
) {
    // Step 1.
    match eval.path {
        Path::NotIl22 => {
            let _ = writeln!(
                out,
                "Step 1, scope: benefit = {} is not danskbonus under integrationsloven § 22 → OUT_OF_SCOPE (rule SCOPE)",
                case.benefit.code()
            );
            return;
        }
        Path::Granted => {
            let _ = writeln!(
                out,
                "Step 1, scope: decision = GRANTED: there is no refusal to reopen → OUT_OF_SCOPE (rule SCOPE)"
            );
            return;
        }
        Path::BeforeIl22 => {
            let _ = writeln!(
                out,
                "Step 1, scope: decision_date {} is before {} → OUT_OF_SCOPE (rule SCOPE), warning BEFORE_IL22\n  {}",
                case.decision_date,
                param(&IL22_IN_FORCE),
                parameter_line(&IL22_IN_FORCE)
            );
            return;
        }
        _ => {
            let _ = writeln!(
                out,
                "Step 1, scope: an IL22 refusal decided {}, on or after {} → in scope\n  {}",
                case.decision_date,
                param(&IL22_IN_FORCE),
                parameter_line(&IL22_IN_FORCE)
            );
        }
    }

    // Step 2.
    match case.appeal {
        Some(Appeal::Changed) => {
            let _ = writeln!(
                out,
                "Step 2, appeal: appeal_outcome = CHANGED: the refusal was overturned → NOT_AFFECTED (rule APPEAL)"
            );
            return;
        }
        Some(Appeal::Remitted) => {
            let _ = writeln!(
                out,
                "Step 2, appeal: appeal_outcome = REMITTED: the case was sent back and its new decision is its own row → NOT_AFFECTED (rule APPEAL)"
            );
            let _ = if facts.later_il22_decision {
                writeln!(
                    out,
                    "Step 7, across the person's rows: the input holds a later IL22 decision for the person → stays NOT_AFFECTED"
                )
            } else {
                writeln!(
                    out,
                    "Step 7, across the person's rows: no later IL22 decision for the person in the input (the new decision may be missing from the export) → REVIEW, warning REMITTED_WITHOUT_NEW_DECISION"
                )
            };
            return;
        }
        Some(Appeal::Upheld) => {
            let _ = writeln!(
                out,
                "Step 2, appeal: appeal_outcome = UPHELD: Ankestyrelsen upheld the refusal, so Ankestyrelsen decides the reopening → go on"
            );
        }
        Some(Appeal::Dismissed) => {
            let _ = writeln!(
                out,
                "Step 2, appeal: appeal_outcome = DISMISSED: the appeal was not heard on its merits, so the municipality decides → go on"
            );
        }
        None => {
            let _ = writeln!(
                out,
                "Step 2, appeal: appeal_outcome empty (not appealed): the municipality decides → go on"
            );
        }
    }

    // Step 3.
    let amended = param(&AMENDED_FROM);
    match (eval.path, case.application_date) {
        (Path::ApplicationAfterDecision, Some(applied)) => {
            let _ = writeln!(
                out,
                "Step 3, regime: application_date {applied} is after decision_date {}: a data error → REVIEW (rule REGIME), warning APPLICATION_AFTER_DECISION",
                case.decision_date
            );
            return;
        }
        (Path::Amended | Path::AmendedCitedButOffered, Some(applied)) => {
            let _ = writeln!(
                out,
                "Step 3, regime: application_date {applied} is on or after {amended}: the amended § 22 applies, and a programme requirement is lawful\n  {}",
                parameter_line(&AMENDED_FROM)
            );
            let ground = ground_of(case, patterns);
            let _ = if eval.path == Path::AmendedCitedButOffered {
                writeln!(
                    out,
                    "  but the refusal cites the programme (G = {}) while program = YES → REVIEW (rule REGIME), warning PROGRAM_CITED_BUT_OFFERED",
                    ground.ground.code()
                )
            } else {
                writeln!(
                    out,
                    "  G = {}, program = {} → NOT_AFFECTED (rule REGIME)",
                    ground.ground.code(),
                    yes_no(case.program)
                )
            };
            return;
        }
        (_, Some(applied)) => {
            let _ = writeln!(
                out,
                "Step 3, regime: application_date {applied} is before {amended}: the former § 22 applies → go on\n  {}",
                parameter_line(&AMENDED_FROM)
            );
        }
        (Path::RegimeUnknown, None) => {
            let _ = writeln!(
                out,
                "Step 3, regime: application_date empty and decision_date {} on or after {amended}: the regime is unknown (warning APPLICATION_DATE_MISSING); steps 4-6 are applied, and what they would reopen or review becomes REVIEW, anything else NOT_AFFECTED\n  {}",
                case.decision_date,
                parameter_line(&AMENDED_FROM)
            );
        }
        (_, None) => {
            let _ = writeln!(
                out,
                "Step 3, regime: application_date empty, but decision_date {} is before {amended} and an application precedes its decision: the former § 22 applies → go on\n  {}",
                case.decision_date,
                parameter_line(&AMENDED_FROM)
            );
        }
    }

    let Some(finding) = &eval.finding else {
        return;
    };
    // Step 4.
    let c = &finding.conditions;
    let _ = writeln!(
        out,
        "Step 4, the four conditions (C1, C2 at the application date; C3, C4 at the decision date):"
    );
    let lines = [
        ("C1 person", c.c1_person, c1_value(case)),
        ("C2 self-supporting", c.c2_self_supporting, c2_value(case)),
        ("C3 Danish test", c.c3_exam, c3_value(case, c.c3_exam)),
        ("C4 first time", c.c4_first_time, c4_value(case, facts)),
    ];
    for (name, condition, value) in lines {
        let _ = writeln!(out, "  {name:<19} {:<8} {value}", condition.code());
    }
    let _ = writeln!(
        out,
        "  E = {}",
        match c.eligibility() {
            Eligibility::Met => "MET (all four are met)",
            Eligibility::Failed => "FAILED (a condition is not met)",
            Eligibility::Undetermined => "UNDETERMINED (none fails, not all are known)",
        }
    );

    // Step 5.
    let named: Vec<&str> = finding.ground.named.iter().map(|g| g.code()).collect();
    let _ = writeln!(
        out,
        "Step 5, ground: G = {}{}",
        finding.ground.ground.code(),
        if named.is_empty() {
            " (no ground is named)".to_string()
        } else {
            format!(" (grounds named: {})", named.join(", "))
        }
    );
    let codes: Vec<&str> = case.refusal_reasons.iter().map(|g| g.code()).collect();
    let _ = writeln!(
        out,
        "  refusal_reasons: {}",
        if codes.is_empty() {
            "(empty)".to_string()
        } else {
            codes.join(", ")
        }
    );
    let matches = patterns.matches_in(&case.refusal_text);
    let _ = if case.refusal_text.trim().is_empty() {
        writeln!(out, "  refusal_text: (empty)")
    } else if matches.is_empty() {
        writeln!(out, "  refusal_text: matches no pattern")
    } else {
        let found: Vec<String> = matches
            .iter()
            .map(|(g, p)| format!("\"{p}\" ({})", g.code()))
            .collect();
        writeln!(out, "  refusal_text: matches {}", found.join(", "))
    };

    // Step 6.
    let row = TABLE.iter().find(|r| r.rule == finding.table_rule);
    if let Some(row) = row {
        let p = match row.program {
            P::Any => "any",
            P::Yes => "YES",
            P::NoOrUnknown => "NO or UNKNOWN",
        };
        let _ = writeln!(
            out,
            "Step 6, table: P = {} → row {}: G {} · P {p} · E {} → {}{}",
            yes_no(case.program),
            row.rule.code(),
            row.ground.code(),
            eligibility_code(c.eligibility()),
            row.classification.code(),
            row.outcome.map_or(String::new(), |o| format!(
                ", expected outcome {}",
                o.code()
            )),
        );
    }
    if eval.warnings.contains(&Warning::ProgramCitedButCovered) {
        let _ = writeln!(
            out,
            "  the refusal cites the programme while program = YES: warning PROGRAM_CITED_BUT_COVERED"
        );
    }
    if eval.path == Path::RegimeUnknown {
        let _ = writeln!(
            out,
            "  step 3, unknown regime: {} → {} (rule REGIME)",
            finding.table_classification.code(),
            eval_before_step7(case, facts, patterns)
                .classification
                .code()
        );
    }

    // Step 7.
    step7(out, case, facts, eval, patterns);
}

/// The classification before step 7's LATER_GRANTED and the conflicting-duplicate rule.
pub(super) fn eval_before_step7(case: &Case, facts: &Facts, patterns: &Patterns) -> Evaluation {
    rules::evaluate(
        case,
        patterns,
        &Facts {
            prior_grant: facts.prior_grant,
            ..Facts::default()
        },
    )
}

pub(super) fn step7(
    out: &mut String,
    case: &Case,
    facts: &Facts,
    eval: &Evaluation,
    patterns: &Patterns,
) {
    let _ = writeln!(
        out,
        "Step 7, across the person's rows (same CPR, all inputs; before and after compare decision dates):"
    );
    if facts.prior_grant {
        let without = rules::evaluate(case, patterns, &Facts::default());
        let with = eval_before_step7(case, facts, patterns);
        let _ = writeln!(
            out,
            "  a danskbonus or dansktillæg granted before {} → C4 NOT_MET, warning PRIOR_GRANT_FOUND; the table again: {} {} → {} {}",
            case.decision_date,
            without.rule.code(),
            without.classification.code(),
            with.rule.code(),
            with.classification.code()
        );
    } else {
        let _ = writeln!(
            out,
            "  no danskbonus or dansktillæg granted before this decision"
        );
    }
    let _ = match &facts.later_grant {
        Some(id) if eval.warnings.contains(&Warning::LaterGranted(id.clone())) => writeln!(
            out,
            "  IL22 or AKTL22 danskbonus granted after this decision, in case {id} (paid once only) → REVIEW, warning LATER_GRANTED:{id}"
        ),
        Some(id) => writeln!(
            out,
            "  IL22 or AKTL22 danskbonus granted after this decision, in case {id}; the row is not REOPEN, so this changes nothing"
        ),
        None => writeln!(
            out,
            "  no IL22 or AKTL22 danskbonus granted after this decision"
        ),
    };
    if eval.warnings.contains(&Warning::SeveralRefusals) {
        let _ = writeln!(
            out,
            "  the person has other REOPEN rows → each stays REOPEN, warning SEVERAL_REFUSALS"
        );
    }
}

pub(super) fn param(p: &DatedParameter) -> String {
    format!("{} {}", p.name, p.date)
}

/// A dated parameter with its source, on a line of its own under the step that compared with it.
pub(super) fn parameter_line(p: &DatedParameter) -> String {
    format!("{} {} — source: {}", p.name, p.date, p.source)
}

pub(super) fn c1_value(case: &Case) -> String {
    let value = match case.person_category {
        Some(PersonCategory::Refugee) => "REFUGEE",
        Some(PersonCategory::FamilyReunified) => "FAMILY_REUNIFIED",
        Some(PersonCategory::Other) => "OTHER",
        None => return unknown(case, "person_category"),
    };
    format!("person_category = {value}")
}

pub(super) fn c2_value(case: &Case) -> String {
    match case.public_assistance {
        None => unknown(case, "public_assistance"),
        Some(_) => format!("public_assistance = {}", yes_no(case.public_assistance)),
    }
}

pub(super) fn c3_value(case: &Case, condition: Condition) -> String {
    let Some(exam) = case.exam else {
        return unknown(case, "exam");
    };
    let passed = case.exam_date;
    match (exam, passed, condition) {
        (Exam::Equivalent, _, _) => {
            "exam = EQUIVALENT: another test claimed equivalent, which a caseworker must judge"
                .to_string()
        }
        (_, _, _) if exam.qualifies() == Some(false) => {
            format!("exam = {}, which does not qualify", exam.code())
        }
        (_, None, _) => format!(
            "exam = {}, qualifying, but {}",
            exam.code(),
            unknown(case, "exam_date")
        ),
        (_, Some(date), Condition::Met) => format!(
            "exam = {} passed {date}, within [{}, decision {}]",
            exam.code(),
            param(&EXAM_FROM),
            case.decision_date
        ),
        (_, Some(date), _) if date < EXAM_FROM.date => format!(
            "exam = {} passed {date}, before {}",
            exam.code(),
            param(&EXAM_FROM)
        ),
        (_, Some(date), _) => format!(
            "exam = {} passed {date}, after the decision {}",
            exam.code(),
            case.decision_date
        ),
    }
}

pub(super) fn c4_value(case: &Case, facts: &Facts) -> String {
    let field = match case.prior_bonus {
        None => unknown(case, "prior_bonus"),
        Some(_) => format!("prior_bonus = {}", yes_no(case.prior_bonus)),
    };
    if facts.prior_grant {
        format!("{field}; a grant before this decision is among the person's rows (step 7)")
    } else {
        field
    }
}

/// An empty or unreadable field: unknown, never yes or no.
pub(super) fn unknown(case: &Case, column: &'static str) -> String {
    if case.warnings.contains(&Warning::Unreadable(column)) {
        format!("{column} unreadable (counts as empty: unknown)")
    } else {
        format!("{column} empty (unknown)")
    }
}

pub(super) fn yes_no(value: Option<YesNo>) -> &'static str {
    match value {
        Some(YesNo::Yes) => "YES",
        Some(YesNo::No) => "NO",
        None => "UNKNOWN",
    }
}

pub(super) fn eligibility_code(e: Eligibility) -> &'static str {
    match e {
        Eligibility::Met => "MET",
        Eligibility::Failed => "FAILED",
        Eligibility::Undetermined => "UNDETERMINED",
    }
}

pub(super) fn decision_code(decision: Decision) -> &'static str {
    match decision {
        Decision::Granted => "GRANTED",
        Decision::Refused => "REFUSED",
    }
}

pub(super) fn or_empty(text: &str) -> &str {
    if text.is_empty() { "(empty)" } else { text }
}

pub(super) fn date_or_empty(date: Option<NaiveDate>) -> String {
    date.map_or("(empty)".to_string(), |d| d.to_string())
}

pub(super) fn warnings(list: &[Warning]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("|")
}
