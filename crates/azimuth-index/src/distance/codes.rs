//! Kernels over quantized codes: int8 dot / squared L2 / L1 (scalar, AVX2 and AVX-512BW),
//! and the weighted AND-popcount that binary codes use (scalar and `popcnt`).
//!
//! The integer sums are exact: each SIMD lane adds at most `len / 16` pairs of products of
//! `|x| ≤ 254`, far from `i32::MAX` for any dimension Azimuth accepts, and lanes are summed
//! in `i64`. Slices of different lengths use their common prefix.

use super::SimdLevel;

/// The int8 kernels' level: the f32 kernels' ([`super::kernels`], so `AZIMUTH_SIMD` caps it
/// too), AVX-512 only with BW (byte and word lanes).
fn level() -> SimdLevel {
    use std::sync::OnceLock;
    static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| match super::kernels().level() {
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 if !std::arch::is_x86_feature_detected!("avx512bw") => {
            if std::arch::is_x86_feature_detected!("avx2") {
                SimdLevel::Avx2
            } else {
                SimdLevel::Scalar
            }
        }
        level => level,
    })
}

fn popcnt_available() -> bool {
    use std::sync::OnceLock;
    static POPCNT: OnceLock<bool> = OnceLock::new();
    *POPCNT.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("popcnt")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// The int8 operation a kernel computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int8Op {
    /// Σ aᵢ·bᵢ
    Dot,
    /// Σ (aᵢ − bᵢ)²
    L2Squared,
    /// Σ |aᵢ − bᵢ|
    L1,
}

/// The int8 kernel `op` over the common prefix of `a` and `b`, as f32.
#[inline]
pub fn int8(op: Int8Op, a: &[i8], b: &[i8]) -> f32 {
    match level() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level()` is Avx2 only when the CPU reports AVX2.
        SimdLevel::Avx2 => unsafe { avx2::int8(op, a, b) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level()` is Avx512 only when the CPU reports AVX-512F and BW.
        SimdLevel::Avx512 => unsafe { avx512::int8(op, a, b) },
        _ => scalar_int8(op, a, b),
    }
}

/// The scalar int8 kernel (the reference the SIMD one is tested against).
pub fn scalar_int8(op: Int8Op, a: &[i8], b: &[i8]) -> f32 {
    let mut sum = 0i64;
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (i64::from(x), i64::from(y));
        sum += match op {
            Int8Op::Dot => x * y,
            Int8Op::L2Squared => (x - y) * (x - y),
            Int8Op::L1 => (x - y).abs(),
        };
    }
    sum as f32
}

/// `Σⱼ 2ʲ · popcount(code & planes[j])` over the bit planes `planes` (each `code.len()`
/// words, least significant plane first).
#[inline]
pub fn weighted_and_popcount(code: &[u64], planes: &[u64]) -> u32 {
    if popcnt_available() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `popcnt_available()` is true only when the CPU reports POPCNT.
        return unsafe { popcnt::weighted(code, planes) };
    }
    weighted_portable(code, planes)
}

fn weighted_portable(code: &[u64], planes: &[u64]) -> u32 {
    let words = code.len();
    if words == 0 {
        return 0;
    }
    planes
        .chunks_exact(words)
        .enumerate()
        .map(|(j, plane)| {
            let ones: u32 = code
                .iter()
                .zip(plane)
                .map(|(c, p)| (c & p).count_ones())
                .sum();
            ones << j
        })
        .sum()
}

#[cfg(target_arch = "x86_64")]
mod popcnt {
    #[target_feature(enable = "popcnt")]
    pub(super) fn weighted(code: &[u64], planes: &[u64]) -> u32 {
        super::weighted_portable(code, planes)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::Int8Op;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2")]
    pub(super) fn int8(op: Int8Op, a: &[i8], b: &[i8]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc0 = _mm256_setzero_si256();
        let mut acc1 = _mm256_setzero_si256();
        let ones = _mm256_set1_epi16(1);
        let mut i = 0;
        let step = |acc: __m256i, x: __m256i, y: __m256i| match op {
            Int8Op::Dot => _mm256_add_epi32(acc, _mm256_madd_epi16(x, y)),
            Int8Op::L2Squared => {
                let d = _mm256_sub_epi16(x, y);
                _mm256_add_epi32(acc, _mm256_madd_epi16(d, d))
            }
            Int8Op::L1 => {
                let d = _mm256_abs_epi16(_mm256_sub_epi16(x, y));
                _mm256_add_epi32(acc, _mm256_madd_epi16(d, ones))
            }
        };
        while i + 32 <= n {
            // SAFETY: i + 32 <= n, so bytes i..i+32 lie inside both slices.
            let (x0, y0, x1, y1) = unsafe {
                (
                    _mm256_cvtepi8_epi16(_mm_loadu_si128(pa.add(i).cast())),
                    _mm256_cvtepi8_epi16(_mm_loadu_si128(pb.add(i).cast())),
                    _mm256_cvtepi8_epi16(_mm_loadu_si128(pa.add(i + 16).cast())),
                    _mm256_cvtepi8_epi16(_mm_loadu_si128(pb.add(i + 16).cast())),
                )
            };
            acc0 = step(acc0, x0, y0);
            acc1 = step(acc1, x1, y1);
            i += 32;
        }
        while i + 16 <= n {
            // SAFETY: i + 16 <= n.
            let (x, y) = unsafe {
                (
                    _mm256_cvtepi8_epi16(_mm_loadu_si128(pa.add(i).cast())),
                    _mm256_cvtepi8_epi16(_mm_loadu_si128(pb.add(i).cast())),
                )
            };
            acc0 = step(acc0, x, y);
            i += 16;
        }
        let mut lanes = [0i32; 8];
        // SAFETY: `lanes` is 32 bytes, the size of one unaligned store.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), _mm256_add_epi32(acc0, acc1)) };
        let mut sum: i64 = lanes.iter().map(|&l| i64::from(l)).sum();
        sum += super::scalar_int8(op, &a[i..n], &b[i..n]) as i64;
        sum as f32
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::Int8Op;
    use std::arch::x86_64::*;

    /// 32 codes widened to i16, from 32 bytes at `p`.
    ///
    /// # Safety
    /// `p .. p + 32` must be readable, and the CPU must have AVX-512BW.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn widen(p: *const i8) -> __m512i {
        // SAFETY: the caller guarantees 32 readable bytes.
        unsafe { _mm512_cvtepi8_epi16(_mm256_loadu_si256(p.cast())) }
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn int8(op: Int8Op, a: &[i8], b: &[i8]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc0 = _mm512_setzero_si512();
        let mut acc1 = _mm512_setzero_si512();
        let ones = _mm512_set1_epi16(1);
        let step = |acc: __m512i, x: __m512i, y: __m512i| match op {
            Int8Op::Dot => _mm512_add_epi32(acc, _mm512_madd_epi16(x, y)),
            Int8Op::L2Squared => {
                let d = _mm512_sub_epi16(x, y);
                _mm512_add_epi32(acc, _mm512_madd_epi16(d, d))
            }
            Int8Op::L1 => {
                let d = _mm512_abs_epi16(_mm512_sub_epi16(x, y));
                _mm512_add_epi32(acc, _mm512_madd_epi16(d, ones))
            }
        };
        let mut i = 0;
        while i + 64 <= n {
            // SAFETY: i + 64 <= n, so bytes i..i+64 lie inside both slices.
            let (x0, y0, x1, y1) = unsafe {
                (
                    widen(pa.add(i)),
                    widen(pb.add(i)),
                    widen(pa.add(i + 32)),
                    widen(pb.add(i + 32)),
                )
            };
            acc0 = step(acc0, x0, y0);
            acc1 = step(acc1, x1, y1);
            i += 64;
        }
        if i + 32 <= n {
            // SAFETY: i + 32 <= n.
            let (x, y) = unsafe { (widen(pa.add(i)), widen(pb.add(i))) };
            acc0 = step(acc0, x, y);
            i += 32;
        }
        let mut lanes = [0i32; 16];
        // SAFETY: `lanes` is 64 bytes, the size of one unaligned store.
        unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), _mm512_add_epi32(acc0, acc1)) };
        let mut sum: i64 = lanes.iter().map(|&l| i64::from(l)).sum();
        sum += super::scalar_int8(op, &a[i..n], &b[i..n]) as i64;
        sum as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_kernels_match_the_scalar_reference() {
        let mut seed = 1u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as i64
        };
        for len in [
            0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96, 100, 127, 384, 1000,
        ] {
            let a: Vec<i8> = (0..len).map(|_| (next() % 255 - 127) as i8).collect();
            let b: Vec<i8> = (0..len).map(|_| (next() % 255 - 127) as i8).collect();
            for op in [Int8Op::Dot, Int8Op::L2Squared, Int8Op::L1] {
                let want = scalar_int8(op, &a, &b);
                assert_eq!(int8(op, &a, &b), want, "{op:?} len {len}");
                #[cfg(target_arch = "x86_64")]
                {
                    if std::arch::is_x86_feature_detected!("avx2") {
                        // SAFETY: the CPU reports AVX2.
                        assert_eq!(unsafe { avx2::int8(op, &a, &b) }, want, "avx2 {op:?} {len}");
                    }
                    if std::arch::is_x86_feature_detected!("avx512f")
                        && std::arch::is_x86_feature_detected!("avx512bw")
                    {
                        // SAFETY: the CPU reports AVX-512F and BW.
                        let got = unsafe { avx512::int8(op, &a, &b) };
                        assert_eq!(got, want, "avx512 {op:?} {len}");
                    }
                }
            }
        }
        let extreme = vec![-127i8; 4096];
        let other = vec![127i8; 4096];
        assert_eq!(
            int8(Int8Op::L2Squared, &extreme, &other),
            4096.0 * 254.0 * 254.0
        );
    }

    #[test]
    fn weighted_popcount_counts_each_plane_with_its_weight() {
        let code = [0b1011u64, u64::MAX];
        let planes = [0b0011u64, 0, 0b1000, 1, 0, 0, u64::MAX, u64::MAX];
        // plane 0: 2 + 0; plane 1: 1 + 1; plane 2: 0; plane 3: 3 + 64
        assert_eq!(weighted_and_popcount(&code, &planes), 2 + 2 * 2 + 8 * 67);
        assert_eq!(
            weighted_and_popcount(&code, &planes),
            weighted_portable(&code, &planes)
        );
        assert_eq!(weighted_and_popcount(&[], &[]), 0);
    }
}
