//! 64-byte blocks as bit masks (bit i stands for byte i) and the prefix-XOR that turns quote
//! bits into an inside-quotes mask, with AVX2, SSE2+PCLMULQDQ and portable kernels.

/// The bytes of one block equal to the delimiter, `\n`, `\r` and the quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Masks {
    pub delim: u64,
    pub nl: u64,
    pub cr: u64,
    pub quote: u64,
}

impl Masks {
    /// Only the bits of `valid` (for a zero-padded final block).
    #[inline(always)]
    pub fn and(self, valid: u64) -> Masks {
        Masks {
            delim: self.delim & valid,
            nl: self.nl & valid,
            cr: self.cr & valid,
            quote: self.quote & valid,
        }
    }
}

/// One way of classifying blocks. The methods are `unsafe` only because a kernel may need CPU
/// features: callers must have checked them (see `Impl::is_available`), memory safety is
/// guaranteed by the types.
pub(crate) trait Kernel {
    /// # Safety
    /// The CPU supports the kernel's target features.
    unsafe fn masks(block: &[u8; 64], delim: u8, quote: u8) -> Masks;

    /// Bit i of the result is the XOR of bits 0..=i of `x`.
    /// # Safety
    /// The CPU supports the kernel's target features.
    unsafe fn prefix_xor(x: u64) -> u64;
}

/// Which kernel a scan uses; `Impl::best()` is what the public functions pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// AVX2 compares with PCLMULQDQ prefix-XOR (x86_64 with avx2, pclmulqdq, popcnt, bmi1).
    Avx2,
    /// SSE2 compares with PCLMULQDQ prefix-XOR (x86_64 with pclmulqdq, popcnt).
    Sse2,
    /// u64 SWAR compares and shift-XOR prefix: any target.
    Portable,
}

impl Impl {
    /// Every kernel, fastest first.
    pub const ALL: [Impl; 3] = [Impl::Avx2, Impl::Sse2, Impl::Portable];

    /// Whether this CPU can run the kernel.
    pub fn is_available(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            let clmul = std::arch::is_x86_feature_detected!("pclmulqdq")
                && std::arch::is_x86_feature_detected!("popcnt");
            match self {
                Impl::Avx2 => {
                    clmul
                        && std::arch::is_x86_feature_detected!("avx2")
                        && std::arch::is_x86_feature_detected!("bmi1")
                }
                Impl::Sse2 => clmul,
                Impl::Portable => true,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Impl::Portable
        }
    }

    /// The fastest kernel this CPU can run (feature detection is cached by std).
    #[inline]
    pub fn best() -> Impl {
        Impl::ALL
            .into_iter()
            .find(|i| i.is_available())
            .unwrap_or(Impl::Portable)
    }
}

/// Kernel without CPU requirements: SWAR over eight u64 words.
pub(crate) struct Portable;

/// The high bit of every byte of `w` that equals the byte broadcast in `c`; exact (no
/// carries between bytes: each byte's low seven bits plus 0x7f stay below 0x100).
#[inline(always)]
fn eq_high_bits(w: u64, c: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ c;
    !(((x & LOW7) + LOW7) | x) & !LOW7
}

/// Gathers the high bits of the eight bytes (bits 7, 15, ..., 63) into bits 0..8.
#[inline(always)]
fn gather_high_bits(h: u64) -> u64 {
    // Each bit 8j moves to 56+j; no two partial products share a bit, so nothing carries.
    ((h >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

impl Kernel for Portable {
    #[inline(always)]
    unsafe fn masks(block: &[u8; 64], delim: u8, quote: u8) -> Masks {
        const ONES: u64 = 0x0101_0101_0101_0101;
        let (d, q) = (ONES * u64::from(delim), ONES * u64::from(quote));
        let mut m = Masks {
            delim: 0,
            nl: 0,
            cr: 0,
            quote: 0,
        };
        for (i, word) in block.chunks_exact(8).enumerate() {
            let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            let bits = |c| gather_high_bits(eq_high_bits(w, c)) << (8 * i);
            m.delim |= bits(d);
            m.nl |= bits(ONES * u64::from(b'\n'));
            m.cr |= bits(ONES * u64::from(b'\r'));
            m.quote |= bits(q);
        }
        m
    }

    #[inline(always)]
    unsafe fn prefix_xor(mut x: u64) -> u64 {
        for shift in [1, 2, 4, 8, 16, 32] {
            x ^= x << shift;
        }
        x
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Avx2, Sse2};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Kernel, Masks};
    use std::arch::x86_64::*;

    /// Kernel with 32-byte AVX2 compares.
    pub(crate) struct Avx2;
    /// Kernel with 16-byte SSE2 compares (SSE2 is the x86_64 baseline).
    pub(crate) struct Sse2;

    /// Carry-less multiply by all ones: bit i of the product is the XOR of bits 0..=i.
    #[target_feature(enable = "pclmulqdq")]
    #[inline]
    fn clmul_prefix_xor(x: u64) -> u64 {
        let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
        _mm_cvtsi128_si64(product) as u64
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn eq_avx2(lo: __m256i, hi: __m256i, c: u8) -> u64 {
        let c = _mm256_set1_epi8(c as i8);
        let lo = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, c)) as u32;
        let hi = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, c)) as u32;
        u64::from(lo) | u64::from(hi) << 32
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn masks_avx2(block: &[u8; 64], delim: u8, quote: u8) -> Masks {
        let p = block.as_ptr().cast::<__m256i>();
        // SAFETY: `block` holds 64 bytes, so both unaligned 32-byte loads are in bounds.
        let (lo, hi) = unsafe { (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1))) };
        Masks {
            delim: eq_avx2(lo, hi, delim),
            nl: eq_avx2(lo, hi, b'\n'),
            cr: eq_avx2(lo, hi, b'\r'),
            quote: eq_avx2(lo, hi, quote),
        }
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    fn eq_sse2(v: &[__m128i; 4], c: u8) -> u64 {
        let c = _mm_set1_epi8(c as i8);
        let mut bits = 0;
        for (i, v) in v.iter().enumerate() {
            let m = _mm_movemask_epi8(_mm_cmpeq_epi8(*v, c)) as u16;
            bits |= u64::from(m) << (16 * i);
        }
        bits
    }

    #[target_feature(enable = "sse2")]
    #[inline]
    fn masks_sse2(block: &[u8; 64], delim: u8, quote: u8) -> Masks {
        let p = block.as_ptr().cast::<__m128i>();
        // SAFETY: `block` holds 64 bytes, so the four unaligned 16-byte loads are in bounds.
        let v = unsafe {
            [
                _mm_loadu_si128(p),
                _mm_loadu_si128(p.add(1)),
                _mm_loadu_si128(p.add(2)),
                _mm_loadu_si128(p.add(3)),
            ]
        };
        Masks {
            delim: eq_sse2(&v, delim),
            nl: eq_sse2(&v, b'\n'),
            cr: eq_sse2(&v, b'\r'),
            quote: eq_sse2(&v, quote),
        }
    }

    impl Kernel for Avx2 {
        #[inline(always)]
        unsafe fn masks(block: &[u8; 64], delim: u8, quote: u8) -> Masks {
            // SAFETY: the caller guarantees AVX2 (the trait's contract).
            unsafe { masks_avx2(block, delim, quote) }
        }

        #[inline(always)]
        unsafe fn prefix_xor(x: u64) -> u64 {
            // SAFETY: the caller guarantees PCLMULQDQ (the trait's contract).
            unsafe { clmul_prefix_xor(x) }
        }
    }

    impl Kernel for Sse2 {
        #[inline(always)]
        unsafe fn masks(block: &[u8; 64], delim: u8, quote: u8) -> Masks {
            // SAFETY: SSE2 is part of the x86_64 baseline.
            unsafe { masks_sse2(block, delim, quote) }
        }

        #[inline(always)]
        unsafe fn prefix_xor(x: u64) -> u64 {
            // SAFETY: the caller guarantees PCLMULQDQ (the trait's contract).
            unsafe { clmul_prefix_xor(x) }
        }
    }
}

/// Calls `f(base, masks, len)` for every 64-byte block of `bytes` in order, `len` being the
/// block's length: 64, except with `tail` for the last block, which is then always partial
/// (possibly empty), zero-padded and with its masks cut to its length. Without `tail`,
/// `bytes` must be whole blocks. One call site, so `f` is inlined.
/// # Safety
/// The CPU supports `K`'s target features.
#[inline(always)]
pub(crate) unsafe fn for_each_block<K: Kernel, E>(
    bytes: &[u8],
    delim: u8,
    quote: u8,
    tail: bool,
    mut f: impl FnMut(usize, Masks, usize) -> Result<(), E>,
) -> Result<(), E> {
    let full = bytes.len() / 64 * 64;
    debug_assert!(tail || full == bytes.len());
    let mut base = 0;
    while base < full || (tail && base == full) {
        let m = if base < full {
            let block = bytes[base..base + 64].try_into().expect("64 bytes");
            // SAFETY: forwarded from the caller.
            unsafe { K::masks(block, delim, quote) }
        } else {
            let mut pad = [0u8; 64];
            pad[..bytes.len() - full].copy_from_slice(&bytes[full..]);
            // SAFETY: forwarded from the caller.
            let m = unsafe { K::masks(&pad, delim, quote) };
            m.and((1u64 << (bytes.len() - full)) - 1)
        };
        f(base, m, (bytes.len() - base).min(64))?;
        base += 64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(block: &[u8; 64], delim: u8, quote: u8) -> Masks {
        let bits = |c: u8| (0..64).fold(0u64, |m, i| m | u64::from(block[i] == c) << i);
        Masks {
            delim: bits(delim),
            nl: bits(b'\n'),
            cr: bits(b'\r'),
            quote: bits(quote),
        }
    }

    /// Runs `check` with every available kernel's `masks` and `prefix_xor`.
    fn each_kernel(mut check: impl FnMut(&dyn Fn(&[u8; 64]) -> Masks, &dyn Fn(u64) -> u64)) {
        // SAFETY (all three): each kernel is used only when `is_available` says so.
        check(
            &|b| unsafe { Portable::masks(b, b';', b'\'') },
            &|x| unsafe { Portable::prefix_xor(x) },
        );
        #[cfg(target_arch = "x86_64")]
        {
            if Impl::Sse2.is_available() {
                check(&|b| unsafe { Sse2::masks(b, b';', b'\'') }, &|x| unsafe {
                    Sse2::prefix_xor(x)
                });
            }
            if Impl::Avx2.is_available() {
                check(&|b| unsafe { Avx2::masks(b, b';', b'\'') }, &|x| unsafe {
                    Avx2::prefix_xor(x)
                });
            }
        }
    }

    #[test]
    fn kernels_agree_with_naive_masks() {
        let mut state = 0x1234_5678_9abc_def0u64;
        each_kernel(|masks, prefix| {
            for _ in 0..2000 {
                let mut block = [0u8; 64];
                for b in &mut block {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    *b = b";'\n\rx\x80\xff\x00"[(state >> 60) as usize % 8];
                }
                assert_eq!(masks(&block), naive(&block, b';', b'\''));
                let x = state.rotate_left(17);
                let want = (0..64).fold(0u64, |acc, i| {
                    acc | u64::from((x & (u64::MAX >> (63 - i))).count_ones() % 2 == 1) << i
                });
                assert_eq!(prefix(x), want);
            }
        });
    }
}
