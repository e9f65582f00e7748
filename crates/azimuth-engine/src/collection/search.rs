//! Exact top-k search over dense vectors (SIMD scan) and sparse vectors (dot product).

use std::cmp::Ordering;

use azimuth_index::distance::Metric;
use azimuth_index::flat;

use super::read::{select_payload, select_vectors};
use super::state::State;
use super::Collection;
use crate::error::Result;
use crate::filter::Filter;
use crate::point::{
    prepare_dense, unknown_vector, PayloadSelector, ScoredPoint, SparseVector, VectorSelector,
};
use crate::segment::Segment;
use crate::types::Distance;

/// The query of a search.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryVector {
    Dense(Vec<f32>),
    Sparse(SparseVector),
}

/// A top-k search.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    pub query: QueryVector,
    /// Vector name to search (`""` = the unnamed vector).
    pub using: String,
    pub filter: Option<Filter>,
    pub limit: usize,
    pub offset: usize,
    /// Keep only scores strictly better than this (`>` for similarities, `<` for distances).
    pub score_threshold: Option<f32>,
    pub with_payload: PayloadSelector,
    pub with_vectors: VectorSelector,
}

impl SearchRequest {
    /// A plain top-`limit` search of the unnamed dense vector.
    pub fn dense(query: Vec<f32>, limit: usize) -> Self {
        SearchRequest {
            query: QueryVector::Dense(query),
            using: String::new(),
            filter: None,
            limit,
            offset: 0,
            score_threshold: None,
            with_payload: PayloadSelector::None,
            with_vectors: VectorSelector::None,
        }
    }
}

/// A hit before it is materialised: score, segment, row.
type Hit = (f32, u64, u32);

impl Collection {
    /// Exact nearest neighbours, best first.
    pub fn search(&self, req: &SearchRequest) -> Result<Vec<ScoredPoint>> {
        self.check_alive()?;
        let st = self.state.read();
        self.search_locked(&st, req)
    }

    /// Several searches against one consistent view.
    pub fn search_batch(&self, reqs: &[SearchRequest]) -> Result<Vec<Vec<ScoredPoint>>> {
        self.check_alive()?;
        let st = self.state.read();
        reqs.iter().map(|r| self.search_locked(&st, r)).collect()
    }

    fn search_locked(&self, st: &State, req: &SearchRequest) -> Result<Vec<ScoredPoint>> {
        let k = req.offset.saturating_add(req.limit);
        let (higher_better, mut hits) = match &req.query {
            QueryVector::Dense(q) => {
                let Some(params) = self.config.vectors.get(&req.using) else {
                    return Err(unknown_vector(&req.using, &self.config));
                };
                let q = prepare_dense(&req.using, q.clone(), &self.config)?;
                let d = params.distance;
                let hits: Vec<Hit> = st
                    .segments
                    .values()
                    .flat_map(|s| dense_hits(s, &req.using, &q, d, k, req.filter.as_ref()))
                    .collect();
                (d.higher_is_better(), hits)
            }
            QueryVector::Sparse(q) => {
                if !self.config.sparse_vectors.contains_key(&req.using) {
                    return Err(unknown_vector(&req.using, &self.config));
                }
                let q = q.clone().normalized(&req.using)?;
                (
                    true,
                    st.segments
                        .values()
                        .flat_map(|s| sparse_hits(s, &req.using, &q, req.filter.as_ref()))
                        .collect(),
                )
            }
        };
        if let Some(t) = req.score_threshold {
            hits.retain(|h: &Hit| if higher_better { h.0 > t } else { h.0 < t });
        }
        hits.sort_by(|a, b| {
            let o = a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal);
            let o = if higher_better { o.reverse() } else { o };
            o.then_with(|| {
                st.segments[&a.1].data.ids[a.2 as usize]
                    .cmp(&st.segments[&b.1].data.ids[b.2 as usize])
            })
        });
        Ok(hits
            .into_iter()
            .skip(req.offset)
            .take(req.limit)
            .map(|(score, s, r)| {
                let seg = &st.segments[&s];
                ScoredPoint {
                    id: seg.data.ids[r as usize].clone(),
                    version: seg.data.versions[r as usize],
                    score,
                    payload: select_payload(&seg.data.payloads[r as usize], &req.with_payload),
                    vectors: select_vectors(seg, r, &req.with_vectors),
                }
            })
            .collect())
    }
}

fn dense_hits(
    seg: &Segment,
    name: &str,
    q: &[f32],
    d: Distance,
    k: usize,
    filter: Option<&Filter>,
) -> Vec<Hit> {
    let Some(col) = seg.data.dense.get(name) else {
        return Vec::new();
    };
    if k == 0 || seg.live == 0 {
        return Vec::new();
    }
    let metric = match d {
        Distance::Cosine | Distance::Dot => Metric::Dot,
        Distance::Euclid => Metric::L2Squared,
        Distance::Manhattan => Metric::L1,
    };
    let found = match filter.filter(|f| !f.is_empty()) {
        Some(_) => {
            let rows: Vec<u32> = seg
                .matching_rows(filter)
                .into_iter()
                .filter(|&r| col.present[r as usize])
                .collect();
            flat::search_rows(q, &col.data, col.dim, metric, k, &rows)
        }
        None => flat::search(q, &col.data, col.dim, metric, k, |r| {
            seg.is_live(r) && col.present[r as usize]
        }),
    };
    found
        .into_iter()
        .map(|(r, s)| {
            (
                if d == Distance::Euclid {
                    s.max(0.0).sqrt()
                } else {
                    s
                },
                seg.id,
                r,
            )
        })
        .collect()
}

fn sparse_hits(seg: &Segment, name: &str, q: &SparseVector, filter: Option<&Filter>) -> Vec<Hit> {
    let Some(col) = seg.data.sparse.get(name) else {
        return Vec::new();
    };
    seg.matching_rows(filter)
        .into_iter()
        .filter_map(|r| Some((col[r as usize].as_ref()?.dot(q)?, seg.id, r)))
        .collect()
}
