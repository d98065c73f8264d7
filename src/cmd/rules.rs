//! `genoptag rules`: the rule set as text — the dated parameters with their sources, the ground
//! patterns and the decision table — for a jurist to check against the law.

use crate::rules::ground::Patterns;
use crate::rules::params;
use crate::rules::table::{E, P, TABLE};

pub fn text() -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "genoptag {} — rules {}\n\n",
        env!("CARGO_PKG_VERSION"),
        params::RULES_VERSION
    ));
    s.push_str("Dated parameters (SPEC §2)\n");
    for p in params::ALL {
        s.push_str(&format!(
            "  {:<14} {}  {}\n  {:<14} source: {}\n",
            p.name, p.date, p.meaning, "", p.source
        ));
    }
    s.push_str(&format!(
        "  practice change: {}\n\n",
        params::PRACTICE_SOURCE
    ));
    s.push_str("Conditions of the former § 22 (new practice): C1 person (§ 2, stk. 2-4), C2 self-supporting (no help under aktivloven §§ 22-25), C3 Danish test passed on or after EXAM_FROM and no later than the decision, C4 first time (§ 22, stk. 2).\n\n");
    s.push_str("Steps (SPEC §4): 1 scope · 2 appeal · 3 regime (application date vs AMENDED_FROM) · 4 conditions · 5 ground · 6 table · 7 across the person's rows\n\n");
    s.push_str("Decision table (step 6)\n");
    s.push_str(&format!(
        "  {:<5}{:<11}{:<15}{:<25}{:<15}{}\n",
        "rule", "G", "P", "E", "class", "expected_outcome"
    ));
    for row in &TABLE {
        let p = match row.program {
            P::Any => "any",
            P::Yes => "YES",
            P::NoOrUnknown => "NO or UNKNOWN",
        };
        let e = match row.eligibility {
            E::Met => "MET",
            E::Undetermined => "UNDETERMINED",
            E::Failed => "FAILED",
            E::FailedOrUndetermined => "FAILED or UNDETERMINED",
        };
        s.push_str(&format!(
            "  {:<5}{:<11}{:<15}{:<25}{:<15}{}\n",
            row.rule.code(),
            row.ground.code(),
            p,
            e,
            row.classification.code(),
            row.outcome.map_or("", |o| o.code())
        ));
    }
    s.push_str("\nRefusal-text patterns (step 5, folded Danish)\n");
    for (ground, pattern) in Patterns::default().entries() {
        s.push_str(&format!("  {:<20} {}\n", ground.code(), pattern));
    }
    s
}
