//! Rows stored as IEEE 754 half precision (f16) against an f32 query: dot, squared L2 and
//! L1 (scalar, AVX2 + F16C, AVX-512F), and the f32 ↔ f16 conversions.
//!
//! The SIMD kernels widen eight or sixteen halves at a time with `vcvtph2ps` and accumulate
//! in f32, so a row costs half the memory traffic of its f32 form for the same arithmetic.
//! Slices of different lengths use their common prefix.

use std::sync::OnceLock;

use super::{Metric, SimdLevel};

/// The f16 kernels' level: the f32 kernels' ([`super::kernels`], so `AZIMUTH_SIMD` caps it
/// too), AVX2 only with F16C.
fn level() -> SimdLevel {
    static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| match super::kernels().level() {
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 if !std::arch::is_x86_feature_detected!("f16c") => SimdLevel::Scalar,
        level => level,
    })
}

/// `metric` between the f32 `query` and the f16 `row` (as `Metric::score` would give for the
/// row's f32 values), over their common prefix.
#[inline]
pub fn f16_score(metric: Metric, query: &[f32], row: &[u16]) -> f32 {
    match level() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level()` is Avx2 only when the CPU reports AVX2 and FMA (the f32 kernels'
        // check) and F16C.
        SimdLevel::Avx2 => unsafe { avx2::score(metric, query, row) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level()` is Avx512 only when the CPU reports AVX-512F.
        SimdLevel::Avx512 => unsafe { avx512::score(metric, query, row) },
        _ => scalar_f16_score(metric, query, row),
    }
}

/// The portable kernel (the reference the SIMD ones are tested against).
pub fn scalar_f16_score(metric: Metric, query: &[f32], row: &[u16]) -> f32 {
    let widened = row.iter().map(|&h| f16_to_f32(h));
    match metric {
        Metric::Dot => query.iter().zip(widened).map(|(q, x)| q * x).sum(),
        Metric::L2Squared => query
            .iter()
            .zip(widened)
            .map(|(q, x)| (q - x) * (q - x))
            .sum(),
        Metric::L1 => query.iter().zip(widened).map(|(q, x)| (q - x).abs()).sum(),
    }
}

/// IEEE half → single precision (exact).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            // Subnormal: normalise.
            let shift = f.leading_zeros() - 21;
            let f = (f << shift) & 0x3ff;
            sign | ((127 - 15 + 1 - shift) << 23) | (f << 13)
        }
        (0x1f, f) => sign | 0x7f80_0000 | (f << 13),
        (e, f) => sign | ((e + 127 - 15) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

/// Single → IEEE half precision, rounding to nearest even; beyond ±65504 gives ±infinity,
/// NaN stays NaN.
pub fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let mant = bits & 0x7f_ffff;
    if exp == 0xff {
        let nan = if mant != 0 {
            0x200 | (mant >> 13) as u16
        } else {
            0
        };
        return sign | 0x7c00 | nan;
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        // a subnormal half (or zero): the implicit bit joins the mantissa
        if e < -10 {
            return sign;
        }
        let m = mant | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = 1u32 << (shift - 1);
        let rounded = (m + half - 1 + ((m >> shift) & 1)) >> shift;
        return sign | rounded as u16;
    }
    let kept = ((e as u32) << 10) | (mant >> 13);
    let rest = mant & 0x1fff;
    // a carry out of the mantissa lands in the exponent, which is the right answer
    let rounded = if rest > 0x1000 || (rest == 0x1000 && kept & 1 == 1) {
        kept + 1
    } else {
        kept
    };
    sign | rounded as u16
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::Metric;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) fn score(metric: Metric, query: &[f32], row: &[u16]) -> f32 {
        let n = query.len().min(row.len());
        let (pq, pr) = (query.as_ptr(), row.as_ptr());
        let sign = _mm256_set1_ps(-0.0);
        let step = |acc: __m256, q: __m256, x: __m256| match metric {
            Metric::Dot => _mm256_fmadd_ps(q, x, acc),
            Metric::L2Squared => {
                let d = _mm256_sub_ps(q, x);
                _mm256_fmadd_ps(d, d, acc)
            }
            Metric::L1 => _mm256_add_ps(acc, _mm256_andnot_ps(sign, _mm256_sub_ps(q, x))),
        };
        let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        while i + 16 <= n {
            // SAFETY: i + 16 <= n, so 16 floats of `query` and 16 halves of `row` are in
            // bounds.
            let (q0, x0, q1, x1) = unsafe {
                (
                    _mm256_loadu_ps(pq.add(i)),
                    _mm256_cvtph_ps(_mm_loadu_si128(pr.add(i).cast())),
                    _mm256_loadu_ps(pq.add(i + 8)),
                    _mm256_cvtph_ps(_mm_loadu_si128(pr.add(i + 8).cast())),
                )
            };
            acc0 = step(acc0, q0, x0);
            acc1 = step(acc1, q1, x1);
            i += 16;
        }
        if i + 8 <= n {
            // SAFETY: i + 8 <= n.
            let (q, x) = unsafe {
                (
                    _mm256_loadu_ps(pq.add(i)),
                    _mm256_cvtph_ps(_mm_loadu_si128(pr.add(i).cast())),
                )
            };
            acc0 = step(acc0, q, x);
            i += 8;
        }
        let mut lanes = [0f32; 8];
        // SAFETY: `lanes` is 8 floats, the size of one unaligned store.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), _mm256_add_ps(acc0, acc1)) };
        lanes.iter().sum::<f32>() + super::scalar_f16_score(metric, &query[i..n], &row[i..n])
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::Metric;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub(super) fn score(metric: Metric, query: &[f32], row: &[u16]) -> f32 {
        let n = query.len().min(row.len());
        let (pq, pr) = (query.as_ptr(), row.as_ptr());
        let step = |acc: __m512, q: __m512, x: __m512| match metric {
            Metric::Dot => _mm512_fmadd_ps(q, x, acc),
            Metric::L2Squared => {
                let d = _mm512_sub_ps(q, x);
                _mm512_fmadd_ps(d, d, acc)
            }
            Metric::L1 => _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(q, x))),
        };
        let (mut acc0, mut acc1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
        let mut i = 0;
        while i + 32 <= n {
            // SAFETY: i + 32 <= n, so 32 floats of `query` and 32 halves of `row` are in
            // bounds.
            let (q0, x0, q1, x1) = unsafe {
                (
                    _mm512_loadu_ps(pq.add(i)),
                    _mm512_cvtph_ps(_mm256_loadu_si256(pr.add(i).cast())),
                    _mm512_loadu_ps(pq.add(i + 16)),
                    _mm512_cvtph_ps(_mm256_loadu_si256(pr.add(i + 16).cast())),
                )
            };
            acc0 = step(acc0, q0, x0);
            acc1 = step(acc1, q1, x1);
            i += 32;
        }
        if i + 16 <= n {
            // SAFETY: i + 16 <= n.
            let (q, x) = unsafe {
                (
                    _mm512_loadu_ps(pq.add(i)),
                    _mm512_cvtph_ps(_mm256_loadu_si256(pr.add(i).cast())),
                )
            };
            acc0 = step(acc0, q, x);
            i += 16;
        }
        _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1))
            + super::scalar_f16_score(metric, &query[i..n], &row[i..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_match_the_reference() {
        // every half widens exactly and narrows back to itself (NaNs stay NaN)
        for h in 0..=u16::MAX {
            let x = f16_to_f32(h);
            let reference = half::f16::from_bits(h).to_f32();
            assert!(x.to_bits() == reference.to_bits() || (x.is_nan() && reference.is_nan()));
            if x.is_nan() {
                assert!(f16_to_f32(f32_to_f16(x)).is_nan());
            } else {
                assert_eq!(f32_to_f16(x), h, "{h:#06x}");
            }
        }
        // narrowing rounds like the reference, ties to even, subnormals and overflow included
        let mut s = 0x1234_5678u32;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let x = f32::from_bits(s);
            let reference = half::f16::from_f32(x).to_bits();
            if x.is_nan() {
                assert!(f16_to_f32(f32_to_f16(x)).is_nan());
            } else {
                assert_eq!(f32_to_f16(x), reference, "{x:e}");
            }
        }
        for x in [
            65504.0f32, 65520.0, 1e6, -1e6, 5.96e-8, 2.98e-8, 1.0e-9, -0.0,
        ] {
            assert_eq!(f32_to_f16(x), half::f16::from_f32(x).to_bits(), "{x:e}");
        }
    }

    #[test]
    fn simd_kernels_match_the_scalar_one() {
        for n in [0usize, 1, 7, 8, 15, 16, 17, 31, 32, 33, 100, 384] {
            let query: Vec<f32> = (0..n).map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0).collect();
            let row: Vec<u16> = (0..n)
                .map(|i| f32_to_f16(((i * 13 % 7) as f32 - 3.0) / 2.0))
                .collect();
            for metric in [Metric::Dot, Metric::L2Squared, Metric::L1] {
                let want = scalar_f16_score(metric, &query, &row);
                // the dispatched kernel and every SIMD kernel this CPU can run
                let mut got = vec![("dispatched", f16_score(metric, &query, &row))];
                #[cfg(target_arch = "x86_64")]
                {
                    use std::arch::is_x86_feature_detected as has;
                    if has!("avx2") && has!("fma") && has!("f16c") {
                        // SAFETY: the CPU reports every feature the kernel is built for.
                        got.push(("avx2", unsafe { avx2::score(metric, &query, &row) }));
                    }
                    if has!("avx512f") {
                        // SAFETY: as above.
                        got.push(("avx512", unsafe { avx512::score(metric, &query, &row) }));
                    }
                }
                for (kernel, got) in got {
                    assert!(
                        (want - got).abs() <= 1e-4 * want.abs().max(1.0),
                        "{kernel} {metric:?} n={n}: {got} vs {want}"
                    );
                }
            }
        }
        // different lengths use the common prefix
        let q = [1.0f32, 2.0, 3.0];
        let r = [f32_to_f16(1.0), f32_to_f16(1.0)];
        assert_eq!(f16_score(Metric::Dot, &q, &r), 3.0);
    }
}
