//! The grounds each refusal text names (SPEC §4 step 5), kept per thread for the texts met
//! again: an export writes most refusals from a few standard letters, and matching a text
//! against the pattern table costs more than the rest of its row's rules.

use std::cell::RefCell;

use xxhash_rust::xxh3::xxh3_64;

use crate::rules::case::ReasonCode;
use crate::rules::ground::{Patterns, TextGrounds};

/// A pattern table whose answers each thread keeps: the same text names the same grounds.
#[derive(Clone, Copy)]
pub(super) struct Kept<'a>(pub(super) &'a Patterns);

/// Texts kept per thread, at most: when full, what is kept is let go and kept anew.
const KEPT_MAX: usize = 4096;

/// Longer texts are matched each time (written for the case, they are seldom met again).
const KEPT_LONGEST: usize = 1024;

/// One thread's answers: of the table numbered `table`, by the text's hash.
#[derive(Default)]
struct Answers {
    table: Option<u64>,
    /// By XXH3, itself a hash: `FxHash` only spreads it (SipHash on top cost as much again).
    by_text: rustc_hash::FxHashMap<u64, (Box<str>, Vec<ReasonCode>)>,
}

thread_local! {
    static ANSWERS: RefCell<Answers> = RefCell::default();
}

impl TextGrounds for Kept<'_> {
    fn named_in(&self, text: &str, named: &mut Vec<ReasonCode>) {
        let patterns = self.0;
        if text.is_empty() || text.len() > KEPT_LONGEST {
            return patterns.named_in(text, named);
        }
        ANSWERS.with_borrow_mut(|answers| {
            if answers.table != Some(patterns.id()) {
                answers.by_text.clear();
                answers.table = Some(patterns.id());
            }
            let key = xxh3_64(text.as_bytes());
            match answers.by_text.get(&key) {
                Some((kept, grounds)) if **kept == *text => named.extend_from_slice(grounds),
                // Another text with the same hash is kept: this one is matched each time.
                Some(_) => patterns.named_in(text, named),
                None => {
                    let grounds = patterns.grounds_in(text);
                    named.extend_from_slice(&grounds);
                    if answers.by_text.len() >= KEPT_MAX {
                        answers.by_text.clear();
                    }
                    answers.by_text.insert(key, (text.into(), grounds));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn named(grounds: &dyn TextGrounds, text: &str) -> Vec<ReasonCode> {
        let mut named = Vec::new();
        grounds.named_in(text, &mut named);
        named
    }

    /// Pieces of refusal texts: patterns of the built-in table, near misses and filler.
    const PIECES: &[&str] = &[
        "Du er ikke i integrationsprogrammet",
        "§ 16",
        "§ 160",
        "modtager kontanthjælp",
        "har ikke bestået Prøve i Dansk 3",
        "tidligere fået danskbonus",
        "Afslag på danskbonus.",
        "\n",
        " ",
        "ikke flygtning",
    ];

    proptest! {
        #[test]
        fn kept_answers_are_the_tables(texts in proptest::collection::vec(
            proptest::collection::vec(0..PIECES.len(), 0..4), 1..40)
        ) {
            let patterns = Patterns::default();
            for pieces in &texts {
                let text: String = pieces.iter().map(|&i| PIECES[i]).collect();
                // Asked twice: the second answer is the kept one.
                prop_assert_eq!(named(&Kept(&patterns), &text), patterns.grounds_in(&text));
                prop_assert_eq!(named(&Kept(&patterns), &text), patterns.grounds_in(&text));
            }
        }
    }

    #[test]
    fn answers_kept_for_one_table_do_not_answer_for_another() {
        let text = "Du har ikke deltaget i forløb hos kommunen";
        let built_in = Patterns::default();
        assert!(named(&Kept(&built_in), text).is_empty());
        let mut mapped = Patterns::default();
        mapped.add(ReasonCode::Program, "deltaget i forløb");
        assert_eq!(named(&Kept(&mapped), text), [ReasonCode::Program]);
        assert!(named(&Kept(&built_in), text).is_empty());
        // A copy holds the same patterns and shares what is kept.
        assert_eq!(mapped.clone().id(), mapped.id());
    }

    #[test]
    fn long_texts_are_matched_each_time() {
        let patterns = Patterns::default();
        let long = format!("{} § 16", "x".repeat(KEPT_LONGEST));
        assert_eq!(named(&Kept(&patterns), &long), [ReasonCode::Program]);
        ANSWERS.with_borrow(|answers| {
            assert!(answers.by_text.values().all(|(kept, _)| **kept != *long));
        });
    }
}
