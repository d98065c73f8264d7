//! What the rows of one piece of the input tell each other, settled as the piece is read: a
//! person's rows that stand close together (a refusal remitted on appeal and its new decision,
//! say) are written with what they tell each other at once, and only where rows far apart tell
//! something else does pass 2 write a row again. The settling is the same as [`Index::settle`],
//! over the piece's rows alone; the rows of other pieces are not known yet.

use super::{Index, NO_PERSON, Pending, Settled};
use crate::rules::Facts;

/// The facts a row was written with in pass 1, as its piece settled them (not the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guess {
    /// The row's number among its piece's bonus-related rows.
    row: u32,
    /// Its facts; a later grant by its number among the piece's rows.
    settled: Settled,
}

impl Guess {
    /// The row's number among its piece's bonus-related rows.
    pub fn row(&self) -> usize {
        self.row as usize
    }
}

/// Bits of a person's key that [`settle_among`] looks at first: a piece's few thousand rows
/// fill about a tenth of the 2^15 places, so few rows share a place by chance.
const PLACES: usize = 1 << 15;

/// Settles the bonus-related rows of one piece (in input order) among themselves: each row that
/// learns something from the others, with its [`Guess`] and the facts to write it with. Rows
/// that repeat another row are left as they stand (where the first copy stands is known only
/// once every piece before is read), and so are those without a CPR number.
pub fn settle_among(rows: &[&Pending]) -> Vec<(Guess, Facts)> {
    // Only the rows of a person with several rows here can learn anything: they are found by a
    // bit per place of their key (a row whose place another took is a candidate; a few that
    // share a place by chance settle to nothing), and only they are settled.
    let place = |p: &Pending| (p.entry.person as usize) % PLACES;
    let mut seen = [0u64; PLACES / 64];
    let mut twice = [0u64; PLACES / 64];
    for p in rows.iter().filter(|p| p.entry.person != NO_PERSON) {
        let at = place(p);
        let bit = 1u64 << (at % 64);
        twice[at / 64] |= seen[at / 64] & bit;
        seen[at / 64] |= bit;
    }
    let candidates: Vec<u32> = (0..rows.len() as u32)
        .filter(|&i| {
            let p = rows[i as usize];
            let at = place(p);
            p.entry.person != NO_PERSON && twice[at / 64] & (1u64 << (at % 64)) != 0
        })
        .collect();
    if candidates.len() < 2 {
        return Vec::new();
    }
    let mut index = Index::default();
    for &i in &candidates {
        index.push_pending(rows[i as usize].clone(), 0, 0);
    }
    index.settle();
    (index.settled.iter().enumerate())
        .filter(|(_, s)| **s != Settled::default() && s.duplicate_of.is_none())
        .map(|(j, s)| {
            let guess = Guess {
                row: candidates[j],
                settled: Settled {
                    later_grant: s.later_grant.map(|g| candidates[g as usize]),
                    ..*s
                },
            };
            (guess, index.facts_of(*s, &[]))
        })
        .collect()
}

impl Index {
    /// Row `n` was written with `guess` (its piece's, whose first row is `n - guess.row`). Rows
    /// come in input order.
    pub fn guessed(&mut self, n: u32, guess: Guess) {
        let first = n - guess.row;
        let settled = Settled {
            later_grant: guess.settled.later_grant.map(|g| first + g),
            ..guess.settled
        };
        self.guesses.push((n, settled));
    }

    /// What row `n` was written with in pass 1: its guess, or the defaults.
    fn written_with(&self, n: u32) -> Settled {
        match self.guesses.binary_search_by_key(&n, |&(g, _)| g) {
            Ok(at) => self.guesses[at].1,
            Err(_) => Settled::default(),
        }
    }

    /// The facts row `n` was written with in pass 1, once settled; `sources` as in
    /// [`Index::facts`].
    pub fn written_facts(&self, n: u32, sources: &[String]) -> Facts {
        self.facts_of(self.written_with(n), sources)
    }

    /// The rows, in order, whose settled facts are not those they were written with in pass 1
    /// (the defaults, or their piece's [`Guess`]): the only rows to write again.
    pub fn to_write_again(&self) -> impl Iterator<Item = u32> + '_ {
        let mut guesses = self.guesses.iter().peekable();
        (self.settled.iter().enumerate()).filter_map(move |(n, s)| {
            let n = n as u32;
            let written = match guesses.next_if(|(g, _)| *g == n) {
                Some(&(_, guessed)) => guessed,
                None => Settled::default(),
            };
            (*s != written).then_some(n)
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::super::tests::generated_case;
    use super::*;
    use crate::rules::Classification;
    use crate::rules::case::{Appeal, Benefit, Case, Decision};

    fn row(id: &str, cpr: &str, benefit: Benefit, decision: Decision, day: u32) -> Case {
        let mut case = Case::blank();
        case.case_id = id.to_string();
        case.cpr = cpr.to_string();
        case.benefit = benefit;
        case.decision = decision;
        case.decision_date = NaiveDate::from_ymd_opt(2020, 1, day).unwrap();
        case
    }

    fn pending(case: &Case) -> Pending {
        let c = Classification::Review;
        Pending::new(case, c, c)
    }

    /// A remitted refusal and its new decision, with other persons' rows around them.
    fn piece() -> Vec<Case> {
        let mut remitted = row("K-2", "0101801234", Benefit::Il22, Decision::Refused, 5);
        remitted.appeal = Some(Appeal::Remitted);
        vec![
            row("K-1", "0202802345", Benefit::Il22, Decision::Refused, 3),
            remitted,
            row("K-3", "0101801234", Benefit::Il22, Decision::Granted, 20),
            row("K-4", "", Benefit::Il22, Decision::Refused, 9),
            row("K-5", "0303803456", Benefit::Aktl22, Decision::Granted, 1),
        ]
    }

    #[test]
    fn a_person_s_rows_in_one_piece_settle_as_the_whole_input_does() {
        let cases = piece();
        let pendings: Vec<Pending> = cases.iter().map(pending).collect();
        let refs: Vec<&Pending> = pendings.iter().collect();
        let guesses = settle_among(&refs);
        assert_eq!(guesses.len(), 1, "{guesses:?}");
        let (guess, facts) = &guesses[0];
        assert_eq!(guess.row(), 1);
        assert!(facts.later_il22_decision);
        assert_eq!(facts.later_grant.as_deref(), Some("K-3"));

        // The piece's rows are rows 10-14 of the input: the guess is what the input settles.
        let mut index = Index::default();
        for k in 0..10 {
            let mut other = cases[k % 5].clone();
            other.case_id = format!("other-{k}");
            other.cpr = format!("11111{k:05}");
            index.push_pending(pending(&other), 0, k as u64);
        }
        for p in pendings {
            let n = index.push_pending(p, 0, 0);
            if n == 11 {
                index.guessed(n, *guess);
            }
        }
        index.settle();
        assert_eq!(index.to_write_again().count(), 0);
        assert_eq!(index.written_facts(11, &[]), index.facts(11, &[]));
    }

    #[test]
    fn a_guess_the_whole_input_overrules_is_written_again() {
        let cases = piece();
        let pendings: Vec<Pending> = cases.iter().map(pending).collect();
        let refs: Vec<&Pending> = pendings.iter().collect();
        let (guess, _) = settle_among(&refs)[0].clone();
        // An earlier piece holds the same person's earlier grant: a prior grant the piece
        // did not see.
        let mut index = Index::default();
        let earlier = row("K-0", "0101801234", Benefit::Il22, Decision::Granted, 1);
        index.push_pending(pending(&earlier), 0, 1);
        for p in pendings {
            let n = index.push_pending(p, 0, 0);
            if n == 2 {
                index.guessed(n, guess);
            }
        }
        index.settle();
        assert_eq!(index.to_write_again().collect::<Vec<_>>(), vec![2]);
        assert!(!index.written_facts(2, &[]).prior_grant);
        assert!(index.facts(2, &[]).prior_grant);
        assert_eq!(
            index.written_facts(2, &[]).later_grant.as_deref(),
            Some("K-3")
        );
    }

    proptest::proptest! {
        /// Rows of a few persons and case ids in any mix, cut into pieces anywhere: a row pass 1
        /// wrote with its piece's guess is written with those facts as pass 2 takes them, and
        /// every row whose facts the whole input settles otherwise is written again.
        #[test]
        fn every_row_is_written_as_the_whole_input_settles_it(
            rows in proptest::collection::vec(
                (0..6usize, 0..5usize, 0..4usize, proptest::bool::ANY, 0..12u32, 0..3usize,
                 proptest::bool::ANY, 0..3usize),
                0..60,
            ),
            cuts in proptest::collection::vec(0..60usize, 0..6),
        ) {
            let cases: Vec<(Case, Classification, Classification)> = rows
                .iter()
                .map(|&(id, cpr, benefit, granted, day, text, alone, appeal)| {
                    let mut case = generated_case(id, cpr, benefit, granted, day, text);
                    case.appeal = [None, Some(Appeal::Remitted), Some(Appeal::Upheld)][appeal];
                    let class = if alone { Classification::Reopen } else { Classification::Review };
                    (case, class, Classification::Reopen)
                })
                .collect();
            let pendings: Vec<Pending> =
                cases.iter().map(|(c, a, p)| Pending::new(c, *a, *p)).collect();
            let mut bounds: Vec<usize> = cuts.into_iter().filter(|&c| c < pendings.len()).collect();
            bounds.extend([0, pendings.len()]);
            bounds.sort_unstable();
            bounds.dedup();
            // Pass 1: each piece settled alone, in order, its rows pushed with their guesses.
            let mut index = Index::default();
            let mut written = Vec::new();
            for piece in bounds.windows(2) {
                let refs: Vec<&Pending> = pendings[piece[0]..piece[1]].iter().collect();
                let mut guesses = settle_among(&refs).into_iter().peekable();
                for (k, p) in refs.into_iter().enumerate() {
                    let n = index.push_pending(p.clone(), 0, (piece[0] + k) as u64);
                    if let Some((guess, facts)) = guesses.next_if(|(g, _)| g.row() == k) {
                        index.guessed(n, guess);
                        written.push((n, facts));
                    }
                }
                proptest::prop_assert!(guesses.next().is_none());
            }
            index.settle();
            let sources = ["export.csv".to_string()];
            for (n, facts) in written {
                proptest::prop_assert_eq!(index.written_facts(n, &sources), facts, "row {}", n);
            }
            let again: Vec<u32> = index.to_write_again().collect();
            for n in 0..pendings.len() as u32 {
                if !again.contains(&n) {
                    proptest::prop_assert_eq!(
                        index.written_facts(n, &sources),
                        index.facts(n, &sources),
                        "row {}", n
                    );
                }
            }
        }
    }

    #[test]
    fn repeated_rows_and_rows_without_cpr_are_left_as_they_stand() {
        let a = row("K-1", "0101801234", Benefit::Il22, Decision::Refused, 5);
        let b = row("K-9", "", Benefit::Il22, Decision::Refused, 5);
        let pendings: Vec<Pending> = [&a, &a, &b, &b].into_iter().map(pending).collect();
        let refs: Vec<&Pending> = pendings.iter().collect();
        // The second copy of K-1 learns that it repeats the first: left for pass 2.
        assert!(settle_among(&refs).is_empty());
    }
}
