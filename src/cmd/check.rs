//! `genoptag check` (SPEC §6.2): the dry run IT performs first on a new system's export. It reads
//! every input as `scan` would (same reader, same mapping) and explains it to someone who has never
//! seen it: encoding and delimiter, how each canonical column was found, the columns ignored, the
//! row count, the benefit words the catch-all took, the warnings rows would carry and every row
//! that would be rejected (line, column, reason; never the raw row or a CPR number). Nothing is
//! classified and nothing is written but stdout.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;

use csv::ByteRecord;

use crate::cli::CheckArgs;
use crate::error::Error;
use crate::input::columns::{Col, Found};
use crate::input::encoding::{EncodingChoice, decode};
use crate::input::mapping::{self, Mapping};
use crate::input::record::{Parsed, RejectReason, shown_word};
use crate::input::records::{self, Records};
use crate::input::source::{self, DigestKind};

/// What one input turned out to hold.
#[derive(Debug, Default)]
struct Tally {
    rows: u64,
    bonus: u64,
    other: u64,
    caught: BTreeMap<String, u64>,
    warnings: BTreeMap<String, u64>,
    /// Per (column, reason): the rows.
    rejects_by: BTreeMap<(&'static str, RejectReason), u64>,
    /// Unknown words of `benefit` and `decision`, per column, with their rows.
    unknown_words: BTreeMap<(&'static str, String), u64>,
    /// The first [`LISTED`] rejects, by line; `rejected` counts them all.
    rejects: Vec<(u64, &'static str, RejectReason)>,
    rejected: u64,
}

/// Rejects listed one by one per input: a badly broken export can have millions, which the
/// counts by reason sum up and `scan` writes to rejects.csv in full.
const LISTED: usize = 200;

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

fn check_one(
    source: &source::Source,
    args: &CheckArgs,
    mapping: &Mapping,
) -> Result<(String, Tally), Error> {
    let mut reader = Records::open(
        source,
        args.read.encoding,
        args.read.delimiter,
        DigestKind::None,
        &mapping.columns,
    )?;
    let mut tally = Tally::default();
    let mut rec = ByteRecord::new();
    let benefit_at = reader.map.position(Col::Benefit);
    let decision_at = reader.map.position(Col::Decision);
    while reader.read(&mut rec)? {
        tally.rows += 1;
        let field = |at: Option<usize>| {
            at.and_then(|i| rec.get(i))
                .map(|b| decode(b, reader.decoding).trim().to_string())
                .unwrap_or_default()
        };
        match records::parse(&rec, &reader.map, reader.decoding, &mapping.vocab) {
            Parsed::Reject(r) => {
                let column = r.column.map_or("", Col::name);
                *tally.rejects_by.entry((column, r.reason)).or_default() += 1;
                if r.reason == RejectReason::UnknownValue {
                    let word = match r.column {
                        Some(Col::Benefit) => field(benefit_at),
                        Some(Col::Decision) => field(decision_at),
                        _ => String::new(),
                    };
                    *tally
                        .unknown_words
                        .entry((column, shown_word(&word).to_string()))
                        .or_default() += 1;
                }
                tally.rejected += 1;
                if tally.rejects.len() < LISTED {
                    tally.rejects.push((records::line(&rec), column, r.reason));
                }
            }
            Parsed::Other { caught } => {
                tally.other += 1;
                if caught {
                    let word = field(benefit_at);
                    *tally
                        .caught
                        .entry(shown_word(&word).to_string())
                        .or_default() += 1;
                }
            }
            Parsed::Bonus(case) => {
                tally.bonus += 1;
                for w in &case.warnings {
                    let code = w.to_string();
                    *tally
                        .warnings
                        .entry(shown_word(&code).to_string())
                        .or_default() += 1;
                }
            }
        }
    }
    let text = render(source, args, mapping, &reader, &tally);
    Ok((text, tally))
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\\\""))
}

fn render(
    source: &source::Source,
    args: &CheckArgs,
    mapping: &Mapping,
    reader: &Records,
    t: &Tally,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "== {}", source.name);
    let _ = writeln!(
        s,
        "encoding:  {} ({})",
        reader.encoding_name,
        match args.read.encoding {
            EncodingChoice::Auto => "detected; --encoding overrides",
            _ => "as given by --encoding",
        }
    );
    let _ = writeln!(
        s,
        "delimiter: {} ({})",
        match reader.delimiter {
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
        match reader.map.found.iter().find(|(c, _, _)| *c == col) {
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
    if reader.map.extra.is_empty() {
        let _ = writeln!(s, "extra columns: none");
    } else {
        let extra: Vec<String> = reader.map.extra.iter().map(|h| quoted(h)).collect();
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
