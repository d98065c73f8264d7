//! The spill file of pass 1 (`.spill.csv` in the staging directory): the bonus-related rows
//! pass 2 may classify again, each as its canonical columns or as where it stands in its input
//! (a file read through a memory map, opened again then), and where each row starts in it.

use std::io::{BufWriter, Write as _};
use std::path::PathBuf;

use super::SpillRow;
use super::render::push_number;
use crate::error::Error;
use crate::input::columns::{Col, ColumnMap};
use crate::input::encoding::{Decoding, decode};
use crate::input::records::Fields;
use crate::output::dir::Staging;
use crate::output::lists::{RowEncoder, WRITE_BUFFER};

/// The spill file of pass 1, in the staging directory: kind, input, line, where the row stands
/// in each list ([`Lists::at`](super::Lists::at)), then the canonical columns (kinds `B` and `O`), or where the row
/// stands in its input (kind `M`, see [`SpillRow::InInput`]).
pub(super) const SPILL: &str = ".spill.csv";

/// Fields of a spilled row before its canonical columns.
pub(super) const SPILL_HEAD: usize = 6;

/// The spill file being written.
pub(super) struct Spill {
    file: BufWriter<std::fs::File>,
    /// A row's fields before its columns.
    head: Vec<u8>,
    len: u64,
    /// Where each bonus-related row starts in the file.
    starts: Starts,
}

/// The spill file written: where it is, where each bonus-related row starts, its length.
pub(super) struct Spilled {
    pub(super) path: PathBuf,
    pub(super) starts: Starts,
    pub(super) len: u64,
}

/// Where each bonus-related row starts in the spill file, as runs of rows: a `B` row (any
/// length) is a run of its own, and `M` rows ([`InInput::LEN`] bytes each) one after another
/// are one run. A file scan keeps a run per input, not a number per row (4 MB on 500,000 rows).
#[derive(Debug, Default)]
pub(super) struct Starts {
    runs: Vec<Run>,
    /// Bonus-related rows so far.
    rows: u32,
}

#[derive(Debug)]
struct Run {
    /// Its first row's number among the bonus-related rows, and where it starts.
    first: u32,
    at: u64,
    /// Rows of [`InInput::LEN`] bytes each.
    fixed: bool,
}

impl Starts {
    /// The next bonus-related row starts at `at`; `fixed` for an `M` row.
    fn push(&mut self, at: u64, fixed: bool) {
        let n = self.rows;
        self.rows += 1;
        if let Some(run) = self.runs.last()
            && fixed
            && run.fixed
            && at == run.at + u64::from(n - run.first) * InInput::LEN as u64
        {
            return;
        }
        self.runs.push(Run {
            first: n,
            at,
            fixed,
        });
    }

    /// Where bonus-related row `n` starts and ends in a spill file of `len` bytes.
    pub(super) fn span(&self, n: u32, len: u64) -> Option<(u64, u64)> {
        let i = self
            .runs
            .partition_point(|run| run.first <= n)
            .checked_sub(1)?;
        let run = &self.runs[i];
        let next = self.runs.get(i + 1).map_or(len, |next| next.at);
        let (start, end) = if run.fixed {
            let start = run.at + u64::from(n - run.first) * InInput::LEN as u64;
            (start, start + InInput::LEN as u64)
        } else {
            (run.at, next)
        };
        (n < self.rows && (run.fixed || n == run.first) && end <= next).then_some((start, end))
    }
}

impl Spill {
    /// Creates the spill file in the staging directory.
    pub(super) fn create(staging: &Staging) -> Result<Spill, Error> {
        Ok(Spill {
            file: BufWriter::with_capacity(WRITE_BUFFER, staging.create_file(SPILL)?),
            head: Vec::with_capacity(64),
            len: 0,
            starts: Starts::default(),
        })
    }

    /// Writes out what is buffered: the spill file as pass 2 reads it.
    pub(super) fn finish(mut self, staging: &Staging) -> Result<Spilled, Error> {
        self.file.flush().map_err(|e| Error::output(SPILL, e))?;
        Ok(Spilled {
            path: staging.path().join(SPILL),
            starts: self.starts,
            len: self.len,
        })
    }

    /// Writes a row: kind (`B` bonus-related with its columns, `M` bonus-related where it stands
    /// in its input, `O` another benefit's), input, line, where it stands in the lists, then its
    /// canonical columns (as [`spill_columns`] encoded them) or its place in the input. `B` and
    /// `O` rows are CSV (`explain` reads them back with the csv crate); an `M` row is its kind
    /// and [`InInput`] in binary, as most of a scan's rows are and pass 2 reads few of them.
    pub(super) fn row(
        &mut self,
        bonus: bool,
        s: u32,
        line: u64,
        at: [u64; 3],
        row: &SpillRow,
    ) -> Result<(), Error> {
        if bonus {
            let fixed = matches!(row, SpillRow::InInput { .. });
            self.starts.push(self.len, fixed);
        }
        let head = &mut self.head;
        head.clear();
        let columns: &[u8] = match row {
            SpillRow::InInput { start, end } => {
                InInput {
                    s,
                    line,
                    at,
                    start: *start,
                    end: *end,
                }
                .write(head);
                &[]
            }
            SpillRow::Columns(columns) => {
                head.push(if bonus { b'B' } else { b'O' });
                for n in [u64::from(s), line, at[0], at[1], at[2]] {
                    head.push(b',');
                    push_number(head, n);
                }
                head.push(b',');
                columns
            }
        };
        self.len += (head.len() + columns.len()) as u64;
        self.file
            .write_all(head)
            .and_then(|()| self.file.write_all(columns))
            .map_err(|e| Error::output(SPILL, e))
    }
}

/// A spilled `M` row: a bonus-related row of a mapped input, by where it stands in its input
/// (its bytes, its line end left out) and in the lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct InInput {
    pub(super) s: u32,
    pub(super) line: u64,
    pub(super) at: [u64; 3],
    pub(super) start: u64,
    pub(super) end: u64,
}

impl InInput {
    /// Its length in the spill file: `M`, then its numbers in little-endian order.
    pub(super) const LEN: usize = 1 + 4 + 6 * 8;

    fn write(&self, out: &mut Vec<u8>) {
        out.push(b'M');
        out.extend_from_slice(&self.s.to_le_bytes());
        for n in [
            self.line, self.at[0], self.at[1], self.at[2], self.start, self.end,
        ] {
            out.extend_from_slice(&n.to_le_bytes());
        }
    }

    /// Reads an `M` row as [`InInput::write`] wrote it.
    pub(super) fn read(row: &[u8]) -> Option<InInput> {
        let (b'M', rest) = row.split_first()? else {
            return None;
        };
        if rest.len() != Self::LEN - 1 {
            return None;
        }
        let (s, rest) = rest.split_at(4);
        let n =
            |i: usize| u64::from_le_bytes(rest[8 * i..8 * i + 8].try_into().unwrap_or_default());
        Some(InInput {
            s: u32::from_le_bytes(s.try_into().ok()?),
            line: n(0),
            at: [n(1), n(2), n(3)],
            start: n(4),
            end: n(5),
        })
    }
}

/// A file input a scan read through a memory map, for pass 2 to read its bonus-related rows
/// again ([`SpillRow::InInput`]): where it is, which file it was, and what reading a row of it
/// takes. It is opened again rather than held open, so that a scan of thousands of exports does
/// not run out of file descriptors.
pub(super) struct MappedInput {
    pub(super) path: PathBuf,
    /// The file as pass 1 read it: device, inode, size and modification time.
    pub(super) identity: FileIdentity,
    /// Bytes before the first record's data (a byte-order mark).
    pub(super) skip: u64,
    pub(super) map: ColumnMap,
    pub(super) decoding: Decoding,
    pub(super) delimiter: u8,
}

/// What tells a file apart from another, or from itself rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileIdentity {
    dev: u64,
    ino: u64,
    len: u64,
    modified: (i64, i64),
}

impl FileIdentity {
    /// The file's length, as it was.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    pub(super) fn of(meta: &std::fs::Metadata) -> FileIdentity {
        use std::os::unix::fs::MetadataExt as _;
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            modified: (meta.mtime(), meta.mtime_nsec()),
        }
    }
}

/// A row's canonical columns, decoded and encoded as the spill file holds them after its kind,
/// input and line: made where the row is read, in parallel.
pub(super) fn spill_columns(rec: &impl Fields, map: &ColumnMap, decoding: Decoding) -> Vec<u8> {
    let mut out = Vec::with_capacity(rec.bytes().len() + 32);
    let columns = Col::ALL.map(|col| {
        let field = map
            .position(col)
            .and_then(|i| rec.get(i))
            .unwrap_or_default();
        decode(field, decoding)
    });
    RowEncoder::with_delimiter(b',')
        .encode_into(&columns.each_ref().map(|c| c.as_bytes()), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_in_its_input_is_read_back_as_spilled_and_a_cut_one_is_not() {
        let row = InInput {
            s: 7,
            line: 1 << 40,
            at: [3, u64::MAX, 0],
            start: 120,
            end: 431,
        };
        let mut spilled = Vec::new();
        row.write(&mut spilled);
        assert_eq!(spilled.len(), InInput::LEN);
        assert_eq!(InInput::read(&spilled), Some(row));
        assert_eq!(InInput::read(&spilled[..InInput::LEN - 1]), None);
        spilled[0] = b'B';
        assert_eq!(InInput::read(&spilled), None);
    }

    #[test]
    fn each_spilled_row_is_found_where_it_was_written() {
        let len = InInput::LEN as u64;
        // (length, fixed): M rows in runs, B rows of their own lengths between and after them.
        let rows = [
            (len, true),
            (len, true),
            (120, false),
            (len, true),
            (len, true),
            (len, true),
            (7, false),
            (9, false),
            (len, true),
        ];
        let mut starts = Starts::default();
        let mut at = 0;
        let mut expected = Vec::new();
        for (n, &(row_len, fixed)) in rows.iter().enumerate() {
            starts.push(at, fixed);
            expected.push((n as u32, Some((at, at + row_len))));
            at += row_len;
        }
        assert_eq!(starts.runs.len(), 6, "{starts:?}");
        for (n, span) in expected {
            assert_eq!(starts.span(n, at), span, "row {n}");
        }
        assert_eq!(starts.span(rows.len() as u32, at), None);
    }
}
