//! The records of one input, as `scan`, `check` and the fuzz target all read them: the source opened
//! (encoding and delimiter found), its header matched to the canonical columns, then one raw
//! record at a time with the physical line it starts on, each read into a [`Parsed`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use csv::ByteRecord;

use crate::error::Error;
use crate::input::columns::{Col, ColumnMap};
use crate::input::encoding::{Decoding, EncodingChoice, decode};
use crate::input::record::{self, Parsed, Reject, RejectReason};
use crate::input::source::{self, DigestKind, Source, Stream};
use crate::input::values::Vocabulary;

/// One input whose header has been read and matched.
pub struct Records {
    /// The input's name as given (`stdin` for `-`).
    pub file: String,
    reader: csv::Reader<Stream>,
    pub map: ColumnMap,
    pub decoding: Decoding,
    /// The encoding's name as `summary.json` and `check` give it.
    pub encoding_name: &'static str,
    pub delimiter: u8,
    /// Bytes read so far, shared with the reader (for the progress bar).
    pub bytes: Arc<AtomicU64>,
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
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(opened.delimiter)
            .buffer_capacity(256 * 1024)
            .from_reader(opened.stream);
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
        })
    }

    /// Reads the next record into `rec`; false at the end of the input.
    pub fn read(&mut self, rec: &mut ByteRecord) -> Result<bool, Error> {
        self.reader
            .read_byte_record(rec)
            .map_err(read_error(&self.file))
    }

    /// Ends the input: its digest (none with `--digest none`).
    pub fn finish(self) -> Option<String> {
        source::finish(self.reader.into_inner())
    }

    /// Ends the input: its digest, and its SHA-256 when opened with it.
    pub fn finish_with_sha256(self) -> (Option<String>, Option<String>) {
        source::finish_with_sha256(self.reader.into_inner())
    }

    /// The delimiter as `summary.json` and `check` write it (`\t` for a tab).
    pub fn delimiter_name(&self) -> String {
        match self.delimiter {
            b'\t' => "\\t".to_string(),
            d => (d as char).to_string(),
        }
    }
}

/// The physical line a record starts on, the header being line 1.
pub fn line(rec: &ByteRecord) -> u64 {
    rec.position().map_or(0, |p| p.line())
}

/// Reads one record: a wrong field count is a reject; otherwise [`record::parse`] decides.
pub fn parse(rec: &ByteRecord, map: &ColumnMap, decoding: Decoding, vocab: &Vocabulary) -> Parsed {
    if rec.len() != map.width {
        return Parsed::Reject(Reject {
            column: None,
            reason: RejectReason::FieldCount,
        });
    }
    let get = |col: Col| {
        map.position(col)
            .and_then(|i| rec.get(i))
            .map_or(Cow::Borrowed(""), |b| decode(b, decoding))
    };
    record::parse(get, vocab)
}

fn read_error(file: &str) -> impl Fn(csv::Error) -> Error + '_ {
    move |e| Error::Input {
        file: file.to_string(),
        err: std::io::Error::other(e.to_string()),
    }
}
