//! The decision procedure of SPEC §4: a pure `evaluate(case, patterns, facts)` with no I/O. The
//! words of its result are in `verdict` (and who decides, in `authority`), the dated parameters
//! in `params`, the ground patterns in `ground`, the table R1-R10 in `table`, the Danish
//! explanations in `explain`, and what rows tell about each other (step 7, duplicates) in
//! `across`.

pub mod across;
mod authority;
pub mod case;
pub mod explain;
pub mod ground;
pub mod params;
pub mod table;
pub mod text;
mod verdict;

use chrono::NaiveDate;

pub use authority::Authority;
use case::{Appeal, Benefit, Case, Decision, Exam, PersonCategory, YesNo};
use ground::{Ground, GroundFinding, TextGrounds, ground_of};
pub use verdict::{
    Classification, Condition, Conditions, Eligibility, Evaluation, Outcome, Path, Rule,
    TableFinding, Warning,
};

/// What the other rows of the input tell about this one (SPEC §4 step 7 and §3.3 duplicates),
/// settled after all input is read. The default is "nothing": a row on its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// A danskbonus (IL22, AKTL22) or dansktillæg was granted to the person before this decision.
    pub prior_grant: bool,
    /// The case id of the first IL22/AKTL22 danskbonus granted to the person after this decision.
    pub later_grant: Option<String>,
    /// The input holds an IL22 decision for the person after this one.
    pub later_il22_decision: bool,
    /// The person has other REOPEN rows.
    pub several_refusals: bool,
    /// This row repeats an earlier identical row (its source and line).
    pub duplicate_of: Option<(String, u64)>,
    /// Another row has the same case id with different content.
    pub conflicting: bool,
}

/// SPEC §4, steps 1-7, for one row; `facts` carries what the other rows tell (step 7, duplicates).
pub fn evaluate(case: &Case, patterns: &dyn TextGrounds, facts: &Facts) -> Evaluation {
    evaluate_once_read(case, &GroundOnce::new(patterns), facts)
}

/// A row as it stands (no facts from other rows), and its classification were a prior grant
/// found (step 7 may need either once all rows are read); the refusal text is read once, by
/// `patterns` (a [`Patterns`](ground::Patterns) table, or what a caller keeps of one's answers).
pub fn evaluate_as_it_stands(
    case: &Case,
    patterns: &dyn TextGrounds,
) -> (Evaluation, Classification) {
    let ground = GroundOnce::new(patterns);
    let alone = evaluate_once_read(case, &ground, &Facts::default());
    let with_prior_grant = if case.benefit == Benefit::Il22 && case.decision == Decision::Refused {
        let facts = Facts {
            prior_grant: true,
            ..Facts::default()
        };
        evaluate_once_read(case, &ground, &facts).classification
    } else {
        alone.classification
    };
    (alone, with_prior_grant)
}

/// The ground of one row (step 5), found at most once however often the row is evaluated.
struct GroundOnce<'p> {
    patterns: &'p dyn TextGrounds,
    found: std::cell::OnceCell<GroundFinding>,
}

impl<'p> GroundOnce<'p> {
    fn new(patterns: &'p dyn TextGrounds) -> GroundOnce<'p> {
        GroundOnce {
            patterns,
            found: std::cell::OnceCell::new(),
        }
    }

    fn of(&self, case: &Case) -> GroundFinding {
        self.found
            .get_or_init(|| ground_of(case, self.patterns))
            .clone()
    }
}

fn evaluate_once_read(case: &Case, ground: &GroundOnce<'_>, facts: &Facts) -> Evaluation {
    let mut eval = decide(case, ground, facts);
    // SPEC §3.3: differing rows with one case id are each REVIEW if in scope; the warning stands
    // on every one of them, so the audit trail shows the conflict on an out-of-scope copy too.
    if facts.conflicting {
        if eval.classification != Classification::OutOfScope {
            eval.make_review();
        }
        eval.warn(Warning::ConflictingDuplicate);
    }
    if let Some((source, line)) = &facts.duplicate_of {
        eval.warn(Warning::DuplicateOf(source.clone(), *line));
    }
    eval
}

fn decide(case: &Case, ground: &GroundOnce<'_>, facts: &Facts) -> Evaluation {
    use Classification::*;

    // Step 1. Scope: only refusals of danskbonus under IL § 22, decided once it was in force.
    if case.benefit != Benefit::Il22 {
        return Evaluation::new(case, OutOfScope, Rule::Scope, Path::NotIl22);
    }
    if case.decision == Decision::Granted {
        return Evaluation::new(case, OutOfScope, Rule::Scope, Path::Granted);
    }
    if case.decision_date < params::IL22_IN_FORCE.date {
        let mut eval = Evaluation::new(case, OutOfScope, Rule::Scope, Path::BeforeIl22);
        eval.warn(Warning::BeforeIl22);
        return eval;
    }

    // Step 2. Appeal: an overturned or remitted refusal is no refusal to reopen; UPHELD,
    // DISMISSED and no appeal go on (`decided_by` already says who decides).
    match case.appeal {
        Some(Appeal::Changed) => {
            return Evaluation::new(case, NotAffected, Rule::Appeal, Path::AppealChanged);
        }
        Some(Appeal::Remitted) => {
            let mut eval = Evaluation::new(case, NotAffected, Rule::Appeal, Path::AppealRemitted);
            // Step 7: the new decision may be missing from the export.
            if !facts.later_il22_decision {
                eval.make_review();
                eval.warn(Warning::RemittedWithoutNewDecision);
            }
            return eval;
        }
        Some(Appeal::Upheld) | Some(Appeal::Dismissed) | None => {}
    }

    // Step 3. Regime: the application date decides which § 22 applies.
    let ground = ground.of(case);
    let program_yes = case.program == Some(YesNo::Yes);
    let mut regime_unknown = false;
    match case.application_date {
        Some(applied) if applied > case.decision_date => {
            let mut eval =
                Evaluation::new(case, Review, Rule::Regime, Path::ApplicationAfterDecision);
            eval.warn(Warning::ApplicationAfterDecision);
            return eval;
        }
        Some(applied) if applied >= params::AMENDED_FROM.date => {
            if ground.ground == Ground::Cited && program_yes {
                let mut eval =
                    Evaluation::new(case, Review, Rule::Regime, Path::AmendedCitedButOffered);
                eval.warn(Warning::ProgramCitedButOffered);
                return eval;
            }
            return Evaluation::new(case, NotAffected, Rule::Regime, Path::Amended);
        }
        Some(_) => {}
        None => regime_unknown = case.decision_date >= params::AMENDED_FROM.date,
    }

    // Step 4. The four conditions of the former § 22, as Ankestyrelsen reads it.
    let conditions = Conditions {
        c1_person: c1_person(case.person_category),
        c2_self_supporting: c2_self_supporting(case.public_assistance),
        c3_exam: c3_exam(case.exam, case.exam_date, case.decision_date),
        c4_first_time: c4_first_time(case.prior_bonus, facts.prior_grant),
    };

    // Steps 5 and 6. The ground and the table.
    let row = table::lookup(ground.ground, program_yes, conditions.eligibility());
    let mut eval = Evaluation::new(case, row.classification, row.rule, Path::Table);
    eval.outcome = row.outcome;
    eval.finding = Some(TableFinding {
        conditions,
        ground,
        program: case.program,
        table_rule: row.rule,
        table_classification: row.classification,
    });
    if regime_unknown {
        // Step 3, unknown regime: what the table would reopen or review, a caseworker reviews.
        eval.warn(Warning::ApplicationDateMissing);
        eval.rule = Rule::Regime;
        eval.path = Path::RegimeUnknown;
        if matches!(row.classification, Reopen | Review) {
            eval.make_review();
        } else {
            eval.classification = NotAffected;
            eval.outcome = None;
        }
    }
    if matches!(row.rule, Rule::R1 | Rule::R2 | Rule::R3) && program_yes {
        eval.warn(Warning::ProgramCitedButCovered);
    }

    // Step 7. Across the rows of the same person.
    if facts.prior_grant {
        eval.warn(Warning::PriorGrantFound);
    }
    if eval.classification == Reopen {
        if let Some(case_id) = &facts.later_grant {
            eval.make_review();
            eval.warn(Warning::LaterGranted(case_id.clone()));
        } else if facts.several_refusals {
            eval.warn(Warning::SeveralRefusals);
        }
    }
    eval
}

/// C1 (§ 2, stk. 2-4), judged at the application date: refugee or family-reunified.
fn c1_person(category: Option<PersonCategory>) -> Condition {
    match category {
        Some(PersonCategory::Refugee | PersonCategory::FamilyReunified) => Condition::Met,
        Some(PersonCategory::Other) => Condition::NotMet,
        None => Condition::Unknown,
    }
}

/// C2, judged at the application date: no help under aktivloven §§ 22-25.
fn c2_self_supporting(public_assistance: Option<YesNo>) -> Condition {
    match public_assistance {
        Some(YesNo::No) => Condition::Met,
        Some(YesNo::Yes) => Condition::NotMet,
        None => Condition::Unknown,
    }
}

/// C3, judged at the decision date: a qualifying Danish test passed on or after
/// [`params::EXAM_FROM`] and no later than the decision.
fn c3_exam(exam: Option<Exam>, passed: Option<NaiveDate>, decided: NaiveDate) -> Condition {
    match (exam.and_then(Exam::qualifies), passed) {
        (None, _) => Condition::Unknown,
        (Some(false), _) => Condition::NotMet,
        (Some(true), None) => Condition::Unknown,
        (Some(true), Some(date)) if date >= params::EXAM_FROM.date && date <= decided => {
            Condition::Met
        }
        (Some(true), Some(_)) => Condition::NotMet,
    }
}

/// C4 (§ 22, stk. 2), judged at the decision date: no danskbonus or dansktillæg before. A grant
/// found among the person's earlier rows (step 7) fails it even where `prior_bonus` is empty.
fn c4_first_time(prior_bonus: Option<YesNo>, prior_grant_found: bool) -> Condition {
    if prior_grant_found {
        return Condition::NotMet;
    }
    match prior_bonus {
        Some(YesNo::No) => Condition::Met,
        Some(YesNo::Yes) => Condition::NotMet,
        None => Condition::Unknown,
    }
}
