//! Exact top-k search over dense vectors (SIMD scan) and sparse vectors (dot product).

use std::cmp::Ordering;
use std::sync::Arc;

use azimuth_index::distance::Metric;
use azimuth_index::quant::F16Rows;

use super::examples::{mmr_order, ExampleQuery, ExampleWalk, Mmr};
use super::read::{select_payload, select_vectors};
use super::state::State;
use super::Collection;
use crate::ann::{self, QuantizationParams, ValueGraph, VectorGraph};
use crate::error::Result;
use crate::filter::{Condition, Filter, Match};
use crate::point::{
    prepare_dense, unknown_vector, PayloadSelector, ScoredPoint, SparseVector, VectorSelector,
};
use crate::segment::{DenseColumn, RowSet, Segment};
use crate::types::Distance;

/// The query of a search.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryVector {
    Dense(Vec<f32>),
    Sparse(SparseVector),
    /// Scored against several dense examples (recommend by best or summed score, discover,
    /// context); higher scores are better whatever the metric.
    Examples(ExampleQuery),
}

/// How a search may use the ANN index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchParams {
    /// Beam width of graph searches (default: the vector's `ef_construct`, at least the
    /// number of results asked for).
    pub hnsw_ef: Option<usize>,
    /// Scan every vector exactly, ignoring graphs.
    pub exact: bool,
    /// Instead of `hnsw_ef`: the cheapest ef whose recall@10, measured when each graph was
    /// built, meets this target (0 < target ≤ 1).
    pub target_recall: Option<f32>,
    /// How the walk uses quantized codes, when the vector has them.
    pub quantization: QuantizationParams,
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
    pub params: SearchParams,
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
            params: SearchParams::default(),
        }
    }
}

/// Smallest batch [`Collection::search_batch`] spreads over threads.
const PARALLEL_BATCH: usize = 8;

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
    /// Batches of at least [`PARALLEL_BATCH`] requests are spread over the CPU's cores.
    pub fn search_batch(&self, reqs: &[SearchRequest]) -> Result<Vec<Vec<ScoredPoint>>> {
        self.check_alive()?;
        let st = self.state.read();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if reqs.len() < PARALLEL_BATCH || threads < 2 {
            return reqs.iter().map(|r| self.search_locked(&st, r)).collect();
        }
        let chunk = reqs.len().div_ceil(threads);
        let st = &*st;
        let parts: Vec<Result<Vec<Vec<ScoredPoint>>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = reqs
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|r| self.search_locked(st, r))
                            .collect::<Result<Vec<_>>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(crate::error::Error::Internal(
                            "a search thread panicked".into(),
                        ))
                    })
                })
                .collect()
        });
        let mut out = Vec::with_capacity(reqs.len());
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }

    /// A nearest-neighbour search re-ranked for diversity (maximal marginal relevance): the
    /// `mmr.candidates` nearest points (default `offset + limit`), then, one at a time, the
    /// candidate with the best `(1 − diversity) · relevance − diversity · similarity to the
    /// nearest one already picked`. Scores stay the query's; `offset` skips picks.
    pub fn search_mmr(&self, req: &SearchRequest, mmr: &Mmr) -> Result<Vec<ScoredPoint>> {
        let config = self.config();
        self.check_alive()?;
        if !(0.0..=1.0).contains(&mmr.diversity) {
            return Err(crate::error::Error::invalid(format!(
                "mmr diversity must be between 0 and 1, got {}",
                mmr.diversity
            )));
        }
        let QueryVector::Dense(q) = &req.query else {
            return Err(crate::error::Error::invalid(
                "mmr re-ranks dense vector searches only",
            ));
        };
        let Some(params) = config.vectors.get(&req.using) else {
            return Err(unknown_vector(&req.using, &config));
        };
        let q = prepare_dense(&req.using, q.clone(), &config)?;
        let want = req.offset.saturating_add(req.limit);
        let mut cand = req.clone();
        cand.offset = 0;
        cand.limit = mmr.candidates.unwrap_or(want);
        cand.with_vectors = match &req.with_vectors {
            VectorSelector::All => VectorSelector::All,
            VectorSelector::None => VectorSelector::Names(vec![req.using.clone()]),
            VectorSelector::Names(n) => {
                let mut n = n.clone();
                n.push(req.using.clone());
                VectorSelector::Names(n)
            }
        };
        let found = {
            let st = self.state.read();
            self.search_locked(&st, &cand)?
        };
        let vectors: Vec<Vec<f32>> = found
            .iter()
            .map(
                |p| match p.vectors.as_ref().and_then(|v| v.get(&req.using)) {
                    Some(crate::point::Vector::Dense(d)) => d.clone(),
                    _ => Vec::new(),
                },
            )
            .collect();
        let metric = ann::metric_for(params.distance);
        let mut out = mmr_order(found, &vectors, &q, metric, mmr.diversity, want);
        out.drain(..req.offset.min(out.len()));
        for p in &mut out {
            match &req.with_vectors {
                VectorSelector::All => {}
                VectorSelector::None => p.vectors = None,
                VectorSelector::Names(n) => {
                    if let Some(v) = p.vectors.as_mut() {
                        v.retain(|k, _| n.contains(k));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The recall@10 the graphs measured when they were built, at the ef this request would
    /// use: the lowest over the indexed segments it would walk. `None` when it walks no graph
    /// (exact search, sparse vectors, nothing indexed yet). An estimate from the segments' own
    /// vectors as queries; queries unlike the data may see less.
    pub fn estimated_recall(&self, req: &SearchRequest) -> Option<f32> {
        let config = self.config();
        if req.params.exact || !matches!(req.query, QueryVector::Dense(_)) {
            return None;
        }
        let default_ef = ann::params_for(&config, &req.using).ef_construct;
        let full_scan_rows = ann::full_scan_rows(&config, &req.using);
        let k = req.offset.saturating_add(req.limit);
        let filter = req.filter.as_ref().filter(|f| !f.is_empty());
        let st = self.state.read();
        st.segments
            .values()
            .filter_map(|s| {
                let g = s.graphs.get(&req.using)?;
                let ef = choose_ef(g, &req.params, default_ef, k);
                let Some(f) = filter else {
                    return g.recall_at(ef);
                };
                let route = route(s, &req.using, f, full_scan_rows).1;
                if let Route::Scan = route {
                    return Some(1.0);
                }
                // a subset graph's own table, when it was measured for this filter
                match subset_table(&route, f) {
                    Some(table) => {
                        let ef = calibrated_ef(table, &req.params, k).unwrap_or(ef);
                        ann::recall_at(table, ef)
                    }
                    None => g.recall_at(ef),
                }
            })
            .min_by(|a, b| a.total_cmp(b))
    }

    fn search_locked(&self, st: &State, req: &SearchRequest) -> Result<Vec<ScoredPoint>> {
        let config = self.config();
        let k = req.offset.saturating_add(req.limit);
        let (higher_better, mut hits) = match &req.query {
            QueryVector::Dense(q) => {
                let Some(params) = config.vectors.get(&req.using) else {
                    return Err(unknown_vector(&req.using, &config));
                };
                let q = prepare_dense(&req.using, q.clone(), &config)?;
                let d = params.distance;
                let how = Walk {
                    name: &req.using,
                    distance: d,
                    k,
                    filter: req.filter.as_ref().filter(|f| !f.is_empty()),
                    params: &req.params,
                    default_ef: ann::params_for(&config, &req.using).ef_construct,
                    full_scan_rows: ann::full_scan_rows(&config, &req.using),
                };
                let pinned = pinned_rows(st, how.filter);
                let hits: Vec<Hit> = st
                    .segments
                    .values()
                    .flat_map(|s| match &pinned {
                        Some(p) => pinned_hits(s, p.get(&s.id), &q, &how),
                        None => dense_hits(s, &q, &how),
                    })
                    .collect();
                (d.higher_is_better(), hits)
            }
            QueryVector::Examples(ex) => {
                let Some(params) = config.vectors.get(&req.using) else {
                    return Err(unknown_vector(&req.using, &config));
                };
                let ex = ex.prepared(&req.using, &config)?;
                let how = Walk {
                    name: &req.using,
                    distance: params.distance,
                    k,
                    filter: req.filter.as_ref().filter(|f| !f.is_empty()),
                    params: &req.params,
                    default_ef: ann::params_for(&config, &req.using).ef_construct,
                    full_scan_rows: ann::full_scan_rows(&config, &req.using),
                };
                let hits: Vec<Hit> = st
                    .segments
                    .values()
                    .flat_map(|s| example_hits(s, &ex, &how))
                    .collect();
                (true, hits)
            }
            QueryVector::Sparse(q) => {
                if !config.sparse_vectors.contains_key(&req.using) {
                    return Err(unknown_vector(&req.using, &config));
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

/// How one dense search treats each segment.
struct Walk<'a> {
    name: &'a str,
    distance: Distance,
    k: usize,
    filter: Option<&'a Filter>,
    params: &'a SearchParams,
    default_ef: usize,
    /// Filtered searches expecting fewer matches than this scan them exactly.
    full_scan_rows: usize,
}

fn dense_hits(seg: &Segment, q: &[f32], how: &Walk<'_>) -> Vec<Hit> {
    let Some(col) = seg.data.dense.get(how.name) else {
        return Vec::new();
    };
    if how.k == 0 || seg.live == 0 {
        return Vec::new();
    }
    let metric = ann::metric_for(how.distance);
    let graph = seg.graphs.get(how.name).filter(|_| !how.params.exact);
    let found = match (graph, how.filter) {
        (Some(g), filter) => graph_hits(seg, col, g, q, how, filter),
        (None, Some(_)) => exact_rows(seg, col, q, metric, how),
        (None, None) => col.scan(q, metric, how.k, |r| {
            seg.is_live(r) && col.present[r as usize]
        }),
    };
    found
        .into_iter()
        .map(|(r, s)| {
            (
                if how.distance == Distance::Euclid {
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

/// Most ids a `has_id` condition may list for a search to look its rows up instead of
/// planning per segment (where `has_id` has no index and means a scan of every row).
const PINNED_MAX_IDS: usize = 10_000;

/// For a filter whose `must` holds a small `has_id` set: the rows those ids live at, by
/// segment (ascending). Every other condition is still checked on each row.
fn pinned_rows(
    st: &State,
    filter: Option<&Filter>,
) -> Option<std::collections::HashMap<u64, Vec<u32>>> {
    let ids = filter?
        .must
        .iter()
        .filter_map(|c| match c {
            Condition::HasId(ids) if ids.len() <= PINNED_MAX_IDS => Some(ids),
            _ => None,
        })
        .min_by_key(|ids| ids.len())?;
    let mut out: std::collections::HashMap<u64, Vec<u32>> = std::collections::HashMap::new();
    for id in ids {
        if let Some((seg, row)) = st.locate(id) {
            out.entry(seg.id).or_default().push(row);
        }
    }
    for rows in out.values_mut() {
        rows.sort_unstable();
    }
    Some(out)
}

/// Exact search over a segment's pinned rows that are live, have the vector and pass the
/// whole filter.
fn pinned_hits(seg: &Segment, rows: Option<&Vec<u32>>, q: &[f32], how: &Walk<'_>) -> Vec<Hit> {
    let (Some(rows), Some(col)) = (rows, seg.data.dense.get(how.name)) else {
        return Vec::new();
    };
    let rows: Vec<u32> = rows
        .iter()
        .copied()
        .filter(|&r| {
            seg.is_live(r)
                && col.present.get(r as usize).copied().unwrap_or(false)
                && how.filter.is_none_or(|f| f.matches(&seg.view(r)))
        })
        .collect();
    let metric = ann::metric_for(how.distance);
    col.scan_rows(q, metric, how.k, &rows)
        .into_iter()
        .map(|(r, s)| {
            let s = if how.distance == Distance::Euclid {
                s.max(0.0).sqrt()
            } else {
                s
            };
            (s, seg.id, r)
        })
        .collect()
}

/// The best `how.k` rows of one segment for an example query: a walk of its graph with the
/// query's score as the distance (as Qdrant walks recommend and discovery queries), or a
/// scan of the live rows passing the filter when the segment has no graph, the search asks
/// for `exact`, or the filter is selective.
fn example_hits(seg: &Segment, ex: &ExampleQuery, how: &Walk<'_>) -> Vec<Hit> {
    let Some(col) = seg.data.dense.get(how.name) else {
        return Vec::new();
    };
    if how.k == 0 || seg.live == 0 {
        return Vec::new();
    }
    let metric = ann::metric_for(how.distance);
    // Only sealed segments have graphs, and only they may cache a filter's rows.
    let rows = match seg.graphs.get(how.name).filter(|_| !how.params.exact) {
        Some(g) => {
            let set = how.filter.map(|f| seg.matching_set(f));
            match set {
                Some(s) if s.count < how.full_scan_rows => s.rows(),
                set => {
                    let ef = choose_ef(g, how.params, how.default_ef, how.k);
                    let walk = ExampleWalk::new(ex, metric, col);
                    let accept = |r: u32| {
                        seg.is_live(r)
                            && col.present[r as usize]
                            && set.as_ref().is_none_or(|s| s.contains(r))
                    };
                    let seeds = ex.seeds();
                    let found = match col.data.half() {
                        // seeds descend over the half-precision rows
                        Some(h) => {
                            let rows = F16Rows::of(h.clone(), g.hnsw.metric());
                            let seeds: Vec<_> = seeds
                                .iter()
                                .filter(|s| s.len() == col.dim)
                                .map(|s| rows.query(s))
                                .collect();
                            g.hnsw
                                .search_seeded_by(&walk, &seeds, how.k, ef, Some(&accept))
                        }
                        None => {
                            let rows = col.data.f32s().unwrap_or_default();
                            g.hnsw
                                .search_seeded(&walk, rows, &seeds, how.k, ef, Some(&accept))
                        }
                    };
                    return found.into_iter().map(|(r, d)| (-d, seg.id, r)).collect();
                }
            }
        }
        None => seg.matching_rows(how.filter),
    };
    let mut scored: Vec<(u32, f32)> = rows
        .into_iter()
        .filter(|&r| seg.is_live(r) && col.present[r as usize])
        .map(|r| (r, ex.score(metric, &col.row(r))))
        .filter(|s| !s.1.is_nan())
        .collect();
    let by_score =
        |a: &(u32, f32), b: &(u32, f32)| b.1.partial_cmp(&a.1).unwrap_or(Ordering::Equal);
    if scored.len() > how.k {
        scored.select_nth_unstable_by(how.k - 1, by_score);
        scored.truncate(how.k);
    }
    scored.into_iter().map(|(r, s)| (s, seg.id, r)).collect()
}

/// Exact search over the rows matching the filter.
fn exact_rows(
    seg: &Segment,
    col: &DenseColumn,
    q: &[f32],
    metric: Metric,
    how: &Walk<'_>,
) -> Vec<(u32, f32)> {
    let rows: Vec<u32> = seg
        .matching_rows(how.filter)
        .into_iter()
        .filter(|&r| col.present[r as usize])
        .collect();
    col.scan_rows(q, metric, how.k, &rows)
}

/// Graph search of an indexed segment. A selective filter (fewer matches than the
/// full-scan threshold) is answered by an exact scan of its rows instead: a walk that
/// rejects almost every node it meets is slower than the scan and loses recall.
fn graph_hits(
    seg: &Segment,
    col: &DenseColumn,
    g: &VectorGraph,
    q: &[f32],
    how: &Walk<'_>,
    filter: Option<&Filter>,
) -> Vec<(u32, f32)> {
    let ef = choose_ef(g, how.params, how.default_ef, how.k);
    let Some(filter) = filter else {
        let qp = &how.params.quantization;
        if seg.live == seg.rows() && g.all_present {
            return g.search(col, q, how.k, ef, qp, None);
        }
        let accept = |r: u32| seg.is_live(r) && col.present[r as usize];
        return g.search(col, q, how.k, ef, qp, Some(&accept));
    };
    let (set, route) = route(seg, how.name, filter, how.full_scan_rows);
    let accept = |r: u32| set.contains(r) && seg.is_live(r) && col.present[r as usize];
    let qp = &how.params.quantization;
    let codes = (g.codes.as_ref(), qp);
    if let Some(vg) = route.subset() {
        // a recall target reads the subset graph's own calibration, when it applies
        let table = subset_table(&route, filter).unwrap_or(&[]);
        let ef = calibrated_ef(table, how.params, how.k).unwrap_or(ef);
        return vg.search(col, q, how.k, ef, codes, &accept);
    }
    if let Route::Scan = route {
        let rows: Vec<u32> = set
            .rows()
            .into_iter()
            .filter(|&r| seg.is_live(r) && col.present[r as usize])
            .collect();
        return col.scan_rows(q, g.hnsw.metric(), how.k, &rows);
    }
    seg.note_filter_walk(&set, how.name);
    g.search(col, q, how.k, ef, qp, Some(&accept))
}

/// How a filtered search crosses a sealed segment that has a graph of its vector.
enum Route<'s> {
    /// Fewer matching rows than the full-scan threshold: an exact scan of them.
    Scan,
    /// A walk of the value graph serving one of the filter's `key == value` conditions.
    Value(&'s ValueGraph),
    /// A walk of the graph of the filter's own rows (a filter this segment keeps seeing
    /// earns one from the indexer once the walks below add up; see
    /// `indexing::filter_graph_work`).
    Own(Arc<ValueGraph>),
    /// A walk of the segment's graph whose accept test rejects the other rows.
    Walk,
}

impl Route<'_> {
    /// The graph of a subset of the segment's rows the route walks (a value or filter graph).
    fn subset(&self) -> Option<&ValueGraph> {
        match self {
            Route::Value(vg) => Some(vg),
            Route::Own(fg) => Some(fg),
            Route::Scan | Route::Walk => None,
        }
    }
}

/// The calibration of the subset graph a search with `filter` walks, when it was measured
/// and stands for the filter: a filter graph's always (its rows are the filter's), a value
/// graph's when the `key == value` condition is the whole filter. Other conditions beside
/// it reject rows the table's walks counted on, so its recall is not that table's: `None`,
/// and the caller reads the segment graph's table as for any filtered walk.
fn subset_table<'r>(route: &'r Route<'_>, filter: &Filter) -> Option<&'r [(u32, f32)]> {
    let vg = route.subset()?;
    let only_the_value = filter.must.len() == 1
        && filter.should.is_empty()
        && filter.must_not.is_empty()
        && filter.min_should.is_none();
    let stands = matches!(route, Route::Own(_)) || only_the_value;
    (stands && !vg.calibration.is_empty()).then_some(vg.calibration.as_slice())
}

/// The filter's matching rows of `seg` — computed once per filter and cached, so the walk's
/// accept test is a bit lookup and the count is exact — and the route a search of vector
/// `vector` takes through `seg` (searches and recall estimates alike).
fn route<'s>(
    seg: &'s Segment,
    vector: &str,
    filter: &Filter,
    full_scan_rows: usize,
) -> (Arc<RowSet>, Route<'s>) {
    let (set, own) = seg.filter_lookup(filter, Some(vector));
    let route = if set.count < full_scan_rows {
        Route::Scan
    } else if let Some(vg) = value_graph(seg, vector, filter) {
        Route::Value(vg)
    } else if let Some(fg) = own {
        Route::Own(fg)
    } else {
        Route::Walk
    };
    (set, route)
}

/// The value graph serving one `key == value` condition of `filter.must`, if any: every
/// match lies inside its rows, so walking it (with the whole filter as the accept test)
/// finds the same rows as walking the segment's graph, without wading through the others.
fn value_graph<'s>(seg: &'s Segment, vector: &str, filter: &Filter) -> Option<&'s ValueGraph> {
    if seg.value_graphs.is_empty() {
        return None;
    }
    filter.must.iter().find_map(|c| match c {
        Condition::Field(fc) => match &fc.r#match {
            Some(Match::Value(v)) => seg
                .value_graphs
                .get(&ann::value_graph_key(vector, &fc.key, v))
                .map(|g| g.as_ref()),
            _ => None,
        },
        _ => None,
    })
}

/// The beam width of a graph search: from the recall target, else `hnsw_ef`, else the
/// default; at least `k`.
fn choose_ef(g: &VectorGraph, params: &SearchParams, default_ef: usize, k: usize) -> usize {
    match (params.target_recall, params.hnsw_ef) {
        (Some(t), _) => g.ef_for_recall(t).map_or(default_ef, |p| p.0),
        (None, Some(ef)) => ef,
        (None, None) => default_ef,
    }
    .max(k)
}

/// The beam width a recall target asks of a graph with `calibration`; `None` without a
/// target or a calibration.
fn calibrated_ef(calibration: &[(u32, f32)], params: &SearchParams, k: usize) -> Option<usize> {
    let target = params.target_recall?;
    ann::ef_for_recall(calibration, target).map(|p| p.0.max(k))
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
