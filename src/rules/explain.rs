//! The one-sentence Danish explanation on every row (SPEC §4), citing the provision, for a
//! caseworker to paste into a case note.

use std::borrow::Cow;

use super::{Classification, Condition, Conditions, Evaluation, Path, Rule, Warning};

/// The condition in words, as the former § 22 puts it.
pub fn condition_name(n: u8) -> &'static str {
    match n {
        1 => "at være flygtning eller familiesammenført (integrationslovens § 2, stk. 2-4)",
        2 => "at være selvforsørgende uden hjælp efter aktivlovens §§ 22-25",
        3 => "at have bestået Prøve i Dansk 2 eller en tilsvarende prøve efter 1. januar 2018",
        _ => "ikke tidligere at have fået danskbonus eller dansktillæg (§ 22, stk. 2)",
    }
}

fn list(conditions: &Conditions, which: Condition) -> String {
    let names: Vec<&str> = conditions
        .all()
        .iter()
        .filter(|(_, c)| *c == which)
        .map(|(n, _)| condition_name(*n))
        .collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} og {}", init.join(", "), last),
    }
}

const PROGRAMME: &str = "kravet om at være omfattet af programmet efter integrationslovens § 16, som efter Ankestyrelsens praksisændring i 2021 ikke kan stilles efter den tidligere § 22 (ansøgning før 9. juni 2021)";

/// `reopened` is how the sentence says the case is reopened: "sagen genoptages", or, where a
/// later step made a REOPEN row REVIEW, "sagen ville skulle genoptages".
fn table_sentence(rule: Rule, c: &Conditions, reopened: &str) -> String {
    let failed = list(c, Condition::NotMet);
    let unknown = list(c, Condition::Unknown);
    match rule {
        Rule::R1 => format!("Afslaget hvilede på {PROGRAMME}, og alle fire betingelser er opfyldt, så {reopened} med forventet bevilling"),
        Rule::R2 => format!("Afslaget hvilede på {PROGRAMME}, så {reopened}, og betingelsen om {unknown} skal vurderes, da oplysningerne mangler"),
        Rule::R3 => format!("Afslaget hvilede på {PROGRAMME}, så {reopened}, men forventes igen at give afslag, da betingelsen om {failed} ikke er opfyldt"),
        Rule::R4 => "Afslaget er begrundet med andet end programkravet, men oplysningerne viser, at alle fire betingelser i den tidligere integrationslovs § 22 er opfyldt, så en sagsbehandler må vurdere, om afslaget reelt hvilede på programkravet i § 16".to_string(),
        Rule::R5 | Rule::R7 | Rule::R10 => {
            let lead = match rule {
                Rule::R5 => "Afslaget er begrundet med andet end programkravet i integrationslovens § 16",
                Rule::R7 => "Afslagets begrundelse fremgår ikke, men personen er omfattet af programmet efter § 16",
                _ => "Afslagets begrundelse fremgår ikke",
            };
            if failed.is_empty() {
                format!("{lead}, og betingelsen om {unknown} er ikke oplyst, så praksisændringen om danskbonus efter integrationslovens § 22 ændrer ikke afslaget")
            } else {
                format!("{lead}, og betingelsen om {failed} er ikke opfyldt, så afslaget efter integrationslovens § 22 står ved magt")
            }
        }
        Rule::R6 => "Afslagets begrundelse fremgår ikke, og personen er omfattet af programmet efter integrationslovens § 16, men alle fire betingelser i § 22 er opfyldt, så afslaget er uforklaret og må vurderes af en sagsbehandler".to_string(),
        Rule::R8 => format!("Afslagets begrundelse fremgår ikke, men alle fire betingelser i den tidligere integrationslovs § 22 er opfyldt, så kun programkravet i § 16 kan forklare afslaget, og {reopened} med forventet bevilling"),
        _ => format!("Afslagets begrundelse fremgår ikke, og betingelsen om {unknown} kan ikke vurderes ud fra oplysningerne, så en sagsbehandler må se, om afslaget hvilede på programkravet i integrationslovens § 16"),
    }
}

/// The explanation of a row's classification.
pub fn explanation(eval: &Evaluation) -> String {
    let sentence: Cow<'static, str> = match eval.path {
        Path::NotIl22 => "Afgørelsen angår ikke danskbonus efter integrationslovens § 22 og berøres ikke af Ankestyrelsens praksisændring fra 2021".into(),
        Path::Granted => "Danskbonus efter integrationslovens § 22 blev bevilget, så der er intet afslag at genoptage".into(),
        Path::BeforeIl22 => "Afgørelsen er truffet før 1. juli 2018, da danskbonus efter integrationslovens § 22 trådte i kraft (lov nr. 320 af 25. april 2018), og er ikke omfattet".into(),
        Path::AppealChanged => "Afslaget er ændret eller ophævet efter klage, så der er intet afslag efter integrationslovens § 22 at genoptage".into(),
        Path::AppealRemitted if eval.classification == Classification::Review => "Afslaget er hjemvist efter klage, men udtrækket har ingen senere afgørelse om danskbonus efter integrationslovens § 22 for personen, så en sagsbehandler må se, om den nye afgørelse er truffet".into(),
        Path::AppealRemitted => "Afslaget er hjemvist efter klage, og den nye afgørelse om danskbonus efter integrationslovens § 22 vurderes som sin egen sag".into(),
        Path::ApplicationAfterDecision => "Ansøgningsdatoen ligger efter afgørelsesdatoen, så det kan ikke afgøres, om den tidligere eller den ændrede integrationslovs § 22 gælder, og en sagsbehandler må se på sagen".into(),
        Path::Amended => "Ansøgningen er indgivet 9. juni 2021 eller senere, så den ændrede integrationslovs § 22 (lov nr. 1192 af 8. juni 2021) gælder, og kravet om tilbud om program efter § 16 er lovligt".into(),
        Path::AmendedCitedButOffered => "Ansøgningen falder under den ændrede integrationslovs § 22 (lov nr. 1192 af 8. juni 2021), men afslaget henviser til programmet efter § 16, selv om personen er omfattet af eller tilbudt programmet, så en sagsbehandler må se på begrundelsen".into(),
        Path::RegimeUnknown => {
            let finding = eval.finding.as_ref().expect("the unknown regime uses the table");
            let verdict = if eval.classification == Classification::Review {
                format!("efter den tidligere regel ville sagen være {} ({}), så en sagsbehandler må se på den", finding.table_classification.code(), finding.table_rule.code())
            } else {
                format!("heller ikke efter den tidligere regel skal sagen genoptages ({})", finding.table_rule.code())
            };
            format!("Ansøgningsdatoen mangler, og afgørelsen er truffet 9. juni 2021 eller senere, så det er uvist, om den tidligere integrationslovs § 22 gælder; {verdict}").into()
        }
        Path::Table => {
            let finding = eval.finding.as_ref().expect("the table path has a finding");
            let reopened = if eval.classification == Classification::Reopen {
                "sagen genoptages"
            } else {
                "sagen ville skulle genoptages"
            };
            table_sentence(finding.table_rule, &finding.conditions, reopened).into()
        }
    };
    // Room for the warnings' clauses and the full stop, so the sentence is not moved to grow.
    let mut text = String::with_capacity(sentence.len() + 1 + eval.warnings.len() * 192);
    text.push_str(&sentence);
    for warning in &eval.warnings {
        match warning {
            Warning::LaterGranted(case_id) => text.push_str(&format!(
                "; men personen har senere fået bevilget danskbonus (sag {case_id}), som kun udbetales én gang (§ 22, stk. 2), så en sagsbehandler må vurdere, om sagen skal genoptages"
            )),
            Warning::SeveralRefusals => text.push_str("; personen har flere afslag, der skal genoptages"),
            Warning::ConflictingDuplicate => text.push_str(
                "; sagsnummeret står også med andre oplysninger i udtrækket, så en sagsbehandler må afklare, hvilken afgørelse der gælder",
            ),
            _ => {}
        }
    }
    text.push('.');
    text
}

/// What the explanation of `eval` depends on, packed in a number: its path and classification,
/// the table's rule, classification and four conditions, and the order of the warnings that add
/// a clause. Rows with the same key have the same explanation, so it is written once and reused
/// (`pipeline::render`). `None` when a warning names a case (`LaterGranted`).
pub fn explanation_key(eval: &Evaluation) -> Option<u32> {
    let mut key = eval.path as u32 | (eval.classification as u32) << 4;
    if let Some(finding) = &eval.finding {
        key |= 1 << 7 | (finding.table_rule as u32) << 8;
        key |= (finding.table_classification as u32) << 12;
        for (i, (_, condition)) in finding.conditions.all().into_iter().enumerate() {
            key |= (condition as u32) << (15 + 2 * i);
        }
    }
    let mut clause = 23;
    for warning in &eval.warnings {
        let code = match warning {
            Warning::LaterGranted(_) => return None,
            Warning::SeveralRefusals => 1,
            Warning::ConflictingDuplicate => 2,
            _ => continue,
        };
        if clause > 29 {
            return None;
        }
        key |= code << clause;
        clause += 2;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::rules::ground::{Ground, GroundFinding};
    use crate::rules::{Authority, TableFinding};

    /// Every evaluation with a key has the explanation of every other with that key: the key
    /// holds all the explanation reads.
    #[test]
    fn rows_with_one_key_have_one_explanation() {
        let paths = [
            Path::NotIl22,
            Path::Granted,
            Path::BeforeIl22,
            Path::AppealChanged,
            Path::AppealRemitted,
            Path::ApplicationAfterDecision,
            Path::Amended,
            Path::AmendedCitedButOffered,
            Path::RegimeUnknown,
            Path::Table,
        ];
        let each = [Condition::Met, Condition::NotMet, Condition::Unknown];
        let mut conditions = Vec::new();
        for c1 in each {
            for c2 in each {
                for c3 in each {
                    for c4 in each {
                        conditions.push(Conditions {
                            c1_person: c1,
                            c2_self_supporting: c2,
                            c3_exam: c3,
                            c4_first_time: c4,
                        });
                    }
                }
            }
        }
        let warnings = [
            vec![],
            vec![Warning::SeveralRefusals],
            vec![Warning::ConflictingDuplicate, Warning::CprInvalid],
            vec![Warning::SeveralRefusals, Warning::ConflictingDuplicate],
            vec![Warning::ConflictingDuplicate, Warning::SeveralRefusals],
            vec![Warning::LaterGranted("SAG-1".into())],
        ];
        let mut seen: HashMap<u32, String> = HashMap::new();
        let (mut keyed, mut unkeyed) = (0, 0);
        for path in paths {
            let tables = matches!(path, Path::Table | Path::RegimeUnknown);
            for classification in Classification::ALL {
                for table_rule in Rule::ALL {
                    for table_classification in Classification::ALL {
                        for c in if tables {
                            &conditions[..]
                        } else {
                            &conditions[..1]
                        } {
                            for w in &warnings {
                                let eval = Evaluation {
                                    classification,
                                    outcome: None,
                                    rule: table_rule,
                                    finding: Some(TableFinding {
                                        conditions: *c,
                                        ground: GroundFinding {
                                            ground: Ground::Unknown,
                                            named: Vec::new(),
                                        },
                                        program: None,
                                        table_rule,
                                        table_classification,
                                    }),
                                    warnings: w.clone(),
                                    decided_by: Authority::Ankestyrelsen,
                                    path,
                                };
                                let text = explanation(&eval);
                                let Some(key) = explanation_key(&eval) else {
                                    unkeyed += 1;
                                    continue;
                                };
                                keyed += 1;
                                let first = seen.entry(key).or_insert_with(|| text.clone());
                                assert_eq!(*first, text, "{eval:?}");
                            }
                        }
                    }
                }
            }
        }
        assert!(keyed > 100_000 && unkeyed > 0, "{keyed} {unkeyed}");
    }
}
