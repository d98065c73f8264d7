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

/// One CSV output file.
pub struct CsvOut {
    name: String,
    writer: csv::Writer<BufWriter<File>>,
    pub rows: u64,
}

impl CsvOut {
    pub fn create(
        staging: &Staging,
        name: &str,
        header: &[&str],
        excel: bool,
    ) -> Result<CsvOut, Error> {
        let mut file = BufWriter::with_capacity(256 * 1024, staging.create_file(name)?);
        if excel {
            file.write_all(b"\xEF\xBB\xBF")
                .map_err(|e| Error::output(staging.path().join(name), e))?;
        }
        let writer = csv::WriterBuilder::new()
            .delimiter(if excel { b';' } else { b',' })
            .from_writer(file);
        let mut out = CsvOut {
            name: name.to_string(),
            writer,
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
        self.rows += 1;
        self.writer.write_record(record).map_err(|e| self.error(e))
    }

    fn error(&self, e: csv::Error) -> Error {
        Error::output(&self.name, std::io::Error::other(e.to_string()))
    }

    pub fn finish(self) -> Result<(), Error> {
        let name = self.name.clone();
        let file = self
            .writer
            .into_inner()
            .map_err(|e| Error::output(&name, std::io::Error::other(e.to_string())))?;
        file.into_inner()
            .map_err(|e| Error::output(&name, std::io::Error::other(e.to_string())))?
            .sync_all()
            .map_err(|e| Error::output(&name, e))
    }
}
