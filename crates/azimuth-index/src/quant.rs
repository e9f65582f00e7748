//! Quantized codes that an HNSW walk can use instead of the exact rows, and exact
//! rescoring (from f32 rows or half-precision ones, [`RowsRef`]).
//!
//! - [`Int8Codes`]: one signed byte per component, `x ≈ scale · c` with one scale for the
//!   whole matrix, set from a quantile of |x| (outliers are clipped). The query is quantized
//!   the same way and distances are exact integer sums (AVX2), scaled back: 4× smaller than
//!   f32 and close enough to steer a walk; the final candidates are rescored from the f32
//!   rows.
//! - [`BinaryCodes`]: one bit per component, RaBitQ-style (Gao & Long, 2024): each row is
//!   centred on its nearest of about √rows k-means centroids, normalised, and stored as the
//!   signs of its components plus a few floats (its norm and the inner product of its sign
//!   vector with itself normalised). An inner product with a query is estimated as
//!   `⟨c,q⟩ + ⟨o,c⟩ + ‖o‖·⟨x̄,q−c⟩/⟨x̄,ō⟩`, where the query is held as four bit planes so
//!   `⟨x̄,q−c⟩` costs a few AND-popcounts (see [`BinaryCodes`]). About 20× smaller than
//!   f32 at 384 dimensions (the bits plus 18 bytes per row); coarse, so it needs a wider
//!   beam and rescoring. Dot, cosine and L2 only.
//!
//! Both implement [`QueryDistance`], so [`Hnsw::search_by`] walks the same graph with them;
//! [`rescore`] then ranks the walk's candidates by exact f32 distance.

mod half;
mod persist;

use std::cell::Cell;

use rayon::prelude::*;

use crate::distance::codes::{int8, weighted_and_popcount, Int8Op};
use crate::distance::half::f16_score;
use crate::distance::{self, kernels, Metric};
use crate::hnsw::{Hnsw, QueryDistance};

pub use self::half::{HalfRows, RowsRef};
pub use self::persist::CodesError;

/// How a quantized search walks and rescores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantSearch {
    /// Beam width of the walk over codes.
    pub ef: usize,
    /// Candidates rescored from the exact rows: `k · oversampling` (at least `k`, at most
    /// `ef`).
    pub oversampling: f32,
}

/// Scalar int8 codes of a row-major matrix.
#[derive(Clone, Debug)]
pub struct Int8Codes {
    dim: usize,
    metric: Metric,
    scale: f32,
    codes: Vec<i8>,
}

impl Int8Codes {
    /// Encodes every whole row of `data`; `quantile` (e.g. 0.99) of |x| maps to 127.
    pub fn encode(data: &[f32], dim: usize, metric: Metric, quantile: f32) -> Int8Codes {
        let scale = clip_level(data, quantile) / 127.0;
        let rows = data.len().checked_div(dim).unwrap_or(0);
        let codes = data[..rows * dim]
            .iter()
            .map(|&x| quantize(x, scale))
            .collect();
        Int8Codes {
            dim,
            metric,
            scale,
            codes,
        }
    }

    /// A query ready to compute distances to the codes.
    pub fn query(&self, q: &[f32]) -> Int8Query<'_> {
        Int8Query {
            codes: self,
            q: q.iter().map(|&x| quantize(x, self.scale)).collect(),
        }
    }

    /// Row `row`'s own codes as a query (empty, so every distance is 0, when out of range).
    pub(crate) fn query_row(&self, row: u32) -> Int8Query<'_> {
        Int8Query {
            codes: self,
            q: self.row(row).unwrap_or(&[]).to_vec(),
        }
    }

    pub fn rows(&self) -> usize {
        self.codes.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Heap bytes of the codes.
    pub fn memory_bytes(&self) -> usize {
        self.codes.capacity()
    }

    fn row(&self, id: u32) -> Option<&[i8]> {
        let start = id as usize * self.dim;
        self.codes.get(start..start + self.dim)
    }
}

/// The |x| below which a `quantile` share of the (sampled) components lie.
fn clip_level(data: &[f32], quantile: f32) -> f32 {
    let step = (data.len() / 1_000_000).max(1);
    let mut sample: Vec<f32> = data
        .iter()
        .step_by(step)
        .map(|x| x.abs())
        .filter(|x| x.is_finite())
        .collect();
    if sample.is_empty() {
        return 1.0;
    }
    let q = quantile.clamp(0.5, 1.0);
    let at = ((sample.len() - 1) as f32 * q) as usize;
    let (_, level, _) = sample.select_nth_unstable_by(at, |a, b| a.total_cmp(b));
    if *level > 0.0 {
        *level
    } else {
        1.0
    }
}

fn quantize(x: f32, scale: f32) -> i8 {
    (x / scale).round().clamp(-127.0, 127.0) as i8
}

/// A query against [`Int8Codes`].
pub struct Int8Query<'a> {
    codes: &'a Int8Codes,
    q: Vec<i8>,
}

impl QueryDistance for Int8Query<'_> {
    #[inline]
    fn distance(&self, id: u32) -> f32 {
        let Some(row) = self.codes.row(id) else {
            return f32::INFINITY;
        };
        let s = self.codes.scale;
        match self.codes.metric {
            Metric::Dot => -s * s * int8(Int8Op::Dot, &self.q, row),
            Metric::L2Squared => s * s * int8(Int8Op::L2Squared, &self.q, row),
            Metric::L1 => s * int8(Int8Op::L1, &self.q, row),
        }
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        if let Some(row) = self.codes.row(id) {
            distance::prefetch(row);
        }
    }
}

/// Query bit planes: the query is quantized to this many bits per component.
const QUERY_BITS: usize = 4;

/// RaBitQ-style one-bit codes of a row-major matrix (Dot and L2 metrics).
///
/// Rows are centred on the nearest of a few hundred k-means centroids rather than on one
/// global mean: one sign per component only tells neighbours apart when the residuals it
/// encodes are about as large as the distances between them. With one global centre, rows
/// of a tight cluster all get nearly the same signs (those of the cluster's offset), and no
/// beam width recovers recall; centred on their own cluster, the signs describe where each
/// row sits inside it (the IVF-RaBitQ arrangement).
///
/// The estimator is linear in the query, so the query need not be centred on each
/// centroid: `⟨o, q − c⟩` is estimated as `est(q − g) − est(c − g)` (`g` the data's mean),
/// and the per-row part `⟨o,c⟩ − est(c − g)` is computed when encoding. A query is then
/// quantized once, whatever centroids its walk meets.
#[derive(Clone, Debug)]
pub struct BinaryCodes {
    dim: usize,
    words: usize,
    metric: Metric,
    /// The mean of the rows: queries are quantized as `q − mean`.
    mean: Vec<f32>,
    /// `clusters · dim` centroids, row-major.
    centroids: Vec<f32>,
    /// Per row: its centroid.
    cluster: Vec<u16>,
    /// `words` u64 per row: bit i set when component i of the centred row is positive.
    bits: Vec<u64>,
    /// Per row: ‖o‖ / (⟨x̄,ō⟩ · √dim), the factor that turns a sign sum into ⟨o,q⟩.
    factor: Vec<f32>,
    /// Per row: number of set bits.
    ones: Vec<u32>,
    /// Per row: ⟨o, c⟩ − factor · ⟨sign, c − mean⟩, exact.
    shift: Vec<f32>,
    /// Per row: ‖x‖² (for L2).
    norm_sq: Vec<f32>,
}

/// Most centroids the binary codes are centred on (u16 ids; about √rows below this).
const MAX_CLUSTERS: usize = 1024;
/// k-means trains on at most this many rows per centroid (a strided sample).
const TRAIN_ROWS_PER_CLUSTER: usize = 64;
/// Lloyd iterations of the k-means training.
const KMEANS_ITERATIONS: usize = 8;

/// Number of centroids for `rows` rows: √rows, in `1..=MAX_CLUSTERS`.
fn clusters_for(rows: usize) -> usize {
    ((rows as f64).sqrt() as usize).clamp(1, MAX_CLUSTERS)
}

impl BinaryCodes {
    /// Encodes every whole row of `data`. `None` for [`Metric::L1`], which the estimator
    /// does not cover. Deterministic: the same rows give the same codes.
    pub fn encode(data: &[f32], dim: usize, metric: Metric) -> Option<BinaryCodes> {
        if metric == Metric::L1 || dim == 0 {
            return None;
        }
        let rows = data.len() / dim;
        let data = &data[..rows * dim];
        let words = dim.div_ceil(64);
        let mean = mean_of(data.chunks_exact(dim), dim);
        let centroids = kmeans(data, dim, clusters_for(rows));
        let cluster = assign(data, dim, &centroids);
        let mut codes = BinaryCodes {
            dim,
            words,
            metric,
            bits: vec![0; rows * words],
            factor: Vec::with_capacity(rows),
            ones: Vec::with_capacity(rows),
            shift: Vec::with_capacity(rows),
            norm_sq: Vec::with_capacity(rows),
            mean,
            centroids,
            cluster,
        };
        for (r, row) in data.chunks_exact(dim).enumerate() {
            let j = usize::from(codes.cluster[r]);
            let centroid = &codes.centroids[j * dim..(j + 1) * dim];
            let code = &mut codes.bits[r * words..(r + 1) * words];
            let (mut norm_sq_o, mut abs_sum, mut oc, mut sign_c) = (0f32, 0f32, 0f32, 0f32);
            for (i, ((&x, &c), &g)) in row.iter().zip(centroid).zip(&codes.mean).enumerate() {
                let o = x - c;
                norm_sq_o += o * o;
                abs_sum += o.abs();
                oc += o * c;
                if o > 0.0 {
                    code[i / 64] |= 1 << (i % 64);
                    sign_c += c - g;
                } else {
                    sign_c -= c - g;
                }
            }
            // ⟨x̄, ō⟩ = Σ|oᵢ| / (‖o‖ √dim); the factor is ‖o‖ / (⟨x̄,ō⟩ √dim) = ‖o‖² / Σ|oᵢ|.
            let factor = if abs_sum > 0.0 {
                norm_sq_o / abs_sum
            } else {
                0.0
            };
            codes.factor.push(factor);
            codes.shift.push(oc - factor * sign_c);
            codes.ones.push(code.iter().map(|w| w.count_ones()).sum());
            codes.norm_sq.push(row.iter().map(|x| x * x).sum());
        }
        Some(codes)
    }

    /// A query ready to estimate distances to the codes.
    pub fn query(&self, q: &[f32]) -> BinaryQuery<'_> {
        let centred: Vec<f32> = q.iter().zip(&self.mean).map(|(x, g)| x - g).collect();
        let (lo, hi) = centred
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        let (lo, hi) = if lo.is_finite() && hi.is_finite() {
            (lo, hi)
        } else {
            (0.0, 0.0)
        };
        let levels = ((1 << QUERY_BITS) - 1) as f32;
        let delta = if hi > lo { (hi - lo) / levels } else { 1.0 };
        let mut planes = vec![0u64; QUERY_BITS * self.words];
        let mut sum_q = 0f32;
        for (i, &x) in centred.iter().enumerate() {
            let level = ((x - lo) / delta).round().clamp(0.0, levels) as u32;
            sum_q += lo + delta * level as f32;
            for (j, plane) in planes.chunks_exact_mut(self.words).enumerate() {
                if level >> j & 1 == 1 {
                    plane[i / 64] |= 1 << (i % 64);
                }
            }
        }
        BinaryQuery {
            codes: self,
            fits: q.len() == self.dim,
            q: q.to_vec(),
            planes,
            lo,
            delta,
            sum_q,
            q_norm_sq: q.iter().map(|x| x * x).sum(),
            centroid_dot: vec![Cell::new(f32::NAN); self.clusters()],
        }
    }

    pub fn rows(&self) -> usize {
        self.factor.len()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// Number of centroids the rows are centred on.
    pub fn clusters(&self) -> usize {
        self.centroids.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Heap bytes of the codes, per-row factors and centroids.
    pub fn memory_bytes(&self) -> usize {
        self.bits.capacity() * 8
            + (self.factor.capacity() + self.norm_sq.capacity()) * 4
            + (self.ones.capacity() + self.shift.capacity()) * 4
            + self.cluster.capacity() * 2
            + (self.centroids.capacity() + self.mean.capacity()) * 4
    }
}

/// `k` centroids of `data` by Lloyd's k-means on a strided sample, seeded with evenly
/// spaced sample rows (deterministic; a centroid that loses all its rows keeps its place).
fn kmeans(data: &[f32], dim: usize, k: usize) -> Vec<f32> {
    let rows = data.len() / dim;
    if rows == 0 {
        return vec![0.0; dim];
    }
    let k = k.clamp(1, rows);
    let step = (rows / (k * TRAIN_ROWS_PER_CLUSTER)).max(1);
    let sample: Vec<&[f32]> = data.chunks_exact(dim).step_by(step).collect();
    if k == 1 {
        return mean_of(sample.iter().copied(), dim);
    }
    let mut centroids: Vec<f32> = (0..k)
        .flat_map(|j| sample[j * sample.len() / k].iter().copied())
        .collect();
    let mut sums = vec![0f64; k * dim];
    let mut counts = vec![0usize; k];
    for _ in 0..KMEANS_ITERATIONS {
        sums.fill(0.0);
        counts.fill(0);
        for (row, j) in sample.iter().zip(labels(&sample, dim, &centroids)) {
            let j = usize::from(j);
            counts[j] += 1;
            for (s, &x) in sums[j * dim..(j + 1) * dim].iter_mut().zip(*row) {
                *s += f64::from(x);
            }
        }
        for (j, &n) in counts.iter().enumerate().filter(|(_, &n)| n > 0) {
            for (c, &s) in centroids[j * dim..(j + 1) * dim]
                .iter_mut()
                .zip(&sums[j * dim..(j + 1) * dim])
            {
                *c = (s / n as f64) as f32;
            }
        }
    }
    centroids
}

/// The mean of `rows` (zeros when there are none).
fn mean_of<'a>(rows: impl Iterator<Item = &'a [f32]>, dim: usize) -> Vec<f32> {
    let mut sum = vec![0f64; dim];
    let mut n = 0usize;
    for row in rows {
        n += 1;
        for (s, &x) in sum.iter_mut().zip(row) {
            *s += f64::from(x);
        }
    }
    sum.iter().map(|&s| (s / n.max(1) as f64) as f32).collect()
}

fn row_norms(m: &[f32], dim: usize) -> Vec<f32> {
    let kernels = kernels();
    m.chunks_exact(dim).map(|r| kernels.dot(r, r)).collect()
}

/// The centroid closest to `row` in L2 (`‖c‖² − 2⟨x,c⟩` smallest; NaN rows go to 0).
#[inline]
fn nearest(
    kernels: &distance::Kernels,
    row: &[f32],
    centroids: &[f32],
    norms: &[f32],
    dim: usize,
    scores: &mut [f32],
) -> usize {
    kernels.scores_into(row, centroids, dim, Metric::Dot, scores);
    let mut best = (0, f32::INFINITY);
    for (j, (&dot, &norm)) in scores.iter().zip(norms).enumerate() {
        let d = norm - 2.0 * dot;
        if d < best.1 {
            best = (j, d);
        }
    }
    best.0
}

/// Each row's nearest centroid.
fn assign(data: &[f32], dim: usize, centroids: &[f32]) -> Vec<u16> {
    let rows: Vec<&[f32]> = data.chunks_exact(dim).collect();
    labels(&rows, dim, centroids)
}

/// The nearest centroid of each of `rows`, on the calling thread's rayon pool (each row on
/// its own, so the result does not depend on the threads).
fn labels(rows: &[&[f32]], dim: usize, centroids: &[f32]) -> Vec<u16> {
    let norms = row_norms(centroids, dim);
    let kernels = kernels();
    rows.par_iter()
        .map_init(
            || vec![0f32; norms.len()],
            |scores, row| nearest(kernels, row, centroids, &norms, dim, scores) as u16,
        )
        .collect()
}

/// A query against [`BinaryCodes`].
pub struct BinaryQuery<'a> {
    codes: &'a BinaryCodes,
    /// Whether the query has the codes' length (otherwise every distance is +inf).
    fits: bool,
    q: Vec<f32>,
    /// `q − mean` quantized to [`QUERY_BITS`] bit planes: lowest level, step, Σ.
    planes: Vec<u64>,
    lo: f32,
    delta: f32,
    sum_q: f32,
    q_norm_sq: f32,
    /// Per centroid: ⟨q, c⟩, computed the first time a row of that centroid is met.
    centroid_dot: Vec<Cell<f32>>,
}

impl BinaryQuery<'_> {
    /// Estimated ⟨x, q⟩ for row `r` (< rows).
    #[inline]
    fn dot(&self, r: usize) -> f32 {
        let c = self.codes;
        let code = &c.bits[r * c.words..(r + 1) * c.words];
        let weighted = weighted_and_popcount(code, &self.planes) as f32;
        // Σ over set bits of q − mean, then ⟨sign, q − mean⟩ = 2·that − Σ(q − mean).
        let set_sum = self.lo * c.ones[r] as f32 + self.delta * weighted;
        let sign_dot = 2.0 * set_sum - self.sum_q;
        // ⟨x, q⟩ = ⟨c, q⟩ + ⟨o, c⟩ + ⟨o, q − c⟩, the last estimated as
        // ‖o‖·⟨x̄, q−c⟩/⟨x̄, ō⟩ = factor · (⟨sign, q − mean⟩ − ⟨sign, c − mean⟩)
        // (x̄ = sign/√dim); `shift` holds ⟨o, c⟩ − factor · ⟨sign, c − mean⟩.
        self.centroid_dot(usize::from(c.cluster[r])) + c.shift[r] + c.factor[r] * sign_dot
    }

    #[inline]
    fn centroid_dot(&self, j: usize) -> f32 {
        let Some(cell) = self.centroid_dot.get(j) else {
            return 0.0;
        };
        let known = cell.get();
        if !known.is_nan() {
            return known;
        }
        let dim = self.codes.dim;
        let dot = self
            .codes
            .centroids
            .get(j * dim..(j + 1) * dim)
            .map_or(0.0, |c| kernels().dot(&self.q, c));
        // a NaN query gives NaN again, recomputed each time: harmless, distances are +inf
        cell.set(dot);
        dot
    }
}

impl QueryDistance for BinaryQuery<'_> {
    #[inline]
    fn distance(&self, id: u32) -> f32 {
        let r = id as usize;
        if r >= self.codes.rows() || !self.fits {
            return f32::INFINITY;
        }
        let dot = self.dot(r);
        let d = match self.codes.metric {
            Metric::L2Squared => self.codes.norm_sq[r] + self.q_norm_sq - 2.0 * dot,
            _ => -dot,
        };
        if d.is_nan() {
            f32::INFINITY
        } else {
            d
        }
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        let w = self.codes.words;
        let start = id as usize * w;
        if let Some(code) = self.codes.bits.get(start..start + w) {
            distance::prefetch(code);
        }
    }
}

/// The rows in IEEE half precision: half the bytes of f32 and close to exact (11 significant
/// bits, relative error ≤ 2⁻¹¹ per component), widened on the fly by the f16 kernels
/// (`distance::half`). A walk over them reads half the memory of a float walk; rescoring a
/// few candidates from the f32 rows then gives exact scores — or none is needed, when these
/// rows are the stored values (a space kept in half precision). Cloning shares the rows.
#[derive(Clone, Debug)]
pub struct F16Rows {
    metric: Metric,
    rows: HalfRows,
}

impl F16Rows {
    /// Converts every whole row of `data` (values beyond ±65504 become ±infinity).
    pub fn encode(data: &[f32], dim: usize, metric: Metric) -> F16Rows {
        F16Rows::of(HalfRows::encode(data, dim), metric)
    }

    /// `rows` (shared, not copied) searched in `metric`.
    pub fn of(rows: HalfRows, metric: Metric) -> F16Rows {
        F16Rows { metric, rows }
    }

    /// A query ready to compute distances to the rows (a query of another length gives
    /// +inf distances).
    pub fn query(&self, q: &[f32]) -> F16Query<'_> {
        F16Query {
            rows: self,
            q: q.to_vec(),
        }
    }

    pub fn rows(&self) -> usize {
        self.rows.rows()
    }

    pub fn half(&self) -> &HalfRows {
        &self.rows
    }

    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// Heap bytes of the rows (none when they are read in place).
    pub fn memory_bytes(&self) -> usize {
        self.rows.memory_bytes()
    }

    #[inline]
    fn row(&self, id: u32) -> Option<&[u16]> {
        self.rows.row(id)
    }
}

/// A query against [`F16Rows`].
pub struct F16Query<'a> {
    rows: &'a F16Rows,
    q: Vec<f32>,
}

impl QueryDistance for F16Query<'_> {
    #[inline]
    fn distance(&self, id: u32) -> f32 {
        let Some(row) = self
            .rows
            .row(id)
            .filter(|_| self.q.len() == self.rows.rows.dim())
        else {
            return f32::INFINITY;
        };
        let score = f16_score(self.rows.metric, &self.q, row);
        let d = if self.rows.metric == Metric::Dot {
            -score
        } else {
            score
        };
        if d.is_nan() {
            f32::INFINITY
        } else {
            d
        }
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        if let Some(row) = self.rows.row(id) {
            distance::prefetch(row);
        }
    }
}

/// Either kind of codes, with the walk dispatched once per search.
#[derive(Clone, Debug)]
pub enum Codes {
    Int8(Int8Codes),
    Binary(BinaryCodes),
    F16(F16Rows),
}

impl Codes {
    /// Heap bytes of the codes.
    pub fn memory_bytes(&self) -> usize {
        match self {
            Codes::Int8(c) => c.memory_bytes(),
            Codes::Binary(c) => c.memory_bytes(),
            Codes::F16(c) => c.memory_bytes(),
        }
    }

    /// [`search_rescored`] with these codes.
    pub fn search_rescored<'d>(
        &self,
        hnsw: &Hnsw,
        data: impl Into<RowsRef<'d>>,
        query: &[f32],
        k: usize,
        params: QuantSearch,
        filter: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<(u32, f32)> {
        let data = data.into();
        match self {
            Codes::Int8(c) => {
                search_rescored(hnsw, &c.query(query), data, query, k, params, filter)
            }
            Codes::Binary(c) => {
                search_rescored(hnsw, &c.query(query), data, query, k, params, filter)
            }
            Codes::F16(c) => search_rescored(hnsw, &c.query(query), data, query, k, params, filter),
        }
    }

    /// [`Codes::search_rescored`] (or, without `rescore`, [`Codes::search_estimated`]) on a
    /// graph over a subset of the rows: node `i` of `hnsw` is row `rows[i]` of the codes and
    /// of `data`. `filter` and the results are in rows, not nodes.
    #[allow(clippy::too_many_arguments)]
    pub fn search_subset<'d>(
        &self,
        hnsw: &Hnsw,
        rows: &[u32],
        data: impl Into<RowsRef<'d>>,
        query: &[f32],
        k: usize,
        params: QuantSearch,
        rescore: bool,
        filter: &dyn Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        let (ask, keep) = ((data.into(), query, k), (params, rescore, filter));
        match self {
            Codes::Int8(c) => subset_search(hnsw, c.query(query), rows, ask, keep),
            Codes::Binary(c) => subset_search(hnsw, c.query(query), rows, ask, keep),
            Codes::F16(c) => subset_search(hnsw, c.query(query), rows, ask, keep),
        }
    }

    /// The best `k` by the codes' estimates alone (no rescoring), as `(row, score)` in the
    /// metric's natural units.
    pub fn search_estimated(
        &self,
        hnsw: &Hnsw,
        query: &[f32],
        k: usize,
        ef: usize,
        filter: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<(u32, f32)> {
        let found = match self {
            Codes::Int8(c) => hnsw.search_by(&c.query(query), k, ef, filter),
            Codes::Binary(c) => hnsw.search_by(&c.query(query), k, ef, filter),
            Codes::F16(c) => hnsw.search_by(&c.query(query), k, ef, filter),
        };
        natural_units(hnsw.metric(), found)
    }
}

/// Walk distances (smaller is closer) as scores in `metric`'s natural units.
fn natural_units(metric: Metric, found: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
    let flip = metric == Metric::Dot;
    found
        .into_iter()
        .map(|(r, d)| (r, if flip { -d } else { d }))
        .collect()
}

/// Candidates a walk collects for rescoring: `k × oversampling`, at least `k`, at most the
/// beam width.
fn rescore_width(k: usize, params: QuantSearch) -> usize {
    ((k as f32 * params.oversampling.max(1.0)).ceil() as usize)
        .max(k)
        .min(params.ef.max(k))
}

/// Distances of `inner` (over rows) for the nodes of a graph over `rows`.
struct Subset<'a, Q> {
    inner: Q,
    rows: &'a [u32],
}

impl<Q: QueryDistance> QueryDistance for Subset<'_, Q> {
    #[inline]
    fn distance(&self, node: u32) -> f32 {
        self.rows
            .get(node as usize)
            .map_or(f32::INFINITY, |&r| self.inner.distance(r))
    }

    #[inline]
    fn prefetch(&self, node: u32) {
        if let Some(&r) = self.rows.get(node as usize) {
            self.inner.prefetch(r);
        }
    }
}

/// See [`Codes::search_subset`]: `inner` over rows, `(data, query, k)` and `(params,
/// rescore, filter)`.
fn subset_search<Q: QueryDistance>(
    hnsw: &Hnsw,
    inner: Q,
    rows: &[u32],
    (data, query, k): (RowsRef<'_>, &[f32], usize),
    (params, rescore_rows, filter): (QuantSearch, bool, &dyn Fn(u32) -> bool),
) -> Vec<(u32, f32)> {
    let q = &Subset { inner, rows };
    let accept = |node: u32| rows.get(node as usize).is_some_and(|&r| filter(r));
    let to_rows = |found: Vec<(u32, f32)>| -> Vec<(u32, f32)> {
        found
            .into_iter()
            .filter_map(|(node, d)| Some((*rows.get(node as usize)?, d)))
            .collect()
    };
    if !rescore_rows {
        let found = to_rows(hnsw.search_by(q, k, params.ef.max(k), Some(&accept)));
        return natural_units(hnsw.metric(), found);
    }
    let want = rescore_width(k, params);
    let candidates = to_rows(hnsw.search_by(q, want, params.ef.max(want), Some(&accept)));
    rescore(data, hnsw.dim(), hnsw.metric(), query, &candidates, k)
}

/// Walks `hnsw` with quantized distances `q`, then rescores the best `k · oversampling`
/// candidates exactly from `data`'s rows. Results: `(row, score)` in the metric's natural
/// units, best first.
pub fn search_rescored<'d, Q: QueryDistance>(
    hnsw: &Hnsw,
    q: &Q,
    data: impl Into<RowsRef<'d>>,
    query: &[f32],
    k: usize,
    params: QuantSearch,
    filter: Option<&dyn Fn(u32) -> bool>,
) -> Vec<(u32, f32)> {
    let want = rescore_width(k, params);
    let candidates = hnsw.search_by(q, want, params.ef.max(want), filter);
    rescore(data, hnsw.dim(), hnsw.metric(), query, &candidates, k)
}

/// The best `k` of `candidates` by exact score from `data`'s rows (natural units, best
/// first).
pub fn rescore<'d>(
    data: impl Into<RowsRef<'d>>,
    dim: usize,
    metric: Metric,
    query: &[f32],
    candidates: &[(u32, f32)],
    k: usize,
) -> Vec<(u32, f32)> {
    let data = data.into();
    let mut scored: Vec<(u32, f32)> = candidates
        .iter()
        .filter_map(|&(row, _)| Some((row, data.score(metric, dim, query, row)?)))
        .collect();
    let better = metric.higher_is_better();
    scored.sort_by(|a, b| {
        let o = a.1.total_cmp(&b.1);
        (if better { o.reverse() } else { o }).then(a.0.cmp(&b.0))
    });
    scored.truncate(k);
    scored
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flat;
    use crate::hnsw::HnswParams;

    /// `n` rows around `count` random centres (components in ±0.5), row `i` in cluster
    /// `7i mod count`, each component off its centre by up to ±`spread`/2.
    fn clusters(n: usize, dim: usize, seed: u64, count: usize, spread: f32) -> Vec<f32> {
        let mut s = seed;
        let mut next = move || {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let centres: Vec<f32> = (0..count * dim).map(|_| next()).collect();
        (0..n)
            .flat_map(|i| {
                let c = (i * 7) % count;
                centres[c * dim..(c + 1) * dim]
                    .iter()
                    .map(|x| x + spread * next())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        clusters(n, dim, seed, 32, 0.3)
    }

    fn recall(
        metric: Metric,
        dim: usize,
        search: impl Fn(&Hnsw, &[f32], &[f32]) -> Vec<(u32, f32)>,
    ) -> f32 {
        let mut base = data(4100, dim, 1);
        let queries = base.split_off(4000 * dim);
        let hnsw = Hnsw::build(&base, dim, metric, HnswParams::default(), 2);
        let mut found = 0;
        for q in queries.chunks_exact(dim) {
            let truth: Vec<u32> = flat::search(q, &base, dim, metric, 10, |_| true)
                .iter()
                .map(|h| h.0)
                .collect();
            let got = search(&hnsw, &base, q);
            assert!(got.len() == 10);
            found += got.iter().filter(|h| truth.contains(&h.0)).count();
        }
        found as f32 / 1000.0
    }

    #[test]
    fn float_walk_baseline() {
        for metric in [Metric::Dot, Metric::L2Squared, Metric::L1] {
            let r = recall(metric, 48, |hnsw, base, q| {
                hnsw.search(base, q, 10, 64, None)
            });
            assert!(r >= 0.95, "{metric:?}: float recall {r}");
        }
    }

    #[test]
    fn int8_walk_with_rescoring_keeps_recall() {
        for metric in [Metric::Dot, Metric::L2Squared, Metric::L1] {
            let r = recall(metric, 48, |hnsw, base, q| {
                let codes = Int8Codes::encode(base, 48, metric, 0.99);
                let params = QuantSearch {
                    ef: 64,
                    oversampling: 3.0,
                };
                search_rescored(hnsw, &codes.query(q), base, q, 10, params, None)
            });
            assert!(r >= 0.95, "{metric:?}: int8 recall {r}");
        }
    }

    /// A scan of chosen half-precision rows ranks and scores them as the exact search over
    /// the same values in f32 does (ties to the smaller row, repeated rows once).
    #[test]
    fn f16_row_scans_match_exact_search_over_the_same_values() {
        use crate::distance::half::{f16_to_f32, f32_to_f16};
        let base: Vec<f32> = data(300, 48, 9)
            .iter()
            .map(|&x| f16_to_f32(f32_to_f16(x)))
            .collect();
        let rows: Vec<u32> = (0..300).filter(|r| r % 3 != 1).chain([299, 299]).collect();
        let half = HalfRows::encode(&base, 48);
        for metric in [Metric::Dot, Metric::L2Squared, Metric::L1] {
            for q in data(5, 48, 10).chunks(48) {
                let got = half.search_rows(q, metric, 10, &rows);
                let want = flat::search_rows(q, &base, 48, metric, 10, &rows);
                assert_eq!(got.len(), 10);
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g.0, w.0, "{metric:?}");
                    assert!((g.1 - w.1).abs() <= 1e-4 * w.1.abs().max(1.0), "{metric:?}");
                }
            }
            assert!(half.search_rows(&[0.0; 3], metric, 10, &rows).is_empty());
            assert!(half.search_rows(&base[..48], metric, 0, &rows).is_empty());
        }
    }

    #[test]
    fn f16_walk_matches_the_float_walk() {
        for metric in [Metric::Dot, Metric::L2Squared, Metric::L1] {
            let r = recall(metric, 48, |hnsw, base, q| {
                let rows = F16Rows::encode(base, 48, metric);
                let params = QuantSearch {
                    ef: 64,
                    oversampling: 1.0,
                };
                search_rescored(hnsw, &rows.query(q), base, q, 10, params, None)
            });
            assert!(r >= 0.95, "{metric:?}: f16 recall {r}");
        }
        let base = data(100, 48, 5);
        let rows = F16Rows::encode(&base, 48, Metric::L2Squared);
        assert_eq!(rows.rows(), 100);
        assert_eq!(rows.memory_bytes(), base.len() * 2);
        let q = rows.query(&base[48..96]);
        assert!(
            q.distance(1) < 1e-3,
            "a row is near itself: {}",
            q.distance(1)
        );
        assert_eq!(q.distance(100), f32::INFINITY);
        assert_eq!(rows.query(&[1.0; 3]).distance(0), f32::INFINITY);
    }

    #[test]
    fn binary_walk_with_rescoring_keeps_recall() {
        for metric in [Metric::Dot, Metric::L2Squared] {
            // One bit per component needs some dimensions to average out its error.
            let r = recall(metric, 128, |hnsw, base, q| {
                let codes = BinaryCodes::encode(base, 128, metric).unwrap();
                let params = QuantSearch {
                    ef: 300,
                    oversampling: 30.0,
                };
                search_rescored(hnsw, &codes.query(q), base, q, 10, params, None)
            });
            assert!(r >= 0.95, "{metric:?}: binary recall {r}");
        }
        assert!(BinaryCodes::encode(&[1.0, 2.0], 2, Metric::L1).is_none());
    }

    #[test]
    fn binary_codes_tell_apart_rows_of_tight_clusters() {
        // 20 clusters of 400 rows whose spread is a tenth of the distance between them:
        // centred on one global mean, every row of a cluster gets nearly the same signs and
        // recall stalls (about 0.6 here); centred on k-means centroids it is about 0.99.
        // One build thread: the same graph every run.
        let dim = 64;
        let mut base = clusters(8100, dim, 11, 20, 0.1);
        let queries = base.split_off(8000 * dim);
        let hnsw = Hnsw::build(&base, dim, Metric::L2Squared, HnswParams::default(), 1);
        let codes = BinaryCodes::encode(&base, dim, Metric::L2Squared).unwrap();
        assert!(codes.clusters() > 20, "{}", codes.clusters());
        let again = BinaryCodes::encode(&base, dim, Metric::L2Squared).unwrap();
        let params = QuantSearch {
            ef: 200,
            oversampling: 20.0,
        };
        let mut found = 0;
        for q in queries.chunks_exact(dim) {
            let truth: Vec<u32> = flat::search(q, &base, dim, Metric::L2Squared, 10, |_| true)
                .iter()
                .map(|h| h.0)
                .collect();
            let got = search_rescored(&hnsw, &codes.query(q), &base, q, 10, params, None);
            found += got.iter().filter(|h| truth.contains(&h.0)).count();
            // encoding is deterministic: the same rows give the same estimates
            let (a, b) = (codes.query(q), again.query(q));
            assert!((0..50).all(|r| a.distance(r) == b.distance(r)));
        }
        let recall = found as f32 / 1000.0;
        assert!(recall >= 0.95, "binary recall on tight clusters {recall}");
    }

    #[test]
    fn codes_walk_graphs_of_a_subset_of_their_rows() {
        // a graph over every third row, walked with codes over all rows: node i is row 3i
        let dim = 48;
        let mut base = data(6100, dim, 5);
        let queries = base.split_off(6000 * dim);
        let rows: Vec<u32> = (0..6000u32).filter(|r| r % 3 == 0).collect();
        let subset: Vec<f32> = rows
            .iter()
            .flat_map(|&r| base[r as usize * dim..(r as usize + 1) * dim].to_vec())
            .collect();
        for metric in [Metric::Dot, Metric::L2Squared] {
            let hnsw = Hnsw::build(&subset, dim, metric, HnswParams::default(), 2);
            let codes = Codes::Int8(Int8Codes::encode(&base, dim, metric, 0.99));
            let params = QuantSearch {
                ef: 64,
                oversampling: 3.0,
            };
            let odd = |r: u32| r % 2 == 1;
            let mut found = 0;
            for q in queries.chunks_exact(dim) {
                let allowed: Vec<u32> = rows.iter().copied().filter(|&r| odd(r)).collect();
                let truth: Vec<u32> = flat::search_rows(q, &base, dim, metric, 10, &allowed)
                    .iter()
                    .map(|h| h.0)
                    .collect();
                let got = codes.search_subset(&hnsw, &rows, &base, q, 10, params, true, &odd);
                assert_eq!(got.len(), 10);
                assert!(
                    got.iter().all(|h| odd(h.0) && h.0 % 3 == 0),
                    "rows, filtered"
                );
                let exact = flat::search_rows(q, &base, dim, metric, 10, &[got[0].0])[0].1;
                assert!((got[0].1 - exact).abs() < 1e-4, "rescored exactly");
                found += got.iter().filter(|h| truth.contains(&h.0)).count();
                let estimated =
                    codes.search_subset(&hnsw, &rows, &base, q, 10, params, false, &odd);
                assert!(estimated.iter().all(|h| odd(h.0) && h.0 % 3 == 0));
            }
            let r = found as f32 / 1000.0;
            assert!(r >= 0.95, "{metric:?}: recall {r}");
        }
    }

    #[test]
    fn codes_are_small_and_total_on_odd_input() {
        let base = data(1000, 48, 3);
        let i8c = Int8Codes::encode(&base, 48, Metric::Dot, 0.99);
        assert_eq!(i8c.rows(), 1000);
        assert!(i8c.memory_bytes() <= base.len() + 64);
        let bc = BinaryCodes::encode(&base, 48, Metric::Dot).unwrap();
        assert!(
            bc.memory_bytes() < base.len() * 4 / 4,
            "{}",
            bc.memory_bytes()
        );
        // Out-of-range rows and NaN queries never panic.
        assert_eq!(i8c.query(&[0.0; 48]).distance(5000), f32::INFINITY);
        assert_eq!(bc.query(&[f32::NAN; 48]).distance(5000), f32::INFINITY);
        let _ = bc.query(&[f32::NAN; 48]).distance(3);
        let empty = Int8Codes::encode(&[], 4, Metric::Dot, 0.99);
        assert_eq!(empty.rows(), 0);
    }
}
