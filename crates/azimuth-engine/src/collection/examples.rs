//! Queries scored against several example vectors instead of one: recommendation by the best
//! or the summed similarity, discovery (a target steered by context pairs), context search,
//! and maximal-marginal-relevance re-ranking. Scores follow Qdrant's definitions, built on
//! the "raw" similarity of the vector's metric: the dot product for Dot and Cosine (vectors
//! normalised), minus the squared distance for Euclid, minus the L1 distance for Manhattan.

use std::cell::RefCell;

use azimuth_index::distance::Metric;
use azimuth_index::hnsw::QueryDistance;

use crate::config::CollectionConfig;
use crate::error::{Error, Result};
use crate::point::{prepare_dense, ScoredPoint};
use crate::segment::DenseColumn;

/// One positive/negative pair of a discovery or context query.
#[derive(Clone, Debug, PartialEq)]
pub struct ContextPair {
    pub positive: Vec<f32>,
    pub negative: Vec<f32>,
}

/// A query scored against example vectors. Higher scores are better for every variant,
/// whatever the metric.
#[derive(Clone, Debug, PartialEq)]
pub enum ExampleQuery {
    /// Recommendation, `best_score`: a point nearer to its best positive than to its best
    /// negative scores `sigmoid(best positive similarity)` in (0, 1); otherwise
    /// `−sigmoid(best negative similarity)`.
    BestScore {
        positive: Vec<Vec<f32>>,
        negative: Vec<Vec<f32>>,
    },
    /// Recommendation, `sum_scores`: Σ similarity to positives − Σ similarity to negatives.
    SumScores {
        positive: Vec<Vec<f32>>,
        negative: Vec<Vec<f32>>,
    },
    /// Discovery: +1 for every pair whose positive is more similar than its negative, −1 for
    /// every pair the other way round, plus `sigmoid(similarity to target)` in (0, 1).
    Discover {
        target: Vec<f32>,
        context: Vec<ContextPair>,
    },
    /// Context search: Σ over pairs of `sigmoid(min(sim(positive) − sim(negative) − ε, 0))`;
    /// 0 for a point on the positive side of every pair.
    Context(Vec<ContextPair>),
    /// Relevance feedback, naive strategy: `a · sim(target)` plus, for every ordered pair of
    /// feedback examples whose scores differ by `d > 0`, `c · d^b · (sim(better) −
    /// sim(worse))`.
    Feedback {
        target: Vec<f32>,
        /// Examples with the relevance score a judge gave them.
        feedback: Vec<(Vec<f32>, f32)>,
        a: f32,
        b: f32,
        c: f32,
    },
}

/// Maximal marginal relevance: take the `candidates` nearest points, then repeatedly pick
/// the one maximising `(1 − diversity) · sim(query) − diversity · max sim(picked)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mmr {
    /// 0 = relevance only, 1 = diversity only (default 0.5).
    pub diversity: f32,
    /// Nearest points considered (default: the number of results asked for).
    pub candidates: Option<usize>,
}

impl Default for Mmr {
    fn default() -> Self {
        Mmr {
            diversity: 0.5,
            candidates: None,
        }
    }
}

/// `x / (1 + |x|)`: a cheap sigmoid onto (−1, 1).
fn fast_sigmoid(x: f32) -> f32 {
    if x.is_finite() {
        x / (1.0 + x.abs())
    } else {
        x
    }
}

/// [`fast_sigmoid`] moved onto (0, 1).
fn scaled_sigmoid(x: f32) -> f32 {
    if x.is_finite() {
        0.5 * (fast_sigmoid(x) + 1.0)
    } else {
        x
    }
}

/// The raw similarity of `metric`: higher is more similar.
#[inline]
pub(crate) fn similarity(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    let s = metric.score(a, b);
    if metric.higher_is_better() {
        s
    } else {
        -s
    }
}

impl ExampleQuery {
    /// Checks the query against vector `name` of `config` and normalises its vectors as
    /// the stored ones are (cosine).
    pub(crate) fn prepared(&self, name: &str, config: &CollectionConfig) -> Result<ExampleQuery> {
        let prep = |v: &Vec<f32>| prepare_dense(name, v.clone(), config);
        let all = |vs: &Vec<Vec<f32>>| vs.iter().map(prep).collect::<Result<Vec<_>>>();
        let pairs = |ps: &Vec<ContextPair>| {
            ps.iter()
                .map(|p| {
                    Ok(ContextPair {
                        positive: prep(&p.positive)?,
                        negative: prep(&p.negative)?,
                    })
                })
                .collect::<Result<Vec<_>>>()
        };
        Ok(match self {
            ExampleQuery::BestScore { positive, negative }
            | ExampleQuery::SumScores { positive, negative } => {
                if positive.is_empty() && negative.is_empty() {
                    return Err(Error::invalid(
                        "a recommendation needs at least one positive or negative example",
                    ));
                }
                let (positive, negative) = (all(positive)?, all(negative)?);
                if matches!(self, ExampleQuery::BestScore { .. }) {
                    ExampleQuery::BestScore { positive, negative }
                } else {
                    ExampleQuery::SumScores { positive, negative }
                }
            }
            ExampleQuery::Discover { target, context } => ExampleQuery::Discover {
                target: prep(target)?,
                context: pairs(context)?,
            },
            ExampleQuery::Feedback {
                target,
                feedback,
                a,
                b,
                c,
            } => {
                if ![*a, *b, *c].iter().all(|x| x.is_finite())
                    || feedback.iter().any(|(_, s)| !s.is_finite())
                {
                    return Err(Error::invalid(
                        "relevance feedback coefficients and scores must be finite numbers",
                    ));
                }
                ExampleQuery::Feedback {
                    target: prep(target)?,
                    feedback: feedback
                        .iter()
                        .map(|(v, s)| Ok((prep(v)?, *s)))
                        .collect::<Result<Vec<_>>>()?,
                    a: *a,
                    b: *b,
                    c: *c,
                }
            }
            ExampleQuery::Context(ps) => {
                if ps.is_empty() {
                    return Err(Error::invalid(
                        "a context query needs at least one positive/negative pair",
                    ));
                }
                ExampleQuery::Context(pairs(ps)?)
            }
        })
    }

    /// The vectors whose neighbourhoods hold the best-scoring points: where graph walks start.
    pub(crate) fn seeds(&self) -> Vec<&[f32]> {
        match self {
            ExampleQuery::BestScore { positive, .. } | ExampleQuery::SumScores { positive, .. } => {
                positive.iter().map(Vec::as_slice).collect()
            }
            ExampleQuery::Discover { target, .. } | ExampleQuery::Feedback { target, .. } => {
                vec![target.as_slice()]
            }
            ExampleQuery::Context(pairs) => pairs.iter().map(|p| p.positive.as_slice()).collect(),
        }
    }

    /// The score of stored vector `v` (higher is better).
    pub(crate) fn score(&self, metric: Metric, v: &[f32]) -> f32 {
        let sim = |e: &[f32]| similarity(metric, e, v);
        match self {
            ExampleQuery::BestScore { positive, negative } => {
                let best =
                    |es: &[Vec<f32>]| es.iter().map(|e| sim(e)).fold(f32::NEG_INFINITY, f32::max);
                let (p, n) = (best(positive), best(negative));
                if p > n {
                    scaled_sigmoid(p)
                } else {
                    -scaled_sigmoid(n)
                }
            }
            ExampleQuery::SumScores { positive, negative } => {
                positive.iter().map(|e| sim(e)).sum::<f32>()
                    - negative.iter().map(|e| sim(e)).sum::<f32>()
            }
            ExampleQuery::Discover { target, context } => {
                let rank: i32 = context
                    .iter()
                    .map(|p| {
                        let (a, b) = (sim(&p.positive), sim(&p.negative));
                        (a > b) as i32 - (a < b) as i32
                    })
                    .sum();
                rank as f32 + scaled_sigmoid(sim(target))
            }
            ExampleQuery::Context(pairs) => pairs
                .iter()
                .map(|p| {
                    let d = sim(&p.positive) - sim(&p.negative) - f32::EPSILON;
                    fast_sigmoid(d.min(0.0))
                })
                .sum(),
            ExampleQuery::Feedback {
                target,
                feedback,
                a,
                b,
                c,
            } => {
                let sims: Vec<f32> = feedback.iter().map(|(e, _)| sim(e)).collect();
                let mut score = a * sim(target);
                for (i, (_, si)) in feedback.iter().enumerate() {
                    for (j, (_, sj)) in feedback.iter().enumerate() {
                        let confidence = si - sj;
                        if i != j && confidence > 0.0 {
                            score += confidence.powf(*b) * c * (sims[i] - sims[j]);
                        }
                    }
                }
                score
            }
        }
    }
}

/// An example query as a graph walk's distance (its negated score) over a column's rows
/// (half-precision ones are widened into a buffer, one row at a time).
pub(crate) struct ExampleWalk<'a> {
    query: &'a ExampleQuery,
    metric: Metric,
    col: &'a DenseColumn,
    widened: RefCell<Vec<f32>>,
}

impl<'a> ExampleWalk<'a> {
    pub fn new(query: &'a ExampleQuery, metric: Metric, col: &'a DenseColumn) -> Self {
        ExampleWalk {
            query,
            metric,
            col,
            widened: RefCell::new(Vec::with_capacity(col.dim)),
        }
    }

    fn score(&self, id: u32) -> Option<f32> {
        match (self.col.data.half(), self.col.data.f32s()) {
            (Some(h), _) => {
                let mut row = self.widened.borrow_mut();
                h.widen_row_into(id, &mut row)
                    .then(|| self.query.score(self.metric, &row))
            }
            (None, Some(data)) => {
                let start = (id as usize).checked_mul(self.col.dim)?;
                let row = data.get(start..start.checked_add(self.col.dim)?)?;
                Some(self.query.score(self.metric, row))
            }
            (None, None) => None,
        }
    }
}

impl QueryDistance for ExampleWalk<'_> {
    #[inline]
    fn distance(&self, id: u32) -> f32 {
        let Some(score) = self.score(id) else {
            return f32::INFINITY;
        };
        let d = -score;
        if d.is_nan() {
            f32::INFINITY
        } else {
            d
        }
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        self.col.prefetch(id);
    }
}

/// Re-ranks `candidates` (best first, each carrying its `using` vector in `vectors`) for
/// diversity and returns the first `limit` picks in pick order, scores untouched. Ties go
/// to the later candidate, as Qdrant's core picks them.
pub(crate) fn mmr_order(
    candidates: Vec<ScoredPoint>,
    vectors: &[Vec<f32>],
    query: &[f32],
    metric: Metric,
    diversity: f32,
    limit: usize,
) -> Vec<ScoredPoint> {
    let n = candidates.len();
    if n == 0 || limit == 0 {
        return Vec::new();
    }
    let lambda = 1.0 - diversity;
    let relevance: Vec<f32> = vectors
        .iter()
        .map(|v| similarity(metric, query, v))
        .collect();
    // Similarity of every pending candidate to its most similar picked one.
    let mut nearest_picked = vec![f32::NEG_INFINITY; n];
    let mut pending: Vec<usize> = (0..n).collect();
    let mut order = Vec::with_capacity(limit.min(n));
    let last_max = |pending: &[usize], key: &dyn Fn(usize) -> f32| -> usize {
        let mut best = 0;
        for (pos, &i) in pending.iter().enumerate() {
            if key(i) >= key(pending[best]) {
                best = pos;
            }
        }
        best
    };
    let first = last_max(&pending, &|i| relevance[i]);
    order.push(pending.swap_remove(first));
    while order.len() < limit && !pending.is_empty() {
        let picked = *order.last().unwrap_or(&0);
        for &i in &pending {
            let s = similarity(metric, &vectors[i], &vectors[picked]);
            nearest_picked[i] = nearest_picked[i].max(s);
        }
        let key = |i: usize| lambda * relevance[i] - diversity * nearest_picked[i];
        let pos = last_max(&pending, &key);
        order.push(pending.swap_remove(pos));
    }
    let mut slots: Vec<Option<ScoredPoint>> = candidates.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(i: u64) -> ScoredPoint {
        ScoredPoint {
            id: crate::PointId::Num(i),
            version: 0,
            score: 0.0,
            payload: None,
            vectors: None,
        }
    }

    #[test]
    fn best_score_prefers_positive_side() {
        let q = ExampleQuery::BestScore {
            positive: vec![vec![1.0, 0.0]],
            negative: vec![vec![0.0, 1.0]],
        };
        let near_pos = q.score(Metric::Dot, &[0.9, 0.1]);
        let near_neg = q.score(Metric::Dot, &[0.1, 0.9]);
        assert!(near_pos > 0.0 && near_pos < 1.0);
        assert!(near_neg < 0.0);
        // sigmoid(0.9) scaled: 0.5 * (0.9 / 1.9 + 1)
        assert!((near_pos - 0.5 * (0.9 / 1.9 + 1.0)).abs() < 1e-6);
    }

    #[test]
    fn sum_scores_and_euclid_similarity() {
        let q = ExampleQuery::SumScores {
            positive: vec![vec![0.0, 0.0]],
            negative: vec![vec![3.0, 4.0]],
        };
        // −|v|² + |v − (3,4)|² at v = (0, 0): 0 + 25
        assert_eq!(q.score(Metric::L2Squared, &[0.0, 0.0]), 25.0);
    }

    #[test]
    fn discover_counts_pairs_then_target() {
        let q = ExampleQuery::Discover {
            target: vec![1.0, 0.0],
            context: vec![
                ContextPair {
                    positive: vec![1.0, 0.0],
                    negative: vec![0.0, 1.0],
                },
                ContextPair {
                    positive: vec![0.0, 1.0],
                    negative: vec![1.0, 0.0],
                },
            ],
        };
        // one pair for, one against: rank 0, plus sigmoid(1) = 0.75
        assert!((q.score(Metric::Dot, &[1.0, 0.0]) - 0.75).abs() < 1e-6);
        let ctx = ExampleQuery::Context(vec![ContextPair {
            positive: vec![1.0, 0.0],
            negative: vec![0.0, 1.0],
        }]);
        assert_eq!(ctx.score(Metric::Dot, &[1.0, 0.0]), 0.0);
        assert!(ctx.score(Metric::Dot, &[0.0, 1.0]) < 0.0);
    }

    #[test]
    fn feedback_weighs_each_better_worse_pair() {
        let q = ExampleQuery::Feedback {
            target: vec![1.0, 0.0],
            feedback: vec![
                (vec![0.0, 1.0], 0.9),
                (vec![0.0, -1.0], 0.1),
                (vec![1.0, 1.0], 0.9),
            ],
            a: 2.0,
            b: 2.0,
            c: 0.5,
        };
        let v = [0.5, 0.25];
        // 2·0.5 + pairs (0 → 1) and (2 → 1), each 0.5 · 0.8² · (sim(better) − sim(worse));
        // the tie (0, 2) adds nothing.
        let want = 2.0 * 0.5 + 0.5 * 0.64 * (0.25 + 0.25) + 0.5 * 0.64 * (0.75 + 0.25);
        assert!((q.score(Metric::Dot, &v) - want).abs() < 1e-5);
    }

    #[test]
    fn mmr_skips_near_duplicates() {
        let vectors = vec![vec![1.0, 0.0], vec![0.99, 0.01], vec![0.6, 0.8]];
        let cands = vec![pt(0), pt(1), pt(2)];
        let out = mmr_order(cands, &vectors, &[1.0, 0.0], Metric::Dot, 0.7, 2);
        let ids: Vec<_> = out.iter().map(|p| p.id.clone()).collect();
        assert_eq!(ids, vec![crate::PointId::Num(0), crate::PointId::Num(2)]);
        let out = mmr_order(
            vec![pt(0), pt(1), pt(2)],
            &vectors,
            &[1.0, 0.0],
            Metric::Dot,
            0.0,
            3,
        );
        let ids: Vec<_> = out.iter().map(|p| p.id.clone()).collect();
        assert_eq!(
            ids,
            vec![
                crate::PointId::Num(0),
                crate::PointId::Num(1),
                crate::PointId::Num(2)
            ]
        );
    }
}
