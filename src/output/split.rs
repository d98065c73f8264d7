//! The lists per authority (`--split-by-authority`, SPEC §6.1): `reopen/<authority>.csv` and
//! `review/<authority>.csv` beside the full lists, one per `decided_by`, since the authority that
//! last handled a case decides its reopening. A file is created with its first row, so only
//! authorities with rows get one; its name comes from the validated authority, never from raw input.
//! They are made from the finished full lists, so they hold the same rows byte for byte.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use crate::error::Error;
use crate::output::dir::Staging;
use crate::output::lists::{CsvOut, LIST_COLUMNS};
use crate::rules::Authority;

/// Which full list a row is on, and so which folder its authority's file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum List {
    Reopen,
    Review,
}

impl List {
    fn folder(self) -> &'static str {
        match self {
            List::Reopen => "reopen",
            List::Review => "review",
        }
    }
}

/// Writes `reopen/<authority>.csv` and `review/<authority>.csv` from the finished `reopen.csv`
/// and `review.csv` in the staging directory, by their `decided_by` column.
pub fn split_lists(staging: &Staging, excel: bool) -> Result<(), Error> {
    let decided_by = LIST_COLUMNS
        .iter()
        .position(|&c| c == "decided_by")
        .expect("decided_by is a list column");
    let mut split = SplitLists::new(staging, excel);
    for (list, name) in [(List::Reopen, "reopen.csv"), (List::Review, "review.csv")] {
        let path = staging.path().join(name);
        let read_error = |e: csv::Error| Error::output(&path, std::io::Error::other(e.to_string()));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(if excel { b';' } else { b',' })
            .from_path(&path)
            .map_err(read_error)?;
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).map_err(read_error)? {
            let by = String::from_utf8_lossy(record.get(decided_by).unwrap_or_default());
            split.write(list, &Authority::from_decided_by(&by), &record)?;
        }
    }
    split.finish()
}

/// The open per-authority files of one run.
pub struct SplitLists<'a> {
    staging: &'a Staging,
    excel: bool,
    files: BTreeMap<(List, String), CsvOut>,
}

impl<'a> SplitLists<'a> {
    pub fn new(staging: &'a Staging, excel: bool) -> SplitLists<'a> {
        SplitLists {
            staging,
            excel,
            files: BTreeMap::new(),
        }
    }

    /// Writes a row, already written to the full list `list`, to its authority's file too.
    pub fn write(
        &mut self,
        list: List,
        authority: &Authority,
        fields: &csv::ByteRecord,
    ) -> Result<(), Error> {
        let file = match self.files.entry((list, authority.file_stem())) {
            Entry::Occupied(file) => file.into_mut(),
            Entry::Vacant(slot) => {
                let name = format!("{}/{}.csv", list.folder(), slot.key().1);
                let file = CsvOut::create(self.staging, &name, &LIST_COLUMNS, self.excel)?;
                slot.insert(file)
            }
        };
        file.write(fields)
    }

    pub fn finish(self) -> Result<(), Error> {
        for file in self.files.into_values() {
            file.finish()?;
        }
        Ok(())
    }
}
