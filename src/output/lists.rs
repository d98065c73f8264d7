//! The row files (SPEC §5): `reopen.csv`, `review.csv` and `audit.csv` share one row shape;
//! `rejects.csv` has its own. `--excel` writes them with `;` and a UTF-8 byte-order mark.

use std::fs::File;
use std::io::{BufWriter, Write};

use crate::error::Error;
use crate::output::dir::Staging;
use crate::output::direct::Direct;

pub const LIST_COLUMNS: [&str; 19] = [
    "source",
    "line",
    "case_id",
    "cpr",
    "municipality_code",
    "decided_by",
    "application_date",
    "decision_date",
    "classification",
    "expected_outcome",
    "rule",
    "c1_person",
    "c2_self_supporting",
    "c3_exam",
    "c4_first_time",
    "ground",
    "program",
    "warnings",
    "explanation",
];

pub const REJECT_COLUMNS: [&str; 5] = ["source", "line", "column", "reason", "raw"];

/// Encodes rows exactly as the csv crate's writer writes them (a field is quoted when it holds
/// the delimiter, a quote, `\r` or `\n`, its quotes doubled; a record of one empty field is
/// `""`), so that rows can be encoded where they are made, in parallel, and only their bytes
/// written in order ([`CsvOut::write_encoded`]). A test holds it to the csv crate's writer.
#[derive(Clone, Copy)]
pub struct RowEncoder {
    delimiter: u8,
}

impl RowEncoder {
    /// The encoder of the outputs: `;` with `--excel`, else `,`.
    pub fn new(excel: bool) -> RowEncoder {
        RowEncoder::with_delimiter(if excel { b';' } else { b',' })
    }

    pub fn with_delimiter(delimiter: u8) -> RowEncoder {
        RowEncoder { delimiter }
    }

    /// Appends one field, quoted where it must be (no delimiter before it).
    pub fn encode_field(&self, field: &[u8], out: &mut Vec<u8>) {
        let (special, quotes) = specials(field, self.delimiter);
        if !special {
            out.extend_from_slice(field);
            return;
        }
        out.reserve(field.len() + 2);
        out.push(b'"');
        if quotes {
            for part in field.split_inclusive(|&b| b == b'"') {
                out.extend_from_slice(part);
                if part.ends_with(b"\"") {
                    out.push(b'"');
                }
            }
        } else {
            out.extend_from_slice(field);
        }
        out.push(b'"');
    }

    /// The delimiter between fields.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Appends one encoded row, its line end included, to `out`.
    pub fn encode_into<T: AsRef<[u8]>>(&mut self, record: &[T], out: &mut Vec<u8>) {
        let start = out.len();
        let d = self.delimiter;
        for (i, field) in record.iter().enumerate() {
            let field = field.as_ref();
            if i > 0 {
                out.push(d);
            }
            self.encode_field(field, out);
        }
        if out.len() == start {
            out.extend_from_slice(b"\"\"");
        }
        out.push(b'\n');
    }
}

/// Whether a field holds the delimiter, a quote or a line end (and so is quoted), and whether it
/// holds a quote (which is doubled). `memchr` looks at many bytes at a time: the explanation of
/// every row is a few hundred bytes long. The short fields of every row (case id, CPR number,
/// municipality code) are looked at eight bytes at a time in two words, with no call at all.
fn specials(field: &[u8], d: u8) -> (bool, bool) {
    if field.len() <= 16 {
        // Zero bytes pad the field: none of the four bytes looked for is zero.
        let mut bytes = [0u8; 16];
        bytes[..field.len()].copy_from_slice(field);
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let (lo, hi) = (word(0), word(8));
        let holds = |byte: u8| holds_byte(lo, byte) | holds_byte(hi, byte);
        let quote = holds(b'"');
        let special = quote | holds(d) | holds(b'\n') | holds(b'\r');
        return (special, quote);
    }
    let quote = memchr::memchr(b'"', field).is_some();
    let special = quote || memchr::memchr3(d, b'\n', b'\r', field).is_some();
    (special, quote)
}

/// Whether one of the eight bytes of `word` is `byte` (the classic test for a zero byte, after
/// the bytes equal to `byte` are made zero: exact for "any", whatever the bytes above).
fn holds_byte(word: u64, byte: u8) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let v = word ^ (ONES * u64::from(byte));
    v.wrapping_sub(ONES) & !v & HIGHS != 0
}

/// Asks the kernel to start writing the bytes `from..to` of a file to disk, without waiting
/// (Linux's `sync_file_range`; elsewhere nothing): the `fsync` of [`CsvOut::finish`] then finds
/// most of them written. Only a hint: a failure shows at that `fsync`.
pub fn write_behind_range(file: &File, from: u64, to: u64) {
    if let (Ok(from), Ok(len @ 1..)) = (i64::try_from(from), i64::try_from(to.saturating_sub(from)))
    {
        sync_range(file, from, len);
    }
}

/// The thread that hands lists' written bytes to the disk while the run goes on
/// (`sync_file_range`, which places the blocks and blocks while the device's queue is full: on
/// the thread that writes the lists in order, or on the patching thread in pass 2, it holds the
/// run up). The lists share one. A few ranges wait for it at most, each with a descriptor of
/// its list: on a disk slower than the run, the writing then waits for the disk, as the `fsync`
/// at the end would, rather than holding a descriptor for every few MiB. Without a thread of its
/// own (the system would not start one), the writing thread hands each range on itself.
#[derive(Clone)]
pub struct Behind(Option<std::sync::mpsc::SyncSender<(File, u64, u64)>>);

/// Ranges that may wait for the write-behind thread.
const BEHIND_QUEUE: usize = 8;

impl Behind {
    /// Starts the thread; it ends once every copy of the handle is dropped.
    pub fn start() -> Behind {
        let (send, receive) = std::sync::mpsc::sync_channel::<(File, u64, u64)>(BEHIND_QUEUE);
        let started = std::thread::Builder::new()
            .name("genoptag-behind".into())
            .spawn(move || {
                for (file, from, to) in receive {
                    write_behind_range(&file, from, to);
                }
            });
        Behind(started.ok().map(|_| send))
    }

    /// No thread: each range is handed on where it is asked for.
    pub fn here() -> Behind {
        Behind(None)
    }

    /// Hands `from..to` of `file` to the disk: to the thread, or here when there is none.
    pub fn hand(&self, file: &File, from: u64, to: u64) -> bool {
        match &self.0 {
            Some(send) => file
                .try_clone()
                .is_ok_and(|file| send.send((file, from, to)).is_ok()),
            None => {
                write_behind_range(file, from, to);
                true
            }
        }
    }
}

/// `sync_file_range(file, from, len, SYNC_FILE_RANGE_WRITE)`: `len` 0 is to the file's end.
fn sync_range(file: &File, from: i64, len: i64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor is open for as long as `file` is borrowed; the call only
        // starts write-out of the file's dirty pages.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), from, len, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, from, len);
}

/// How much of a CSV output is gathered before it is written: little enough to stay in the
/// processor's cache while the kernel copies it (pass 1 of the 10M-row scan, five runs each:
/// 865 ms with 128 KiB, 898 ms and 4-8 MB more memory with 1 MiB).
pub const WRITE_BUFFER: usize = 128 << 10;

/// One CSV output file.
pub struct CsvOut {
    name: String,
    sink: Sink,
    encoder: RowEncoder,
    row: Vec<u8>,
    /// Bytes written so far (byte-order mark and header included): where the next row starts.
    pub len: u64,
    /// Bytes written since the kernel was last asked to start writing them to disk.
    unsynced: usize,
    /// Where the bytes go to disk as the file grows: on the writing thread, or on a thread of
    /// their own ([`CsvOut::behind`]).
    behind: Behind,
    /// How far the file has been handed to `behind`.
    handed: u64,
}

/// Where a CSV output's bytes go.
enum Sink {
    /// Through the page cache, handed to the disk as the file grows.
    Cached(BufWriter<File>),
    /// Straight to disk ([`CsvOut::create_direct`]).
    Direct(Direct),
}

impl Sink {
    fn cached(file: File) -> Sink {
        Sink::Cached(BufWriter::with_capacity(WRITE_BUFFER, file))
    }
}

/// How many bytes a list may hold in the page cache before the kernel is asked to start writing
/// them out, so that the `fsync` at the end waits for little.
const WRITE_BEHIND: usize = 8 << 20;

impl CsvOut {
    pub fn create(
        staging: &Staging,
        name: &str,
        header: &[&str],
        excel: bool,
    ) -> Result<CsvOut, Error> {
        let file = staging.create_file(name)?;
        CsvOut::with_sink(name, Sink::cached(file), header, excel)
    }

    /// [`CsvOut::create`], the file written straight to disk ([`Direct`]) where the system
    /// can: for a list of many rows, written once.
    pub fn create_direct(
        staging: &Staging,
        name: &str,
        header: &[&str],
        excel: bool,
    ) -> Result<CsvOut, Error> {
        let file = staging.create_file(name)?;
        let sink = match Direct::open(file, &staging.path().join(name)) {
            Ok(direct) => Sink::Direct(direct),
            Err(file) => Sink::cached(file),
        };
        CsvOut::with_sink(name, sink, header, excel)
    }

    fn with_sink(name: &str, sink: Sink, header: &[&str], excel: bool) -> Result<CsvOut, Error> {
        let mut out = CsvOut {
            name: name.to_string(),
            sink,
            encoder: RowEncoder::new(excel),
            row: Vec::new(),
            len: 0,
            unsynced: 0,
            behind: Behind::here(),
            handed: 0,
        };
        if excel {
            out.write_parts(&[b"\xEF\xBB\xBF"])?;
        }
        out.write(header)?;
        Ok(out)
    }

    pub fn write<I, T>(&mut self, record: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut row = std::mem::take(&mut self.row);
        row.clear();
        let fields: Vec<T> = record.into_iter().collect();
        self.encoder.encode_into(&fields, &mut row);
        let written = self.write_encoded(&row);
        self.row = row;
        written
    }

    /// Hands the file's bytes to the disk on `behind`'s thread as it grows, not on the thread
    /// that writes it (a file written through the page cache).
    pub fn behind(mut self, behind: &Behind) -> CsvOut {
        self.behind = behind.clone();
        self
    }

    /// Whether the file is written straight to disk ([`CsvOut::create_direct`]).
    pub fn is_direct(&self) -> bool {
        matches!(self.sink, Sink::Direct(_))
    }

    /// Writes a row encoded by a [`RowEncoder`] of the same delimiter.
    pub fn write_encoded(&mut self, row: &[u8]) -> Result<(), Error> {
        self.write_parts(&[row])
    }

    /// Writes one row given in parts (encoded, the line end in the last).
    pub fn write_parts(&mut self, parts: &[&[u8]]) -> Result<(), Error> {
        let bytes: usize = parts.iter().map(|p| p.len()).sum();
        self.len += bytes as u64;
        let written = match &mut self.sink {
            Sink::Cached(file) => {
                self.unsynced += bytes;
                if self.unsynced >= WRITE_BEHIND {
                    self.unsynced = 0;
                    // What the buffer holds is not in the file yet: it goes with the next range.
                    let to = self.len - (bytes + file.buffer().len()) as u64;
                    self.behind.hand(file.get_ref(), self.handed, to);
                    self.handed = to;
                }
                parts.iter().try_for_each(|part| file.write_all(part))
            }
            Sink::Direct(direct) => parts.iter().try_for_each(|part| direct.write_all(part)),
        };
        written.map_err(|e| Error::output(&self.name, e))
    }

    /// The file with every byte written to it, not yet synced to disk.
    fn into_file(self) -> Result<File, Error> {
        let name = self.name;
        match self.sink {
            Sink::Cached(file) => file
                .into_inner()
                .map_err(|e| Error::output(&name, std::io::Error::other(e.to_string()))),
            Sink::Direct(direct) => direct.finish().map_err(|e| Error::output(&name, e)),
        }
    }

    /// Writes out what is buffered, without waiting for the disk: the file may still be patched
    /// (see `pipeline::pass2::patch`) before it is synced to disk.
    pub fn flush(self) -> Result<(), Error> {
        self.into_file().map(drop)
    }

    pub fn finish(self) -> Result<(), Error> {
        let name = self.name.clone();
        self.into_file()?
            .sync_all()
            .map_err(|e| Error::output(&name, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_encoded_as_the_csv_writer_writes_them() {
        let rows: &[&[&str]] = &[
            &["a", "b"],
            &[""],
            &["", ""],
            &[
                "x,y",
                "say \"hi\"",
                "two\nlines",
                "cr\r",
                " lead",
                "#",
                "semi;colon",
            ],
            &[],
        ];
        for excel in [false, true] {
            let (ours, theirs) = encoded_both_ways(excel, rows.iter());
            assert_eq!(ours, theirs, "excel {excel}");
        }
    }

    /// `rows` encoded by a [`RowEncoder`] and by the csv crate's writer, with `;` for `excel`.
    fn encoded_both_ways<R: AsRef<[u8]>>(
        excel: bool,
        rows: impl Iterator<Item = impl AsRef<[R]>>,
    ) -> (Vec<u8>, Vec<u8>) {
        let mut encoder = RowEncoder::new(excel);
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .delimiter(if excel { b';' } else { b',' })
            .from_writer(Vec::new());
        let mut ours = Vec::new();
        for row in rows {
            let row = row.as_ref();
            writer.write_record(row).unwrap();
            encoder.encode_into(row, &mut ours);
        }
        (ours, writer.into_inner().unwrap())
    }

    #[test]
    fn random_rows_are_encoded_as_the_csv_writer_writes_them() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as usize
        };
        const BYTES: &[u8] = b"ab ,;\"\r\n\t|\xc3\xa6";
        const PLAIN: &[u8] = b"ab0 -\xc3\xa6";
        for excel in [false, true] {
            // Short fields and long ones (across the 8-, 16- and 32-byte ways of looking), most
            // plain with at most one byte to quote for.
            let rows: Vec<Vec<Vec<u8>>> = (0..4000)
                .map(|_| {
                    (0..next(5))
                        .map(|_| {
                            let len = [next(6), next(40)][next(2)];
                            let mut field: Vec<u8> =
                                (0..len).map(|_| PLAIN[next(PLAIN.len() as u64)]).collect();
                            if !field.is_empty() && next(2) == 0 {
                                let at = next(field.len() as u64);
                                field[at] = BYTES[next(BYTES.len() as u64)];
                            }
                            field
                        })
                        .collect()
                })
                .collect();
            let (ours, theirs) = encoded_both_ways(excel, rows.iter());
            assert_eq!(ours, theirs, "excel {excel}");
        }
    }
}
