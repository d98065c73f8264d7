//! One row of the lists (`audit.csv`, `reopen.csv`, `review.csv`) as it is written: the columns
//! of SPEC §5 from `case_id` on, encoded, and what the counts need of it. Made in parallel where
//! the row is classified; its `source` and `line` are written before it in input order.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};

use crate::input::columns::Col;
use crate::input::dates::{parse_date, push_iso};
use crate::output::lists::RowEncoder;
use crate::output::pseudonym::Pseudonymizer;
use crate::rules::case::{Case, YesNo};
use crate::rules::explain::{explanation, explanation_key};
use crate::rules::{self, Authority, Classification, Evaluation, Rule};

/// A classified row, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rendered {
    /// The row from `case_id` to its line end, as the lists write it.
    pub(super) tail: Tail,
    pub(super) classification: Classification,
    pub(super) outcome: Option<rules::Outcome>,
    pub(super) rule: Rule,
    /// `case_id` and `decided_by`, for the REOPEN and REVIEW rows only (the ledger's cases and
    /// the counts per authority).
    pub(super) listed: Option<(Box<str>, Authority)>,
    pub(super) year: Option<i32>,
}

/// Where a rendered row's bytes are: its own, or among the rows of the piece of a mapped input
/// it was read in ([`Tails`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tail {
    Own(Vec<u8>),
    In {
        block: usize,
        start: usize,
        end: usize,
    },
}

impl Rendered {
    /// The row's bytes; `tails` are those of its piece, if it has one.
    pub(super) fn tail<'t>(&'t self, tails: &'t Tails) -> &'t [u8] {
        match &self.tail {
            Tail::Own(tail) => tail,
            &Tail::In { block, start, end } => &tails.blocks[block][start..end],
        }
    }

    /// The row's bytes, of a row rendered on its own (not among the rows of a piece).
    pub(super) fn into_tail(self) -> Vec<u8> {
        match self.tail {
            Tail::Own(tail) => tail,
            Tail::In { .. } => self.tail(Tails::NONE).to_vec(),
        }
    }
}

/// The rendered rows of one piece of a mapped input, one after the other in blocks: the piece
/// is read on one thread and written on another, and with a buffer for each row, made on the
/// one and freed on the other, the allocator had taken 4.7 % of the processor time of a 10M-row
/// scan on 2 threads (2.2 % with the blocks; `perf`).
/// Emptied once the piece is written ([`Tails::clear`]), the blocks are used again by a piece
/// to come. Blocks, not one buffer: a piece of bonus-related rows only renders three times its
/// bytes, which a buffer doubling as it grows would have copied and held up to twice over.
#[derive(Debug, Default)]
pub(super) struct Tails {
    blocks: Vec<Vec<u8>>,
    /// The blocks in use: `blocks[..used]` (the rest are empty, kept for their room).
    used: usize,
}

/// A block's room; a row is begun in the next block when fewer than [`ROW_ROOM`] bytes are left
/// (a longer row grows its block).
const BLOCK: usize = 64 << 10;
const ROW_ROOM: usize = 2 << 10;

impl Tails {
    pub(super) const NONE: &'static Tails = &Tails {
        blocks: Vec::new(),
        used: 0,
    };

    /// The block the next row is written at the end of, and its number.
    fn for_row(&mut self) -> (usize, &mut Vec<u8>) {
        let fits = self.used > 0 && {
            let last = &self.blocks[self.used - 1];
            last.capacity() - last.len() >= ROW_ROOM
        };
        if !fits {
            if self.used == self.blocks.len() {
                self.blocks.push(Vec::with_capacity(BLOCK));
            }
            self.used += 1;
        }
        let at = self.used - 1;
        (at, &mut self.blocks[at])
    }

    /// Empties the blocks, keeping them for the rows of another piece.
    pub(super) fn clear(&mut self) {
        for block in &mut self.blocks[..self.used] {
            block.clear();
        }
        self.used = 0;
    }
}

/// How rows are rendered: the lists' delimiter and the CPR pseudonyms.
#[derive(Clone, Copy)]
pub(super) struct Style<'a> {
    pub(super) excel: bool,
    pub(super) pseudonymize: Option<&'a Pseudonymizer>,
}

impl Style<'_> {
    fn delimiter(self) -> u8 {
        if self.excel { b';' } else { b',' }
    }

    /// The `source` and `line` columns, with the delimiter after them: `source` is encoded once
    /// per input (`encoded_source`).
    pub(super) fn head(self, encoded_source: &[u8], line: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(encoded_source);
        out.push(self.delimiter());
        push_number(out, line);
        out.push(self.delimiter());
    }

    /// An input's name as the `source` column holds it (quoted where the lists need it).
    pub(super) fn encoded_source(self, name: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(name.len() + 3);
        RowEncoder::new(self.excel).encode_into(&[name], &mut out);
        out.pop(); // the line end
        out
    }

    /// A bonus-related row classified with `eval`; written among `tails` when given.
    pub(super) fn bonus(
        self,
        case: &Case,
        eval: &Evaluation,
        tails: Option<&mut Tails>,
    ) -> Rendered {
        self.render(
            Identity {
                case_id: &case.case_id,
                cpr: &case.cpr,
                municipality_code: &case.municipality_code,
                application_date: case.application_date,
                decision_date: Some(case.decision_date),
            },
            eval,
            tails,
        )
    }

    /// A row of another benefit (with `--audit-all`): out of scope, not validated; `field` gives
    /// its canonical columns as read.
    pub(super) fn other<'f>(self, field: impl Fn(Col) -> Cow<'f, str>) -> Rendered {
        let eval = Evaluation {
            classification: Classification::OutOfScope,
            outcome: None,
            rule: Rule::Scope,
            finding: None,
            warnings: Vec::new(),
            decided_by: Authority::of(&field(Col::MunicipalityCode), None),
            path: rules::Path::NotIl22,
        };
        let date = |col: Col| parse_date(&field(col)).ok().flatten();
        self.render(
            Identity {
                case_id: field(Col::CaseId).trim(),
                cpr: field(Col::Cpr).trim(),
                municipality_code: field(Col::MunicipalityCode).trim(),
                application_date: date(Col::ApplicationDate),
                decision_date: date(Col::DecisionDate),
            },
            &eval,
            None,
        )
    }

    fn render(self, id: Identity<'_>, eval: &Evaluation, tails: Option<&mut Tails>) -> Rendered {
        let finding = eval.finding.as_ref();
        let condition = |pick: fn(&rules::Conditions) -> rules::Condition| {
            finding.map_or("", |f| pick(&f.conditions).code())
        };
        let cpr: Cow<str> = match self.pseudonymize {
            Some(key) => Cow::Owned(key.pseudonym(id.cpr)),
            None => Cow::Borrowed(id.cpr),
        };
        // Written after its piece's rows; else in this thread's buffer, then copied at its
        // size: a row kept waits to be written, and a file of bonus-related rows holds hundreds
        // of thousands of them at once (`Vec::with_capacity(512)` here had peaked a 1M-row file
        // of them at 223-226 MB; copied at size, 201-205 MB).
        let mut block = None;
        let mut own = Vec::new();
        let tail = match tails {
            Some(tails) => {
                let (at, tail) = tails.for_row();
                block = Some(at);
                tail
            }
            None => {
                own = TAIL.take();
                own.clear();
                &mut own
            }
        };
        let start = tail.len();
        let mut row = Row {
            encoder: RowEncoder::new(self.excel),
            out: tail,
            fields: 0,
        };
        row.text(id.case_id);
        row.text(&cpr);
        row.text(id.municipality_code);
        row.next();
        // Built from a validated code only (`Authority::of`): never quoted.
        eval.decided_by.push_to(row.out);
        let listed = matches!(
            eval.classification,
            Classification::Reopen | Classification::Review
        )
        .then(|| (Box::from(id.case_id), eval.decided_by.clone()));
        row.date(id.application_date);
        row.date(id.decision_date);
        row.code(eval.classification.code());
        row.code(eval.outcome.map_or("", |o| o.code()));
        row.code(eval.rule.code());
        row.code(condition(|c| c.c1_person));
        row.code(condition(|c| c.c2_self_supporting));
        row.code(condition(|c| c.c3_exam));
        row.code(condition(|c| c.c4_first_time));
        row.code(finding.map_or("", |f| f.ground.ground.code()));
        row.code(finding.map_or("", |f| match f.program {
            Some(YesNo::Yes) => "YES",
            Some(YesNo::No) => "NO",
            None => "UNKNOWN",
        }));
        // A warning may carry words of the export (`UNKNOWN_REASON_CODE:<code>`). Written
        // into one string, which most rows, without warnings, never allocate.
        let mut warnings = String::new();
        for (k, warning) in eval.warnings.iter().enumerate() {
            if k > 0 {
                warnings.push('|');
            }
            let _ = write!(warnings, "{warning}");
        }
        row.text(&warnings);
        row.explanation(eval);
        row.out.push(b'\n');
        let end = row.out.len();
        let tail = match block {
            // A row longer than the room left grows its block: the range holds however long.
            Some(block) => Tail::In { block, start, end },
            None => {
                let exact = own.clone();
                TAIL.set(own);
                Tail::Own(exact)
            }
        };
        Rendered {
            tail,
            classification: eval.classification,
            outcome: eval.outcome,
            rule: eval.rule,
            listed,
            year: id.decision_date.map(|d| d.year()),
        }
    }
}

/// A list row being written field by field, as [`RowEncoder::encode_into`] writes it.
struct Row<'o> {
    encoder: RowEncoder,
    out: &'o mut Vec<u8>,
    fields: usize,
}

impl Row<'_> {
    /// Starts the next field: the delimiter, but before the first.
    fn next(&mut self) {
        if self.fields > 0 {
            self.out.push(self.encoder.delimiter());
        }
        self.fields += 1;
    }

    /// A field that may hold anything: quoted where it must be.
    fn text(&mut self, text: &str) {
        self.next();
        self.encoder.encode_field(text.as_bytes(), self.out);
    }

    /// The explanation: one of few sentences for most rows, so each is encoded once per thread
    /// and copied after ([`explanation_key`]); a sentence that names a case is made anew.
    fn explanation(&mut self, eval: &Evaluation) {
        let Some(key) = explanation_key(eval) else {
            self.text(&explanation(eval));
            return;
        };
        self.next();
        EXPLAINED.with_borrow_mut(|explained| {
            let encoder = self.encoder;
            let encoded = |explanation: String| {
                let mut out = Vec::with_capacity(explanation.len() + 2);
                encoder.encode_field(explanation.as_bytes(), &mut out);
                out.into_boxed_slice()
            };
            let key = (key, encoder.delimiter());
            match explained.get(&key) {
                Some(encoded) => self.out.extend_from_slice(encoded),
                None => {
                    let encoded = encoded(explanation(eval));
                    self.out.extend_from_slice(&encoded);
                    if explained.len() < EXPLAINED_MAX {
                        explained.insert(key, encoded);
                    }
                }
            }
        });
    }

    /// One of this program's codes (capitals, digits, `_`): never quoted.
    fn code(&mut self, code: &str) {
        debug_assert!(code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        self.next();
        self.out.extend_from_slice(code.as_bytes());
    }

    /// A date, ISO: never quoted.
    fn date(&mut self, date: Option<NaiveDate>) {
        self.next();
        if let Some(date) = date {
            push_iso(self.out, date);
        }
    }
}

/// Explanations encoded, by [`explanation_key`] and the lists' delimiter. Looked up once for
/// every bonus-related row: hashed by `FxHash` (a multiply per word), not the standard library's
/// SipHash, which cost more than the lookup is worth for a key of five bytes made by this program.
type Explained = rustc_hash::FxHashMap<(u32, u8), Box<[u8]>>;

thread_local! {
    /// The buffer each thread renders its rows in ([`Style::render`]).
    static TAIL: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    static EXPLAINED: std::cell::RefCell<Explained> = std::cell::RefCell::default();
}

/// Explanations kept per thread, at most (a few hundred occur).
const EXPLAINED_MAX: usize = 4096;

/// The columns that name the row.
struct Identity<'a> {
    case_id: &'a str,
    cpr: &'a str,
    municipality_code: &'a str,
    application_date: Option<NaiveDate>,
    decision_date: Option<NaiveDate>,
}

/// Writes `n` in decimal (rows are written by the million: no formatter, no allocation; two
/// digits at a time).
pub(super) fn push_number(out: &mut Vec<u8>, mut n: u64) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        digits[i] = b'0' + n as u8;
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_display_writes_them() {
        for n in [
            0,
            7,
            9,
            10,
            42,
            99,
            100,
            101,
            999,
            1000,
            12_345,
            10u64.pow(19),
            u64::MAX,
        ] {
            let mut out = b"x".to_vec();
            push_number(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
        let mut out = Vec::new();
        for n in (0..100_000).chain((0..64).map(|k| 1u64 << k)) {
            out.clear();
            push_number(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }
}
