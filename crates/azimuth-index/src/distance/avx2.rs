//! AVX2 + FMA kernels: four independent 8-lane accumulators (32 floats per iteration) and a
//! masked load (`vmaskmovps`) for the tail, so no element is read past the end of a slice.
//!
//! Only reachable through [`super::Kernels::for_level`], which checks `avx2` and `fma` at
//! runtime.

use std::arch::x86_64::*;

const LANES: usize = 8;
const UNROLL: usize = 4;

/// `TAIL_MASK[LANES - r..][..LANES]` enables exactly the first `r` lanes.
static TAIL_MASK: [i32; 2 * LANES] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

/// Sums `step(acc, a_chunk, b_chunk)` over the common prefix of `a` and `b`.
///
/// `step` must map an all-zero `(a, b)` pair to no change of `acc`: the tail is loaded with
/// zeros in the lanes past the end.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn fold<F: Fn(__m256, __m256, __m256) -> __m256>(a: &[f32], b: &[f32], step: F) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); UNROLL];
    let mut i = 0;
    while i + LANES * UNROLL <= n {
        for (j, slot) in acc.iter_mut().enumerate() {
            let at = i + j * LANES;
            // SAFETY: at + LANES <= i + LANES * UNROLL <= n, and n is at most the length of
            // either slice, so all 8 floats lie inside both `a` and `b`.
            let (x, y) = unsafe { (_mm256_loadu_ps(pa.add(at)), _mm256_loadu_ps(pb.add(at))) };
            *slot = step(*slot, x, y);
        }
        i += LANES * UNROLL;
    }
    while i + LANES <= n {
        // SAFETY: i + LANES <= n, so all 8 floats lie inside both slices.
        let (x, y) = unsafe { (_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i))) };
        acc[0] = step(acc[0], x, y);
        i += LANES;
    }
    if i < n {
        // SAFETY: n - i is in 1..8, so the 8 mask words start inside TAIL_MASK and end at or
        // before its end. i < n keeps the data pointers in bounds, and lanes whose mask word
        // is 0 are neither read nor able to fault.
        let (x, y) = unsafe {
            let mask = _mm256_loadu_si256(TAIL_MASK.as_ptr().add(LANES - (n - i)).cast());
            (
                _mm256_maskload_ps(pa.add(i), mask),
                _mm256_maskload_ps(pb.add(i), mask),
            )
        };
        acc[1] = step(acc[1], x, y);
    }
    let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    horizontal_sum(sum)
}

#[inline]
#[target_feature(enable = "avx2,fma")]
fn horizontal_sum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

#[target_feature(enable = "avx2,fma")]
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    fold(a, b, |acc, x, y| _mm256_fmadd_ps(x, y, acc))
}

#[target_feature(enable = "avx2,fma")]
pub(super) fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    fold(a, b, |acc, x, y| {
        let d = _mm256_sub_ps(x, y);
        _mm256_fmadd_ps(d, d, acc)
    })
}

#[target_feature(enable = "avx2,fma")]
pub(super) fn l1(a: &[f32], b: &[f32]) -> f32 {
    let sign = _mm256_set1_ps(-0.0);
    fold(a, b, |acc, x, y| {
        _mm256_add_ps(acc, _mm256_andnot_ps(sign, _mm256_sub_ps(x, y)))
    })
}

#[target_feature(enable = "avx2,fma")]
pub(super) fn dot_rows(query: &[f32], data: &[f32], dim: usize, out: &mut [f32]) {
    super::for_each_row(query, data, dim, out, |q, r| dot(q, r));
}

#[target_feature(enable = "avx2,fma")]
pub(super) fn l2_squared_rows(query: &[f32], data: &[f32], dim: usize, out: &mut [f32]) {
    super::for_each_row(query, data, dim, out, |q, r| l2_squared(q, r));
}

#[target_feature(enable = "avx2,fma")]
pub(super) fn l1_rows(query: &[f32], data: &[f32], dim: usize, out: &mut [f32]) {
    super::for_each_row(query, data, dim, out, |q, r| l1(q, r));
}
