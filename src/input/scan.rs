//! The quick record scanner for file inputs (SPEC §3.2, §3.3): finds where each record of a byte
//! range starts and ends, on which physical line, how many fields it has and where its `benefit`
//! field lies — without copying or allocating — so that a row of another benefit costs only a
//! look at that one field. Everything else (a bonus-related row, a reject, a quoted `benefit`) is
//! read in full by [`RecordParser`], which is the csv crate's own parser (`csv_core`).
//!
//! The scan classifies 64 bytes at a time into bit masks of quotes, delimiters and line ends
//! (SSE2 on x86-64), and finds the bytes inside quoted fields by a running parity of the quotes.
//! That parity is exactly how `csv_core` reads a file as long as every quote stands where RFC 4180
//! puts it: opening a field, closing one before a delimiter or a line end, or doubled inside one.
//! Three things break the equivalence, and each is detected in the same masks: a quote that opens
//! in the middle of a field (`5" skærm`), a closing quote followed by more text (`"a"b`), and a
//! lone `\r` (which `csv_core` takes as a line end). A record holding one of them is handed to
//! `csv_core` from its first byte, which reads it exactly; the scan resumes after it. So the
//! records found are the records the csv crate finds, always.
//!
//! Lines: a record's line is one more than the line ends before its first byte (`\n`, `\r\n` and
//! a lone `\r` each count once), blank lines skipped as the csv crate skips them; inside quoted
//! fields `\r\n` and a lone `\r` read as `\n`, as the streaming reader reads them
//! ([`crate::input::records::LineEnds`]).

use std::ops::ControlFlow;

use csv::ByteRecord;

use crate::input::records::uniform;

/// One record as the scan found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Its first byte and the end of its content (before the line end and a `\r` of a CRLF).
    pub start: usize,
    pub end: usize,
    /// Line ends between the scan's start and `start`.
    pub lines_before: u64,
    /// Its number of fields.
    pub fields: usize,
    /// The raw bytes of the `benefit` field (`start..end`), when the record has that many fields.
    pub benefit: Option<(usize, usize)>,
}

/// What the scan hands to its caller, in input order.
pub enum Found<'r> {
    /// A record the quick scan read (fields not yet split).
    Quick(Span),
    /// A record that `csv_core` had to read (see the module comment), already split into fields;
    /// `span.benefit` is none.
    Parsed(Span, &'r ByteRecord),
}

/// Where a scan stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop {
    /// The first byte after the last record read (after its line end).
    pub end: usize,
    /// Line ends in `from..end`.
    pub lines: u64,
}

/// The scan's settings for one input.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub delimiter: u8,
    /// The position of the `benefit` column in the header.
    pub benefit: Option<usize>,
}

/// Reads one record exactly as the csv crate does (it is the csv crate's parser), into a
/// reused [`ByteRecord`].
pub struct RecordParser {
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    pub record: ByteRecord,
}

impl RecordParser {
    pub fn new(delimiter: u8) -> RecordParser {
        RecordParser {
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            out: vec![0; 1024],
            ends: vec![0; 64],
            record: ByteRecord::new(),
        }
    }

    /// Reads the record that starts at the beginning of `input` (no leading line ends; `input`
    /// runs to the end of the data) into `self.record`. Returns the bytes consumed, its line end
    /// included (of a CRLF, only the `\r`), or none when `input` holds no record.
    pub fn parse(&mut self, input: &[u8]) -> Option<usize> {
        use csv_core::ReadRecordResult as R;
        self.core.reset();
        let (mut nin, mut nout, mut nend) = (0, 0, 0);
        loop {
            let (res, i, o, e) =
                self.core
                    .read_record(&input[nin..], &mut self.out[nout..], &mut self.ends[nend..]);
            nin += i;
            nout += o;
            nend += e;
            match res {
                // The input runs to the end of the data: the next call sees the end.
                R::InputEmpty => {}
                R::OutputFull => self.out.resize(self.out.len() * 2, 0),
                R::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                R::Record => break,
                R::End => return None,
            }
        }
        self.record.clear();
        let mut from = 0;
        // Line ends inside quoted fields as the streaming reader gives them (`LineEnds`); most
        // records have no `\r` to change, which one look at all their fields tells.
        let plain = memchr::memchr(b'\r', &self.out[..nout]).is_none();
        for &to in &self.ends[..nend] {
            let field = &self.out[from..to];
            if plain {
                self.record.push_field(field);
            } else {
                self.record.push_field(&uniform(field));
            }
            from = to;
        }
        Some(nin)
    }
}

/// Line ends in `buf[from..to]`: each `\n`, and each `\r` not followed by `\n` (looking past
/// `to` when needed).
pub fn count_line_ends(buf: &[u8], from: usize, to: usize) -> u64 {
    let mut n = 0;
    for i in from..to {
        match buf[i] {
            b'\n' => n += 1,
            b'\r' if buf.get(i + 1) != Some(&b'\n') => n += 1,
            _ => {}
        }
    }
    n
}

/// The masks of one 64-byte block: quotes, delimiters, `\n`, `\r`.
#[derive(Clone, Copy)]
struct Masks {
    quote: u64,
    delim: u64,
    lf: u64,
    cr: u64,
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify(block: &[u8; 64], delimiter: u8) -> Masks {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of every x86-64 processor; the loads read the 64 bytes of `block`.
    unsafe {
        let q = _mm_set1_epi8(b'"' as i8);
        let d = _mm_set1_epi8(delimiter as i8);
        let n = _mm_set1_epi8(b'\n' as i8);
        let r = _mm_set1_epi8(b'\r' as i8);
        let mut m = Masks {
            quote: 0,
            delim: 0,
            lf: 0,
            cr: 0,
        };
        for i in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i) as *const __m128i);
            let bits = |c| u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) as u16) << (16 * i);
            m.quote |= bits(q);
            m.delim |= bits(d);
            m.lf |= bits(n);
            m.cr |= bits(r);
        }
        m
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn classify(block: &[u8; 64], delimiter: u8) -> Masks {
    let mut m = Masks {
        quote: 0,
        delim: 0,
        lf: 0,
        cr: 0,
    };
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match b {
            b'"' => m.quote |= bit,
            b'\n' => m.lf |= bit,
            b'\r' => m.cr |= bit,
            _ if b == delimiter => m.delim |= bit,
            _ => {}
        }
    }
    m
}

/// Bit i is the parity of the set bits 0..=i.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The bits below position `n` (`n` ≤ 64).
#[inline(always)]
fn below(n: u32) -> u64 {
    if n >= 64 { !0 } else { (1u64 << n) - 1 }
}

/// The position of the `k`-th (0-based) set bit of `x`, which has more than `k`.
#[inline(always)]
fn nth_bit(mut x: u64, k: u32) -> u32 {
    for _ in 0..k {
        x &= x - 1;
    }
    x.trailing_zeros()
}

/// Scans the records of `buf` that start at or after `from` and before `limit`: `from` must be
/// the start of a record (or of blank lines before one). The last record may run past `limit`;
/// it is read to its end. `each` sees every record in order and may stop the scan early.
pub fn scan(
    buf: &[u8],
    from: usize,
    limit: usize,
    layout: Layout,
    parser: &mut RecordParser,
    mut each: impl FnMut(Found<'_>) -> ControlFlow<()>,
) -> Stop {
    let mut at = from;
    let mut lines = 0;
    loop {
        let (rec_start, rec_lines) = match quick(buf, at, limit, lines, layout, &mut each) {
            Quick::Done(stop) => {
                return Stop {
                    end: stop.end,
                    lines: stop.lines,
                };
            }
            Quick::Anomaly { start, lines } => (start, lines),
        };
        // The record at the anomaly goes to csv_core; the scan resumes after it.
        let mut first = rec_start;
        while first < limit && matches!(buf[first], b'\r' | b'\n') {
            first += 1;
        }
        let before = rec_lines + count_line_ends(buf, rec_start, first);
        if first >= limit {
            return Stop {
                end: first,
                lines: before,
            };
        }
        let Some(consumed) = parser.parse(&buf[first..]) else {
            return Stop {
                end: buf.len(),
                lines: before + count_line_ends(buf, first, buf.len()),
            };
        };
        let next = first + consumed;
        let span = Span {
            start: first,
            // Before its line end (`\n`, or the `\r` of a CRLF or a lone `\r`).
            end: trim_cr(
                buf,
                first,
                if buf[next - 1] == b'\n' {
                    next - 1
                } else {
                    next
                },
            ),
            lines_before: before,
            fields: parser.record.len(),
            benefit: None,
        };
        let flow = each(Found::Parsed(span, &parser.record));
        at = next;
        lines = before + count_line_ends(buf, first, next);
        if flow.is_break() || at >= limit {
            return Stop { end: at, lines };
        }
    }
}

enum Quick {
    Done(Stop),
    /// The record starting at `start` (after `lines` line ends) holds an anomaly.
    Anomaly {
        start: usize,
        lines: u64,
    },
}

/// The quick scan from `from` (after `lines` line ends), until `limit`, the end, or an anomaly.
#[inline(always)]
fn quick(
    buf: &[u8],
    from: usize,
    limit: usize,
    mut lines: u64,
    layout: Layout,
    each: &mut impl FnMut(Found<'_>) -> ControlFlow<()>,
) -> Quick {
    let benefit_at = layout.benefit.map(|b| b as u32);
    let mut block_at = from;
    // The record being read.
    let mut rec_start = from;
    let mut rec_lines = lines;
    let mut delims = 0u32;
    let mut benefit_start: Option<usize> = match benefit_at {
        Some(0) => Some(from),
        _ => None,
    };
    let mut benefit_end: Option<usize> = None;
    // Carried from the block before: inside quotes, last byte structural (or a record start),
    // last byte a closing quote, last byte an unquoted `\r`.
    let mut in_quote = 0u64;
    let mut after_struct = 1u64;
    let mut after_close = 0u64;
    let mut after_cr = 0u64;
    let mut padded;
    loop {
        let left = buf.len() - block_at;
        if left == 0 {
            // The end of the data: a last record without a line end.
            if rec_start < buf.len() {
                if in_quote != 0 {
                    return Quick::Anomaly {
                        start: rec_start,
                        lines: rec_lines,
                    };
                }
                let end = trim_cr(buf, rec_start, buf.len());
                if end > rec_start {
                    let span = quick_span(
                        rec_start,
                        end,
                        rec_lines,
                        delims,
                        benefit_at,
                        benefit_start,
                        benefit_end,
                    );
                    let _ = each(Found::Quick(span));
                }
            }
            return Quick::Done(Stop {
                end: buf.len(),
                lines,
            });
        }
        let block: &[u8; 64] = if left >= 64 {
            buf[block_at..block_at + 64].try_into().expect("64 bytes")
        } else {
            padded = [0; 64];
            padded[..left].copy_from_slice(&buf[block_at..]);
            &padded
        };
        let m = classify(block, layout.delimiter);
        let inside = prefix_xor(m.quote) ^ in_quote;
        let lf = m.lf & !inside;
        let delim = m.delim & !inside;
        let cr = m.cr & !inside;
        let opens = m.quote & inside;
        let closes = m.quote & !inside;
        let prev_struct = ((delim | lf | cr) << 1) | after_struct;
        let prev_close = (closes << 1) | after_close;
        let prev_cr = (cr << 1) | after_cr;
        let bad = (opens & !(prev_struct | prev_close))
            | (prev_close & !(m.delim | m.lf | m.cr | m.quote))
            | (prev_cr & !m.lf);
        let bad = if left < 64 {
            bad & below(left as u32)
        } else {
            bad
        };
        let next_lf = u64::from(buf.get(block_at + 64) == Some(&b'\n'));
        let line_ends = m.lf | (m.cr & !((m.lf >> 1) | (next_lf << 63)));

        let first_bad = if bad != 0 { bad.trailing_zeros() } else { 64 };
        let mut ends = lf & below(first_bad);
        let mut delim_left = delim;
        loop {
            let seg_end = if ends != 0 {
                ends.trailing_zeros()
            } else {
                first_bad
            };
            let seg = delim_left & below(seg_end);
            let count = seg.count_ones();
            if let Some(b) = benefit_at {
                if benefit_start.is_none() && delims < b && delims + count >= b {
                    benefit_start = Some(block_at + nth_bit(seg, b - 1 - delims) as usize + 1);
                }
                if benefit_end.is_none() && delims <= b && delims + count > b {
                    benefit_end = Some(block_at + nth_bit(seg, b - delims) as usize);
                }
            }
            delims += count;
            if ends == 0 {
                break;
            }
            // A record ends at this line end.
            let at = block_at + seg_end as usize;
            let next_lines = lines + u64::from((line_ends & below(seg_end + 1)).count_ones());
            let end = trim_cr(buf, rec_start, at);
            if end > rec_start {
                let span = quick_span(
                    rec_start,
                    end,
                    rec_lines,
                    delims,
                    benefit_at,
                    benefit_start,
                    benefit_end,
                );
                if each(Found::Quick(span)).is_break() {
                    return Quick::Done(Stop {
                        end: at + 1,
                        lines: next_lines,
                    });
                }
            }
            rec_start = at + 1;
            rec_lines = next_lines;
            delims = 0;
            benefit_start = match benefit_at {
                Some(0) => Some(rec_start),
                _ => None,
            };
            benefit_end = None;
            delim_left &= !below(seg_end + 1);
            ends &= ends - 1;
            if rec_start >= limit {
                return Quick::Done(Stop {
                    end: rec_start,
                    lines: rec_lines,
                });
            }
        }
        if first_bad < 64 {
            return Quick::Anomaly {
                start: rec_start,
                lines: rec_lines,
            };
        }
        in_quote = 0u64.wrapping_sub(inside >> 63);
        after_struct = (delim | lf | cr) >> 63;
        after_close = closes >> 63;
        after_cr = cr >> 63;
        lines += u64::from(line_ends.count_ones());
        block_at += 64.min(left);
    }
}

/// The end of a record's content: before the line end, and before a `\r` of a CRLF.
#[inline(always)]
fn trim_cr(buf: &[u8], start: usize, end: usize) -> usize {
    if end > start && buf[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

#[inline(always)]
fn quick_span(
    start: usize,
    end: usize,
    lines_before: u64,
    delims: u32,
    benefit_at: Option<u32>,
    benefit_start: Option<usize>,
    benefit_end: Option<usize>,
) -> Span {
    let fields = delims as usize + 1;
    let benefit = match (benefit_at, benefit_start) {
        (Some(b), Some(s)) if (b as usize) < fields => Some((s, benefit_end.unwrap_or(end))),
        _ => None,
    };
    Span {
        start,
        end,
        lines_before,
        fields,
        benefit,
    }
}

/// Where to cut `buf[from..]` into pieces of about `size` bytes for reading in parallel: each cut
/// is just after a line end where the next records look whole (`width` fields each, nothing
/// the quick scan doubts). A look can be fooled by a quoted field that holds whole lines; the
/// reader then finds the piece before does not end at the cut, and reads on from where it does.
pub fn split(
    buf: &[u8],
    from: usize,
    size: usize,
    layout: Layout,
    width: usize,
    parser: &mut RecordParser,
) -> Vec<usize> {
    let size = size.max(1);
    let mut starts = vec![from];
    let mut near = from.saturating_add(size);
    while near < buf.len() {
        match record_start_near(buf, near, layout, width, parser) {
            Some(at) => {
                starts.push(at);
                near = at.saturating_add(size);
            }
            None => break,
        }
    }
    starts
}

/// The first position after a line end at or after `near` where the next records look whole.
fn record_start_near(
    buf: &[u8],
    near: usize,
    layout: Layout,
    width: usize,
    parser: &mut RecordParser,
) -> Option<usize> {
    const TRIES: usize = 64;
    const RECORDS: usize = 4;
    let mut at = near;
    for _ in 0..TRIES {
        let candidate = at + buf[at..].iter().position(|&b| b == b'\n')? + 1;
        if candidate >= buf.len() {
            return None;
        }
        let (mut seen, mut whole) = (0, true);
        scan(buf, candidate, buf.len(), layout, parser, |found| {
            seen += 1;
            whole &= matches!(found, Found::Quick(span) if span.fields == width);
            if whole && seen < RECORDS {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        });
        if whole {
            return Some(candidate);
        }
        at = candidate;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    if let Some((a, b)) = span.benefit.filter(|&(a, _)| data.get(a) != Some(&b'"'))
                    {
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
        let cuts = split(&data, 4, 50, layout, 2, &mut parser);
        assert!(cuts.len() > 10);
        for &cut in &cuts[1..] {
            assert!(data[..cut].ends_with(b"\"\n"), "cut at {cut}");
        }
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
}
