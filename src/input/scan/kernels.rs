//! The instruction sets the quick scan runs on ([`Kernel`]): each turns a 64-byte block into the
//! bit masks of its quotes, delimiters and line ends ([`Masks`]), with the bit tricks the scan
//! needs (the quote parity, the k-th delimiter). They differ in speed only; the property test of
//! the scan holds every one to the portable reference.

/// The masks of one 64-byte block: quotes, delimiters, `\n`, `\r`.
#[derive(Clone, Copy)]
pub(super) struct Masks {
    pub(super) quote: u64,
    pub(super) delim: u64,
    pub(super) lf: u64,
    pub(super) cr: u64,
}

impl Masks {
    /// The masks, each from `bits(byte)`: the positions of that byte in the block.
    #[inline(always)]
    fn of(delimiter: u8, bits: impl Fn(u8) -> u64) -> Masks {
        Masks {
            quote: bits(b'"'),
            delim: bits(delimiter),
            lf: bits(b'\n'),
            cr: bits(b'\r'),
        }
    }
}

/// The instruction set the scan runs on, picked once per scan from what the processor has
/// ([`Kernel::best`]). Each reads the same masks from the same bytes; they differ in speed only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kernel {
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
    pub(super) const ALL: &[Kernel] = &[
        Kernel::Portable,
        #[cfg(target_arch = "x86_64")]
        Kernel::Sse2,
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2,
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512,
    ];

    /// Whether this processor has every feature the kernel is compiled with.
    pub(super) fn runs(self) -> bool {
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
    pub(super) fn best() -> Kernel {
        let runs = Kernel::ALL.iter().rev().find(|kernel| kernel.runs());
        *runs.unwrap_or(&Kernel::Portable)
    }

    /// Every kernel this processor runs, the reference first.
    #[cfg(test)]
    pub(super) fn available() -> Vec<Kernel> {
        Kernel::ALL
            .iter()
            .copied()
            .filter(|kernel| kernel.runs())
            .collect()
    }
}

/// What the quick scan needs from an instruction set; each method is inlined into the scan loop
/// compiled for that instruction set.
pub(super) trait Simd {
    /// The masks of `block`.
    fn classify(block: &[u8; 64], delimiter: u8) -> Masks;

    /// Compiled with PCLMULQDQ and BMI2 (`prefix_xor` and `select` then take one instruction).
    const BIT_INSTRUCTIONS: bool = false;

    /// Bit i is the parity of the set bits 0..=i of `x`.
    #[inline(always)]
    fn prefix_xor(mut x: u64) -> u64 {
        #[cfg(target_arch = "x86_64")]
        if Self::BIT_INSTRUCTIONS {
            return clmul_prefix_xor(x);
        }
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
        #[cfg(target_arch = "x86_64")]
        if Self::BIT_INSTRUCTIONS {
            return pdep_select(x, k);
        }
        if k >= x.count_ones() {
            return 64;
        }
        for _ in 0..k {
            x &= x - 1;
        }
        x.trailing_zeros()
    }
}

pub(super) struct Portable;

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
pub(super) struct Sse2;

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
pub(super) struct Avx2;

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
            Masks::of(delimiter, bits)
        }
    }

    const BIT_INSTRUCTIONS: bool = true;
}

#[cfg(target_arch = "x86_64")]
pub(super) struct Avx512;

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
            Masks::of(delimiter, bits)
        }
    }

    const BIT_INSTRUCTIONS: bool = true;
}

/// The bits below position `n` (`n` ≤ 64).
#[inline(always)]
pub(super) fn below(n: u32) -> u64 {
    if n >= 64 { !0 } else { (1u64 << n) - 1 }
}
