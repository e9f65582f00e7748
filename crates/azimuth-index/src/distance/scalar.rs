//! Portable kernels: plain Rust, written so the compiler can vectorise them for whatever the
//! target baseline is (SSE2 on x86-64, NEON on aarch64) without fast-math.

/// Independent accumulators; eight breaks the add dependency chain and lets LLVM use vectors
/// while keeping a fixed, deterministic summation order.
const LANES: usize = 8;

/// Sums `term(a[i], b[i])` over the common prefix of `a` and `b`.
#[inline(always)]
fn fold(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let (chunks_a, chunks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(&x, &y)| term(x, y))
        .sum();
    let mut acc = [0.0f32; LANES];
    for (xs, ys) in chunks_a.zip(chunks_b) {
        for ((slot, &x), &y) in acc.iter_mut().zip(xs).zip(ys) {
            *slot += term(x, y);
        }
    }
    acc.iter().sum::<f32>() + tail
}

pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    fold(a, b, |x, y| x * y)
}

pub(super) fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    fold(a, b, |x, y| (x - y) * (x - y))
}

pub(super) fn l1(a: &[f32], b: &[f32]) -> f32 {
    fold(a, b, |x, y| (x - y).abs())
}

pub(super) fn dot_rows(query: &[f32], data: &[f32], dim: usize, out: &mut [f32]) {
    super::for_each_row(query, data, dim, out, dot);
}

pub(super) fn l2_squared_rows(query: &[f32], data: &[f32], dim: usize, out: &mut [f32]) {
    super::for_each_row(query, data, dim, out, l2_squared);
}

pub(super) fn l1_rows(query: &[f32], data: &[f32], dim: usize, out: &mut [f32]) {
    super::for_each_row(query, data, dim, out, l1);
}
