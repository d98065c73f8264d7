//! The command line (SPEC §6): the only place commands, options and their help are defined.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::input::encoding::EncodingChoice;
use crate::input::source::DigestKind;

#[derive(Debug, Parser)]
#[command(
    name = "genoptag",
    version,
    about = "Finds the danskbonus refusals (integrationsloven § 22) that must be reopened after Ankestyrelsen's 2021 practice change",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan case exports and write the cases to reopen, to review, the audit trail and the rejects.
    Scan(ScanArgs),
    /// Explain how one case was classified: every step, each condition with the value that decided it, the rule and its source.
    Explain(ExplainArgs),
    /// Print the rule set: the dated parameters with their sources and the decision table.
    Rules,
    /// Show the past runs recorded in a ledger, one line each, or one case's history.
    History(HistoryArgs),
    /// Dry run for a new export: how it is read (encoding, delimiter, columns, words) and which rows would be rejected, without classifying.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Case exports: CSV files, directories (their *.csv, sorted by name), or - for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// Output directory; replaced whole at the end of the run.
    #[arg(long, value_name = "DIR", default_value = "genoptag-out")]
    pub out: PathBuf,

    #[command(flatten)]
    pub read: ReadArgs,

    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,

    /// Write every evaluated row to audit.csv, other benefits too.
    #[arg(long)]
    pub audit_all: bool,

    /// Exit with code 3 after finishing when more than N rows were rejected.
    #[arg(long, value_name = "N")]
    pub max_rejects: Option<u64>,

    /// Write the CSV outputs with `;` and a UTF-8 byte-order mark, for Danish Excel.
    #[arg(long)]
    pub excel: bool,

    /// Replace `cpr` in every output by HMAC-SHA256 (hex) of its digits under the key in FILE
    /// (the file's bytes, as they are), for sharing with auditors; rejects.csv then leaves `raw`
    /// empty. The same key gives the same pseudonym for one person in every file and run.
    #[arg(long, value_name = "FILE")]
    pub pseudonymize_key: Option<PathBuf>,

    /// Also write `reopen/<authority>.csv` and `review/<authority>.csv`, one per `decided_by`.
    #[arg(long)]
    pub split_by_authority: bool,

    /// The input digest written in summary.json.
    #[arg(long, value_enum, default_value_t)]
    pub digest: DigestKind,

    /// Keep the history of runs in this SQLite file (created if missing) and write changes.csv:
    /// the cases new, changed or gone since the ledger's last run.
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,

    /// Seconds to wait for the ledger while another run is recording in it.
    #[arg(long, hide = true, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds)]
    pub ledger_wait: Duration,

    /// No progress bar and no summary on stderr.
    #[arg(long)]
    pub quiet: bool,

    /// Records per batch (for tests that need many batches).
    #[arg(long, hide = true, default_value_t = 16384, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,

    /// Bytes per piece of a file read in parallel (for tests that need many pieces).
    #[arg(long, hide = true, default_value_t = 4 << 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_size: u64,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Case exports, read as `scan` reads them: every row of the same person, in any input, counts.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// The case to explain (`case_id`); every row with it is explained.
    #[arg(long = "case", value_name = "CASE_ID")]
    pub case_id: String,

    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The ledger written by `genoptag scan --ledger`.
    #[arg(long, value_name = "FILE")]
    pub ledger: PathBuf,

    /// Show this case's history instead: when it was first and last on the lists, and each change.
    #[arg(long, value_name = "CASE_ID")]
    pub case: Option<String>,
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("`{text}` is not a number of seconds"))
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Case exports: CSV files, directories (their *.csv, sorted by name), or - for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,

    #[command(flatten)]
    pub read: ReadArgs,

    /// Bytes per piece of a file read in parallel (for tests that need many pieces), as `scan`'s.
    #[arg(long, hide = true, default_value_t = 4 << 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_size: u64,
}

/// How inputs are read: one set of options for `scan`, `check` and `explain`, so that each reads an
/// export exactly as the others do.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// TOML mapping of this export's column names, value words, reason codes and refusal-text patterns (SPEC §6.3).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,

    /// Text encoding of the inputs.
    #[arg(long, value_enum, default_value_t)]
    pub encoding: EncodingChoice,

    /// Field delimiter (`;`, `,`, `|`, or `tab`); sniffed from the header when not given.
    #[arg(long, value_name = "C", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
}

fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        ";" | "," | "|" => Ok(text.as_bytes()[0]),
        _ => Err(format!(
            "`{text}` is not a delimiter genoptag reads: use `;`, `,`, `|` or `tab`"
        )),
    }
}
