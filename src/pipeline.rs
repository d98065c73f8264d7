//! The streaming, parallel scan: reads every input in batches, classifies them with rayon and
//! writes in input order. The only code that knows rayon and indicatif.
//!
//! Two passes keep memory flat. Pass 1 streams the inputs: rejects are written at once, rows of
//! other benefits are only counted, and bonus-related rows go to a spill file beside the outputs
//! while a compact index of them (hashes, dates, flags) is kept. Then the index settles what rows
//! tell about each other (duplicates, step 7). Pass 2 streams the spill file back, classifies each
//! row with its settled facts, and writes the lists in input order.
//!
//! Pass 1 is in `pass1` (the streaming csv reader, and stdin) and `mapped` (files, read in
//! parallel pieces); pass 2 in `pass2`. `explain` runs the same pass 1 and settling through
//! [`look_up`] (in `lookup`), and reads the rows of one case back instead of writing lists.

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
mod pass1;
mod pass2;

use self::pass1::{FirstPass, Pass1, caught_word, pass1, spill_columns, verdict};
use self::pass2::{Lists, pass2};

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
