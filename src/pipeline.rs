//! The streaming, parallel scan: reads every input in batches, classifies them with rayon and
//! writes in input order. The only code that knows rayon and indicatif.
//!
//! Two passes keep memory flat. Pass 1 streams the inputs: rejects are written at once, rows of
//! other benefits are only counted, and each bonus-related row is classified as it stands (in a
//! file read in pieces, with what the rows of its piece tell it) and written to the lists at
//! once, while it is also spilled to a file beside the outputs and a compact index of it (hashes,
//! dates, flags) is kept. Then the index settles what rows tell about each other (duplicates,
//! step 7). Pass 2 classifies again, with their settled facts, only the rows whose facts are not
//! those pass 1 wrote them with, and patches the lists where their rows change.
//!
//! Pass 1 is in `pass1` (the streaming csv reader, and stdin) and `mapped` (files, read in
//! parallel pieces); the spill file in `spill`; pass 2 in `pass2`; a list row is made in
//! `render`; the counts are kept in `tally`. `explain` runs the same
//! pass 1 and settling through [`look_up`] (in `lookup`), and reads the rows of one case back
//! instead of writing lists.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use csv::{ByteRecord, StringRecord};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::error::Error;
use crate::input::columns::{Col, ColumnMap};
use crate::input::encoding::{Decoding, EncodingChoice, decode};
use crate::input::record::{self, Parsed, RejectReason};
use crate::input::records::{self, Records};
use crate::input::source::{DigestKind, Source};
use crate::input::values::Vocabulary;
use crate::output::dir::Staging;
use crate::output::lists::{Behind, CsvOut, LIST_COLUMNS, REJECT_COLUMNS};
use crate::output::pseudonym::Pseudonymizer;
use crate::output::split::split_lists;
use crate::output::summary::{InputRead, InputSummary, Summary};
use crate::rules::across::{Guess, Index, Pending};
use crate::rules::ground::Patterns;
use crate::rules::{self, Classification, Rule, params};

mod grounds;
mod lookup;
mod mapped;
mod pass1;
mod pass2;
mod render;
mod spill;
mod tally;

use self::pass1::{FirstPass, Pass1, caught_word, is_watched, pass1, verdict};
use self::pass2::pass2;
use self::render::{Rendered, Style, Tails};
use self::spill::spill_columns;
use self::tally::Tally;

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
/// The lists' last rows are still being patched in meanwhile ([`Staging::finished`] waits).
pub struct Scanned {
    pub staging: Staging,
    pub summary: Summary,
    /// The REOPEN and REVIEW list rows (no CPR), in output order, for the ledger and the report.
    pub listed: Vec<ListedCase>,
    /// Each input's SHA-256, in input order, when [`ScanConfig::input_sha256`] asked for it.
    pub input_sha256: Vec<InputSha256>,
}

/// An input's SHA-256 for the ledger: known once the input is read, or still being taken
/// behind the run ([`mapped::Sha256Behind`]).
pub enum InputSha256 {
    Known(Option<String>),
    Behind(mapped::Sha256Behind),
}

impl InputSha256 {
    /// The digest (waiting for it if it is still being taken); an input that changed while
    /// it was scanned is an error.
    pub fn get(self) -> Result<Option<String>, Error> {
        match self {
            InputSha256::Known(sha256) => Ok(sha256),
            InputSha256::Behind(behind) => behind.finish().map(Some),
        }
    }
}

/// A case on the REOPEN or REVIEW list, as the ledger keeps it: no CPR number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCase {
    pub case_id: String,
    /// Shared by the cases of one authority (a run may list hundreds of thousands).
    pub decided_by: Arc<str>,
    pub classification: Classification,
    pub rule: Rule,
    pub expected_outcome: Option<rules::Outcome>,
}

/// Pass 1's verdict on one record.
enum First {
    Reject(Option<Col>, RejectReason),
    /// A row of another benefit; with `--audit-all` in a scan, rendered for `audit.csv`.
    Other {
        caught: bool,
        rendered: Option<Rendered>,
    },
    /// A bonus-related row: its index entry, what the spill file holds of it and (in a scan)
    /// its list row as it stands, made in parallel — or, with a `guess`, as its piece settled it
    /// (`mapped::piece`).
    Bonus {
        pending: Pending,
        columns: SpillRow,
        rendered: Option<Rendered>,
        guess: Option<Guess>,
    },
}

/// What the spill file holds of a bonus-related row, for pass 2 to read it again.
enum SpillRow {
    /// Its canonical columns, as [`spill_columns`] encodes them.
    Columns(Vec<u8>),
    /// Where it stands in a file input (a scan of a mapped file; pass 2 opens the file again):
    /// its bytes, its line end left out.
    InInput { start: u64, end: u64 },
}

/// The lists, written by pass 1 and patched by pass 2.
struct Lists {
    audit: CsvOut,
    reopen: CsvOut,
    review: CsvOut,
    style: Style<'static>,
    /// Each input's name as the `source` column holds it.
    sources: Vec<Vec<u8>>,
    /// A row's `source` and `line` columns.
    head: Vec<u8>,
}

/// The three lists, in the order of [`Lists::at`].
const LIST_FILES: [&str; 3] = ["audit.csv", "reopen.csv", "review.csv"];

impl Lists {
    fn create(staging: &Staging, cfg: &ScanConfig) -> Result<Lists, Error> {
        // The lists go straight to disk as they grow (`output::direct`; through the page cache,
        // handed to the disk behind the run, where the system cannot), and the `fsync` at the
        // end waits for little: each piece of the input settles its own rows as it is read
        // (`mapped::piece`), so pass 2 rewrites a list only from the first row that rows far
        // apart change, and on the 10M-row file not at all. (While pass 1 wrote rows as they
        // stood, `audit.csv` was rewritten from its 17th kilobyte on and was held back in the page
        // cache for the `fsync`.) The `source` and `line` columns need only the delimiter.
        // The thread that hands a list written through the page cache to the disk, once one is.
        let mut behind: Option<Behind> = None;
        let mut list = |name| {
            let list = CsvOut::create_direct(staging, name, &LIST_COLUMNS, cfg.excel)?;
            Ok::<_, Error>(if list.is_direct() {
                list
            } else {
                list.behind(behind.get_or_insert_with(Behind::start))
            })
        };
        let style = Style {
            excel: cfg.excel,
            pseudonymize: None,
        };
        Ok(Lists {
            audit: list(LIST_FILES[0])?,
            reopen: list(LIST_FILES[1])?,
            review: list(LIST_FILES[2])?,
            style,
            sources: cfg
                .sources
                .iter()
                .map(|s| style.encoded_source(&s.name))
                .collect(),
            head: Vec::new(),
        })
    }

    /// Where the next row of each list would start: `audit.csv`, `reopen.csv`, `review.csv`.
    fn at(&self) -> [u64; 3] {
        [self.audit.len, self.reopen.len, self.review.len]
    }

    /// Writes a row (its columns from `case_id` on) to `audit.csv` and, if listed, to its list.
    fn write(
        &mut self,
        s: u32,
        line: u64,
        tail: &[u8],
        classification: Classification,
    ) -> Result<(), Error> {
        self.head.clear();
        self.style
            .head(&self.sources[s as usize], line, &mut self.head);
        let parts: [&[u8]; 2] = [&self.head, tail];
        self.audit.write_parts(&parts)?;
        match classification {
            Classification::Reopen => self.reopen.write_parts(&parts),
            Classification::Review => self.review.write_parts(&parts),
            _ => Ok(()),
        }
    }

    fn flush(self) -> Result<(), Error> {
        self.audit.flush()?;
        self.reopen.flush()?;
        self.review.flush()
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

impl ScanConfig {
    /// How this scan renders list rows.
    fn style(&self) -> Style<'_> {
        Style {
            excel: self.excel,
            pseudonymize: self.pseudonymize.as_ref(),
        }
    }
}

/// Runs `run` with the scan's threads, which have all ended when it returns (a pool merely
/// dropped lets its threads end at their own pace, after the scan).
fn with_threads<R>(
    cfg: &ScanConfig,
    run: impl FnOnce(&rayon::ThreadPool) -> Result<R, Error>,
) -> Result<R, Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .thread_name(|i| format!("genoptag-scan-{i}"))
        .build_scoped(rayon::ThreadBuilder::run, run)
        .map_err(|e| Error::Usage(format!("cannot start {} threads: {e}", cfg.threads)))?
}

/// Runs a scan into a staging directory beside `cfg.out` (see [`Scanned`]).
pub fn scan(cfg: &ScanConfig) -> Result<Scanned, Error> {
    with_threads(cfg, |pool| scan_with(cfg, pool))
}

fn scan_with(cfg: &ScanConfig, pool: &rayon::ThreadPool) -> Result<Scanned, Error> {
    let started_at = Utc::now();
    let clock = Instant::now();
    let mut staging = Staging::create(&cfg.out)?;
    let names: Vec<String> = cfg.sources.iter().map(|s| s.name.clone()).collect();
    let lists = Lists::create(&staging, cfg)?;
    let FirstPass {
        index,
        mut tally,
        inputs,
        spill,
        mapped_inputs,
        progress,
        ..
    } = pass1(cfg, pool, &staging, None, Some(lists))?;
    crate::timings::mark("settling");

    // Pass 2: the rows the settling found something for, classified again and patched in, on
    // the scan's threads, while this one gives back the memory the settling freed (4 ms on the
    // 10M-row file, unmapping it).
    let mut patches = None;
    pool.in_place_scope(|scope| {
        scope.spawn(|_| {
            patches = Some(pass2(
                &staging,
                cfg.style(),
                &spill,
                &mapped_inputs,
                &names,
                &index,
                &cfg.vocab,
                &cfg.patterns,
                &mut tally,
            ));
        });
        crate::memory::release_freed();
    });
    let patches = patches.expect("pass 2 ran in the scope")?;
    staging.remove_behind(&spill.path);
    crate::timings::mark("pass 2");
    staging.uncache_previous();
    if cfg.split_by_authority {
        // The lists are read again for the lists per authority: they are finished first.
        for patching in patches {
            patching.finished()?;
        }
        staging.sync_behind(&LIST_FILES);
        split_lists(&staging, cfg.excel)?;
    } else {
        // The lists' last rows are patched in and the lists go to disk while the rest is
        // written; the commit waits for them.
        for (name, patching) in LIST_FILES.into_iter().zip(patches) {
            staging.finish_behind(name, move || patching.finished());
        }
    }
    progress.finish();
    let year_rows = std::mem::take(&mut tally.year_rows);
    tally
        .years
        .retain(|y, _| year_rows.get(y).is_some_and(|&n| n > 0));

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
        rules: tally.rule_counts(),
        rejects_by_reason: std::mem::take(&mut tally.rejects),
        by_authority: tally.by_authority(),
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
        listed: tally.listed_cases(),
        input_sha256: tally.input_sha256,
    })
}
