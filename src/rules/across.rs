//! What rows tell about each other, settled once all input is read: duplicates of a case id
//! (SPEC §3.3) and the rows of one person (SPEC §4 step 7). Holds a compact index of the
//! bonus-related rows only — hashes, dates and flags, never whole rows or CPR numbers.

use rustc_hash::FxHashMap;

use chrono::{Datelike, NaiveDate};

use super::case::{Benefit, Case, Decision};
use super::{Classification, Facts};

mod guess;

pub use guess::{Guess, settle_among};

/// The person key of a row without CPR (a key of a CPR is a hash, never 0).
const NO_PERSON: u128 = 0;

/// One bonus-related row, as much as the settling needs (64 bytes).
#[derive(Debug, Clone)]
struct Entry {
    /// The person's key, [`NO_PERSON`] when the CPR is empty (an `Option` would take 16 bytes
    /// more a row).
    person: u128,
    case_key: u128,
    content: u64,
    decision_date: NaiveDate,
    source: u32,
    line: u64,
    benefit: Benefit,
    decision: Decision,
    /// Would be REOPEN as it stands, and would be REOPEN if a prior grant were found.
    reopen_alone: bool,
    reopen_with_prior_grant: bool,
}

/// A row's entry, made where the row is read (in parallel: hashing its columns is the costly
/// part) and added in input order by [`Index::push_pending`].
#[derive(Debug, Clone)]
pub struct Pending {
    entry: Entry,
    grant_id: Option<Box<str>>,
}

impl Pending {
    pub fn new(case: &Case, alone: Classification, with_prior_grant: Classification) -> Pending {
        let grant = case.decision == Decision::Granted
            && matches!(case.benefit, Benefit::Il22 | Benefit::Aktl22);
        Pending {
            entry: Entry {
                person: person_key(&case.cpr).unwrap_or(NO_PERSON),
                case_key: key128(&case.case_id),
                content: content_key(case),
                decision_date: case.decision_date,
                source: 0,
                line: 0,
                benefit: case.benefit,
                decision: case.decision,
                reopen_alone: alone == Classification::Reopen,
                reopen_with_prior_grant: with_prior_grant == Classification::Reopen,
            },
            grant_id: grant.then(|| case.case_id.clone().into_boxed_str()),
        }
    }
}

/// The lists one person's rows are settled with, kept from person to person (a run has
/// hundreds of thousands).
#[derive(Default)]
struct PersonScratch {
    grants: Vec<u32>,
    nameable: Vec<u32>,
    reopen: Vec<u32>,
}

/// The settled facts of one row, compact; turned into [`Facts`] when the row is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Settled {
    prior_grant: bool,
    later_il22_decision: bool,
    several_refusals: bool,
    conflicting: bool,
    later_grant: Option<u32>,
    duplicate_of: Option<u32>,
}

/// The index of the bonus-related rows, in input order; a row's number is its position.
#[derive(Debug, Default)]
pub struct Index {
    /// The rows' entries, until they are settled.
    entries: Blocks<Entry>,
    /// The rows as [`sort_word`]s of their case ids, and of their persons (rows with a CPR
    /// number only), in input order until they are settled.
    by_case: Blocks<u64>,
    by_person: Blocks<u64>,
    /// Case ids of IL22/AKTL22 grants, the only case ids step 7 names, by row number (in
    /// order, as pushed); once settled, only those a row names.
    grant_ids: Vec<(u32, Box<str>)>,
    settled: Vec<Settled>,
    /// Once settled: where each row that others repeat stands (input, line).
    first_copies: FxHashMap<u32, (u32, u64)>,
    /// The rows pass 1 wrote with their piece's facts ([`Guess`]), in order, with those facts.
    guesses: Vec<(u32, Settled)>,
}

/// A list that grows a block at a time, never moving what it holds: a `Vec` of a million
/// entries would double into a new 64 MB block and free the old one, which the allocator keeps
/// resident a while (see `memory`).
#[derive(Debug)]
struct Blocks<T> {
    blocks: Vec<Vec<T>>,
    len: usize,
}

/// Entries in a block of [`Blocks`]: 4 MiB of 64-byte entries.
const BLOCK: usize = 1 << 16;

impl<T> Default for Blocks<T> {
    fn default() -> Self {
        Blocks {
            blocks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Blocks<T> {
    fn len(&self) -> usize {
        self.len
    }

    /// Adds an item. The first block grows as a `Vec` does, so that a small list (a piece's,
    /// [`settle_among`]) takes little; the blocks after it are made whole.
    fn push(&mut self, item: T) {
        match self.blocks.last_mut() {
            Some(block) if block.len() < BLOCK => block.push(item),
            _ => {
                let mut block = Vec::with_capacity(if self.len == 0 { 0 } else { BLOCK });
                block.push(item);
                self.blocks.push(block);
            }
        }
        self.len += 1;
    }
}

impl<T> std::ops::Index<usize> for Blocks<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.blocks[i / BLOCK][i % BLOCK]
    }
}

/// A 128-bit key of a text: its XXH3-128 digest. Keys stay in memory for one run, so only equal
/// texts must give equal keys; two of the million rows of a run sharing a key by chance is as
/// likely as 2^-88. (XXH3 rather than a cryptographic digest: nobody is served by forging a
/// collision in their own export, and it costs a tenth of SipHash on a short text.)
fn key128(text: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(text.as_bytes())
}

/// A CPR number as one person: its digits, without hyphen or spaces, so `010180-1234` and
/// `0101801234` are one person (here, and in the pseudonyms of `--pseudonymize-key`).
pub fn normalised_cpr(cpr: &str) -> String {
    cpr.chars()
        .filter(|c| !CPR_SEPARATORS.contains(c))
        .collect()
}

/// What a CPR number may be written with besides its digits.
const CPR_SEPARATORS: [char; 2] = ['-', ' '];

/// The person a CPR names (see [`normalised_cpr`]); none when empty.
pub fn person_key(cpr: &str) -> Option<u128> {
    // A CPR number is short: normalised on the stack, without allocating.
    let mut digits = [0u8; 32];
    let mut n = 0;
    for &b in cpr.as_bytes() {
        if CPR_SEPARATORS.contains(&char::from(b)) {
            continue;
        }
        if n == digits.len() {
            let digits = normalised_cpr(cpr);
            return (!digits.is_empty()).then(|| key128(&digits));
        }
        digits[n] = b;
        n += 1;
    }
    (n > 0).then(|| xxhash_rust::xxh3::xxh3_128(&digits[..n]))
}

/// A digest of every canonical column (as read) and the reading warnings: equal for identical rows.
/// Each text goes in with its length before it and each value as its variant's number (255 for
/// none), so no two different rows give the same bytes.
fn content_key(case: &Case) -> u64 {
    // The bytes are gathered in one buffer per thread, not one allocated per row.
    CONTENT.with_borrow_mut(|bytes| content_key_in(case, bytes))
}

thread_local! {
    static CONTENT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn content_key_in(case: &Case, bytes: &mut Vec<u8>) -> u64 {
    bytes.clear();
    let text = |bytes: &mut Vec<u8>, text: &str| {
        bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
        bytes.extend_from_slice(text.as_bytes());
    };
    let day = |bytes: &mut Vec<u8>, day: Option<NaiveDate>| {
        let n = day.map_or(i64::MIN, |d| i64::from(d.num_days_from_ce()));
        bytes.extend_from_slice(&n.to_le_bytes());
    };
    text(bytes, &case.case_id);
    text(bytes, &case.cpr);
    text(bytes, &case.municipality_code);
    text(bytes, &case.refusal_text);
    day(bytes, case.application_date);
    day(bytes, Some(case.decision_date));
    day(bytes, case.exam_date);
    bytes.extend_from_slice(&[
        case.benefit as u8,
        case.decision as u8,
        case.person_category.map_or(u8::MAX, |v| v as u8),
        case.program.map_or(u8::MAX, |v| v as u8),
        case.public_assistance.map_or(u8::MAX, |v| v as u8),
        case.exam.map_or(u8::MAX, |v| v as u8),
        case.prior_bonus.map_or(u8::MAX, |v| v as u8),
        case.appeal.map_or(u8::MAX, |v| v as u8),
    ]);
    bytes.extend_from_slice(&(case.refusal_reasons.len() as u64).to_le_bytes());
    bytes.extend(case.refusal_reasons.iter().map(|&r| r as u8));
    bytes.extend_from_slice(&(case.warnings.len() as u64).to_le_bytes());
    for warning in &case.warnings {
        text(bytes, &warning.to_string());
    }
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// A row as the settling sorts it: its number in the low 32 bits, the top 32 of its key's low
/// 64 above. Sorting the words sorts the rows by key, and the rows of one key in input order;
/// rows whose keys share those bits are told apart by the whole key afterwards
/// ([`for_each_group`]). (Eight bytes a row where a key and a number took sixteen.)
fn sort_word(key: u128, row: u32) -> u64 {
    (key as u64) >> 32 << 32 | u64::from(row)
}

/// The row of a [`sort_word`].
fn row_of(word: u64) -> u32 {
    word as u32
}

/// Sort words as they were pushed, in input order, sorted: stably by their key bits, which
/// sorts them by their whole value, since the rows below are unique and came in order. A
/// least-significant-digit radix sort does it in three passes over the words, each a count and
/// a scatter, the second back into the blocks the words came in (no third copy of them is
/// made): on the 514k bonus-related rows of the 10M-row file, 2-3 ms a key where gathering the
/// words from the index once it was complete and a comparison sort took 7-8 ms.
fn sorted_words(mut words: Blocks<u64>) -> Vec<u64> {
    // Few words (a piece's, [`settle_among`]) cost less sorted as they stand than counted in
    // three passes over 2,048 places each.
    if words.len() < SORTED_AS_THEY_STAND {
        let mut sorted: Vec<u64> = words.blocks.into_iter().flatten().collect();
        sorted.sort_unstable();
        return sorted;
    }
    let mut sorted = vec![0u64; words.len()];
    scatter(words.blocks.iter().flatten().copied(), 32, 11, |i, w| {
        sorted[i] = w
    });
    scatter(sorted.iter().copied(), 43, 11, |i, w| {
        words.blocks[i / BLOCK][i % BLOCK] = w
    });
    scatter(words.blocks.iter().flatten().copied(), 54, 10, |i, w| {
        sorted[i] = w
    });
    sorted
}

/// Below this many words, [`sorted_words`] sorts them by comparing.
const SORTED_AS_THEY_STAND: usize = 4096;

/// One pass of [`sorted_words`]: each of `words` `put` at its place in the order of their
/// `bits` bits from `shift` on, words alike in those bits in the order they come.
fn scatter(
    words: impl Iterator<Item = u64> + Clone,
    shift: u32,
    bits: u32,
    mut put: impl FnMut(usize, u64),
) {
    let digit = |w: u64| ((w >> shift) & ((1 << bits) - 1)) as usize;
    let mut starts = vec![0usize; 1 << bits];
    for w in words.clone() {
        starts[digit(w)] += 1;
    }
    let mut at = 0;
    for start in &mut starts {
        (*start, at) = (at, at + *start);
    }
    for w in words {
        let d = digit(w);
        put(starts[d], w);
        starts[d] += 1;
    }
}

/// Calls `each` with every group of rows that share a key, each group in input order. The rows
/// come as [`sort_word`]s, sorted; only rows that share the words' key bits are told apart by
/// the whole `key`.
fn for_each_group(sorted: &[u64], key: impl Fn(u32) -> u128, mut each: impl FnMut(&[u32])) {
    let mut group = Vec::new();
    for run in sorted.chunk_by(|a, b| a >> 32 == b >> 32) {
        if let [word] = run {
            each(&[row_of(*word)]);
            continue;
        }
        let mut rest: Vec<u32> = run.iter().map(|&w| row_of(w)).collect();
        while let Some(&first) = rest.first() {
            let k = key(first);
            group.clear();
            rest.retain(|&i| {
                let same = key(i) == k;
                if same {
                    group.push(i);
                }
                !same
            });
            each(&group);
        }
    }
}

impl Index {
    pub fn len(&self) -> usize {
        self.entries.len().max(self.settled.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a row; `alone` and `with_prior_grant` are its classification as it stands and with
    /// a prior grant found (step 7 may need either). Returns its number.
    pub fn push(
        &mut self,
        case: &Case,
        source: u32,
        line: u64,
        alone: Classification,
        with_prior_grant: Classification,
    ) -> u32 {
        self.push_pending(Pending::new(case, alone, with_prior_grant), source, line)
    }

    /// Adds a row whose entry was made beforehand (see [`Pending`]). Returns its number.
    pub fn push_pending(&mut self, pending: Pending, source: u32, line: u64) -> u32 {
        let n = u32::try_from(self.entries.len()).expect("fewer than 4 billion bonus-related rows");
        if let Some(id) = pending.grant_id {
            self.grant_ids.push((n, id));
        }
        self.by_case.push(sort_word(pending.entry.case_key, n));
        if pending.entry.person != NO_PERSON {
            self.by_person.push(sort_word(pending.entry.person, n));
        }
        self.entries.push(Entry {
            source,
            line,
            ..pending.entry
        });
        n
    }

    /// Settles duplicates and step 7 for every row. Call once, after the last row is pushed.
    pub fn settle(&mut self) {
        self.settle_joining(|tasks| tasks.into_iter().for_each(|task| task()));
    }

    /// [`Index::settle`], its three first tasks apart: sorting the rows by case id, sorting them
    /// by person, and making the table of their facts. `join` runs them (the pipeline at once, on
    /// three threads; the rules know none).
    pub fn settle_joining(&mut self, join: impl FnOnce([&mut (dyn FnMut() + Send); 3])) {
        let (mut by_case, mut by_person, mut settled) = (Vec::new(), Vec::new(), Vec::new());
        let mut words = Some(std::mem::take(&mut self.by_case));
        let mut sort_cases = || by_case = words.take().map(sorted_words).unwrap_or_default();
        let mut words = Some(std::mem::take(&mut self.by_person));
        let mut sort_persons = || by_person = words.take().map(sorted_words).unwrap_or_default();
        let rows = self.entries.len();
        let mut table = || settled = vec![Settled::default(); rows];
        join([&mut sort_cases, &mut sort_persons, &mut table]);
        self.settle_duplicates(&mut settled, &by_case);
        drop(by_case);
        self.settle_persons(&mut settled, &by_person);
        drop(by_person);
        // Writing the rows needs of the entries only where a repeated row first stood, and of
        // the grants only those a row names: the rest is let go (most of the index's memory).
        self.first_copies = settled
            .iter()
            .filter_map(|s| s.duplicate_of)
            .map(|d| {
                let first = &self.entries[d as usize];
                (d, (first.source, first.line))
            })
            .collect();
        let mut named = vec![false; settled.len()];
        let guessed = self.guesses.iter().map(|(_, s)| s);
        for g in settled.iter().chain(guessed).filter_map(|s| s.later_grant) {
            named[g as usize] = true;
        }
        self.grant_ids.retain(|&(g, _)| named[g as usize]);
        self.grant_ids.shrink_to_fit();
        self.entries = Blocks::default();
        self.settled = settled;
    }

    /// SPEC §3.3: identical rows with one case id are one decision (later copies point to the
    /// first); differing rows with one case id conflict.
    fn settle_duplicates(&self, settled: &mut [Settled], sorted: &[u64]) {
        let case_key = |i: u32| self.entries[i as usize].case_key;
        let content = |i: u32| self.entries[i as usize].content;
        for_each_group(sorted, case_key, |group| {
            if group.len() < 2 {
                return;
            }
            let first_content = content(group[0]);
            let conflicting = group.iter().any(|&i| content(i) != first_content);
            // The first row of each content: a case id that thousands of rows repeat (a
            // placeholder) costs a lookup a row, not a look at every row before it.
            let mut first_of: FxHashMap<u64, u32> = FxHashMap::default();
            for &i in group {
                let first = *first_of.entry(content(i)).or_insert(i);
                settled[i as usize].conflicting = conflicting;
                settled[i as usize].duplicate_of = (first != i).then_some(first);
            }
        });
    }

    /// SPEC §4 step 7, over the rows of each person (duplicates left out; they take the facts of
    /// the row they repeat). `sorted` holds every row with a CPR number, duplicates too: they
    /// were sorted before the duplicates were known.
    fn settle_persons(&self, settled: &mut [Settled], sorted: &[u64]) {
        let person = |i: u32| self.entries[i as usize].person;
        let mut rows = Vec::new();
        let mut scratch = PersonScratch::default();
        for_each_group(sorted, person, |group| {
            // A person's only row learns nothing from the others: its facts stay the defaults.
            if group.len() < 2 {
                return;
            }
            rows.clear();
            let first = |&&i: &&u32| settled[i as usize].duplicate_of.is_none();
            rows.extend(group.iter().filter(first));
            if rows.len() > 1 {
                self.settle_person(&rows, settled, &mut scratch);
            }
        });
        for i in 0..settled.len() {
            if let Some(first) = settled[i].duplicate_of {
                let first = settled[first as usize];
                settled[i] = Settled {
                    duplicate_of: settled[i].duplicate_of,
                    ..first
                };
            }
        }
    }

    fn settle_person(&self, rows: &[u32], settled: &mut [Settled], scratch: &mut PersonScratch) {
        let entry = |i: u32| &self.entries[i as usize];
        let PersonScratch {
            grants,
            nameable,
            reopen,
        } = scratch;
        // Grants, by date then input order.
        grants.clear();
        grants.extend((rows.iter().copied()).filter(|&i| entry(i).decision == Decision::Granted));
        grants.sort_by_key(|&i| (entry(i).decision_date, i));
        let first_grant = grants.first().map(|&i| entry(i).decision_date);
        // The grants a refusal may name as its later grant, in the same order: the first after
        // a refusal is found by halving (a placeholder CPR may stand on thousands of rows).
        nameable.clear();
        nameable.extend(
            (grants.iter().copied())
                .filter(|&g| matches!(entry(g).benefit, Benefit::Il22 | Benefit::Aktl22)),
        );
        let last_il22 = rows
            .iter()
            .filter(|&&i| entry(i).benefit == Benefit::Il22)
            .map(|&i| entry(i).decision_date)
            .max();
        reopen.clear();
        for &i in rows {
            let e = entry(i);
            if e.benefit != Benefit::Il22 || e.decision != Decision::Refused {
                continue;
            }
            let s = &mut settled[i as usize];
            s.prior_grant = first_grant.is_some_and(|d| d < e.decision_date);
            s.later_il22_decision = last_il22.is_some_and(|d| d > e.decision_date);
            let later = nameable.partition_point(|&g| entry(g).decision_date <= e.decision_date);
            s.later_grant = nameable.get(later).copied();
            let is_reopen = if s.prior_grant {
                e.reopen_with_prior_grant
            } else {
                e.reopen_alone
            };
            if is_reopen && s.later_grant.is_none() && !s.conflicting {
                reopen.push(i);
            }
        }
        if reopen.len() > 1 {
            for &i in reopen.iter() {
                settled[i as usize].several_refusals = true;
            }
        }
    }

    /// The case id of grant row `g`.
    fn grant_id(&self, g: u32) -> &str {
        let at = self
            .grant_ids
            .binary_search_by_key(&g, |(n, _)| *n)
            .expect("a grant a row names is kept");
        &self.grant_ids[at].1
    }

    /// The facts of row `n`, once settled; `sources` names the inputs for `DUPLICATE_OF`.
    pub fn facts(&self, n: u32, sources: &[String]) -> Facts {
        self.facts_of(self.settled[n as usize], sources)
    }

    /// Settled facts `s` of a row of this index, once settled, as the rules take them.
    fn facts_of(&self, s: Settled, sources: &[String]) -> Facts {
        Facts {
            prior_grant: s.prior_grant,
            later_grant: s.later_grant.map(|g| self.grant_id(g).to_string()),
            later_il22_decision: s.later_il22_decision,
            several_refusals: s.several_refusals,
            duplicate_of: s.duplicate_of.map(|d| {
                let (source, line) = self.first_copies[&d];
                (sources[source as usize].clone(), line)
            }),
            conflicting: s.conflicting,
        }
    }

    /// Whether row `n` repeats an earlier identical row.
    pub fn is_duplicate(&self, n: u32) -> bool {
        self.settled[n as usize].duplicate_of.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_grouped_by_the_whole_key_in_input_order() {
        // Keys 1 and 1 + 2^64 share their low 64 bits; 7 stands alone.
        let keys: [u128; 6] = [1, 7, 1 + (1 << 64), 1, 1 + (1 << 64), 1];
        let mut groups = Vec::new();
        let mut words = Blocks::default();
        for (row, &key) in keys.iter().enumerate() {
            words.push(sort_word(key, row as u32));
        }
        let sorted = sorted_words(words);
        for_each_group(&sorted, |i| keys[i as usize], |g| groups.push(g.to_vec()));
        groups.sort();
        assert_eq!(groups, vec![vec![0, 3, 5], vec![1], vec![2, 4]]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Rows over several blocks, their keys alike in few or many of their bits: the radix
        /// sort sorts them as a comparison sort does.
        #[test]
        fn the_rows_sort_as_their_words_do(
            n in proptest::sample::select(vec![0usize, 1, 2, 1000, BLOCK, BLOCK + 1, 3 * BLOCK - 7]),
            distinct in proptest::sample::select(vec![1u64, 2, 300, u64::MAX]),
            high in proptest::bool::ANY,
            seed in 1u64..,
        ) {
            let mut state = seed;
            let mut words = Blocks::default();
            let mut expected = Vec::new();
            for row in 0..n as u32 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Keys that differ in their top bits only, or in every bit.
                let key = state % distinct;
                let key = if high { key << 48 | 1 } else { key.wrapping_mul(0x9E37_79B9_7F4A_7C15) };
                let word = sort_word(u128::from(key), row);
                words.push(word);
                expected.push(word);
            }
            expected.sort_unstable();
            proptest::prop_assert_eq!(sorted_words(words), expected);
        }
    }

    #[test]
    fn one_person_however_the_cpr_number_is_written() {
        let key = person_key("0101801234");
        assert!(key.is_some());
        assert_eq!(person_key("010180-1234"), key);
        assert_eq!(person_key(" 010180 1234"), key);
        assert_ne!(person_key("0101801235"), key);
        assert_eq!(person_key(" - "), None);
        // Longer than the room on the stack: the same rule.
        let long = "1-2-3-4-5-6-7-8-9-0-1-2-3-4-5-6-7-8-9-0-1-2-3-4-5-6-7-8-9-0-1-2-3-4";
        assert_eq!(person_key(long), person_key(&long.replace('-', "")));
        assert_ne!(person_key(long), person_key(&long[..long.len() - 2]));
    }

    /// A row the property tests generate: case id `K-{id}`, person `cpr` (0 has no CPR number and
    /// links no rows), one of four benefits (IL22 twice as likely), granted or refused on day
    /// `day` of 2020, one of three refusal texts.
    pub(super) fn generated_case(
        id: usize,
        cpr: usize,
        benefit: usize,
        granted: bool,
        day: u32,
        text: usize,
    ) -> Case {
        let mut case = Case::blank();
        case.case_id = format!("K-{id}");
        case.cpr = if cpr == 0 {
            String::new()
        } else {
            format!("01018{cpr}1234")
        };
        case.benefit = [
            Benefit::Il22,
            Benefit::Aktl22,
            Benefit::Dansktillaeg,
            Benefit::Il22,
        ][benefit];
        case.decision = if granted {
            Decision::Granted
        } else {
            Decision::Refused
        };
        case.decision_date = NaiveDate::from_ymd_opt(2020, 1, 1 + day).unwrap();
        case.refusal_text = ["", "Afslag", "Afslag, § 16"][text].to_string();
        case
    }

    /// The settling as first written, a look at every other row for each row: the reference
    /// the grouping and halving of [`Index::settle`] must agree with.
    fn settled_the_slow_way(entries: &[Entry]) -> Vec<Settled> {
        let n = entries.len();
        let mut settled = vec![Settled::default(); n];
        for i in 0..n {
            let same: Vec<usize> = (0..n)
                .filter(|&j| entries[j].case_key == entries[i].case_key)
                .collect();
            if same.len() < 2 {
                continue;
            }
            settled[i].conflicting = same
                .iter()
                .any(|&j| entries[j].content != entries[same[0]].content);
            settled[i].duplicate_of = same
                .iter()
                .copied()
                .take_while(|&j| j < i)
                .find(|&j| entries[j].content == entries[i].content)
                .map(|j| j as u32);
        }
        let mut persons: Vec<u128> = entries.iter().map(|e| e.person).collect();
        persons.sort();
        persons.dedup();
        for person in persons.into_iter().filter(|&p| p != NO_PERSON) {
            let rows: Vec<usize> = (0..n)
                .filter(|&i| entries[i].person == person && settled[i].duplicate_of.is_none())
                .collect();
            if rows.len() < 2 {
                continue;
            }
            let mut grants: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&i| entries[i].decision == Decision::Granted)
                .collect();
            grants.sort_by_key(|&i| (entries[i].decision_date, i));
            let last_il22 = rows
                .iter()
                .filter(|&&i| entries[i].benefit == Benefit::Il22)
                .map(|&i| entries[i].decision_date)
                .max();
            let mut reopen = Vec::new();
            for &i in &rows {
                let e = &entries[i];
                if e.benefit != Benefit::Il22 || e.decision != Decision::Refused {
                    continue;
                }
                let s = &mut settled[i];
                s.prior_grant = grants
                    .first()
                    .is_some_and(|&g| entries[g].decision_date < e.decision_date);
                s.later_il22_decision = last_il22.is_some_and(|d| d > e.decision_date);
                s.later_grant = grants
                    .iter()
                    .copied()
                    .find(|&g| {
                        entries[g].decision_date > e.decision_date
                            && matches!(entries[g].benefit, Benefit::Il22 | Benefit::Aktl22)
                    })
                    .map(|g| g as u32);
                let reopen_now = if s.prior_grant {
                    e.reopen_with_prior_grant
                } else {
                    e.reopen_alone
                };
                if reopen_now && s.later_grant.is_none() && !s.conflicting {
                    reopen.push(i);
                }
            }
            if reopen.len() > 1 {
                for i in reopen {
                    settled[i].several_refusals = true;
                }
            }
        }
        for i in 0..n {
            if let Some(first) = settled[i].duplicate_of {
                settled[i] = Settled {
                    duplicate_of: Some(first),
                    ..settled[first as usize]
                };
            }
        }
        settled
    }

    proptest::proptest! {
        /// Rows that share case ids and persons in any mix (a placeholder CPR or case id on
        /// many rows among them) settle as the look at every other row settles them.
        #[test]
        fn the_settling_agrees_with_a_look_at_every_other_row(
            rows in proptest::collection::vec(
                (0..6usize, 0..5usize, 0..4usize, proptest::bool::ANY, 0..12u32, 0..3usize,
                 proptest::bool::ANY, proptest::bool::ANY),
                0..60,
            ),
        ) {
            let mut index = Index::default();
            for (line, &(id, cpr, benefit, granted, day, text, alone, prior)) in rows.iter().enumerate() {
                let case = generated_case(id, cpr, benefit, granted, day, text);
                let class = |reopen: bool| if reopen { Classification::Reopen } else { Classification::NotAffected };
                index.push(&case, 0, line as u64, class(alone), class(prior));
            }
            let entries: Vec<Entry> = (0..index.entries.len()).map(|i| index.entries[i].clone()).collect();
            let expected = settled_the_slow_way(&entries);
            index.settle();
            proptest::prop_assert_eq!(&index.settled, &expected);
        }
    }

    #[test]
    fn blocks_hold_their_entries_in_order_across_blocks() {
        let mut blocks = Blocks::default();
        for i in 0..(2 * BLOCK + 3) {
            blocks.push(i);
        }
        assert_eq!(blocks.len(), 2 * BLOCK + 3);
        for i in [0, 1, BLOCK - 1, BLOCK, 2 * BLOCK, 2 * BLOCK + 2] {
            assert_eq!(blocks[i], i);
        }
    }
}
