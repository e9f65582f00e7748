//! f32 distance kernels with runtime CPU dispatch.
//!
//! Each instruction set has its own file (`scalar`, `avx2`, `avx512`) with the same three
//! pairwise kernels plus a row-scan variant of each. [`Kernels`] bundles one instruction set's
//! function pointers; [`kernels`] picks the best set the CPU supports once per process (honouring
//! `AZIMUTH_SIMD=scalar|avx2|avx512` as a cap) and the free functions ([`dot`], [`l2_squared`],
//! ...) go through it, so no call pays for feature detection.
//!
//! Invariant: a [`Kernels`] value only exists for an instruction set the running CPU supports;
//! its fields are private and [`Kernels::for_level`] is the only constructor.
//!
//! Lengths: callers pass equal-length slices (checked with `debug_assert!`); in release builds
//! the kernels use the common prefix, so no input can make them read out of bounds.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
pub mod codes;
pub mod half;
mod scalar;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

/// Environment variable that caps the SIMD level: `scalar`, `avx2` or `avx512`.
pub const SIMD_ENV_VAR: &str = "AZIMUTH_SIMD";

/// How two vectors are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Inner product; higher is better (cosine similarity on normalised vectors).
    Dot,
    /// Squared Euclidean distance; lower is better.
    L2Squared,
    /// Manhattan distance; lower is better.
    L1,
}

impl Metric {
    /// Scores `a` against `b` with the process-wide kernels.
    pub fn score(self, a: &[f32], b: &[f32]) -> f32 {
        kernels().score(self, a, b)
    }

    /// Whether larger scores mean more similar vectors.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Dot)
    }

    /// Position of this metric's kernel in [`Kernels`]' tables.
    fn index(self) -> usize {
        match self {
            Metric::Dot => 0,
            Metric::L2Squared => 1,
            Metric::L1 => 2,
        }
    }
}

/// An instruction set the kernels are written for, ordered from slowest to fastest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// Portable Rust; runs everywhere.
    Scalar,
    /// x86-64 AVX2 + FMA, 8 lanes.
    Avx2,
    /// x86-64 AVX-512F, 16 lanes.
    Avx512,
}

impl SimdLevel {
    /// Every level, slowest first.
    pub const ALL: [SimdLevel; 3] = [SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512];

    /// The name used by [`simd_level`] and `AZIMUTH_SIMD`.
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
        }
    }

    /// Parses a name as produced by [`SimdLevel::name`], ignoring case and surrounding spaces.
    pub fn from_name(name: &str) -> Option<SimdLevel> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|level| level.name().eq_ignore_ascii_case(name))
    }

    /// Whether the running CPU can execute this level's kernels.
    pub fn is_available(self) -> bool {
        match self {
            SimdLevel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            SimdLevel::Avx2 | SimdLevel::Avx512 => false,
        }
    }

    /// The fastest level the running CPU supports, ignoring `AZIMUTH_SIMD`.
    pub fn best_available() -> SimdLevel {
        Self::ALL
            .into_iter()
            .rev()
            .find(|level| level.is_available())
            .unwrap_or(SimdLevel::Scalar)
    }
}

/// Pairwise kernel; `unsafe` only because it may use instructions the CPU must support.
type PairFn = unsafe fn(&[f32], &[f32]) -> f32;
/// Row-scan kernel: `(query, data, dim, out)`.
type RowsFn = unsafe fn(&[f32], &[f32], usize, &mut [f32]);

/// One instruction set's kernels. See the module docs for the invariant that makes calling
/// them sound.
#[derive(Clone, Copy, Debug)]
pub struct Kernels {
    level: SimdLevel,
    /// Indexed by `Metric::index`.
    pair: [PairFn; 3],
    /// Indexed by `Metric::index`.
    rows: [RowsFn; 3],
}

impl Kernels {
    /// The kernels for `level`, or `None` if the running CPU cannot execute them.
    pub fn for_level(level: SimdLevel) -> Option<Kernels> {
        if !level.is_available() {
            return None;
        }
        let kernels = match level {
            SimdLevel::Scalar => scalar_kernels(),
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 => Kernels {
                level,
                pair: [avx2::dot, avx2::l2_squared, avx2::l1],
                rows: [avx2::dot_rows, avx2::l2_squared_rows, avx2::l1_rows],
            },
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => Kernels {
                level,
                pair: [avx512::dot, avx512::l2_squared, avx512::l1],
                rows: [avx512::dot_rows, avx512::l2_squared_rows, avx512::l1_rows],
            },
            #[cfg(not(target_arch = "x86_64"))]
            SimdLevel::Avx2 | SimdLevel::Avx512 => return None,
        };
        Some(kernels)
    }

    /// The instruction set these kernels use.
    pub fn level(&self) -> SimdLevel {
        self.level
    }

    /// `metric` between `a` and `b`.
    #[inline]
    pub fn score(&self, metric: Metric, a: &[f32], b: &[f32]) -> f32 {
        debug_assert_eq!(a.len(), b.len(), "vector lengths differ");
        // SAFETY: `for_level` only builds `Kernels` for an instruction set the CPU supports,
        // and every kernel reads only the common prefix of its two slices.
        unsafe { self.pair[metric.index()](a, b) }
    }

    /// Inner product of `a` and `b`.
    pub fn dot(&self, a: &[f32], b: &[f32]) -> f32 {
        self.score(Metric::Dot, a, b)
    }

    /// Squared Euclidean distance between `a` and `b`.
    pub fn l2_squared(&self, a: &[f32], b: &[f32]) -> f32 {
        self.score(Metric::L2Squared, a, b)
    }

    /// Manhattan distance between `a` and `b`.
    pub fn l1(&self, a: &[f32], b: &[f32]) -> f32 {
        self.score(Metric::L1, a, b)
    }

    /// Writes `metric(query, row)` into `out[i]` for every row `i` of the row-major matrix
    /// `data` (rows are `data.chunks_exact(dim)`). Stops at the shorter of `out` and the rows;
    /// `dim == 0` means no rows.
    pub fn scores_into(
        &self,
        query: &[f32],
        data: &[f32],
        dim: usize,
        metric: Metric,
        out: &mut [f32],
    ) {
        debug_assert_eq!(query.len(), dim, "query length differs from dim");
        // SAFETY: as in `score`; the row kernels only index through `chunks_exact` and `zip`.
        unsafe { self.rows[metric.index()](query, data, dim, out) }
    }
}

/// Shared row loop; inlined into each instruction set's `*_rows` kernel so the pairwise
/// kernel inlines too.
#[inline(always)]
fn for_each_row(
    query: &[f32],
    data: &[f32],
    dim: usize,
    out: &mut [f32],
    score: impl Fn(&[f32], &[f32]) -> f32,
) {
    if dim == 0 {
        return;
    }
    for (slot, row) in out.iter_mut().zip(data.chunks_exact(dim)) {
        *slot = score(query, row);
    }
}

static ACTIVE: OnceLock<Kernels> = OnceLock::new();

/// The process-wide kernels: the best level the CPU supports, capped by `AZIMUTH_SIMD`.
/// Chosen on first use, then fixed for the life of the process.
pub fn kernels() -> &'static Kernels {
    ACTIVE.get_or_init(|| {
        let requested = std::env::var(SIMD_ENV_VAR).ok();
        let level = choose_level(requested.as_deref(), SimdLevel::best_available());
        Kernels::for_level(level).unwrap_or_else(scalar_kernels)
    })
}

/// `requested` if it names a level no faster than `best` (and the CPU has it), else `best`.
fn choose_level(requested: Option<&str>, best: SimdLevel) -> SimdLevel {
    requested
        .and_then(SimdLevel::from_name)
        .filter(|level| *level <= best && level.is_available())
        .unwrap_or(best)
}

fn scalar_kernels() -> Kernels {
    Kernels {
        level: SimdLevel::Scalar,
        pair: [scalar::dot, scalar::l2_squared, scalar::l1],
        rows: [scalar::dot_rows, scalar::l2_squared_rows, scalar::l1_rows],
    }
}

/// Name of the level the process-wide kernels use: `"avx512"`, `"avx2"` or `"scalar"`.
pub fn simd_level() -> &'static str {
    kernels().level().name()
}

/// Inner product of `a` and `b`.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    kernels().dot(a, b)
}

/// Squared Euclidean distance between `a` and `b`.
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    kernels().l2_squared(a, b)
}

/// Manhattan distance between `a` and `b`.
pub fn l1(a: &[f32], b: &[f32]) -> f32 {
    kernels().l1(a, b)
}

/// Euclidean length of `a`.
pub fn norm(a: &[f32]) -> f32 {
    dot(a, a).sqrt()
}

/// Cache lines [`prefetch`] asks for at most (2 KiB: a whole 384-d f32 row, and the head of
/// a longer one). Measured on 384-d rows, whole-row prefetch beat one or four lines by 15–30%
/// in HNSW search.
const PREFETCH_LINES: usize = 32;

/// Hints the CPU to start loading the start of `items` (a row, a neighbour list) into cache,
/// for a graph walk that knows what it will read next. A no-op off x86-64; never faults.
#[inline(always)]
pub fn prefetch<T>(items: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        const LINE: usize = 64;
        let start = items.as_ptr().cast::<i8>();
        let bytes = std::mem::size_of_val(items).min(PREFETCH_LINES * LINE);
        for offset in (0..bytes).step_by(LINE) {
            // SAFETY: `offset < size_of_val(items)`, so the address lies inside the live slice;
            // `_mm_prefetch` is only a hint, never faults, and SSE is in the x86-64 baseline.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(offset)) }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = items;
}
