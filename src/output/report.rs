//! `report.html` (SPEC §5.2): one self-contained page for the auditor and the head of department,
//! rendered with askama from `templates/report.html`, its charts inlined as SVG. Headings are
//! Danish with the canonical codes beside them. It holds no CPR number: it is built from the
//! summary and the case list of the ledger (case id, authority, classification, rule, outcome).
//! Every value that changes from one run of the same input to the next is inside a `<time>`.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use askama::Template;

use crate::error::Error;
use crate::input::kommuner;
use crate::output::chart;
use crate::output::dir::Staging;
use crate::output::lists::WRITE_BUFFER;
use crate::output::summary::{ChangeCounts, ListCountsWithNotAffected, Summary, local_minute};
use crate::pipeline::ListedCase;

pub const FILE: &str = "report.html";

/// Cases listed per authority in the page; the CSV lists hold them all.
const CASES_SHOWN: usize = 500;
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

struct CaseRow {
    case_id: String,
    classification: &'static str,
    rule: &'static str,
    outcome: &'static str,
}

struct AuthorityRow {
    code: String,
    name: String,
    reopen: String,
    review: String,
    cases: Vec<CaseRow>,
    more: String,
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

fn authorities(summary: &Summary, listed: &[ListedCase]) -> Vec<AuthorityRow> {
    // Each authority's cases, in input order.
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut cases: Vec<Vec<&ListedCase>> = Vec::new();
    for case in listed {
        let k = *at.entry(&*case.decided_by).or_insert_with(|| {
            cases.push(Vec::new());
            cases.len() - 1
        });
        cases[k].push(case);
    }
    summary
        .by_authority
        .iter()
        .map(|(code, n)| {
            let all = at
                .get(code.as_str())
                .map(|&k| std::mem::take(&mut cases[k]))
                .unwrap_or_default();
            let more = all.len().saturating_sub(CASES_SHOWN);
            AuthorityRow {
                code: code.clone(),
                name: authority_name(code),
                reopen: number(n.reopen),
                review: number(n.review),
                cases: shown(all)
                    .into_iter()
                    .map(|c| CaseRow {
                        case_id: c.case_id.clone(),
                        classification: c.classification.code(),
                        rule: c.rule.code(),
                        outcome: c.expected_outcome.map_or("", |o| o.code()),
                    })
                    .collect(),
                more: if more > 0 {
                    number(more as u64)
                } else {
                    String::new()
                },
            }
        })
        .collect()
}

/// The first [`CASES_SHOWN`] of an authority's cases (given in input order) by classification
/// and case id, in that order; cases alike in both stay in input order. An authority may have
/// tens of thousands: the shown are picked out before they are sorted.
fn shown(cases: Vec<&ListedCase>) -> Vec<&ListedCase> {
    let mut cases: Vec<(usize, &ListedCase)> = cases.into_iter().enumerate().collect();
    let order = |a: &(usize, &ListedCase), b: &(usize, &ListedCase)| {
        (a.1.classification, &a.1.case_id, a.0).cmp(&(b.1.classification, &b.1.case_id, b.0))
    };
    if cases.len() > CASES_SHOWN {
        cases.select_nth_unstable_by(CASES_SHOWN - 1, order);
        cases.truncate(CASES_SHOWN);
    }
    cases.sort_unstable_by(order);
    cases.into_iter().map(|(_, case)| case).collect()
}

/// The authority as a reader knows it: "Odense Kommune", "Ankestyrelsen".
pub fn authority_name(decided_by: &str) -> String {
    match decided_by.strip_prefix("kommune:") {
        Some("ukendt") => "Ukendt kommune (kommunekoden er ikke tre cifre)".to_string(),
        Some("101") => "Københavns Kommune".to_string(),
        Some(code) => match kommuner::name(code) {
            Some(name) => format!("{name} Kommune"),
            None => format!("Kommune {code} (ukendt kode)"),
        },
        None if decided_by == "ankestyrelsen" => "Ankestyrelsen".to_string(),
        None => decided_by.to_string(),
    }
}

/// What each rule or step means, in a line (SPEC §4).
fn rule_meaning(code: &str) -> &'static str {
    match code {
        "SCOPE" => {
            "Ikke et afslag på danskbonus efter integrationslovens § 22 (eller afgjort før 1. juli 2018)"
        }
        "APPEAL" => "Afslaget er ændret eller hjemvist i klagesagen",
        "REGIME" => {
            "Ansøgningsdatoen afgør reglerne: den ændrede § 22 fra 9. juni 2021, eller ukendt"
        }
        "R1" => {
            "Afslaget nævner programmet; alle fire betingelser er opfyldt → genoptag, forventet bevilling"
        }
        "R2" => "Afslaget nævner programmet; en betingelse er uafklaret → genoptag og vurdér",
        "R3" => {
            "Afslaget nævner programmet; en betingelse er ikke opfyldt → genoptag, forventet afslag"
        }
        "R4" => "Afslaget nævner en anden grund, men alle fire betingelser er opfyldt → vurdér",
        "R5" => "Afslaget nævner en anden grund, og en betingelse er ikke opfyldt eller uafklaret",
        "R6" => "Grunden er uklar; omfattet af programmet; alle betingelser opfyldt → vurdér",
        "R7" => {
            "Grunden er uklar; omfattet af programmet; en betingelse ikke opfyldt eller uafklaret"
        }
        "R8" => {
            "Grunden er uklar; ikke (kendt) omfattet af programmet; alle betingelser opfyldt → genoptag"
        }
        "R9" => {
            "Grunden er uklar; ikke (kendt) omfattet af programmet; en betingelse uafklaret → vurdér"
        }
        "R10" => "Grunden er uklar; en betingelse er ikke opfyldt, så afslaget står",
        _ => "",
    }
}

fn reject_meaning(code: &str) -> &'static str {
    match code {
        "FIELD_COUNT" => "Forkert antal felter i rækken",
        "UNKNOWN_VALUE" => "Ukendt ydelse eller afgørelse",
        "EMPTY_REQUIRED" => "Sagsnummer mangler",
        "UNREADABLE_DATE" => "Afgørelsesdatoen kan ikke læses",
        _ => "",
    }
}

/// A count the Danish way: 12.345.
fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(d);
    }
    out
}

/// A count with its noun: "1 sag", "12 sager".
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", number(n), if n == 1 { one } else { many })
}

/// A decimal number the Danish way: 12,5.
fn decimal(x: f64, places: usize) -> String {
    format!("{x:.places$}").replace('.', ",")
}

/// A file size: 1,2 MB.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    format!("{} {unit}", decimal(value, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_the_danish_way() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1.000");
        assert_eq!(number(1234567), "1.234.567");
        assert_eq!(decimal(12.345, 1), "12,3");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_234_567), "1,2 MB");
    }

    #[test]
    fn an_authoritys_first_cases_are_shown_in_order_and_alike_ones_in_input_order() {
        use crate::rules::{Classification, Rule};
        // More cases than are shown, in a scrambled order, many alike in class and case id.
        let cases: Vec<ListedCase> = (0..CASES_SHOWN * 3)
            .map(|i| ListedCase {
                case_id: format!("SAG-{:04}", (i * 7919) % (CASES_SHOWN * 2)),
                decided_by: "kommune:461".into(),
                classification: if i % 3 == 0 {
                    Classification::Review
                } else {
                    Classification::Reopen
                },
                rule: Rule::ALL[i % Rule::ALL.len()],
                expected_outcome: None,
            })
            .collect();
        let mut expected: Vec<&ListedCase> = cases.iter().collect();
        expected
            .sort_by(|a, b| (a.classification, &a.case_id).cmp(&(b.classification, &b.case_id)));
        expected.truncate(CASES_SHOWN);
        assert_eq!(shown(cases.iter().collect()), expected);
    }

    #[test]
    fn authorities_are_named() {
        assert_eq!(authority_name("kommune:461"), "Odense Kommune");
        assert_eq!(authority_name("ankestyrelsen"), "Ankestyrelsen");
        assert!(authority_name("kommune:ukendt").starts_with("Ukendt kommune"));
    }
}
