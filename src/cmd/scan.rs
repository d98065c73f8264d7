//! `genoptag scan`: validates the arguments into a scan, runs it, and reports on stderr.

use crate::cli::ScanArgs;
use crate::error::Error;
use crate::input::mapping;
use crate::input::source;
use crate::ledger::{self, Ledger};
use crate::output::pseudonym::Pseudonymizer;
use crate::output::report;
use crate::pipeline::{self, ScanConfig};

/// Exit code when more rows were rejected than `--max-rejects` allows.
pub const EXIT_TOO_MANY_REJECTS: i32 = 3;

pub fn config(args: &ScanArgs) -> Result<ScanConfig, Error> {
    let sources = source::expand(&args.inputs)?;
    let mapping = mapping::load_or_default(args.read.mapping.as_deref())?;
    let threads = match args.threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    Ok(ScanConfig {
        sources,
        out: args.out.clone(),
        threads,
        audit_all: args.audit_all,
        excel: args.excel,
        max_rejects: args.max_rejects,
        quiet: args.quiet,
        batch_size: args.batch_size as usize,
        chunk_size: usize::try_from(args.chunk_size).unwrap_or(usize::MAX),
        encoding: args.read.encoding,
        delimiter: args.read.delimiter,
        digest: args.digest,
        vocab: mapping.vocab,
        patterns: mapping.patterns,
        mapped_columns: mapping.columns,
        pseudonymize: args
            .pseudonymize_key
            .as_deref()
            .map(Pseudonymizer::from_file)
            .transpose()?,
        split_by_authority: args.split_by_authority,
        input_sha256: args.ledger.is_some(),
    })
}

pub fn run(args: &ScanArgs) -> Result<i32, Error> {
    let cfg = config(args)?;
    // A ledger that cannot be used stops the run before the scan, not after it.
    let ledger = args.ledger.as_deref().map(Ledger::open).transpose()?;
    let scanned = pipeline::scan(&cfg)?;
    ledger::run::failpoint("classified");
    let finished = match ledger {
        Some(ledger) => {
            let opts = ledger::run::Options {
                ledger_name: &ledger.path().display().to_string(),
                wait: args.ledger_wait,
                excel: cfg.excel,
                quiet: cfg.quiet,
            };
            ledger::run::finish(ledger, scanned, &opts)?
        }
        None => {
            let mut staging = scanned.staging;
            crate::timings::mark("summary and listed cases");
            report::write(&mut staging, &scanned.summary, &scanned.listed, None)?;
            scanned.summary.write(&mut staging)?;
            crate::threads::drop_behind(scanned.listed);
            crate::timings::mark("report");
            ledger::run::Finished {
                out: staging.commit()?,
                summary: scanned.summary,
                changes_sentence: None,
            }
        }
    };
    let (out, summary) = (finished.out, finished.summary);
    if !cfg.quiet {
        eprint!("{}", summary.stderr_table(&out.display().to_string()));
        if let Some(sentence) = finished.changes_sentence {
            eprintln!("{sentence}");
        }
    }
    let rejected = summary.counts.rejected;
    match cfg.max_rejects {
        Some(max) if rejected > max => {
            if !cfg.quiet {
                eprintln!(
                    "genoptag: {rejected} rows rejected, more than --max-rejects {max}: see rejects.csv"
                );
            }
            Ok(EXIT_TOO_MANY_REJECTS)
        }
        _ => Ok(0),
    }
}
