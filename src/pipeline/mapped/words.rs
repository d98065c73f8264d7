//! The `benefit` words met in a piece: a row of another benefit is counted by finding its raw
//! word among those met before, in a small table, without reading the row.

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
const WORDS: usize = 128;

/// Slots of the table the words are found by: twice the words, so that a word is seldom more
/// than a slot or two from where its hash puts it, and a slot is always free (a lookup ends).
/// A power of two: a slot is the hash's top bits.
const SLOTS: usize = 2 * WORDS;
const _: () = assert!(SLOTS.is_power_of_two() && WORDS < SLOTS && WORDS < 256);

/// The words met in a piece, in the order met, and a table of where each stands. An export
/// names dozens of other benefits: looking a row's word up among them one by one had cost 170
/// instructions a row with 40 words (callgrind), against a few with the table.
pub(super) struct Words {
    pub(super) met: Vec<Word>,
    /// Open addressing over [`slot_of`]: a word's position in `met` plus one, 0 for none.
    slots: [u8; SLOTS],
    /// The word found last, looked at first: rows of one benefit often follow each other, and
    /// an export of few words then costs one comparison a row, as before the table.
    last: usize,
}

impl Words {
    pub(super) fn new() -> Words {
        Words {
            met: Vec::new(),
            slots: [0; SLOTS],
            last: 0,
        }
    }

    /// Keeps a word not met before in the empty `slot` [`Words::find`] gave for it; false when
    /// there is no more room.
    fn remember(&mut self, slot: usize, word: Word) -> bool {
        if self.met.len() == WORDS {
            return false;
        }
        self.met.push(word);
        self.slots[slot] = self.met.len() as u8;
        true
    }

    /// The word's position in `met`, or the empty slot where it goes.
    #[inline(always)]
    fn find(&mut self, raw: &[u8]) -> Result<usize, usize> {
        if self
            .met
            .get(self.last)
            .is_some_and(|w| same_word(&w.raw, raw))
        {
            return Ok(self.last);
        }
        let mut slot = slot_of(raw);
        loop {
            match self.slots[slot] {
                0 => return Err(slot),
                at if same_word(&self.met[usize::from(at) - 1].raw, raw) => {
                    self.last = usize::from(at) - 1;
                    return Ok(self.last);
                }
                _ => slot = (slot + 1) % SLOTS,
            }
        }
    }
}

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

    /// A word not met before in the piece (`slot` is where it goes in the table): read, and
    /// remembered (when there is room).
    #[cold]
    #[inline(never)]
    fn met_first(&self, piece: &mut Piece, raw: &[u8], slot: usize) -> Option<bool> {
        let other = self.other(raw);
        let word = Word {
            raw: raw.into(),
            other,
            rows: u64::from(other.is_some()),
        };
        if !piece.words.remember(slot, word) && other == Some(true) {
            *piece.caught.entry(raw.to_vec()).or_default() += 1;
        }
        other
    }

    /// Counts a row of another benefit by its raw `benefit` word; false when the word is not
    /// another benefit's (the row is then read in full).
    #[inline(always)]
    pub(super) fn counted(&self, piece: &mut Piece, raw: &[u8]) -> bool {
        let other = match piece.words.find(raw) {
            Ok(at) => {
                let word = &mut piece.words.met[at];
                if word.other.is_some() {
                    word.rows += 1;
                }
                word.other
            }
            Err(slot) => self.met_first(piece, raw, slot),
        };
        if other.is_some() {
            piece.other += 1;
        }
        other.is_some()
    }
}

/// The table slot a word's hash puts it in: from its length and the same two loads
/// [`same_word`] compares, mixed by one multiplication.
#[inline(always)]
fn slot_of(w: &[u8]) -> usize {
    let n = w.len();
    let (a, b) = match n {
        0..4 => (w.iter().fold(0u64, |h, &c| h << 8 | u64::from(c)), 0),
        4..8 => (u64::from(u32_at(w, 0)), u64::from(u32_at(w, n - 4))),
        _ => (u64_at(w, 0), u64_at(w, n - 8)),
    };
    let h = (a ^ b.rotate_left(32) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> (64 - SLOTS.trailing_zeros())) as usize
}

fn u64_at(w: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(w[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(w: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(w[at..at + 4].try_into().expect("4 bytes"))
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
    match n {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => u32_at(a, 0) == u32_at(b, 0) && u32_at(a, n - 4) == u32_at(b, n - 4),
        8..=16 => u64_at(a, 0) == u64_at(b, 0) && u64_at(a, n - 8) == u64_at(b, n - 8),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_remembered_is_found_and_no_other() {
        let word = |k: usize| match k % 3 {
            0 => format!("YDELSE{k}"),
            1 => format!("Y{k}"),
            _ => format!("en ydelse med et langt navn nr. {k}"),
        };
        let mut words = Words::new();
        for k in 0..WORDS {
            let raw = word(k);
            let Err(slot) = words.find(raw.as_bytes()) else {
                panic!("{raw} found before it was remembered");
            };
            let kept = Word {
                raw: raw.as_bytes().into(),
                other: Some(false),
                rows: 0,
            };
            assert!(words.remember(slot, kept));
        }
        for k in 0..WORDS {
            assert_eq!(words.find(word(k).as_bytes()), Ok(k), "{}", word(k));
        }
        for k in WORDS..4 * WORDS {
            let raw = word(k);
            let Err(slot) = words.find(raw.as_bytes()) else {
                panic!("{raw} found but never remembered");
            };
            let more = Word {
                raw: raw.as_bytes().into(),
                other: None,
                rows: 0,
            };
            assert!(!words.remember(slot, more), "no room past {WORDS} words");
        }
    }

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
