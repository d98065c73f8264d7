//! Criterion benchmarks of the per-row work that the scan does for every bonus-related row, and
//! of the quick scan that every other row costs: `cargo bench` (never timed unit tests; see
//! STYLE.md). The rows are of the kinds `scripts/synth.py` writes.

use std::borrow::Cow;
use std::hint::black_box;
use std::ops::ControlFlow;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use genoptag::input::columns::Col;
use genoptag::input::record::{self, Parsed};
use genoptag::input::scan::{self, Found, Layout, RecordParser};
use genoptag::input::values::Vocabulary;
use genoptag::rules::case::Case;
use genoptag::rules::ground::Patterns;
use genoptag::rules::{self, Facts};

/// Refusal texts as municipalities write them: the programme named in its several ways, the
/// other grounds, Danish letters spelled out, and texts that name no ground.
const TEXTS: [&str; 8] = [
    "Du har ikke deltaget i introduktionsprogrammet, jf. integrationslovens § 16.",
    "Du er ikke omfattet af selvforsørgelses- og hjemrejseprogrammet.",
    "Du modtager selvforsørgelses- og hjemrejseydelse og er derfor ikke selvforsørgende.",
    "Proeven er ikke bestaaet. Du kan klage inden 4 uger.",
    "Du har tidligere faaet danskbonus efter aktivloven.",
    "Du opfylder ikke betingelserne, jf. § 2, stk. 3.",
    "Afslag på danskbonus. Du kan klage til Ankestyrelsen inden 4 uger efter, at du har modtaget afgørelsen.",
    "",
];

/// A bonus-related row in canonical columns.
fn row(i: usize) -> [String; 16] {
    let text = TEXTS[i % TEXTS.len()];
    [
        format!("SAG-{i:09}"),
        "010180-1234".into(),
        ["461", "101", "751"][i % 3].into(),
        ["IL22", "IL22", "AKTL22", "DANSKTILLAEG"][i % 4].into(),
        ["REFUSED", "Afslag", "GRANTED"][i % 3].into(),
        ["2020-01-10", "", "15.03.2021"][i % 3].into(),
        ["2020-02-01", "01/03/2021", "2021-08-01"][i % 3].into(),
        ["PROGRAM", "", "NO_EXAM|OTHER"][i % 3].into(),
        text.into(),
        ["REFUGEE", "familiesammenført", ""][i % 3].into(),
        ["YES", "NO", ""][i % 3].into(),
        ["NO", "YES", ""][i % 3].into(),
        ["PD2", "EQUIVALENT", ""][i % 3].into(),
        ["2019-05-01", "", "2017-01-01"][i % 3].into(),
        ["NO", "", "YES"][i % 3].into(),
        ["", "UPHELD", "Ophævet og hjemvist"][i % 3].into(),
    ]
}

fn cases(vocab: &Vocabulary) -> Vec<Case> {
    (0..64)
        .filter_map(|i| {
            let row = row(i);
            match record::parse(|col: Col| Cow::Borrowed(row[col as usize].as_str()), vocab) {
                Parsed::Bonus(case) => Some(*case),
                _ => None,
            }
        })
        .collect()
}

fn refusal_text_matcher(c: &mut Criterion) {
    let patterns = Patterns::default();
    let mut group = c.benchmark_group("refusal text");
    group.throughput(Throughput::Elements(TEXTS.len() as u64));
    group.bench_function("grounds_in, built-in table", |b| {
        b.iter(|| {
            for text in TEXTS {
                black_box(patterns.grounds_in(black_box(text)));
            }
        })
    });
    let mut extended = Patterns::default();
    for (i, extra) in ["ikke deltaget i forløb", "manglende fremmøde", "§ 16a"]
        .iter()
        .enumerate()
    {
        extended.add(
            [
                rules::case::ReasonCode::Program,
                rules::case::ReasonCode::Other,
                rules::case::ReasonCode::Program,
            ][i],
            extra,
        );
    }
    group.bench_function("grounds_in, with mapping-file patterns", |b| {
        b.iter(|| {
            for text in TEXTS {
                black_box(extended.grounds_in(black_box(text)));
            }
        })
    });
    group.finish();
}

fn rule_evaluation(c: &mut Criterion) {
    let vocab = Vocabulary::default();
    let patterns = Patterns::default();
    let cases = cases(&vocab);
    let mut group = c.benchmark_group("rows");
    group.throughput(Throughput::Elements(cases.len() as u64));
    group.bench_function("evaluate", |b| {
        b.iter(|| {
            for case in &cases {
                black_box(rules::evaluate(
                    black_box(case),
                    &patterns,
                    &Facts::default(),
                ));
            }
        })
    });
    let rows: Vec<[String; 16]> = (0..64).map(row).collect();
    group.bench_function("record::parse", |b| {
        b.iter(|| {
            for row in &rows {
                black_box(record::parse(
                    |col: Col| Cow::Borrowed(row[col as usize].as_str()),
                    &vocab,
                ));
            }
        })
    });
    group.finish();
}

fn quick_scan(c: &mut Criterion) {
    // Rows of other benefits as the synthetic exports write them, one in four with a quoted,
    // multi-line text.
    let mut data = Vec::new();
    for i in 0..20_000 {
        let text = if i % 4 == 0 {
            "\"Afslag på hjælp til flytning.\nDu kan klage inden 4 uger.\""
        } else {
            ""
        };
        data.extend_from_slice(
            format!("SAG-{i:09},241072-7944,210,OTHER,REFUSED,,27.12.2023,,{text},,,YES,PD2,2020-03-21,NO,\n")
                .as_bytes(),
        );
    }
    let layout = Layout {
        delimiter: b',',
        benefit: Some(3),
    };
    let mut parser = RecordParser::new(b',');
    let mut group = c.benchmark_group("quick scan");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("other-benefit rows", |b| {
        b.iter(|| {
            let mut rows = 0u32;
            scan::scan(&data, 0, data.len(), layout, &mut parser, |found| {
                if let Found::Quick(span) = found {
                    rows += u32::from(span.benefit.is_some());
                }
                ControlFlow::Continue(())
            });
            black_box(rows)
        })
    });
    group.finish();
}

criterion_group!(benches, refusal_text_matcher, rule_evaluation, quick_scan);
criterion_main!(benches);
