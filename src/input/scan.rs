//! The quick record scanner for file inputs (SPEC §3.2, §3.3): finds where each record of a byte
//! range starts and ends, on which physical line, how many fields it has and where its `benefit`
//! field lies — without copying or allocating — so that a row of another benefit costs only a
//! look at that one field. Everything else (a bonus-related row, a reject, a quoted `benefit`) is
//! read in full by [`RecordParser`], which is the csv crate's own parser (`csv_core`).
//!
//! The scan classifies 64 bytes at a time into bit masks of quotes, delimiters and line ends (on
//! x86-64 with AVX-512BW, AVX2 or SSE2, whichever the processor has: [`Kernel`]), and finds the
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

/// The instruction set the scan runs on, picked once per scan from what the processor has
/// ([`Kernel::best`]). Each reads the same masks from the same bytes; they differ in speed only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    /// One byte at a time: the reference, and the kernel off x86-64.
    Portable,
    /// 16 bytes at a time: every x86-64 processor.
    #[cfg(target_arch = "x86_64")]
    Sse2,
    /// 32 bytes at a time, with POPCNT, BMI1/2 (PDEP finds the k-th delimiter) and PCLMULQDQ
    /// (the quote parity in one carry-less multiply).
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// 64 bytes at a time straight into bit masks (AVX-512BW), with the same scalar helpers.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Kernel {
    /// Every kernel, the reference first and the fastest last.
    const ALL: &[Kernel] = &[
        Kernel::Portable,
        #[cfg(target_arch = "x86_64")]
        Kernel::Sse2,
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2,
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512,
    ];

    /// Whether this processor has every feature the kernel is compiled with.
    fn runs(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            let scalar = || {
                is_x86_feature_detected!("popcnt")
                    && is_x86_feature_detected!("bmi1")
                    && is_x86_feature_detected!("bmi2")
                    && is_x86_feature_detected!("pclmulqdq")
                    && is_x86_feature_detected!("avx2")
            };
            match self {
                Kernel::Portable | Kernel::Sse2 => true,
                Kernel::Avx2 => scalar(),
                Kernel::Avx512 => scalar() && is_x86_feature_detected!("avx512bw"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        true
    }

    /// The fastest kernel this processor runs.
    fn best() -> Kernel {
        let runs = Kernel::ALL.iter().rev().find(|kernel| kernel.runs());
        *runs.unwrap_or(&Kernel::Portable)
    }

    /// Every kernel this processor runs, the reference first.
    #[cfg(test)]
    fn available() -> Vec<Kernel> {
        Kernel::ALL
            .iter()
            .copied()
            .filter(|kernel| kernel.runs())
            .collect()
    }
}

/// What the quick scan needs from an instruction set; each method is inlined into the scan loop
/// compiled for that instruction set.
trait Simd {
    /// The masks of `block`.
    fn classify(block: &[u8; 64], delimiter: u8) -> Masks;

    /// Bit i is the parity of the set bits 0..=i of `x`.
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

    /// The position of the `k`-th (0-based) set bit of `x`, or 64 when it has no more than `k`.
    #[inline(always)]
    fn select(mut x: u64, k: u32) -> u32 {
        if k >= x.count_ones() {
            return 64;
        }
        for _ in 0..k {
            x &= x - 1;
        }
        x.trailing_zeros()
    }
}

struct Portable;

impl Simd for Portable {
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
}

#[cfg(target_arch = "x86_64")]
struct Sse2;

#[cfg(target_arch = "x86_64")]
impl Simd for Sse2 {
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
                let bits =
                    |c| u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) as u16) << (16 * i);
                m.quote |= bits(q);
                m.delim |= bits(d);
                m.lf |= bits(n);
                m.cr |= bits(r);
            }
            m
        }
    }
}

/// The quote parity in one carry-less multiply by all ones: a helper of the AVX2 and AVX-512
/// kernels, inlined only into [`quick_avx2`] and [`quick_avx512`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn clmul_prefix_xor(x: u64) -> u64 {
    use std::arch::x86_64::*;
    // SAFETY: inlined only into functions compiled with PCLMULQDQ, which [`quick`] calls only
    // after `Kernel::best` saw it; the operands are registers.
    unsafe {
        let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
        _mm_cvtsi128_si64(product) as u64
    }
}

/// The `k`-th set bit of `x` by PDEP: a helper like [`clmul_prefix_xor`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn pdep_select(x: u64, k: u32) -> u32 {
    // SAFETY: as for `clmul_prefix_xor`, with BMI2.
    let bit = unsafe { std::arch::x86_64::_pdep_u64(1u64.checked_shl(k).unwrap_or(0), x) };
    bit.trailing_zeros()
}

#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx2 {
    #[inline(always)]
    fn classify(block: &[u8; 64], delimiter: u8) -> Masks {
        use std::arch::x86_64::*;
        // SAFETY: inlined only into `quick_avx2`, compiled with AVX2 and called only when the
        // processor has it; the loads read the 64 bytes of `block`.
        unsafe {
            let lo = _mm256_loadu_si256(block.as_ptr() as *const __m256i);
            let hi = _mm256_loadu_si256(block.as_ptr().add(32) as *const __m256i);
            let bits = |c: u8| {
                let c = _mm256_set1_epi8(c as i8);
                let lo = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, c)) as u32;
                let hi = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, c)) as u32;
                u64::from(lo) | (u64::from(hi) << 32)
            };
            Masks {
                quote: bits(b'"'),
                delim: bits(delimiter),
                lf: bits(b'\n'),
                cr: bits(b'\r'),
            }
        }
    }

    #[inline(always)]
    fn prefix_xor(x: u64) -> u64 {
        clmul_prefix_xor(x)
    }

    #[inline(always)]
    fn select(x: u64, k: u32) -> u32 {
        pdep_select(x, k)
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx512 {
    #[inline(always)]
    fn classify(block: &[u8; 64], delimiter: u8) -> Masks {
        use std::arch::x86_64::*;
        // SAFETY: inlined only into `quick_avx512`, compiled with AVX-512BW and called only when
        // the processor has it; the load reads the 64 bytes of `block`.
        unsafe {
            let v = _mm512_loadu_si512(block.as_ptr() as *const __m512i);
            let bits = |c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
            Masks {
                quote: bits(b'"'),
                delim: bits(delimiter),
                lf: bits(b'\n'),
                cr: bits(b'\r'),
            }
        }
    }

    #[inline(always)]
    fn prefix_xor(x: u64) -> u64 {
        clmul_prefix_xor(x)
    }

    #[inline(always)]
    fn select(x: u64, k: u32) -> u32 {
        pdep_select(x, k)
    }
}

/// The bits below position `n` (`n` ≤ 64).
#[inline(always)]
fn below(n: u32) -> u64 {
    if n >= 64 { !0 } else { (1u64 << n) - 1 }
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
    mut each: impl FnMut(Found<'_>) -> ControlFlow<()>,
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
    each: &mut impl FnMut(Found<'_>) -> ControlFlow<()>,
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
    each: &mut impl FnMut(Found<'_>) -> ControlFlow<()>,
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
    each: &mut impl FnMut(Found<'_>) -> ControlFlow<()>,
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
    each: &mut impl FnMut(Found<'_>) -> ControlFlow<()>,
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
        prefetch(buf, block_at + PREFETCH);
        let m = K::classify(block, layout.delimiter);
        let inside = K::prefix_xor(m.quote) ^ in_quote;
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
    use proptest::prelude::*;

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

    /// The fields of a record csv_core read.
    type Fields = Vec<Vec<u8>>;

    /// What a scan on `kernel` finds, everything of it, and where it stops: the records of
    /// `data[from..limit]`, the scan stopped after `most` records.
    fn found_on(
        kernel: Kernel,
        data: &[u8],
        (from, limit): (usize, usize),
        layout: Layout,
        most: usize,
    ) -> (Vec<(Span, Option<Fields>)>, Stop) {
        let mut parser = RecordParser::new(layout.delimiter);
        let mut out = Vec::new();
        let stop = scan_with(kernel, data, from, limit, layout, &mut parser, |found| {
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
        });
        (out, stop)
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

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

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
            let len = data.len();
            let cut = cut.index(len + 1);
            let reference = |range, most| found_on(Kernel::Portable, &data, range, layout, most);
            let whole = reference((0, len), usize::MAX);
            let first = reference((0, cut), usize::MAX);
            let second = reference((first.1.end.min(len), len), usize::MAX);
            let early = reference((0, len), most);
            for kernel in Kernel::available() {
                let on = |range, most| found_on(kernel, &data, range, layout, most);
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
        }
    }
}
