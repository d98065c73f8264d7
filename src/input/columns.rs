//! The canonical columns (SPEC §3.1), their built-in Danish aliases, and how an export's header
//! is matched to them.

use std::collections::HashMap;

use crate::error::Error;

/// A canonical column, in the canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Col {
    CaseId,
    Cpr,
    MunicipalityCode,
    Benefit,
    Decision,
    ApplicationDate,
    DecisionDate,
    RefusalReasons,
    RefusalText,
    PersonCategory,
    Program,
    PublicAssistance,
    Exam,
    ExamDate,
    PriorBonus,
    AppealOutcome,
}

pub const COLUMN_COUNT: usize = 16;

impl Col {
    pub const ALL: [Col; COLUMN_COUNT] = [
        Col::CaseId,
        Col::Cpr,
        Col::MunicipalityCode,
        Col::Benefit,
        Col::Decision,
        Col::ApplicationDate,
        Col::DecisionDate,
        Col::RefusalReasons,
        Col::RefusalText,
        Col::PersonCategory,
        Col::Program,
        Col::PublicAssistance,
        Col::Exam,
        Col::ExamDate,
        Col::PriorBonus,
        Col::AppealOutcome,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Col::CaseId => "case_id",
            Col::Cpr => "cpr",
            Col::MunicipalityCode => "municipality_code",
            Col::Benefit => "benefit",
            Col::Decision => "decision",
            Col::ApplicationDate => "application_date",
            Col::DecisionDate => "decision_date",
            Col::RefusalReasons => "refusal_reasons",
            Col::RefusalText => "refusal_text",
            Col::PersonCategory => "person_category",
            Col::Program => "program",
            Col::PublicAssistance => "public_assistance",
            Col::Exam => "exam",
            Col::ExamDate => "exam_date",
            Col::PriorBonus => "prior_bonus",
            Col::AppealOutcome => "appeal_outcome",
        }
    }

    pub fn from_name(name: &str) -> Option<Col> {
        Col::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The built-in Danish aliases (SPEC §3.1).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Col::CaseId => &["sagsnummer", "sags_id", "sagsnr"],
            Col::Cpr => &["cpr", "cpr_nr", "personnummer"],
            Col::MunicipalityCode => &["kommunekode", "kommune_nr"],
            Col::Benefit => &["ydelse", "ydelsestype"],
            Col::Decision => &["afgoerelse", "afgørelse", "resultat"],
            Col::ApplicationDate => &["ansoegningsdato", "ansøgningsdato"],
            Col::DecisionDate => &["afgoerelsesdato", "afgørelsesdato"],
            Col::RefusalReasons => &["afslagsgrunde"],
            Col::RefusalText => &["begrundelse", "afslagsbegrundelse"],
            Col::PersonCategory => &["persongruppe", "kategori"],
            Col::Program => &["program", "programstatus"],
            Col::PublicAssistance => &["offentlig_hjaelp", "forsoergelse"],
            Col::Exam => &["danskproeve", "danskprøve", "proeve"],
            Col::ExamDate => &["proevedato", "prøvedato"],
            Col::PriorBonus => &["tidligere_bonus"],
            Col::AppealOutcome => &["klageresultat", "ankeresultat"],
        }
    }

    /// Required for every row; a file without it cannot be read.
    pub fn required(self) -> bool {
        matches!(
            self,
            Col::CaseId
                | Col::Cpr
                | Col::MunicipalityCode
                | Col::Benefit
                | Col::Decision
                | Col::DecisionDate
        )
    }
}

/// How a canonical column was found in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Canonical,
    Alias,
    Mapping,
}

impl Found {
    pub fn code(&self) -> &'static str {
        match self {
            Found::Canonical => "name",
            Found::Alias => "alias",
            Found::Mapping => "mapping",
        }
    }
}

/// A header name as matched: case and Danish letters folded, spaces and dashes as `_`.
pub fn header_key(name: &str) -> String {
    crate::rules::text::fold(name).replace([' ', '-'], "_")
}

/// Where each canonical column stands in one export's header.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    positions: [Option<usize>; COLUMN_COUNT],
    /// Per canonical column: the header as written and how it was found.
    pub found: Vec<(Col, String, Found)>,
    /// Header names that are no canonical column: ignored, listed in the summary.
    pub extra: Vec<String>,
    pub width: usize,
}

impl ColumnMap {
    /// The identity map, for records already in canonical order (the spill file).
    pub fn canonical() -> ColumnMap {
        ColumnMap {
            positions: std::array::from_fn(Some),
            found: Col::ALL
                .iter()
                .map(|c| (*c, c.name().to_string(), Found::Canonical))
                .collect(),
            extra: Vec::new(),
            width: COLUMN_COUNT,
        }
    }

    /// Matches a header. `mapped` names, per canonical column, the header this export uses for it
    /// (from the mapping file); it wins over names and aliases.
    pub fn build(
        file: &str,
        header: &[String],
        mapped: &HashMap<Col, String>,
    ) -> Result<ColumnMap, Error> {
        let keys: Vec<String> = header.iter().map(|h| header_key(h)).collect();
        let mut positions = [None; COLUMN_COUNT];
        let mut found = Vec::new();
        let mut used = vec![false; header.len()];
        // The mapping's headers first: a header the mapping gives to one column is no other
        // column's, whatever its name (`appeal_outcome = "Resultat"` keeps it from `decision`).
        let mut mapped_at = [None; COLUMN_COUNT];
        for col in Col::ALL {
            if let Some(name) = mapped.get(&col) {
                let key = header_key(name);
                let at = keys.iter().position(|k| *k == key).ok_or_else(|| {
                    Error::MappedColumnMissing {
                        file: file.to_string(),
                        column: col.name(),
                        header: name.clone(),
                    }
                })?;
                used[at] = true;
                mapped_at[col as usize] = Some(at);
            }
        }
        for col in Col::ALL {
            let hit = if let Some(at) = mapped_at[col as usize] {
                Some((at, Found::Mapping))
            } else {
                let matches: Vec<(usize, Found)> = keys
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !used[*i])
                    .filter_map(|(i, k)| {
                        if k == col.name() {
                            Some((i, Found::Canonical))
                        } else if col.aliases().iter().any(|a| header_key(a) == *k) {
                            Some((i, Found::Alias))
                        } else {
                            None
                        }
                    })
                    .collect();
                if matches.len() > 1 {
                    return Err(Error::AmbiguousColumn {
                        file: file.to_string(),
                        column: col.name(),
                        headers: matches.iter().map(|(i, _)| header[*i].clone()).collect(),
                    });
                }
                matches.into_iter().next()
            };
            match hit {
                Some((at, how)) => {
                    used[at] = true;
                    positions[col as usize] = Some(at);
                    found.push((col, header[at].clone(), how));
                }
                None if col.required() => {
                    return Err(Error::MissingColumn {
                        file: file.to_string(),
                        column: col.name(),
                        note: header_note(header),
                    });
                }
                None => {}
            }
        }
        let extra = header
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .map(|(h, _)| h.clone())
            .collect();
        Ok(ColumnMap {
            positions,
            found,
            extra,
            width: header.len(),
        })
    }

    pub fn position(&self, col: Col) -> Option<usize> {
        self.positions[col as usize]
    }
}

/// What a header that lacks a required column holds, for the error: its names (a name that may
/// hold a CPR number, as when the first row is data, is not shown), and a hint when it is not
/// valid in the encoding it was read in.
pub fn header_note(header: &[String]) -> String {
    let names: Vec<&str> = header
        .iter()
        .take(30)
        .map(|h| crate::input::record::shown_word(h))
        .collect();
    let mut note = format!("; the header holds: {}", names.join(", "));
    if header.len() > names.len() {
        note.push_str(", …");
    }
    if header.iter().any(|h| h.contains('\u{FFFD}')) {
        note.push_str(
            "; it is not valid UTF-8: if the file is Windows-1252, give --encoding windows-1252 (or leave --encoding auto)",
        );
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn danish_aliases_and_case_are_matched() {
        let h = header(&[
            "Sagsnummer",
            " CPR ",
            "Kommunekode",
            "Ydelse",
            "Afgørelse",
            "Afgørelsesdato",
            "Sagsbehandler",
        ]);
        let map = ColumnMap::build("x.csv", &h, &HashMap::new()).unwrap();
        assert_eq!(map.position(Col::CaseId), Some(0));
        assert_eq!(map.position(Col::DecisionDate), Some(5));
        assert_eq!(map.extra, vec!["Sagsbehandler".to_string()]);
    }

    /// Regression: a header the mapping gave to a later column was also matched, by its alias,
    /// to an earlier one (`Resultat` is an alias of `decision`), or made that column ambiguous.
    #[test]
    fn a_header_mapped_to_one_column_is_not_matched_to_another_by_alias() {
        let h = header(&[
            "Sagsnummer",
            "CPR",
            "Kommunekode",
            "Ydelse",
            "Afgørelse",
            "Afgørelsesdato",
            "Resultat",
        ]);
        let mapped = HashMap::from([(Col::AppealOutcome, "Resultat".to_string())]);
        let map = ColumnMap::build("x.csv", &h, &mapped).unwrap();
        assert_eq!(map.position(Col::Decision), Some(4));
        assert_eq!(map.position(Col::AppealOutcome), Some(6));
        assert!(map.extra.is_empty());
    }

    #[test]
    fn a_missing_required_column_names_file_and_column() {
        let h = header(&["case_id", "cpr", "municipality_code", "benefit", "decision"]);
        let err = ColumnMap::build("export.csv", &h, &HashMap::new()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("export.csv")
                && text.contains("decision_date")
                && text.contains("--mapping"),
            "{text}"
        );
    }
}
