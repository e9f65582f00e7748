//! Approximate nearest-neighbour indexes of sealed segments: one HNSW graph per dense vector
//! space, plus an ef → recall table measured on the segment's own rows when it was built.
//!
//! The graph's nodes are the segment's rows (all of them, tombstoned or not at build time);
//! tombstones, missing vectors and filters are applied while walking, so a sealed segment's
//! graph never changes after it is built. Rewriting a segment (vacuum, merge) drops its
//! graphs and the indexer builds new ones.

use azimuth_index::distance::Metric;
use azimuth_index::hnsw::{BuildControl, Hnsw, HnswParams as GraphParams, QueryDistance};
use azimuth_index::quant::{self, BinaryCodes, F16Rows, Int8Codes, QuantSearch};

use crate::config::{CollectionConfig, Datatype, HnswParams, Quantization};
use crate::segment::DenseColumn;
use crate::types::Distance;

/// The `ef` values a graph is calibrated at.
pub(crate) const EF_LADDER: [usize; 13] = [10, 16, 24, 32, 40, 48, 64, 96, 128, 192, 256, 384, 512];
/// Recall is measured as recall@10.
pub(crate) const CALIBRATION_K: usize = 10;
/// Rows of the segment used as calibration queries.
const CALIBRATION_QUERIES: usize = 100;

/// Quantized codes the walk uses instead of the f32 rows (binary codes are kept in the graph
/// file; int8 codes are encoded from the rows again on load).
pub(crate) struct Codes(quant::Codes);

impl Codes {
    /// Codes for `quantization` of `col`, or `None` when there is none (or the metric has
    /// no binary estimator; product quantization is not implemented and searches f32).
    /// Without codes of a quantization, a `Float16` space gets its rows in half precision,
    /// which hold its values exactly (they were rounded when written).
    pub fn encode(
        col: &DenseColumn,
        metric: Metric,
        q: Option<&Quantization>,
        datatype: Datatype,
    ) -> Option<Codes> {
        let codes = match q {
            Some(Quantization::Scalar { quantile, .. }) => {
                Some(quant::Codes::Int8(Int8Codes::encode(
                    &col.data.widened(),
                    col.dim,
                    metric,
                    quantile.unwrap_or(0.99),
                )))
            }
            Some(Quantization::Binary { .. }) => {
                BinaryCodes::encode(&col.data.widened(), col.dim, metric).map(quant::Codes::Binary)
            }
            None | Some(Quantization::Product { .. }) => None,
        };
        // a column held in half precision is shared, not copied
        let half = || match col.data.half() {
            Some(h) => F16Rows::of(h.clone(), metric),
            None => F16Rows::encode(&col.data.widened(), col.dim, metric),
        };
        codes
            .or_else(|| (datatype == Datatype::Float16).then(|| quant::Codes::F16(half())))
            .map(Codes)
    }

    /// Whether the codes' distances are the exact ones (half-precision rows of a `Float16`
    /// space): nothing to rescore.
    fn exact(&self) -> bool {
        matches!(self.0, quant::Codes::F16(_))
    }

    /// The walk's beam width and rescoring width for `qp` (its oversampling, else this kind
    /// of codes' default).
    fn search_params(&self, ef: usize, qp: &QuantizationParams) -> QuantSearch {
        QuantSearch {
            ef,
            oversampling: qp
                .oversampling
                .unwrap_or_else(|| self.default_oversampling()),
        }
    }

    /// Candidates rescored per result when the request does not say.
    fn default_oversampling(&self) -> f32 {
        match self.0 {
            quant::Codes::Int8(_) => 3.0,
            quant::Codes::Binary(_) => 10.0,
            quant::Codes::F16(_) => 1.0,
        }
    }

    pub fn memory_bytes(&self) -> usize {
        self.0.memory_bytes()
    }

    /// Whether these are half-precision rows holding the values of `col`, itself in half
    /// precision, in a copy of their own.
    pub fn copies_half(&self, col: &DenseColumn) -> bool {
        match (&self.0, col.data.half()) {
            (quant::Codes::F16(rows), Some(h)) => !rows.half().same_values(h),
            _ => false,
        }
    }

    /// Makes half-precision codes read `col`'s own half-precision rows (the same values,
    /// see [`Codes::copies_half`]) and drop their copy.
    pub fn share_half(&mut self, col: &DenseColumn) {
        if let (quant::Codes::F16(rows), Some(h)) = (&mut self.0, col.data.half()) {
            if h.rows() == rows.rows() && h.dim() == rows.half().dim() {
                *rows = F16Rows::of(h.clone(), rows.metric());
            }
        }
    }

    /// Heap bytes of the codes not shared with `col` (half-precision rows that are the
    /// column's own values count there, not here).
    pub fn own_bytes(&self, col: Option<&DenseColumn>) -> usize {
        match (&self.0, col.and_then(|c| c.data.half())) {
            (quant::Codes::F16(rows), Some(h)) if rows.half().same_values(h) => 0,
            _ => self.memory_bytes(),
        }
    }

    /// The bytes a graph file keeps of these codes: binary codes only (their k-means and
    /// assignment cost seconds per hundred thousand rows; int8 codes are one pass over the
    /// rows, cheaper than reading them).
    /// Codes whose bytes would not fit the file's u32 length are not kept (encoded again on
    /// open instead).
    pub fn stored(&self) -> Option<Vec<u8>> {
        match &self.0 {
            quant::Codes::Binary(c) => Some(c.to_bytes()).filter(|b| b.len() <= u32::MAX as usize),
            quant::Codes::Int8(_) | quant::Codes::F16(_) => None,
        }
    }

    /// Codes read back from [`Codes::stored`] bytes.
    pub fn from_stored(bytes: &[u8]) -> Result<Codes, quant::CodesError> {
        BinaryCodes::from_bytes(bytes).map(|c| Codes(quant::Codes::Binary(c)))
    }

    /// Whether these codes are what [`Codes::encode`] would make of a column of `rows`
    /// rows of `dim` dimensions for `metric` and `q`: the same kind, shape and metric.
    /// (Binary codes have no parameters; int8 codes are never stored.)
    pub fn fit(&self, rows: usize, dim: usize, metric: Metric, q: Option<&Quantization>) -> bool {
        match (&self.0, q) {
            (quant::Codes::Binary(c), Some(Quantization::Binary { .. })) => {
                (c.rows(), c.dim(), c.metric()) == (rows, dim, metric)
            }
            _ => false,
        }
    }
}

/// How a walk uses quantized codes (Qdrant's `params.quantization`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QuantizationParams {
    /// Walk the exact rows (f32, or a `Float16` space's half-precision ones) even when
    /// codes exist.
    pub ignore: bool,
    /// Rescore the walk's candidates from the exact rows (default true).
    pub rescore: Option<bool>,
    /// Candidates rescored per requested result (default 3 for int8, 10 for binary).
    pub oversampling: Option<f32>,
}

/// One vector space's graph over a sealed segment.
pub(crate) struct VectorGraph {
    pub hnsw: Hnsw,
    /// `(ef, estimated recall@10)`, ascending by ef. Empty when the segment had too few rows
    /// to measure.
    pub calibration: Vec<(u32, f32)>,
    pub codes: Option<Codes>,
    /// Every row of the (immutable) segment has this vector, so an unfiltered walk of a
    /// segment without tombstones needs no accept test.
    pub all_present: bool,
}

impl VectorGraph {
    /// A graph read back from its file, with the codes it kept (if any; the loader checks
    /// them against the configuration); rows' presence not known yet.
    pub fn loaded(hnsw: Hnsw, calibration: Vec<(u32, f32)>, codes: Option<Codes>) -> VectorGraph {
        VectorGraph {
            hnsw,
            calibration,
            codes,
            all_present: false,
        }
    }

    /// The best `k` rows for `query` (`(row, score)` in the metric's natural units, best
    /// first) by a walk of width `ef` over the exact rows or, when the segment has codes and
    /// `qp` does not ignore them, over the codes followed by exact rescoring (none for
    /// half-precision codes of a `Float16` space: they are its exact rows).
    pub fn search(
        &self,
        col: &DenseColumn,
        query: &[f32],
        k: usize,
        ef: usize,
        qp: &QuantizationParams,
        filter: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<(u32, f32)> {
        let Some(codes) = self.codes.as_ref().filter(|_| !qp.ignore) else {
            return match col.data.half() {
                // the rows themselves are in half precision
                Some(h) => quant::Codes::F16(F16Rows::of(h.clone(), self.hnsw.metric()))
                    .search_estimated(&self.hnsw, query, k, ef, filter),
                None => {
                    let rows = col.data.f32s().unwrap_or_default();
                    self.hnsw.search(rows, query, k, ef, filter)
                }
            };
        };
        let params = codes.search_params(ef, qp);
        if qp.rescore == Some(false) || codes.exact() {
            return codes.0.search_estimated(&self.hnsw, query, k, ef, filter);
        }
        codes
            .0
            .search_rescored(&self.hnsw, col.data.rows_ref(), query, k, params, filter)
    }
}

impl std::fmt::Debug for VectorGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorGraph")
            .field("hnsw", &self.hnsw)
            .field("calibration", &self.calibration)
            .field("codes", &self.codes.as_ref().map(Codes::memory_bytes))
            .finish()
    }
}

impl VectorGraph {
    /// The cheapest calibrated `ef` whose estimated recall meets `target`, and that
    /// estimate; the largest calibrated `ef` when none does.
    pub fn ef_for_recall(&self, target: f32) -> Option<(usize, f32)> {
        ef_for_recall(&self.calibration, target)
    }

    /// The estimated recall@10 at `ef`: that of the largest calibrated ef not above it.
    pub fn recall_at(&self, ef: usize) -> Option<f32> {
        recall_at(&self.calibration, ef)
    }
}

/// See [`VectorGraph::ef_for_recall`]; `calibration` ascending by ef.
pub(crate) fn ef_for_recall(calibration: &[(u32, f32)], target: f32) -> Option<(usize, f32)> {
    let found = calibration
        .iter()
        .find(|(_, r)| *r >= target)
        .or(calibration.last())?;
    Some((found.0 as usize, found.1))
}

/// See [`VectorGraph::recall_at`].
pub(crate) fn recall_at(calibration: &[(u32, f32)], ef: usize) -> Option<f32> {
    calibration
        .iter()
        .take_while(|(e, _)| *e as usize <= ef)
        .last()
        .map(|p| p.1)
}

/// A graph over a subset of a segment's rows: the rows holding one payload value (Qdrant's
/// payload-aware links, as separate small graphs) or the rows matching a filter that
/// searches keep repeating. A filter confined to the subset walks it instead of the
/// segment's graph, where many nodes would fail the filter. The graph reads the segment's
/// own vectors through `rows` (no copy).
pub(crate) struct ValueGraph {
    /// Segment row of each local node.
    pub rows: Vec<u32>,
    hnsw: Hnsw,
    /// `(ef, estimated recall@10)` measured when the graph was built (see
    /// [`ValueGraph::calibrate`]) and kept in its file; empty when not measured (a build
    /// cancelled before it, files written before value-graph file version 3).
    pub calibration: Vec<(u32, f32)>,
}

/// Distances from a query to the local nodes of a [`ValueGraph`], read from the segment's
/// column (smaller is closer).
struct Mapped<'a> {
    col: &'a DenseColumn,
    rows: &'a [u32],
    query: &'a [f32],
    metric: Metric,
}

impl QueryDistance for Mapped<'_> {
    #[inline]
    fn distance(&self, local: u32) -> f32 {
        let Some(&r) = self.rows.get(local as usize) else {
            return f32::INFINITY;
        };
        let s = self.col.score(self.metric, self.query, r);
        if self.metric.higher_is_better() {
            -s
        } else {
            s
        }
    }

    #[inline]
    fn prefetch(&self, local: u32) {
        if let Some(&r) = self.rows.get(local as usize) {
            self.col.prefetch(r);
        }
    }
}

impl ValueGraph {
    /// Builds the graph of `rows` of `col` (sorted segment rows); `None` when cancelled.
    /// The rows' vectors are gathered for the build only.
    pub fn build(
        col: &DenseColumn,
        rows: Vec<u32>,
        distance: Distance,
        params: &HnswParams,
        threads: usize,
        control: &BuildControl,
    ) -> Option<ValueGraph> {
        let data = gather(col, &rows);
        let gp = graph_params(params);
        let hnsw = Hnsw::build_with(&data, col.dim, metric_for(distance), gp, threads, control)?;
        Some(ValueGraph {
            rows,
            hnsw,
            calibration: Vec::new(),
        })
    }

    /// The graph of `rows` of `col` (sorted segment rows, each in `parent`, the segment's
    /// graph of `col`) derived from `parent`'s links ([`Hnsw::derive_subset`]): a small part
    /// of a build's cost. `None` when cancelled.
    pub fn derive(
        col: &DenseColumn,
        rows: Vec<u32>,
        parent: &Hnsw,
        threads: usize,
        control: &BuildControl,
    ) -> Option<ValueGraph> {
        let data = gather(col, &rows);
        let hnsw = parent
            .derive_subset(&rows, &data, threads, control)
            .ok()??;
        Some(ValueGraph {
            rows,
            hnsw,
            calibration: Vec::new(),
        })
    }

    /// The best `k` accepted segment rows of `col` (the column the graph was built from;
    /// `accept` takes segment rows), best first, scored like [`Hnsw::search`]. With the
    /// segment's quantized `codes` (its [`VectorGraph`]'s) the walk reads the codes of the
    /// rows and rescores the best candidates from `col`, as the segment's graph does.
    pub fn search(
        &self,
        col: &DenseColumn,
        query: &[f32],
        k: usize,
        ef: usize,
        (codes, qp): (Option<&Codes>, &QuantizationParams),
        accept: &dyn Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        if query.len() != col.dim || self.hnsw.dim() != col.dim {
            return Vec::new();
        }
        if let Some(codes) = codes.filter(|_| !qp.ignore) {
            let params = codes.search_params(ef, qp);
            let rescore = qp.rescore != Some(false) && !codes.exact();
            return codes.0.search_subset(
                &self.hnsw,
                &self.rows,
                col.data.rows_ref(),
                query,
                k,
                params,
                rescore,
                accept,
            );
        }
        let metric = self.hnsw.metric();
        let q = Mapped {
            col,
            rows: &self.rows,
            query,
            metric,
        };
        let local = |l: u32| self.rows.get(l as usize).is_some_and(|&r| accept(r));
        self.hnsw
            .search_by(&q, k, ef, Some(&local))
            .into_iter()
            .filter_map(|(l, _)| {
                let r = *self.rows.get(l as usize)?;
                Some((r, col.score(metric, query, r)))
            })
            .collect()
    }

    /// A graph read back from a file: `rows` (ascending segment rows), the graph over them,
    /// node `i` being `rows[i]`, and its calibration (empty when it was not measured).
    /// `None` when they do not fit each other.
    pub fn from_parts(
        rows: Vec<u32>,
        hnsw: Hnsw,
        calibration: Vec<(u32, f32)>,
    ) -> Option<ValueGraph> {
        let ascending = rows.windows(2).all(|w| w[0] < w[1]);
        (ascending && hnsw.len() == rows.len() && (0..rows.len() as u32).all(|i| hnsw.contains(i)))
            .then_some(ValueGraph {
                rows,
                hnsw,
                calibration,
            })
    }

    pub fn hnsw(&self) -> &Hnsw {
        &self.hnsw
    }

    /// Measures recall@10 at each ladder ef, walking as searches will (with the segment's
    /// `codes`), with up to [`CALIBRATION_QUERIES`] of `outside` (segment rows the graph
    /// does not hold, ascending) as queries against exact search over the graph's rows that
    /// `usable` accepts. Rows outside a filter make conservative queries: their nearest
    /// admitted rows lie across the filter's border, as they do for queries drawn from the
    /// excluded part of the data, the hard case for a graph of a subset.
    pub fn calibrate(
        &mut self,
        col: &DenseColumn,
        codes: Option<&Codes>,
        outside: &[u32],
        usable: &dyn Fn(u32) -> bool,
    ) {
        let queries = spread(outside, CALIBRATION_QUERIES);
        if queries.is_empty() {
            return;
        }
        let metric = self.hnsw.metric();
        let rows: Vec<u32> = self.rows.iter().copied().filter(|&r| usable(r)).collect();
        let truths: Vec<Vec<u32>> = queries
            .iter()
            .map(|&q| {
                let found = col.scan_rows(&col.row(q), metric, CALIBRATION_K, &rows);
                found.into_iter().map(|h| h.0).collect()
            })
            .collect();
        let qp = QuantizationParams::default();
        self.calibration = recall_ladder(col, &queries, &truths, |q, ef| {
            self.search(col, q, CALIBRATION_K, ef, (codes, &qp), usable)
        });
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn memory_bytes(&self) -> usize {
        self.rows.capacity() * 4 + self.hnsw.memory_bytes()
    }
}

/// Up to `n` of `rows`, evenly spaced; none when there are fewer than `10 × n` (too few for
/// queries that stand for the rest).
fn spread(rows: &[u32], n: usize) -> Vec<u32> {
    if rows.len() <= n * 10 {
        return Vec::new();
    }
    rows.iter()
        .step_by(rows.len() / n)
        .take(n)
        .copied()
        .collect()
}

/// Recall from which a calibration stops walking: the larger ladder efs are given the
/// recall last measured (every exact answer found; a target of 1.0 is then met there).
const LADDER_SATURATED: f32 = 1.0;

/// Recall@10 of `search(query, ef)` at each ladder ef, for `queries` (rows of `col`) against
/// their exact answers `truths`. Once an ef reaches [`LADDER_SATURATED`] the wider ones are
/// not walked.
fn recall_ladder(
    col: &DenseColumn,
    queries: &[u32],
    truths: &[Vec<u32>],
    search: impl Fn(&[f32], usize) -> Vec<(u32, f32)>,
) -> Vec<(u32, f32)> {
    let mut ladder: Vec<(u32, f32)> = Vec::with_capacity(EF_LADDER.len());
    for &ef in &EF_LADDER {
        let recall = match ladder.last() {
            Some(&(_, last)) if last >= LADDER_SATURATED => last,
            _ => {
                let mut found = 0usize;
                let mut total = 0usize;
                for (&q, truth) in queries.iter().zip(truths) {
                    let got = search(&col.row(q), ef);
                    found += got.iter().filter(|h| truth.contains(&h.0)).count();
                    total += truth.len();
                }
                found as f32 / total.max(1) as f32
            }
        };
        ladder.push((ef as u32, recall));
    }
    ladder
}

/// The vectors of `rows` of `col`, one after the other (a subset graph's own matrix, for
/// its build only).
fn gather(col: &DenseColumn, rows: &[u32]) -> Vec<f32> {
    let mut data = Vec::with_capacity(rows.len() * col.dim);
    for &r in rows {
        data.extend_from_slice(&col.row(r));
    }
    data
}

/// The start shared by the keys of `vector`'s value graphs for payload key `key`.
pub(crate) fn value_graph_prefix(vector: &str, key: &crate::filter::JsonPath) -> String {
    format!("{vector}\u{0}{key}\u{0}")
}

/// The key under which a segment keeps the value graph of `vector` for `key == value`.
pub(crate) fn value_graph_key(
    vector: &str,
    key: &crate::filter::JsonPath,
    value: &crate::filter::ScalarValue,
) -> String {
    format!("{}{value:?}", value_graph_prefix(vector, key))
}

/// The index-crate parameters every graph of a vector (segment, value and filter graphs) is
/// built with.
pub(crate) fn graph_params(params: &HnswParams) -> GraphParams {
    GraphParams {
        m: params.m,
        ef_construct: params.ef_construct,
        seed: 0x5eed_a21e,
    }
}

/// The kernel metric of a distance (vectors of Cosine spaces are stored normalised).
pub(crate) fn metric_for(d: Distance) -> Metric {
    match d {
        Distance::Cosine | Distance::Dot => Metric::Dot,
        Distance::Euclid => Metric::L2Squared,
        Distance::Manhattan => Metric::L1,
    }
}

/// The HNSW parameters of vector `name`: its own override, else the collection's.
pub(crate) fn params_for<'a>(config: &'a CollectionConfig, name: &str) -> &'a HnswParams {
    config
        .vectors
        .get(name)
        .and_then(|v| v.hnsw.as_ref())
        .unwrap_or(&config.hnsw)
}

/// The quantization of vector `name`: its own setting, else the collection's.
pub(crate) fn quantization_for<'a>(
    config: &'a CollectionConfig,
    name: &str,
) -> Option<&'a Quantization> {
    config
        .vectors
        .get(name)
        .and_then(|v| v.quantization.as_ref())
        .or(config.quantization.as_ref())
}

/// Live rows at which a segment gets a graph for vector `name`, or `None` when indexing is
/// off (`indexing_threshold` 0 or `m` 0). The threshold is in KiB of vector data, as in
/// Qdrant.
pub(crate) fn threshold_rows(config: &CollectionConfig, name: &str) -> Option<usize> {
    let dim = config.vectors.get(name)?.size.max(1);
    let kb = config.optimizer.indexing_threshold;
    if kb == 0 || params_for(config, name).m == 0 {
        return None;
    }
    Some((kb.saturating_mul(1024) / (dim * 4)).max(1))
}

/// Rows below which a filtered search of an indexed segment scans the matching rows
/// exactly instead of walking the graph (`full_scan_threshold`, KiB of vector data).
pub(crate) fn full_scan_rows(config: &CollectionConfig, name: &str) -> usize {
    let dim = config.vectors.get(name).map_or(1, |v| v.size.max(1));
    params_for(config, name)
        .full_scan_threshold
        .saturating_mul(1024)
        / (dim * 4)
}

/// Builds the graph of `col` and calibrates it; `None` when `control` cancelled it.
/// `usable(row)` says which rows may be results (live, with a vector).
///
/// Calibration queries must be unseen by the graph (a row's own node leads a walk straight
/// to its neighbours, which overstates recall badly), so up to [`CALIBRATION_QUERIES`] usable
/// rows are left out of the build, used as queries against the rest, then inserted.
pub(crate) fn build(
    col: &DenseColumn,
    distance: Distance,
    params: &HnswParams,
    (quantization, datatype): (Option<&Quantization>, Datatype),
    threads: usize,
    control: &BuildControl,
    usable: impl Fn(u32) -> bool,
) -> Option<VectorGraph> {
    let metric = metric_for(distance);
    let gp = graph_params(params);
    let rows = col.present.len() as u32;
    let usable_rows: Vec<u32> = (0..rows).filter(|&r| usable(r)).collect();
    let queries = spread(&usable_rows, CALIBRATION_QUERIES);
    // (a column held in half precision is widened for the build only)
    let data = col.data.widened();
    let hnsw = Hnsw::build_leaving_out(&data, col.dim, metric, gp, threads, control, &queries)?;
    let mut graph = VectorGraph {
        hnsw,
        calibration: Vec::new(),
        codes: Codes::encode(col, metric, quantization, datatype),
        all_present: col.all_present(),
    };
    graph.calibration = calibrate(&graph, col, metric, &queries, &|r| {
        usable(r) && queries.binary_search(&r).is_err()
    });
    for &q in &queries {
        // Cannot fail: the row is inside the data and absent from the graph.
        let _ = graph.hnsw.insert(&data, q);
    }
    // the inserts' re-pruning may have dropped a link the build gave an orphan
    graph.hnsw.link_orphans(&data);
    Some(graph)
}

/// Measures recall@10 at each ladder ef: `queries` (rows absent from the graph) against
/// exact search over the rows `usable` accepts, searching as queries will (codes included).
fn calibrate(
    graph: &VectorGraph,
    col: &DenseColumn,
    metric: Metric,
    queries: &[u32],
    usable: &dyn Fn(u32) -> bool,
) -> Vec<(u32, f32)> {
    if queries.is_empty() {
        return Vec::new();
    }
    let truths: Vec<Vec<u32>> = queries
        .iter()
        .map(|&q| {
            col.scan(&col.row(q), metric, CALIBRATION_K, usable)
                .into_iter()
                .map(|h| h.0)
                .collect()
        })
        .collect();
    let qp = QuantizationParams::default();
    recall_ladder(col, queries, &truths, |q, ef| {
        graph.search(col, q, CALIBRATION_K, ef, &qp, Some(usable))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(calibration: Vec<(u32, f32)>) -> VectorGraph {
        VectorGraph {
            hnsw: Hnsw::new(2, Metric::Dot, GraphParams::default()),
            calibration,
            codes: None,
            all_present: true,
        }
    }

    /// A ladder stops walking once every exact answer is found: the wider efs get recall
    /// 1.0 without a search.
    #[test]
    fn calibration_stops_walking_once_recall_is_complete() {
        let col = DenseColumn {
            dim: 2,
            data: crate::segment::Floats::Owned(vec![0.0; 8]),
            present: vec![true; 4],
        };
        let truths = vec![vec![1, 2]];
        let walks = std::cell::Cell::new(0);
        let ladder = recall_ladder(&col, &[0], &truths, |_, ef| {
            walks.set(walks.get() + 1);
            if ef < 32 {
                vec![(1, 0.0)]
            } else {
                vec![(1, 0.0), (2, 0.0)]
            }
        });
        let at_32 = EF_LADDER.iter().position(|&ef| ef == 32).unwrap();
        assert_eq!(
            walks.get(),
            at_32 + 1,
            "no walks past the first complete ef"
        );
        assert_eq!(ladder.len(), EF_LADDER.len());
        assert!(ladder[..at_32].iter().all(|&(_, r)| r == 0.5));
        assert!(ladder[at_32..].iter().all(|&(_, r)| r == 1.0));
    }

    /// A subset graph calibrated with rows outside it as queries: efs ascending, recall
    /// climbing to the top of the ladder; too few outside rows leave it unmeasured.
    #[test]
    fn filter_graphs_are_calibrated_with_rows_outside_them() {
        let dim = 8;
        let rows = 4000u32;
        let data: Vec<f32> = (0..rows as usize * dim)
            .map(|i| ((i * 7919 % 1009) as f32 / 1009.0) - 0.5)
            .collect();
        let col = DenseColumn {
            dim,
            data: crate::segment::Floats::Owned(data),
            present: vec![true; rows as usize],
        };
        let (inside, outside): (Vec<u32>, Vec<u32>) = (0..rows).partition(|r| r % 3 != 0);
        let params = HnswParams::default();
        let control = BuildControl::new();
        let built = ValueGraph::build(&col, inside, Distance::Euclid, &params, 1, &control);
        let mut g = built.expect("not cancelled");
        g.calibrate(&col, None, &outside[..50], &|_| true);
        assert!(
            g.calibration.is_empty(),
            "50 queries stand for too few rows"
        );
        g.calibrate(&col, None, &outside, &|_| true);
        assert_eq!(g.calibration.len(), EF_LADDER.len());
        assert!(g.calibration.windows(2).all(|w| w[0].0 < w[1].0));
        let top = g.calibration.last().unwrap().1;
        assert!(top >= 0.99, "recall at ef 512: {top}");
        assert!(ef_for_recall(&g.calibration, 0.9).is_some_and(|(ef, r)| ef <= 512 && r >= 0.9));
    }

    /// A `Float16` graph built from an f32 column (one a build held before it could move)
    /// walks its own copy of the half-precision rows until the column is in half precision
    /// too; then the codes read the column's rows, with the same answers.
    #[test]
    fn half_precision_codes_come_to_share_the_column_rows() {
        use azimuth_index::distance::half::{f16_to_f32, f32_to_f16};
        let dim = 16;
        let rows = 2000u32;
        let data: Vec<f32> = (0..rows as usize * dim)
            .map(|i| f16_to_f32(f32_to_f16(((i * 7919 % 1009) as f32 / 1009.0) - 0.5)))
            .collect();
        let mut col = DenseColumn {
            dim,
            data: crate::segment::Floats::Owned(data),
            present: vec![true; rows as usize],
        };
        let params = HnswParams::default();
        let control = BuildControl::new();
        let quant = (None, Datatype::Float16);
        let built = build(&col, Distance::Euclid, &params, quant, 1, &control, |_| {
            true
        });
        let mut g = built.expect("not cancelled");
        let qp = QuantizationParams::default();
        let query: Vec<f32> = col.row(17).iter().map(|x| x + 0.01).collect();
        let before = g.search(&col, &query, 10, 64, &qp, None);
        let copy_bytes = rows as usize * dim * 2;
        let codes = g.codes.as_ref().unwrap();
        assert!(
            !codes.copies_half(&col),
            "an f32 column has no half rows to share"
        );
        assert_eq!(codes.own_bytes(Some(&col)), copy_bytes);

        crate::collection::hold_half_in_memory(&mut col);
        let codes = g.codes.as_mut().unwrap();
        assert!(codes.copies_half(&col));
        assert_eq!(codes.own_bytes(Some(&col)), copy_bytes);
        codes.share_half(&col);
        assert!(!codes.copies_half(&col));
        assert_eq!(codes.own_bytes(Some(&col)), 0);
        assert_eq!(g.search(&col, &query, 10, 64, &qp, None), before);
        // a column of another shape is never shared
        let mut other = col.clone();
        other.present.truncate(10);
        other.data = crate::segment::Floats::Owned(vec![0.0; 10 * dim]);
        crate::collection::hold_half_in_memory(&mut other);
        let codes = g.codes.as_mut().unwrap();
        assert!(codes.copies_half(&other));
        codes.share_half(&other);
        assert_eq!(codes.own_bytes(Some(&col)), 0, "still the column's rows");
    }

    #[test]
    fn ef_for_recall_picks_the_cheapest_setting_that_meets_the_target() {
        let g = graph(vec![(10, 0.8), (32, 0.95), (64, 0.99)]);
        assert_eq!(g.ef_for_recall(0.9), Some((32, 0.95)));
        assert_eq!(g.ef_for_recall(0.5), Some((10, 0.8)));
        assert_eq!(g.ef_for_recall(0.999), Some((64, 0.99)));
        assert_eq!(g.recall_at(40), Some(0.95));
        assert_eq!(g.recall_at(5), None);
        assert_eq!(graph(vec![]).ef_for_recall(0.9), None);
    }

    #[test]
    fn thresholds_follow_the_config_in_kib() {
        let mut c = CollectionConfig::single(256, Distance::Cosine);
        c.optimizer.indexing_threshold = 1000;
        assert_eq!(threshold_rows(&c, ""), Some(1000));
        c.optimizer.indexing_threshold = 0;
        assert_eq!(threshold_rows(&c, ""), None);
        c.optimizer.indexing_threshold = 1000;
        c.hnsw.m = 0;
        assert_eq!(threshold_rows(&c, ""), None);
        c.hnsw.full_scan_threshold = 100;
        assert_eq!(full_scan_rows(&c, ""), 100);
    }
}
