//! `report.html` (SPEC §5.2): one self-contained page for the auditor and the head of department,
//! rendered with askama from `templates/report.html`, its charts inlined as SVG. Headings are
//! Danish with the canonical codes beside them. It holds no CPR number: it is built from the
//! summary and the case list of the ledger (case id, authority, classification, rule, outcome).
//! Every value that changes from one run of the same input to the next is inside a `<time>`.
//!
//! The section per authority is built in `authorities`, the page's Danish words and numbers in
//! `words`.

mod authorities;
mod words;

use std::collections::BTreeMap;
use std::io::Write;

use askama::Template;

use crate::error::Error;
use crate::output::chart;
use crate::output::dir::Staging;
use crate::output::lists::WRITE_BUFFER;
use crate::output::summary::{ChangeCounts, ListCountsWithNotAffected, Summary, local_minute};
use crate::pipeline::ListedCase;
use authorities::{AuthorityRow, authorities};
pub use words::authority_name;
use words::{bytes, counted, decimal, number, reject_meaning, rule_meaning};

pub const FILE: &str = "report.html";

/// Runs shown in the trend's table (the chart shows more).
const RUNS_IN_TABLE: usize = 15;
/// Runs shown in the trend's chart.
const RUNS_IN_CHART: usize = 90;

/// One run of the ledger, for the trend.
#[derive(Debug, Clone)]
pub struct TrendPoint {
    pub run: i64,
    pub started_at: String,
    pub reopen: u64,
    pub review: u64,
    pub new: u64,
    pub changed: u64,
    pub gone: u64,
}

struct CountRow {
    label: &'static str,
    code: &'static str,
    count: String,
    share: String,
    css: &'static str,
}

struct RuleRow {
    code: &'static str,
    meaning: &'static str,
    count: String,
}

struct YearRow {
    year: i32,
    reopen: String,
    review: String,
    not_affected: String,
}

struct InputRow {
    path: String,
    size: String,
    digest: String,
    rows: String,
    encoding: &'static str,
    delimiter: String,
}

struct TrendRow {
    run: i64,
    started_at: String,
    local: String,
    reopen: String,
    review: String,
    new: String,
    changed: String,
    gone: String,
}

struct ChangesView {
    first_run: bool,
    since: String,
    since_local: String,
    since_run: i64,
    new: String,
    new_reopen: String,
    new_review: String,
    changed: String,
    gone: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    s: &'a Summary,
    started_local: String,
    elapsed: String,
    complete: bool,
    incomplete_reasons: String,
    classes: Vec<CountRow>,
    totals: Vec<CountRow>,
    authorities: Vec<AuthorityRow>,
    year_chart: Option<String>,
    years: Vec<YearRow>,
    rules: Vec<RuleRow>,
    rejects: Vec<CountRow>,
    inputs: Vec<InputRow>,
    options: String,
    changes: Option<ChangesView>,
    trend_chart: Option<String>,
    trend: Vec<TrendRow>,
    trend_omitted: usize,
}

/// Writes `report.html` into the staging directory; `trend` is the ledger's runs, this one last.
pub fn write(
    staging: &mut Staging,
    summary: &Summary,
    listed: &[ListedCase],
    trend: Option<&[TrendPoint]>,
) -> Result<(), Error> {
    // Written as it is rendered: the page (3.6 MB on the 10M-row scan) is never held whole.
    let mut file = std::io::BufWriter::with_capacity(WRITE_BUFFER, staging.create_file(FILE)?);
    page(summary, listed, trend)
        .write_into(&mut file)
        .and_then(|()| file.flush())
        .map_err(|e| Error::output(FILE, e))?;
    // It goes to disk while the run ends; the commit waits for it.
    staging.sync_behind(&[FILE]);
    Ok(())
}

/// The page, to be rendered.
fn page<'a>(
    summary: &'a Summary,
    listed: &'a [ListedCase],
    trend: Option<&[TrendPoint]>,
) -> Page<'a> {
    let c = &summary.counts;
    let share = |n: u64| {
        if c.evaluated == 0 {
            String::new()
        } else {
            format!("{} %", decimal(n as f64 * 100.0 / c.evaluated as f64, 1))
        }
    };
    let count_row = |label, code, n: u64, css| CountRow {
        label,
        code,
        count: number(n),
        share: share(n),
        css,
    };
    let classes = vec![
        count_row("Skal genoptages", "REOPEN", c.reopen, "reopen"),
        count_row(
            "Skal vurderes af en sagsbehandler",
            "REVIEW",
            c.review,
            "review",
        ),
        count_row(
            "Ikke berørt af praksisændringen",
            "NOT_AFFECTED",
            c.not_affected,
            "not-affected",
        ),
        count_row(
            "Uden for området (ikke afslag efter IL § 22)",
            "OUT_OF_SCOPE",
            c.out_of_scope,
            "out-of-scope",
        ),
    ];
    let plain = |label, code, n: u64| CountRow {
        label,
        code,
        count: number(n),
        share: String::new(),
        css: "",
    };
    let totals = vec![
        plain("Rækker læst", "rows_read", c.rows_read),
        plain("Vurderet", "evaluated", c.evaluated),
        plain("Afvist (ikke læsbare)", "rejected", c.rejected),
        plain("Dubletter", "duplicates", c.duplicates),
    ];
    let mut incomplete = Vec::new();
    if c.rejected > 0 {
        incomplete.push(counted(c.rejected, "afvist række", "afviste rækker"));
    }
    if c.review > 0 {
        incomplete.push(format!(
            "{}, som en sagsbehandler skal vurdere",
            counted(c.review, "sag", "sager")
        ));
    }
    let years = counted_years(&summary.by_decision_year);
    Page {
        s: summary,
        started_local: local_minute(&summary.started_at),
        elapsed: format!("{} s", decimal(summary.elapsed_seconds, 1)),
        complete: summary.identification_complete,
        incomplete_reasons: incomplete.join(" og "),
        classes,
        totals,
        authorities: authorities(summary, listed),
        year_chart: chart::by_decision_year(&years),
        years: years
            .iter()
            .map(|(&year, y)| YearRow {
                year,
                reopen: number(y.reopen),
                review: number(y.review),
                not_affected: number(y.not_affected),
            })
            .collect(),
        rules: crate::rules::Rule::ALL
            .iter()
            .map(|r| RuleRow {
                code: r.code(),
                meaning: rule_meaning(r.code()),
                count: number(summary.rules.get(r.code()).copied().unwrap_or(0)),
            })
            .collect(),
        rejects: crate::input::record::RejectReason::ALL
            .iter()
            .map(|r| {
                plain(
                    reject_meaning(r.code()),
                    r.code(),
                    summary
                        .rejects_by_reason
                        .get(r.code())
                        .copied()
                        .unwrap_or(0),
                )
            })
            .collect(),
        inputs: summary
            .inputs
            .iter()
            .map(|i| InputRow {
                path: i.path.clone(),
                size: bytes(i.size),
                digest: match &i.digest {
                    Some(d) => format!("{} {d}", i.digest_algorithm),
                    None => "ingen (--digest none)".to_string(),
                },
                rows: number(i.rows),
                encoding: i.encoding,
                delimiter: i.delimiter.clone(),
            })
            .collect(),
        options: summary
            .options
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" · "),
        changes: summary.changes.as_ref().map(changes_view),
        trend_chart: trend.and_then(|t| {
            let shown = &t[t.len().saturating_sub(RUNS_IN_CHART)..];
            chart::over_runs(
                &shown
                    .iter()
                    .map(|p| chart::RunCounts {
                        run: p.run,
                        reopen: p.reopen,
                        review: p.review,
                    })
                    .collect::<Vec<_>>(),
            )
        }),
        trend: trend
            .unwrap_or_default()
            .iter()
            .rev()
            .take(RUNS_IN_TABLE)
            .map(|p| TrendRow {
                run: p.run,
                started_at: p.started_at.clone(),
                local: local_minute(&p.started_at),
                reopen: number(p.reopen),
                review: number(p.review),
                new: number(p.new),
                changed: number(p.changed),
                gone: number(p.gone),
            })
            .collect(),
        trend_omitted: trend.map_or(0, |t| t.len().saturating_sub(RUNS_IN_TABLE)),
    }
}

/// The decision years from the first to the last with a REOPEN, REVIEW or NOT_AFFECTED row
/// (rows out of scope, such as decisions before IL § 22, have a year but count for none).
fn counted_years(
    years: &BTreeMap<i32, ListCountsWithNotAffected>,
) -> BTreeMap<i32, ListCountsWithNotAffected> {
    let counted = |y: &ListCountsWithNotAffected| y.reopen + y.review + y.not_affected > 0;
    let first = years.iter().find(|(_, y)| counted(y)).map(|(&k, _)| k);
    let last = years
        .iter()
        .rev()
        .find(|(_, y)| counted(y))
        .map(|(&k, _)| k);
    match (first, last) {
        (Some(first), Some(last)) => years
            .range(first..=last)
            .map(|(&k, y)| (k, y.clone()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn changes_view(c: &ChangeCounts) -> ChangesView {
    let since = c.since.clone().unwrap_or_default();
    ChangesView {
        first_run: c.since_run.is_none(),
        since_local: local_minute(&since),
        since,
        since_run: c.since_run.unwrap_or(0),
        new: number(c.new),
        new_reopen: number(c.new_by_classification.reopen),
        new_review: number(c.new_by_classification.review),
        changed: number(c.changed),
        gone: number(c.gone),
    }
}
