//! The page's section per authority: each authority's REOPEN and REVIEW counts and the first of
//! its cases, picked out of the run's listed cases (as the ledger keeps them: no CPR number).

use std::collections::HashMap;

use super::words::{authority_name, number};
use crate::output::summary::Summary;
use crate::pipeline::ListedCase;

/// Cases listed per authority in the page; the CSV lists hold them all.
const CASES_SHOWN: usize = 500;

pub(super) struct CaseRow {
    pub(super) case_id: String,
    pub(super) classification: &'static str,
    pub(super) rule: &'static str,
    pub(super) outcome: &'static str,
}

pub(super) struct AuthorityRow {
    pub(super) code: String,
    pub(super) name: String,
    pub(super) reopen: String,
    pub(super) review: String,
    pub(super) cases: Vec<CaseRow>,
    pub(super) more: String,
}

pub(super) fn authorities(summary: &Summary, listed: &[ListedCase]) -> Vec<AuthorityRow> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
