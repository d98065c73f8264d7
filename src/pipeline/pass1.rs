//! Pass 1 of the scan: each input streamed in batches (the csv reader; see `mapped` for files
//! read in parallel pieces), every record judged in parallel, rejects written at once, rows of
//! other benefits counted, and bonus-related rows written to the lists as they stand, spilled
//! and indexed for settling.

use super::grounds::Kept;
use super::render::push_number;
use super::*;
use crate::output::lists::WRITE_BUFFER;

/// The spill file of pass 1, in the staging directory: kind, input, line, where the row stands
/// in each list ([`Lists::at`]), then the canonical columns (kinds `B` and `O`), or where the row
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
    /// Writes a row: kind (`B` bonus-related with its columns, `M` bonus-related where it stands
    /// in its input, `O` another benefit's), input, line, where it stands in the lists, then its
    /// canonical columns (as [`spill_columns`] encoded them) or its place in the input. `B` and
    /// `O` rows are CSV (`explain` reads them back with the csv crate); an `M` row is its kind
    /// and [`InInput`] in binary, as most of a scan's rows are and pass 2 reads few of them.
    fn row(
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

/// What pass 1 leaves: the settled index, the counts so far, the inputs' manifests, and the spill
/// file of the rows pass 2 may classify again.
pub(super) struct FirstPass {
    pub(super) index: Index,
    pub(super) tally: Tally,
    pub(super) inputs: Vec<InputSummary>,
    pub(super) spill: Spilled,
    /// Per input: there when its bonus-related rows are spilled as where they stand in it.
    pub(super) mapped_inputs: Vec<Option<MappedInput>>,
    pub(super) progress: Progress,
    /// The rejected rows whose case id is the watched one (for `explain`).
    pub(super) watched: Vec<RejectedRow>,
}

/// Pass 1: streams every input, writes `rejects.csv` and (given `lists`, in a scan) every
/// evaluated row to the lists as it stands, spills the bonus-related rows, and settles what the
/// rows tell about each other. With `watch`, it also keeps the rejects of that case id.
pub(super) fn pass1(
    cfg: &ScanConfig,
    pool: &rayon::ThreadPool,
    staging: &Staging,
    watch: Option<&str>,
    mut lists: Option<Lists>,
) -> Result<FirstPass, Error> {
    let mut rejects = CsvOut::create(staging, "rejects.csv", &REJECT_COLUMNS, cfg.excel)?;
    let mut spill = Spill {
        file: BufWriter::with_capacity(WRITE_BUFFER, staging.create_file(SPILL)?),
        head: Vec::with_capacity(64),
        len: 0,
        starts: Starts::default(),
    };
    let mut index = Index::default();
    let mut tally = Tally::default();
    let mut watched = Vec::new();
    let total_size = cfg.sources.iter().try_fold(0u64, |sum, s| {
        s.path
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| sum + m.len())
    });
    let mut progress = Progress::new(cfg.quiet, total_size);
    let mut inputs = Vec::new();
    let mut mapped_inputs = Vec::new();
    for (s, source) in cfg.sources.iter().enumerate() {
        let mut pass1 = Pass1 {
            cfg,
            style: lists.as_ref().map(|_| cfg.style()),
            rejects: &mut rejects,
            spill: &mut spill,
            lists: lists.as_mut(),
            index: &mut index,
            tally: &mut tally,
            watch,
            watched: &mut watched,
            mapped_input: None,
        };
        inputs.push(pool.install(|| pass1.read_source(s as u32, source, &mut progress))?);
        mapped_inputs.push(pass1.mapped_input);
    }
    spill.file.flush().map_err(|e| Error::output(SPILL, e))?;
    drop(spill.file);
    rejects.finish()?;
    if let Some(lists) = lists {
        lists.flush()?;
    }

    crate::timings::mark("pass 1");
    crate::memory::release_freed();
    // The keys are gathered and sorted on the scan's threads. A row without a key is gathered
    // as one that sorts last (row numbers are below `u32::MAX`), and cut off once sorted: a
    // gathering that leaves rows out would hold its keys twice for a while.
    const NO_KEY: (u64, u32) = (u64::MAX, u32::MAX);
    pool.install(|| {
        index.settle_sorting_with(&|n, key| {
            let mut keys: Vec<(u64, u32)> = (0..n)
                .into_par_iter()
                .map(|i| key(i).map_or(NO_KEY, |k| (k, i)))
                .collect();
            keys.par_sort_unstable();
            keys.truncate(keys.partition_point(|&k| k < NO_KEY));
            keys
        })
    });
    Ok(FirstPass {
        index,
        tally,
        inputs,
        spill: Spilled {
            path: staging.path().join(SPILL),
            starts: spill.starts,
            len: spill.len,
        },
        mapped_inputs,
        progress,
        watched,
    })
}

pub(super) struct Pass1<'a> {
    pub(super) cfg: &'a ScanConfig,
    /// How rows are rendered for the lists: none when no lists are written (`explain`).
    pub(super) style: Option<Style<'a>>,
    pub(super) rejects: &'a mut CsvOut,
    pub(super) spill: &'a mut Spill,
    pub(super) lists: Option<&'a mut Lists>,
    pub(super) index: &'a mut Index,
    pub(super) tally: &'a mut Tally,
    /// For `explain`: keep the rejects with this case id in `watched`.
    pub(super) watch: Option<&'a str>,
    pub(super) watched: &'a mut Vec<RejectedRow>,
    /// The input being read, when its rows are spilled as where they stand in it.
    pub(super) mapped_input: Option<MappedInput>,
}

impl Pass1<'_> {
    pub(super) fn read_source(
        &mut self,
        s: u32,
        source: &Source,
        progress: &mut Progress,
    ) -> Result<InputSummary, Error> {
        if let Some(path) = &source.path
            && let Some(summary) = self.read_mapped(s, source, path, progress)?
        {
            return Ok(summary);
        }
        let cfg = self.cfg;
        let mut reader = Records::open_with_sha256(
            source,
            cfg.encoding,
            cfg.delimiter,
            cfg.digest,
            cfg.input_sha256,
            &cfg.mapped_columns,
        )?;
        let (decoding, delimiter, bytes) =
            (reader.decoding, reader.delimiter, reader.bytes.clone());
        let map = reader.map.clone();

        let mut batch: Vec<ByteRecord> = (0..cfg.batch_size).map(|_| ByteRecord::new()).collect();
        let mut results: Vec<First> = Vec::with_capacity(cfg.batch_size);
        let mut rows = 0u64;
        loop {
            let mut n = 0;
            while n < batch.len() && reader.read(&mut batch[n])? {
                n += 1;
            }
            if n == 0 {
                break;
            }
            batch[..n]
                .par_iter()
                .map(|rec| first_pass(rec, &map, decoding, cfg, self.style))
                .collect_into_vec(&mut results);
            for (rec, first) in batch[..n].iter().zip(results.drain(..)) {
                let line = records::line(rec);
                self.record(s, source, line, rec, first, &map, decoding, delimiter)?;
            }
            rows += n as u64;
            progress.update(&bytes, n as u64);
            if n < batch.len() {
                break;
            }
        }
        let size = bytes.load(Ordering::Relaxed);
        progress.source_done(size);
        let (encoding, delimiter) = (reader.encoding_name, reader.delimiter);
        let (digest, sha256) = reader.finish_with_sha256();
        self.tally.input_sha256.push(sha256);
        Ok(InputSummary::new(
            InputRead {
                path: &source.name,
                encoding,
                delimiter,
                map: &map,
            },
            size,
            rows,
            cfg.digest,
            digest,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &mut self,
        s: u32,
        source: &Source,
        line: u64,
        rec: &ByteRecord,
        first: First,
        map: &ColumnMap,
        decoding: Decoding,
        delimiter: u8,
    ) -> Result<(), Error> {
        self.tally.counts.rows_read += 1;
        match first {
            First::Reject(column, reason) => {
                self.tally.counts.rejected += 1;
                *self.tally.rejects.entry(reason.code()).or_default() += 1;
                if let Some(case_id) = self.watch {
                    let id = map.position(Col::CaseId).and_then(|i| rec.get(i));
                    if id.is_some_and(|id| decode(id, decoding).trim() == case_id) {
                        self.watched.push(RejectedRow {
                            source: source.name.clone(),
                            line,
                            column: column.map(Col::name),
                            reason: reason.code(),
                        });
                    }
                }
                // The raw row holds the CPR: a pseudonymised run leaves it out.
                let raw = if self.cfg.pseudonymize.is_some() {
                    String::new()
                } else {
                    let raw: Vec<Cow<str>> = rec.iter().map(|f| decode(f, decoding)).collect();
                    raw.join(&(delimiter as char).to_string())
                };
                self.rejects.write([
                    source.name.as_str(),
                    &line.to_string(),
                    column.map_or("", Col::name),
                    reason.code(),
                    &raw,
                ])?;
            }
            First::Other { caught, rendered } => {
                self.tally
                    .classified(Classification::OutOfScope, Rule::Scope);
                if caught {
                    let word = map
                        .position(Col::Benefit)
                        .and_then(|i| rec.get(i))
                        .unwrap_or_default();
                    let word = caught_word(word, decoding);
                    match self.tally.caught.get_mut(word.as_bytes()) {
                        Some(n) => *n += 1,
                        None => {
                            self.tally.caught.insert(word.as_bytes().to_vec(), 1);
                        }
                    }
                }
                if let (Some(lists), Some(row)) = (self.lists.as_deref_mut(), rendered) {
                    lists.write(s, line, &row)?;
                    self.tally.row(&row, false, false, false);
                } else if self.cfg.audit_all {
                    // `explain` looks for a case id among the other benefits' rows too.
                    let columns = spill_columns(rec, map, decoding);
                    self.spill
                        .row(false, s, line, [0; 3], &SpillRow::Columns(columns))?;
                }
            }
            First::Bonus {
                pending,
                columns,
                rendered,
            } => {
                let n = self.index.push_pending(pending, s, line);
                let mut at = [0; 3];
                if let (Some(lists), Some(row)) = (self.lists.as_deref_mut(), rendered) {
                    at = lists.at();
                    lists.write(s, line, &row)?;
                    self.tally.row(&row, true, false, false);
                    self.tally.list(n, &row);
                }
                self.spill.row(true, s, line, at, &columns)?;
            }
        }
        Ok(())
    }
}

/// A benefit word caught by the catch-all as `summary.json` counts it: decoded as the input is
/// (a Windows-1252 word stays readable), trimmed, and never a CPR number, whatever the mapping
/// points `benefit` at.
pub(super) fn caught_word(raw: &[u8], decoding: Decoding) -> Cow<'_, str> {
    match decode(raw, decoding) {
        Cow::Borrowed(word) => Cow::Borrowed(record::shown_word(word.trim())),
        Cow::Owned(word) => Cow::Owned(record::shown_word(word.trim()).to_string()),
    }
}

/// A row's canonical columns, decoded and encoded as the spill file holds them after its kind,
/// input and line: made where the row is read, in parallel.
pub(super) fn spill_columns(rec: &ByteRecord, map: &ColumnMap, decoding: Decoding) -> Vec<u8> {
    let mut out = Vec::with_capacity(rec.as_slice().len() + 32);
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

pub(super) fn first_pass(
    rec: &ByteRecord,
    map: &ColumnMap,
    decoding: Decoding,
    cfg: &ScanConfig,
    style: Option<Style<'_>>,
) -> First {
    verdict(rec, map, decoding, cfg, style, || {
        SpillRow::Columns(spill_columns(rec, map, decoding))
    })
}

/// Pass 1's verdict on a record; `spilled` gives its columns as the spill file holds them
/// (asked for a bonus-related row only). Given a `style`, the row is also rendered for the lists
/// as it stands (with no facts from other rows).
pub(super) fn verdict(
    rec: &ByteRecord,
    map: &ColumnMap,
    decoding: Decoding,
    cfg: &ScanConfig,
    style: Option<Style<'_>>,
    spilled: impl FnOnce() -> SpillRow,
) -> First {
    match records::parse(rec, map, decoding, &cfg.vocab) {
        Parsed::Reject(r) => First::Reject(r.column, r.reason),
        Parsed::Other { caught } => First::Other {
            caught,
            rendered: style.filter(|_| cfg.audit_all).map(|style| {
                style.other(|col| {
                    map.position(col)
                        .and_then(|i| rec.get(i))
                        .map_or(Cow::Borrowed(""), |b| decode(b, decoding))
                })
            }),
        },
        Parsed::Bonus(case) => {
            let (alone, with_prior_grant) =
                rules::evaluate_as_it_stands(&case, &Kept(&cfg.patterns));
            First::Bonus {
                pending: Pending::new(&case, alone.classification, with_prior_grant),
                columns: spilled(),
                rendered: style.map(|style| style.bonus(&case, &alone)),
            }
        }
    }
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
