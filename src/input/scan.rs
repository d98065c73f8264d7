//! The quick record scanner for file inputs (SPEC §3.2, §3.3): finds where each record of a byte
//! range starts and ends, on which physical line, how many fields it has and where its `benefit`
//! field lies — without copying or allocating — so that a row of another benefit costs only a
//! look at that one field. Everything else (a bonus-related row, a reject) is read in full by
//! the caller, or by [`RecordParser`], which is the csv crate's own parser (`csv_core`).
//!
//! The scan classifies 64 bytes at a time into bit masks of quotes, delimiters and line ends (on
//! x86-64 with AVX-512BW, AVX2 or SSE2, whichever the processor has: `scan::kernels::Kernel`), and finds the
//! bytes inside quoted fields by a running parity of the quotes. That parity is exactly how
//! `csv_core` reads a file as long as every quote stands where RFC 4180 puts it: opening a field,
//! closing one before a delimiter or a line end, or doubled inside one. Three things break the
//! equivalence, and each is detected in the same masks: a quote that opens in the middle of a field
//! (`5" skærm`), a closing quote followed by more text (`"a"b`), and a lone `\r` (which `csv_core`
//! takes as a line end). A record holding one of them is handed to `csv_core` from its first byte,
//! which reads it exactly; the scan resumes after it. So the records found are the records the csv
//! crate finds, always.
//!
//! It reads 8 KiB at a time: first the masks of every block, then the records that end there,
//! each from the masks (its field count from the delimiters before its start and its end, its
//! `benefit` field by the numbers of its delimiters), with no branch on how many records a block
//! ends.
//!
//! Lines: a record's line is one more than the line ends before its first byte (`\n`, `\r\n` and
//! a lone `\r` each count once), blank lines skipped as the csv crate skips them; inside quoted
//! fields `\r\n` and a lone `\r` read as `\n`, as the streaming reader reads them
//! ([`crate::input::records::LineEnds`]).

use std::ops::ControlFlow;

use csv::ByteRecord;

mod cuts;
mod kernels;
mod parser;
#[cfg(test)]
mod reference;
mod split;
#[cfg(test)]
mod tests;

pub use cuts::{between_persons, split_by};
use kernels::*;
pub use parser::{RecordParser, count_line_ends};
pub use split::SplitRow;

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

/// What the scan calls with each record it finds, in input order; it may stop the scan early.
/// Any `FnMut(Found) -> ControlFlow<()>` is one. A caller whose common case is a few
/// instructions implements it itself with `#[inline(always)]`: the call is then part of the
/// scan's loop, where a closure's body is left to the compiler, which keeps a large one apart.
pub trait Each {
    fn found(&mut self, found: Found<'_>) -> ControlFlow<()>;
}

impl<F: FnMut(Found<'_>) -> ControlFlow<()>> Each for F {
    #[inline(always)]
    fn found(&mut self, found: Found<'_>) -> ControlFlow<()> {
        self(found)
    }
}

/// A `benefit` field's word as the csv crate reads it, where that is bytes of the field as
/// they stand: the whole field, or what is between its quotes when none stands between them
/// (exports that quote every field are common). A doubled quote inside gives none: the row is
/// read in full. (The quick scan hands over only fields quoted as RFC 4180 has it.)
#[inline(always)]
pub fn plain_word(field: &[u8]) -> Option<&[u8]> {
    match field {
        [b'"', inner @ .., b'"'] if !inner.contains(&b'"') => Some(inner),
        [b'"', ..] => None,
        _ => Some(field),
    }
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

/// Scans the records of `buf` that start at or after `from` and before `limit`: `from` must be
/// the start of a record (or of blank lines before one). The last record may run past `limit`;
/// it is read to its end. `each` sees every record in order and may stop the scan early.
pub fn scan(
    buf: &[u8],
    from: usize,
    limit: usize,
    layout: Layout,
    parser: &mut RecordParser,
    each: impl FnMut(Found<'_>) -> ControlFlow<()>,
) -> Stop {
    scan_each(buf, from, limit, layout, parser, each)
}

/// [`scan`], calling an [`Each`] of the caller's own.
pub fn scan_each(
    buf: &[u8],
    from: usize,
    limit: usize,
    layout: Layout,
    parser: &mut RecordParser,
    each: impl Each,
) -> Stop {
    scan_with(Kernel::best(), buf, from, limit, layout, parser, each)
}

/// [`scan`] on `kernel`.
fn scan_with<E: Each>(
    kernel: Kernel,
    buf: &[u8],
    from: usize,
    limit: usize,
    layout: Layout,
    parser: &mut RecordParser,
    each: E,
) -> Stop {
    let quick = |buf: &[u8], at, limit, lines, layout, each: &mut E| {
        quick(kernel, buf, at, limit, lines, layout, each)
    };
    scan_by(buf, from, limit, layout, parser, each, quick)
}

/// [`scan`], with `quick` for the quick scan from a record's start to its end, its limit or
/// an anomaly.
fn scan_by<E: Each>(
    buf: &[u8],
    from: usize,
    limit: usize,
    layout: Layout,
    parser: &mut RecordParser,
    mut each: E,
    quick: impl Fn(&[u8], usize, usize, u64, Layout, &mut E) -> Quick,
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
        let flow = each.found(Found::Parsed(span, &parser.record));
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

/// The quick scan from `from` (after `lines` line ends), until `limit`, the end, or an anomaly,
/// on `kernel`.
#[inline(always)]
fn quick(
    kernel: Kernel,
    buf: &[u8],
    from: usize,
    limit: usize,
    lines: u64,
    layout: Layout,
    each: &mut impl Each,
) -> Quick {
    match kernel {
        Kernel::Portable => quick_with::<Portable>(buf, from, limit, lines, layout, each),
        #[cfg(target_arch = "x86_64")]
        Kernel::Sse2 => quick_with::<Sse2>(buf, from, limit, lines, layout, each),
        // SAFETY: `scan` runs only the kernels `Kernel::runs` says this processor has every
        // feature of (`Kernel::best`; the tests' `Kernel::available`).
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => unsafe { quick_avx2(buf, from, limit, lines, layout, each) },
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => unsafe { quick_avx512(buf, from, limit, lines, layout, each) },
    }
}

/// [`quick_with`] compiled for AVX2, POPCNT, BMI1/2 and PCLMULQDQ.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt,bmi1,bmi2,pclmulqdq")]
fn quick_avx2(
    buf: &[u8],
    from: usize,
    limit: usize,
    lines: u64,
    layout: Layout,
    each: &mut impl Each,
) -> Quick {
    quick_with::<Avx2>(buf, from, limit, lines, layout, each)
}

/// [`quick_with`] compiled for AVX-512BW and the same scalar features.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw,avx2,popcnt,bmi1,bmi2,pclmulqdq")]
fn quick_avx512(
    buf: &[u8],
    from: usize,
    limit: usize,
    lines: u64,
    layout: Layout,
    each: &mut impl Each,
) -> Quick {
    quick_with::<Avx512>(buf, from, limit, lines, layout, each)
}

/// How far ahead of the block it reads the scan asks for the bytes. The hardware prefetcher
/// alone left the scan waiting on memory for about half its time on a large mapped file (the
/// per-block work spaces the loads out); 1.5-2 KiB ahead measured best, 256 B about half as good.
const PREFETCH: usize = 2048;

/// Asks the processor to bring the cache line of `buf[at]` in, if there is one.
#[inline(always)]
fn prefetch(buf: &[u8], at: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing into the program and never faults, also
    // past the end of `buf` (the address is only computed, with wrapping arithmetic).
    unsafe {
        use std::arch::x86_64::*;
        _mm_prefetch::<_MM_HINT_T0>(buf.as_ptr().wrapping_add(at) as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (buf, at);
}

/// No position: a `benefit` field bound not seen yet.
const NONE: usize = usize::MAX;

/// Blocks a window of the quick scan holds (8 KiB): their masks are found first, then the
/// records that end in them are handed on.
const WINDOW: usize = 128;

/// The blocks of one window, classified: for each, its delimiters and line ends outside
/// quotes as masks, and how many of each stand in the window before it; and where the records
/// that end in the window end.
struct Window {
    /// Delimiters outside quotes; the entry after the last block is empty.
    delims: [u64; WINDOW + 1],
    /// Line ends, as lines are counted (`\n`, `\r\n` once, a lone `\r`; inside quotes too).
    line_ends: [u64; WINDOW + 1],
    /// Delimiters and line ends in the window before each block.
    delims_before: [u16; WINDOW + 1],
    lines_before: [u16; WINDOW + 1],
    /// The `\n` that end records, from the window's first byte.
    ends: [u16; WINDOW * 64 + 2],
}

/// Where a window starts: its first byte, and the delimiters and line ends before it. The
/// delimiters are numbered from the scan's start, so that a record's `k`-th is delimiter
/// `first + k` (see [`Open`]) in whichever window it stands.
#[derive(Clone, Copy)]
struct Counted {
    delims: u64,
    lines: u64,
    at: usize,
}

impl Window {
    /// Delimiters before `p` (in the window, or at its end `blocks * 64`).
    #[inline(always)]
    fn delims_to(&self, base: Counted, p: usize) -> u64 {
        let (k, bit) = (p / 64, p % 64);
        let below = (1u64 << bit) - 1;
        base.delims
            + u64::from(self.delims_before[k])
            + u64::from((self.delims[k] & below).count_ones())
    }

    /// Line ends up to and with `p`.
    #[inline(always)]
    fn lines_through(&self, base: Counted, p: usize) -> u64 {
        let (k, bit) = (p / 64, p % 64);
        let through = (2u64 << bit).wrapping_sub(1);
        base.lines
            + u64::from(self.lines_before[k])
            + u64::from((self.line_ends[k] & through).count_ones())
    }

    /// Where delimiter `g` stands (numbered as [`Counted`] numbers them), searching from the
    /// block of `from` (the window's first when `from` is before it); it must stand in the window
    /// at or after that block. A record's `benefit` bounds are in its first block or the next
    /// nearly always: which of the two is chosen without a branch, as the choice is a toss-up.
    #[inline(always)]
    fn delimiter<K: Simd>(&self, base: Counted, from: usize, g: u64) -> usize {
        let mut k = from.saturating_sub(base.at) / 64;
        let mut nth = (g - base.delims - u64::from(self.delims_before[k])) as u32;
        let here = self.delims[k].count_ones();
        let next = nth >= here;
        nth -= if next { here } else { 0 };
        k += usize::from(next);
        while nth >= self.delims[k].count_ones() {
            nth -= self.delims[k].count_ones();
            k += 1;
        }
        base.at + 64 * k + K::select(self.delims[k], nth) as usize
    }

    /// Classifies the blocks of the window that starts at `at`: up to [`WINDOW`], an anomaly, or
    /// the end of the data.
    #[inline(always)]
    fn classify<K: Simd>(
        &mut self,
        buf: &[u8],
        at: usize,
        delimiter: u8,
        carry: &mut Carry,
    ) -> Classified {
        let mut padded;
        let (mut blocks, mut ends, mut anomaly, mut at_end) = (0, 0, false, false);
        let (mut delims, mut line_count) = (0u16, 0u16);
        while blocks < WINDOW {
            let block_at = at + 64 * blocks;
            let left = buf.len() - block_at;
            if left == 0 {
                at_end = true;
                break;
            }
            // Padding is no delimiter, whatever the delimiter is.
            let (block, valid): (&[u8; 64], u64) = if left >= 64 {
                let block = buf[block_at..block_at + 64].try_into().expect("64 bytes");
                (block, !0)
            } else {
                padded = [0; 64];
                padded[..left].copy_from_slice(&buf[block_at..]);
                (&padded, below(left as u32))
            };
            prefetch(buf, block_at + PREFETCH);
            let m = K::classify(block, delimiter);
            // Every block is checked: which blocks hold a quote or a `\r` is a toss-up in an
            // export with quoted texts, and a branch on it missed more often than the check
            // costs.
            let inside = K::prefix_xor(m.quote) ^ carry.in_quote;
            let lf = m.lf & !inside;
            let delim = m.delim & !inside;
            let cr = m.cr & !inside;
            let opens = m.quote & inside;
            let closes = m.quote & !inside;
            let prev_struct = ((delim | lf | cr) << 1) | carry.after_struct;
            let prev_close = (closes << 1) | carry.after_close;
            let prev_cr = (cr << 1) | carry.after_cr;
            let found = (opens & !(prev_struct | prev_close))
                | (prev_close & !(m.delim | m.lf | m.cr | m.quote))
                | (prev_cr & !m.lf);
            let bad = found & valid;
            let next_lf = u64::from(buf.get(block_at + 64) == Some(&b'\n'));
            let line_ends = m.lf | (m.cr & !((m.lf >> 1) | (next_lf << 63)));
            let delim = delim & valid;
            self.delims[blocks] = delim;
            self.line_ends[blocks] = line_ends;
            self.delims_before[blocks] = delims;
            self.lines_before[blocks] = line_count;
            // The records that end before the first anomaly (all when there is none): where
            // they end, two written whether there are or not (a block holds one or two records'
            // ends nearly always, and a branch on how many missed every other time).
            let mut record_ends = lf & !bad & bad.wrapping_sub(1);
            let count = record_ends.count_ones() as usize;
            let from_window = (64 * blocks) as u16;
            self.ends[ends] = from_window + record_ends.trailing_zeros() as u16;
            record_ends &= record_ends.wrapping_sub(1);
            self.ends[ends + 1] = from_window + record_ends.trailing_zeros() as u16;
            record_ends &= record_ends.wrapping_sub(1);
            for more in 2..count {
                self.ends[ends + more] = from_window + record_ends.trailing_zeros() as u16;
                record_ends &= record_ends - 1;
            }
            ends += count;
            blocks += 1;
            delims += delim.count_ones() as u16;
            line_count += line_ends.count_ones() as u16;
            if bad != 0 {
                anomaly = true;
                break;
            }
            carry.in_quote = 0u64.wrapping_sub(inside >> 63);
            carry.after_struct = (delim | lf | cr) >> 63;
            carry.after_close = closes >> 63;
            carry.after_cr = cr >> 63;
            if left < 64 {
                at_end = true;
                break;
            }
        }
        self.delims[blocks] = 0;
        self.line_ends[blocks] = 0;
        self.delims_before[blocks] = delims;
        self.lines_before[blocks] = line_count;
        Classified {
            blocks,
            ends,
            delims,
            lines: line_count,
            anomaly,
            at_end,
        }
    }
}

/// What [`Window::classify`] found: its blocks and the records that end in them, the
/// delimiters and line ends in them, and whether it stopped at an anomaly or the data's end.
struct Classified {
    blocks: usize,
    ends: usize,
    delims: u16,
    lines: u16,
    anomaly: bool,
    at_end: bool,
}

/// What the quick scan carries from one block to the next: inside quotes (all ones), last byte
/// structural (or a record start), last byte a closing quote, last byte an unquoted `\r`.
struct Carry {
    in_quote: u64,
    after_struct: u64,
    after_close: u64,
    after_cr: u64,
}

/// The record being read: where it starts, the line ends before it, its delimiters' first
/// number, and its `benefit` bounds once found (in a window before the one it ends in).
#[derive(Clone, Copy)]
struct Open {
    start: usize,
    lines: u64,
    first: u64,
    bounds: [usize; 2],
}

/// The quick scan itself, for the instruction set `K`. Window by window: every block of a
/// window is classified first (the quote parity, the anomalies, and the masks kept), then the
/// records that end in it are handed on, each found from the masks without a branch per block:
/// its field count from the delimiters before its start and its end, its `benefit` bounds by
/// their numbers. (Handing each record on as its block was classified, the scan had spent
/// more time deciding than reading.)
#[inline(always)]
fn quick_with<K: Simd>(
    buf: &[u8],
    from: usize,
    limit: usize,
    lines: u64,
    layout: Layout,
    each: &mut impl Each,
) -> Quick {
    let bounds = benefit_bounds(layout);
    let mut w = Window {
        delims: [0; WINDOW + 1],
        line_ends: [0; WINDOW + 1],
        delims_before: [0; WINDOW + 1],
        lines_before: [0; WINDOW + 1],
        ends: [0; WINDOW * 64 + 2],
    };
    let mut base = Counted {
        delims: 0,
        lines,
        at: from,
    };
    let mut open = Open {
        start: from,
        lines,
        first: 0,
        bounds: [NONE; 2],
    };
    let mut carry = Carry {
        in_quote: 0,
        after_struct: 1,
        after_close: 0,
        after_cr: 0,
    };
    loop {
        // The window's blocks, up to an anomaly or the end of the data.
        let Classified {
            blocks,
            ends,
            delims,
            lines: line_count,
            anomaly,
            at_end,
        } = w.classify::<K>(buf, base.at, layout.delimiter, &mut carry);

        // The records that end in the window, in order.
        for &e in &w.ends[..ends] {
            let e = usize::from(e);
            let at = base.at + e;
            let count = w.delims_to(base, e) - open.first;
            let next_lines = w.lines_through(base, e);
            let end = trim_cr(buf, open.start, at);
            if end > open.start {
                let span = record_span::<K>(&w, base, &open, (end, count), layout);
                if each.found(Found::Quick(span)).is_break() {
                    return Quick::Done(Stop {
                        end: at + 1,
                        lines: next_lines,
                    });
                }
            }
            open = Open {
                start: at + 1,
                lines: next_lines,
                // The line end is no delimiter.
                first: open.first + count,
                bounds: [NONE; 2],
            };
            if open.start >= limit {
                return Quick::Done(Stop {
                    end: open.start,
                    lines: open.lines,
                });
            }
        }
        if anomaly {
            return Quick::Anomaly {
                start: open.start,
                lines: open.lines,
            };
        }
        let window_end = 64 * blocks;
        if at_end {
            let total_lines = base.lines + u64::from(line_count);
            // The end of the data: a last record without a line end.
            if open.start < buf.len() {
                if carry.in_quote != 0 {
                    return Quick::Anomaly {
                        start: open.start,
                        lines: open.lines,
                    };
                }
                let end = trim_cr(buf, open.start, buf.len());
                if end > open.start {
                    let count = w.delims_to(base, buf.len() - base.at) - open.first;
                    let span = record_span::<K>(&w, base, &open, (end, count), layout);
                    let _ = each.found(Found::Quick(span));
                }
            }
            return Quick::Done(Stop {
                end: buf.len(),
                lines: total_lines,
            });
        }
        // The record that goes on in the next window: its `benefit` bounds found in this one
        // are kept, as its later blocks' masks take the place of these.
        let seen = base.delims + u64::from(delims);
        for (kept, &k) in open.bounds.iter_mut().zip(&bounds) {
            let g = open.first.wrapping_add(k);
            if *kept == NONE && k != u64::MAX && g >= base.delims.max(open.first) && g < seen {
                *kept = w.delimiter::<K>(base, open.start, g);
            }
        }
        base = Counted {
            delims: seen,
            lines: base.lines + u64::from(line_count),
            at: base.at + window_end,
        };
    }
}

/// The delimiters of its record the `benefit` field stands between: it starts after delimiter
/// `benefit - 1` (0-based; none, `u64::MAX`, when it is the first field) and ends at delimiter
/// `benefit`.
fn benefit_bounds(layout: Layout) -> [u64; 2] {
    match layout.benefit {
        Some(b) => {
            let b = u64::try_from(b).unwrap_or(u64::MAX);
            [b.wrapping_sub(1), b]
        }
        None => [u64::MAX; 2],
    }
}

/// The span of the open record, ended at `end` (its content's end) with `count` delimiters.
#[inline(always)]
fn record_span<K: Simd>(
    w: &Window,
    base: Counted,
    open: &Open,
    (end, count): (usize, u64),
    layout: Layout,
) -> Span {
    let fields = count as usize + 1;
    let benefit = match layout.benefit {
        Some(b) if b < fields => {
            let bounds = benefit_bounds(layout);
            // Delimiter `k` of the record, found in this window or kept from one before.
            let at = |which: usize| {
                let g = open.first + bounds[which];
                if g >= base.delims {
                    w.delimiter::<K>(base, open.start, g)
                } else {
                    open.bounds[which]
                }
            };
            let start = if b == 0 { open.start } else { at(0) + 1 };
            let stop = if bounds[1] < count { at(1) } else { end };
            Some((start, stop))
        }
        _ => None,
    };
    Span {
        start: open.start,
        end,
        lines_before: open.lines,
        fields,
        benefit,
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
