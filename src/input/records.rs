//! The records of one input, as `scan`, `check` and the fuzz target all read them: the source opened
//! (encoding and delimiter found), its header matched to the canonical columns, then one raw
//! record at a time with the physical line it starts on, each read into a [`Parsed`].
//!
//! Line numbers (SPEC §3.3: the line on which a record starts, the header being line 1) are
//! counted back from where a record ends, over line ends made uniform first: the csv crate gives
//! a record the position where the previous one stopped, which is a line short after a CRLF (it
//! stops between `\r` and `\n`) or a blank line. A last record that the end of the input ends
//! (its last quoted field never closed) has no line end after it: its line is counted back from
//! the end alone, and the line end [`LineEnds`] gave the input is taken out of its last field, so
//! that it reads as the memory-mapped reader (`input::scan`) reads it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use csv::ByteRecord;

use crate::error::Error;
use crate::input::columns::{Col, ColumnMap};
use crate::input::encoding::{Decoding, EncodingChoice, decode};
use crate::input::record::{self, Kind, Parsed, Reject, RejectReason};
use crate::input::source::{self, DigestKind, Source, Stream};
use crate::input::values::Vocabulary;
use crate::rules::case::Case;

/// One input whose header has been read and matched.
pub struct Records {
    /// The input's name as given (`stdin` for `-`).
    pub file: String,
    reader: csv::Reader<LineEnds<Stream>>,
    pub map: ColumnMap,
    pub decoding: Decoding,
    /// The encoding's name as `summary.json` and `check` give it.
    pub encoding_name: &'static str,
    pub delimiter: u8,
    /// Bytes read so far, shared with the reader (for the progress bar).
    pub bytes: Arc<AtomicU64>,
    /// How the input ended, as [`LineEnds`] tells it.
    end: Arc<AtomicU8>,
}

impl Records {
    /// Opens a source and reads its header. A missing file, an empty header or a required column
    /// that is neither named, aliased nor mapped is a fatal error naming the file.
    pub fn open(
        source: &Source,
        encoding: EncodingChoice,
        delimiter: Option<u8>,
        digest: DigestKind,
        mapped: &HashMap<Col, String>,
    ) -> Result<Records, Error> {
        Records::open_with_sha256(source, encoding, delimiter, digest, false, mapped)
    }

    /// Opens like [`Records::open`]; with `sha256`, the input's SHA-256 is computed too (see
    /// [`Records::finish_with_sha256`]).
    pub fn open_with_sha256(
        source: &Source,
        encoding: EncodingChoice,
        delimiter: Option<u8>,
        digest: DigestKind,
        sha256: bool,
        mapped: &HashMap<Col, String>,
    ) -> Result<Records, Error> {
        let file = source.name.clone();
        let opened = source::open_with_sha256(source, encoding, delimiter, digest, sha256)?;
        let line_ends = LineEnds::new(opened.stream);
        let end = Arc::clone(&line_ends.end);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(opened.delimiter)
            .buffer_capacity(256 * 1024)
            .from_reader(line_ends);
        let mut header = ByteRecord::new();
        if !reader
            .read_byte_record(&mut header)
            .map_err(read_error(&file))?
        {
            return Err(Error::NoHeader { file });
        }
        let header: Vec<String> = header
            .iter()
            .map(|f| decode(f, opened.decoding).trim().to_string())
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(Error::NoHeader { file });
        }
        let map = ColumnMap::build(&file, &header, mapped)?;
        Ok(Records {
            file,
            reader,
            map,
            decoding: opened.decoding,
            encoding_name: opened.encoding_name,
            delimiter: opened.delimiter,
            bytes: opened.bytes,
            end,
        })
    }

    /// Reads the next record into `rec`, with the line it starts on as its position's line (see
    /// [`line()`]); false at the end of the input.
    pub fn read(&mut self, rec: &mut ByteRecord) -> Result<bool, Error> {
        if !self
            .reader
            .read_byte_record(rec)
            .map_err(read_error(&self.file))?
        {
            return Ok(false);
        }
        // Every record ends in a `\n` the reader has counted (see `LineEnds`); the line breaks
        // inside its quoted fields are kept in its fields. The csv crate hands on a record at its
        // line end without reading further: one handed on after the input's end was read was
        // ended by that end, inside a quoted field never closed, which holds the last `\n`.
        let ended = self.end.load(Ordering::Relaxed);
        let (by_the_end, added) = (ended & ENDED != 0, ended & LINE_END_ADDED != 0);
        if by_the_end && added {
            drop_last_line_end(rec);
        }
        let end = self.reader.position().line();
        let inside = rec.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
        // The line ends counted after the record's own lines: its line end; or, ended by the
        // input's end, the one `LineEnds` added, taken out of its field above.
        let after = if by_the_end { u64::from(added) } else { 1 };
        let mut pos = rec.position().cloned().unwrap_or_else(csv::Position::new);
        pos.set_line(end.saturating_sub(after + inside).max(1));
        rec.set_position(Some(pos));
        Ok(true)
    }

    /// Ends the input: its digest (none with `--digest none`).
    pub fn finish(self) -> Option<String> {
        source::finish(self.reader.into_inner().inner)
    }

    /// Ends the input: its digest, and its SHA-256 when opened with it.
    pub fn finish_with_sha256(self) -> (Option<String>, Option<String>) {
        source::finish_with_sha256(self.reader.into_inner().inner)
    }
}

/// `rec` without the `\n` that ends its last field: the one [`LineEnds`] added at the input's end.
fn drop_last_line_end(rec: &mut ByteRecord) {
    let last = rec.len().saturating_sub(1);
    if !rec.get(last).is_some_and(|f| f.ends_with(b"\n")) {
        return;
    }
    let position = rec.position().cloned();
    let fields: Vec<Vec<u8>> = rec.iter().map(<[u8]>::to_vec).collect();
    rec.clear();
    for (i, field) in fields.iter().enumerate() {
        rec.push_field(if i == last {
            &field[..field.len() - 1]
        } else {
            field
        });
    }
    rec.set_position(position);
}

/// The physical line a record read by [`Records::read`] starts on, the header being line 1.
pub fn line(rec: &ByteRecord) -> u64 {
    rec.position().map_or(0, |p| p.line())
}

/// A record's fields as [`parse`] reads them: the csv crate's [`ByteRecord`], or a record split
/// where it stands in the input ([`SplitRow`](crate::input::scan::SplitRow)). Field `i` is
/// `bytes()[range(i)]`.
pub trait Fields {
    /// How many fields the record has.
    fn field_count(&self) -> usize;
    fn range(&self, i: usize) -> Option<std::ops::Range<usize>>;
    /// The fields' bytes, each at its range.
    fn bytes(&self) -> &[u8];

    /// Whether every field's range starts and ends between characters whenever the bytes are
    /// UTF-8 as a whole: so when the fields are cut at ASCII bytes of the record as it stands.
    /// Not so for a [`ByteRecord`], whose fields stand one after the other (`[0xC3]` and `[0xA6]`
    /// make `æ`).
    fn fields_between_characters(&self) -> bool {
        false
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        self.range(i).map(|r| &self.bytes()[r])
    }

    /// The fields in a [`ByteRecord`] (for the rows kept as records: rejects, and rows of other
    /// benefits written with `--audit-all`).
    fn to_record(&self) -> ByteRecord {
        (0..self.field_count())
            .filter_map(|i| self.get(i))
            .collect()
    }
}

impl Fields for ByteRecord {
    fn field_count(&self) -> usize {
        ByteRecord::len(self)
    }

    fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        ByteRecord::range(self, i)
    }

    fn bytes(&self) -> &[u8] {
        self.as_slice()
    }

    fn to_record(&self) -> ByteRecord {
        self.clone()
    }
}

/// Reads one record: a wrong field count is a reject; otherwise [`record::parse`] decides.
pub fn parse(rec: &impl Fields, map: &ColumnMap, decoding: Decoding, vocab: &Vocabulary) -> Parsed {
    if rec.field_count() != map.width {
        return Parsed::Reject(field_count());
    }
    record::parse(field_reader(rec, map, decoding), vocab)
}

/// [`parse`] into a case the caller keeps ([`record::parse_into`]).
pub fn parse_into(
    rec: &impl Fields,
    map: &ColumnMap,
    decoding: Decoding,
    vocab: &Vocabulary,
    case: &mut Case,
) -> Kind {
    if rec.field_count() != map.width {
        return Kind::Reject(field_count());
    }
    record::parse_into(field_reader(rec, map, decoding), vocab, case)
}

fn field_count() -> Reject {
    Reject {
        column: None,
        reason: RejectReason::FieldCount,
    }
}

/// The text of each canonical column of `rec` (empty when the export lacks it), as
/// [`record::parse`] reads it.
fn field_reader<'r, F: Fields>(
    rec: &'r F,
    map: &'r ColumnMap,
    decoding: Decoding,
) -> impl Fn(Col) -> Cow<'r, str> + 'r {
    // A record that is UTF-8 as a whole, its fields split between characters, is read without a
    // look at each field (the rules read most fields, some twice).
    let text = matches!(decoding, Decoding::Utf8OrLatin | Decoding::Utf8Strict)
        .then(|| crate::input::encoding::utf8(rec.bytes()))
        .flatten()
        .filter(|text| {
            rec.fields_between_characters()
                || (0..rec.field_count()).all(|i| {
                    rec.range(i).is_some_and(|r| {
                        text.is_char_boundary(r.start) && text.is_char_boundary(r.end)
                    })
                })
        });
    move |col: Col| field_text(rec, map, decoding, text, col)
}

/// One canonical column's text for [`field_reader`]: `text` is the record's bytes as UTF-8,
/// given only when every field's range starts and ends between its characters.
#[inline(always)]
fn field_text<'r, F: Fields>(
    rec: &'r F,
    map: &ColumnMap,
    decoding: Decoding,
    text: Option<&'r str>,
    col: Col,
) -> Cow<'r, str> {
    let Some(i) = map.position(col) else {
        return Cow::Borrowed("");
    };
    match (text, rec.range(i)) {
        (Some(text), Some(range)) => {
            debug_assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
            let bytes = &text.as_bytes()[range];
            // SAFETY: `text` is UTF-8, and it is given only when each field's range starts and
            // ends between its characters (`field_reader`): so the field's bytes are UTF-8 too.
            // The rows' fields are read a dozen times each, and the two checks of a `str` slice
            // cost more than the rest of a read.
            Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(bytes) })
        }
        _ => rec
            .get(i)
            .map_or(Cow::Borrowed(""), |b| decode(b, decoding)),
    }
}

/// Makes every line end a single `\n`: `\r\n` and a lone `\r` become `\n`, and a last line
/// without one gets one. The digest is taken beneath, over the bytes as they are.
pub struct LineEnds<R> {
    inner: R,
    /// A `\r` was just turned into `\n`: a `\n` right after it is the same line end.
    skip_lf: bool,
    last: Option<u8>,
    /// How the input ended: [`ENDED`] once its end is read (nothing more is given), with
    /// [`LINE_END_ADDED`] when the last line had no line end and was given one. Shared with
    /// [`Records`], which reads it after each record.
    end: Arc<AtomicU8>,
}

/// [`LineEnds::end`]: the end of the input was read.
const ENDED: u8 = 1;
/// [`LineEnds::end`]: the input's last line had no line end and was given one.
const LINE_END_ADDED: u8 = 2;

impl<R> LineEnds<R> {
    pub fn new(inner: R) -> LineEnds<R> {
        LineEnds {
            inner,
            skip_lf: false,
            last: None,
            end: Arc::new(AtomicU8::new(0)),
        }
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                if self.last.is_some_and(|b| b != b'\n') {
                    self.end.fetch_or(LINE_END_ADDED, Ordering::Relaxed);
                    self.last = Some(b'\n');
                    buf[0] = b'\n';
                    return Ok(1);
                }
                self.end.fetch_or(ENDED, Ordering::Relaxed);
                return Ok(0);
            }
            let mut w = 0;
            if !self.skip_lf && !buf[..n].contains(&b'\r') {
                w = n;
            } else {
                // Rewritten in place: the output is never longer than the input.
                for i in 0..n {
                    let b = buf[i];
                    if std::mem::take(&mut self.skip_lf) && b == b'\n' {
                        continue;
                    }
                    if b == b'\r' {
                        self.skip_lf = true;
                        buf[w] = b'\n';
                    } else {
                        buf[w] = b;
                    }
                    w += 1;
                }
            }
            if w > 0 {
                self.last = Some(buf[w - 1]);
                return Ok(w);
            }
        }
    }
}

/// A field's line ends as [`LineEnds`] leaves them: `\r\n` and a lone `\r` as `\n` (for the
/// memory-mapped reader, `input::scan`, which reads the bytes as they are).
pub fn uniform(field: &[u8]) -> Cow<'_, [u8]> {
    if !field.contains(&b'\r') {
        return Cow::Borrowed(field);
    }
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\r' {
            out.push(b'\n');
            if field.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
        } else {
            out.push(field[i]);
        }
        i += 1;
    }
    Cow::Owned(out)
}

fn read_error(file: &str) -> impl Fn(csv::Error) -> Error + '_ {
    move |e| Error::Input {
        file: file.to_string(),
        err: std::io::Error::other(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalised(input: &[u8], chunk: usize) -> Vec<u8> {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        LineEnds::new(Chunks(input, chunk))
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn line_ends_become_one_newline_across_chunk_borders() {
        for chunk in [1, 2, 3, 64] {
            assert_eq!(normalised(b"a\r\nb\rc\n\r\nd", chunk), b"a\nb\nc\n\nd\n");
            assert_eq!(normalised(b"a\n", chunk), b"a\n");
            assert_eq!(normalised(b"\r\n\r\n", chunk), b"\n\n");
        }
        assert_eq!(normalised(b"", 8), b"");
        assert_eq!(&*uniform(b"a\r\nb\rc\nd"), b"a\nb\nc\nd");
    }
}
