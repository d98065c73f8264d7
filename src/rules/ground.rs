//! The ground of a refusal, G (SPEC §4 step 5): which grounds the reason codes and the refusal text
//! name, by one pattern table over folded Danish.

use super::case::{Case, ReasonCode};
use aho_corasick::{AhoCorasick, MatchKind};

use super::text::fold;

/// What the refusal rested on, as far as the record tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ground {
    /// The programme requirement (§ 16) is named.
    Cited,
    /// Another recognised ground is named, the programme is not.
    NotCited,
    /// Nothing recognisable: empty, only OTHER, or text that matches no ground.
    Unknown,
}

impl Ground {
    pub fn code(self) -> &'static str {
        match self {
            Ground::Cited => "CITED",
            Ground::NotCited => "NOT_CITED",
            Ground::Unknown => "UNKNOWN",
        }
    }
}

/// The built-in patterns, folded (see [`fold`]). A pattern that ends in a digit matches only where
/// no further digit follows, so `§ 16` does not match `§ 160`.
pub const BUILT_IN: &[(ReasonCode, &str)] = &[
    // The programme under integrationsloven § 16, by each of its names. "selvforsørgelses- og
    // hjemrejseprogram" is caught by "hjemrejseprogram"; a bare "§ 16" in a danskbonus refusal is
    // integrationslovens.
    (ReasonCode::Program, "introduktionsprogram"),
    (ReasonCode::Program, "integrationsprogram"),
    (ReasonCode::Program, "hjemrejseprogram"),
    (ReasonCode::Program, "omfattet af programmet"),
    (ReasonCode::Program, "§ 16"),
    // C2: help under aktivloven §§ 22-25. "selvforsørgelses- og hjemrejseydelse" is this, not
    // the programme.
    (ReasonCode::NotSelfSupporting, "ikke selvforsoergende"),
    (ReasonCode::NotSelfSupporting, "kontanthjaelp"),
    (ReasonCode::NotSelfSupporting, "uddannelseshjaelp"),
    (ReasonCode::NotSelfSupporting, "integrationsydelse"),
    (ReasonCode::NotSelfSupporting, "hjemrejseydelse"),
    (ReasonCode::NotSelfSupporting, "overgangsydelse"),
    (ReasonCode::NotSelfSupporting, "aktivlovens §§ 22-25"),
    (ReasonCode::NotSelfSupporting, "aktivlovens § 22-25"),
    // C3: the Danish test.
    (ReasonCode::NoExam, "ikke bestaaet"),
    (ReasonCode::NoExam, "ingen danskproeve"),
    // C4: danskbonus or dansktillæg obtained before.
    (ReasonCode::PriorBonus, "tidligere faaet"),
    (ReasonCode::PriorBonus, "tidligere modtaget"),
    (ReasonCode::PriorBonus, "tidligere opnaaet"),
    // C1: integrationsloven § 2, stk. 2-4.
    (ReasonCode::NotCoveredPerson, "ikke flygtning"),
    (ReasonCode::NotCoveredPerson, "ikke familiesammenfoert"),
    (ReasonCode::NotCoveredPerson, "§ 2, stk. 2"),
    (ReasonCode::NotCoveredPerson, "§ 2, stk. 3"),
    (ReasonCode::NotCoveredPerson, "§ 2, stk. 4"),
];

/// The pattern table in force: the built-in patterns and any from the mapping file. The table
/// stays a plain list (see [`BUILT_IN`]); it is matched by one Aho-Corasick automaton over all of
/// its patterns, built when the table changes, so a text is read once however many patterns.
#[derive(Debug, Clone)]
pub struct Patterns {
    entries: Vec<(ReasonCode, String)>,
    automaton: AhoCorasick,
    /// Tells this table from every other made in the process (a copy keeps it): what a caller
    /// keeps of [`TextGrounds::named_in`] is kept per table.
    id: u64,
}

/// Where step 5 learns which grounds a refusal text names: the pattern table itself, or what a
/// caller keeps of its answers (the same text always names the same grounds).
pub trait TextGrounds {
    /// Adds the grounds `text` names, in the order of the table, to `named`.
    fn named_in(&self, text: &str, named: &mut Vec<ReasonCode>);
}

impl TextGrounds for Patterns {
    fn named_in(&self, text: &str, named: &mut Vec<ReasonCode>) {
        named.extend(self.grounds_in(text));
    }
}

impl Default for Patterns {
    fn default() -> Self {
        Patterns::new(BUILT_IN.iter().map(|&(g, p)| (g, p.to_string())).collect())
    }
}

impl Patterns {
    fn new(entries: Vec<(ReasonCode, String)>) -> Patterns {
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(entries.iter().map(|(_, p)| p))
            .expect("a few short patterns fit any automaton");
        static TABLES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = TABLES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Patterns {
            entries,
            automaton,
            id,
        }
    }

    /// This table's number: two tables with one number hold the same patterns.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Adds a pattern (folded like the text it is matched against).
    pub fn add(&mut self, ground: ReasonCode, pattern: &str) {
        let folded = fold(pattern);
        if !folded.is_empty() {
            let mut entries = std::mem::take(&mut self.entries);
            entries.push((ground, folded));
            *self = Patterns::new(entries);
        }
    }

    pub fn entries(&self) -> impl Iterator<Item = (ReasonCode, &str)> {
        self.entries.iter().map(|(g, p)| (*g, p.as_str()))
    }

    /// Which patterns of the table a folded text holds (a pattern ending in a digit only where
    /// no further digit follows), by table position.
    fn matched(&self, folded: &str) -> Vec<bool> {
        let mut matched = vec![false; self.entries.len()];
        for m in self.automaton.find_overlapping_iter(folded) {
            let pattern = m.pattern().as_usize();
            if !matched[pattern] && bounded(folded, &self.entries[pattern].1, m.end()) {
                matched[pattern] = true;
            }
        }
        matched
    }

    /// The grounds a refusal text names, in the order of the table.
    pub fn grounds_in(&self, text: &str) -> Vec<ReasonCode> {
        let mut found = Vec::new();
        if text.trim().is_empty() {
            return found;
        }
        let matched = self.matched(&fold(text));
        for ((ground, _), hit) in self.entries.iter().zip(matched) {
            if hit && !found.contains(ground) {
                found.push(*ground);
            }
        }
        found
    }
}

impl Patterns {
    /// Every pattern a refusal text matches, with its ground, in table order (for `explain`).
    pub fn matches_in(&self, text: &str) -> Vec<(ReasonCode, &str)> {
        if text.trim().is_empty() {
            return Vec::new();
        }
        let matched = self.matched(&fold(text));
        self.entries
            .iter()
            .zip(matched)
            .filter(|(_, hit)| *hit)
            .map(|((ground, pattern), _)| (*ground, pattern.as_str()))
            .collect()
    }
}

/// Whether a match of `pattern` ending at `end` counts: a pattern that ends in a digit does not
/// match where a further digit follows, so `§ 16` is not found in `§ 160`.
fn bounded(text: &str, pattern: &str, end: usize) -> bool {
    !pattern.ends_with(|c: char| c.is_ascii_digit())
        || !text[end..].starts_with(|c: char| c.is_ascii_digit())
}

/// The plain reading of the table, one pattern at a time: what the automaton must equal.
#[cfg(test)]
fn contains_bounded(text: &str, pattern: &str) -> bool {
    let needs_bound = pattern.ends_with(|c: char| c.is_ascii_digit());
    text.match_indices(pattern).any(|(at, _)| {
        !needs_bound || !text[at + pattern.len()..].starts_with(|c: char| c.is_ascii_digit())
    })
}

/// The finding of step 5: G, and every ground named (codes and text together, sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroundFinding {
    pub ground: Ground,
    pub named: Vec<ReasonCode>,
}

/// SPEC §4 step 5: `CITED` if the codes or the text name the programme; `NOT_CITED` if they name
/// another recognised ground; `UNKNOWN` otherwise (`OTHER` alone is no recognised ground).
pub fn ground_of(case: &Case, patterns: &(impl TextGrounds + ?Sized)) -> GroundFinding {
    let mut named: Vec<ReasonCode> = case.refusal_reasons.clone();
    patterns.named_in(&case.refusal_text, &mut named);
    named.sort();
    named.dedup();
    let ground = if named.contains(&ReasonCode::Program) {
        Ground::Cited
    } else if named.iter().any(|&g| g != ReasonCode::Other) {
        Ground::NotCited
    } else {
        Ground::Unknown
    };
    GroundFinding { ground, named }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_automaton_finds_what_each_pattern_finds_alone() {
        let mut patterns = Patterns::default();
        patterns.add(ReasonCode::Program, "§ 1");
        patterns.add(ReasonCode::Other, "16");
        let words = [
            "§ 16",
            "§16",
            "§ 160",
            "§ 1",
            "stk. 2",
            "§ 2, stk. 3",
            "ikke",
            "selvforsørgende",
            "hjemrejseprogrammet",
            "hjemrejseydelse",
            "tidligere fået",
            "integrationsprogram",
            "x",
            " ",
            "1",
            "§§ 22-25",
            "aktivlovens",
            "omfattet af programmet",
            "ikke bestået",
        ];
        for a in words {
            for b in words {
                for c in ["", " ", "6", "§ 2, stk. 4"] {
                    let text = format!("{a}{c}{b}");
                    let folded = fold(&text);
                    let plain: Vec<(ReasonCode, &str)> = patterns
                        .entries()
                        .filter(|(_, p)| contains_bounded(&folded, p))
                        .collect();
                    assert_eq!(patterns.matches_in(&text), plain, "{text}");
                }
            }
        }
    }
    use super::*;

    fn grounds(text: &str) -> Vec<ReasonCode> {
        Patterns::default().grounds_in(text)
    }

    #[test]
    fn every_name_of_the_programme_is_recognised() {
        for text in [
            "Du har ikke deltaget i introduktionsprogrammet.",
            "Du er ikke omfattet af integrationsprogrammet",
            "Du er ikke i selvforsørgelses- og hjemrejseprogrammet",
            "Du er ikke omfattet af programmet",
            "jf. integrationslovens §16",
            "jf. integrationslovens § 16, stk. 1",
        ] {
            assert_eq!(grounds(text), vec![ReasonCode::Program], "{text}");
        }
    }

    #[test]
    fn hjemrejseydelse_and_not_self_supporting_are_c2_not_the_programme() {
        assert_eq!(
            grounds("Du modtager selvforsørgelses- og hjemrejseydelse"),
            vec![ReasonCode::NotSelfSupporting]
        );
        assert_eq!(
            grounds("Du er ikke selvforsørgende"),
            vec![ReasonCode::NotSelfSupporting]
        );
    }

    #[test]
    fn letters_spelled_out_match_too() {
        assert_eq!(
            grounds("ikke selvforsoergende"),
            vec![ReasonCode::NotSelfSupporting]
        );
        assert_eq!(
            grounds("Proeven er ikke bestaaet"),
            vec![ReasonCode::NoExam]
        );
        assert_eq!(
            grounds("Du har tidligere faaet danskbonus"),
            vec![ReasonCode::PriorBonus]
        );
    }

    #[test]
    fn a_longer_paragraph_number_is_not_section_16() {
        assert!(grounds("jf. § 160").is_empty());
        assert!(grounds("integrationslovens § 22").is_empty());
    }

    #[test]
    fn extra_patterns_from_the_mapping_count() {
        let mut patterns = Patterns::default();
        patterns.add(ReasonCode::Program, "Ikke deltaget i forløb");
        assert_eq!(
            patterns.grounds_in("Du har IKKE deltaget i forløb"),
            vec![ReasonCode::Program]
        );
    }
}
