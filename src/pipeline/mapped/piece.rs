//! One piece of a mapped input, read: its rows found by the quick scan, those of other benefits
//! only counted, every other row read in full and judged ([`verdict`]), its bonus-related rows
//! settled among themselves (`Reading::settle_within`), and what the writing in order needs of
//! them kept.
//!
//! A piece's bytes are read from the file into a buffer of its own (`pread`), with a margin for
//! its last record, and scanned there; only when that fails (a record longer than the margin
//! past the piece's end, a file cut short) is the piece read through the map instead. The map's
//! page tables had cost more than the copy: over the 1.2 GB bench file on two threads,
//! populating, reading and letting go of the map took 0.17 processor-seconds, reading it into a
//! reused buffer 0.10 (this machine, session 12).

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt as _;

use csv::ByteRecord;
use memmap2::{Advice, Mmap};

use super::super::pass1::rendered_with;
use super::super::{First, SpillRow, Tails, is_watched, spill_columns, verdict};
use super::words::Words;
use crate::input::columns::{Col, ColumnMap};
use crate::input::encoding::Decoding;
use crate::input::records::Fields;
use crate::input::scan::{self, Found, Layout, RecordParser, SplitRow, Stop, plain_word};
use crate::rules::across;

/// What a piece's rows need, shared by all pieces of one input.
pub(super) struct Reading<'a> {
    /// The mapped file, whose data ([`Reading::data`]) starts after `skip` bytes (a byte-order
    /// mark).
    pub(super) mmap: &'a Mmap,
    pub(super) skip: usize,
    pub(super) layout: Layout,
    pub(super) width: usize,
    pub(super) map: &'a ColumnMap,
    pub(super) decoding: Decoding,
    pub(super) cfg: &'a super::super::ScanConfig,
    /// How rows are rendered for the lists (see [`super::Pass1::style`]).
    pub(super) style: Option<super::super::Style<'a>>,
    /// Line ends before the first record (the header's).
    pub(super) header_lines: u64,
    /// The export is written as the spill file is: `,` between exactly the canonical columns,
    /// in their order.
    pub(super) canonical: bool,
    /// Parsers (quick, full) of pieces read before, for the next: making one builds csv_core's
    /// tables, about 200,000 instructions.
    pub(super) parsers: std::sync::Mutex<Vec<(RecordParser, RecordParser)>>,
    /// The rendered rows' buffers of pieces written, emptied, for the next pieces: in a steady
    /// state no piece allocates one.
    pub(super) tails: std::sync::Mutex<Vec<Tails>>,
    /// For `explain`: the case id it looks for ([`Watch`]).
    pub(super) watch: Option<Watch<'a>>,
    /// The digest is BLAKE3: each piece hashes the subtrees within it ([`super::subtrees`]).
    pub(super) subtrees: bool,
    /// The input, for reading the pieces into buffers.
    pub(super) file: &'a std::fs::File,
    /// The buffers of pieces read, for the next.
    pub(super) buffers: std::sync::Mutex<Vec<Vec<u8>>>,
    /// Test-only (`GENOPTAG_TEST_FAIL_AT=piece-panic`): the piece that holds the middle of the
    /// data panics, quoting its first row, as a bug there would.
    pub(super) bug: bool,
}

/// The case id `explain` looks for, and how a row of another benefit that cannot hold it is
/// told without reading it: its bytes do not hold the id. That holds for an id of ASCII
/// characters without a quote, which every encoding read here writes as those bytes, quoted or
/// not; a row that may hold any other id is read in full. (`explain` on the 10M-row file had
/// read and spilled all its rows: 12.8 s.)
pub(super) struct Watch<'a> {
    pub(super) case_id: &'a str,
    finder: memchr::memmem::Finder<'a>,
    plain: bool,
}

impl<'a> Watch<'a> {
    pub(super) fn new(case_id: &'a str) -> Watch<'a> {
        Watch {
            case_id,
            finder: memchr::memmem::Finder::new(case_id.as_bytes()),
            plain: case_id.is_ascii() && !case_id.contains('"'),
        }
    }

    /// Whether a row's bytes may hold the case id.
    #[inline(always)]
    fn may_be_in(&self, row: &[u8]) -> bool {
        !self.plain || self.finder.find(row).is_some()
    }
}

/// A row kept for the writing: read in full, with its verdict.
pub(super) struct Kept {
    pub(super) lines_before: u64,
    /// The record, but of a bonus-related row (written from its verdict alone).
    pub(super) record: Option<ByteRecord>,
    pub(super) first: First,
}

/// One piece, read.
pub(super) struct Piece {
    pub(super) start: usize,
    pub(super) limit: usize,
    pub(super) stop: Stop,
    pub(super) rows: u64,
    /// Rows of other benefits, only counted.
    pub(super) other: u64,
    pub(super) words: Words,
    /// Words caught by the catch-all beyond those remembered in `words`, as their raw bytes.
    pub(super) caught: HashMap<Vec<u8>, u64>,
    pub(super) kept: Vec<Kept>,
    /// The list rows of the bonus-related rows kept, rendered.
    pub(super) tails: Tails,
    /// The BLAKE3 subtrees within the piece, hashed as it was read: (number, chaining value).
    pub(super) subtrees: Vec<(usize, blake3::hazmat::ChainingValue)>,
}

/// Bytes of the input's data (after a byte-order mark) as a piece reads them: `data[i]` is the
/// data's byte `base + i`. The spans the scan finds in them are relative to `data`.
#[derive(Clone, Copy)]
struct Window<'d> {
    data: &'d [u8],
    base: usize,
}

/// Bytes read past a piece's end, for its last record.
const MARGIN: usize = 64 << 10;

/// What the quick scan does with each row of a piece ([`scan::Each`]).
struct Rows<'p, 'r> {
    reading: &'p Reading<'r>,
    window: Window<'p>,
    piece: &'p mut Piece,
    /// Where the fields of the row being read in full lie ([`SplitRow`]).
    fields: Vec<(usize, usize)>,
    full: &'p mut RecordParser,
    /// Line ends in the piece before where this scan of it began.
    lines_before: u64,
}

impl scan::Each for Rows<'_, '_> {
    /// A row of another benefit is only counted: all most rows cost, inlined into the scan's
    /// loop (as a closure it was a call of its own for each of the 10M rows). Any other row is
    /// read in full, out of the loop.
    #[inline(always)]
    fn found(&mut self, found: Found<'_>) -> ControlFlow<()> {
        let reading = self.reading;
        self.piece.rows += 1;
        match found {
            Found::Quick(mut span) => {
                if span.fields == reading.width
                    && !reading.cfg.audit_all
                    && let Some((a, b)) = span.benefit
                    && let Some(word) = plain_word(&self.window.data[a..b])
                    && !(reading.watch.as_ref())
                        .is_some_and(|w| w.may_be_in(&self.window.data[span.start..span.end]))
                    && reading.counted(self.piece, word)
                {
                    return ControlFlow::Continue(());
                }
                span.lines_before += self.lines_before;
                reading.read_row(self.piece, self.window, span, &mut self.fields, self.full);
            }
            Found::Parsed(mut span, record) => {
                span.lines_before += self.lines_before;
                reading.judge(self.piece, record, self.window, &span);
            }
        }
        ControlFlow::Continue(())
    }
}

impl Reading<'_> {
    /// The file's bytes after its byte-order mark.
    pub(super) fn data(&self) -> &[u8] {
        &self.mmap[self.skip..]
    }

    /// What the spill file holds of a bonus-related row. In a scan, where it stands in the
    /// input, which pass 2 opens again. Otherwise (`explain`) its canonical columns: when the
    /// export has `,` between the canonical columns in their order and the row is UTF-8 with no
    /// `\r`, the row as it stands is that already (the spill is read back by the same csv
    /// parser, which gives the same fields whatever the quoting), and is copied instead of
    /// decoded and encoded anew.
    fn spilled(&self, record: &impl Fields, window: Window<'_>, span: &scan::Span) -> SpillRow {
        if self.style.is_some() {
            return SpillRow::InInput {
                start: (window.base + span.start) as u64,
                end: (window.base + span.end) as u64,
            };
        }
        let raw = &window.data[span.start..span.end];
        if self.canonical
            && !raw.contains(&b'\r')
            && !matches!(self.decoding, Decoding::Windows1252)
            && crate::input::encoding::utf8(raw).is_some()
        {
            let mut columns = Vec::with_capacity(raw.len() + 1);
            columns.extend_from_slice(raw);
            columns.push(b'\n');
            return SpillRow::Columns(columns);
        }
        SpillRow::Columns(spill_columns(record, self.map, self.decoding))
    }

    /// Judges a row read in full ([`verdict`]) and keeps what the writing needs of it.
    fn judge(
        &self,
        piece: &mut Piece,
        record: &impl Fields,
        window: Window<'_>,
        span: &scan::Span,
    ) {
        let cfg = self.cfg;
        let first = verdict(
            record,
            self.map,
            self.decoding,
            cfg,
            self.style,
            Some(&mut piece.tails),
            || self.spilled(record, window, span),
        );
        let lines_before = span.lines_before;
        let watch = self.watch.as_ref().map(|w| w.case_id);
        match first {
            First::Other { caught, .. }
                if !cfg.audit_all && !is_watched(watch, record, self.map, self.decoding) =>
            {
                piece.other += 1;
                if caught {
                    let word = self
                        .map
                        .position(Col::Benefit)
                        .and_then(|i| record.get(i))
                        .unwrap_or_default();
                    *piece.caught.entry(word.to_vec()).or_default() += 1;
                }
            }
            // A bonus-related row is written from its verdict alone (index entry, spilled
            // columns): its record is not kept.
            first @ First::Bonus { .. } => piece.kept.push(Kept {
                lines_before,
                record: None,
                first,
            }),
            first => piece.kept.push(Kept {
                lines_before,
                record: Some(record.to_record()),
                first,
            }),
        }
    }

    /// Reads a row the quick scan found in full and judges it: one whose quotes only enclose
    /// whole fields is read where it stands, its fields not copied out. Kept out of the scan's
    /// loop, which only a twentieth of the rows leave for it.
    #[inline(never)]
    fn read_row(
        &self,
        piece: &mut Piece,
        window: Window<'_>,
        span: scan::Span,
        fields: &mut Vec<(usize, usize)>,
        full: &mut RecordParser,
    ) {
        let raw = &window.data[span.start..span.end];
        match SplitRow::split(raw, self.layout.delimiter, fields) {
            Some(row) => self.judge(piece, &row, window, &span),
            None => {
                full.read_unsplit(window.data, span, self.layout.delimiter);
                self.judge(piece, &full.record, window, &span);
            }
        }
    }

    pub(super) fn read_piece(&self, start: usize, limit: usize) -> Piece {
        let data = self.data();
        if self.bug && (start..limit).contains(&(data.len() / 2)) {
            let row = data[start..limit].split(|&b| b == b'\n').next();
            let row = String::from_utf8_lossy(row.unwrap_or_default());
            panic!("test-only bug in the piece at byte {start}, whose first row is `{row}`");
        }
        let reused = self.parsers.lock().ok().and_then(|mut p| p.pop());
        let (mut quick, mut full) = reused.unwrap_or_else(|| {
            let d = self.layout.delimiter;
            (RecordParser::new(d), RecordParser::new(d))
        });
        // A piece with no row read yet, its rendered rows to go in `tails`.
        let blank = |tails: Tails| Piece {
            start,
            limit,
            stop: Stop {
                end: start,
                lines: 0,
            },
            rows: 0,
            other: 0,
            words: Words::new(),
            caught: HashMap::new(),
            // Room for a row kept in 2 KiB of input (one in 17 rows of 120 bytes); more grow it.
            kept: Vec::with_capacity((limit - start) / 2048),
            tails,
            subtrees: Vec::new(),
        };
        let mut piece = blank(
            (self.tails.lock().ok())
                .and_then(|mut t| t.pop())
                .unwrap_or_default(),
        );
        let mut buffer = (self.buffers.lock().ok())
            .and_then(|mut b| b.pop())
            .unwrap_or_default();
        let end = limit.saturating_add(MARGIN).min(data.len());
        buffer.resize(end - start, 0);
        let read = self
            .file
            .read_exact_at(&mut buffer, (self.skip + start) as u64);
        let stop = read.ok().and_then(|()| {
            let window = Window {
                data: &buffer,
                base: start,
            };
            let stop = self.scan(&mut piece, window, &mut quick, &mut full);
            // A stop at the end of the bytes read, short of the data's end, may have cut the
            // last record (or its line end) short.
            let whole = stop.end < end || end == data.len();
            if whole {
                self.settle_within(&mut piece, window, &mut full);
            }
            whole.then_some(stop)
        });
        piece.stop = match stop {
            Some(stop) => stop,
            None => {
                // Read through the map: from the start again.
                let mut tails = std::mem::take(&mut piece.tails);
                tails.clear();
                piece = blank(tails);
                // The piece's pages are mapped in one call rather than a fault at a time (a
                // hint: the pages are read all the same if it fails).
                let _ = (self.mmap).advise_range(
                    Advice::PopulateRead,
                    self.skip + start,
                    limit - start,
                );
                let window = Window { data, base: 0 };
                let stop = self.scan(&mut piece, window, &mut quick, &mut full);
                self.settle_within(&mut piece, window, &mut full);
                stop
            }
        };
        if let Ok(mut buffers) = self.buffers.lock() {
            buffers.push(buffer);
        }
        if let Ok(mut parsers) = self.parsers.lock() {
            parsers.push((quick, full));
        }
        piece
    }

    /// Settles the piece's bonus-related rows among themselves ([`across::settle_among`]) and
    /// renders again each that learns something, with what it learns: a person's rows close
    /// together in the input (a remitted refusal and its new decision) are then written as the
    /// whole input settles them, and pass 2 leaves the lists alone there. Only in a scan (which
    /// writes lists); a row that cannot be read again here is left as it stands, for pass 2.
    fn settle_within(&self, piece: &mut Piece, window: Window<'_>, parser: &mut RecordParser) {
        let Some(style) = self.style else {
            return;
        };
        let mut bonus = Vec::new();
        let mut pendings = Vec::new();
        for (k, kept) in piece.kept.iter().enumerate() {
            if let First::Bonus { pending, .. } = &kept.first {
                bonus.push(k);
                pendings.push(pending);
            }
        }
        let guesses = across::settle_among(&pendings);
        let mut fields = Vec::new();
        for (guess, facts) in guesses {
            let First::Bonus {
                columns: SpillRow::InInput { start, end },
                rendered,
                guess: written,
                ..
            } = &mut piece.kept[bonus[guess.row()]].first
            else {
                continue;
            };
            let raw = (start.checked_sub(window.base as u64))
                .zip(end.checked_sub(window.base as u64))
                .and_then(|(a, b)| window.data.get(a as usize..b as usize));
            let Some(raw) = raw else { continue };
            let (map, decoding, cfg, tails) = (self.map, self.decoding, self.cfg, &mut piece.tails);
            let again = match SplitRow::split(raw, self.layout.delimiter, &mut fields) {
                Some(row) => rendered_with(&row, map, decoding, cfg, style, tails, &facts),
                None if parser.parse(raw).is_some() => {
                    rendered_with(&parser.record, map, decoding, cfg, style, tails, &facts)
                }
                None => None,
            };
            if let Some(again) = again {
                *rendered = Some(again);
                *written = Some(guess);
            }
        }
    }

    /// Scans the piece's records in `window` (which holds `piece.start..piece.limit` and what
    /// follows it), up to the end of each BLAKE3 subtree within the piece in turn, which is then
    /// hashed while its bytes are in the processor's cache. (Each scan but the first goes on from
    /// where the one before stopped: the start of a record.) Where the scan stopped, in the data.
    fn scan(
        &self,
        piece: &mut Piece,
        window: Window<'_>,
        quick: &mut RecordParser,
        full: &mut RecordParser,
    ) -> Stop {
        use super::subtrees::{SUBTREE, subtree_of, within};
        let (start, limit) = (piece.start - window.base, piece.limit - window.base);
        // A subtree's first byte in the window (the data starts `skip` bytes into the file).
        let at_in_window = |k: usize| k * SUBTREE - self.skip - window.base;
        let mut subtrees = if self.subtrees {
            within(self.skip + piece.start, self.skip + piece.limit)
        } else {
            0..0
        };
        let (mut at, mut lines) = (start, 0);
        loop {
            let until = match subtrees.clone().next() {
                Some(k) => (at_in_window(k) + SUBTREE).min(limit),
                None => limit,
            };
            let rows = Rows {
                reading: self,
                window,
                piece,
                fields: Vec::new(),
                full,
                lines_before: lines,
            };
            let stop = scan::scan_each(window.data, at, until, self.layout, quick, rows);
            (at, lines) = (stop.end, lines + stop.lines);
            while let Some(k) = subtrees.clone().next()
                && at_in_window(k) + SUBTREE <= at
            {
                let from = at_in_window(k);
                piece
                    .subtrees
                    .push((k, subtree_of(&window.data[from..from + SUBTREE], k)));
                subtrees.next();
            }
            if at >= limit || at >= window.data.len() {
                break;
            }
        }
        Stop {
            end: window.base + at,
            lines,
        }
    }
}
