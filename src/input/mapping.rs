//! The mapping file (`--mapping FILE.toml`, SPEC §6.3): an export's own column names, value words,
//! refusal-reason codes, refusal-text patterns and the benefit catch-all, read into the structures
//! the reader uses (`[columns]` → the mapped columns, `[values.*]` → the [`Vocabulary`],
//! `[patterns]` → the [`Patterns`]). Anything it does not understand is a fatal error that names
//! the file and the key: a mapping that is silently half applied would misread every row.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use crate::error::Error;
use crate::input::columns::Col;
use crate::input::values::{Value, Vocabulary, canonical_names, canonical_value};
use crate::rules::case::{Benefit, ReasonCode};
use crate::rules::ground::Patterns;
use crate::rules::text::fold;

/// The benefit catch-all word: `[values.benefit] "*" = "OTHER"`.
pub const CATCH_ALL: &str = "*";

/// What a mapping file adds to the built-in columns, words and patterns.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// Per canonical column, the header this export uses for it.
    pub columns: HashMap<Col, String>,
    /// The built-in value words plus the mapping's.
    pub vocab: Vocabulary,
    /// The built-in refusal-text patterns plus the mapping's.
    pub patterns: Patterns,
}

/// The file as written; the tables are checked key by key after.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    patterns: BTreeMap<String, Vec<String>>,
}

/// Reads a mapping file; a missing or unreadable file is a fatal error naming it.
/// The mapping of `--mapping FILE`, or the built-in words alone without one.
pub fn load_or_default(path: Option<&Path>) -> Result<Mapping, Error> {
    path.map_or_else(|| Ok(Mapping::default()), load)
}

pub fn load(path: &Path) -> Result<Mapping, Error> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| Error::Mapping {
        file: file.clone(),
        message: format!("cannot read the mapping file: {err}"),
    })?;
    parse(&file, &text)
}

/// Parses the text of a mapping file; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Mapping, Error> {
    let fail = |message: String| Error::Mapping {
        file: file.to_string(),
        message,
    };
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(String::new(), |span| {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: ")
        });
        let message = e.message().trim().replace("unknown field", "unknown key");
        fail(format!(
            "{at}{message} (a mapping file has the tables [columns], [values.<column>] and [patterns], SPEC §6.3)"
        ))
    })?;
    let mut mapping = Mapping::default();
    columns(&raw.columns, &mut mapping.columns).map_err(&fail)?;
    values(&raw.values, &mut mapping.vocab).map_err(&fail)?;
    patterns(&raw.patterns, &mut mapping.patterns).map_err(&fail)?;
    Ok(mapping)
}

fn column(key: &str) -> Option<Col> {
    Col::from_name(&key.trim().to_ascii_lowercase())
}

fn column_names() -> String {
    Col::ALL.map(Col::name).join(", ")
}

/// `[columns]`: canonical name = header in this export.
fn columns(raw: &BTreeMap<String, String>, out: &mut HashMap<Col, String>) -> Result<(), String> {
    let mut by_header: HashMap<String, &str> = HashMap::new();
    for (key, header) in raw {
        let col = column(key).ok_or_else(|| {
            format!(
                "unknown key `[columns] {key}`: the canonical columns are {}",
                column_names()
            )
        })?;
        if header.trim().is_empty() {
            return Err(format!("`[columns] {key}` names an empty header"));
        }
        let folded = crate::input::columns::header_key(header);
        if let Some(other) = by_header.insert(folded, key) {
            return Err(format!(
                "`[columns] {other}` and `[columns] {key}` both name the header \"{header}\"; one header is one column"
            ));
        }
        out.insert(col, header.trim().to_string());
    }
    Ok(())
}

/// `[values.<column>]`: word in this export = canonical value; in `[values.benefit]` also the
/// catch-all `"*" = "OTHER"`.
fn values(
    raw: &BTreeMap<String, BTreeMap<String, String>>,
    vocab: &mut Vocabulary,
) -> Result<(), String> {
    for (key, words) in raw {
        let col = column(key).ok_or_else(|| {
            format!(
                "unknown key `[values.{key}]`: no such column; the canonical columns are {}",
                column_names()
            )
        })?;
        let names = canonical_names(col);
        if names.is_empty() {
            return Err(format!(
                "`[values.{key}]`: the column `{}` holds no value words (ids, dates and texts are read as written)",
                col.name()
            ));
        }
        let mut seen: HashMap<String, (&str, Value)> = HashMap::new();
        for (word, name) in words {
            let at = format!("`[values.{key}] \"{word}\"`");
            let value = canonical_value(col, name).ok_or_else(|| {
                format!(
                    "{at}: unknown canonical value \"{name}\"; `{}` takes {}",
                    col.name(),
                    names.join(", ")
                )
            })?;
            if word.trim() == CATCH_ALL {
                if col != Col::Benefit {
                    return Err(format!(
                        "{at}: the catch-all \"*\" is only for `[values.benefit]`"
                    ));
                }
                if value != Value::Benefit(Benefit::Other) {
                    return Err(format!(
                        "{at}: the catch-all can only be \"OTHER\": a danskbonus must be named by its own word"
                    ));
                }
                vocab.benefit_catch_all = true;
                continue;
            }
            let folded = fold(word);
            if folded.is_empty() {
                return Err(format!("{at}: an empty word"));
            }
            match seen.get(&folded) {
                Some((other, v)) if *v != value => {
                    return Err(format!(
                        "{at} and \"{other}\" are the same word (case and Danish letters folded) with different values"
                    ));
                }
                _ => {
                    seen.insert(folded, (word, value));
                }
            }
            vocab.add(col, word, value);
        }
    }
    Ok(())
}

/// `[patterns]`: ground = [extra refusal-text patterns].
fn patterns(raw: &BTreeMap<String, Vec<String>>, out: &mut Patterns) -> Result<(), String> {
    let grounds = || {
        ReasonCode::ALL
            .into_iter()
            .filter(|g| *g != ReasonCode::Other)
    };
    for (key, list) in raw {
        let ground = grounds()
            .find(|g| g.code().eq_ignore_ascii_case(key.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown key `[patterns] {key}`: the grounds are {}",
                    grounds()
                        .map(ReasonCode::code)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        for pattern in list {
            if fold(pattern).is_empty() {
                return Err(format!(
                    "`[patterns] {key}`: an empty pattern would match every text"
                ));
            }
            out.add(ground, pattern);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::values::Read;
    use crate::rules::case::{Case, Decision, YesNo};
    use crate::rules::ground::{Ground, ground_of};

    fn error(text: &str) -> String {
        parse("map.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn the_spec_example_maps_columns_words_and_patterns() {
        let m = parse(
            "map.toml",
            r#"
[columns]
case_id = "Sag ID"
decision_date = "Dato for afgørelse"

[values.decision]
"Afslået helt" = "REFUSED"

[values.benefit]
"Danskbonus - engangsbeløb" = "IL22"
"*" = "OTHER"

[values.refusal_reasons]
"P16" = "PROGRAM"

[values.program]
"Deltager" = "YES"

[patterns]
PROGRAM = ["ikke deltaget i forløb"]
"#,
        )
        .unwrap();
        assert_eq!(m.columns[&Col::CaseId], "Sag ID");
        assert_eq!(m.columns[&Col::DecisionDate], "Dato for afgørelse");
        assert_eq!(
            m.vocab.decision("AFSLAAET HELT"),
            Read::Value(Decision::Refused)
        );
        assert_eq!(m.vocab.decision("Afslag"), Read::Value(Decision::Refused));
        assert_eq!(
            m.vocab.benefit("danskbonus - engangsbeløb"),
            Read::Value(Ok(Benefit::Il22))
        );
        assert_eq!(m.vocab.benefit("Boligstøtte"), Read::Value(Err(())));
        assert_eq!(m.vocab.reason("p16"), Some(ReasonCode::Program));
        assert_eq!(
            m.vocab.yes_no(Col::Program, "deltager"),
            Read::Value(YesNo::Yes)
        );
        assert_eq!(
            m.vocab.yes_no(Col::PriorBonus, "deltager"),
            Read::Unknown,
            "a word maps only in its own column"
        );
        assert_eq!(
            m.patterns
                .grounds_in("Du har ikke deltaget i forløb hos kommunen"),
            vec![ReasonCode::Program]
        );
    }

    #[test]
    fn a_mapped_pattern_makes_the_refusal_cite_the_programme() {
        let m = parse("map.toml", "[patterns]\nPROGRAM = [\"ikke i forløb\"]\n").unwrap();
        let case = Case {
            case_id: "1".to_string(),
            municipality_code: "101".to_string(),
            benefit: Benefit::Il22,
            decision: Decision::Refused,
            decision_date: chrono::NaiveDate::from_ymd_opt(2020, 3, 1).unwrap(),
            refusal_text: "Du er ikke i forløb".to_string(),
            ..Case::blank()
        };
        assert_eq!(ground_of(&case, &m.patterns).ground, Ground::Cited);
        assert_eq!(
            ground_of(&case, &Patterns::default()).ground,
            Ground::Unknown
        );
    }

    #[test]
    fn an_empty_file_changes_nothing() {
        let m = parse("map.toml", "").unwrap();
        assert!(m.columns.is_empty());
        assert!(!m.vocab.benefit_catch_all);
        assert_eq!(m.vocab.benefit("Boligstøtte"), Read::Unknown);
    }

    #[test]
    fn unknown_keys_are_fatal_and_named() {
        let e = error("[colums]\ncase_id = \"Sag\"\n");
        assert!(
            e.starts_with("map.toml: line 1:") && e.contains("unknown key `colums`"),
            "{e}"
        );
        let e = error("[columns]\nsagsid = \"Sag\"\n");
        assert!(e.contains("`[columns] sagsid`"), "{e}");
        let e = error("[values.beslutning]\n\"Afslag\" = \"REFUSED\"\n");
        assert!(e.contains("`[values.beslutning]`"), "{e}");
        let e = error("[values.case_id]\n\"x\" = \"y\"\n");
        assert!(e.contains("`[values.case_id]`"), "{e}");
        let e = error("[patterns]\nPROGRAMME = [\"x\"]\n");
        assert!(
            e.contains("`[patterns] PROGRAMME`") && e.contains("PROGRAM, NOT_SELF_SUPPORTING"),
            "{e}"
        );
    }

    #[test]
    fn unknown_canonical_values_are_fatal_and_named() {
        let e = error("[values.decision]\n\"Afvist\" = \"REJECTED\"\n");
        assert!(
            e.contains("`[values.decision] \"Afvist\"`")
                && e.contains("\"REJECTED\"")
                && e.contains("GRANTED, REFUSED"),
            "{e}"
        );
        let e = error("[values.program]\n\"x\" = \"ja\"\n");
        assert!(
            e.contains("\"ja\"") && e.contains("YES, NO"),
            "a Danish word is no canonical value: {e}"
        );
        let e = error("[values.refusal_reasons]\n\"P16\" = \"PROGRAMME\"\n");
        assert!(e.contains("`[values.refusal_reasons] \"P16\"`"), "{e}");
    }

    #[test]
    fn the_catch_all_is_only_other_and_only_for_benefit() {
        let e = error("[values.benefit]\n\"*\" = \"IL22\"\n");
        assert!(e.contains("catch-all can only be \"OTHER\""), "{e}");
        let e = error("[values.decision]\n\"*\" = \"REFUSED\"\n");
        assert!(e.contains("only for `[values.benefit]`"), "{e}");
    }

    #[test]
    fn contradictions_and_wrong_types_are_fatal() {
        let e = error("[values.decision]\n\"Afslået\" = \"REFUSED\"\n\"afslaaet\" = \"GRANTED\"\n");
        assert!(e.contains("same word"), "{e}");
        let e = error("[columns]\ncase_id = \"Sag\"\ncpr = \"sag\"\n");
        assert!(e.contains("both name the header"), "{e}");
        let e = error("[columns]\ncase_id = 3\n");
        assert!(e.starts_with("map.toml: line 2:"), "{e}");
        let e = error("[patterns]\nPROGRAM = [\"  \"]\n");
        assert!(e.contains("empty pattern"), "{e}");
    }

    #[test]
    fn a_missing_file_is_fatal_and_named() {
        let e = load(Path::new("/nonexistent/mapping.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/nonexistent/mapping.toml: cannot read the mapping file"),
            "{e}"
        );
    }
}
