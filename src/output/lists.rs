//! The row files (SPEC §5): `reopen.csv`, `review.csv` and `audit.csv` share one row shape;
//! `rejects.csv` has its own. `--excel` writes them with `;` and a UTF-8 byte-order mark.

use std::fs::File;
use std::io::{BufWriter, Write};

use crate::error::Error;
use crate::output::dir::Staging;

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

/// Encodes rows as the CSV outputs write them (the csv crate's own writer, `csv_core`), so that
/// rows can be encoded where they are made, in parallel, and only their bytes written in order
/// ([`CsvOut::write_encoded`]).
pub struct RowEncoder {
    core: csv_core::Writer,
}

impl RowEncoder {
    /// The encoder of the outputs: `;` with `--excel`, else `,`.
    pub fn new(excel: bool) -> RowEncoder {
        RowEncoder::with_delimiter(if excel { b';' } else { b',' })
    }

    pub fn with_delimiter(delimiter: u8) -> RowEncoder {
        RowEncoder {
            core: csv_core::WriterBuilder::new().delimiter(delimiter).build(),
        }
    }

    /// Appends one encoded row, its line end included, to `out`.
    pub fn encode_into<T: AsRef<[u8]>>(&mut self, record: &[T], out: &mut Vec<u8>) {
        // Room for the worst case: every byte a quote, two quotes and a delimiter per field.
        let room: usize = record
            .iter()
            .map(|f| 2 * f.as_ref().len() + 3)
            .sum::<usize>()
            + 4;
        let mut at = out.len();
        out.resize(at + room, 0);
        for (i, field) in record.iter().enumerate() {
            if i > 0 {
                let (_, n) = self.core.delimiter(&mut out[at..]);
                at += n;
            }
            let (_, _, n) = self.core.field(field.as_ref(), &mut out[at..]);
            at += n;
        }
        let (_, n) = self.core.terminator(&mut out[at..]);
        out.truncate(at + n);
    }
}

/// One CSV output file.
pub struct CsvOut {
    name: String,
    file: BufWriter<File>,
    encoder: RowEncoder,
    row: Vec<u8>,
    pub rows: u64,
}

impl CsvOut {
    pub fn create(
        staging: &Staging,
        name: &str,
        header: &[&str],
        excel: bool,
    ) -> Result<CsvOut, Error> {
        let mut file = BufWriter::with_capacity(1 << 20, staging.create_file(name)?);
        if excel {
            file.write_all(b"\xEF\xBB\xBF")
                .map_err(|e| Error::output(staging.path().join(name), e))?;
        }
        let mut out = CsvOut {
            name: name.to_string(),
            file,
            encoder: RowEncoder::new(excel),
            row: Vec::new(),
            rows: 0,
        };
        out.write(header)?;
        out.rows = 0;
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

    /// Writes a row encoded by a [`RowEncoder`] of the same delimiter.
    pub fn write_encoded(&mut self, row: &[u8]) -> Result<(), Error> {
        self.rows += 1;
        self.file
            .write_all(row)
            .map_err(|e| Error::output(&self.name, e))
    }

    pub fn finish(self) -> Result<(), Error> {
        let name = self.name.clone();
        self.file
            .into_inner()
            .map_err(|e| Error::output(&name, std::io::Error::other(e.to_string())))?
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
            let mut encoder = RowEncoder::new(excel);
            let mut writer = csv::WriterBuilder::new()
                .flexible(true)
                .delimiter(if excel { b';' } else { b',' })
                .from_writer(Vec::new());
            let mut ours = Vec::new();
            for row in rows {
                writer.write_record(*row).unwrap();
                encoder.encode_into(row, &mut ours);
            }
            assert_eq!(ours, writer.into_inner().unwrap(), "excel {excel}");
        }
    }
}
