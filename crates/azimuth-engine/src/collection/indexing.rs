//! Background indexing: sealed segments that reach the collection's indexing threshold get
//! an HNSW graph per dense vector, built without holding the collection lock.
//!
//! One step does one thing, in this order of preference:
//! 1. seal the mutable segment, when what is unindexed (sealed or not) has reached a
//!    threshold;
//! 2. merge the unindexed sealed segments into one (so a bulk load ends as one big segment
//!    with one graph, not many small graphs that each query must walk);
//! 3. build the graph of one unindexed segment, then install it under the write lock if the
//!    segment still exists (a merge or vacuum may have replaced it meanwhile; the graph is
//!    then thrown away).
//!
//! Steps wait until the collection has had no writes for a moment (`quiet`), so a bulk load
//! is indexed once at its end, unless work has been pending for `max_wait`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use azimuth_index::hnsw::BuildControl;

use super::state::State;
use super::Collection;
use crate::ann;
use crate::config::CollectionConfig;
use crate::error::{Error, Result};
use crate::filter::{FieldSchema, JsonPath};
use crate::segment::{FilterGraphWork, Segment};
use crate::storage::graph_file::StoredValueGraphs;
use crate::storage::CollectionDir;

/// Unindexed segments merged in one step hold at most this many bytes of vectors.
const MAX_MERGE_VECTOR_BYTES: usize = 2 << 30;

/// How the background indexer runs.
#[derive(Clone, Debug)]
pub struct IndexerOptions {
    /// Threads a graph build uses (0 = every core).
    pub threads: usize,
    /// Writes must have paused this long before indexing starts.
    pub quiet: Duration,
    /// ... unless work has been pending this long.
    pub max_wait: Duration,
}

impl Default for IndexerOptions {
    fn default() -> Self {
        IndexerOptions {
            threads: 0,
            quiet: Duration::from_secs(1),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// Indexing progress, as reported by [`Collection::info`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IndexingInfo {
    /// Live vectors in segments that have a graph, plus rows linked by a build in progress.
    pub indexed_vectors: usize,
    /// Live dense vectors that a graph could cover (points × vector spaces with indexing on).
    pub indexable_vectors: usize,
    /// Indexing work is waiting or running.
    pub pending: bool,
    /// A graph build in progress: rows linked so far, rows in all.
    pub building: Option<(usize, usize)>,
    /// Per vector name, the ef → estimated recall@10 table of its largest indexed segment.
    pub calibration: Vec<(String, Vec<(u32, f32)>)>,
    /// Heap bytes of the graphs and quantized codes.
    pub index_bytes: usize,
    /// Bytes of graph links read through memory maps of graph files (`hnsw_config.on_disk`),
    /// not included in `index_bytes`.
    pub index_bytes_mapped: usize,
    /// Graphs built for filters that searches repeat: how many, their rows, their bytes
    /// (included in `index_bytes`).
    pub filter_graphs: (usize, usize, usize),
}

/// A build in progress.
pub(super) struct Build {
    rows: usize,
    control: BuildControl,
    /// Whether it is indexing progress (graphs and value graphs) rather than a filter
    /// graph, which never makes the collection yellow.
    counted: bool,
}

enum Work {
    Seal,
    Merge(Vec<u64>),
    Graph {
        segment: u64,
        name: String,
    },
    ValueGraphs {
        segment: u64,
        name: String,
        key: JsonPath,
    },
    FilterGraph {
        segment: u64,
        work: FilterGraphWork,
    },
}

/// A filter earns a graph of its own rows on a segment after this many walks of the
/// segment's graph...
const FILTER_GRAPH_MIN_WALKS: u32 = 64;
/// ...if it admits at most this share of the segment's rows (above it, a filtered walk of
/// the segment's graph is nearly as fast as an unfiltered one)...
const FILTER_GRAPH_MAX_SHARE: f64 = 0.7;
/// ...and the segment has fewer filter graphs than this (they hold links, not vectors:
/// about `m` × 8 bytes per row each).
const FILTER_GRAPHS_PER_SEGMENT: usize = 4;
/// A filter graph over at least this share of its segment's rows is derived from the
/// segment's graph ([`ann::ValueGraph::derive`]) rather than built: on debian-minilm (int8,
/// M 16, efC 200) a derived graph of 31 % or 48 % of the rows matched a built one's recall
/// per ef in a fifth of the time, one of 16 % lost 0.015 recall@10 at ef 48, one of 8 %
/// 0.03 (the links a smaller subset keeps from the segment's graph leave it less navigable).
const FILTER_GRAPH_DERIVE_MIN_SHARE: f64 = 0.25;
/// The entry of a value-graph file that holds the segment's filter graphs of that vector
/// (graph keys are the filters' cache keys). Never a payload key's text (a key with
/// characters outside the bare-key set is written quoted), and builds that do not know the
/// entry skip it as a key that is not indexed.
pub(super) const FILTER_GRAPHS_ENTRY: &str = "\u{0}filters";

impl Collection {
    /// Does one step of pending indexing work (see the module docs). Returns whether it did
    /// anything; false when there is nothing to do or writes have not paused yet.
    pub fn index_step(&self, options: &IndexerOptions) -> Result<bool> {
        // one step at a time: the background indexer and `build_indexes` would otherwise
        // both take the same pending work, and the slower build would replace the graph
        // searches (and the caller of `build_indexes`) already saw
        let _step = self.index_steps.lock();
        let config = self.config();
        self.check_alive()?;
        let work = pending_work(&self.state.read(), &config);
        let mut since = self.index_pending_since.lock();
        let Some(work) = work else {
            *since = None;
            return Ok(false);
        };
        let waited = since.get_or_insert_with(Instant::now).elapsed();
        let quiet = self.last_write.lock().elapsed() >= options.quiet;
        if !quiet && waited < options.max_wait {
            return Ok(false);
        }
        drop(since);
        match work {
            Work::Seal => self.seal()?,
            Work::Merge(ids) => {
                let mut st = self.state.write();
                let still = ids
                    .iter()
                    .all(|id| st.segments.get(id).is_some_and(|s| s.graphs.is_empty()));
                if still && !ids.contains(&st.mutable_id) {
                    self.merge_locked(&mut st, &ids)?;
                }
            }
            Work::Graph { segment, name } => {
                return self.build_graph(segment, &name, options.threads)
            }
            Work::ValueGraphs { segment, name, key } => {
                return self.build_value_graphs(segment, &name, &key, options.threads)
            }
            Work::FilterGraph { segment, work } => {
                return self.build_filter_graph(segment, work, options.threads)
            }
        }
        Ok(true)
    }

    /// Runs indexing steps until nothing is pending, without waiting for writes to pause.
    /// For tests, benchmarks and bulk loads that want their index now.
    pub fn build_indexes(&self) -> Result<()> {
        let now = IndexerOptions {
            threads: 0,
            quiet: Duration::ZERO,
            max_wait: Duration::ZERO,
        };
        while self.index_step(&now)? {}
        Ok(())
    }

    /// Stops a graph build in progress (its work is discarded).
    pub(crate) fn cancel_indexing(&self) {
        if let Some(b) = self.building.lock().as_ref() {
            b.control.cancel();
        }
    }

    pub(super) fn indexing_info(&self, st: &State) -> IndexingInfo {
        let config = self.config();
        let indexed_names: Vec<&String> = config
            .vectors
            .keys()
            .filter(|n| ann::threshold_rows(&config, n).is_some())
            .collect();
        let mut info = IndexingInfo {
            indexable_vectors: st.live_points() * indexed_names.len(),
            pending: pending_work(st, &config)
                .is_some_and(|w| !matches!(w, Work::FilterGraph { .. })),
            ..Default::default()
        };
        for seg in st.segments.values() {
            let done = if seg.id == st.mutable_id {
                0
            } else {
                indexed_names
                    .iter()
                    .filter(|n| !needs_graph(seg, n))
                    .count()
            };
            info.indexed_vectors += done * seg.live;
            for (name, g) in &seg.graphs {
                let col = seg.data.dense.get(name);
                info.index_bytes +=
                    g.hnsw.memory_bytes() + g.codes.as_ref().map_or(0, |c| c.own_bytes(col));
                info.index_bytes_mapped += g.hnsw.shared_bytes();
            }
            let (n, rows, bytes) = seg.filter_graph_stats();
            info.filter_graphs.0 += n;
            info.filter_graphs.1 += rows;
            info.filter_graphs.2 += bytes;
            info.index_bytes += bytes;
            info.index_bytes += seg
                .value_graphs
                .values()
                .map(|g| g.memory_bytes())
                .sum::<usize>();
        }
        if let Some(b) = self.building.lock().as_ref().filter(|b| b.counted) {
            let linked = b.control.linked().min(b.rows);
            info.building = Some((linked, b.rows));
            info.indexed_vectors += linked;
            info.pending = true;
        }
        info.indexed_vectors = info.indexed_vectors.min(info.indexable_vectors);
        for name in indexed_names {
            let best = st
                .segments
                .values()
                .filter_map(|s| s.graphs.get(name).map(|g| (s.live, g)))
                .max_by_key(|(live, _)| *live);
            if let Some((_, g)) = best {
                info.calibration.push((name.clone(), g.calibration.clone()));
            }
        }
        info
    }

    /// Seals the mutable segment (a checkpoint; in memory, just the seal).
    fn seal(&self) -> Result<()> {
        let mut st = self.state.write();
        if self.dir.is_some() {
            self.checkpoint_locked(&mut st)
        } else {
            self.seal_in_memory(&mut st);
            Ok(())
        }
    }

    /// Builds segment `segment`'s graph for vector `name` outside the lock, persists it and
    /// installs it if the segment is still there.
    fn build_graph(&self, segment: u64, name: &str, threads: usize) -> Result<bool> {
        let config = self.config();
        let (data, deleted) = {
            let st = self.state.read();
            let Some(seg) = st.segments.get(&segment) else {
                return Ok(true);
            };
            (seg.data.clone(), seg.deleted.clone())
        };
        let (Some(col), Some(params)) = (data.dense.get(name), config.vectors.get(name)) else {
            return Ok(false);
        };
        let vector_no = config.vectors.keys().position(|n| n == name).unwrap_or(0);
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let build = Arc::new(Build {
            rows: data.rows(),
            control: BuildControl::new(),
            counted: true,
        });
        *self.building.lock() = Some(build.clone());
        let usable = |r: u32| !deleted[r as usize] && col.present[r as usize];
        let hnsw_params = ann::params_for(&config, name);
        let built = ann::build(
            col,
            params.distance,
            hnsw_params,
            (ann::quantization_for(&config, name), params.datatype),
            threads,
            &build.control,
            usable,
        );
        *self.building.lock() = None;
        let Some(graph) = built else {
            return Ok(false);
        };
        // Graph files are named by position: write only if the vector list is the one the
        // position came from and the segment's data is the one the graph was built over
        // (a vector change meanwhile refits it). Otherwise the indexer builds it again.
        let files = self.graph_files.lock();
        let same_list = self.config().vectors.keys().eq(config.vectors.keys());
        let same_data = self
            .state
            .read()
            .segments
            .get(&segment)
            .is_some_and(|s| Arc::ptr_eq(&s.data, &data));
        if !(same_list && same_data) {
            return Ok(false);
        }
        let mut graph = graph;
        if let Some(dir) = &self.dir {
            dir.write_graph(segment, vector_no, name, &graph)?;
            if hnsw_params.on_disk {
                // read the lists back in place from the file just written, here rather than
                // in `place_graphs` under the state lock (a failure leaves that to it)
                if let Ok(Some((_, read))) = dir.read_graph_links(segment, vector_no) {
                    if read.hnsw.shared_bytes() > 0 {
                        graph.hnsw = read.hnsw;
                    }
                }
            }
        }
        let mut st = self.state.write();
        // A configuration update while this was building may have changed what the graph
        // should be; then it is discarded and the indexer builds it again.
        let now = self.config();
        let still_wanted = {
            let p = ann::params_for(&now, name);
            (p.m, p.ef_construct) == (hnsw_params.m, hnsw_params.ef_construct)
                && ann::quantization_for(&now, name) == ann::quantization_for(&config, name)
        };
        data.release_mapped(); // the build read every row
        match st.segments.get_mut(&segment) {
            Some(seg) if still_wanted && Arc::ptr_eq(&seg.data, &data) => {
                seg.graphs.insert(name.to_string(), Arc::new(graph));
            }
            _ => {
                if let Some(dir) = &self.dir {
                    dir.remove_graph(segment, vector_no)?;
                }
            }
        }
        // this build held the segment's data; its columns may move to their maps now
        drop(data);
        super::checkpoint::place_columns(self.dir.as_ref(), &mut st, &now);
        drop(files);
        Ok(true)
    }
}

/// Whether a segment's graph of a vector is still the one a build started from (a
/// settings change replaces it, and its codes, or drops it).
fn still_parent(now: Option<&Arc<ann::VectorGraph>>, then: Option<&Arc<ann::VectorGraph>>) -> bool {
    match (now, then) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// A value's rows get their own graph when a filter on it would walk the segment's graph
/// (at least `full_scan_threshold` rows) and it is at most this share of the segment.
const VALUE_GRAPH_MAX_SHARE: f64 = 0.3;

/// Whether a value with `rows` rows in a segment of `segment_rows` gets a value graph.
fn value_graph_worth_it(rows: usize, segment_rows: usize, full_scan: usize) -> bool {
    rows >= full_scan.max(2) && rows as f64 <= segment_rows as f64 * VALUE_GRAPH_MAX_SHARE
}

impl Collection {
    /// Builds the value graphs of payload key `key` for vector `name` of a segment: one per
    /// value whose rows are too many for an exact scan but a small share of the segment.
    fn build_value_graphs(
        &self,
        segment: u64,
        name: &str,
        key: &JsonPath,
        threads: usize,
    ) -> Result<bool> {
        let config = self.config();
        let full_scan = ann::full_scan_rows(&config, name);
        let (data, deleted, parent, groups) = {
            let st = self.state.read();
            let Some(seg) = st.segments.get(&segment) else {
                return Ok(true);
            };
            let groups: Vec<(String, Vec<u32>)> = seg
                .indexes
                .value_groups(key)
                .into_iter()
                .filter(|(_, rows)| value_graph_worth_it(rows.len(), seg.rows(), full_scan))
                .map(|(v, rows)| (ann::value_graph_key(name, key, &v), rows.to_vec()))
                .collect();
            let parent = seg.graphs.get(name).cloned();
            (seg.data.clone(), seg.deleted.clone(), parent, groups)
        };
        let (Some(col), Some(params)) = (data.dense.get(name), config.vectors.get(name)) else {
            return Ok(false);
        };
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let build = Arc::new(Build {
            rows: groups.iter().map(|g| g.1.len()).sum(),
            control: BuildControl::new(),
            counted: true,
        });
        *self.building.lock() = Some(build.clone());
        let hnsw_params = ann::params_for(&config, name);
        let usable = |r: u32| {
            !deleted.get(r as usize).copied().unwrap_or(true)
                && col.present.get(r as usize).copied().unwrap_or(false)
        };
        let usable_rows: Vec<u32> = (0..data.ids.len() as u32).filter(|&r| usable(r)).collect();
        // measured as searches will walk them: on the segment's codes, if it has them
        let codes = parent.as_ref().and_then(|p| p.codes.as_ref());
        let mut built = Vec::new();
        for (k, rows) in groups {
            let g = ann::ValueGraph::build(
                col,
                rows,
                params.distance,
                hnsw_params,
                threads,
                &build.control,
            );
            let Some(mut g) = g.filter(|_| !build.control.is_cancelled()) else {
                break;
            };
            // the rows of other values: queries whose nearest rows of this value lie
            // across its border
            let outside: Vec<u32> = usable_rows
                .iter()
                .copied()
                .filter(|r| g.rows.binary_search(r).is_err())
                .collect();
            g.calibrate(col, codes, &outside, &usable);
            built.push((k, Arc::new(g)));
        }
        *self.building.lock() = None;
        data.release_mapped(); // the builds gathered their rows' vectors
        if build.control.is_cancelled() {
            return Ok(false);
        }
        let files = self.graph_files.lock();
        let mut st = self.state.write();
        let still_indexed = st.schema.contains_key(key);
        let installed = match st.segments.get_mut(&segment) {
            // the segment's graph (and codes) the calibrations walked is still its graph
            Some(seg)
                if Arc::ptr_eq(&seg.data, &data)
                    && still_indexed
                    && still_parent(seg.graphs.get(name), parent.as_ref()) =>
            {
                seg.value_graphs.extend(built);
                seg.value_keys_done.insert((name.to_string(), key.clone()));
                true
            }
            _ => false,
        };
        drop(st);
        if installed {
            self.write_value_graphs(segment, name)?;
        }
        drop(files);
        Ok(true)
    }

    /// Writes the value graphs segment `segment` holds for vector `name` to its file, so a
    /// reopen loads them instead of building them again (nothing for in-memory
    /// collections); its filter graphs go into the same file, under [`FILTER_GRAPHS_ENTRY`].
    /// The caller holds `graph_files`, so the file's position-based name matches the
    /// vector list.
    fn write_value_graphs(&self, segment: u64, name: &str) -> Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let config = self.config();
        let Some(vector_no) = config.vectors.keys().position(|n| n == name) else {
            return Ok(());
        };
        let keys: Vec<StoredValueGraphs<Arc<ann::ValueGraph>>> = {
            let st = self.state.read();
            let Some(seg) = st.segments.get(&segment) else {
                return Ok(());
            };
            let mut keys: Vec<_> = seg
                .value_keys_done
                .iter()
                .filter(|(vector, _)| vector == name)
                .map(|(_, key)| {
                    let prefix = ann::value_graph_prefix(name, key);
                    StoredValueGraphs {
                        key: key.to_string(),
                        graphs: seg
                            .value_graphs
                            .range(prefix.clone()..)
                            .take_while(|(k, _)| k.starts_with(&prefix))
                            .map(|(k, g)| (k.clone(), g.clone()))
                            .collect(),
                    }
                })
                .collect();
            let filters = seg.filter_graphs_of(name);
            if !filters.is_empty() {
                keys.push(StoredValueGraphs {
                    key: FILTER_GRAPHS_ENTRY.to_string(),
                    graphs: filters,
                });
            }
            keys
        };
        dir.write_value_graphs(segment, vector_no, name, &keys)
    }
}

impl Collection {
    /// Builds the graph of a repeated filter's rows on a segment (see [`filter_graph_work`]).
    fn build_filter_graph(
        &self,
        segment: u64,
        work: FilterGraphWork,
        threads: usize,
    ) -> Result<bool> {
        let config = self.config();
        let (data, deleted, parent) = {
            let st = self.state.read();
            let Some(seg) = st.segments.get(&segment) else {
                return Ok(true);
            };
            let parent = seg.graphs.get(&work.vector).cloned();
            (seg.data.clone(), seg.deleted.clone(), parent)
        };
        let (Some(col), Some(params)) = (
            data.dense.get(&work.vector),
            config.vectors.get(&work.vector),
        ) else {
            return Ok(false);
        };
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let build = Arc::new(Build {
            rows: work.rows.len(),
            control: BuildControl::new(),
            counted: false,
        });
        *self.building.lock() = Some(build.clone());
        let usable = |r: u32| {
            !deleted.get(r as usize).copied().unwrap_or(true)
                && col.present.get(r as usize).copied().unwrap_or(false)
        };
        // the rows the filter rejects: its graph's calibration queries
        let outside: Vec<u32> = (0..data.ids.len() as u32)
            .filter(|&r| usable(r) && work.rows.binary_search(&r).is_err())
            .collect();
        let derived = parent
            .as_ref()
            .filter(|p| derivable(&work.rows, &p.hnsw, data.ids.len()));
        let mut graph = match derived {
            Some(parent) => {
                ann::ValueGraph::derive(col, work.rows, &parent.hnsw, threads, &build.control)
            }
            None => ann::ValueGraph::build(
                col,
                work.rows,
                params.distance,
                ann::params_for(&config, &work.vector),
                threads,
                &build.control,
            ),
        };
        // measured as searches will walk it: on the segment's codes, if it has them
        let codes = parent.as_ref().and_then(|p| p.codes.as_ref());
        if let Some(g) = graph.as_mut().filter(|_| !build.control.is_cancelled()) {
            g.calibrate(col, codes, &outside, &usable);
        }
        *self.building.lock() = None;
        data.release_mapped(); // the build gathered (or calibration scanned) its rows
        if build.control.is_cancelled() {
            return Ok(false);
        }
        let files = self.graph_files.lock();
        // a settings update while this was building may have changed the parameters
        let now = self.config();
        let (a, b) = (
            ann::params_for(&now, &work.vector),
            ann::params_for(&config, &work.vector),
        );
        let still_wanted = (a.m, a.ef_construct) == (b.m, b.ef_construct);
        let installed = {
            let st = self.state.read();
            st.segments.get(&segment).is_some_and(|seg| {
                let current = Arc::ptr_eq(&seg.data, &data)
                    && still_parent(seg.graphs.get(&work.vector), parent.as_ref());
                let graph = graph.filter(|_| still_wanted && current).map(Arc::new);
                seg.install_filter_graph(&work.key, &work.vector, graph)
            })
        };
        if installed {
            self.write_value_graphs(segment, &work.vector)?;
        }
        drop(files);
        Ok(true)
    }
}

/// Whether the graph of filter rows `rows` (ascending) is derived from the segment's graph
/// `parent` over `segment_rows` rows: when they are a large enough share of the segment and
/// every one of them is in `parent` (a row without the vector is not).
fn derivable(rows: &[u32], parent: &azimuth_index::Hnsw, segment_rows: usize) -> bool {
    rows.len() as f64 >= segment_rows as f64 * FILTER_GRAPH_DERIVE_MIN_SHARE
        && rows.iter().all(|&r| parent.contains(r))
}

/// Whether sealed segment `s` lacks a graph for vector `name` that it needs: one over the
/// rows that have the vector (a vector no row has — say, added after the segment was
/// written — needs none).
fn needs_graph(s: &Segment, name: &str) -> bool {
    !s.graphs.contains_key(name) && s.data.dense.get(name).is_some_and(|c| c.any_present())
}

/// What the indexer should do next, if anything.
fn pending_work(st: &State, config: &CollectionConfig) -> Option<Work> {
    let thresholds: Vec<(&String, usize)> = config
        .vectors
        .keys()
        .filter_map(|n| Some((n, ann::threshold_rows(config, n)?)))
        .collect();
    let min_threshold = thresholds.iter().map(|t| t.1).min()?;
    let lacks = |s: &Segment| thresholds.iter().any(|(n, _)| needs_graph(s, n));
    let mut unindexed: Vec<&Segment> = st
        .segments
        .values()
        .filter(|s| s.id != st.mutable_id && s.live > 0 && lacks(s))
        .filter(|s| !st.unwritten.contains(&s.id))
        .collect();
    let mutable = st.mutable().live;
    let total = unindexed.iter().map(|s| s.live).sum::<usize>() + mutable;
    if total < min_threshold {
        return value_graph_work(st).or_else(|| filter_graph_work(st, config));
    }
    if mutable > 0 {
        return Some(Work::Seal);
    }
    // only segments without any graph are merged (one with some of its graphs built is
    // finished instead; picking it would make a step that does nothing, again and again)
    unindexed.retain(|s| s.graphs.is_empty());
    if unindexed.len() >= 2 {
        unindexed.sort_by_key(|s| s.live);
        let row_bytes: usize = config.vectors.values().map(|v| v.size * 4).sum();
        let mut picked = Vec::new();
        let mut bytes = 0usize;
        for s in unindexed {
            bytes = bytes.saturating_add(s.live.saturating_mul(row_bytes.max(1)));
            if picked.len() >= 2 && bytes > MAX_MERGE_VECTOR_BYTES {
                break;
            }
            picked.push(s.id);
        }
        if picked.len() >= 2 {
            return Some(Work::Merge(picked));
        }
    }
    let sealed = || {
        st.segments
            .values()
            .filter(|s| s.id != st.mutable_id && s.live > 0 && !st.unwritten.contains(&s.id))
    };
    sealed()
        .find_map(|s| {
            let (name, _) = thresholds
                .iter()
                .find(|(n, t)| s.live >= *t && needs_graph(s, n))?;
            Some(Work::Graph {
                segment: s.id,
                name: (*name).clone(),
            })
        })
        .or_else(|| value_graph_work(st))
        .or_else(|| filter_graph_work(st, config))
}

/// A filter that keeps sending searches through a sealed segment's graph, admitting too
/// many rows for an exact scan and too few for the walk to be cheap: its rows get a graph
/// of their own (SIEVE's idea — indexes for the filters a workload repeats — kept to a
/// few graphs per segment that share the segment's vectors).
fn filter_graph_work(st: &State, config: &CollectionConfig) -> Option<Work> {
    st.segments
        .values()
        .filter(|s| s.id != st.mutable_id && s.live > 0 && !s.graphs.is_empty())
        .find_map(|s| {
            let min_rows = config
                .vectors
                .keys()
                .filter(|n| s.graphs.contains_key(*n))
                .map(|n| ann::full_scan_rows(config, n))
                .min()?;
            let max_rows = (s.rows() as f64 * FILTER_GRAPH_MAX_SHARE) as usize;
            let work = s.filter_graph_wanted(
                FILTER_GRAPH_MIN_WALKS,
                min_rows,
                max_rows,
                FILTER_GRAPHS_PER_SEGMENT,
            )?;
            s.graphs
                .contains_key(&work.vector)
                .then_some(Work::FilterGraph {
                    segment: s.id,
                    work,
                })
        })
}

/// A (segment, vector, key) whose value graphs have not been built yet.
fn value_graph_work(st: &State) -> Option<Work> {
    let sealed = || {
        st.segments
            .values()
            .filter(|s| s.id != st.mutable_id && s.live > 0)
    };
    let value_keys: Vec<&JsonPath> = st
        .schema
        .iter()
        .filter(|(_, s)| matches!(s, FieldSchema::Keyword | FieldSchema::Integer))
        .map(|(k, _)| k)
        .collect();
    sealed().find_map(|s| {
        s.graphs.keys().find_map(|name| {
            let key = value_keys
                .iter()
                .find(|k| !s.value_keys_done.contains(&(name.clone(), (**k).clone())))?;
            Some(Work::ValueGraphs {
                segment: s.id,
                name: name.clone(),
                key: (*key).clone(),
            })
        })
    })
}

/// Whether a graph file found at vector `name`'s position was written for another vector
/// (or before `name` was added to the segment's collection): left behind by a change of the
/// vector list.
fn left_behind(config: &CollectionConfig, segment: u64, name: &str, stored_name: &str) -> bool {
    let predates = config
        .vector_since
        .get(name)
        .is_some_and(|&since| segment < since);
    stored_name != name || predates
}

/// Loads the graph files of a sealed segment; a graph that does not fit the segment is
/// corruption (deleting the file makes the indexer build it again).
pub(super) fn load_graphs(
    dir: &CollectionDir,
    config: &CollectionConfig,
    seg: &mut Segment,
) -> Result<()> {
    for (n, (name, params)) in config.vectors.iter().enumerate() {
        let mapped = ann::params_for(config, name).on_disk;
        let Some((stored_name, graph)) = dir.read_graph(seg.id, n, mapped)? else {
            continue;
        };
        if mapped && graph.hnsw.shared_bytes() == 0 && !graph.hnsw.is_empty() {
            // a version 1 file or a failed map: `place_graphs` need not read it again
            seg.graphs_unmappable = true;
        }
        if left_behind(config, seg.id, name, &stored_name) {
            // left behind by a change of the vector list (see `vectors.rs`): the indexer
            // builds what is missing
            dir.remove_graph(seg.id, n)?;
            continue;
        }
        if graph.hnsw.params() != ann::graph_params(ann::params_for(config, name)).sanitized() {
            // built with other parameters: a settings change that saved CONFIG was
            // interrupted before it removed the file; the indexer builds it again
            dir.remove_graph(seg.id, n)?;
            continue;
        }
        let fits = graph.hnsw.dim() == params.size
            && graph.hnsw.metric() == ann::metric_for(params.distance)
            && graph.hnsw.len() == seg.rows();
        if !fits {
            return Err(Error::corruption(
                &dir.graph_path(seg.id, n),
                "the graph does not fit its segment (vector, size, metric or rows differ); \
                 delete this file and the index is built again",
            ));
        }
        let mut graph = graph;
        let col = &seg.data.dense[name];
        graph.all_present = col.all_present();
        // the codes the file kept, when they are what the configuration asks for now;
        // otherwise encoded from the rows again
        let (metric, quantization) = (
            ann::metric_for(params.distance),
            ann::quantization_for(config, name),
        );
        let rows = col.present.len();
        if !graph
            .codes
            .as_ref()
            .is_some_and(|c| c.fit(rows, col.dim, metric, quantization))
        {
            graph.codes = ann::Codes::encode(col, metric, quantization, params.datatype);
        }
        seg.graphs.insert(name.clone(), Arc::new(graph));
    }
    Ok(())
}

/// Loads the value-graph files of a sealed segment, once the WAL is replayed (payload
/// indexes created since the last checkpoint are in the schema then, and rows deleted since
/// are marked). A file of another vector (left by a
/// change of the vector list) is removed. A payload key's graphs are taken only if the key
/// is still indexed as keyword or integer and every graph still covers its value's rows
/// (rows that left a value since were deleted: the walk skips them); otherwise the indexer
/// builds that key's graphs again — as it does when a value now worth a graph has none (the
/// key was indexed as another type, or the thresholds changed) or the graphs were built
/// with other HNSW parameters.
pub(super) fn load_value_graphs(
    dir: &CollectionDir,
    config: &CollectionConfig,
    schema: &BTreeMap<JsonPath, FieldSchema>,
    seg: &mut Segment,
) -> Result<()> {
    for (n, (name, params)) in config.vectors.iter().enumerate() {
        let Some((stored_name, keys)) = dir.read_value_graphs(seg.id, n)? else {
            continue;
        };
        if left_behind(config, seg.id, name, &stored_name) {
            dir.remove_value_graphs(seg.id, n)?;
            continue;
        }
        let metric = ann::metric_for(params.distance);
        let wanted = ann::graph_params(ann::params_for(config, name)).sanitized();
        // built for this vector's space with its current parameters
        let current = |g: &ann::ValueGraph| {
            g.hnsw().dim() == params.size
                && g.hnsw().metric() == metric
                && g.hnsw().params() == wanted
        };
        let full_scan = ann::full_scan_rows(config, name);
        for stored in keys {
            if stored.key == FILTER_GRAPHS_ENTRY {
                for (filter, g) in stored.graphs {
                    let fits =
                        current(&g) && g.rows.last().is_some_and(|&r| (r as usize) < seg.rows());
                    if fits {
                        seg.restore_filter_graph(
                            filter,
                            name,
                            Arc::new(g),
                            FILTER_GRAPHS_PER_SEGMENT,
                        );
                    }
                }
                continue;
            }
            let Ok(key) = JsonPath::parse(&stored.key) else {
                continue;
            };
            if !matches!(
                schema.get(&key),
                Some(FieldSchema::Keyword | FieldSchema::Integer)
            ) {
                continue;
            }
            let prefix = ann::value_graph_prefix(name, &key);
            let groups: BTreeMap<String, &[u32]> = seg
                .indexes
                .value_groups(&key)
                .into_iter()
                .map(|(v, rows)| (ann::value_graph_key(name, &key, &v), rows))
                .collect();
            let fits = stored.graphs.iter().all(|(graph_key, g)| {
                // a value whose rows were all deleted since has no group now
                let now = groups.get(graph_key).copied().unwrap_or(&[]);
                graph_key.starts_with(&prefix) && current(g) && seg.still_covers(&g.rows, now)
            });
            let complete = groups.iter().all(|(graph_key, rows)| {
                !value_graph_worth_it(rows.len(), seg.rows(), full_scan)
                    || stored.graphs.iter().any(|(k, _)| k == graph_key)
            });
            if !(fits && complete) {
                continue;
            }
            for (graph_key, g) in stored.graphs {
                seg.value_graphs.insert(graph_key, Arc::new(g));
            }
            seg.value_keys_done.insert((name.clone(), key));
        }
    }
    Ok(())
}
