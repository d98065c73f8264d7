//! The `benefit` words met in a piece: a row of another benefit is counted by comparing its
//! raw word with those met before, without reading the row.

use std::borrow::Cow;

use super::piece::{Piece, Reading};
use crate::input::columns::Col;
use crate::input::encoding::decode;
use crate::input::record::{self, Parsed};

/// A `benefit` word met in a piece, as its raw bytes: other benefit (`Some(caught)`) or not.
pub(super) struct Word {
    pub(super) raw: Box<[u8]>,
    pub(super) other: Option<bool>,
    pub(super) rows: u64,
}

/// Remembering at most this many words per piece; more are read each time.
const WORDS: usize = 64;

impl Reading<'_> {
    /// Whether a `benefit` word is another benefit's (`Some(caught)`), as [`record::parse`]
    /// reads it first.
    fn other(&self, raw: &[u8]) -> Option<bool> {
        let get = |col: Col| match col {
            Col::Benefit => decode(raw, self.decoding),
            _ => Cow::Borrowed(""),
        };
        match record::parse(get, &self.cfg.vocab) {
            Parsed::Other { caught } => Some(caught),
            _ => None,
        }
    }

    /// A word not met before in the piece: read, and remembered (when there is room).
    #[cold]
    #[inline(never)]
    fn met_first(&self, piece: &mut Piece, raw: &[u8]) -> Option<bool> {
        let other = self.other(raw);
        if piece.words.len() < WORDS {
            piece.words.push(Word {
                raw: raw.into(),
                other,
                rows: u64::from(other.is_some()),
            });
        } else if other == Some(true) {
            *piece.caught.entry(raw.to_vec()).or_default() += 1;
        }
        other
    }

    /// Counts a row of another benefit by its raw `benefit` word; false when the word is not
    /// another benefit's (the row is then read in full).
    #[inline(always)]
    pub(super) fn counted(&self, piece: &mut Piece, raw: &[u8]) -> bool {
        // A plain loop, not `Iterator::find`: the compiler had left `find` a call of its own for
        // each of the 10M rows in one build of this same code (+3 % instructions).
        let mut met = None;
        for word in piece.words.iter_mut() {
            if same_word(&word.raw, raw) {
                if word.other.is_some() {
                    word.rows += 1;
                }
                met = Some(word.other);
                break;
            }
        }
        let other = match met {
            Some(other) => other,
            None => self.met_first(piece, raw),
        };
        if other.is_some() {
            piece.other += 1;
        }
        other.is_some()
    }
}

/// Whether two `benefit` words are the same bytes: a word of up to 16 bytes (all there are, in
/// practice) compared in two overlapping loads a side, without a call to `memcmp` for each of the
/// millions of rows of other benefits.
#[inline(always)]
fn same_word(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let u64_at = |w: &[u8], at: usize| u64::from_le_bytes(w[at..at + 8].try_into().expect("8"));
    let u32_at = |w: &[u8], at: usize| u32::from_le_bytes(w[at..at + 4].try_into().expect("4"));
    match n {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => u32_at(a, 0) == u32_at(b, 0) && u32_at(a, n - 4) == u32_at(b, n - 4),
        8..=16 => u64_at(a, 0) == u64_at(b, 0) && u64_at(a, n - 8) == u64_at(b, n - 8),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::same_word;

    #[test]
    fn words_are_the_same_only_byte_for_byte() {
        let words: [&[u8]; 13] = [
            b"",
            b"A",
            b"B",
            b"ABC",
            b"ABD",
            b"OTHER",
            b"OTHEr",
            b"OTHERS",
            b"IL22",
            b"DANSKTILLAEG",
            b"DANSKTILLAEH",
            b"a_word_of_exactly_16".split_at(16).0,
            b"a much longer benefit word than sixteen bytes",
        ];
        for a in words {
            for b in words {
                assert_eq!(same_word(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }
}
