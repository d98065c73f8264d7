//! `check` of a regular file in parallel, read as `scan` reads one: the encoding, delimiter and
//! header found as `source::open` finds them, the data cut into pieces at record starts
//! ([`scan::split_by`]), and the pieces read on rayon's threads by the quick scanner
//! ([`scan::scan_each`]). A row of another benefit costs a look at its `benefit` word among the
//! words met before in its piece; every other row is read in full and tallied exactly as the
//! streaming reader's rows are ([`Tally::row`]). The pieces' tallies are added in input order,
//! so the counts and the first rejects listed are the single reader's.
//!
//! Line numbers are exact: each piece counts the line ends it holds, and a row's line is the
//! header's lines plus those of the pieces before plus those before it in its piece. A piece
//! whose last record runs past the next cut (a quoted field holding whole lines fooled the cut)
//! shows it where it stopped; the piece after it is then read again from where it really ended.
//!
//! Each piece is read from the file into a buffer of its own (with a margin for the record that
//! runs past its end), not through a memory map: a file cut short while it is read is then an
//! error naming it rather than a `SIGBUS`, and the memory is a few pieces' buffers, however large
//! the file.

use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::sync::Mutex;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::Format;
use super::tally::{Rows, Tally};
use crate::cli::CheckArgs;
use crate::error::Error;
use crate::input::columns::{Col, ColumnMap};
use crate::input::encoding::{self, decode};
use crate::input::mapping::Mapping;
use crate::input::record::{self, Parsed};
use crate::input::scan::{self, Found, RecordParser, Span, SplitRow, plain_word};
use crate::input::source::{self, Source};
use crate::rules::case::Case;

/// Bytes read past a piece's end for the record that runs past it; four times more each time
/// that is not enough.
const MARGIN: usize = 64 << 10;

/// `benefit` words remembered per piece; a row with another word is read each time.
const WORDS: usize = 1024;

/// Checks a regular file in pieces, in parallel. `None` when the path is no regular file with
/// bytes in it: the caller reads it with the streaming reader instead.
pub(super) fn check_file(
    source: &Source,
    path: &Path,
    args: &CheckArgs,
    mapping: &Mapping,
) -> Result<Option<(Format, Tally)>, Error> {
    let name = source.name.as_str();
    let input_error = |err: io::Error| Error::Input {
        file: name.to_string(),
        err: if err.kind() == io::ErrorKind::UnexpectedEof {
            io::Error::new(
                err.kind(),
                "the file was cut short while it was read (is another program writing it?): \
                 check it again once it is complete",
            )
        } else {
            err
        },
    };
    let file = File::open(path).map_err(input_error)?;
    let meta = file.metadata().map_err(input_error)?;
    let Ok(size) = usize::try_from(meta.len()) else {
        return Ok(None);
    };
    if !meta.is_file() || size == 0 {
        return Ok(None);
    }

    // The encoding and the delimiter, from the first bytes, as `source::open` finds them.
    let mut first = Vec::new();
    let whole_file = Input {
        file: &file,
        skip: 0,
        len: size,
    };
    whole_file
        .read(0, &mut first, size.min(source::SAMPLE))
        .map_err(input_error)?;
    let had_bom = first.starts_with(encoding::UTF8_BOM);
    let skip = if had_bom { encoding::UTF8_BOM.len() } else { 0 };
    let sample = &first[skip..];
    let (decoding, encoding_name) = encoding::detect(args.read.encoding, had_bom, sample);
    let delimiter = args
        .read
        .delimiter
        .unwrap_or_else(|| source::sniff_delimiter(sample));
    let input = Input {
        file: &file,
        skip,
        len: size - skip,
    };

    let mut parser = RecordParser::new(delimiter);
    let header = Header::read(&input, &mut parser).map_err(input_error)?;
    let no_header = || Error::NoHeader {
        file: name.to_string(),
    };
    let header = header.ok_or_else(no_header)?;
    let names: Vec<String> = (parser.record.iter())
        .map(|f| decode(f, decoding).trim().to_string())
        .collect();
    if names.iter().all(String::is_empty) {
        return Err(no_header());
    }
    let map = ColumnMap::build(name, &names, &mapping.columns)?;

    let layout = scan::Layout {
        delimiter,
        benefit: map.position(Col::Benefit),
    };
    let chunk = usize::try_from(args.chunk_size).unwrap_or(usize::MAX);
    let read = |at: usize, out: &mut Vec<u8>, n: usize| input.read(at, out, n);
    let cuts = scan::split_by(
        input.len,
        header.end,
        chunk,
        layout,
        map.width,
        &mut parser,
        read,
    )
    .map_err(input_error)?;
    let pieces: Vec<(usize, usize)> = (cuts.iter())
        .zip(cuts[1..].iter().chain([&input.len]))
        .map(|(&a, &b)| (a, b))
        .collect();

    let reading = Reading {
        input,
        layout,
        rows: Rows {
            map: &map,
            decoding,
            vocab: &mapping.vocab,
        },
        kits: Mutex::new(Vec::new()),
    };
    if crate::ledger::run::failpoint_set("input-cut") {
        // Test-only: another program cuts the file short as the pieces are read.
        let cut = std::fs::OpenOptions::new().write(true).open(path);
        cut.and_then(|f| f.set_len(meta.len() / 2))
            .map_err(input_error)?;
    }
    let tally = reading
        .read_all(&pieces, header.lines)
        .map_err(input_error)?;
    let format = Format {
        encoding_name,
        delimiter,
        map,
    };
    Ok(Some((format, tally)))
}

/// The file's data (after a byte-order mark of `skip` bytes), read where asked.
#[derive(Clone, Copy)]
struct Input<'f> {
    file: &'f File,
    skip: usize,
    /// Bytes of data.
    len: usize,
}

impl Input<'_> {
    /// The `n` bytes of data from `at` into `out`. A file cut short under the reader is an
    /// `UnexpectedEof`.
    fn read(&self, at: usize, out: &mut Vec<u8>, n: usize) -> io::Result<()> {
        out.resize(n, 0);
        self.file.read_exact_at(out, (self.skip + at) as u64)
    }
}

/// Where the header ends.
struct Header {
    /// The first byte after it.
    end: usize,
    /// The line ends before `end`.
    lines: u64,
}

impl Header {
    /// The first record, blank lines before it skipped, into `parser.record`, read from as many
    /// first bytes as it takes; `None` when the data holds no record.
    fn read(input: &Input<'_>, parser: &mut RecordParser) -> io::Result<Option<Header>> {
        let mut buf = Vec::new();
        let mut want = source::SAMPLE;
        loop {
            let n = want.min(input.len);
            input.read(0, &mut buf, n)?;
            let whole = n == input.len;
            let mut at = 0;
            while at < n && matches!(buf[at], b'\r' | b'\n') {
                at += 1;
            }
            match parser.parse(&buf[at..]) {
                // Ended before the bytes read did: what follows cannot change it.
                Some(consumed) if at + consumed < n || whole => {
                    let end = at + consumed;
                    let lines = scan::count_line_ends(&buf, 0, end);
                    return Ok(Some(Header { end, lines }));
                }
                None if whole => return Ok(None),
                _ => want = want.saturating_mul(4),
            }
        }
    }
}

/// What every piece of one input is read with.
struct Reading<'a> {
    input: Input<'a>,
    layout: scan::Layout,
    rows: Rows<'a>,
    /// The buffers and parsers of pieces read, for the next (a parser builds csv_core's tables).
    kits: Mutex<Vec<Kit>>,
}

/// What reading a piece needs, reused from piece to piece.
struct Kit {
    buf: Vec<u8>,
    quick: RecordParser,
    full: RecordParser,
    fields: Vec<(usize, usize)>,
    case: Case,
}

/// One piece, read.
struct Piece {
    start: usize,
    limit: usize,
    /// Where its last record really ended (past `limit` when a quoted field fooled the cut).
    end: usize,
    /// Line ends in `start..end`.
    lines: u64,
    /// Its rows, their lines counted from its start.
    tally: Tally,
}

impl Reading<'_> {
    /// Reads the pieces (`start..limit` each, in input order) on rayon's threads, and adds their
    /// tallies in input order, the lines of each counted from the `lines` line ends before the
    /// first. A piece that the piece before ran past is read again from where that one really
    /// ended.
    fn read_all(&self, pieces: &[(usize, usize)], mut lines: u64) -> io::Result<Tally> {
        let read: Vec<io::Result<Piece>> = (pieces.par_iter())
            .map(|&(start, limit)| self.read_piece(start, limit))
            .collect();
        let mut tally = Tally::default();
        let mut expected = pieces.first().map_or(self.input.len, |p| p.0);
        for piece in read {
            let piece = piece?;
            if expected >= self.input.len || expected >= piece.limit {
                // The end, or the piece before ran past this whole piece: its rows are counted.
                continue;
            }
            let piece = if piece.start == expected {
                piece
            } else {
                self.read_piece(expected, piece.limit)?
            };
            expected = piece.end;
            tally.append(piece.tally, lines);
            lines += piece.lines;
        }
        Ok(tally)
    }

    /// Reads the records that start in `start..limit`; `start` must be a record's start.
    fn read_piece(&self, start: usize, limit: usize) -> io::Result<Piece> {
        let reused = self.kits.lock().ok().and_then(|mut kits| kits.pop());
        let mut kit = reused.unwrap_or_else(|| Kit {
            buf: Vec::new(),
            quick: RecordParser::new(self.layout.delimiter),
            full: RecordParser::new(self.layout.delimiter),
            fields: Vec::new(),
            case: Case::blank(),
        });
        let piece = self.read_with(&mut kit, start, limit);
        if let Ok(mut kits) = self.kits.lock() {
            kits.push(kit);
        }
        piece
    }

    fn read_with(&self, kit: &mut Kit, start: usize, limit: usize) -> io::Result<Piece> {
        let mut margin = MARGIN;
        loop {
            let end = limit.saturating_add(margin).min(self.input.len);
            self.input.read(start, &mut kit.buf, end - start)?;
            let buf = kit.buf.as_slice();
            let mut tally = Tally::default();
            let mut words = Words::default();
            let each = Each {
                reading: self,
                buf,
                tally: &mut tally,
                words: &mut words,
                fields: &mut kit.fields,
                full: &mut kit.full,
                case: &mut kit.case,
            };
            let stop = scan::scan_each(buf, 0, limit - start, self.layout, &mut kit.quick, each);
            // A stop at the end of the bytes read, short of the data's end, may have cut the
            // last record (or a line end after it) short: read again, further.
            if stop.end >= buf.len() && end < self.input.len {
                margin = margin.saturating_mul(4);
                continue;
            }
            for (raw, word) in words.met {
                if word.other == Some(true) && word.rows > 0 {
                    tally.caught_as(decode(raw, self.rows.decoding).trim(), word.rows);
                }
            }
            return Ok(Piece {
                start,
                limit,
                end: start + stop.end,
                lines: stop.lines,
                tally,
            });
        }
    }

    /// Whether a `benefit` word is another benefit's (`Some(caught)`), as [`record::parse`]
    /// reads it first. A word with a `\r` is left to the full reading: the streaming reader
    /// reads its line ends as `\n`.
    fn other(&self, raw: &[u8]) -> Option<bool> {
        if raw.contains(&b'\r') {
            return None;
        }
        let get = |col: Col| match col {
            Col::Benefit => decode(raw, self.rows.decoding),
            _ => Cow::Borrowed(""),
        };
        match record::parse(get, self.rows.vocab) {
            Parsed::Other { caught } => Some(caught),
            _ => None,
        }
    }
}

/// A `benefit` word met in a piece: another benefit's (`Some(caught)`) or not, with its rows.
struct Word {
    other: Option<bool>,
    rows: u64,
}

/// The `benefit` words met in a piece, as their bytes in it.
#[derive(Default)]
struct Words<'b> {
    met: FxHashMap<&'b [u8], Word>,
}

/// What the quick scan does with each row of a piece ([`scan::Each`]).
struct Each<'p, 'b> {
    reading: &'p Reading<'p>,
    buf: &'b [u8],
    tally: &'p mut Tally,
    words: &'p mut Words<'b>,
    fields: &'p mut Vec<(usize, usize)>,
    full: &'p mut RecordParser,
    case: &'p mut Case,
}

impl scan::Each for Each<'_, '_> {
    /// A row of another benefit is only counted; any other row is read in full.
    #[inline(always)]
    fn found(&mut self, found: Found<'_>) -> ControlFlow<()> {
        match found {
            Found::Quick(span) => {
                if span.fields == self.reading.rows.map.width
                    && let Some((a, b)) = span.benefit
                    && let Some(word) = plain_word(&self.buf[a..b])
                    && self.counted(word)
                {
                    self.tally.rows += 1;
                    self.tally.other += 1;
                } else {
                    self.read_row(span);
                }
            }
            Found::Parsed(span, record) => {
                let line = 1 + span.lines_before;
                (self.tally).row(record, line, &self.reading.rows, self.case);
            }
        }
        ControlFlow::Continue(())
    }
}

impl<'b> Each<'_, 'b> {
    /// Whether the row whose `benefit` word is `raw` is another benefit's; its word counted if so.
    #[inline(always)]
    fn counted(&mut self, raw: &'b [u8]) -> bool {
        if let Some(word) = self.words.met.get_mut(raw) {
            word.rows += u64::from(word.other.is_some());
            return word.other.is_some();
        }
        let other = self.reading.other(raw);
        if self.words.met.len() < WORDS {
            let rows = u64::from(other.is_some());
            self.words.met.insert(raw, Word { other, rows });
        } else if other == Some(true) {
            let word = decode(raw, self.reading.rows.decoding);
            self.tally.caught_as(word.trim(), 1);
        }
        other.is_some()
    }

    /// Reads a row the quick scan found in full and tallies it: split where it stands when its
    /// quotes only enclose whole fields, by the csv crate's parser otherwise.
    #[inline(never)]
    fn read_row(&mut self, span: Span) {
        let rows = &self.reading.rows;
        let line = 1 + span.lines_before;
        let delimiter = self.reading.layout.delimiter;
        let raw = &self.buf[span.start..span.end];
        match SplitRow::split(raw, delimiter, self.fields) {
            Some(row) => self.tally.row(&row, line, rows, self.case),
            None => {
                self.full.read_unsplit(self.buf, span, delimiter);
                self.tally.row(&self.full.record, line, rows, self.case);
            }
        }
    }
}
