//! Value words (SPEC §3.1): the built-in canonical and Danish words for each column, matched
//! case-insensitively with Danish letters folded, plus the words of a mapping file on top.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::input::columns::Col;
use crate::rules::case::{Appeal, Benefit, Decision, Exam, PersonCategory, ReasonCode, YesNo};
use crate::rules::text::fold;

/// A canonical value of some column, as a mapping file names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Benefit(Benefit),
    Decision(Decision),
    Person(PersonCategory),
    YesNo(YesNo),
    Exam(Exam),
    Appeal(Appeal),
    Reason(ReasonCode),
}

const BENEFIT: &[(&str, Benefit)] = &[
    ("il22", Benefit::Il22),
    ("aktl22", Benefit::Aktl22),
    ("dansktillaeg", Benefit::Dansktillaeg),
    ("other", Benefit::Other),
];

const DECISION: &[(&str, Decision)] = &[
    ("granted", Decision::Granted),
    ("bevilget", Decision::Granted),
    ("bevilling", Decision::Granted),
    ("imoedekommet", Decision::Granted),
    ("refused", Decision::Refused),
    ("afslag", Decision::Refused),
    ("afslaaet", Decision::Refused),
];

const PERSON: &[(&str, PersonCategory)] = &[
    ("refugee", PersonCategory::Refugee),
    ("flygtning", PersonCategory::Refugee),
    ("family_reunified", PersonCategory::FamilyReunified),
    ("familiesammenfoert", PersonCategory::FamilyReunified),
    ("other", PersonCategory::Other),
];

const YES_NO: &[(&str, YesNo)] = &[
    ("yes", YesNo::Yes),
    ("ja", YesNo::Yes),
    ("no", YesNo::No),
    ("nej", YesNo::No),
];

const EXAM: &[(&str, Exam)] = &[
    ("pd2", Exam::Pd2),
    ("pd3", Exam::Pd3),
    ("studieproeve", Exam::Studieproeve),
    ("fvu_laesning_2", Exam::FvuLaesning2),
    ("fvu_laesning_3", Exam::FvuLaesning3),
    ("fvu_laesning_4", Exam::FvuLaesning4),
    ("pd1", Exam::Pd1),
    ("fvu_laesning_1", Exam::FvuLaesning1),
    ("none", Exam::None),
    ("equivalent", Exam::Equivalent),
];

const APPEAL: &[(&str, Appeal)] = &[
    ("upheld", Appeal::Upheld),
    ("stadfaestet", Appeal::Upheld),
    ("changed", Appeal::Changed),
    ("aendret", Appeal::Changed),
    ("ophaevet", Appeal::Changed),
    ("remitted", Appeal::Remitted),
    ("dismissed", Appeal::Dismissed),
    ("afvist", Appeal::Dismissed),
];

/// A value word folded (see [`fold`]): a plain word of ASCII letters, digits, `_` and `-`, as
/// most exports write them, is only lower-cased, on the stack; anything else goes through
/// `fold`.
fn folded<'a>(field: &'a str, buf: &'a mut [u8; 32]) -> Cow<'a, str> {
    let word = super::trim(field).as_bytes();
    if word.len() <= buf.len() {
        // One pass: copy lower-cased, and see whether every byte is a plain one.
        let mut plain = true;
        for (to, &b) in buf.iter_mut().zip(word) {
            plain &= b.is_ascii_alphanumeric() | (b == b'_') | (b == b'-');
            *to = b.to_ascii_lowercase();
        }
        if plain {
            return Cow::Borrowed(std::str::from_utf8(&buf[..word.len()]).expect("ASCII"));
        }
    }
    Cow::Owned(fold(field))
}

fn lookup<T: Copy>(table: &[(&str, T)], word: &str) -> Option<T> {
    table.iter().find(|(w, _)| *w == word).map(|(_, v)| *v)
}

/// What a field held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read<T> {
    Empty,
    Value(T),
    Unknown,
}

/// The value words in force for a run: built in, plus those of the mapping file.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    /// Mapping-file words per column, folded.
    mapped: HashMap<(Col, String), Value>,
    /// `[values.benefit] "*" = "OTHER"`: every benefit word not otherwise known is OTHER.
    pub benefit_catch_all: bool,
}

impl Vocabulary {
    /// Adds a mapping-file word for a column.
    pub fn add(&mut self, col: Col, word: &str, value: Value) {
        self.mapped.insert((col, fold(word)), value);
    }

    /// The hot path: a word written as in the built-in table but for ASCII case, when no mapping
    /// file words could take precedence. Such a word is plain, so folding it gives the table's
    /// word: the value is the one the folded look-up finds.
    fn exact<T: Copy>(&self, table: &[(&str, T)], field: &str) -> Option<T> {
        if !self.mapped.is_empty() {
            return None;
        }
        table
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(field))
            .map(|(_, v)| *v)
    }

    fn mapped(&self, col: Col, folded: &str) -> Option<Value> {
        if self.mapped.is_empty() {
            return None;
        }
        self.mapped.get(&(col, folded.to_string())).copied()
    }

    /// `benefit`; `Err(word)` names a word caught by the catch-all (it reads as OTHER).
    pub fn benefit(&self, field: &str) -> Read<Result<Benefit, ()>> {
        // The hot path: canonical words as most systems export them.
        match field {
            "OTHER" => return Read::Value(Ok(Benefit::Other)),
            "IL22" => return Read::Value(Ok(Benefit::Il22)),
            _ => {}
        }
        let mut buf = [0; 32];
        let word = folded(field, &mut buf);
        if word.is_empty() {
            return Read::Empty;
        }
        if let Some(Value::Benefit(b)) = self.mapped(Col::Benefit, &word) {
            return Read::Value(Ok(b));
        }
        match lookup(BENEFIT, &word) {
            Some(b) => Read::Value(Ok(b)),
            None if self.benefit_catch_all => Read::Value(Err(())),
            None => Read::Unknown,
        }
    }

    pub fn decision(&self, field: &str) -> Read<Decision> {
        if let Some(d) = self.exact(DECISION, field) {
            return Read::Value(d);
        }
        let mut buf = [0; 32];
        let word = folded(field, &mut buf);
        if word.is_empty() {
            return Read::Empty;
        }
        match self.mapped(Col::Decision, &word) {
            Some(Value::Decision(d)) => Read::Value(d),
            _ => lookup(DECISION, &word).map_or(Read::Unknown, Read::Value),
        }
    }

    fn simple<T: Copy>(
        &self,
        col: Col,
        field: &str,
        table: &[(&str, T)],
        pick: fn(Value) -> Option<T>,
    ) -> Read<T> {
        if field.is_empty() {
            return Read::Empty;
        }
        if let Some(v) = self.exact(table, field) {
            return Read::Value(v);
        }
        let mut buf = [0; 32];
        let word = folded(field, &mut buf);
        if word.is_empty() {
            return Read::Empty;
        }
        if let Some(v) = self.mapped(col, &word).and_then(pick) {
            return Read::Value(v);
        }
        lookup(table, &word).map_or(Read::Unknown, Read::Value)
    }

    pub fn person(&self, field: &str) -> Read<PersonCategory> {
        self.simple(Col::PersonCategory, field, PERSON, |v| match v {
            Value::Person(p) => Some(p),
            _ => None,
        })
    }

    pub fn yes_no(&self, col: Col, field: &str) -> Read<YesNo> {
        self.simple(col, field, YES_NO, |v| match v {
            Value::YesNo(y) => Some(y),
            _ => None,
        })
    }

    pub fn exam(&self, field: &str) -> Read<Exam> {
        self.simple(Col::Exam, field, EXAM, |v| match v {
            Value::Exam(e) => Some(e),
            _ => None,
        })
    }

    /// `appeal_outcome`: any word containing "hjemvis" is REMITTED ("ophævet og hjemvist").
    pub fn appeal(&self, field: &str) -> Read<Appeal> {
        if field.is_empty() {
            return Read::Empty;
        }
        if let Some(a) = self.exact(APPEAL, field) {
            return Read::Value(a);
        }
        let mut buf = [0; 32];
        let word = folded(field, &mut buf);
        if word.is_empty() {
            return Read::Empty;
        }
        if let Some(Value::Appeal(a)) = self.mapped(Col::AppealOutcome, &word) {
            return Read::Value(a);
        }
        if word.contains("hjemvis") {
            return Read::Value(Appeal::Remitted);
        }
        lookup(APPEAL, &word).map_or(Read::Unknown, Read::Value)
    }

    /// One refusal-reason code; `None` for an unknown code (counted as OTHER with a warning).
    pub fn reason(&self, code: &str) -> Option<ReasonCode> {
        if self.mapped.is_empty()
            && let Some(r) = ReasonCode::ALL
                .into_iter()
                .find(|r| r.code().eq_ignore_ascii_case(code))
        {
            return Some(r);
        }
        let mut buf = [0; 32];
        let word = folded(code, &mut buf);
        if let Some(Value::Reason(r)) = self.mapped(Col::RefusalReasons, &word) {
            return Some(r);
        }
        ReasonCode::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(&word))
    }
}

/// The canonical value names a mapping file may give for a column (`[values.<column>]`); empty
/// for a column that has no value words (ids, dates, free text).
pub fn canonical_names(col: Col) -> &'static [&'static str] {
    match col {
        Col::Benefit => &["IL22", "AKTL22", "DANSKTILLAEG", "OTHER"],
        Col::Decision => &["GRANTED", "REFUSED"],
        Col::PersonCategory => &["REFUGEE", "FAMILY_REUNIFIED", "OTHER"],
        Col::Program | Col::PublicAssistance | Col::PriorBonus => &["YES", "NO"],
        Col::Exam => &[
            "PD2",
            "PD3",
            "STUDIEPROEVE",
            "FVU_LAESNING_2",
            "FVU_LAESNING_3",
            "FVU_LAESNING_4",
            "PD1",
            "FVU_LAESNING_1",
            "NONE",
            "EQUIVALENT",
        ],
        Col::AppealOutcome => &["UPHELD", "CHANGED", "REMITTED", "DISMISSED"],
        Col::RefusalReasons => &[
            "PROGRAM",
            "NOT_SELF_SUPPORTING",
            "NO_EXAM",
            "PRIOR_BONUS",
            "NOT_COVERED_PERSON",
            "OTHER",
        ],
        _ => &[],
    }
}

/// Parses a canonical value name as a mapping file writes it (`"REFUSED"`) for a column; only the
/// names of [`canonical_names`] are accepted, never a Danish word.
pub fn canonical_value(col: Col, name: &str) -> Option<Value> {
    let name = name.trim();
    if !canonical_names(col)
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
    {
        return None;
    }
    let word = name.to_ascii_lowercase();
    match col {
        Col::Benefit => lookup(BENEFIT, &word).map(Value::Benefit),
        Col::Decision => lookup(DECISION, &word).map(Value::Decision),
        Col::PersonCategory => lookup(PERSON, &word).map(Value::Person),
        Col::Program | Col::PublicAssistance | Col::PriorBonus => {
            lookup(YES_NO, &word).map(Value::YesNo)
        }
        Col::Exam => lookup(EXAM, &word).map(Value::Exam),
        Col::AppealOutcome => lookup(APPEAL, &word).map(Value::Appeal),
        Col::RefusalReasons => ReasonCode::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(&word))
            .map(Value::Reason),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_folding_of_plain_words_is_the_folding() {
        for word in [
            "REFUSED",
            " Afslag ",
            "pd2",
            "FVU_LAESNING_2",
            "fvu-læsning-2",
            "Afslået",
            "ja",
            "ophævet og hjemvist",
            "§16",
            "stk.2",
            "a  b",
            "",
            "   ",
            "X1-y_2",
            "ÆØÅ",
            "\tNEJ\n",
            "a_very_long_word_of_more_than_thirty_two_bytes",
        ] {
            let mut buf = [0; 32];
            assert_eq!(folded(word, &mut buf), fold(word), "{word:?}");
        }
    }

    #[test]
    fn danish_words_read_as_canonical_values() {
        let v = Vocabulary::default();
        assert_eq!(v.decision(" Afslag "), Read::Value(Decision::Refused));
        assert_eq!(v.decision("AFSLÅET"), Read::Value(Decision::Refused));
        assert_eq!(v.decision("Imødekommet"), Read::Value(Decision::Granted));
        assert_eq!(
            v.decision("afvist"),
            Read::Unknown,
            "afvist is deliberately not built in"
        );
        assert_eq!(
            v.person("Familiesammenført"),
            Read::Value(PersonCategory::FamilyReunified)
        );
        assert_eq!(v.yes_no(Col::Program, "Ja"), Read::Value(YesNo::Yes));
        assert_eq!(
            v.appeal("Ophævet og hjemvist"),
            Read::Value(Appeal::Remitted)
        );
        assert_eq!(v.appeal("Ophævet"), Read::Value(Appeal::Changed));
        assert_eq!(v.appeal("Stadfæstet"), Read::Value(Appeal::Upheld));
        assert_eq!(v.exam("fvu_læsning_2"), Read::Value(Exam::FvuLaesning2));
    }

    #[test]
    fn the_catch_all_reads_unknown_benefits_as_other() {
        let mut v = Vocabulary::default();
        assert_eq!(v.benefit("Boligstøtte"), Read::Unknown);
        v.benefit_catch_all = true;
        assert_eq!(v.benefit("Boligstøtte"), Read::Value(Err(())));
        assert_eq!(v.benefit("il22"), Read::Value(Ok(Benefit::Il22)));
    }

    #[test]
    fn every_canonical_name_parses_and_danish_words_do_not() {
        for col in Col::ALL {
            for name in canonical_names(col) {
                assert!(
                    canonical_value(col, name).is_some(),
                    "{} {name}",
                    col.name()
                );
            }
        }
        assert_eq!(canonical_value(Col::Decision, "afslag"), None);
        assert_eq!(canonical_value(Col::Program, "ja"), None);
        assert_eq!(canonical_value(Col::CaseId, "YES"), None);
    }

    #[test]
    fn mapped_words_come_on_top() {
        let mut v = Vocabulary::default();
        v.add(
            Col::Decision,
            "Afslået helt",
            Value::Decision(Decision::Refused),
        );
        assert_eq!(v.decision("afslaaet HELT"), Read::Value(Decision::Refused));
    }

    #[test]
    fn a_mapped_word_wins_over_a_built_in_one_written_plainly() {
        let mut v = Vocabulary::default();
        v.add(Col::Decision, "refused", Value::Decision(Decision::Granted));
        v.add(Col::Program, "YES", Value::YesNo(YesNo::No));
        v.add(Col::AppealOutcome, "upheld", Value::Appeal(Appeal::Changed));
        v.add(
            Col::RefusalReasons,
            "program",
            Value::Reason(ReasonCode::Other),
        );
        assert_eq!(v.decision("REFUSED"), Read::Value(Decision::Granted));
        assert_eq!(v.yes_no(Col::Program, "yes"), Read::Value(YesNo::No));
        assert_eq!(v.yes_no(Col::PriorBonus, "YES"), Read::Value(YesNo::Yes));
        assert_eq!(v.appeal("UPHELD"), Read::Value(Appeal::Changed));
        assert_eq!(v.reason("PROGRAM"), Some(ReasonCode::Other));
    }

    #[test]
    fn every_built_in_word_reads_the_same_in_any_case() {
        let v = Vocabulary::default();
        let spellings = |w: &str| {
            let mut first = w.to_string();
            first[..1].make_ascii_uppercase();
            [
                w.to_string(),
                w.to_ascii_uppercase(),
                first,
                format!(" {w} "),
            ]
        };
        for (w, d) in DECISION {
            for s in spellings(w) {
                assert_eq!(v.decision(&s), Read::Value(*d), "{s:?}");
            }
        }
        for (table, col) in [(YES_NO, Col::Program), (YES_NO, Col::PublicAssistance)] {
            for (w, y) in table {
                for s in spellings(w) {
                    assert_eq!(v.yes_no(col, &s), Read::Value(*y), "{s:?}");
                }
            }
        }
        for (w, p) in PERSON {
            for s in spellings(w) {
                assert_eq!(v.person(&s), Read::Value(*p), "{s:?}");
            }
        }
        for (w, e) in EXAM {
            for s in spellings(w) {
                assert_eq!(v.exam(&s), Read::Value(*e), "{s:?}");
            }
        }
        for (w, a) in APPEAL {
            for s in spellings(w) {
                assert_eq!(v.appeal(&s), Read::Value(*a), "{s:?}");
            }
        }
        for r in ReasonCode::ALL {
            for s in spellings(&r.code().to_ascii_lowercase()) {
                assert_eq!(v.reason(s.trim()), Some(r), "{s:?}");
            }
        }
        assert_eq!(v.yes_no(Col::Program, ""), Read::Empty);
        assert_eq!(v.yes_no(Col::Program, "  "), Read::Empty);
        assert_eq!(v.appeal(""), Read::Empty);
        assert_eq!(v.decision(""), Read::Empty);
        assert_eq!(v.exam("PD 2"), Read::Unknown);
    }
}
