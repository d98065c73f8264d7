//! The page's section per authority: each authority's REOPEN and REVIEW counts and the first of
//! its cases, picked out of the run's listed cases (as the ledger keeps them: no CPR number).

use rustc_hash::FxHashMap;

use super::words::{authority_name, number};
use std::fmt::Write as _;

use crate::output::summary::{ListCounts, Summary};
use crate::pipeline::ListedCase;
use crate::rules::Classification;

/// Cases listed per authority in the page; the CSV lists hold them all.
const CASES_SHOWN: usize = 500;

pub(super) struct AuthorityRow {
    pub(super) code: String,
    pub(super) name: String,
    pub(super) reopen: String,
    pub(super) review: String,
    /// Its first cases, as the rows of its table in the page ([`case_rows`]).
    pub(super) rows: String,
    pub(super) more: String,
}

pub(super) fn authorities(summary: &Summary, listed: &[ListedCase]) -> Vec<AuthorityRow> {
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
    let work: Vec<(&String, &ListCounts, Vec<&ListedCase>)> = (summary.by_authority.iter())
        .map(|(code, n)| {
            let all = (at.get(code.as_str()))
                .map(|&k| std::mem::take(&mut cases[k]))
                .unwrap_or_default();
            (code, n, all)
        })
        .collect();
    // The authorities' cases are picked out and written on two threads, half of the cases each
    // (on the 10M-row file they took 9 ms of the report's 13 on one).
    let total: usize = work.iter().map(|w| w.2.len()).sum();
    let mut seen = 0;
    let half = work
        .iter()
        .position(|w| {
            seen += w.2.len();
            seen * 2 >= total
        })
        .map_or(work.len(), |i| i + 1);
    let mut front = work;
    let back = front.split_off(half);
    let row = |(code, n, all): (&String, &ListCounts, Vec<&ListedCase>)| {
        let more = all.len().saturating_sub(CASES_SHOWN);
        AuthorityRow {
            code: code.clone(),
            name: authority_name(code),
            reopen: number(n.reopen),
            review: number(n.review),
            rows: case_rows(&shown(all)),
            more: if more > 0 {
                number(more as u64)
            } else {
                String::new()
            },
        }
    };
    let row = &row;
    std::thread::scope(|scope| {
        let behind = crate::threads::spawn_scoped_or_keep(scope, back, move |back| {
            back.into_iter().map(row).collect::<Vec<_>>()
        });
        let mut rows: Vec<AuthorityRow> = front.into_iter().map(row).collect();
        rows.extend(match behind {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread could be started: the second half is written here.
            Err(back) => back.into_iter().map(row).collect(),
        });
        rows
    })
}

/// The rows of an authority's table of cases (case id, classification, rule, expected outcome),
/// as the template wrote them: only the case id is escaped, the codes need not be (a test holds
/// them to capitals, digits and `_`).
fn case_rows(cases: &[&ListedCase]) -> String {
    let mut out = String::with_capacity(cases.len() * 80);
    for case in cases {
        out.push_str("<tr><td>");
        let id = case.case_id.as_str();
        if id
            .bytes()
            .any(|b| matches!(b, b'<' | b'>' | b'&' | b'"' | b'\''))
        {
            let escaped = askama::filters::escape(id, askama::filters::Html);
            let _ = write!(out, "{}", escaped.unwrap_or_else(|never| match never {}));
        } else {
            out.push_str(id);
        }
        out.push_str("</td><td>");
        out.push_str(case.classification.code());
        out.push_str("</td><td>");
        out.push_str(case.rule.code());
        out.push_str("</td><td>");
        out.push_str(case.expected_outcome.map_or("", |o| o.code()));
        out.push_str("</td></tr>\n");
    }
    out
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

    /// A case table's rows as the template wrote them before they were written by hand.
    #[derive(askama::Template)]
    #[template(
        source = "{% for (id, class, rule, outcome) in rows %}<tr><td>{{ id }}</td><td>{{ class|safe }}</td><td>{{ rule|safe }}</td><td>{{ outcome|safe }}</td></tr>\n{% endfor %}",
        ext = "html"
    )]
    struct TemplateRows<'a> {
        rows: Vec<(&'a str, &'static str, &'static str, &'static str)>,
    }

    #[test]
    fn case_rows_are_written_as_the_template_wrote_them() {
        use askama::Template as _;
        let ids = ["SAG-1", "<b>&'x\"", "æøå Å", "", "a&b", "K<1>"];
        let mut cases: Vec<ListedCase> = (ids.iter().enumerate())
            .map(|(i, id)| listed(i, id.to_string(), i % 2 == 0))
            .collect();
        cases[1].expected_outcome = Some(crate::rules::Outcome::Grant);
        let refs: Vec<&ListedCase> = cases.iter().collect();
        let rows = (cases.iter())
            .map(|c| {
                let outcome = c.expected_outcome.map_or("", |o| o.code());
                (
                    c.case_id.as_str(),
                    c.classification.code(),
                    c.rule.code(),
                    outcome,
                )
            })
            .collect();
        let expected = TemplateRows { rows }.render().unwrap();
        assert_eq!(case_rows(&refs), expected);
        assert!(expected.contains("<td>&#60;b&#62;&#38;&#39;x&#34;</td>"));
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
