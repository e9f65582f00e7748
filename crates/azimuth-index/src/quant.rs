//! Quantized codes that an HNSW walk can use instead of the f32 rows, and exact rescoring.
//!
//! - [`Int8Codes`]: one signed byte per component, `x ≈ scale · c` with one scale for the
//!   whole matrix, set from a quantile of |x| (outliers are clipped). The query is quantized
//!   the same way and distances are exact integer sums (AVX2), scaled back: 4× smaller than
//!   f32 and close enough to steer a walk; the final candidates are rescored from the f32
//!   rows.
//! - [`BinaryCodes`]: one bit per component, RaBitQ-style (Gao & Long, 2024): each row is
//!   centred on the data's mean, normalised, and stored as the signs of its components plus
//!   two floats (its norm and the inner product of its sign vector with itself normalised).
//!   An inner product with a query is estimated as `⟨c,q⟩ + ‖o‖·⟨x̄,q⟩/⟨x̄,ō⟩`, where the
//!   query is held as four bit planes so `⟨x̄,q⟩` costs a few AND-popcounts. 32× smaller than
//!   f32; coarse, so it needs a wider beam and rescoring. Dot, cosine and L2 only.
//!
//! Both implement [`QueryDistance`], so [`Hnsw::search_by`] walks the same graph with them;
//! [`rescore`] then ranks the walk's candidates by exact f32 distance.

use crate::distance::codes::{int8, weighted_and_popcount, Int8Op};
use crate::distance::{self, kernels, Metric};
use crate::hnsw::{Hnsw, QueryDistance};

/// How a quantized search walks and rescores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantSearch {
    /// Beam width of the walk over codes.
    pub ef: usize,
    /// Candidates rescored from the f32 rows: `k · oversampling` (at least `k`, at most `ef`).
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
#[derive(Clone, Debug)]
pub struct BinaryCodes {
    words: usize,
    metric: Metric,
    centroid: Vec<f32>,
    /// `words` u64 per row: bit i set when component i of the centred row is positive.
    bits: Vec<u64>,
    /// Per row: ‖o‖ / (⟨x̄,ō⟩ · √dim), the factor that turns a sign sum into ⟨o,q⟩.
    factor: Vec<f32>,
    /// Per row: number of set bits.
    ones: Vec<u32>,
    /// Per row: ⟨o, c⟩, exact.
    oc: Vec<f32>,
    /// Per row: ‖x‖² (for L2).
    norm_sq: Vec<f32>,
}

impl BinaryCodes {
    /// Encodes every whole row of `data`. `None` for [`Metric::L1`], which the estimator
    /// does not cover.
    pub fn encode(data: &[f32], dim: usize, metric: Metric) -> Option<BinaryCodes> {
        if metric == Metric::L1 || dim == 0 {
            return None;
        }
        let rows = data.len() / dim;
        let words = dim.div_ceil(64);
        let mut centroid = vec![0f64; dim];
        for row in data.chunks_exact(dim) {
            for (c, &x) in centroid.iter_mut().zip(row) {
                *c += f64::from(x);
            }
        }
        let centroid: Vec<f32> = centroid
            .iter()
            .map(|&c| (c / rows.max(1) as f64) as f32)
            .collect();
        let mut codes = BinaryCodes {
            words,
            metric,
            bits: vec![0; rows * words],
            factor: Vec::with_capacity(rows),
            ones: Vec::with_capacity(rows),
            oc: Vec::with_capacity(rows),
            norm_sq: Vec::with_capacity(rows),
            centroid,
        };
        for (r, row) in data.chunks_exact(dim).enumerate() {
            let code = &mut codes.bits[r * words..(r + 1) * words];
            let (mut norm_sq_o, mut abs_sum, mut oc) = (0f32, 0f32, 0f32);
            for (i, (&x, &c)) in row.iter().zip(&codes.centroid).enumerate() {
                let o = x - c;
                norm_sq_o += o * o;
                abs_sum += o.abs();
                oc += o * c;
                if o > 0.0 {
                    code[i / 64] |= 1 << (i % 64);
                }
            }
            // ⟨x̄, ō⟩ = Σ|oᵢ| / (‖o‖ √dim); the factor is ‖o‖ / (⟨x̄,ō⟩ √dim) = ‖o‖² / Σ|oᵢ|.
            let factor = if abs_sum > 0.0 {
                norm_sq_o / abs_sum
            } else {
                0.0
            };
            codes.factor.push(factor);
            codes.oc.push(oc);
            codes.ones.push(code.iter().map(|w| w.count_ones()).sum());
            codes.norm_sq.push(row.iter().map(|x| x * x).sum());
        }
        Some(codes)
    }

    /// A query ready to estimate distances to the codes.
    pub fn query(&self, q: &[f32]) -> BinaryQuery<'_> {
        let centred: Vec<f32> = q.iter().zip(&self.centroid).map(|(x, c)| x - c).collect();
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
        let centroid_dot: f32 = q.iter().zip(&self.centroid).map(|(a, b)| a * b).sum();
        let q_norm_sq: f32 = q.iter().map(|x| x * x).sum();
        BinaryQuery {
            codes: self,
            planes,
            lo,
            delta,
            sum_q,
            centroid_dot,
            q_norm_sq,
        }
    }

    pub fn rows(&self) -> usize {
        self.factor.len()
    }

    /// Heap bytes of the codes and per-row factors.
    pub fn memory_bytes(&self) -> usize {
        self.bits.capacity() * 8
            + (self.factor.capacity() + self.norm_sq.capacity()) * 4
            + (self.ones.capacity() + self.oc.capacity()) * 4
            + self.centroid.capacity() * 4
    }
}

/// A query against [`BinaryCodes`].
pub struct BinaryQuery<'a> {
    codes: &'a BinaryCodes,
    planes: Vec<u64>,
    lo: f32,
    delta: f32,
    sum_q: f32,
    centroid_dot: f32,
    q_norm_sq: f32,
}

impl BinaryQuery<'_> {
    /// Estimated ⟨x, q⟩ for row `r` (< rows).
    #[inline]
    fn dot(&self, r: usize) -> f32 {
        let c = self.codes;
        let code = &c.bits[r * c.words..(r + 1) * c.words];
        let weighted = weighted_and_popcount(code, &self.planes) as f32;
        // Σ over set bits of q, then ⟨sign, q⟩ = 2·that − Σq.
        let set_sum = self.lo * c.ones[r] as f32 + self.delta * weighted;
        let sign_dot = 2.0 * set_sum - self.sum_q;
        // ⟨x, q⟩ = ⟨c, q⟩ + ⟨o, c⟩ + ⟨o, q − c⟩, the last estimated as
        // ‖o‖·⟨x̄, q−c⟩/⟨x̄, ō⟩ = factor · ⟨sign, q−c⟩ (x̄ = sign/√dim).
        self.centroid_dot + c.oc[r] + c.factor[r] * sign_dot
    }
}

impl QueryDistance for BinaryQuery<'_> {
    #[inline]
    fn distance(&self, id: u32) -> f32 {
        let r = id as usize;
        if r >= self.codes.rows() {
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

/// Either kind of codes, with the walk dispatched once per search.
#[derive(Clone, Debug)]
pub enum Codes {
    Int8(Int8Codes),
    Binary(BinaryCodes),
}

impl Codes {
    /// Heap bytes of the codes.
    pub fn memory_bytes(&self) -> usize {
        match self {
            Codes::Int8(c) => c.memory_bytes(),
            Codes::Binary(c) => c.memory_bytes(),
        }
    }

    /// [`search_rescored`] with these codes.
    pub fn search_rescored(
        &self,
        hnsw: &Hnsw,
        data: &[f32],
        query: &[f32],
        k: usize,
        params: QuantSearch,
        filter: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<(u32, f32)> {
        match self {
            Codes::Int8(c) => {
                search_rescored(hnsw, &c.query(query), data, query, k, params, filter)
            }
            Codes::Binary(c) => {
                search_rescored(hnsw, &c.query(query), data, query, k, params, filter)
            }
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
        };
        let flip = hnsw.metric() == Metric::Dot;
        found
            .into_iter()
            .map(|(r, d)| (r, if flip { -d } else { d }))
            .collect()
    }
}

/// Walks `hnsw` with quantized distances `q`, then rescores the best `k · oversampling`
/// candidates exactly from the f32 rows. Results: `(row, score)` in the metric's natural
/// units, best first.
pub fn search_rescored<Q: QueryDistance>(
    hnsw: &Hnsw,
    q: &Q,
    data: &[f32],
    query: &[f32],
    k: usize,
    params: QuantSearch,
    filter: Option<&dyn Fn(u32) -> bool>,
) -> Vec<(u32, f32)> {
    let want = ((k as f32 * params.oversampling.max(1.0)).ceil() as usize)
        .max(k)
        .min(params.ef.max(k));
    let candidates = hnsw.search_by(q, want, params.ef.max(want), filter);
    rescore(data, hnsw.dim(), hnsw.metric(), query, &candidates, k)
}

/// The best `k` of `candidates` by exact f32 score (natural units, best first).
pub fn rescore(
    data: &[f32],
    dim: usize,
    metric: Metric,
    query: &[f32],
    candidates: &[(u32, f32)],
    k: usize,
) -> Vec<(u32, f32)> {
    let kernels = kernels();
    let mut scored: Vec<(u32, f32)> = candidates
        .iter()
        .filter_map(|&(row, _)| {
            let start = row as usize * dim;
            let v = data.get(start..start + dim)?;
            Some((row, kernels.score(metric, query, v)))
        })
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

    fn data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        let mut next = move || {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let centres: Vec<f32> = (0..32 * dim).map(|_| next()).collect();
        (0..n)
            .flat_map(|i| {
                let c = (i * 7) % 32;
                centres[c * dim..(c + 1) * dim]
                    .iter()
                    .map(|x| x + 0.3 * next())
                    .collect::<Vec<_>>()
            })
            .collect()
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
