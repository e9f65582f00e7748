//! AVX-512F kernels: four independent 16-lane accumulators (64 floats per iteration) and a
//! masked load for the tail, so no element is ever read past the end of a slice.
//!
//! Only reachable through [`super::Kernels::for_level`], which checks `avx512f` at runtime.

use std::arch::x86_64::*;

const LANES: usize = 16;
const UNROLL: usize = 4;

/// Sums `step(acc, a_chunk, b_chunk)` over the common prefix of `a` and `b`.
///
/// `step` must map an all-zero `(a, b)` pair to no change of `acc`: the tail is loaded with
/// zeros in the lanes past the end.
#[inline]
#[target_feature(enable = "avx512f")]
fn fold<F: Fn(__m512, __m512, __m512) -> __m512>(a: &[f32], b: &[f32], step: F) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm512_setzero_ps(); UNROLL];
    let mut i = 0;
    while i + LANES * UNROLL <= n {
        for (j, slot) in acc.iter_mut().enumerate() {
            let at = i + j * LANES;
            // SAFETY: at + LANES <= i + LANES * UNROLL <= n, and n is at most the length of
            // either slice, so all 16 floats lie inside both `a` and `b`.
            let (x, y) = unsafe { (_mm512_loadu_ps(pa.add(at)), _mm512_loadu_ps(pb.add(at))) };
            *slot = step(*slot, x, y);
        }
        i += LANES * UNROLL;
    }
    while i + LANES <= n {
        // SAFETY: i + LANES <= n, so all 16 floats lie inside both slices.
        let (x, y) = unsafe { (_mm512_loadu_ps(pa.add(i)), _mm512_loadu_ps(pb.add(i))) };
        acc[0] = step(acc[0], x, y);
        i += LANES;
    }
    if i < n {
        let mask: __mmask16 = (1u16 << (n - i)) - 1; // n - i is in 1..16.
                                                     // SAFETY: i < n keeps the base pointers in bounds; masked-off lanes are neither read
                                                     // nor able to fault, and the mask covers exactly the n - i remaining elements.
        let (x, y) = unsafe {
            (
                _mm512_maskz_loadu_ps(mask, pa.add(i)),
                _mm512_maskz_loadu_ps(mask, pb.add(i)),
            )
        };
        acc[1] = step(acc[1], x, y);
    }
    let sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    _mm512_reduce_add_ps(sum)
}

#[target_feature(enable = "avx512f")]
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    fold(a, b, |acc, x, y| _mm512_fmadd_ps(x, y, acc))
}

#[target_feature(enable = "avx512f")]
pub(super) fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    fold(a, b, |acc, x, y| {
        let d = _mm512_sub_ps(x, y);
        _mm512_fmadd_ps(d, d, acc)
    })
}

#[target_feature(enable = "avx512f")]
pub(super) fn l1(a: &[f32], b: &[f32]) -> f32 {
    fold(a, b, |acc, x, y| {
        _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(x, y)))
    })
}

#[target_feature(enable = "avx512f")]
pub(super) fn dot_rows(query: &[f32], data: &[f32], dim: usize, out: &mut [f32]) {
    super::for_each_row(query, data, dim, out, |q, r| dot(q, r));
}

#[target_feature(enable = "avx512f")]
pub(super) fn l2_squared_rows(query: &[f32], data: &[f32], dim: usize, out: &mut [f32]) {
    super::for_each_row(query, data, dim, out, |q, r| l2_squared(q, r));
}

#[target_feature(enable = "avx512f")]
pub(super) fn l1_rows(query: &[f32], data: &[f32], dim: usize, out: &mut [f32]) {
    super::for_each_row(query, data, dim, out, |q, r| l1(q, r));
}
