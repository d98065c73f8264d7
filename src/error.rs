//! The fatal errors: a bad input file, mapping or output directory stops the run before any output
//! replaces the last run's. Each names the file (and column or key) and says how to fix it. A bad
//! row is not an error: it is data, and goes to `rejects.csv`.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug)]
pub enum Error {
    /// Reading an input failed (missing, unreadable).
    Input { file: String, err: io::Error },
    /// The input has no header line.
    NoHeader { file: String },
    /// A required canonical column is neither named, aliased nor mapped.
    MissingColumn {
        file: String,
        column: &'static str,
        /// What the header holds, as it may be shown (see [`crate::input::columns::header_note`]).
        note: String,
    },
    /// Two header names both match one canonical column.
    AmbiguousColumn {
        file: String,
        column: &'static str,
        headers: Vec<String>,
    },
    /// The mapping file names a header this export lacks.
    MappedColumnMissing {
        file: String,
        column: &'static str,
        header: String,
    },
    /// The mapping file itself is wrong.
    Mapping { file: String, message: String },
    /// A key file (e.g. `--pseudonymize-key`) is missing or empty.
    Key { file: String, message: String },
    /// Writing an output failed.
    Output { path: PathBuf, err: io::Error },
    /// The output directory exists but was not written by genoptag.
    NotAnOutputDir { path: PathBuf },
    /// The command line is wrong in a way clap cannot see.
    Usage(String),
    /// The ledger (SPEC §5.1) cannot be opened, read or written, or does not hold what was asked.
    Ledger { path: PathBuf, message: String },
    /// Another run held the ledger's write lock longer than this run would wait.
    LedgerBusy { path: PathBuf, waited: Duration },
}

impl Error {
    /// The process exit code: 2 for wrong usage, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }

    pub fn output(path: impl Into<PathBuf>, err: io::Error) -> Error {
        Error::Output {
            path: path.into(),
            err,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input { file, err } => write!(f, "{file}: cannot read the input: {err}"),
            Error::NoHeader { file } => write!(
                f,
                "{file}: no header line: the first line of an export must name its columns (SPEC §3.1)"
            ),
            Error::MissingColumn { file, column, note } => write!(
                f,
                "{file}: required column `{column}` not found in the header; name it `{column}`, use a built-in Danish alias, or map your header to it with --mapping (`[columns] {column} = \"…\"`){note}"
            ),
            Error::AmbiguousColumn {
                file,
                column,
                headers,
            } => write!(
                f,
                "{file}: column `{column}` is matched by several headers ({}); name the right one with --mapping (`[columns] {column} = \"…\"`)",
                headers.join(", ")
            ),
            Error::MappedColumnMissing {
                file,
                column,
                header,
            } => write!(
                f,
                "{file}: the mapping's `[columns] {column} = \"{header}\"` names a header this file lacks; correct the mapping"
            ),
            Error::Mapping { file, message } => write!(f, "{file}: {message}"),
            Error::Key { file, message } => write!(f, "{file}: {message}"),
            Error::Output { path, err } => {
                write!(f, "{}: cannot write the output: {err}", path.display())
            }
            Error::NotAnOutputDir { path } => write!(
                f,
                "{}: exists and is not a genoptag output directory (no summary.json); choose another --out, or remove it",
                path.display()
            ),
            Error::Usage(message) => f.write_str(message),
            Error::Ledger { path, message } => write!(f, "{}: {message}", path.display()),
            Error::LedgerBusy { path, waited } => write!(
                f,
                "{}: the ledger is in use by another genoptag run, which did not finish within {} s; this run wrote nothing and the last run's outputs are untouched: run it again when the other has finished",
                path.display(),
                waited.as_secs_f64()
            ),
        }
    }
}

impl std::error::Error for Error {}
