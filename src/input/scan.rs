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
//! Lines: a record's line is one more than the line ends before its first byte (`\n`, `\r\n` and
//! a lone `\r` each count once), blank lines skipped as the csv crate skips them; inside quoted
//! fields `\r\n` and a lone `\r` read as `\n`, as the streaming reader reads them
//! ([`crate::input::records::LineEnds`]).

use std::ops::ControlFlow;

use csv::ByteRecord;

mod cuts;
mod kernels;
mod parser;
mod split;
#[cfg(test)]
mod tests;

pub use cuts::split_by;
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
fn scan_with(
    kernel: Kernel,
    buf: &[u8],
    from: usize,
    limit: usize,
    layout: Layout,
    parser: &mut RecordParser,
    mut each: impl Each,
) -> Stop {
    let mut at = from;
    let mut lines = 0;
    loop {
        let (rec_start, rec_lines) = match quick(kernel, buf, at, limit, lines, layout, &mut each) {
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

/// The quick scan itself, for the instruction set `K`.
#[inline(always)]
fn quick_with<K: Simd>(
    buf: &[u8],
    from: usize,
    limit: usize,
    mut lines: u64,
    layout: Layout,
    each: &mut impl Each,
) -> Quick {
    // The `benefit` field starts after the delimiter `benefit - 1` of its record (0-based; none
    // when it is the first field) and ends at delimiter `benefit`.
    let (start_delim, end_delim, first_field) = match layout.benefit {
        Some(b) => {
            let b = u32::try_from(b).unwrap_or(u32::MAX);
            (b.wrapping_sub(1), b, b == 0)
        }
        None => (u32::MAX, u32::MAX, false),
    };
    let mut block_at = from;
    // The record being read.
    let mut rec_start = from;
    let mut rec_lines = lines;
    let mut delims = 0u32;
    let mut benefit_start = if first_field { from } else { NONE };
    let mut benefit_end = NONE;
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
                        layout.benefit,
                        benefit_start,
                        benefit_end,
                    );
                    let _ = each.found(Found::Quick(span));
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
        prefetch(buf, block_at + PREFETCH);
        let m = K::classify(block, layout.delimiter);
        let (inside, lf, delim, cr, closes, bad, line_ends);
        if (m.quote | m.cr | after_close | after_cr | in_quote) == 0 {
            // No quote, no `\r`, nothing carried: nothing to check, and the line ends are
            // the `\n`s.
            (inside, lf, delim, cr, closes, bad) = (0, m.lf, m.delim, 0, 0, 0);
            line_ends = m.lf;
        } else {
            inside = K::prefix_xor(m.quote) ^ in_quote;
            lf = m.lf & !inside;
            delim = m.delim & !inside;
            cr = m.cr & !inside;
            let opens = m.quote & inside;
            closes = m.quote & !inside;
            let prev_struct = ((delim | lf | cr) << 1) | after_struct;
            let prev_close = (closes << 1) | after_close;
            let prev_cr = (cr << 1) | after_cr;
            let found = (opens & !(prev_struct | prev_close))
                | (prev_close & !(m.delim | m.lf | m.cr | m.quote))
                | (prev_cr & !m.lf);
            bad = if left < 64 {
                found & below(left as u32)
            } else {
                found
            };
            let next_lf = u64::from(buf.get(block_at + 64) == Some(&b'\n'));
            line_ends = m.lf | (m.cr & !((m.lf >> 1) | (next_lf << 63)));
        }

        // The records that end before the first anomaly (all when there is none).
        let before_bad = !bad & bad.wrapping_sub(1);
        let mut ends = lf & before_bad;
        let mut delim_left = delim;
        while ends != 0 {
            // A record ends at the line end `at`; `through` is its bits up to that line end.
            let through = ends ^ (ends - 1);
            let at = block_at + ends.trailing_zeros() as usize;
            let seg = delim_left & through;
            benefit_bounds::<K>(
                seg,
                block_at,
                delims,
                (start_delim, end_delim),
                (&mut benefit_start, &mut benefit_end),
            );
            delims += seg.count_ones();
            let next_lines = lines + u64::from((line_ends & through).count_ones());
            let end = trim_cr(buf, rec_start, at);
            if end > rec_start {
                let span = quick_span(
                    rec_start,
                    end,
                    rec_lines,
                    delims,
                    layout.benefit,
                    benefit_start,
                    benefit_end,
                );
                if each.found(Found::Quick(span)).is_break() {
                    return Quick::Done(Stop {
                        end: at + 1,
                        lines: next_lines,
                    });
                }
            }
            rec_start = at + 1;
            rec_lines = next_lines;
            delims = 0;
            benefit_start = if first_field { rec_start } else { NONE };
            benefit_end = NONE;
            delim_left ^= seg;
            ends &= ends - 1;
            if rec_start >= limit {
                return Quick::Done(Stop {
                    end: rec_start,
                    lines: rec_lines,
                });
            }
        }
        if bad != 0 {
            return Quick::Anomaly {
                start: rec_start,
                lines: rec_lines,
            };
        }
        // The rest of the block belongs to the record that goes on in the next one.
        benefit_bounds::<K>(
            delim_left,
            block_at,
            delims,
            (start_delim, end_delim),
            (&mut benefit_start, &mut benefit_end),
        );
        delims += delim_left.count_ones();
        in_quote = 0u64.wrapping_sub(inside >> 63);
        after_struct = (delim | lf | cr) >> 63;
        after_close = closes >> 63;
        after_cr = cr >> 63;
        lines += u64::from(line_ends.count_ones());
        block_at += 64.min(left);
    }
}

/// Notes where the `benefit` field starts and ends when one of its bounding delimiters,
/// `bounds` (0-based in the record), is among `seg`, the delimiters of the record in the block at
/// `block_at` after the `before` ones in the blocks before. Each delimiter of a record is in one
/// `seg` only, so each bound is found once.
#[inline(always)]
fn benefit_bounds<K: Simd>(
    seg: u64,
    block_at: usize,
    before: u32,
    bounds: (u32, u32),
    (start, end): (&mut usize, &mut usize),
) {
    let at = K::select(seg, bounds.0.wrapping_sub(before));
    if at < 64 {
        *start = block_at + at as usize + 1;
    }
    let at = K::select(seg, bounds.1.wrapping_sub(before));
    if at < 64 {
        *end = block_at + at as usize;
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
    benefit_at: Option<usize>,
    benefit_start: usize,
    benefit_end: usize,
) -> Span {
    let fields = delims as usize + 1;
    let benefit = match benefit_at {
        Some(b) if b < fields && benefit_start != NONE => Some((
            benefit_start,
            if benefit_end != NONE {
                benefit_end
            } else {
                end
            },
        )),
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
