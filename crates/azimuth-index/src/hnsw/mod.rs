//! HNSW: a hierarchical navigable small-world graph for approximate nearest-neighbour search
//! (Malkov & Yashunin, 2016), over a row-major `&[f32]` matrix the caller owns.
//!
//! # Design
//!
//! - **Rows are nodes.** Node `i` is row `i` of the caller's matrix; the index stores links
//!   only, never vectors, and every call that needs distances takes the matrix again. Rows
//!   never inserted are absent nodes (no links, never returned).
//! - **One distance direction.** Internally smaller is always closer: L2Squared and L1 as
//!   they are, Dot negated. Results are converted back, so scores are in the metric's natural
//!   units exactly as [`flat::search`](crate::flat::search) reports them.
//! - **Layout.** Level-0 lists (where nearly all search time goes) sit in one contiguous array
//!   with a fixed stride of `1 + 2·m` `u32` (count, then ids), so a node's list is found by
//!   multiplication. Upper-level lists (about one node in `m` has any) live in a separate
//!   arena, `1 + m` slots per level per node. Levels are drawn as `floor(-ln(U) / ln(m))`
//!   from a SplitMix64 hash of `(seed, row)`, so they do not depend on insertion order.
//! - **Construction** ([`Hnsw::build`]) links rows in parallel on a private rayon pool with
//!   striped per-node locks; neighbours are chosen with the paper's diversity heuristic and
//!   reverse links re-prune a full list with the same heuristic (see `build`).
//!   [`Hnsw::insert`] adds one row at a time with the same code.
//! - **Search** descends greedily through the upper levels, then runs a beam search of width
//!   `max(ef, k)` on level 0. With a filter (or deleted rows) the walk still passes through
//!   rejected nodes, but only accepted ones enter the result set, so the walk continues until
//!   `ef` accepted nodes are found or the frontier is exhausted. The next candidates' vectors
//!   are prefetched, and per-search buffers (a bitmap visited set and the two heaps) come from
//!   a pool so a warm search allocates nothing but its answer.
//! - **Deletion** only marks: deleted rows keep their links (the graph stays navigable) and
//!   are filtered out of results.
//!
//! Invariant: a link on level `l` names a present node, other than the list's owner, whose
//! level is at least `l`; so a walk on level `l` only ever reaches nodes that have level `l`.
//! Invariant: the entry point is a node of the highest level (none iff the graph is empty).
//! Invariant: `search` never reads a row at or past `data.len() / dim`: it returns nothing
//! when `data` has fewer rows than the graph has node slots.
//!
//! # Serialised layout (version 2)
//!
//! All integers little-endian; `n` is the number of node slots (one past the largest
//! indexed row), `m` the parameter below.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `AZMHNSW\0` |
//! | 8 | 4 | format version, `2` (`1` is still read) |
//! | 12 | 1 | metric: 0 Dot, 1 L2Squared, 2 L1 |
//! | 13 | 3 | reserved, zero |
//! | 16 | 8 | `dim` |
//! | 24 | 4 | `m` (2..=256) |
//! | 28 | 4 | `ef_construct` (1..=65536) |
//! | 32 | 8 | `seed` |
//! | 40 | 4 | `n` |
//! | 44 | 4 | entry point row, `0xFFFF_FFFF` when empty |
//! | 48 | 8 | `u`: number of upper-level `u32` slots |
//! | 56 | `n` | level per node, 0..=30, or 255 = absent |
//! | | `ceil(n/8)` | deleted bitmap (bit `i % 8` of byte `i / 8`) |
//! | | 0..=63 | zero padding to a multiple of 64 bytes from the start (version 2 only) |
//! | | `n·(1+2m)·4` | level-0 lists: count, then `2m` ids (unused slots zero) |
//! | | `u·4` | upper lists: for each node with level ≥ 1 in row order, levels 1..=level, each count then `m` ids |
//! | | 4 | CRC-32 (IEEE) of every byte before it |
//!
//! Loading checks everything: magic, version, CRC, reserved bytes, parameter ranges, the exact
//! length implied by the header, levels, that the entry point is a node of the top level,
//! that `u` matches the levels, and for every list that its count fits, its ids are present
//! nodes other than itself that reach that level, and its unused slots are zero; absent nodes
//! must be empty and undeleted. A failed check is [`HnswError::Corruption`], never a panic.
//!
//! Level-0 lists are stored exactly as the graph holds them in memory (little-endian `u32`),
//! and version 2 pads them to a 64-byte offset, so [`Hnsw::from_shared`] can leave them in
//! the bytes it loads from — a memory map of the file, say — after checking them.

mod build;
mod derive;
mod graph;
mod persist;
mod search;
#[cfg(test)]
mod tests;

use std::fmt;

pub use self::build::BuildControl;
use self::build::{link_all, link_orphans, Builder, Locks};
use self::graph::{level_for, Graph};
pub use self::graph::{ImageBytes, SharedBytes};
pub use self::search::QueryDistance;
use self::search::{FloatQuery, Scored, ScratchPool, Space, View};
use crate::distance::Metric;
use crate::quant::Int8Codes;

/// Largest accepted `m` (level-0 lists hold `2·m`).
pub const MAX_M: usize = 256;
/// Largest accepted `ef_construct`.
pub const MAX_EF_CONSTRUCT: usize = 1 << 16;
/// Bulk builds on at least this many rows of at least this many dimensions find candidates
/// on int8 codes clipped at this quantile of |x|.
const BUILD_CODES_MIN_ROWS: usize = 10_000;
const BUILD_CODES_MIN_DIM: usize = 32;
const BUILD_CODES_QUANTILE: f32 = 0.999;
/// Lock stripes for a parallel build.
const BUILD_LOCK_STRIPES: usize = 4096;

/// Construction parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HnswParams {
    /// Neighbours per node on upper levels (level 0 keeps up to `2·m`); clamped to
    /// `2..=MAX_M`.
    pub m: usize,
    /// Beam width while linking a node; clamped to `1..=MAX_EF_CONSTRUCT`.
    pub ef_construct: usize,
    /// Seeds the level draw.
    pub seed: u64,
}

impl Default for HnswParams {
    fn default() -> HnswParams {
        HnswParams {
            m: 16,
            ef_construct: 100,
            seed: 0,
        }
    }
}

impl HnswParams {
    /// These parameters as an index built with them reports them ([`Hnsw::params`]): `m`
    /// and `ef_construct` clamped to their accepted ranges.
    pub fn sanitized(self) -> HnswParams {
        HnswParams {
            m: self.m.clamp(2, MAX_M),
            ef_construct: self.ef_construct.clamp(1, MAX_EF_CONSTRUCT),
            seed: self.seed,
        }
    }
}

/// Why an HNSW operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HnswError {
    /// The caller passed something unusable (a row outside the data, a row already indexed).
    InvalidArgument(String),
    /// Serialised bytes are not a valid index.
    Corruption(String),
}

impl fmt::Display for HnswError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HnswError::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
            HnswError::Corruption(why) => write!(f, "corrupt HNSW index: {why}"),
        }
    }
}

impl std::error::Error for HnswError {}

/// An HNSW graph over the rows of a caller-owned matrix. See the module docs.
pub struct Hnsw {
    dim: usize,
    metric: Metric,
    params: HnswParams,
    graph: Graph,
    entry: Option<u32>,
    /// Rows present in the graph.
    count: usize,
    /// Per node slot; deleted rows stay linked but are never returned.
    deleted: Vec<bool>,
    deleted_count: usize,
    pool: ScratchPool,
}

impl fmt::Debug for Hnsw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hnsw")
            .field("dim", &self.dim)
            .field("metric", &self.metric)
            .field("params", &self.params)
            .field("len", &self.count)
            .field("deleted", &self.deleted_count)
            .field("entry", &self.entry)
            .finish()
    }
}

/// Whole rows in `data` (zero for `dim == 0`), capped so every row fits a `u32` id.
fn rows_in(data: &[f32], dim: usize) -> usize {
    data.len()
        .checked_div(dim)
        .unwrap_or(0)
        .min(u32::MAX as usize)
}

impl Hnsw {
    /// An empty index for `dim`-dimensional rows; add rows with [`Hnsw::insert`].
    pub fn new(dim: usize, metric: Metric, params: HnswParams) -> Hnsw {
        let params = params.sanitized();
        Hnsw {
            dim,
            metric,
            params,
            graph: Graph::with_levels(params.m, Vec::new()),
            entry: None,
            count: 0,
            deleted: Vec::new(),
            deleted_count: 0,
            pool: ScratchPool::default(),
        }
    }

    /// Indexes every whole row of `data` using `threads` worker threads (a private pool; one
    /// or zero means the calling thread only).
    pub fn build(
        data: &[f32],
        dim: usize,
        metric: Metric,
        params: HnswParams,
        threads: usize,
    ) -> Hnsw {
        Hnsw::build_with(data, dim, metric, params, threads, &BuildControl::new())
            .unwrap_or_else(|| Hnsw::new(dim, metric, params))
    }

    /// [`Hnsw::build`] reporting progress to `control`; `None` when it was cancelled.
    pub fn build_with(
        data: &[f32],
        dim: usize,
        metric: Metric,
        params: HnswParams,
        threads: usize,
        control: &BuildControl,
    ) -> Option<Hnsw> {
        Hnsw::build_leaving_out(data, dim, metric, params, threads, control, &[])
    }

    /// [`Hnsw::build_with`] without the rows in `left_out`: they stay absent (add them later
    /// with [`Hnsw::insert`]). Used to measure recall with queries the graph has never seen.
    pub fn build_leaving_out(
        data: &[f32],
        dim: usize,
        metric: Metric,
        params: HnswParams,
        threads: usize,
        control: &BuildControl,
        left_out: &[u32],
    ) -> Option<Hnsw> {
        let mut index = Hnsw::new(dim, metric, params);
        let params = index.params;
        let rows = rows_in(data, dim);
        let mut levels: Vec<u8> = (0..rows as u32)
            .map(|row| level_for(params.seed, row, params.m))
            .collect();
        for &row in left_out {
            if let Some(level) = levels.get_mut(row as usize) {
                *level = graph::ABSENT;
            }
        }
        let present = levels.iter().filter(|&&l| l != graph::ABSENT).count();
        // The first row of the highest level becomes the entry point.
        let entry = (0u32..)
            .zip(&levels)
            .filter(|&(_, &level)| level != graph::ABSENT)
            .max_by_key(|&(row, &level)| (level, u32::MAX - row));
        index.entry = entry.map(|(row, _)| row);
        index.graph = Graph::with_levels(params.m, levels);
        index.count = present;
        index.deleted = vec![false; rows];
        if let Some(entry) = index.entry {
            let locks = Locks::new(if threads > 1 { BUILD_LOCK_STRIPES } else { 1 });
            // Bulk builds search for candidates on int8 codes (see `Builder::codes`); small
            // or low-dimensional inputs gain nothing from it.
            let codes = (rows >= BUILD_CODES_MIN_ROWS && dim >= BUILD_CODES_MIN_DIM)
                .then(|| Int8Codes::encode(data, dim, metric, BUILD_CODES_QUANTILE));
            let builder = index.builder(data, &locks, codes.as_ref());
            link_all(&builder, entry, rows, threads, control);
            if !control.is_cancelled() {
                link_orphans(&index.graph, Space::new(data, dim, metric));
            }
        }
        (!control.is_cancelled()).then_some(index)
    }

    /// Adds `row` of `data` (typically a row appended after the build). Fails if the row is
    /// outside `data`, already indexed, or `data` is shorter than the rows already indexed.
    pub fn insert(&mut self, data: &[f32], row: u32) -> Result<(), HnswError> {
        let rows = rows_in(data, self.dim);
        if row as usize >= rows || row == u32::MAX {
            let why = format!(
                "row {row} is outside the data ({rows} rows of {})",
                self.dim
            );
            return Err(HnswError::InvalidArgument(why));
        }
        if rows < self.graph.len() {
            let why = format!("data has {rows} rows, the index {}", self.graph.len());
            return Err(HnswError::InvalidArgument(why));
        }
        if self.contains(row) {
            let why = format!("row {row} is already indexed");
            return Err(HnswError::InvalidArgument(why));
        }
        let level = level_for(self.params.seed, row, self.params.m);
        self.graph.own_level0();
        self.graph.add_node(row, level);
        self.deleted.resize(self.graph.len(), false);
        self.count += 1;
        let Some(entry) = self.entry else {
            self.entry = Some(row);
            return Ok(());
        };
        let locks = Locks::new(1);
        self.builder(data, &locks, None).link(row, entry);
        if self.graph.level(entry).is_some_and(|top| level > top) {
            self.entry = Some(row);
        }
        Ok(())
    }

    /// Gives every node that no list links to an in-link (see `build::link_orphans`; builds
    /// and derivations do it already). For a graph that took [`Hnsw::insert`]s since: their
    /// re-pruning can drop such a link. `data` as for [`Hnsw::search`]; nothing happens if
    /// it holds fewer rows than the graph.
    pub fn link_orphans(&mut self, data: &[f32]) {
        if rows_in(data, self.dim) >= self.graph.len() {
            self.graph.own_level0();
            link_orphans(&self.graph, Space::new(data, self.dim, self.metric));
        }
    }

    fn builder<'a>(
        &'a self,
        data: &'a [f32],
        locks: &'a Locks,
        codes: Option<&'a Int8Codes>,
    ) -> Builder<'a> {
        Builder {
            graph: &self.graph,
            space: Space::new(data, self.dim, self.metric),
            ef_construct: self.params.ef_construct,
            locks,
            pool: &self.pool,
            codes,
        }
    }

    /// The best `k` indexed, undeleted rows for `query` (best first, scores in the metric's
    /// natural units), searching with beam width `max(ef, k)`. With `filter`, only rows it
    /// accepts are returned. Empty if `query` is not `dim` long or `data` has fewer rows than
    /// the index.
    pub fn search(
        &self,
        data: &[f32],
        query: &[f32],
        k: usize,
        ef: usize,
        filter: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<(u32, f32)> {
        if query.len() != self.dim || rows_in(data, self.dim) < self.graph.len() {
            return Vec::new();
        }
        let space = Space::new(data, self.dim, self.metric);
        let q = FloatQuery { space, query };
        let mut found = self.search_by(&q, k, ef, filter);
        for hit in &mut found {
            hit.1 = space.score(hit.1);
        }
        found
    }

    /// The best `k` indexed, undeleted rows by `q`'s distances (smaller is closer; returned
    /// as they are, closest first), with beam width `max(ef, k)`. This is how quantized codes
    /// walk the graph: `q` computes distances from codes instead of the f32 rows.
    pub fn search_by<Q: QueryDistance>(
        &self,
        q: &Q,
        k: usize,
        ef: usize,
        filter: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<(u32, f32)> {
        self.search_seeded(q, &[], &[], k, ef, filter)
    }

    /// [`Hnsw::search_by`] for queries whose distance has several basins (a recommendation
    /// from several examples, say): the bottom-layer beam also starts from the node each of
    /// `seeds` (vectors over `data`, the indexed rows) descends to, so a walk does not stay
    /// in the basin the entry point happens to lead to.
    pub fn search_seeded<Q: QueryDistance>(
        &self,
        q: &Q,
        data: &[f32],
        seeds: &[&[f32]],
        k: usize,
        ef: usize,
        filter: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<(u32, f32)> {
        let seeds: Vec<FloatQuery<'_>> = if rows_in(data, self.dim) >= self.graph.len() {
            let space = Space::new(data, self.dim, self.metric);
            seeds
                .iter()
                .filter(|s| s.len() == self.dim)
                .map(|&query| FloatQuery { space, query })
                .collect()
        } else {
            Vec::new()
        };
        self.search_seeded_by(q, &seeds, k, ef, filter)
    }

    /// [`Hnsw::search_seeded`] with each seed given as its own distances to the nodes (a
    /// seed over rows in another precision, say): the bottom-layer beam also starts from
    /// the node each seed's greedy descent reaches.
    pub fn search_seeded_by<Q: QueryDistance, S: QueryDistance>(
        &self,
        q: &Q,
        seeds: &[S],
        k: usize,
        ef: usize,
        filter: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<(u32, f32)> {
        let Some(entry) = self.entry else {
            return Vec::new();
        };
        if k == 0 {
            return Vec::new();
        }
        let view = View { graph: &self.graph };
        let mut scratch = self.pool.take();
        let top = self.graph.level(entry).unwrap_or(0);
        let mut starts = vec![view.descend(q, entry, top, 0, &mut scratch)];
        for seed in seeds {
            let id = view.descend(seed, entry, top, 0, &mut scratch).id;
            if starts.iter().all(|s| s.id != id) {
                starts.push(Scored {
                    dist: q.distance(id),
                    id,
                });
            }
        }
        let ef = ef.max(k);
        let deleted = |id: u32| self.deleted.get(id as usize).copied().unwrap_or(true);
        let beam = (ef, 0);
        match (filter, self.deleted_count) {
            (None, 0) => view.search_layer(q, &starts, beam, |_| true, &mut scratch),
            (None, _) => view.search_layer(q, &starts, beam, |id| !deleted(id), &mut scratch),
            (Some(accept), _) => {
                let accept = |id| !deleted(id) && accept(id);
                view.search_layer(q, &starts, beam, accept, &mut scratch)
            }
        }
        let mut found: Vec<Scored> = scratch.results.drain().collect();
        self.pool.give(scratch);
        found.sort_unstable();
        found.truncate(k);
        found.into_iter().map(|s| (s.id, s.dist)).collect()
    }

    /// Marks `row` deleted: it stays in the graph for navigation but is never returned.
    /// Returns whether it was indexed and not already deleted.
    pub fn mark_deleted(&mut self, row: u32) -> bool {
        if !self.contains(row) {
            return false;
        }
        match self.deleted.get_mut(row as usize) {
            Some(flag) if !*flag => {
                *flag = true;
                self.deleted_count += 1;
                true
            }
            _ => false,
        }
    }

    /// Whether `row` is indexed and marked deleted.
    pub fn is_deleted(&self, row: u32) -> bool {
        self.deleted.get(row as usize).copied().unwrap_or(false)
    }

    /// Whether `row` is in the graph (deleted or not).
    pub fn contains(&self, row: u32) -> bool {
        self.graph.level(row).is_some()
    }

    /// Rows in the graph, deleted ones included.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no row is indexed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Rows marked deleted.
    pub fn deleted_count(&self) -> usize {
        self.deleted_count
    }

    /// Vector length the index was built for.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The metric the index was built for.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// The (clamped) construction parameters.
    pub fn params(&self) -> HnswParams {
        self.params
    }

    /// Heap bytes held by the graph (links, levels, deletion flags); excludes the vectors,
    /// the per-search buffers and the lists read in place ([`Hnsw::shared_bytes`]).
    pub fn memory_bytes(&self) -> usize {
        self.graph.memory_bytes() + self.deleted.capacity()
    }

    /// Bytes of level-0 lists this graph reads in place from the bytes it was loaded from
    /// ([`Hnsw::from_shared`]); zero when it holds them itself.
    pub fn shared_bytes(&self) -> usize {
        self.graph.shared_bytes()
    }

    /// Hints that the level-0 lists read in place may leave memory for now (see
    /// [`ImageBytes::release`]); nothing for a graph that holds them itself.
    pub fn release_shared(&self) {
        self.graph.release_shared();
    }
}
