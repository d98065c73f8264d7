//! The decision procedure of SPEC §4: a pure `evaluate(case, patterns, facts)` with no I/O. The
//! dated parameters are in `params`, the ground patterns in `ground`, the table R1-R10 in `table`,
//! the Danish explanations in `explain`, and what rows tell about each other (step 7, duplicates)
//! in `across`.

pub mod across;
pub mod case;
pub mod explain;
pub mod ground;
pub mod params;
pub mod table;
pub mod text;

use std::fmt;

use chrono::NaiveDate;

use case::{Appeal, Benefit, Case, Decision, Exam, PersonCategory, YesNo};
use ground::{Ground, GroundFinding, TextGrounds, ground_of};

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

/// Who decides the reopening (`decided_by`): the authority that last handled the case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Authority {
    Ankestyrelsen,
    /// A three-digit municipality code, its ASCII digits (no allocation for the million rows
    /// that name one; ordered as the code's text).
    Kommune([u8; 3]),
    /// The municipality code is not three digits.
    KommuneUkendt,
}

impl Authority {
    pub fn of(municipality_code: &str, appeal: Option<Appeal>) -> Authority {
        if appeal == Some(Appeal::Upheld) {
            return Authority::Ankestyrelsen;
        }
        match municipality_code.trim().as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => Authority::Kommune([a, b, c]),
            _ => Authority::KommuneUkendt,
        }
    }

    /// The authority a `decided_by` column names, as [`Authority`]'s `Display` writes it; an
    /// unreadable one is [`Authority::KommuneUkendt`].
    pub fn from_decided_by(decided_by: &str) -> Authority {
        match decided_by.strip_prefix("kommune:") {
            Some(code) => Authority::of(code, None),
            None if decided_by == "ankestyrelsen" => Authority::Ankestyrelsen,
            None => Authority::KommuneUkendt,
        }
    }

    /// A name safe for a file: built from the validated code only.
    pub fn file_stem(&self) -> String {
        match self {
            Authority::Ankestyrelsen => "ankestyrelsen".to_string(),
            Authority::Kommune(code) => format!("kommune-{}", Self::digits(code)),
            Authority::KommuneUkendt => "kommune-ukendt".to_string(),
        }
    }

    /// Appends what `Display` writes, without the formatter: `decided_by` is written on every
    /// list row.
    pub fn push_to(&self, out: &mut Vec<u8>) {
        match self {
            Authority::Ankestyrelsen => out.extend_from_slice(b"ankestyrelsen"),
            Authority::Kommune(code) => {
                out.extend_from_slice(b"kommune:");
                out.extend_from_slice(code);
            }
            Authority::KommuneUkendt => out.extend_from_slice(b"kommune:ukendt"),
        }
    }

    fn digits(code: &[u8; 3]) -> &str {
        std::str::from_utf8(code).expect("ASCII digits")
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Authority::Ankestyrelsen => f.write_str("ankestyrelsen"),
            Authority::Kommune(code) => write!(f, "kommune:{}", Self::digits(code)),
            Authority::KommuneUkendt => f.write_str("kommune:ukendt"),
        }
    }
}

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
    fn new(case: &Case, classification: Classification, rule: Rule, path: Path) -> Evaluation {
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

    fn warn(&mut self, warning: Warning) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Makes the row REVIEW (a caseworker must look), keeping its rule.
    fn make_review(&mut self) {
        self.classification = Classification::Review;
        self.outcome = Some(Outcome::Assess);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authority_is_written_alike_by_display_and_push_to_and_read_back() {
        let cases = [
            ("101", None, "kommune:101", "kommune-101"),
            (" 851 ", Some(Appeal::Changed), "kommune:851", "kommune-851"),
            (
                "461",
                Some(Appeal::Upheld),
                "ankestyrelsen",
                "ankestyrelsen",
            ),
            ("46", None, "kommune:ukendt", "kommune-ukendt"),
            ("4610", None, "kommune:ukendt", "kommune-ukendt"),
            ("4a1", None, "kommune:ukendt", "kommune-ukendt"),
            ("", None, "kommune:ukendt", "kommune-ukendt"),
        ];
        for (code, appeal, shown, stem) in cases {
            let authority = Authority::of(code, appeal);
            assert_eq!(authority.to_string(), shown, "{code:?}");
            let mut pushed = b"x".to_vec();
            authority.push_to(&mut pushed);
            assert_eq!(pushed, format!("x{shown}").into_bytes());
            assert_eq!(authority.file_stem(), stem);
            assert_eq!(Authority::from_decided_by(shown), authority);
        }
        // Ordered as the codes' text, as before they were kept as bytes.
        assert!(Authority::of("099", None) < Authority::of("101", None));
    }
}
