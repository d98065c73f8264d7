//! Pass 1 of the scan: each input streamed in batches (the csv reader; see `mapped` for files
//! read in parallel pieces), every record judged in parallel, rejects written at once, rows of
//! other benefits counted, and bonus-related rows written to the lists as they stand, spilled
//! and indexed for settling.

use super::grounds::Kept;
use super::spill::{MappedInput, Spill, Spilled, spill_columns};
use super::*;
use crate::input::record::Kind;
use crate::input::records::Fields;
use crate::rules::Facts;
use crate::rules::case::Case;

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
    let mut spill = Spill::create(staging)?;
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
    // The ledger's SHA-256 of the mapped inputs is taken behind the run, unless the run keeps to
    // one thread or the digest is SHA-256 already (or no thread can be had: then in order).
    let sha256_worker =
        (cfg.input_sha256 && cfg.digest != DigestKind::Sha256 && pool.current_num_threads() > 1)
            .then(mapped::Sha256Worker::start)
            .and_then(Result::ok);
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
            sha256_worker: sha256_worker.as_ref(),
        };
        inputs.push(pool.install(|| pass1.read_source(s as u32, source, &mut progress))?);
        mapped_inputs.push(pass1.mapped_input);
    }
    let spill = spill.finish(staging)?;
    rejects.finish()?;
    if let Some(lists) = lists {
        lists.flush()?;
    }

    crate::timings::mark("pass 1");
    // The rows are sorted by case id and by person at once, on the scan's two threads, while
    // this one gives back the memory pass 1 freed and then makes the table of the rows' facts
    // (10 MB of fresh memory on the 10M-row file: 3-4 ms of page faults).
    index.settle_joining(|[by_case, by_person, table]| {
        pool.in_place_scope(|scope| {
            scope.spawn(|_| by_case());
            scope.spawn(|_| by_person());
            crate::memory::release_freed();
            table();
        });
    });
    Ok(FirstPass {
        index,
        tally,
        inputs,
        spill,
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
    /// What takes the mapped inputs' SHA-256 behind the run ([`mapped::Sha256Worker`]).
    pub(super) sha256_worker: Option<&'a mapped::Sha256Worker>,
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
                self.record(
                    s,
                    source,
                    line,
                    rec,
                    first,
                    Tails::NONE,
                    &map,
                    decoding,
                    delimiter,
                )?;
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
        self.tally.input_sha256.push(InputSha256::Known(sha256));
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

    /// Writes and counts a row pass 1 read; `tails` holds the rendered rows of its piece, if it
    /// was read in one ([`super::render::Tail::In`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &mut self,
        s: u32,
        source: &Source,
        line: u64,
        rec: &ByteRecord,
        first: First,
        tails: &Tails,
        map: &ColumnMap,
        decoding: Decoding,
        delimiter: u8,
    ) -> Result<(), Error> {
        self.tally.counts.rows_read += 1;
        match first {
            First::Reject(column, reason) => {
                self.tally.counts.rejected += 1;
                *self.tally.rejects.entry(reason.code()).or_default() += 1;
                if is_watched(self.watch, rec, map, decoding) {
                    self.watched.push(RejectedRow {
                        source: source.name.clone(),
                        line,
                        column: column.map(Col::name),
                        reason: reason.code(),
                    });
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
                    lists.write(s, line, row.tail(tails), row.classification)?;
                    self.tally.row(&row, false, false, false);
                } else if self.cfg.audit_all || is_watched(self.watch, rec, map, decoding) {
                    // `explain` looks for its case id among the other benefits' rows too.
                    let columns = spill_columns(rec, map, decoding);
                    self.spill
                        .row(false, s, line, [0; 3], &SpillRow::Columns(columns))?;
                }
            }
            First::Bonus {
                pending,
                columns,
                rendered,
                guess,
            } => {
                let n = self.index.push_pending(pending, s, line);
                if let Some(guess) = guess {
                    self.index.guessed(n, guess);
                }
                let mut at = [0; 3];
                if let (Some(lists), Some(row)) = (self.lists.as_deref_mut(), rendered) {
                    at = lists.at();
                    lists.write(s, line, row.tail(tails), row.classification)?;
                    self.tally.row(&row, true, false, false);
                    self.tally.list(n, row);
                }
                self.spill.row(true, s, line, at, &columns)?;
            }
        }
        Ok(())
    }
}

/// Whether a record's case id is `watch`, the one `explain` looks for (none in a scan).
pub(super) fn is_watched(
    watch: Option<&str>,
    rec: &impl Fields,
    map: &ColumnMap,
    decoding: Decoding,
) -> bool {
    watch.is_some_and(|case_id| {
        let id = map.position(Col::CaseId).and_then(|i| rec.get(i));
        id.is_some_and(|id| decode(id, decoding).trim() == case_id)
    })
}

/// A benefit word caught by the catch-all as `summary.json` counts it: decoded as the input is
/// (a Windows-1252 word stays readable), its line ends as `\n` (as the streaming reader reads
/// them; a file read in pieces hands on the bytes as they stand), trimmed, and never a CPR
/// number, whatever the mapping points `benefit` at.
pub(super) fn caught_word(raw: &[u8], decoding: Decoding) -> Cow<'_, str> {
    fn shown(raw: &[u8], decoding: Decoding) -> Cow<'_, str> {
        match decode(raw, decoding) {
            Cow::Borrowed(word) => Cow::Borrowed(record::shown_word(word.trim())),
            Cow::Owned(word) => Cow::Owned(record::shown_word(word.trim()).to_string()),
        }
    }
    match crate::input::records::uniform(raw) {
        Cow::Borrowed(raw) => shown(raw, decoding),
        Cow::Owned(raw) => Cow::Owned(shown(&raw, decoding).into_owned()),
    }
}

pub(super) fn first_pass(
    rec: &ByteRecord,
    map: &ColumnMap,
    decoding: Decoding,
    cfg: &ScanConfig,
    style: Option<Style<'_>>,
) -> First {
    verdict(rec, map, decoding, cfg, style, None, || {
        SpillRow::Columns(spill_columns(rec, map, decoding))
    })
}

/// Pass 1's verdict on a record; `spilled` gives its columns as the spill file holds them
/// (asked for a bonus-related row only). Given a `style`, the row is also rendered for the lists
/// as it stands (with no facts from other rows): a bonus-related row among `tails`, if given.
pub(super) fn verdict(
    rec: &impl Fields,
    map: &ColumnMap,
    decoding: Decoding,
    cfg: &ScanConfig,
    style: Option<Style<'_>>,
    tails: Option<&mut Tails>,
    spilled: impl FnOnce() -> SpillRow,
) -> First {
    CASE.with_borrow_mut(
        |case| match records::parse_into(rec, map, decoding, &cfg.vocab, case) {
            Kind::Reject(r) => First::Reject(r.column, r.reason),
            Kind::Other { caught } => First::Other {
                caught,
                rendered: style.filter(|_| cfg.audit_all).map(|style| {
                    style.other(|col| {
                        map.position(col)
                            .and_then(|i| rec.get(i))
                            .map_or(Cow::Borrowed(""), |b| decode(b, decoding))
                    })
                }),
            },
            Kind::Bonus => {
                let (alone, with_prior_grant) =
                    rules::evaluate_as_it_stands(case, &Kept(&cfg.patterns));
                First::Bonus {
                    pending: Pending::new(case, alone.classification, with_prior_grant),
                    columns: spilled(),
                    rendered: style.map(|style| style.bonus(case, &alone, tails)),
                    guess: None,
                }
            }
        },
    )
}

/// A bonus-related row's list row, with `facts`, read as [`verdict`] reads it: `None` if the
/// record does not read as a bonus-related row.
pub(super) fn rendered_with(
    rec: &impl Fields,
    map: &ColumnMap,
    decoding: Decoding,
    cfg: &ScanConfig,
    style: Style<'_>,
    tails: &mut Tails,
    facts: &Facts,
) -> Option<Rendered> {
    CASE.with_borrow_mut(
        |case| match records::parse_into(rec, map, decoding, &cfg.vocab, case) {
            Kind::Bonus => {
                let evaluation = rules::evaluate(case, &Kept(&cfg.patterns), facts);
                Some(style.bonus(case, &evaluation, Some(tails)))
            }
            _ => None,
        },
    )
}

thread_local! {
    /// The case each bonus-related row is read into on this thread ([`record::parse_into`]).
    static CASE: std::cell::RefCell<Case> = std::cell::RefCell::new(Case::blank());
}
