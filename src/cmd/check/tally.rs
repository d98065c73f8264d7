//! What `check` counts of one input ([`Tally`]): each row read as `scan` reads it
//! ([`records::parse_into`]), tallied by what it is; the tallies of consecutive parts of an
//! input (the pieces of a file read in parallel) add up, in input order, to the tally of the
//! whole, first rejects listed and all.

use std::collections::BTreeMap;

use crate::input::columns::{Col, ColumnMap};
use crate::input::encoding::{Decoding, decode};
use crate::input::record::{Kind, RejectReason, shown_word};
use crate::input::records::{self, Fields};
use crate::input::values::Vocabulary;
use crate::rules::case::Case;

/// Rejects listed one by one per input: a badly broken export can have millions, which the
/// counts by reason sum up and `scan` writes to rejects.csv in full.
pub(super) const LISTED: usize = 200;

/// What one input (or a part of it) turned out to hold.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) rows: u64,
    pub(super) bonus: u64,
    pub(super) other: u64,
    pub(super) caught: BTreeMap<String, u64>,
    pub(super) warnings: BTreeMap<String, u64>,
    /// Per (column, reason): the rows.
    pub(super) rejects_by: BTreeMap<(&'static str, RejectReason), u64>,
    /// Unknown words of `benefit` and `decision`, per column, with their rows.
    pub(super) unknown_words: BTreeMap<(&'static str, String), u64>,
    /// The first [`LISTED`] rejects, by line; `rejected` counts them all.
    pub(super) rejects: Vec<(u64, &'static str, RejectReason)>,
    pub(super) rejected: u64,
}

/// How the rows of one input are read.
pub(super) struct Rows<'a> {
    pub(super) map: &'a ColumnMap,
    pub(super) decoding: Decoding,
    pub(super) vocab: &'a Vocabulary,
}

impl Rows<'_> {
    /// A field's word as `check` shows it: decoded, trimmed (empty when the column is absent).
    fn word(&self, rec: &impl Fields, col: Col) -> String {
        self.map
            .position(col)
            .and_then(|i| rec.get(i))
            .map(|b| decode(b, self.decoding).trim().to_string())
            .unwrap_or_default()
    }
}

impl Tally {
    /// Counts one row, read in full, that starts on `line`; `case` is reused from row to row.
    pub(super) fn row(&mut self, rec: &impl Fields, line: u64, rows: &Rows<'_>, case: &mut Case) {
        self.rows += 1;
        match records::parse_into(rec, rows.map, rows.decoding, rows.vocab, case) {
            Kind::Reject(r) => {
                let column = r.column.map_or("", Col::name);
                *self.rejects_by.entry((column, r.reason)).or_default() += 1;
                if r.reason == RejectReason::UnknownValue {
                    let word = match r.column {
                        Some(col @ (Col::Benefit | Col::Decision)) => rows.word(rec, col),
                        _ => String::new(),
                    };
                    *self
                        .unknown_words
                        .entry((column, shown_word(&word).to_string()))
                        .or_default() += 1;
                }
                self.rejected += 1;
                if self.rejects.len() < LISTED {
                    self.rejects.push((line, column, r.reason));
                }
            }
            Kind::Other { caught } => {
                self.other += 1;
                if caught {
                    self.caught_as(&rows.word(rec, Col::Benefit), 1);
                }
            }
            Kind::Bonus => {
                self.bonus += 1;
                for w in &case.warnings {
                    let code = w.to_string();
                    *self
                        .warnings
                        .entry(shown_word(&code).to_string())
                        .or_default() += 1;
                }
            }
        }
    }

    /// Counts `rows` rows of another benefit whose `benefit` word (decoded and trimmed) only
    /// the catch-all knew, without counting them as rows or as other (the caller does).
    pub(super) fn caught_as(&mut self, word: &str, rows: u64) {
        let shown = shown_word(word);
        match self.caught.get_mut(shown) {
            Some(n) => *n += rows,
            None => {
                self.caught.insert(shown.to_string(), rows);
            }
        }
    }

    /// Adds the tally of the rows that follow this one's, whose lines were counted from the
    /// start of their part: `lines` line ends stand before it.
    pub(super) fn append(&mut self, later: Tally, lines: u64) {
        self.rows += later.rows;
        self.bonus += later.bonus;
        self.other += later.other;
        add_all(&mut self.caught, later.caught);
        add_all(&mut self.warnings, later.warnings);
        add_all(&mut self.rejects_by, later.rejects_by);
        add_all(&mut self.unknown_words, later.unknown_words);
        let room = LISTED.saturating_sub(self.rejects.len());
        let listed = (later.rejects.into_iter().take(room))
            .map(|(line, column, reason)| (line + lines, column, reason));
        self.rejects.extend(listed);
        self.rejected += later.rejected;
    }
}

fn add_all<K: Ord>(to: &mut BTreeMap<K, u64>, from: BTreeMap<K, u64>) {
    for (key, n) in from {
        *to.entry(key).or_default() += n;
    }
}
