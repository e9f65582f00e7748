//! Segments: column-oriented sets of points. The one mutable segment takes new writes; sealed
//! segments came from a file and change only by tombstones.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use azimuth_index::distance::Metric;
use azimuth_index::flat;
use azimuth_index::quant::{HalfRows, RowsRef};
use parking_lot::Mutex;

use crate::ann::{ValueGraph, VectorGraph};
use crate::config::CollectionConfig;
use crate::filter::{plan, FieldSchema, Filter, JsonPath, PayloadIndexes, Plan, PointRef};
use crate::point::{NamedVectors, SparseVector, Vector, VectorSelector};
use crate::storage::mapped::MappedFloats;
use crate::types::{Payload, PointId};

/// Row-major values: f32 in memory, f32 read from a sealed segment's file through a memory
/// map (vectors configured `on_disk`), or half precision (a `Float16` space's sealed
/// segment: in memory, or read in place from its file when `on_disk`).
#[derive(Clone, Debug)]
pub(crate) enum Floats {
    Owned(Vec<f32>),
    Mapped(MappedFloats),
    Half(HalfRows),
}

impl Default for Floats {
    fn default() -> Self {
        Floats::Owned(Vec::new())
    }
}

impl From<Vec<f32>> for Floats {
    fn from(v: Vec<f32>) -> Self {
        Floats::Owned(v)
    }
}

impl Floats {
    /// The f32 values, unless they are held in half precision.
    pub fn f32s(&self) -> Option<&[f32]> {
        match self {
            Floats::Owned(v) => Some(v),
            Floats::Mapped(m) => Some(m.as_slice()),
            Floats::Half(_) => None,
        }
    }

    /// The half-precision values, if that is how they are held.
    pub fn half(&self) -> Option<&HalfRows> {
        match self {
            Floats::Half(h) => Some(h),
            _ => None,
        }
    }

    /// The values as f32: borrowed, or widened from half precision (a copy: for builds and
    /// rewrites, which read every row once, never for a search).
    pub fn widened(&self) -> Cow<'_, [f32]> {
        match self {
            Floats::Half(h) => Cow::Owned(h.widened()),
            _ => Cow::Borrowed(self.f32s().unwrap_or_default()),
        }
    }

    /// The rows a rescoring reads, in their own precision.
    pub fn rows_ref(&self) -> RowsRef<'_> {
        match self {
            Floats::Half(h) => RowsRef::F16(h),
            _ => RowsRef::F32(self.f32s().unwrap_or_default()),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Floats::Owned(v) => v.len(),
            Floats::Mapped(m) => m.as_slice().len(),
            Floats::Half(h) => h.bits().len(),
        }
    }

    /// Bytes of the values, wherever they are.
    pub fn value_bytes(&self) -> usize {
        match self {
            Floats::Half(h) => h.value_bytes(),
            _ => self.len() * 4,
        }
    }

    /// The values in memory as f32, copied out of the file or widened first if need be.
    pub fn to_mut(&mut self) -> &mut Vec<f32> {
        match self {
            Floats::Owned(_) => {}
            Floats::Mapped(m) => *self = Floats::Owned(m.as_slice().to_vec()),
            Floats::Half(h) => *self = Floats::Owned(h.widened()),
        }
        match self {
            Floats::Owned(v) => v,
            _ => unreachable!("replaced just above"),
        }
    }

    /// Whether the values are read from the segment's file (not held in memory).
    pub fn is_mapped(&self) -> bool {
        match self {
            Floats::Owned(_) => false,
            Floats::Mapped(_) => true,
            Floats::Half(h) => h.is_shared(),
        }
    }
}

/// One dense vector space of a segment: row-major values, zeros where a row has no vector.
#[derive(Clone, Debug, Default)]
pub(crate) struct DenseColumn {
    pub dim: usize,
    pub data: Floats,
    pub present: Vec<bool>,
}

impl DenseColumn {
    /// Whether every row has a vector.
    pub fn all_present(&self) -> bool {
        self.present.iter().all(|&p| p)
    }

    /// Whether any row has a vector.
    pub fn any_present(&self) -> bool {
        self.present.iter().any(|&p| p)
    }

    /// A column of `rows` rows none of which has a vector.
    fn absent(dim: usize, rows: usize) -> DenseColumn {
        DenseColumn {
            dim,
            data: vec![0.0; rows * dim].into(),
            present: vec![false; rows],
        }
    }

    /// Row `row`'s values (widened when held in half precision). Panics past the end, like
    /// indexing.
    pub fn row(&self, row: u32) -> Cow<'_, [f32]> {
        match &self.data {
            Floats::Half(h) => Cow::Owned(h.row_f32(row).expect("row inside the column")),
            other => {
                let s = row as usize * self.dim;
                Cow::Borrowed(&other.f32s().unwrap_or_default()[s..s + self.dim])
            }
        }
    }

    /// `metric` score of row `row` for `query` (NaN past the end).
    pub fn score(&self, metric: Metric, query: &[f32], row: u32) -> f32 {
        self.data
            .rows_ref()
            .score(metric, self.dim, query, row)
            .unwrap_or(f32::NAN)
    }

    /// Hints that row `row` is read next.
    pub fn prefetch(&self, row: u32) {
        let s = row as usize * self.dim;
        match &self.data {
            Floats::Half(h) => {
                if let Some(r) = h.row(row) {
                    azimuth_index::distance::prefetch(r);
                }
            }
            other => {
                if let Some(r) = other.f32s().and_then(|d| d.get(s..s + self.dim)) {
                    azimuth_index::distance::prefetch(r);
                }
            }
        }
    }

    /// The best `k` rows for `query` among those `accept` takes, scored exactly.
    pub fn scan(
        &self,
        query: &[f32],
        metric: Metric,
        k: usize,
        accept: impl FnMut(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        match &self.data {
            Floats::Half(h) => h.search(query, metric, k, accept),
            other => {
                let data = other.f32s().unwrap_or_default();
                flat::search(query, data, self.dim, metric, k, accept)
            }
        }
    }

    /// The best `k` of `rows` (ascending) for `query`, scored exactly.
    pub fn scan_rows(
        &self,
        query: &[f32],
        metric: Metric,
        k: usize,
        rows: &[u32],
    ) -> Vec<(u32, f32)> {
        match &self.data {
            Floats::Half(h) => h.search_rows(query, metric, k, rows),
            other => {
                let data = other.f32s().unwrap_or_default();
                flat::search_rows(query, data, self.dim, metric, k, rows)
            }
        }
    }
}

/// The persistent columns of a segment (what a segment file holds).
#[derive(Clone, Debug, Default)]
pub(crate) struct SegmentData {
    pub ids: Vec<PointId>,
    pub versions: Vec<u64>,
    pub dense: BTreeMap<String, DenseColumn>,
    pub sparse: BTreeMap<String, Vec<Option<SparseVector>>>,
    pub payloads: Vec<Payload>,
}

impl SegmentData {
    pub fn empty(config: &CollectionConfig) -> Self {
        SegmentData {
            dense: config
                .vectors
                .iter()
                .map(|(n, p)| {
                    (
                        n.clone(),
                        DenseColumn {
                            dim: p.size,
                            ..Default::default()
                        },
                    )
                })
                .collect(),
            sparse: config
                .sparse_vectors
                .keys()
                .map(|n| (n.clone(), Vec::new()))
                .collect(),
            ..Default::default()
        }
    }

    pub fn rows(&self) -> usize {
        self.ids.len()
    }

    /// Releases the resident pages of the columns read through maps (see
    /// [`MappedFloats::release`]).
    pub fn release_mapped(&self) {
        for col in self.dense.values() {
            match &col.data {
                Floats::Mapped(m) => m.release(),
                Floats::Half(h) => h.release(),
                Floats::Owned(_) => {}
            }
        }
    }

    /// Gives segment `id`'s data exactly the columns of `config`, after vectors were added to
    /// or deleted from the collection: a column of a deleted vector goes; a vector the
    /// segment predates (`config.vector_since`) gets a column where no row has it, replacing
    /// any column of an earlier vector of the same name.
    pub fn fit_columns(&mut self, id: u64, config: &CollectionConfig) {
        let rows = self.rows();
        let predates = |name: &str| config.vector_since.get(name).is_some_and(|&s| id < s);
        self.dense
            .retain(|n, _| config.vectors.contains_key(n) && !predates(n));
        self.sparse
            .retain(|n, _| config.sparse_vectors.contains_key(n) && !predates(n));
        for (name, p) in &config.vectors {
            if predates(name) {
                self.dense
                    .insert(name.clone(), DenseColumn::absent(p.size, rows));
            }
        }
        for name in config.sparse_vectors.keys() {
            if predates(name) {
                self.sparse.insert(name.clone(), vec![None; rows]);
            }
        }
    }
}

/// A segment in memory: data, tombstones and payload indexes.
pub(crate) struct Segment {
    pub id: u64,
    /// Shared so background work (index builds) can read a sealed segment without a lock;
    /// only the mutable segment is ever written, and nothing else holds its data.
    pub data: Arc<SegmentData>,
    pub deleted: Vec<bool>,
    pub live: usize,
    pub indexes: PayloadIndexes,
    /// Approximate bytes of vectors and payload written into this segment.
    pub bytes: usize,
    /// ANN graphs by vector name (sealed segments only; built in the background).
    pub graphs: BTreeMap<String, Arc<VectorGraph>>,
    /// Graphs of the rows holding one value of an indexed keyword/integer key, by
    /// [`crate::ann::value_graph_key`]; written to the segment's value-graph files and
    /// loaded from them on reopen.
    pub value_graphs: BTreeMap<String, Arc<ValueGraph>>,
    /// (vector, key) pairs whose value graphs were built (or judged not worth it).
    pub value_keys_done: std::collections::BTreeSet<(String, JsonPath)>,
    /// Dense columns this sealed segment's file could not serve through a map (see
    /// `checkpoint::place_columns`): they stay in memory.
    pub unmappable: std::collections::BTreeSet<String>,
    /// The graph file of a vector whose graph should be read through a map could not serve
    /// it (see `checkpoint::place_graphs`): its graphs stay in memory.
    pub graphs_unmappable: bool,
    /// Recently used filters' matching rows (sealed segments only: their payloads never
    /// change, and rows deleted since are excluded by the caller's liveness check), with
    /// how often each sent a search through the segment's graph and the graphs built for
    /// the busiest of them.
    filter_cache: Mutex<Vec<FilterEntry>>,
    /// The vector bytes at which this (mutable) segment will be sealed; 0 when unknown.
    /// Columns that have grown past [`GROW_STRAIGHT_FROM`] are grown straight to their share
    /// of it (see [`grow_column`]).
    pub seal_at_bytes: usize,
}

/// Column length (values) from which a mutable segment's column grows straight to its
/// size at sealing instead of doubling...
const GROW_STRAIGHT_FROM: usize = 1 << 18;
/// ...unless that size is beyond this many values (1 GiB of `f32`): a flush threshold set
/// that high (or "never") is not a size to reserve up front.
const GROW_STRAIGHT_MAX: usize = 1 << 28;

/// Makes room for `extra` more values in a mutable segment's column. Past
/// [`GROW_STRAIGHT_FROM`] values it reserves, once, the column's share of the sealing size
/// (`target`) plus an eighth for the batch that crosses it: doubling a column of tens of
/// MiB copies it and touches twice its size in fresh memory, which on a virtual machine
/// costs more than the copy. Otherwise the vector grows as usual.
fn grow_column(data: &mut Vec<f32>, extra: usize, target: usize) {
    let need = data.len().saturating_add(extra);
    let want = target.saturating_add(target / 8);
    if need > data.capacity()
        && data.len() >= GROW_STRAIGHT_FROM
        && want > need
        && want <= GROW_STRAIGHT_MAX
    {
        data.reserve_exact(want - data.len());
    }
}

/// One remembered filter of a sealed segment.
struct FilterEntry {
    /// The filter's `Debug` text.
    key: String,
    set: Arc<RowSet>,
    /// Graph walks with this filter, by vector name.
    walks: BTreeMap<String, u32>,
    /// Graphs over `set`'s rows, by vector name (see [`Segment::filter_graph_wanted`]).
    graphs: BTreeMap<String, Arc<ValueGraph>>,
    /// `set` was computed from the filter. An entry restored from a file holds its graphs'
    /// rows until the first lookup with the filter itself checks them (see
    /// [`Segment::filter_lookup`]).
    verified: bool,
}

/// A filter of a sealed segment that has earned a graph of its own: its key, the vector
/// and the rows.
pub(crate) struct FilterGraphWork {
    pub key: String,
    pub vector: String,
    pub rows: Vec<u32>,
}

/// Filters whose matching rows a sealed segment remembers.
const FILTER_CACHE_ENTRIES: usize = 32;

/// A set of rows as a bitmap, with its size.
#[derive(Debug)]
pub(crate) struct RowSet {
    bits: Vec<u64>,
    pub count: usize,
}

impl RowSet {
    fn from_rows(rows: &[u32], total: usize) -> RowSet {
        let mut bits = vec![0u64; total.div_ceil(64)];
        for &r in rows {
            if let Some(w) = bits.get_mut(r as usize / 64) {
                *w |= 1 << (r % 64);
            }
        }
        RowSet {
            bits,
            count: rows.len(),
        }
    }

    #[inline]
    pub fn contains(&self, row: u32) -> bool {
        self.bits
            .get(row as usize / 64)
            .is_some_and(|w| w >> (row % 64) & 1 == 1)
    }

    /// The rows in ascending order.
    pub fn rows(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.count);
        for (i, &w) in self.bits.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                out.push(i as u32 * 64 + w.trailing_zeros());
                w &= w - 1;
            }
        }
        out
    }
}

/// A borrowed view of one row, for filter evaluation.
pub(crate) struct RowRef<'a> {
    seg: &'a Segment,
    row: u32,
}

impl PointRef for RowRef<'_> {
    fn id(&self) -> &PointId {
        &self.seg.data.ids[self.row as usize]
    }

    fn payload(&self) -> &Payload {
        &self.seg.data.payloads[self.row as usize]
    }

    fn has_vector(&self, name: &str) -> bool {
        self.seg.has_vector(self.row, name)
    }
}

impl Segment {
    pub fn new(id: u64, data: SegmentData, schema: &BTreeMap<JsonPath, FieldSchema>) -> Segment {
        let rows = data.rows();
        let bytes = data
            .dense
            .values()
            .map(|c| c.data.value_bytes())
            .sum::<usize>();
        let mut seg = Segment {
            id,
            data: Arc::new(data),
            deleted: vec![false; rows],
            live: rows,
            indexes: PayloadIndexes::new(),
            bytes,
            graphs: BTreeMap::new(),
            value_graphs: BTreeMap::new(),
            value_keys_done: Default::default(),
            unmappable: Default::default(),
            graphs_unmappable: false,
            filter_cache: Mutex::new(Vec::new()),
            seal_at_bytes: 0,
        };
        for (key, schema) in schema {
            seg.create_index(key, *schema);
        }
        seg
    }

    pub fn rows(&self) -> usize {
        self.data.rows()
    }

    pub fn is_live(&self, row: u32) -> bool {
        !self.deleted[row as usize]
    }

    pub fn view(&self, row: u32) -> RowRef<'_> {
        RowRef { seg: self, row }
    }

    pub fn has_vector(&self, row: u32, name: &str) -> bool {
        let r = row as usize;
        if let Some(c) = self.data.dense.get(name) {
            return c.present[r];
        }
        self.data.sparse.get(name).is_some_and(|c| c[r].is_some())
    }

    pub fn create_index(&mut self, key: &JsonPath, schema: FieldSchema) {
        let (deleted, payloads) = (&self.deleted, &self.data.payloads);
        let rows = payloads
            .iter()
            .enumerate()
            .filter(|(r, _)| !deleted[*r])
            .map(|(r, p)| (r as u32, p));
        self.indexes.create_field(key.clone(), schema, rows);
    }

    /// Appends a point (vectors already validated); returns its row.
    pub fn push(
        &mut self,
        id: PointId,
        version: u64,
        vectors: &NamedVectors,
        payload: Payload,
    ) -> u32 {
        let data = Arc::make_mut(&mut self.data);
        let row = data.rows() as u32;
        let all_dims: usize = data.dense.values().map(|c| c.dim).sum::<usize>().max(1);
        for (name, col) in data.dense.iter_mut() {
            match vectors.get(name) {
                Some(Vector::Dense(v)) => {
                    let target = (self.seal_at_bytes / 4).saturating_mul(col.dim) / all_dims;
                    let values = col.data.to_mut();
                    grow_column(values, v.len(), target);
                    values.extend_from_slice(v);
                    col.present.push(true);
                    self.bytes += v.len() * 4;
                }
                _ => {
                    let d = col.data.to_mut();
                    d.resize(d.len() + col.dim, 0.0);
                    col.present.push(false);
                }
            }
        }
        for (name, col) in data.sparse.iter_mut() {
            match vectors.get(name) {
                Some(Vector::Sparse(s)) => {
                    self.bytes += s.indices.len() * 8;
                    col.push(Some(s.clone()));
                }
                _ => col.push(None),
            }
        }
        self.bytes += 64 + payload_size_hint(&payload);
        self.indexes.insert(row, &payload);
        data.ids.push(id);
        data.versions.push(version);
        data.payloads.push(payload);
        self.deleted.push(false);
        self.live += 1;
        row
    }

    /// Tombstones a row.
    pub fn delete(&mut self, row: u32) {
        let r = row as usize;
        if !self.deleted[r] {
            self.deleted[r] = true;
            self.live -= 1;
            self.indexes.remove(row, &self.data.payloads[r]);
        }
    }

    /// Replaces a live row's payload in place (mutable segment only).
    pub fn replace_payload(&mut self, row: u32, payload: Payload, version: u64) {
        let data = Arc::make_mut(&mut self.data);
        let r = row as usize;
        self.indexes.remove(row, &data.payloads[r]);
        self.indexes.insert(row, &payload);
        self.bytes += payload_size_hint(&payload);
        data.payloads[r] = payload;
        data.versions[r] = version;
    }

    /// Sets or clears vectors of a live row in place (mutable segment only).
    pub fn replace_vectors(&mut self, row: u32, vectors: &NamedVectors, version: u64) {
        let data = Arc::make_mut(&mut self.data);
        let r = row as usize;
        for (name, col) in data.dense.iter_mut() {
            let s = r * col.dim;
            match vectors.get(name) {
                Some(Vector::Dense(v)) => {
                    col.data.to_mut()[s..s + col.dim].copy_from_slice(v);
                    col.present[r] = true;
                }
                _ => {
                    col.data.to_mut()[s..s + col.dim].fill(0.0);
                    col.present[r] = false;
                }
            }
        }
        for (name, col) in data.sparse.iter_mut() {
            col[r] = match vectors.get(name) {
                Some(Vector::Sparse(s)) => Some(s.clone()),
                _ => None,
            };
        }
        data.versions[r] = version;
    }

    /// All vectors of a row.
    pub fn vectors(&self, row: u32) -> NamedVectors {
        self.select_vectors(row, &VectorSelector::All)
    }

    pub fn select_vectors(&self, row: u32, sel: &VectorSelector) -> NamedVectors {
        let wanted = |n: &str| match sel {
            VectorSelector::All => true,
            VectorSelector::None => false,
            VectorSelector::Names(names) => names.iter().any(|x| x == n),
        };
        let r = row as usize;
        let mut out = NamedVectors::new();
        for (name, col) in &self.data.dense {
            if col.present[r] && wanted(name) {
                out.insert(name.clone(), Vector::Dense(col.row(row).to_vec()));
            }
        }
        for (name, col) in &self.data.sparse {
            if let (Some(s), true) = (&col[r], wanted(name)) {
                out.insert(name.clone(), Vector::Sparse(s.clone()));
            }
        }
        out
    }

    /// Live rows matching `filter` (all live rows without one), ascending.
    pub fn matching_rows(&self, filter: Option<&Filter>) -> Vec<u32> {
        let rows = self.rows() as u32;
        let Some(filter) = filter.filter(|f| !f.is_empty()) else {
            return (0..rows).filter(|&r| self.is_live(r)).collect();
        };
        let check = |r: &u32| self.is_live(*r) && filter.matches(&self.view(*r));
        match plan(filter, &self.indexes, self.rows()) {
            Plan::Candidates(c) => c.into_iter().filter(|r| *r < rows).filter(check).collect(),
            Plan::FullScan => (0..rows).filter(check).collect(),
        }
    }

    /// The rows matching `filter` (live when computed), remembered for the next searches with
    /// the same filter. Sealed segments only (a mutable segment's payloads change).
    pub fn matching_set(&self, filter: &Filter) -> Arc<RowSet> {
        self.filter_lookup(filter, None).0
    }

    /// [`Segment::matching_set`], and the graph built for this filter and vector, if any.
    pub fn filter_lookup(
        &self,
        filter: &Filter,
        vector: Option<&str>,
    ) -> (Arc<RowSet>, Option<Arc<ValueGraph>>) {
        if filter.names_ids() {
            // an id list (the Chroma layer sends every match of a broad `where` as one):
            // rarely repeated, and its key would be as long as the list and in no fixed
            // order (a hash set), so it is matched afresh each time and never cached
            let rows = self.matching_rows(Some(filter));
            return (Arc::new(RowSet::from_rows(&rows, self.rows())), None);
        }
        let key = format!("{filter:?}");
        let mut cache = self.filter_cache.lock();
        if let Some(i) = cache.iter().position(|e| e.key == key) {
            let mut hit = cache.remove(i);
            if !hit.verified {
                // restored from a file: the graphs serve only if their rows still cover the
                // filter's live matching rows (rows they hold beyond those must be deleted)
                drop(cache);
                let fresh = self.matching_rows(Some(filter));
                hit.graphs.retain(|_, g| self.still_covers(&g.rows, &fresh));
                hit.set = Arc::new(RowSet::from_rows(&fresh, self.rows()));
                hit.verified = true;
                cache = self.filter_cache.lock();
                cache.retain(|e| e.key != key); // added by another search meanwhile
                if cache.len() >= FILTER_CACHE_ENTRIES {
                    cache.remove(0);
                }
            }
            let out = (
                hit.set.clone(),
                vector.and_then(|v| hit.graphs.get(v).cloned()),
            );
            cache.push(hit);
            return out;
        }
        drop(cache);
        let set = Arc::new(RowSet::from_rows(
            &self.matching_rows(Some(filter)),
            self.rows(),
        ));
        let mut cache = self.filter_cache.lock();
        if cache.len() >= FILTER_CACHE_ENTRIES {
            cache.remove(0);
        }
        cache.push(FilterEntry {
            key,
            set: set.clone(),
            walks: BTreeMap::new(),
            graphs: BTreeMap::new(),
            verified: true,
        });
        (set, None)
    }

    /// Counts one walk of vector `vector`'s graph under the filter whose rows are `set`
    /// (as returned by [`Segment::filter_lookup`]).
    pub fn note_filter_walk(&self, set: &Arc<RowSet>, vector: &str) {
        let mut cache = self.filter_cache.lock();
        if let Some(e) = cache.iter_mut().find(|e| Arc::ptr_eq(&e.set, set)) {
            match e.walks.get_mut(vector) {
                Some(n) => *n = n.saturating_add(1),
                None => {
                    e.walks.insert(vector.to_string(), 1);
                }
            }
        }
    }

    /// A remembered filter that has walked vector `vector`'s graph at least `min_walks` times,
    /// matches between `min_rows` and `max_rows` rows, and has no graph yet — while the
    /// segment has fewer than `max_graphs` filter graphs.
    pub fn filter_graph_wanted(
        &self,
        min_walks: u32,
        min_rows: usize,
        max_rows: usize,
        max_graphs: usize,
    ) -> Option<FilterGraphWork> {
        let cache = self.filter_cache.lock();
        let built: usize = cache.iter().map(|e| e.graphs.len()).sum();
        if built >= max_graphs {
            return None;
        }
        cache.iter().rev().find_map(|e| {
            if e.set.count < min_rows.max(2) || e.set.count > max_rows {
                return None;
            }
            let (vector, _) = e
                .walks
                .iter()
                .find(|(v, n)| **n >= min_walks && !e.graphs.contains_key(*v))?;
            Some(FilterGraphWork {
                key: e.key.clone(),
                vector: vector.clone(),
                rows: e.set.rows(),
            })
        })
    }

    /// Installs a graph built for the remembered filter `key`; false (and the graph is
    /// dropped) if the filter was forgotten meanwhile. Its walk count restarts, so a filter
    /// whose graph is declined is not offered again at once.
    pub fn install_filter_graph(
        &self,
        key: &str,
        vector: &str,
        graph: Option<Arc<ValueGraph>>,
    ) -> bool {
        let mut cache = self.filter_cache.lock();
        let Some(e) = cache.iter_mut().find(|e| e.key == key) else {
            return false;
        };
        e.walks.remove(vector);
        match graph {
            Some(g) => {
                e.graphs.insert(vector.to_string(), g);
                true
            }
            None => false,
        }
    }

    /// The filter graphs built over vector `vector`, with their filters' keys.
    pub fn filter_graphs_of(&self, vector: &str) -> Vec<(String, Arc<ValueGraph>)> {
        let cache = self.filter_cache.lock();
        cache
            .iter()
            .filter_map(|e| Some((e.key.clone(), e.graphs.get(vector)?.clone())))
            .collect()
    }

    /// Remembers a filter graph read from a file for the filter whose cache key is `key`.
    /// The entry is unverified: the first lookup with that filter computes its matching
    /// rows and keeps the graph only if it still covers them (so a filter whose meaning or
    /// rows changed since never walks a stale graph). Ignored while the cache already
    /// holds `max_graphs` graphs or is full.
    pub fn restore_filter_graph(
        &mut self,
        key: String,
        vector: &str,
        graph: Arc<ValueGraph>,
        max_graphs: usize,
    ) {
        let rows = self.rows();
        let cache = self.filter_cache.get_mut();
        if cache.iter().map(|e| e.graphs.len()).sum::<usize>() >= max_graphs {
            return;
        }
        if let Some(e) = cache.iter_mut().find(|e| e.key == key) {
            e.graphs.insert(vector.to_string(), graph);
            return;
        }
        if cache.len() >= FILTER_CACHE_ENTRIES {
            return;
        }
        cache.push(FilterEntry {
            key,
            set: Arc::new(RowSet::from_rows(&graph.rows, rows)),
            walks: BTreeMap::new(),
            graphs: BTreeMap::from([(vector.to_string(), graph)]),
            verified: false,
        });
    }

    /// Rows and bytes held by filter graphs (for collection info).
    pub fn filter_graph_stats(&self) -> (usize, usize, usize) {
        let cache = self.filter_cache.lock();
        let graphs = cache.iter().flat_map(|e| e.graphs.values());
        graphs.fold((0, 0, 0), |(n, rows, bytes), g| {
            (n + 1, rows + g.len(), bytes + g.memory_bytes())
        })
    }

    /// Drops every graph built over vector `name` (the vector was deleted, or its graphs
    /// are to be built again with new parameters).
    pub fn forget_vector(&mut self, name: &str) {
        self.graphs.remove(name);
        let prefix = format!("{name}\u{0}");
        self.value_graphs.retain(|k, _| !k.starts_with(&prefix));
        self.value_keys_done.retain(|(v, _)| v != name);
        for e in self.filter_cache.get_mut().iter_mut() {
            e.graphs.remove(name);
            e.walks.remove(name);
        }
    }

    /// Forgets every remembered filter and its graphs (a change of the vector list changes
    /// what `has_vector` conditions match).
    pub fn forget_filters(&mut self) {
        self.filter_cache.get_mut().clear();
    }

    /// Whether a graph over `stored` rows (ascending) serves a set whose live rows are now
    /// `now` (ascending): every row of `now` is in `stored`, and every row of `stored` not in
    /// `now` is a row of this segment that was deleted.
    pub fn still_covers(&self, stored: &[u32], now: &[u32]) -> bool {
        let mut now = now.iter().peekable();
        for &r in stored {
            if r as usize >= self.rows() {
                return false;
            }
            if now.peek() == Some(&&r) {
                now.next();
            } else if self.is_live(r) {
                return false;
            }
        }
        now.next().is_none()
    }

    /// Drops the value graphs built for payload key `key`.
    pub fn forget_value_graphs(&mut self, key: &JsonPath) {
        let infix = format!("\u{0}{key}\u{0}");
        self.value_graphs.retain(|k, _| !k.contains(&infix));
        self.value_keys_done.retain(|(_, k)| k != key);
    }

    /// A copy holding only live rows (for sealing and merging).
    pub fn live_data(&self, config: &CollectionConfig) -> SegmentData {
        let mut out = SegmentData::empty(config);
        for r in (0..self.rows() as u32).filter(|&r| self.is_live(r)) {
            let ri = r as usize;
            out.ids.push(self.data.ids[ri].clone());
            out.versions.push(self.data.versions[ri]);
            out.payloads.push(self.data.payloads[ri].clone());
            for (name, col) in out.dense.iter_mut() {
                if let Some(src) = self.data.dense.get(name) {
                    col.data.to_mut().extend_from_slice(&src.row(r));
                    col.present.push(src.present[ri]);
                }
            }
            for (name, col) in out.sparse.iter_mut() {
                col.push(self.data.sparse.get(name).and_then(|c| c[ri].clone()));
            }
        }
        out
    }
}

fn payload_size_hint(p: &Payload) -> usize {
    if p.is_empty() {
        0
    } else {
        p.len() * 32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Condition;

    /// Filters listing ids are matched afresh and never cached; others are cached once.
    #[test]
    fn id_list_filters_are_not_cached() {
        let data = SegmentData {
            ids: (0..100u64).map(PointId::Num).collect(),
            versions: vec![1; 100],
            payloads: vec![Payload::new(); 100],
            ..SegmentData::default()
        };
        let seg = Segment::new(1, data, &BTreeMap::new());
        let ids: std::collections::HashSet<PointId> = (0..60u64).map(PointId::Num).collect();
        let listed = Filter {
            must: vec![Condition::Filter(Filter {
                should: vec![Condition::HasId(ids)],
                ..Filter::default()
            })],
            ..Filter::default()
        };
        assert!(listed.names_ids());
        for _ in 0..3 {
            assert_eq!(seg.matching_set(&listed).count, 60);
        }
        assert_eq!(seg.filter_cache.lock().len(), 0);
        let other = Filter {
            must_not: vec![Condition::HasVector("v".into())],
            ..Filter::default()
        };
        assert!(!other.names_ids());
        for _ in 0..3 {
            assert_eq!(seg.matching_set(&other).count, 100);
        }
        assert_eq!(seg.filter_cache.lock().len(), 1);
    }

    #[test]
    fn columns_grow_straight_to_their_sealing_size_within_bounds() {
        let mut col = vec![0.0f32; GROW_STRAIGHT_FROM];
        col.shrink_to_fit();
        grow_column(&mut col, 384, 1 << 22);
        assert_eq!(
            col.capacity(),
            (1 << 22) + (1 << 19),
            "target plus an eighth"
        );
        for target in [usize::MAX, GROW_STRAIGHT_MAX, 0] {
            let mut col = vec![0.0f32; GROW_STRAIGHT_FROM];
            col.shrink_to_fit();
            grow_column(&mut col, 384, target);
            assert_eq!(
                col.capacity(),
                GROW_STRAIGHT_FROM,
                "left to the usual growth"
            );
            col.extend_from_slice(&[1.0; 384]);
        }
    }
}
