//! `genoptag explain INPUT... --case CASE_ID` (SPEC §6.2): for a caseworker, how each row of one
//! case was classified — every step taken, each condition with the value that decided it, the
//! ground and the patterns that named it, the rule with its source and date, step 7, and the other
//! rows of the same person. It reads and settles the inputs exactly as `scan` does
//! ([`pipeline::look_up`]) and evaluates with the same facts; it only tells. The CPR is shown
//! masked (`DDMMYY-XXXX`), and the free refusal text is not repeated, only what matched in it.

use std::fmt::Write as _;

use crate::cli::ExplainArgs;
use crate::error::Error;
use crate::input::mapping;
use crate::input::record::cpr_valid;
use crate::input::source;
use crate::pipeline::{self, CaseRow, Looked, Lookup, Related, ScanConfig};
use crate::rules::across::normalised_cpr;
use crate::rules::case::Case;
use crate::rules::explain::explanation;
use crate::rules::ground::Patterns;
use crate::rules::params::{self};
mod steps;

use steps::*;

use crate::rules::{self, Classification, Evaluation, Facts};

pub fn run(args: &ExplainArgs) -> Result<i32, Error> {
    let mapping = mapping::load_or_default(args.read.mapping.as_deref())?;
    let cfg = ScanConfig {
        sources: source::expand(&args.inputs)?,
        out: std::path::PathBuf::new(),
        threads: std::thread::available_parallelism().map_or(1, usize::from),
        audit_all: false,
        excel: false,
        max_rejects: None,
        quiet: false,
        batch_size: 16384,
        chunk_size: 4 << 20,
        encoding: args.read.encoding,
        delimiter: args.read.delimiter,
        digest: source::DigestKind::None,
        vocab: mapping.vocab,
        patterns: mapping.patterns,
        mapped_columns: mapping.columns,
        pseudonymize: None,
        split_by_authority: false,
        input_sha256: false,
    };
    let lookup = pipeline::look_up(&cfg, &args.case_id)?;
    if lookup.rows.is_empty() && lookup.rejected.is_empty() {
        eprintln!(
            "genoptag: case `{}` is not in the input: none of the {} rows read has this case_id",
            shown_case_id(&args.case_id),
            lookup.rows_read
        );
        return Ok(1);
    }
    print!("{}", text(&args.case_id, &lookup, &cfg.patterns));
    Ok(0)
}

/// The case id as given, unless it looks like a CPR number typed by mistake: then masked.
fn shown_case_id(case_id: &str) -> String {
    if cpr_valid(case_id) {
        masked_cpr(case_id)
    } else {
        case_id.to_string()
    }
}

/// The usual Danish masking, `DDMMYY-XXXX`; anything that is not ten digits is not shown at all.
pub fn masked_cpr(cpr: &str) -> String {
    let digits = normalised_cpr(cpr.trim());
    if digits.is_empty() {
        "(empty)".to_string()
    } else if digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-XXXX", &digits[..6])
    } else {
        "(not ten digits; not shown)".to_string()
    }
}

/// The whole explanation of a case, as printed.
pub fn text(case_id: &str, lookup: &Lookup, patterns: &Patterns) -> String {
    let mut out = String::new();
    let total = lookup.rows.len() + lookup.rejected.len();
    let _ = writeln!(
        out,
        "Case {} — {} row{} with this case_id among {} rows read (rules {})",
        shown_case_id(case_id),
        total,
        if total == 1 { "" } else { "s" },
        lookup.rows_read,
        params::RULES_VERSION
    );
    let mut k = 0;
    for row in &lookup.rows {
        k += 1;
        let _ = writeln!(
            out,
            "\n=== Row {k} of {total}: {}, line {}",
            row.source, row.line
        );
        match &row.row {
            Looked::Bonus { case, facts } => bonus_row(&mut out, row, case, facts, patterns),
            Looked::Other {
                benefit,
                municipality_code,
            } => {
                let eval_authority = rules::Authority::of(municipality_code, None);
                let _ = writeln!(
                    out,
                    "Step 1, scope: benefit `{benefit}` is not a danskbonus or dansktillæg → OUT_OF_SCOPE (rule SCOPE); its other fields are not read\n\nResult: OUT_OF_SCOPE · rule SCOPE · decided by {eval_authority}"
                );
            }
        }
    }
    for rejected in &lookup.rejected {
        k += 1;
        let _ = writeln!(
            out,
            "\n=== Row {k} of {total}: {}, line {}\nRejected: {}{} — the row could not be evaluated and is in rejects.csv, not classified",
            rejected.source,
            rejected.line,
            rejected.reason,
            rejected
                .column
                .map_or(String::new(), |c| format!(" (column {c})")),
        );
    }
    out
}

fn bonus_row(out: &mut String, row: &CaseRow, case: &Case, facts: &Facts, patterns: &Patterns) {
    let eval = rules::evaluate(case, patterns, facts);
    let _ = writeln!(
        out,
        "cpr {} · municipality_code {} · benefit {} · decision {} · application_date {} · decision_date {}",
        masked_cpr(&case.cpr),
        or_empty(&case.municipality_code),
        case.benefit.code(),
        decision_code(case.decision),
        date_or_empty(case.application_date),
        case.decision_date,
    );
    if !case.warnings.is_empty() {
        let _ = writeln!(out, "read with warnings: {}", warnings(&case.warnings));
    }
    out.push('\n');
    steps(out, case, facts, &eval, patterns);
    same_case_id(out, facts);

    let (source, parameter) = params::rule_source(eval.rule);
    let _ = writeln!(
        out,
        "\nResult: {} · rule {} · expected outcome {} · decided by {}",
        eval.classification.code(),
        eval.rule.code(),
        eval.outcome.map_or("(none)", |o| o.code()),
        eval.decided_by
    );
    let _ = writeln!(
        out,
        "  warnings: {}",
        if eval.warnings.is_empty() {
            "(none)".to_string()
        } else {
            warnings(&eval.warnings)
        }
    );
    let _ = writeln!(out, "  rule {}: {source}", eval.rule.code());
    if let Some(p) = parameter {
        let _ = writeln!(out, "  date: {} ({})", parameter_line(p), p.meaning);
    }
    let _ = writeln!(out, "  written to: {}", written_to(&eval, facts));
    let _ = writeln!(out, "  explanation: {}", explanation(&eval));
    related(out, case, &row.related);
}

/// SPEC §3.3: the same case id on other rows.
fn same_case_id(out: &mut String, facts: &Facts) {
    if let Some((source, line)) = &facts.duplicate_of {
        let _ = writeln!(
            out,
            "Same case_id: this row repeats {source}, line {line}, in every canonical column (warning DUPLICATE_OF): one decision, so it takes that row's classification, stays in audit.csv only and is left out of step 7"
        );
    }
    if facts.conflicting {
        let _ = writeln!(
            out,
            "Same case_id: another row has this case_id with different content → REVIEW if in scope (warning CONFLICTING_DUPLICATE)"
        );
    }
}

fn written_to(eval: &Evaluation, facts: &Facts) -> &'static str {
    if facts.duplicate_of.is_some() {
        return "audit.csv (a duplicate: not on the lists)";
    }
    match eval.classification {
        Classification::Reopen => "reopen.csv and audit.csv",
        Classification::Review => "review.csv and audit.csv",
        Classification::NotAffected | Classification::OutOfScope => "audit.csv",
    }
}

fn related(out: &mut String, case: &Case, rows: &[Related]) {
    let _ = writeln!(
        out,
        "\nOther danskbonus and dansktillæg rows of the same person (matched by CPR, not shown):"
    );
    if rows.is_empty() {
        let _ = writeln!(out, "  (none)");
        return;
    }
    let header = [
        "source",
        "line",
        "case_id",
        "benefit",
        "decision",
        "decision_date",
        "",
    ];
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.source.clone(),
                r.line.to_string(),
                r.case_id.clone(),
                r.benefit.code().to_string(),
                decision_code(r.decision).to_string(),
                r.decision_date.to_string(),
                match r.decision_date.cmp(&case.decision_date) {
                    std::cmp::Ordering::Less => "before this decision",
                    std::cmp::Ordering::Equal => "same day",
                    std::cmp::Ordering::Greater => "after this decision",
                }
                .to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for r in &table {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 7]| {
        let mut s = String::from(" ");
        for (cell, w) in cells.iter().zip(widths) {
            let _ = write!(s, " {cell:<w$}");
        }
        s.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(header));
    for r in &table {
        let _ = writeln!(out, "{}", line(r.each_ref().map(String::as_str)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpr_is_shown_only_masked() {
        assert_eq!(masked_cpr("010180-1234"), "010180-XXXX");
        assert_eq!(masked_cpr("0101801234"), "010180-XXXX");
        assert_eq!(masked_cpr(""), "(empty)");
        assert_eq!(masked_cpr("01018012"), "(not ten digits; not shown)");
    }

    #[test]
    fn a_case_id_that_is_a_cpr_number_is_masked_too() {
        assert_eq!(shown_case_id("0101801234"), "010180-XXXX");
        assert_eq!(shown_case_id("2020-0017"), "2020-0017");
    }
}
