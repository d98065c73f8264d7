//! The streaming, parallel scan: reads every input in batches, classifies them with rayon and
//! writes in input order. The only code that knows rayon and indicatif.
//!
//! Two passes keep memory flat. Pass 1 streams the inputs: rejects are written at once, rows of
//! other benefits are only counted, and bonus-related rows go to a spill file beside the outputs
//! while a compact index of them (hashes, dates, flags) is kept. Then the index settles what rows
//! tell about each other (duplicates, step 7). Pass 2 streams the spill file back, classifies each
//! row with its settled facts, and writes the lists in input order.
//!
//! `explain` runs the same pass 1 and settling through [`look_up`] (in `lookup`), and reads
//! the rows of one case back instead of writing lists.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, BufWriter, IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{Datelike, SecondsFormat, Utc};
use csv::{ByteRecord, StringRecord};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::error::Error;
use crate::input::columns::{COLUMN_COUNT, Col, ColumnMap};
use crate::input::dates::parse_date;
use crate::input::encoding::{Decoding, EncodingChoice, decode};
use crate::input::record::{self, Parsed, RejectReason};
use crate::input::records::{self, Records};
use crate::input::source::{DigestKind, Source};
use crate::input::values::Vocabulary;
use crate::output::dir::Staging;
use crate::output::lists::{CsvOut, LIST_COLUMNS, REJECT_COLUMNS, RowEncoder};
use crate::output::pseudonym::Pseudonymizer;
use crate::output::split::{List, SplitLists};
use crate::output::summary::{
    Counts, InputRead, InputSummary, ListCounts, ListCountsWithNotAffected, Summary,
};
use crate::rules::across::{Index, Pending};
use crate::rules::case::{Benefit, Decision};
use crate::rules::explain::explanation;
use crate::rules::ground::Patterns;
use crate::rules::{self, Authority, Classification, Evaluation, Facts, Path, Rule, params};

mod lookup;
mod mapped;

pub use lookup::{CaseRow, Looked, Lookup, RejectedRow, Related, look_up};

/// A validated scan: what `genoptag scan` was asked to do.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub sources: Vec<Source>,
    pub out: PathBuf,
    pub threads: usize,
    pub audit_all: bool,
    pub excel: bool,
    pub max_rejects: Option<u64>,
    pub quiet: bool,
    pub batch_size: usize,
    /// Bytes per piece of a file input read in parallel.
    pub chunk_size: usize,
    pub encoding: EncodingChoice,
    pub delimiter: Option<u8>,
    pub digest: DigestKind,
    pub vocab: Vocabulary,
    pub patterns: Patterns,
    pub mapped_columns: HashMap<Col, String>,
    /// `--pseudonymize-key`: the keyed hash that replaces every `cpr` written.
    pub pseudonymize: Option<Pseudonymizer>,
    /// `--split-by-authority`: also a reopen and a review list per `decided_by`.
    pub split_by_authority: bool,
    /// Also compute each input's SHA-256 while it streams (the ledger records it, SPEC §5.1).
    pub input_sha256: bool,
}

/// A finished scan whose outputs are written into the staging directory but not yet in place:
/// the command adds what it owns (summary.json, the report, the ledger's changes) and commits.
pub struct Scanned {
    pub staging: Staging,
    pub summary: Summary,
    /// The REOPEN and REVIEW list rows (no CPR), in output order, for the ledger and the report.
    pub listed: Vec<ListedCase>,
    /// Each input's SHA-256, in input order, when [`ScanConfig::input_sha256`] asked for it.
    pub input_sha256: Vec<Option<String>>,
}

/// A case on the REOPEN or REVIEW list, as the ledger keeps it: no CPR number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCase {
    pub case_id: String,
    pub decided_by: String,
    pub classification: Classification,
    pub rule: Rule,
    pub expected_outcome: Option<rules::Outcome>,
}

/// Pass 1's verdict on one record.
enum First {
    Reject(Option<Col>, RejectReason),
    Other {
        caught: bool,
    },
    /// A bonus-related row: its index entry and its spilled columns, made in parallel.
    Bonus {
        pending: Pending,
        columns: Vec<u8>,
    },
}

/// Counts kept while writing.
#[derive(Default)]
struct Tally {
    counts: Counts,
    rules: BTreeMap<&'static str, u64>,
    rejects: BTreeMap<&'static str, u64>,
    by_authority: BTreeMap<String, ListCounts>,
    caught: HashMap<Vec<u8>, u64>,
    years: BTreeMap<i32, ListCountsWithNotAffected>,
    listed: Vec<ListedCase>,
    input_sha256: Vec<Option<String>>,
}

impl Tally {
    fn classified(&mut self, classification: Classification, rule: Rule) {
        self.counts.evaluated += 1;
        *match classification {
            Classification::Reopen => &mut self.counts.reopen,
            Classification::Review => &mut self.counts.review,
            Classification::NotAffected => &mut self.counts.not_affected,
            Classification::OutOfScope => &mut self.counts.out_of_scope,
        } += 1;
        *self.rules.entry(rule.code()).or_default() += 1;
    }
}

/// The progress bar: bytes read, rows per second, time left; only on a terminal.
struct Progress {
    bar: Option<ProgressBar>,
    done_bytes: u64,
    rows: u64,
    started: Instant,
}

impl Progress {
    fn new(quiet: bool, total: Option<u64>) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = match total {
                Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            };
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} {msg} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            done_bytes: 0,
            rows: 0,
            started: Instant::now(),
        }
    }

    fn update(&mut self, current: &AtomicU64, rows: u64) {
        self.rows += rows;
        if let Some(bar) = &self.bar {
            bar.set_position(self.done_bytes + current.load(Ordering::Relaxed));
            let per_sec = self.rows as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{} rows, {:.0} rows/s", self.rows, per_sec));
        }
    }

    fn source_done(&mut self, bytes: u64) {
        self.done_bytes += bytes;
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn thread_pool(cfg: &ScanConfig) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {} threads: {e}", cfg.threads)))
}

/// Runs a scan into a staging directory beside `cfg.out` (see [`Scanned`]).
pub fn scan(cfg: &ScanConfig) -> Result<Scanned, Error> {
    let started_at = Utc::now();
    let clock = Instant::now();
    let pool = thread_pool(cfg)?;
    let staging = Staging::create(&cfg.out)?;
    let names: Vec<String> = cfg.sources.iter().map(|s| s.name.clone()).collect();
    let FirstPass {
        index,
        mut tally,
        inputs,
        spill_path,
        progress,
        ..
    } = pass1(cfg, &pool, &staging, None)?;

    // Pass 2: classify the spilled rows with their settled facts, in input order.
    let mut lists = Lists {
        audit: CsvOut::create(&staging, "audit.csv", &LIST_COLUMNS, cfg.excel)?,
        reopen: CsvOut::create(&staging, "reopen.csv", &LIST_COLUMNS, cfg.excel)?,
        review: CsvOut::create(&staging, "review.csv", &LIST_COLUMNS, cfg.excel)?,
        split: cfg
            .split_by_authority
            .then(|| SplitLists::new(&staging, cfg.excel)),
    };
    pool.install(|| pass2(cfg, &spill_path, &names, &index, &mut lists, &mut tally))?;
    std::fs::remove_file(&spill_path).map_err(|e| Error::output(&spill_path, e))?;
    lists.audit.finish()?;
    lists.reopen.finish()?;
    lists.review.finish()?;
    if let Some(split) = lists.split {
        split.finish()?;
    }
    progress.finish();

    let counts = tally.counts.clone();
    let finished_at = Utc::now();
    let summary = Summary {
        tool: "genoptag",
        tool_version: env!("CARGO_PKG_VERSION"),
        rules_version: params::RULES_VERSION,
        started_at: started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        finished_at: finished_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        elapsed_seconds: (clock.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        threads: cfg.threads,
        inputs,
        identification_complete: counts.rejected == 0 && counts.review == 0,
        counts,
        rules: std::mem::take(&mut tally.rules),
        rejects_by_reason: std::mem::take(&mut tally.rejects),
        by_authority: std::mem::take(&mut tally.by_authority),
        benefit_words_caught: std::mem::take(&mut tally.caught)
            .into_iter()
            .map(|(word, n)| (String::from_utf8_lossy(&word).into_owned(), n))
            .collect(),
        by_decision_year: std::mem::take(&mut tally.years),
        options: BTreeMap::from([
            ("audit_all", cfg.audit_all.into()),
            ("excel", cfg.excel.into()),
            (
                "encoding",
                format!("{:?}", cfg.encoding).to_lowercase().into(),
            ),
            ("max_rejects", cfg.max_rejects.into()),
            ("pseudonymized", cfg.pseudonymize.is_some().into()),
            ("split_by_authority", cfg.split_by_authority.into()),
        ]),
        changes: None,
    };
    Ok(Scanned {
        staging,
        summary,
        listed: tally.listed,
        input_sha256: tally.input_sha256,
    })
}

/// The spill file of pass 1, in the staging directory: kind, input, line, the canonical columns.
const SPILL: &str = ".spill.csv";

/// What pass 1 leaves: the settled index, the counts so far, the inputs' manifests, and the spill
/// file of the rows pass 2 classifies.
struct FirstPass {
    index: Index,
    tally: Tally,
    inputs: Vec<InputSummary>,
    spill_path: PathBuf,
    progress: Progress,
    /// The rejected rows whose case id is the watched one (for `explain`).
    watched: Vec<RejectedRow>,
}

/// Pass 1: streams every input, writes `rejects.csv`, spills the rows to classify, and settles
/// what the rows tell about each other. With `watch`, it also keeps the rejects of that case id.
fn pass1(
    cfg: &ScanConfig,
    pool: &rayon::ThreadPool,
    staging: &Staging,
    watch: Option<&str>,
) -> Result<FirstPass, Error> {
    let mut rejects = CsvOut::create(staging, "rejects.csv", &REJECT_COLUMNS, cfg.excel)?;
    let mut spill = BufWriter::with_capacity(1 << 20, staging.create_file(SPILL)?);
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
    for (s, source) in cfg.sources.iter().enumerate() {
        let mut pass1 = Pass1 {
            cfg,
            rejects: &mut rejects,
            spill: &mut spill,
            index: &mut index,
            tally: &mut tally,
            watch,
            watched: &mut watched,
        };
        inputs.push(pool.install(|| pass1.read_source(s as u32, source, &mut progress))?);
    }
    spill.flush().map_err(|e| Error::output(SPILL, e))?;
    drop(spill);
    rejects.finish()?;

    index.settle();
    Ok(FirstPass {
        index,
        tally,
        inputs,
        spill_path: staging.path().join(SPILL),
        progress,
        watched,
    })
}

struct Pass1<'a> {
    cfg: &'a ScanConfig,
    rejects: &'a mut CsvOut,
    spill: &'a mut BufWriter<std::fs::File>,
    index: &'a mut Index,
    tally: &'a mut Tally,
    /// For `explain`: keep the rejects with this case id in `watched`.
    watch: Option<&'a str>,
    watched: &'a mut Vec<RejectedRow>,
}

impl Pass1<'_> {
    fn read_source(
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
                .map(|rec| first_pass(rec, &map, decoding, &cfg.vocab, &cfg.patterns))
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
    fn record(
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
        let spill_error = |e| Error::output(SPILL, e);
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
            First::Other { caught } => {
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
                if self.cfg.audit_all {
                    let columns = spill_columns(rec, map, decoding);
                    spill_row(self.spill, "O", s, line, &columns).map_err(spill_error)?;
                }
            }
            First::Bonus { pending, columns } => {
                self.index.push_pending(pending, s, line);
                spill_row(self.spill, "B", s, line, &columns).map_err(spill_error)?;
            }
        }
        Ok(())
    }
}

/// A benefit word caught by the catch-all as `summary.json` counts it: decoded as the input is
/// (a Windows-1252 word stays readable), trimmed, and never a CPR number, whatever the mapping
/// points `benefit` at.
fn caught_word(raw: &[u8], decoding: Decoding) -> Cow<'_, str> {
    match decode(raw, decoding) {
        Cow::Borrowed(word) => Cow::Borrowed(record::shown_word(word.trim())),
        Cow::Owned(word) => Cow::Owned(record::shown_word(word.trim()).to_string()),
    }
}

/// Writes a row to the spill file: kind, input, line, then the canonical columns in order
/// (as [`spill_columns`] encoded them).
fn spill_row(
    spill: &mut BufWriter<std::fs::File>,
    kind: &str,
    s: u32,
    line: u64,
    columns: &[u8],
) -> std::io::Result<()> {
    write!(spill, "{kind},{s},{line},")?;
    spill.write_all(columns)
}

/// A row's canonical columns, decoded and encoded as the spill file holds them after its kind,
/// input and line: made where the row is read, in parallel.
fn spill_columns(rec: &ByteRecord, map: &ColumnMap, decoding: Decoding) -> Vec<u8> {
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

fn first_pass(
    rec: &ByteRecord,
    map: &ColumnMap,
    decoding: Decoding,
    vocab: &Vocabulary,
    patterns: &Patterns,
) -> First {
    verdict(rec, map, decoding, vocab, patterns, || {
        spill_columns(rec, map, decoding)
    })
}

/// Pass 1's verdict on a record; `spilled` gives its columns as the spill file holds them
/// (asked for a bonus-related row only).
fn verdict(
    rec: &ByteRecord,
    map: &ColumnMap,
    decoding: Decoding,
    vocab: &Vocabulary,
    patterns: &Patterns,
    spilled: impl FnOnce() -> Vec<u8>,
) -> First {
    match records::parse(rec, map, decoding, vocab) {
        Parsed::Reject(r) => First::Reject(r.column, r.reason),
        Parsed::Other { caught } => First::Other { caught },
        Parsed::Bonus(case) => {
            let in_scope = case.benefit == Benefit::Il22 && case.decision == Decision::Refused;
            let alone = rules::evaluate(&case, patterns, &Facts::default()).classification;
            let with_prior_grant = if in_scope {
                rules::evaluate(
                    &case,
                    patterns,
                    &Facts {
                        prior_grant: true,
                        ..Facts::default()
                    },
                )
                .classification
            } else {
                alone
            };
            First::Bonus {
                pending: Pending::new(&case, alone, with_prior_grant),
                columns: spilled(),
            }
        }
    }
}

struct Lists<'a> {
    audit: CsvOut,
    reopen: CsvOut,
    review: CsvOut,
    /// The lists per authority, with `--split-by-authority`.
    split: Option<SplitLists<'a>>,
}

/// One finished output row.
struct ListRow {
    /// The row's fields; emptied once encoded unless `--split-by-authority` writes them again.
    fields: Vec<String>,
    /// `fields` as the lists write them.
    encoded: Vec<u8>,
    case_id: String,
    classification: Classification,
    outcome: Option<rules::Outcome>,
    rule: Rule,
    duplicate: bool,
    decided_by: String,
    authority: Authority,
    year: Option<i32>,
    bonus: bool,
}

/// Rows per batch of pass 2 at most.
const PASS2_BATCH: usize = 2048;

fn pass2(
    cfg: &ScanConfig,
    spill_path: &std::path::Path,
    names: &[String],
    index: &Index,
    lists: &mut Lists<'_>,
    tally: &mut Tally,
) -> Result<(), Error> {
    let file = std::fs::File::open(spill_path).map_err(|e| Error::output(spill_path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .buffer_capacity(256 * 1024)
        .from_reader(BufReader::new(file));
    // Every spilled row is a whole row to classify and write: a smaller batch than pass 1's
    // keeps the rows in flight (and memory) small while both threads stay busy.
    let batch_size = cfg.batch_size.min(PASS2_BATCH);
    let mut next_bonus = 0u32;
    let mut current = Spilled::new(batch_size);
    let mut next = Spilled::new(batch_size);
    let mut made: Vec<ListRow> = Vec::with_capacity(batch_size);
    let mut to_write: Vec<ListRow> = Vec::with_capacity(batch_size);
    current.read(&mut reader, &mut next_bonus, spill_path)?;
    // Three things at once: the next batch is read, this one classified, the last one written.
    loop {
        let (read, ((), written)) = rayon::join(
            || next.read(&mut reader, &mut next_bonus, spill_path),
            || {
                rayon::join(
                    || current.classify(cfg, names, index, &mut made),
                    || write_rows(&mut to_write, lists, tally),
                )
            },
        );
        read?;
        written?;
        if made.is_empty() {
            return Ok(());
        }
        std::mem::swap(&mut current, &mut next);
        std::mem::swap(&mut made, &mut to_write);
    }
}

/// A batch of spilled rows, each with its bonus-row number (none for another benefit's row).
struct Spilled {
    records: Vec<StringRecord>,
    numbers: Vec<Option<u32>>,
    len: usize,
}

impl Spilled {
    fn new(size: usize) -> Spilled {
        Spilled {
            records: (0..size).map(|_| StringRecord::new()).collect(),
            numbers: Vec::with_capacity(size),
            len: 0,
        }
    }

    fn read(
        &mut self,
        reader: &mut csv::Reader<BufReader<std::fs::File>>,
        next_bonus: &mut u32,
        spill_path: &std::path::Path,
    ) -> Result<(), Error> {
        self.len = 0;
        self.numbers.clear();
        while self.len < self.records.len()
            && reader
                .read_record(&mut self.records[self.len])
                .map_err(|e| Error::output(spill_path, std::io::Error::other(e.to_string())))?
        {
            if &self.records[self.len][0] == "B" {
                self.numbers.push(Some(*next_bonus));
                *next_bonus += 1;
            } else {
                self.numbers.push(None);
            }
            self.len += 1;
        }
        Ok(())
    }

    /// Classifies the batch in parallel into `rows`, each encoded as the lists write it.
    fn classify(&self, cfg: &ScanConfig, names: &[String], index: &Index, rows: &mut Vec<ListRow>) {
        self.records[..self.len]
            .par_iter()
            .zip(self.numbers.par_iter())
            .map_init(
                || RowEncoder::new(cfg.excel),
                |encoder, (rec, number)| {
                    let mut row = list_row(rec, *number, names, index, &cfg.vocab, &cfg.patterns);
                    if let Some(key) = &cfg.pseudonymize {
                        row.fields[3] = key.pseudonym(&row.fields[3]);
                    }
                    encoder.encode_into(&row.fields, &mut row.encoded);
                    // Only the per-authority lists write the fields again: otherwise they are
                    // let go here, in parallel, not by the thread that writes.
                    if cfg.split_by_authority {
                        row.case_id = row.fields[2].clone();
                    } else {
                        row.case_id = std::mem::take(&mut row.fields[2]);
                        row.fields = Vec::new();
                    }
                    row
                },
            )
            .collect_into_vec(rows);
    }
}

/// Counts and writes classified rows, in order.
fn write_rows(
    rows: &mut Vec<ListRow>,
    lists: &mut Lists<'_>,
    tally: &mut Tally,
) -> Result<(), Error> {
    for mut row in rows.drain(..) {
        if row.bonus {
            tally.classified(row.classification, row.rule);
        }
        if row.duplicate {
            tally.counts.duplicates += 1;
        } else {
            let year = row.year.map(|y| tally.years.entry(y).or_default());
            if matches!(
                row.classification,
                Classification::Reopen | Classification::Review
            ) {
                let counts = match tally.by_authority.get_mut(&row.decided_by) {
                    Some(counts) => counts,
                    None => tally
                        .by_authority
                        .entry(row.decided_by.clone())
                        .or_default(),
                };
                if row.classification == Classification::Reopen {
                    counts.reopen += 1;
                } else {
                    counts.review += 1;
                }
                tally.listed.push(ListedCase {
                    case_id: std::mem::take(&mut row.case_id),
                    decided_by: std::mem::take(&mut row.decided_by),
                    classification: row.classification,
                    rule: row.rule,
                    expected_outcome: row.outcome,
                });
            }
            match row.classification {
                Classification::Reopen => {
                    if let Some(y) = year {
                        y.reopen += 1;
                    }
                    lists.reopen.write_encoded(&row.encoded)?;
                    if let Some(split) = &mut lists.split {
                        split.write(List::Reopen, &row.authority, &row.fields)?;
                    }
                }
                Classification::Review => {
                    if let Some(y) = year {
                        y.review += 1;
                    }
                    lists.review.write_encoded(&row.encoded)?;
                    if let Some(split) = &mut lists.split {
                        split.write(List::Review, &row.authority, &row.fields)?;
                    }
                }
                Classification::NotAffected => {
                    if let Some(y) = year {
                        y.not_affected += 1;
                    }
                }
                Classification::OutOfScope => {}
            }
        }
        lists.audit.write_encoded(&row.encoded)?;
    }
    Ok(())
}

fn list_row(
    rec: &StringRecord,
    number: Option<u32>,
    names: &[String],
    index: &Index,
    vocab: &Vocabulary,
    patterns: &Patterns,
) -> ListRow {
    let source = rec
        .get(1)
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0);
    let line = rec.get(2).unwrap_or_default();
    let field = |col: Col| rec.get(3 + col as usize).unwrap_or_default();
    debug_assert_eq!(rec.len(), 3 + COLUMN_COUNT);
    let parsed = number.map(|n| (n, record::parse(|col| Cow::Borrowed(field(col)), vocab)));
    let (case, eval, duplicate) = match parsed {
        Some((n, Parsed::Bonus(case))) => {
            let facts = index.facts(n, names);
            let eval = rules::evaluate(&case, patterns, &facts);
            (Some(case), eval, index.is_duplicate(n))
        }
        _ => {
            // A row of another benefit (only with --audit-all): out of scope, not validated.
            let eval = Evaluation {
                classification: Classification::OutOfScope,
                outcome: None,
                rule: Rule::Scope,
                finding: None,
                warnings: Vec::new(),
                decided_by: Authority::of(field(Col::MunicipalityCode), None),
                path: Path::NotIl22,
            };
            (None, eval, false)
        }
    };
    let date = |col: Col| parse_date(field(col)).ok().flatten();
    let (case_id, cpr, municipality_code, application_date, decision_date) = match &case {
        Some(c) => (
            c.case_id.as_str(),
            c.cpr.as_str(),
            c.municipality_code.as_str(),
            c.application_date,
            Some(c.decision_date),
        ),
        None => (
            field(Col::CaseId).trim(),
            field(Col::Cpr).trim(),
            field(Col::MunicipalityCode).trim(),
            date(Col::ApplicationDate),
            date(Col::DecisionDate),
        ),
    };
    let finding = eval.finding.as_ref();
    let condition = |pick: fn(&rules::Conditions) -> rules::Condition| {
        finding.map_or(String::new(), |f| pick(&f.conditions).code().to_string())
    };
    let decided_by = eval.decided_by.to_string();
    let fields = vec![
        names[source].clone(),
        line.to_string(),
        case_id.to_string(),
        cpr.to_string(),
        municipality_code.to_string(),
        decided_by.clone(),
        application_date.map_or(String::new(), |d| d.to_string()),
        decision_date.map_or(String::new(), |d| d.to_string()),
        eval.classification.code().to_string(),
        eval.outcome.map_or(String::new(), |o| o.code().to_string()),
        eval.rule.code().to_string(),
        condition(|c| c.c1_person),
        condition(|c| c.c2_self_supporting),
        condition(|c| c.c3_exam),
        condition(|c| c.c4_first_time),
        finding.map_or(String::new(), |f| f.ground.ground.code().to_string()),
        finding.map_or(String::new(), |f| match f.program {
            Some(rules::case::YesNo::Yes) => "YES".to_string(),
            Some(rules::case::YesNo::No) => "NO".to_string(),
            None => "UNKNOWN".to_string(),
        }),
        eval.warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("|"),
        explanation(&eval),
    ];
    ListRow {
        fields,
        encoded: Vec::new(),
        case_id: String::new(),
        classification: eval.classification,
        outcome: eval.outcome,
        rule: eval.rule,
        duplicate,
        decided_by,
        authority: eval.decided_by,
        year: decision_date.map(|d| d.year()),
        bonus: case.is_some(),
    }
}
