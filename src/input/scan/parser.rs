//! The full reading of one record, for the records the quick scan does not read itself: the csv
//! crate's own parser (`csv_core`) into a reused [`ByteRecord`], and the line ends it spans.

use csv::ByteRecord;

use super::Span;
use super::SplitRow;
use crate::input::records::{Fields, uniform};

/// Reads one record exactly as the csv crate does (it is the csv crate's parser), into a
/// reused [`ByteRecord`].
pub struct RecordParser {
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    /// A quoted field's content, its doubled quotes made single.
    field: Vec<u8>,
    /// Where the fields of a record split where it stands lie ([`SplitRow`]).
    split: Vec<(usize, usize)>,
    pub record: ByteRecord,
}

impl RecordParser {
    pub fn new(delimiter: u8) -> RecordParser {
        RecordParser {
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            out: vec![0; 1024],
            ends: vec![0; 64],
            field: Vec::new(),
            split: Vec::new(),
            record: ByteRecord::new(),
        }
    }

    /// Reads a record the quick scan found (`span` in `data`): one whose quotes only enclose
    /// whole fields is split where it stands ([`SplitRow`]) — which is how `csv_core` reads it,
    /// since the quick scan hands every record with a lone `\r` to `csv_core` itself — and its
    /// fields copied; any other is read by [`RecordParser::read_unsplit`].
    pub fn read(&mut self, data: &[u8], span: Span, delimiter: u8) {
        let raw = &data[span.start..span.end];
        let Some(row) = SplitRow::split(raw, delimiter, &mut self.split) else {
            self.read_unsplit(data, span, delimiter);
            return;
        };
        self.record.clear();
        for i in 0..row.field_count() {
            self.record.push_field(row.get(i).unwrap_or_default());
        }
    }

    /// Reads a record the quick scan found that [`SplitRow::split`] leaves alone: one whose
    /// quoted fields hold doubled quotes is read here (`RecordParser::read_quoted`), any other
    /// by `csv_core`.
    pub fn read_unsplit(&mut self, data: &[u8], span: Span, delimiter: u8) {
        if !self.read_quoted(&data[span.start..span.end], delimiter) {
            self.parse(&data[span.start..]);
        }
    }

    /// Reads a record whose quoted fields are quoted as a writer quotes them: a quote opens the
    /// field, a doubled quote inside stands for one, and the closing quote is followed by the
    /// delimiter or the end. That is all `csv_core` does with them. False, the record half
    /// read, for anything else — a quote inside an unquoted field, text after a closing quote,
    /// no closing quote, a `\r` (which the stream reader's line ends would change) — which is
    /// left to `csv_core`.
    fn read_quoted(&mut self, raw: &[u8], delimiter: u8) -> bool {
        if memchr::memchr(b'\r', raw).is_some() {
            return false;
        }
        self.record.clear();
        let mut at = 0;
        loop {
            if raw.get(at) == Some(&b'"') {
                self.field.clear();
                let mut from = at + 1;
                loop {
                    let Some(quote) = memchr::memchr(b'"', &raw[from..]).map(|q| from + q) else {
                        return false;
                    };
                    self.field.extend_from_slice(&raw[from..quote]);
                    if raw.get(quote + 1) == Some(&b'"') {
                        self.field.push(b'"');
                        from = quote + 2;
                    } else {
                        at = quote + 1;
                        break;
                    }
                }
                self.record.push_field(&self.field);
                match raw.get(at) {
                    None => return true,
                    Some(&b) if b == delimiter => at += 1,
                    Some(_) => return false,
                }
            } else {
                let end = memchr::memchr(delimiter, &raw[at..]).map_or(raw.len(), |e| at + e);
                let field = &raw[at..end];
                if memchr::memchr(b'"', field).is_some() {
                    return false;
                }
                self.record.push_field(field);
                if end == raw.len() {
                    return true;
                }
                at = end + 1;
            }
        }
    }

    /// Reads the record that starts at the beginning of `input` (no leading line ends; `input`
    /// runs to the end of the data) into `self.record`. Returns the bytes consumed, its line end
    /// included (of a CRLF, only the `\r`), or none when `input` holds no record.
    pub fn parse(&mut self, input: &[u8]) -> Option<usize> {
        use csv_core::ReadRecordResult as R;
        self.core.reset();
        let (mut nin, mut nout, mut nend) = (0, 0, 0);
        loop {
            let (res, i, o, e) =
                self.core
                    .read_record(&input[nin..], &mut self.out[nout..], &mut self.ends[nend..]);
            nin += i;
            nout += o;
            nend += e;
            match res {
                // The input runs to the end of the data: the next call sees the end.
                R::InputEmpty => {}
                R::OutputFull => self.out.resize(self.out.len() * 2, 0),
                R::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                R::Record => break,
                R::End => return None,
            }
        }
        self.record.clear();
        let mut from = 0;
        // Line ends inside quoted fields as the streaming reader gives them (`LineEnds`); most
        // records have no `\r` to change, which one look at all their fields tells.
        let plain = memchr::memchr(b'\r', &self.out[..nout]).is_none();
        for &to in &self.ends[..nend] {
            let field = &self.out[from..to];
            if plain {
                self.record.push_field(field);
            } else {
                self.record.push_field(&uniform(field));
            }
            from = to;
        }
        Some(nin)
    }
}

/// Line ends in `buf[from..to]`: each `\n`, and each `\r` not followed by `\n` (looking past
/// `to` when needed).
pub fn count_line_ends(buf: &[u8], from: usize, to: usize) -> u64 {
    let mut n = 0;
    for i in from..to {
        match buf[i] {
            b'\n' => n += 1,
            b'\r' if buf.get(i + 1) != Some(&b'\n') => n += 1,
            _ => {}
        }
    }
    n
}
