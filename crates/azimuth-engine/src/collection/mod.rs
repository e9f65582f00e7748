//! Collections: the write path (validate → log → apply → wait for durability), reads,
//! exact search, checkpoints and merges.

mod checkpoint;
mod examples;
mod indexing;
mod read;
mod search;
mod state;
mod vectors;
mod write;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};

use crate::config::CollectionConfig;
use crate::error::{Error, Result};
use crate::filter::{FieldSchema, JsonPath};
use crate::ops::Op;
use crate::segment::Segment;
use crate::storage::{CollectionDir, Wal};
use state::State;

pub use crate::ann::QuantizationParams;
pub use examples::{ContextPair, ExampleQuery, Mmr};
pub use indexing::{IndexerOptions, IndexingInfo};
pub use read::{FacetHit, OrderBy, ScrollRequest, ScrollResult};
pub use search::{QueryVector, SearchParams, SearchRequest};
pub use vectors::NewVector;
pub use write::{UpsertMode, UpsertOptions};

/// Puts a column's values in half precision, in memory (for the index module's tests).
#[cfg(test)]
pub(crate) fn hold_half_in_memory(col: &mut crate::segment::DenseColumn) {
    checkpoint::hold_in_memory(col, true);
}

/// Limits applied to writes.
#[derive(Clone, Debug)]
pub struct WriteLimits {
    /// Largest serialised payload of one point, in bytes.
    pub max_payload_bytes: usize,
    /// Deepest nesting of objects and arrays in a payload.
    pub max_payload_depth: usize,
}

impl Default for WriteLimits {
    fn default() -> Self {
        WriteLimits {
            max_payload_bytes: 16 << 20,
            max_payload_depth: 64,
        }
    }
}

/// One payload index as reported by [`Collection::info`].
#[derive(Clone, Debug)]
pub struct PayloadIndexInfo {
    pub key: JsonPath,
    pub schema: FieldSchema,
    /// Points with a value indexed.
    pub points: usize,
    /// The options it was created with, when given as an object (`{"type": "text", …}`).
    pub params: Option<serde_json::Value>,
}

/// A collection's summary.
#[derive(Clone, Debug)]
pub struct CollectionInfo {
    pub name: String,
    pub config: CollectionConfig,
    pub points_count: usize,
    pub segments_count: usize,
    /// Rows in the mutable segment (not yet sealed to a file).
    pub unsealed_points: usize,
    /// Payload indexes: key, type, number of indexed points.
    pub payload_schema: Vec<PayloadIndexInfo>,
    pub last_operation_id: u64,
    /// ANN indexing progress.
    pub indexing: IndexingInfo,
    /// Bytes of dense vectors held in memory, and read from segment files through memory
    /// maps (`on_disk` vectors of sealed segments).
    pub dense_bytes: DenseBytes,
}

/// Where the dense vectors of a collection are (see [`CollectionInfo::dense_bytes`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DenseBytes {
    pub in_memory: usize,
    pub mapped: usize,
}

/// A named set of points. Shared by reference (`Arc<Collection>`); all methods take `&self`.
pub struct Collection {
    name: String,
    /// Replaced whole by [`Collection::update_config`]; a leaf lock (never held while
    /// taking another).
    config: RwLock<Arc<CollectionConfig>>,
    dir: Option<CollectionDir>,
    wal: Option<Wal>,
    state: RwLock<State>,
    limits: WriteLimits,
    dropped: AtomicBool,
    /// When the last write was applied (the indexer waits for writes to pause).
    last_write: Mutex<Instant>,
    /// Since when indexing work has been waiting.
    index_pending_since: Mutex<Option<Instant>>,
    /// The graph build in progress.
    building: Mutex<Option<Arc<indexing::Build>>>,
    /// Held through each indexing step (`index_step`), so steps never run side by side.
    /// Taken before any other lock.
    index_steps: Mutex<()>,
    /// Held while a segment file is written outside the state lock (see
    /// `checkpoint::SegmentFiles`). Taken after the state lock, never before it.
    segment_files: Mutex<checkpoint::SegmentFiles>,
    /// Held while graph files are written or removed by position, while the vector list
    /// changes (see `vectors.rs`): positions are those of the config at that moment, and
    /// while a snapshot archives the files. Taken before the state lock, never after it.
    graph_files: Mutex<()>,
}

impl Collection {
    pub(crate) fn new_in_memory(
        name: String,
        config: CollectionConfig,
        limits: WriteLimits,
    ) -> Collection {
        let state = State::new(&config);
        Collection {
            name,
            config: RwLock::new(Arc::new(config)),
            dir: None,
            wal: None,
            state: RwLock::new(state),
            limits,
            dropped: AtomicBool::new(false),
            last_write: Mutex::new(Instant::now()),
            index_pending_since: Mutex::new(None),
            building: Mutex::new(None),
            segment_files: Mutex::new(Default::default()),
            graph_files: Mutex::new(()),
            index_steps: Mutex::new(()),
        }
    }

    /// Opens a collection from its directory: loads the manifest's segments, applies their
    /// tombstones, then replays the log.
    pub(crate) fn open(dir: CollectionDir, limits: WriteLimits) -> Result<Collection> {
        let stored = dir.read_config()?;
        let config = stored.config;
        config
            .validate()
            .map_err(|e| Error::corruption(&dir.path.join("CONFIG"), e.to_string()))?;
        let manifest = dir.read_manifest()?;
        let mut state = State::new(&config);
        state.manifest_generation = manifest.generation;
        state.last_lsn = manifest.applied_lsn;
        state.last_lsn_at_manifest = manifest.applied_lsn;
        for (key, schema) in &manifest.payload_schema {
            let path = JsonPath::parse(key)
                .map_err(|e| Error::corruption(&dir.path.join("MANIFEST"), e.to_string()))?;
            let (schema, spec) = state::parse_index_spec(schema).ok_or_else(|| {
                Error::corruption(
                    &dir.path.join("MANIFEST"),
                    format!("bad payload index {schema:?}"),
                )
            })?;
            state.schema.insert(path.clone(), schema);
            state.index_specs.insert(path, spec);
        }
        state.segments.clear();
        state.next_segment_id = manifest.next_segment_id.max(1);
        let mut keep = Vec::new();
        let on_disk = |name: &str| config.vectors.get(name).is_some_and(|p| p.rows_mapped());
        let any_on_disk = config.vectors.values().any(|p| p.rows_mapped());
        for ms in &manifest.segments {
            let mut data = dir.read_segment(ms.id, any_on_disk.then_some(&on_disk as _))?;
            data.fit_columns(ms.id, &config);
            checkpoint::check_segment(&dir, ms, &data, &config)?;
            checkpoint::fit_precision(&mut data, &config);
            let mut seg = Segment::new(ms.id, data, &BTreeMap::new());
            for &r in &ms.deleted {
                seg.delete(r);
            }
            for (key, schema) in &state.schema {
                seg.create_index(key, *schema);
            }
            indexing::load_graphs(&dir, &config, &mut seg)?;
            seg.data.release_mapped(); // the codes were built from every mapped row
            keep.push(ms.id);
            state.install(seg);
        }
        dir.remove_segments_except(&keep, true)?;
        state.new_mutable(&config);
        let (wal, records) = Wal::open(&dir.wal_dir(), manifest.wal_gen, manifest.applied_lsn)?;
        let wal_path = dir.wal_dir();
        for rec in records {
            let op = Op::decode(&rec.payload, &wal_path)?;
            state.apply(&op, rec.lsn, &wal_path)?;
        }
        for id in &keep {
            if let Some(seg) = state.segments.get_mut(id) {
                indexing::load_value_graphs(&dir, &config, &state.schema, seg)?;
            }
        }
        Ok(Collection {
            name: stored.name,
            config: RwLock::new(Arc::new(config)),
            dir: Some(dir),
            wal: Some(wal),
            state: RwLock::new(state),
            limits,
            dropped: AtomicBool::new(false),
            last_write: Mutex::new(Instant::now()),
            index_pending_since: Mutex::new(None),
            building: Mutex::new(None),
            segment_files: Mutex::new(Default::default()),
            graph_files: Mutex::new(()),
            index_steps: Mutex::new(()),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The configuration as it is now. Vector spaces never change; tuning may
    /// ([`Collection::update_config`]), so long operations read it once and keep the copy.
    pub fn config(&self) -> Arc<CollectionConfig> {
        self.config.read().clone()
    }

    /// Replaces the tunable part of the configuration — HNSW and optimizer parameters,
    /// quantization (collection-wide and per vector), `on_disk` flags, sparse index options,
    /// metadata — and persists it (the CONFIG file is replaced atomically). Vector names,
    /// sizes, distances and datatypes cannot change. A dense vector whose graph parameters
    /// (`m`, `ef_construct`) or quantization change loses its graphs, which the background
    /// indexer builds again; other changes (thresholds, metadata) apply from the next search
    /// or indexing step.
    pub fn update_config(&self, mut new: CollectionConfig) -> Result<()> {
        let _schema = self.graph_files.lock();
        self.check_alive()?;
        new.validate()?;
        let old = self.config();
        new.vector_since = old.vector_since.clone();
        let same_shape = old.single_unnamed == new.single_unnamed
            && old.vectors.len() == new.vectors.len()
            && old
                .vectors
                .iter()
                .zip(&new.vectors)
                .all(|((a, x), (b, y))| {
                    a == b && (x.size, x.distance, x.datatype) == (y.size, y.distance, y.datatype)
                })
            && old.sparse_vectors.keys().eq(new.sparse_vectors.keys());
        if !same_shape {
            return Err(Error::invalid(
                "vector names, sizes, distances and datatypes cannot be changed after a collection is created",
            ));
        }
        let rebuild: Vec<(usize, String)> = old
            .vectors
            .keys()
            .enumerate()
            .filter(|(_, n)| {
                let (a, b) = (
                    crate::ann::params_for(&old, n),
                    crate::ann::params_for(&new, n),
                );
                (a.m, a.ef_construct) != (b.m, b.ef_construct)
                    || crate::ann::quantization_for(&old, n)
                        != crate::ann::quantization_for(&new, n)
            })
            .map(|(i, n)| (i, n.clone()))
            .collect();
        let mut st = self.state.write();
        self.persist_config(&new)?;
        if !rebuild.is_empty() {
            self.cancel_indexing();
            for seg in st.segments.values_mut() {
                for (no, name) in &rebuild {
                    // value and filter graphs were built with the old parameters too
                    seg.forget_vector(name);
                    if let Some(dir) = &self.dir {
                        dir.remove_graph(seg.id, *no)?;
                        dir.remove_value_graphs(seg.id, *no)?;
                    }
                }
            }
        }
        *self.config.write() = Arc::new(new);
        // `on_disk` flags take effect at once: columns are mapped or copied back
        checkpoint::place_columns(self.dir.as_ref(), &mut st, &self.config());
        drop(st);
        Ok(())
    }

    /// Replaces the CONFIG file (atomically) with `config`; nothing for in-memory collections.
    fn persist_config(&self, config: &CollectionConfig) -> Result<()> {
        match &self.dir {
            Some(dir) => dir.write_config(&crate::storage::StoredConfig {
                name: self.name.clone(),
                config: config.clone(),
            }),
            None => Ok(()),
        }
    }

    pub(crate) fn dir(&self) -> Option<&CollectionDir> {
        self.dir.as_ref()
    }

    pub(crate) fn mark_dropped(&self) {
        self.dropped.store(true, Ordering::SeqCst);
        self.cancel_indexing();
    }

    fn check_alive(&self) -> Result<()> {
        if self.dropped.load(Ordering::SeqCst) {
            return Err(Error::not_found(format!(
                "collection {:?} was deleted",
                self.name
            )));
        }
        Ok(())
    }

    /// Number of live points.
    pub fn len(&self) -> usize {
        self.state.read().live_points()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the pages of vectors and graph links read through memory maps (`on_disk`) from
    /// the process's resident set; the operating system's page cache keeps them until it
    /// needs the memory, and the next read faults them back in. Nothing changes for what is
    /// held in memory.
    pub fn release_mapped_memory(&self) {
        let st = self.state.read();
        for seg in st.segments.values() {
            seg.data.release_mapped();
            for g in seg.graphs.values() {
                g.hnsw.release_shared();
            }
        }
    }

    pub fn info(&self) -> CollectionInfo {
        let st = self.state.read();
        let mut counts: BTreeMap<JsonPath, usize> = BTreeMap::new();
        for seg in st.segments.values() {
            for (key, _, n) in seg.indexes.fields() {
                *counts.entry(key).or_default() += n;
            }
        }
        CollectionInfo {
            name: self.name.clone(),
            config: (*self.config()).clone(),
            points_count: st.live_points(),
            segments_count: st.segments.len(),
            unsealed_points: st.mutable().live,
            payload_schema: st
                .schema
                .iter()
                .map(|(k, s)| PayloadIndexInfo {
                    key: k.clone(),
                    schema: *s,
                    points: counts.get(k).copied().unwrap_or(0),
                    params: st.index_specs.get(k).filter(|v| v.is_object()).cloned(),
                })
                .collect(),
            last_operation_id: st.last_lsn,
            indexing: self.indexing_info(&st),
            dense_bytes: st
                .segments
                .values()
                .flat_map(|s| s.data.dense.values())
                .fold(DenseBytes::default(), |mut b, c| {
                    let n = c.data.value_bytes();
                    if c.data.is_mapped() {
                        b.mapped += n;
                    } else {
                        b.in_memory += n;
                    }
                    b
                }),
        }
    }
}

impl std::fmt::Debug for Collection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collection")
            .field("name", &self.name)
            .field("points", &self.len())
            .finish()
    }
}
