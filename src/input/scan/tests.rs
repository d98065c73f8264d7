//! The quick scan against `csv_core`, and every kernel against the portable one.

use proptest::prelude::*;

use super::cuts::split_in_windows;
use super::reference::block_by_block;
use super::*;
use crate::input::records::uniform;

/// Reads `data` for the cut finding as a file would be read.
fn reader(data: &[u8]) -> impl FnMut(usize, &mut Vec<u8>, usize) -> std::io::Result<()> + '_ {
    |at, out, n| {
        out.clear();
        out.extend_from_slice(&data[at..at + n]);
        Ok(())
    }
}

/// Every record of `data` as (line, fields) by the scan from `from`, and where it stopped.
fn records(data: &[u8], from: usize, limit: usize) -> (Vec<(u64, Vec<String>)>, Stop) {
    let layout = Layout {
        delimiter: b',',
        benefit: Some(1),
    };
    let mut parser = RecordParser::new(b',');
    let mut reparse = RecordParser::new(b',');
    let mut out = Vec::new();
    let stop = scan(data, from, limit, layout, &mut parser, |found| {
        let (span, fields): (Span, Vec<String>) = match found {
            Found::Quick(span) => {
                reparse.parse(&data[span.start..]).unwrap();
                let fields: Vec<String> = reparse
                    .record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                assert_eq!(fields.len(), span.fields, "{fields:?}");
                if let Some((a, b)) = span.benefit.filter(|&(a, _)| data.get(a) != Some(&b'"')) {
                    assert_eq!(&data[a..b], fields[1].as_bytes());
                }
                (span, fields)
            }
            Found::Parsed(span, rec) => (
                span,
                rec.iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            ),
        };
        assert!(
            span.end == data.len() || matches!(data[span.end], b'\n' | b'\r'),
            "a record's content ends at its line end"
        );
        out.push((1 + span.lines_before, fields));
        ControlFlow::Continue(())
    });
    (out, stop)
}

/// The same by the csv crate, lines counted from each record's first byte.
fn by_csv(data: &[u8]) -> Vec<(u64, Vec<String>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut rec = ByteRecord::new();
    let mut out = Vec::new();
    while reader.read_byte_record(&mut rec).unwrap() {
        let mut at = rec.position().unwrap().byte() as usize;
        while matches!(data[at], b'\r' | b'\n') {
            at += 1;
        }
        out.push((
            1 + count_line_ends(data, 0, at),
            rec.iter()
                .map(|f| String::from_utf8_lossy(&uniform(f)).into_owned())
                .collect(),
        ));
    }
    out
}

#[test]
fn the_scan_reads_what_the_csv_crate_reads() {
    let long = "x".repeat(70);
    let inputs: Vec<String> = vec![
        "a,b,c\n1,2,3\n".into(),
        "a,b,c\r\n1,2,3\r\n\r\n4,5,6".into(),
        "a,b\n\n\n\"q\nq\",2\n3,\"x,\"\"y\"\"\"\n".into(),
        "a,b\n5\" skærm,x\n\"a\"b,c\nd,e\n".into(),
        "a,b\rc,d\n\re,f\n".into(),
        format!("{long},\"{long}\n{long}\",{long}\n1,2\n\"{long}\"x,y\n3,4"),
        "a,\"open\nb,c".into(),
        "\n\n".into(),
        "only\n".into(),
        format!("{long}{long}\r\n{long},{long}\r\n"),
    ];
    for input in inputs {
        let data = input.as_bytes();
        let (found, stop) = records(data, 0, data.len());
        assert_eq!(found, by_csv(data), "{input:?}");
        assert_eq!(stop.end, data.len(), "{input:?}");
        assert_eq!(
            stop.lines,
            count_line_ends(data, 0, data.len()),
            "{input:?}"
        );
    }
}

#[test]
fn a_piece_ends_where_its_last_record_ends() {
    let data = b"a,b\n\"1\n2\",3\n4,5\n";
    // A limit inside the quoted field: the record is read to its end.
    let (found, stop) = records(data, 4, 8);
    assert_eq!(found.len(), 1);
    assert_eq!(stop.end, 12);
    assert_eq!(stop.lines, 2);
    // A limit at a record start stops there.
    let (found, stop) = records(data, 4, 12);
    assert_eq!((found.len(), stop.end), (1, 12));
}

#[test]
fn cuts_avoid_line_breaks_inside_quoted_fields() {
    let mut data = b"a,b\n".to_vec();
    for i in 0..200 {
        data.extend_from_slice(format!("{i},\"line\nbreak\"\n").as_bytes());
    }
    let layout = Layout {
        delimiter: b',',
        benefit: Some(1),
    };
    let mut parser = RecordParser::new(b',');
    let cuts = split_by(data.len(), 4, 50, layout, 2, &mut parser, reader(&data)).unwrap();
    assert!(cuts.len() > 10);
    for &cut in &cuts[1..] {
        assert!(data[..cut].ends_with(b"\"\n"), "cut at {cut}");
    }
}

#[test]
fn cuts_are_moved_from_between_two_rows_of_one_person() {
    // Runs of 1-4 rows per person (field 1), one row quoted where it stands, one with a doubled
    // quote (which the quick scan leaves to csv_core).
    let mut data = b"id,cpr,text\n".to_vec();
    let mut person_of_row = Vec::new();
    let mut starts = Vec::new();
    for p in 0..300 {
        for r in 0..(p % 4 + 1) {
            starts.push(data.len());
            person_of_row.push(p);
            let text = match (p + r) % 7 {
                0 => "\"a, b\"".to_string(),
                1 => "\"say \"\"hi\"\"\"".to_string(),
                _ => "x".to_string(),
            };
            data.extend_from_slice(format!("{p}-{r},\"0101{p:06}\",{text}\n").as_bytes());
        }
    }
    let layout = Layout {
        delimiter: b',',
        benefit: None,
    };
    let mut parser = RecordParser::new(b',');
    let header = 12;
    let cuts = split_by(
        data.len(),
        header,
        400,
        layout,
        3,
        &mut parser,
        reader(&data),
    )
    .unwrap();
    assert!(cuts.len() > 20);
    let moved = moved_between_persons(&data, &cuts, layout, &mut parser);
    assert_eq!(moved[0], header);
    let mut changed = 0;
    for (k, (&cut, &was)) in moved.iter().zip(&cuts).enumerate().skip(1) {
        let row = starts.binary_search(&cut).expect("a cut is a row's start");
        assert!(cut >= was && cut < cuts.get(k + 1).copied().unwrap_or(data.len()));
        assert_ne!(person_of_row[row - 1], person_of_row[row], "cut at {cut}");
        changed += usize::from(cut != was);
    }
    assert!(changed > 0);

    // One person's rows all through a window: the cut stays where it was.
    let mut data = b"id,cpr\n".to_vec();
    for r in 0..3000 {
        data.extend_from_slice(format!("{r},0101801234\n").as_bytes());
    }
    let cuts = split_by(data.len(), 7, 20_000, layout, 2, &mut parser, reader(&data)).unwrap();
    assert_eq!(
        moved_between_persons(&data, &cuts, layout, &mut parser),
        cuts
    );
}

/// `cuts` of `data` as [`between_persons`] moves them, the person in field 1.
fn moved_between_persons(
    data: &[u8],
    cuts: &[usize],
    layout: Layout,
    parser: &mut RecordParser,
) -> Vec<usize> {
    let mut moved = cuts.to_vec();
    between_persons(&mut moved, data.len(), layout, 1, parser, reader(data)).unwrap();
    moved
}

#[test]
fn random_bytes_read_alike_whole_and_in_pieces() {
    // Random text over the bytes that matter, long enough to cross 64-byte blocks.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const ALPHABET: &[u8] = b"ab,,,\"\"\n\n\r x";
    for round in 0..2000 {
        let len = (next() % 300) as usize;
        let data: Vec<u8> = (0..len)
            .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
            .collect();
        let (whole, stop) = records(&data, 0, data.len());
        assert_eq!(
            whole,
            by_csv(&data),
            "round {round}: {:?}",
            String::from_utf8_lossy(&data)
        );
        assert_eq!(stop.end, data.len());
        // In two pieces: the first read to its end, the second from where the first stopped.
        let cut = (next() as usize) % (data.len() + 1);
        let (mut first, stop) = records(&data, 0, cut);
        if stop.end < data.len() {
            let (second, _) = records(&data, stop.end, data.len());
            first.extend(second.into_iter().map(|(line, f)| (line + stop.lines, f)));
        }
        assert_eq!(
            first,
            whole,
            "round {round} cut {cut}: {:?}",
            String::from_utf8_lossy(&data)
        );
    }
}

/// The fields of a record csv_core read.
type Fields = Vec<Vec<u8>>;

/// What a scan on `kernel` finds, everything of it, and where it stops: the records of
/// `data[from..limit]`, the scan stopped after `most` records.
fn found_on(
    kernel: Kernel,
    data: &[u8],
    range: (usize, usize),
    layout: Layout,
    most: usize,
) -> (Vec<(Span, Option<Fields>)>, Stop) {
    found_by(Some(kernel), data, range, layout, most)
}

/// [`found_on`] a kernel, or (`None`) by the block-by-block scan of `reference`.
fn found_by(
    kernel: Option<Kernel>,
    data: &[u8],
    (from, limit): (usize, usize),
    layout: Layout,
    most: usize,
) -> (Vec<(Span, Option<Fields>)>, Stop) {
    let mut parser = RecordParser::new(layout.delimiter);
    let mut out = Vec::new();
    let each = |found: Found<'_>| {
        out.push(match found {
            Found::Quick(span) => (span, None),
            Found::Parsed(span, record) => {
                (span, Some(record.iter().map(<[u8]>::to_vec).collect()))
            }
        });
        if out.len() < most {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    };
    let stop = match kernel {
        Some(kernel) => scan_with(kernel, data, from, limit, layout, &mut parser, each),
        None => scan_by(data, from, limit, layout, &mut parser, each, block_by_block),
    };
    (out, stop)
}

/// Holds every kernel this processor runs to `reference` on `data`: the whole of it, cut in two
/// at `cut` (the second piece from where the first stopped), and stopped after `most` records.
fn every_kernel_agrees(
    reference: impl Fn((usize, usize), usize) -> (Vec<(Span, Option<Fields>)>, Stop),
    data: &[u8],
    layout: Layout,
    cut: usize,
    most: usize,
) -> Result<(), TestCaseError> {
    let len = data.len();
    let whole = reference((0, len), usize::MAX);
    let first = reference((0, cut), usize::MAX);
    let second = reference((first.1.end.min(len), len), usize::MAX);
    let early = reference((0, len), most);
    for kernel in Kernel::available() {
        let on = |range, most| found_on(kernel, data, range, layout, most);
        prop_assert_eq!(&on((0, len), usize::MAX), &whole, "{:?} whole", kernel);
        prop_assert_eq!(&on((0, cut), usize::MAX), &first, "{:?} to {}", kernel, cut);
        prop_assert_eq!(
            &on((first.1.end.min(len), len), usize::MAX),
            &second,
            "{:?} from {}",
            kernel,
            first.1.end
        );
        prop_assert_eq!(&on((0, len), most), &early, "{:?} {} records", kernel, most);
    }
    Ok(())
}

/// Bytes that look like CSV: the pieces that matter to the scan, at random.
fn csvish(delimiter: u8) -> impl Strategy<Value = Vec<u8>> {
    let delimiter = (delimiter as char).to_string();
    let pieces: Vec<String> = [
        "a",
        "x",
        "12",
        "æø",
        "€",
        " ",
        "\"",
        "\"\"",
        "\n",
        "\r",
        "\r\n",
        "\n\n",
        &"y".repeat(40),
        &delimiter.repeat(20),
    ]
    .into_iter()
    .map(String::from)
    .chain([delimiter.clone(), delimiter.clone(), delimiter])
    .collect();
    prop::collection::vec(prop::sample::select(pieces), 0..200)
        .prop_map(|pieces| pieces.concat().into_bytes())
}

/// [`csvish`] bytes; many of them; or records with no anomaly whose fields run long, so that
/// records and fields cross the scan's 8 KiB windows (a quote out of place hands the rest of a
/// record to csv_core, and the scan starts its windows anew after it).
fn long_or_short(delimiter: u8) -> impl Strategy<Value = Vec<u8>> {
    let d = delimiter as char;
    let field = prop_oneof![
        4 => "[a-zæ]{0,3}",
        1 => "[a-z ]{0,700}",
        1 => "\"[a-z\n,;\t]{0,700}\"",
    ];
    let record = prop::collection::vec(field, 1..40).prop_map(move |f| f.join(&d.to_string()));
    let records = prop::collection::vec((record, prop::sample::select(vec!["\n", "\r\n"])), 1..30)
        .prop_map(|r| {
            r.into_iter()
                .flat_map(|(r, end)| [r, end.to_string()])
                .collect::<String>()
        });
    prop_oneof![
        2 => csvish(delimiter),
        1 => prop::collection::vec(csvish(delimiter), 1..40).prop_map(|parts| parts.concat()),
        2 => records.prop_map(String::into_bytes),
    ]
}

/// Records as a writer quotes them, and some quoted otherwise: fields plain or quoted, quoted
/// ones holding delimiters, doubled quotes and line ends, now and then a stray quote or text
/// after a closing one.
fn quoted_records(delimiter: u8) -> impl Strategy<Value = Vec<u8>> {
    let d = (delimiter as char).to_string();
    let inside: Vec<String> = ["a", "æø", " ", "\"\"", "\n", "\r\n", "12", &d]
        .into_iter()
        .map(String::from)
        .collect();
    let field = prop_oneof![
        prop::collection::vec(prop::sample::select(vec!["a", "b", "7", "æ", " "]), 0..4)
            .prop_map(|p| p.concat()),
        prop::collection::vec(prop::sample::select(inside), 0..6)
            .prop_map(|p| format!("\"{}\"", p.concat())),
        Just("x\"y".to_string()),
        Just("\"x\"y".to_string()),
        Just("\"open".to_string()),
    ];
    let record = prop::collection::vec(field, 1..6).prop_map(move |f| f.join(&d));
    prop::collection::vec(record, 1..6).prop_map(|r| (r.join("\n") + "\n").into_bytes())
}

/// The records the quick scan finds in `data` that `RecordParser::read` reads otherwise than
/// csv_core (`RecordParser::parse`): each with both readings.
fn read_unlike_csv_core(data: &[u8], delimiter: u8) -> Vec<(Span, ByteRecord, ByteRecord)> {
    let layout = Layout {
        delimiter,
        benefit: None,
    };
    let mut quick = RecordParser::new(delimiter);
    let (mut read, mut parse) = (RecordParser::new(delimiter), RecordParser::new(delimiter));
    let mut differ = Vec::new();
    scan(data, 0, data.len(), layout, &mut quick, |found| {
        if let Found::Quick(span) = found {
            read.read(data, span, delimiter);
            parse.parse(&data[span.start..]);
            if read.record != parse.record {
                differ.push((span, read.record.clone(), parse.record.clone()));
            }
        }
        ControlFlow::Continue(())
    });
    differ
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// A record quoted as a writer quotes it is read by `RecordParser::read` without csv_core,
    /// exactly as csv_core reads it; one quoted otherwise is left to csv_core.
    #[test]
    fn a_quoted_record_reads_as_csv_core_reads_it(
        (delimiter, data) in prop::sample::select(vec![b',', b';', b'\t'])
            .prop_flat_map(|d| (Just(d), quoted_records(d))),
    ) {
        let differ = read_unlike_csv_core(&data, delimiter);
        prop_assert!(differ.is_empty(), "{:?}", differ);
    }

    /// Every kernel this processor runs finds exactly what the portable one finds: the same
    /// records, lines, field counts, `benefit` ranges and hand-offs to csv_core, whole, in
    /// two pieces, and stopped early.
    #[test]
    fn every_kernel_finds_what_the_portable_one_finds(
        (delimiter, data) in prop::sample::select(vec![b',', b';', b'\t'])
            .prop_flat_map(|d| (Just(d), csvish(d))),
        benefit in prop::option::of(0usize..70),
        cut in any::<prop::sample::Index>(),
        most in 1usize..8,
    ) {
        let layout = Layout { delimiter, benefit };
        let reference = |range, most| found_on(Kernel::Portable, &data, range, layout, most);
        every_kernel_agrees(reference, &data, layout, cut.index(data.len() + 1), most)?;
    }

    /// A record the quick scan found is read by `RecordParser::read` (split at its delimiters
    /// when it holds no quote) exactly as `csv_core` reads it.
    #[test]
    fn a_quick_record_reads_as_csv_core_reads_it(
        (delimiter, data) in prop::sample::select(vec![b',', b';', b'\t'])
            .prop_flat_map(|d| (Just(d), csvish(d))),
    ) {
        let differ = read_unlike_csv_core(&data, delimiter);
        prop_assert!(differ.is_empty(), "{:?}", differ);
    }

    /// Cuts found through small windows of the data, grown where they cannot tell, are the
    /// cuts found looking at all of it.
    #[test]
    fn cuts_found_in_windows_are_the_cuts_found_in_the_whole(
        data in csvish(b','),
        size in 1usize..200,
        first_window in 1usize..64,
    ) {
        let layout = Layout { delimiter: b',', benefit: Some(1) };
        let mut parser = RecordParser::new(b',');
        let whole = split_in_windows(data.len(), 0, size, layout, 3, &mut parser, reader(&data), data.len().max(1));
        let small = split_in_windows(data.len(), 0, size, layout, 3, &mut parser, reader(&data), first_window);
        prop_assert_eq!(whole.unwrap(), small.unwrap());
    }
}

proptest! {
    // Inputs of up to tens of kilobytes, each scanned sixteen ways on each kernel.
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The scan a window at a time finds on every kernel what the scan block by block found
    /// (the scan before windows, kept in `reference`): the same records, lines, field counts,
    /// `benefit` ranges and hand-offs to csv_core, whole, in two pieces, and stopped early;
    /// also on records longer than a window, and `benefit` columns past a window's blocks.
    #[test]
    fn the_windowed_scan_finds_what_the_scan_block_by_block_found(
        (delimiter, data) in prop::sample::select(vec![b',', b';', b'\t'])
            .prop_flat_map(|d| (Just(d), long_or_short(d))),
        benefit in prop::option::of(prop_oneof![0usize..20, 0usize..400]),
        cut in any::<prop::sample::Index>(),
        most in 1usize..8,
    ) {
        let layout = Layout { delimiter, benefit };
        let reference = |range, most| found_by(None, &data, range, layout, most);
        every_kernel_agrees(reference, &data, layout, cut.index(data.len() + 1), most)?;
    }
}
