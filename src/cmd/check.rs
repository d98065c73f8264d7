//! `genoptag check` (SPEC §6.2): the dry run IT performs first on a new system's export. It reads
//! every input as `scan` would (a file in pieces, in parallel: `pieces`; standard input with the
//! single streaming reader; the same mapping), tallies its rows (`tally`) and explains it to
//! someone who has never seen it: encoding and delimiter, how each canonical column was found, the
//! columns ignored, the row count, the benefit words the catch-all took, the warnings rows would
//! carry and every row that would be rejected (line, column, reason; never the raw row or a CPR
//! number). Nothing is classified and nothing is written but stdout.

use std::fmt::Write as _;
use std::io::Write as _;

use csv::ByteRecord;

use crate::cli::CheckArgs;
use crate::error::Error;
use crate::input::columns::{Col, ColumnMap, Found};
use crate::input::encoding::EncodingChoice;
use crate::input::mapping::{self, Mapping};
use crate::input::records::{self, Records};
use crate::input::source::{self, DigestKind};
use crate::rules::case::Case;

mod pieces;
mod tally;

use self::tally::{Rows, Tally};

pub fn run(args: &CheckArgs) -> Result<i32, Error> {
    let sources = source::expand(&args.inputs)?;
    let mapping = mapping::load_or_default(args.read.mapping.as_deref())?;
    let stdout = std::io::stdout();
    let (mut rows, mut rejected) = (0u64, 0u64);
    for source in &sources {
        let (text, tally) = check_one(source, args, &mapping)?;
        rows += tally.rows;
        rejected += tally.rejected;
        let mut out = stdout.lock();
        // A closed stdout (`genoptag check … | head`) ends the dry run quietly.
        if out.write_all(text.as_bytes()).is_err() {
            return Ok(0);
        }
    }
    let inputs = sources.len();
    let closing = format!(
        "{inputs} input{}, {rows} rows: {} readable, {rejected} would be rejected. Nothing was classified: `genoptag scan` does that.\n",
        if inputs == 1 { "" } else { "s" },
        rows - rejected,
    );
    let _ = stdout.lock().write_all(closing.as_bytes());
    Ok(0)
}

/// How an input turned out to be written: what [`render`] says of it besides its rows.
struct Format {
    encoding_name: &'static str,
    delimiter: u8,
    map: ColumnMap,
}

/// Checks one input: a regular file in pieces, in parallel ([`pieces`]); standard input and
/// anything else that is no regular file with bytes in it with the single streaming reader.
fn check_one(
    source: &source::Source,
    args: &CheckArgs,
    mapping: &Mapping,
) -> Result<(String, Tally), Error> {
    let in_pieces = match &source.path {
        Some(path) => pieces::check_file(source, path, args, mapping)?,
        None => None,
    };
    let (format, tally) = match in_pieces {
        Some(checked) => checked,
        None => check_streamed(source, args, mapping)?,
    };
    let text = render(source, args, mapping, &format, &tally);
    Ok((text, tally))
}

/// Checks one input with the streaming csv reader, one record at a time.
fn check_streamed(
    source: &source::Source,
    args: &CheckArgs,
    mapping: &Mapping,
) -> Result<(Format, Tally), Error> {
    let mut reader = Records::open(
        source,
        args.read.encoding,
        args.read.delimiter,
        DigestKind::None,
        &mapping.columns,
    )?;
    let mut tally = Tally::default();
    let mut rec = ByteRecord::new();
    let mut case = Case::blank();
    // A copy of the column map: the reader is borrowed anew for each record.
    let map = reader.map.clone();
    let rows = Rows {
        map: &map,
        decoding: reader.decoding,
        vocab: &mapping.vocab,
    };
    while reader.read(&mut rec)? {
        tally.row(&rec, records::line(&rec), &rows, &mut case);
    }
    let format = Format {
        encoding_name: reader.encoding_name,
        delimiter: reader.delimiter,
        map,
    };
    Ok((format, tally))
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\\\""))
}

fn render(
    source: &source::Source,
    args: &CheckArgs,
    mapping: &Mapping,
    format: &Format,
    t: &Tally,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "== {}", source.name);
    let _ = writeln!(
        s,
        "encoding:  {} ({})",
        format.encoding_name,
        match args.read.encoding {
            EncodingChoice::Auto => "detected; --encoding overrides",
            _ => "as given by --encoding",
        }
    );
    let _ = writeln!(
        s,
        "delimiter: {} ({})",
        match format.delimiter {
            b'\t' => "tab".to_string(),
            d => quoted(&(d as char).to_string()),
        },
        if args.read.delimiter.is_some() {
            "as given by --delimiter"
        } else {
            "sniffed from the header; --delimiter overrides"
        }
    );
    let _ = writeln!(
        s,
        "rows:      {} after the header: {} bonus-related (IL22, AKTL22, DANSKTILLAEG), {} of other benefits (out of scope, not validated), {} would be rejected",
        t.rows, t.bonus, t.other, t.rejected
    );
    let _ = writeln!(s, "columns:");
    for col in Col::ALL {
        match format.map.found.iter().find(|(c, _, _)| *c == col) {
            Some((_, header, how)) => {
                let how = match how {
                    Found::Canonical => "by its name",
                    Found::Alias => "by a Danish alias",
                    Found::Mapping => "by the mapping",
                };
                let _ = writeln!(s, "  {:<18} {:<18} {}", col.name(), how, quoted(header));
            }
            None => {
                let _ = writeln!(
                    s,
                    "  {:<18} {:<18} optional: every row reads it as unknown",
                    col.name(),
                    "absent"
                );
            }
        }
    }
    if format.map.extra.is_empty() {
        let _ = writeln!(s, "extra columns: none");
    } else {
        let extra: Vec<String> = format.map.extra.iter().map(|h| quoted(h)).collect();
        let _ = writeln!(s, "extra columns (ignored): {}", extra.join(", "));
    }
    if mapping.vocab.benefit_catch_all {
        if t.caught.is_empty() {
            let _ = writeln!(s, "benefit catch-all \"*\" = \"OTHER\": took no word");
        } else {
            let _ = writeln!(
                s,
                "benefit words read as OTHER only through the catch-all \"*\" (check that none is a danskbonus):"
            );
            for (word, n) in &t.caught {
                let _ = writeln!(s, "  {n:>8}  {}", quoted(word));
            }
        }
    }
    if !t.warnings.is_empty() {
        let _ = writeln!(s, "warnings scan will write on rows (rows):");
        for (code, n) in &t.warnings {
            let _ = writeln!(s, "  {n:>8}  {code}");
        }
    }
    if t.rejects.is_empty() {
        let _ = writeln!(s, "rejects: none");
    } else {
        let _ = writeln!(
            s,
            "rejects (scan writes each to rejects.csv; rows by column and reason):"
        );
        for ((column, reason), n) in &t.rejects_by {
            let column = if column.is_empty() { "(row)" } else { column };
            let _ = writeln!(s, "  {n:>8}  {column:<18} {}", reason.code());
        }
        for ((column, word), n) in &t.unknown_words {
            let hint = match *column {
                "benefit" => {
                    "map it in [values.benefit], or add the catch-all \"*\" = \"OTHER\" there"
                }
                _ => "map it in [values.decision]",
            };
            let _ = writeln!(
                s,
                "  {n:>8}  unknown {column} word {}: {hint}",
                quoted(word)
            );
        }
        let _ = writeln!(s, "  source, line, column, reason:");
        for (line, column, reason) in &t.rejects {
            let _ = writeln!(s, "  {},{line},{column},{}", source.name, reason.code());
        }
        let more = t.rejected - t.rejects.len() as u64;
        if more > 0 {
            let _ = writeln!(
                s,
                "  … and {more} more (counted by reason above; `genoptag scan` writes every one to rejects.csv)"
            );
        }
    }
    s.push('\n');
    s
}
