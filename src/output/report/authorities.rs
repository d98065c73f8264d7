//! The page's section per authority: each authority's REOPEN and REVIEW counts and the first of
//! its cases, picked out of the run's listed cases (as the ledger keeps them: no CPR number).

use rustc_hash::FxHashMap;

use super::words::{authority_name, number};
use crate::output::summary::Summary;
use crate::pipeline::ListedCase;
use crate::rules::Classification;

/// Cases listed per authority in the page; the CSV lists hold them all.
const CASES_SHOWN: usize = 500;

pub(super) struct CaseRow<'a> {
    pub(super) case_id: &'a str,
    /// Codes: the page holds them as they are, not escaped (they are capitals, digits and `_`
    /// only; a test holds them to it).
    pub(super) classification: &'static str,
    pub(super) rule: &'static str,
    pub(super) outcome: &'static str,
}

pub(super) struct AuthorityRow<'a> {
    pub(super) code: String,
    pub(super) name: String,
    pub(super) reopen: String,
    pub(super) review: String,
    pub(super) cases: Vec<CaseRow<'a>>,
    pub(super) more: String,
}

pub(super) fn authorities<'a>(
    summary: &Summary,
    listed: &'a [ListedCase],
) -> Vec<AuthorityRow<'a>> {
    // Each authority's cases, in input order.
    let mut at: FxHashMap<&str, usize> = FxHashMap::default();
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
                        case_id: &c.case_id,
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
    let mut places: Vec<Place> = cases.into_iter().enumerate().map(Place::of).collect();
    if places.len() > CASES_SHOWN {
        places.select_nth_unstable_by(CASES_SHOWN - 1, Place::order);
        places.truncate(CASES_SHOWN);
    }
    places.sort_unstable_by(Place::order);
    places.into_iter().map(|p| p.case).collect()
}

/// A case where [`shown`] sorts it. The case id's first 16 bytes as a number (zeros after a
/// shorter id) order two ids as their bytes do wherever they differ, so the ids themselves are
/// compared only when those are alike: on the 10M-row file, comparing the ids (`memcmp`, most of
/// them alike in their first bytes) took most of the section's 18-21 ms.
struct Place<'a> {
    classification: Classification,
    head: u128,
    at: usize,
    case: &'a ListedCase,
}

impl<'a> Place<'a> {
    fn of((at, case): (usize, &'a ListedCase)) -> Place<'a> {
        let id = case.case_id.as_bytes();
        let mut head = [0u8; 16];
        let n = id.len().min(head.len());
        head[..n].copy_from_slice(&id[..n]);
        Place {
            classification: case.classification,
            head: u128::from_be_bytes(head),
            at,
            case,
        }
    }

    fn order(a: &Place, b: &Place) -> std::cmp::Ordering {
        (a.classification, a.head)
            .cmp(&(b.classification, b.head))
            .then_with(|| a.case.case_id.cmp(&b.case.case_id))
            .then(a.at.cmp(&b.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `i`th case of an authority's, with its id and classification.
    fn listed(i: usize, case_id: String, reopen: bool) -> ListedCase {
        use crate::rules::Rule;
        ListedCase {
            case_id,
            decided_by: "kommune:461".into(),
            classification: if reopen {
                Classification::Reopen
            } else {
                Classification::Review
            },
            rule: Rule::ALL[i % Rule::ALL.len()],
            expected_outcome: None,
        }
    }

    /// The cases [`shown`] should show: a stable sort by classification and case id, cut.
    fn shown_plainly(cases: &[ListedCase]) -> Vec<&ListedCase> {
        let mut expected: Vec<&ListedCase> = cases.iter().collect();
        expected
            .sort_by(|a, b| (a.classification, &a.case_id).cmp(&(b.classification, &b.case_id)));
        expected.truncate(CASES_SHOWN);
        expected
    }

    #[test]
    fn an_authoritys_first_cases_are_shown_in_order_and_alike_ones_in_input_order() {
        // More cases than are shown, in a scrambled order, many alike in class and case id.
        let cases: Vec<ListedCase> = (0..CASES_SHOWN * 3)
            .map(|i| {
                listed(
                    i,
                    format!("SAG-{:04}", (i * 7919) % (CASES_SHOWN * 2)),
                    i % 3 != 0,
                )
            })
            .collect();
        assert_eq!(shown(cases.iter().collect()), shown_plainly(&cases));
    }

    #[test]
    fn the_codes_a_case_row_shows_need_no_escaping() {
        use crate::rules::{Outcome, Rule};
        let outcomes = [Outcome::Grant, Outcome::Assess, Outcome::Refuse];
        let codes = (Classification::ALL.iter().map(|c| c.code()))
            .chain(Rule::ALL.iter().map(|r| r.code()))
            .chain(outcomes.iter().map(|o| o.code()));
        for code in codes {
            let plain = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_';
            assert!(code.bytes().all(plain), "{code}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// The ids sort as their bytes do whatever their first 16 bytes: ids that share them,
        /// are shorter, or end in zero bytes.
        #[test]
        fn the_shown_cases_are_those_a_plain_sort_shows(
            cases in proptest::collection::vec(
                (
                    proptest::bool::ANY,
                    proptest::collection::vec(
                        proptest::sample::select(vec!['\0', 'A', 'B', '-', '0', '9']),
                        0..20,
                    ),
                ),
                0..CASES_SHOWN * 2,
            ),
            prefix in proptest::sample::select(vec!["", "SAG-0000000", "SAG-000000000000"]),
        ) {
            let cases: Vec<ListedCase> = (cases.into_iter().enumerate())
                .map(|(i, (reopen, id))| {
                    listed(i, format!("{prefix}{}", id.into_iter().collect::<String>()), reopen)
                })
                .collect();
            let expected = shown_plainly(&cases);
            proptest::prop_assert_eq!(shown(cases.iter().collect()), expected);
        }
    }
}
