//! `genoptag history --ledger FILE [--case CASE_ID]` (SPEC §6.2): the runs a ledger recorded, one
//! line each, or one case's history — what IT looks up when a caseworker asks "since when is this
//! case on the list?". It only reads the ledger.

use std::fmt::Write as _;

use crate::cli::HistoryArgs;
use crate::error::Error;
use crate::ledger::{self, CaseHistory, Ledger, PastRun};
use crate::output::report::authority_name;
use crate::output::summary::local_minute;

pub fn run(args: &HistoryArgs) -> Result<i32, Error> {
    let ledger = Ledger::open_existing(&args.ledger)?;
    let text = match &args.case {
        None => runs_text(&ledger.runs()?),
        Some(case_id) => {
            let case_id = case_id.trim();
            let histories = ledger.case_history(case_id)?;
            if histories.is_empty() {
                return Err(Error::Ledger {
                    path: args.ledger.clone(),
                    message: format!(
                        "case `{case_id}` has never been on the REOPEN or REVIEW list of a run recorded in this ledger"
                    ),
                });
            }
            histories
                .iter()
                .map(case_text)
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    print!("{text}");
    Ok(0)
}

/// The runs, one line each, oldest first.
pub fn runs_text(runs: &[PastRun]) -> String {
    if runs.is_empty() {
        return "No runs recorded in this ledger yet.\n".to_string();
    }
    let mut s = format!(
        "{:>4}  {:<16}  {:>7}  {:>7}  {:>5}  {:>7}  {:>5}  {:<6}  {}\n",
        "run", "started", "REOPEN", "REVIEW", "NEW", "CHANGED", "GONE", "rules", "inputs"
    );
    for r in runs {
        let _ = writeln!(
            s,
            "{:>4}  {:<16}  {:>7}  {:>7}  {:>5}  {:>7}  {:>5}  {:<6}  {}",
            r.id,
            local_minute(&r.started_at),
            r.reopen,
            r.review,
            r.new,
            r.changed,
            r.gone,
            r.rules_version,
            r.inputs.join(", ")
        );
    }
    s
}

fn run_at((run, at): &(i64, String)) -> String {
    format!("run {run} ({})", local_minute(at))
}

/// One case's history for one authority.
pub fn case_text(h: &CaseHistory) -> String {
    let mut s = format!(
        "case {}, decided by {} ({})\n",
        h.case_id,
        h.decided_by,
        authority_name(&h.decided_by)
    );
    let _ = writeln!(s, "  first seen  {}", run_at(&h.first_seen));
    let now = if ledger::on_latest_lists(h) {
        "on the lists of the latest run".to_string()
    } else {
        let gone = h
            .events
            .iter()
            .rev()
            .find(|e| e.change == "GONE")
            .map_or(String::new(), |e| {
                format!(
                    ": not on the lists since run {} ({})",
                    e.run,
                    local_minute(&e.started_at)
                )
            });
        format!("no longer listed{gone}")
    };
    let _ = writeln!(s, "  last seen   {}, {now}", run_at(&h.last_seen));
    for e in &h.events {
        let listing = e.listing.as_ref().map_or(String::new(), |l| {
            format!(
                "  {:<7} {:<4} {}",
                l.classification, l.rule, l.expected_outcome
            )
        });
        let line = format!(
            "  run {:>3}  {:<16}  {:<7}{}",
            e.run,
            local_minute(&e.started_at),
            e.change,
            listing
        );
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}
