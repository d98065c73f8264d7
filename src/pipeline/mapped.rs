//! Pass 1 over a file input, in parallel: the file is mapped into memory, cut into pieces of
//! `--chunk-size` bytes at record starts ([`scan::split_by`]), and the pieces are read (each into
//! a buffer of its own, through the map when that falls short: `piece`) and scanned at once
//! ([`scan::scan`]); the input's digest is taken over the same bytes as each piece's rows are
//! written.
//!
//! A row of another benefit costs one look at its `benefit` field, quoted or not (no copy, no
//! allocation: the words met are found in a small table per piece). Every other row —
//! bonus-related, with a wrong field count, an unknown benefit word, or a `benefit` with a
//! doubled quote — is read in full (split where it stands when its quotes only enclose whole
//! fields, by the csv crate's parser otherwise) and goes through
//! [`super::verdict`] (as [`super::first_pass`] does) and [`Pass1::record`] exactly as a streamed
//! row does, in input order, so the outputs are the stream reader's byte for byte.
//!
//! `piece` reads one piece; this module plans the pieces, reads them on the scan's threads and
//! writes them in order; `hashing` takes the digest and lets the pages go; `guard` turns a file
//! cut short under the map into an error.
//!
//! Each piece settles its bonus-related rows among themselves as it is read (`piece`), so that a
//! person's rows that stand together are written as the whole input settles them; the cuts are
//! moved from between two rows of one person ([`scan::between_persons`]).
//!
//! Line numbers are exact: each piece counts the line ends it holds, and a row's line is the
//! header's lines plus those of the pieces before plus those before it in its piece. A piece
//! whose last record runs past the next cut (a quoted field that fooled the cut) shows it in its
//! end; the piece after it is then read again from where it really ended.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::panic::{AssertUnwindSafe, resume_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use csv::ByteRecord;
use memmap2::Mmap;

mod guard;
mod hashing;
mod piece;
mod subtrees;
mod words;

use self::hashing::{Digest, Mapped};
pub(crate) use self::hashing::{Sha256Behind, Sha256Worker};
use self::piece::{Piece, Reading, Watch};
use super::spill::{FileIdentity, MappedInput};
use super::{InputSha256, Pass1, Progress, Tally, caught_word};
use crate::error::Error;
use crate::input::columns::{COLUMN_COUNT, Col, ColumnMap};
use crate::input::encoding::{self, decode};
use crate::input::scan::{self, Layout, RecordParser};
use crate::input::source::{self, DigestKind, Source};
use crate::output::summary::{InputRead, InputSummary};
use crate::rules::Rule;

/// How far the rows are written.
struct Written {
    /// Where the next piece must start: where the last one written really ended.
    expected: usize,
    /// Line ends before `expected`.
    lines: u64,
    rows: u64,
    /// `expected`, for the progress bar.
    done: AtomicU64,
}

impl Tally {
    fn out_of_scope(&mut self, rows: u64) {
        if rows > 0 {
            self.counts.rows_read += rows;
            self.counts.evaluated += rows;
            self.counts.out_of_scope += rows;
            self.rules[Rule::Scope as usize] += rows;
        }
    }

    fn caught(&mut self, word: &[u8], rows: u64) {
        match self.caught.get_mut(word) {
            Some(n) => *n += rows,
            None => {
                self.caught.insert(word.to_vec(), rows);
            }
        }
    }
}

impl Pass1<'_> {
    /// Reads a file input through a memory map, in parallel. `None` when the file cannot be
    /// mapped (not a regular file, or empty): the caller streams it instead.
    pub(super) fn read_mapped(
        &mut self,
        s: u32,
        source: &Source,
        path: &Path,
        progress: &mut Progress,
    ) -> Result<Option<InputSummary>, Error> {
        let cfg = self.cfg;
        let file_name = source.name.as_str();
        let input_error = |err| Error::Input {
            file: file_name.to_string(),
            err,
        };
        let file = File::open(path).map_err(input_error)?;
        let meta = file.metadata().map_err(input_error)?;
        if !meta.is_file() || meta.len() == 0 {
            return Ok(None);
        }
        // SAFETY: the map is read only. Another process that truncates the file while it is
        // read makes a page of it unreadable (SIGBUS): `guard` then ends the run with an error
        // naming the file, as nothing read from the map can be trusted any more.
        let Ok(mapped) = (unsafe { Mmap::map(&file) }) else {
            return Ok(None);
        };
        let bytes: &[u8] = &mapped;
        let _guard = guard::Guard::new(bytes, file_name);

        // The encoding and the delimiter, from the first bytes, as `source::open` finds them.
        let first = &bytes[..bytes.len().min(source::SAMPLE)];
        let had_bom = first.starts_with(encoding::UTF8_BOM);
        let skip = if had_bom { encoding::UTF8_BOM.len() } else { 0 };
        let sample = &first[skip..];
        let (decoding, encoding_name) = encoding::detect(cfg.encoding, had_bom, sample);
        let delimiter = cfg
            .delimiter
            .unwrap_or_else(|| source::sniff_delimiter(sample));
        let data = &bytes[skip..];

        // The header: the first record, blank lines before it skipped.
        let mut parser = RecordParser::new(delimiter);
        let mut at = 0;
        while at < data.len() && matches!(data[at], b'\r' | b'\n') {
            at += 1;
        }
        let no_header = || Error::NoHeader {
            file: file_name.to_string(),
        };
        let consumed = parser.parse(&data[at..]).ok_or_else(no_header)?;
        let header: Vec<String> = parser
            .record
            .iter()
            .map(|f| decode(f, decoding).trim().to_string())
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(no_header());
        }
        let map = ColumnMap::build(file_name, &header, &cfg.mapped_columns)?;
        let header_end = at + consumed;
        let header_lines = scan::count_line_ends(data, 0, header_end);

        let reading = Reading {
            mmap: &mapped,
            skip,
            layout: Layout {
                delimiter,
                benefit: map.position(Col::Benefit),
            },
            width: map.width,
            map: &map,
            decoding,
            cfg,
            style: self.style,
            header_lines,
            parsers: std::sync::Mutex::new(Vec::new()),
            tails: std::sync::Mutex::new(Vec::new()),
            watch: self.watch.map(Watch::new),
            subtrees: cfg.digest == DigestKind::Blake3,
            file: &file,
            buffers: std::sync::Mutex::new(Vec::new()),
            bug: crate::ledger::run::failpoint_set("piece-panic"),
            canonical: delimiter == b','
                && map.width == COLUMN_COUNT
                && Col::ALL
                    .iter()
                    .enumerate()
                    .all(|(i, &col)| map.position(col) == Some(i)),
        };
        // Each cut is found by reading a few records near it from the file, not through the map:
        // a page touched there can bring a whole large folio of the page cache into the process
        // (on Linux 6.x, 570 MB resident at once on the 10M-row file).
        let read = |at: usize, out: &mut Vec<u8>, n: usize| {
            out.resize(n, 0);
            file.read_exact_at(out, (skip + at) as u64)
        };
        let mut cuts = scan::split_by(
            data.len(),
            header_end,
            cfg.chunk_size,
            reading.layout,
            map.width,
            &mut parser,
            read,
        )
        .map_err(input_error)?;
        // A scan settles each piece's rows among themselves: a cut is moved from between two
        // rows of one person.
        if let (Some(_), Some(person)) = (self.style, map.position(Col::Cpr)) {
            scan::between_persons(
                &mut cuts,
                data.len(),
                reading.layout,
                person,
                &mut parser,
                read,
            )
            .map_err(input_error)?;
        }
        let pieces: Vec<(usize, usize)> = cuts
            .iter()
            .zip(cuts[1..].iter().chain([&data.len()]))
            .map(|(&a, &b)| (a, b))
            .collect();

        // The ledger's SHA-256, when the digest is another: behind the run by its worker, or in
        // the scan's order when the run keeps to one thread (and has none).
        let sha256 = cfg.input_sha256 && cfg.digest != DigestKind::Sha256;
        let mut hashing = Mapped {
            map: &mapped,
            skip,
            digest: Digest::new(cfg.digest),
            sha256: (sha256 && self.sha256_worker.is_none())
                .then(|| Digest::new(DigestKind::Sha256)),
            hashed: 0,
            released: 0,
        };
        let identity = FileIdentity::of(&meta);
        let sha256_behind = (self.sha256_worker.as_ref())
            .filter(|_| sha256)
            .map(|worker| worker.take(path, identity, file_name))
            .transpose()
            .map_err(input_error)?;
        if crate::ledger::run::failpoint_set("input-cut") {
            // Test-only: another program cuts the file short as the pieces are read.
            let cut = std::fs::OpenOptions::new().write(true).open(path);
            cut.and_then(|f| f.set_len(meta.len() / 2))
                .map_err(input_error)?;
        }
        let rows = self.read_pieces(s, source, &reading, &pieces, &mut hashing, progress)?;
        hashing.hash_to(bytes.len());
        let digest = hashing.finish_digest();
        let sha256 = match (sha256_behind, hashing.sha256) {
            (Some(behind), _) => InputSha256::Behind(behind),
            (None, Some(sha256)) => InputSha256::Known(sha256.finish(bytes)),
            (None, None) if cfg.input_sha256 => InputSha256::Known(digest.clone()),
            (None, None) => InputSha256::Known(None),
        };
        self.tally.input_sha256.push(sha256);
        if self.style.is_some() {
            self.mapped_input = Some(MappedInput {
                path: path.to_path_buf(),
                identity,
                skip: skip as u64,
                map: map.clone(),
                decoding,
                delimiter,
            });
        }
        let size = meta.len();
        progress.source_done(size);
        Ok(Some(InputSummary::new(
            InputRead {
                path: &source.name,
                encoding: encoding_name,
                delimiter,
                map: &map,
            },
            size,
            rows,
            cfg.digest,
            digest,
        )))
    }

    /// Reads the pieces on the scan's threads, a few more than threads at a time, and writes
    /// their rows in input order as each is read, hashing its bytes then. The thread that
    /// writes reads pieces too while the next to write is being read: no thread waits for a
    /// group of pieces to end (waiting at the end of each group had left a tenth of the
    /// threads' time idle).
    fn read_pieces(
        &mut self,
        s: u32,
        source: &Source,
        reading: &Reading<'_>,
        pieces: &[(usize, usize)],
        mapped: &mut Mapped<'_>,
        progress: &mut Progress,
    ) -> Result<u64, Error> {
        // Pieces read and not yet written, at most: each holds its pages of the map. Two more
        // than threads keep the threads busy (one more left the writing thread waiting).
        let in_flight = rayon::current_num_threads().max(1) + 2;
        let mut written = Written {
            expected: pieces.first().map_or(reading.data().len(), |p| p.0),
            lines: reading.header_lines,
            rows: 0,
            done: AtomicU64::new(0),
        };
        let slots: Vec<Slot> = pieces.iter().map(|_| Mutex::new(None)).collect();
        rayon::scope_fifo(|scope| {
            let read = |i: usize| {
                let ((start, limit), slot) = (pieces[i], &slots[i]);
                scope.spawn_fifo(move |_| {
                    // A panic (a bug) is handed to the writing thread, which waits for this
                    // slot: it then goes on unwinding there, and the run ends.
                    let piece = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        reading.read_piece(start, limit)
                    }));
                    *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(piece);
                });
            };
            (0..in_flight.min(pieces.len())).for_each(read);
            for (i, slot) in slots.iter().enumerate() {
                let mut piece = read_by_now(slot).unwrap_or_else(|panic| resume_unwind(panic));
                if i + in_flight < pieces.len() {
                    read(i + in_flight);
                }
                // Its bytes are hashed (most of them already, where it was read).
                mapped.offer(std::mem::take(&mut piece.subtrees));
                mapped.hash_to(mapped.skip + piece.limit);
                let limit = piece.limit;
                self.write_in_order(s, source, reading, piece, &mut written)?;
                // The piece is hashed and copied from: its pages can go.
                mapped.release(limit);
                progress.update(&written.done, 0);
            }
            Ok::<(), Error>(())
        })?;
        progress.update(&written.done, written.rows);
        Ok(written.rows)
    }

    /// Writes a piece read, in order; a piece that the piece before ran past is read again from
    /// where that one really ended.
    fn write_in_order(
        &mut self,
        s: u32,
        source: &Source,
        reading: &Reading<'_>,
        piece: Piece,
        written: &mut Written,
    ) -> Result<(), Error> {
        if written.expected >= reading.data().len() {
            return Ok(());
        }
        let piece = if piece.start == written.expected {
            piece
        } else if written.expected >= piece.limit {
            // The piece before ran past this whole piece: its rows are read.
            return Ok(());
        } else {
            // The piece before ran past this cut (a quoted field fooled it).
            reading.read_piece(written.expected, piece.limit)
        };
        written.rows += piece.rows;
        written.expected = piece.stop.end;
        self.write_piece(s, source, reading, piece, &mut written.lines)?;
        written
            .done
            .store(written.expected as u64, Ordering::Relaxed);
        Ok(())
    }

    fn write_piece(
        &mut self,
        s: u32,
        source: &Source,
        reading: &Reading<'_>,
        piece: Piece,
        lines: &mut u64,
    ) -> Result<(), Error> {
        self.tally.out_of_scope(piece.other);
        for word in &piece.words.met {
            if word.other == Some(true) && word.rows > 0 {
                let shown = caught_word(&word.raw, reading.decoding);
                self.tally.caught(shown.as_bytes(), word.rows);
            }
        }
        for (word, rows) in &piece.caught {
            let shown = caught_word(word, reading.decoding);
            self.tally.caught(shown.as_bytes(), *rows);
        }
        let none = ByteRecord::new();
        for kept in piece.kept {
            self.record(
                s,
                source,
                1 + *lines + kept.lines_before,
                kept.record.as_ref().unwrap_or(&none),
                kept.first,
                &piece.tails,
                reading.map,
                reading.decoding,
                reading.layout.delimiter,
            )?;
        }
        *lines += piece.stop.lines;
        let mut tails = piece.tails;
        tails.clear();
        // Kept for a piece to come.
        if let Ok(mut kept) = reading.tails.lock() {
            kept.push(tails);
        }
        Ok(())
    }
}

/// A piece once it is read, or the panic that reading it ended in.
type Slot = Mutex<Option<std::thread::Result<Piece>>>;

/// The piece in `slot` once it is read: until then this thread reads other pieces (or, with
/// nothing left to take, lets others run).
fn read_by_now(slot: &Slot) -> std::thread::Result<Piece> {
    loop {
        if let Some(piece) = slot.lock().unwrap_or_else(PoisonError::into_inner).take() {
            return piece;
        }
        if rayon::yield_now() != Some(rayon::Yield::Executed) {
            std::thread::yield_now();
        }
    }
}
