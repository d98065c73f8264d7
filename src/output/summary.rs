//! `summary.json`, the run's manifest (SPEC §5), and the short table printed on stderr at the end.
//! It holds no CPR number.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use crate::error::Error;
use crate::input::columns::ColumnMap;
use crate::input::source::DigestKind;
use crate::output::dir::Staging;

#[derive(Debug, Clone, Serialize)]
pub struct ColumnFound {
    pub header: String,
    pub found: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    pub path: String,
    pub size: u64,
    pub digest_algorithm: &'static str,
    pub digest: Option<String>,
    pub rows: u64,
    pub encoding: &'static str,
    pub delimiter: String,
    pub columns: BTreeMap<&'static str, ColumnFound>,
    pub extra_columns: Vec<String>,
}

/// How one input was read, before its rows and digest are known.
pub struct InputRead<'a> {
    pub path: &'a str,
    pub encoding: &'static str,
    pub delimiter: u8,
    pub map: &'a ColumnMap,
}

impl InputSummary {
    /// The manifest entry of an input read to its end.
    pub fn new(
        read: InputRead<'_>,
        size: u64,
        rows: u64,
        digest_kind: DigestKind,
        digest: Option<String>,
    ) -> InputSummary {
        InputSummary {
            path: read.path.to_string(),
            size,
            digest_algorithm: digest_kind.name(),
            digest,
            rows,
            encoding: read.encoding,
            delimiter: match read.delimiter {
                b'\t' => "\\t".to_string(),
                d => (d as char).to_string(),
            },
            columns: read
                .map
                .found
                .iter()
                .map(|(col, header, how)| {
                    (
                        col.name(),
                        ColumnFound {
                            header: header.clone(),
                            found: how.code(),
                        },
                    )
                })
                .collect(),
            extra_columns: read.map.extra.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub rows_read: u64,
    pub evaluated: u64,
    pub rejected: u64,
    pub duplicates: u64,
    #[serde(rename = "REOPEN")]
    pub reopen: u64,
    #[serde(rename = "REVIEW")]
    pub review: u64,
    #[serde(rename = "NOT_AFFECTED")]
    pub not_affected: u64,
    #[serde(rename = "OUT_OF_SCOPE")]
    pub out_of_scope: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ListCounts {
    #[serde(rename = "REOPEN")]
    pub reopen: u64,
    #[serde(rename = "REVIEW")]
    pub review: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub tool: &'static str,
    pub tool_version: &'static str,
    pub rules_version: &'static str,
    pub started_at: String,
    pub finished_at: String,
    pub elapsed_seconds: f64,
    pub threads: usize,
    pub inputs: Vec<InputSummary>,
    pub counts: Counts,
    /// Rows per rule that classified them (every evaluated row).
    pub rules: BTreeMap<&'static str, u64>,
    pub rejects_by_reason: BTreeMap<&'static str, u64>,
    /// REOPEN and REVIEW list rows per `decided_by`.
    pub by_authority: BTreeMap<String, ListCounts>,
    /// Benefit words read as OTHER only through the catch-all, with their row counts.
    pub benefit_words_caught: BTreeMap<String, u64>,
    /// REOPEN, REVIEW and NOT_AFFECTED rows per decision year, for the report.
    pub by_decision_year: BTreeMap<i32, ListCountsWithNotAffected>,
    /// False when any row was rejected or any case is REVIEW: the authority must then also inform
    /// the public that citizens can ask for reopening.
    pub identification_complete: bool,
    pub options: BTreeMap<&'static str, serde_json::Value>,
    /// With `--ledger`: the cases new, changed and gone since the ledger's last run (SPEC §5.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<ChangeCounts>,
}

/// What `changes.csv` holds, counted, and which run it compares with.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChangeCounts {
    /// The ledger as given on the command line.
    pub ledger: String,
    /// This run's number in the ledger.
    pub run: i64,
    /// The ledger's last run before this one (none on a new ledger: every case is then NEW).
    pub since_run: Option<i64>,
    /// When that run started (RFC 3339, UTC).
    pub since: Option<String>,
    #[serde(rename = "NEW")]
    pub new: u64,
    #[serde(rename = "CHANGED")]
    pub changed: u64,
    #[serde(rename = "GONE")]
    pub gone: u64,
    /// The NEW cases by their classification.
    pub new_by_classification: ListCounts,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ListCountsWithNotAffected {
    #[serde(rename = "REOPEN")]
    pub reopen: u64,
    #[serde(rename = "REVIEW")]
    pub review: u64,
    #[serde(rename = "NOT_AFFECTED")]
    pub not_affected: u64,
}

/// The sentence the stderr summary gives when identification is incomplete.
pub const INCOMPLETE_NOTICE: &str = "Identification is incomplete (rejected rows or REVIEW cases): as Ankestyrelsen requires, the authority must also inform the public (website, press) that citizens can ask to have their danskbonus case reopened.";

impl Summary {
    pub fn write(&self, staging: &mut Staging) -> Result<(), Error> {
        let mut file = staging.create_file("summary.json")?;
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::output("summary.json", std::io::Error::other(e)))?;
        file.write_all(text.as_bytes())
            .and_then(|_| file.write_all(b"\n"))
            .map_err(|e| Error::output("summary.json", e))?;
        // It goes to disk while the run ends; the commit waits for it.
        staging.sync_behind(&["summary.json"]);
        Ok(())
    }

    /// The short table on stderr at the end of a run.
    pub fn stderr_table(&self, out: &str) -> String {
        let c = &self.counts;
        let mut s = String::new();
        s.push_str(&format!(
            "genoptag {} (rules {}): {} rows read in {:.1} s, {} threads\n",
            self.tool_version, self.rules_version, c.rows_read, self.elapsed_seconds, self.threads
        ));
        s.push_str(&format!("  {:<14}{:>10}\n", "REOPEN", c.reopen));
        s.push_str(&format!("  {:<14}{:>10}\n", "REVIEW", c.review));
        s.push_str(&format!("  {:<14}{:>10}\n", "NOT_AFFECTED", c.not_affected));
        s.push_str(&format!("  {:<14}{:>10}\n", "OUT_OF_SCOPE", c.out_of_scope));
        s.push_str(&format!("  {:<14}{:>10}\n", "rejected", c.rejected));
        s.push_str(&format!("  {:<14}{:>10}\n", "duplicates", c.duplicates));
        for (authority, n) in &self.by_authority {
            s.push_str(&format!(
                "  {authority}: {} to reopen, {} to review\n",
                n.reopen, n.review
            ));
        }
        s.push_str(&format!("Output in {out}\n"));
        if !self.identification_complete {
            s.push_str(INCOMPLETE_NOTICE);
            s.push('\n');
        }
        s
    }
}

/// An RFC 3339 time as the operator's clock shows it, to the minute ("2026-11-21 02:00"); the
/// text itself if it cannot be read.
pub fn local_minute(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| rfc3339.to_string(),
        |t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        },
    )
}
