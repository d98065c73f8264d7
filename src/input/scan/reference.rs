//! The quick scan as it was before it read a window of blocks at a time: block by block, each
//! record handed on as its block was classified, on the portable kernel. Kept for the tests, which
//! hold the windowed scan to it on every kernel.

use super::kernels::{Portable, Simd, below};
use super::{Each, Found, Layout, NONE, PREFETCH, Quick, Span, Stop, prefetch, trim_cr};

/// The quick scan block by block, as it was before windows (see the module comment).
pub(super) fn block_by_block<E: Each>(
    buf: &[u8],
    from: usize,
    limit: usize,
    mut lines: u64,
    layout: Layout,
    each: &mut E,
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
        let m = Portable::classify(block, layout.delimiter);
        let (inside, lf, delim, cr, closes, bad, line_ends);
        if (m.quote | m.cr | after_close | after_cr | in_quote) == 0 {
            // No quote, no `\r`, nothing carried: nothing to check, and the line ends are
            // the `\n`s.
            (inside, lf, delim, cr, closes, bad) = (0, m.lf, m.delim, 0, 0, 0);
            line_ends = m.lf;
        } else {
            inside = Portable::prefix_xor(m.quote) ^ in_quote;
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
            benefit_bounds(
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
        benefit_bounds(
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
fn benefit_bounds(
    seg: u64,
    block_at: usize,
    before: u32,
    bounds: (u32, u32),
    (start, end): (&mut usize, &mut usize),
) {
    let at = Portable::select(seg, bounds.0.wrapping_sub(before));
    if at < 64 {
        *start = block_at + at as usize + 1;
    }
    let at = Portable::select(seg, bounds.1.wrapping_sub(before));
    if at < 64 {
        *end = block_at + at as usize;
    }
}

/// A record's span as the scan hands it on.
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
