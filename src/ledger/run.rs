//! Finishing a scan with a ledger (SPEC §5.1), in the order that keeps the ledger whole: take the
//! write lock, compare this run's lists with the last run's, write `changes.csv`, the report and
//! `summary.json` into the staging directory, record the run in the open transaction (its inputs'
//! SHA-256 last, once taken), put the outputs in place, then commit. Whatever fails or kills the
//! run before the commit leaves the ledger as it was; a failure before the outputs are in place
//! leaves the last output too.
//!
//! Test-only: the environment variable `GENOPTAG_TEST_FAIL_AT` aborts the process (as a kill
//! would: no clean-up runs) at a named point — `classified` (after classification, before the
//! ledger is touched) or `ledger-commit` (the run recorded in the open transaction, outputs in
//! place, just before the commit). It exists for the crash-safety tests and is not for operators.
//! One more point does not abort: `input-cut` cuts a mapped input to half its length once its
//! pieces are planned, as another program writing the file would (`pipeline::mapped::guard`);
//! nor does `piece-panic`, which makes the reading of one piece of a mapped input panic, as a
//! bug there would (`crate::panics`).

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;
use crate::ledger::changes;
use crate::ledger::{Ledger, PastRun};
use crate::output::report::{self, TrendPoint};
use crate::output::summary::{ChangeCounts, ListCounts, Summary, local_minute};
use crate::pipeline::{InputSha256, Scanned};

/// The environment variable of the test-only failure points.
pub const FAIL_AT: &str = "GENOPTAG_TEST_FAIL_AT";

/// Aborts the process if the test-only failure point `point` is set (see the module's doc).
pub fn failpoint(point: &str) {
    if failpoint_set(point) {
        eprintln!("genoptag: test-only failure injected at `{point}` ({FAIL_AT})");
        std::process::abort();
    }
}

/// Whether the test-only failure point `point` is set (see the module's doc).
pub fn failpoint_set(point: &str) -> bool {
    std::env::var(FAIL_AT).is_ok_and(|v| v == point)
}

/// A finished run: where its outputs are, its summary, and the sentence about its changes.
pub struct Finished {
    pub out: PathBuf,
    pub summary: Summary,
    pub changes_sentence: Option<String>,
}

/// How the finishing step is asked to behave.
pub struct Options<'a> {
    /// The ledger as given on the command line, for summary.json.
    pub ledger_name: &'a str,
    pub wait: Duration,
    pub excel: bool,
    pub quiet: bool,
}

/// Writes the ledger's outputs and the report, commits the outputs, then records the run.
pub fn finish(ledger: Ledger, scanned: Scanned, opts: &Options) -> Result<Finished, Error> {
    let Scanned {
        mut staging,
        mut summary,
        listed,
        input_sha256,
    } = scanned;
    let path = ledger.path().to_path_buf();
    let quiet = opts.quiet;
    let locked = ledger.lock(opts.wait, || {
        if !quiet {
            eprintln!(
                "genoptag: {}: another run is recording in this ledger; waiting up to {} s",
                path.display(),
                opts.wait.as_secs_f64()
            );
        }
    })?;
    crate::timings::mark("ledger locked");
    let past = locked.runs()?;
    let last = past.last();
    let previous = match last {
        Some(run) => locked.lists_of(run.id)?,
        None => Default::default(),
    };
    let lists = changes::current(&listed);
    let changes = changes::diff(&previous, &lists);
    changes::write_csv(&staging, &changes, opts.excel)?;
    crate::timings::mark("changes");

    let run_id = last.map_or(1, |r| r.id + 1);
    let counts = counts(opts.ledger_name, run_id, last, &changes);
    let sentence = sentence(&counts, last);
    summary.changes = Some(counts);
    let mut trend: Vec<TrendPoint> = past.iter().map(trend_point).collect();
    trend.push(this_run(run_id, &summary));
    report::write(&mut staging, &summary, &listed, Some(&trend))?;
    summary.write(&mut staging)?;
    crate::timings::mark("report");
    // The run goes into the open transaction while its inputs' SHA-256 may still be taken
    // behind it (`pipeline::InputSha256`); nothing of it is visible before the commit below.
    locked.record(run_id, last.map(|r| r.id), &summary, &changes)?;
    crate::timings::mark("ledger written");
    // Before the outputs go in place: an input that changed while it was scanned leaves the
    // last output, and the ledger, as they were.
    let input_sha256 = input_sha256
        .into_iter()
        .map(InputSha256::get)
        .collect::<Result<Vec<_>, Error>>()?;
    locked.record_inputs(run_id, &summary, &input_sha256)?;
    crate::timings::mark("inputs' SHA-256");
    let out = staging.commit()?;

    let unrecorded = |e: Error| Error::Ledger {
        path: path.clone(),
        message: format!(
            "the outputs are in {}, but the ledger could not record this run ({e}); the next run compares with the ledger's last run again",
            out.display()
        ),
    };
    failpoint("ledger-commit");
    locked.commit().map_err(unrecorded)?;
    crate::timings::mark("ledger recorded");
    Ok(Finished {
        out,
        summary,
        changes_sentence: Some(sentence),
    })
}

fn counts(
    ledger: &str,
    run: i64,
    last: Option<&PastRun>,
    changes: &[changes::Change],
) -> ChangeCounts {
    let mut counts = ChangeCounts {
        ledger: ledger.to_string(),
        run,
        since_run: last.map(|r| r.id),
        since: last.map(|r| r.started_at.clone()),
        new_by_classification: ListCounts::default(),
        ..ChangeCounts::default()
    };
    for change in changes {
        match change.kind {
            changes::Kind::New => {
                counts.new += 1;
                match change.new.as_ref().map(|l| &*l.classification) {
                    Some("REOPEN") => counts.new_by_classification.reopen += 1,
                    _ => counts.new_by_classification.review += 1,
                }
            }
            changes::Kind::Changed => counts.changed += 1,
            changes::Kind::Gone => counts.gone += 1,
        }
    }
    counts
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The stderr sentence: "2 new cases to reopen, 1 changed and 1 gone since the run of …".
pub fn sentence(c: &ChangeCounts, last: Option<&PastRun>) -> String {
    let Some(last) = last else {
        return format!(
            "First run recorded in the ledger {}: its {} and {} are all NEW in changes.csv.",
            c.ledger,
            plural(
                c.new_by_classification.reopen,
                "case to reopen",
                "cases to reopen"
            ),
            plural(
                c.new_by_classification.review,
                "case to review",
                "cases to review"
            ),
        );
    };
    let since = format!("since the run of {}", local_minute(&last.started_at));
    let mut parts = Vec::new();
    let new = &c.new_by_classification;
    if new.reopen > 0 {
        parts.push(plural(
            new.reopen,
            "new case to reopen",
            "new cases to reopen",
        ));
    }
    if new.review > 0 {
        parts.push(if new.reopen > 0 {
            format!("{} new to review", new.review)
        } else {
            plural(new.review, "new case to review", "new cases to review")
        });
    }
    if c.changed > 0 {
        parts.push(format!("{} changed", c.changed));
    }
    if c.gone > 0 {
        parts.push(format!("{} no longer on the lists", c.gone));
    }
    match parts.len() {
        0 => format!("No changes to the lists {since}."),
        _ => {
            let last_part = parts.pop().unwrap_or_default();
            let list = if parts.is_empty() {
                last_part
            } else {
                format!("{} and {last_part}", parts.join(", "))
            };
            format!("{list} {since} (see changes.csv).")
        }
    }
}

fn trend_point(run: &PastRun) -> TrendPoint {
    TrendPoint {
        run: run.id,
        started_at: run.started_at.clone(),
        reopen: run.reopen,
        review: run.review,
        new: run.new,
        changed: run.changed,
        gone: run.gone,
    }
}

fn this_run(id: i64, summary: &Summary) -> TrendPoint {
    let changes = summary.changes.as_ref();
    TrendPoint {
        run: id,
        started_at: summary.started_at.clone(),
        reopen: summary.counts.reopen,
        review: summary.counts.review,
        new: changes.map_or(0, |c| c.new),
        changed: changes.map_or(0, |c| c.changed),
        gone: changes.map_or(0, |c| c.gone),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last() -> PastRun {
        PastRun {
            id: 4,
            started_at: "2026-11-21T01:00:00Z".to_string(),
            rules_version: "2021.1".to_string(),
            inputs: Vec::new(),
            reopen: 0,
            review: 0,
            new: 0,
            changed: 0,
            gone: 0,
        }
    }

    #[test]
    fn the_sentence_counts_new_cases_to_reopen_first() {
        let c = ChangeCounts {
            new: 13,
            changed: 2,
            gone: 1,
            new_by_classification: ListCounts {
                reopen: 12,
                review: 1,
            },
            ..ChangeCounts::default()
        };
        let s = sentence(&c, Some(&last()));
        assert!(
            s.starts_with(
                "12 new cases to reopen, 1 new to review, 2 changed and 1 no longer on the lists since the run of 2026-11-21 "
            ),
            "{s}"
        );
    }

    #[test]
    fn no_change_says_so() {
        let s = sentence(&ChangeCounts::default(), Some(&last()));
        assert!(
            s.starts_with("No changes to the lists since the run of"),
            "{s}"
        );
    }
}
