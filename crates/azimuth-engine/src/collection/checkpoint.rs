//! Checkpoints (seal the mutable segment, rotate the log, switch the manifest) and merges.
//!
//! Order of a checkpoint, each step durable before the next:
//! 1. the sealed segment file is written and fsynced;
//! 2. the log is fsynced and a new log file started;
//! 3. the new manifest (segments, tombstones, log cut) replaces the old one atomically;
//! 4. log files and segment files the manifest no longer names are deleted.
//!
//! A crash between any two steps leaves the old manifest, whose log still holds every
//! operation, or the new one, whose segments hold them: never a mix.

use std::sync::Arc;

use azimuth_index::distance::half::f32_to_f16;
use azimuth_index::quant::HalfRows;
use azimuth_index::Hnsw;

use super::state::State;
use super::Collection;
use crate::ann;
use crate::config::CollectionConfig;
use crate::error::{Error, Result};
use crate::segment::{DenseColumn, Floats, Segment, SegmentData};
use crate::storage::{CollectionDir, Manifest, ManifestSegment};

/// Segment files of staged checkpoints (`State::unwritten` segments), under
/// `Collection::segment_files`. Each unwritten segment's file is written exactly once
/// before a manifest lists it: by its staged writer (which then adds it to `done`) or,
/// when a checkpoint gets there first, by that checkpoint (which adds it to `taken`, so the
/// staged writer leaves the listed file alone).
#[derive(Default)]
pub(super) struct SegmentFiles {
    pub done: std::collections::BTreeSet<u64>,
    pub taken: std::collections::BTreeSet<u64>,
}

impl Collection {
    /// The periodic checkpoint of the background worker: [`Collection::flush`], with the
    /// segment file written outside the write lock when it can be.
    pub(crate) fn checkpoint_in_background(&self) -> Result<()> {
        self.check_alive()?;
        self.checkpoint_staged(0)
    }

    /// Seals the mutable segment into a file and switches the manifest, so the log can be cut.
    /// Cheap when nothing was written since the last call.
    pub fn flush(&self) -> Result<()> {
        self.check_alive()?;
        let mut st = self.state.write();
        self.checkpoint_locked(&mut st)
    }

    pub(super) fn checkpoint_locked(&self, st: &mut State) -> Result<()> {
        let config = self.config();
        let (Some(dir), Some(wal)) = (&self.dir, &self.wal) else {
            return Ok(());
        };
        let wal_gen_unchanged = st.mutable().rows() == 0
            && st.unwritten.is_empty()
            && wal.last_lsn() == st.last_lsn_at_manifest;
        if wal_gen_unchanged {
            // a column left in place earlier (its segment was busy) moves now
            place_columns(Some(dir), st, &config);
            return Ok(());
        }
        if !st.unwritten.is_empty() {
            // segments sealed by a staged checkpoint: their files must exist before a
            // manifest lists them (waits for a file being written outside the lock)
            let mut files = self.segment_files.lock();
            for id in std::mem::take(&mut st.unwritten) {
                if files.done.remove(&id) {
                    continue; // its staged writer finished the file
                }
                // the staged writer has not started: this checkpoint writes the file (or
                // drops it, merged away meanwhile) and the staged writer must not touch it
                files.taken.insert(id);
                let Some(seg) = st.segments.get(&id) else {
                    continue;
                };
                if let Err(e) = dir.write_segment(id, &seg.data, &config) {
                    files.taken.remove(&id);
                    st.unwritten.insert(id);
                    return Err(e);
                }
            }
        }
        if st.mutable().rows() > 0 {
            let id = st.mutable_id;
            if st.mutable().live == st.mutable().rows() {
                // nothing deleted: the mutable segment is sealed as it is (same rows, same
                // payload indexes, and the id map already points at it)
                let data = st.mutable().data.clone();
                dir.write_segment(id, &data, &config)?;
            } else {
                let data = st.mutable().live_data(&config);
                if data.rows() > 0 {
                    dir.write_segment(id, &data, &config)?;
                }
                st.segments.remove(&id);
                if data.rows() > 0 {
                    let seg = Segment::new(id, data, &st.schema);
                    st.install(seg);
                }
            }
            st.new_mutable(&config);
        }
        st.segments
            .retain(|&id, seg| seg.live > 0 || id == st.mutable_id);
        let gen = wal.rotate()?;
        self.write_manifest_locked(dir, st, gen)?;
        place_columns(Some(dir), st, &config);
        wal.remove_before(gen)?;
        let keep: Vec<u64> = st
            .segments
            .keys()
            .copied()
            .filter(|&id| id != st.mutable_id)
            .collect();
        dir.remove_segments_except(&keep, false)
    }

    /// The checkpoint a write runs when the mutable segment crosses the flush threshold,
    /// in three stages so writers do not wait for the segment file: (1) under the write lock,
    /// the mutable segment (when it holds no deletions) is sealed as it is and listed in
    /// `State::unwritten`; (2) without the lock, its file is written; (3) under the lock, a
    /// plain checkpoint switches the manifest (sealing what was written meanwhile, a small
    /// segment). A crash before (3) leaves the old manifest and the whole log, as a crash
    /// in the middle of a plain checkpoint does; any checkpoint in between writes the
    /// unwritten segments' files first (waiting for the one in flight).
    /// `min_bytes`: seal only a mutable segment at least this big (a write passes the flush
    /// threshold: another writer may have sealed it first); 0 for the periodic checkpoint.
    pub(super) fn checkpoint_staged(&self, min_bytes: usize) -> Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let config = self.config();
        let (id, data) = {
            let mut st = self.state.write();
            let m = st.mutable();
            if m.bytes < min_bytes {
                return Ok(());
            }
            if m.rows() == 0 || m.live != m.rows() || !st.unwritten.is_empty() {
                return self.checkpoint_locked(&mut st); // nothing to stage, or the plain way
            }
            let id = st.mutable_id;
            let data = m.data.clone();
            st.new_mutable(&config);
            st.unwritten.insert(id);
            (id, data)
        };
        {
            let mut files = self.segment_files.lock();
            if files.taken.remove(&id) {
                return Ok(()); // a checkpoint wrote (and listed) it meanwhile
            }
            // on failure the next checkpoint writes it
            dir.write_segment(id, &data, &config)?;
            // the segment is the data's only holder again before a checkpoint waiting for
            // this lock lists the file (see `place_columns`)
            drop(data);
            files.done.insert(id);
        }
        let mut st = self.state.write();
        if st.unwritten.contains(&id) {
            self.checkpoint_locked(&mut st)?;
        }
        Ok(())
    }

    fn write_manifest_locked(
        &self,
        dir: &CollectionDir,
        st: &mut State,
        wal_gen: u64,
    ) -> Result<()> {
        let segments = st
            .segments
            .values()
            .filter(|s| s.id != st.mutable_id)
            .map(|s| ManifestSegment {
                id: s.id,
                rows: s.rows(),
                deleted: (0..s.rows() as u32).filter(|&r| !s.is_live(r)).collect(),
            })
            .collect();
        let m = Manifest {
            generation: st.manifest_generation + 1,
            wal_gen,
            applied_lsn: st.last_lsn,
            next_segment_id: st.next_segment_id,
            segments,
            payload_schema: st
                .schema
                .iter()
                .map(|(k, s)| {
                    let spec = st
                        .index_specs
                        .get(k)
                        .cloned()
                        .unwrap_or_else(|| s.name().into());
                    (k.to_string(), spec.to_string())
                })
                .collect(),
        };
        dir.write_manifest(&m)?;
        st.manifest_generation = m.generation;
        st.last_lsn_at_manifest = st.last_lsn;
        Ok(())
    }

    /// In memory there are no files: sealing just moves the mutable segment's live rows
    /// into a sealed segment (which the indexer may then index).
    pub(super) fn seal_in_memory(&self, st: &mut State) {
        let config = self.config();
        if st.mutable().rows() == 0 {
            return;
        }
        if st.mutable().live == st.mutable().rows() {
            st.new_mutable(&config); // sealed as it is
            place_columns(None, st, &config);
            return;
        }
        let data = st.mutable().live_data(&config);
        let id = st.mutable_id;
        st.segments.remove(&id);
        if data.rows() > 0 {
            let seg = Segment::new(id, data, &st.schema);
            st.install(seg);
        }
        st.new_mutable(&config);
        place_columns(None, st, &config);
    }

    /// Rewrites sealed segments with many tombstones and merges small ones while there are
    /// more than the configured number. Returns true when it changed anything.
    pub fn optimize(&self) -> Result<bool> {
        let config = self.config();
        self.check_alive()?;
        let mut st = self.state.write();
        let picked = pick_merge(&st, &config);
        if picked.is_empty() {
            return Ok(false);
        }
        self.merge_locked(&mut st, &picked)?;
        Ok(true)
    }

    /// Replaces the sealed segments `picked` by one holding their live rows (without graphs;
    /// the indexer builds them again).
    pub(super) fn merge_locked(&self, st: &mut State, picked: &[u64]) -> Result<()> {
        let config = self.config();
        let mut data = SegmentData::empty(&config);
        for id in picked {
            if let Some(seg) = st.segments.get(id) {
                append(&mut data, seg.live_data(&config));
            }
        }
        let new_id = st.next_segment_id;
        st.next_segment_id += 1;
        if let Some(dir) = &self.dir {
            if data.rows() > 0 {
                dir.write_segment(new_id, &data, &config)?;
            }
        }
        for id in picked {
            st.segments.remove(id);
        }
        if data.rows() > 0 {
            let seg = Segment::new(new_id, data, &st.schema);
            st.install(seg);
        }
        st.last_lsn_at_manifest = u64::MAX; // force a manifest switch
        if self.dir.is_none() {
            place_columns(None, st, &config);
        }
        self.checkpoint_locked(st)
    }
}

/// Sealed segments to merge into one, or none.
fn pick_merge(st: &State, config: &CollectionConfig) -> Vec<u64> {
    let opt = &config.optimizer;
    let sealed: Vec<&Segment> = st
        .segments
        .values()
        .filter(|s| s.id != st.mutable_id)
        .collect();
    if let Some(s) = sealed.iter().find(|s| {
        let dead = s.rows() - s.live;
        dead > 0
            && s.rows() >= opt.vacuum_min_vector_number
            && dead as f64 >= opt.deleted_threshold * s.rows() as f64
    }) {
        return vec![s.id];
    }
    let target = opt.default_segment_number.max(1);
    if sealed.len() <= target {
        return Vec::new();
    }
    // Unindexed segments first: merging an indexed one throws its graph away.
    let mut by_size: Vec<(bool, usize, u64)> = sealed
        .iter()
        .map(|s| (!s.graphs.is_empty(), s.live, s.id))
        .collect();
    by_size.sort_unstable();
    by_size
        .iter()
        .take(sealed.len() - target + 1)
        .map(|p| p.2)
        .collect()
}

/// Where and how a sealed segment holds a dense column.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Place {
    /// In half precision (a `Float16` space).
    half: bool,
    /// Read in place through a map of the segment's file (`on_disk`).
    mapped: bool,
}

impl Place {
    fn of(data: &Floats) -> Place {
        Place {
            half: data.half().is_some(),
            mapped: data.is_mapped(),
        }
    }
}

/// Puts the dense columns of sealed segments where the config wants them: those of
/// `Float16` vectors in half precision (`VectorParams::half_rows`), those of `on_disk`
/// vectors read through a map of the segment file (`VectorParams::rows_mapped`; only with a
/// `dir`), the others in memory; then points half-precision codes at their columns' rows
/// ([`share_half_rows`]). A segment whose data something else holds (a search or graph
/// build in flight) is left for a later call — every checkpoint runs this, the periodic one
/// too, even when nothing was written, and so do seals in memory and graph builds. A column
/// a segment's file cannot serve (a version 1 file, a big-endian machine, a failed map, an
/// f32 column of a `Float16` vector written before format 3) is marked and stays in memory;
/// the segment's other columns are placed as usual. A column a segment predates
/// (`vector_since`) is not the file's and is never mapped.
pub(super) fn place_columns(
    dir: Option<&CollectionDir>,
    st: &mut State,
    config: &CollectionConfig,
) {
    let (mutable_id, unwritten) = (st.mutable_id, &st.unwritten);
    for (&id, seg) in st.segments.iter_mut() {
        if id == mutable_id || unwritten.contains(&id) {
            continue;
        }
        place_segment_columns(dir, id, seg, config);
        share_half_rows(seg);
    }
    if let Some(dir) = dir {
        place_graphs(dir, st, config);
    }
}

/// [`place_columns`] for sealed segment `id`.
fn place_segment_columns(
    dir: Option<&CollectionDir>,
    id: u64,
    seg: &mut Segment,
    config: &CollectionConfig,
) {
    let in_file = |name: &str| config.vector_since.get(name).is_none_or(|&s| id >= s);
    let unmappable = &seg.unmappable;
    let wanted = |name: &str| {
        let p = config.vectors.get(name);
        let mappable = dir.is_some() && in_file(name) && !unmappable.contains(name);
        Place {
            half: p.is_some_and(|p| p.half_rows()),
            mapped: mappable && p.is_some_and(|p| p.rows_mapped()),
        }
    };
    let misplaced = |name: &str, col: &DenseColumn| Place::of(&col.data) != wanted(name);
    if !seg.data.dense.iter().any(|(n, c)| misplaced(n, c)) {
        return;
    }
    let Some(data) = Arc::get_mut(&mut seg.data) else {
        return;
    };
    let mut maps = Vec::new();
    let mut failed = Vec::new();
    if let Some(dir) = dir.filter(|_| {
        data.dense
            .iter()
            .any(|(n, c)| wanted(n).mapped && !c.data.is_mapped())
    }) {
        maps = dir.map_dense_columns(id).unwrap_or_default();
    }
    for (name, col) in data.dense.iter_mut() {
        let want = wanted(name);
        if Place::of(&col.data) == want {
            continue;
        }
        if want.mapped {
            let fits = |m: &Floats| {
                m.len() == col.data.len()
                    && Place::of(m) == want
                    && m.half().is_none_or(|h| h.dim() == col.dim)
            };
            match maps.iter().find(|(n, m)| n == name && fits(m)) {
                Some((_, m)) => {
                    col.data = m.clone();
                    continue;
                }
                None => failed.push(name.clone()),
            }
        }
        hold_in_memory(col, want.half);
    }
    seg.unmappable.extend(failed);
}

/// Puts the columns of `Float16` vectors of a segment just read in half precision when its
/// file held them in f32 (written before format 3), before graphs are loaded over them
/// (their codes then share the rows).
pub(super) fn fit_precision(data: &mut SegmentData, config: &CollectionConfig) {
    for (name, col) in data.dense.iter_mut() {
        let half = config.vectors.get(name).is_some_and(|p| p.half_rows());
        if half && col.data.half().is_none() {
            hold_in_memory(col, true);
        }
    }
}

/// Points the half-precision codes of `seg`'s graphs at the rows of their columns where
/// those are half precision too but the codes are a copy (made from an f32 column a build
/// held, so it could not move first). A graph a search holds is left for a later call.
fn share_half_rows(seg: &mut Segment) {
    for (name, graph) in seg.graphs.iter_mut() {
        let Some(col) = seg.data.dense.get(name) else {
            continue;
        };
        if graph.codes.as_ref().is_none_or(|c| !c.copies_half(col)) {
            continue;
        }
        if let Some(graph) = Arc::get_mut(graph) {
            if let Some(codes) = graph.codes.as_mut() {
                codes.share_half(col);
            }
        }
    }
}

/// Holds `col`'s values in memory, in half precision or f32.
pub(super) fn hold_in_memory(col: &mut DenseColumn, half: bool) {
    if !half {
        col.data.to_mut();
        return;
    }
    let bits = match (col.data.half(), col.data.f32s()) {
        (Some(h), _) if !h.is_shared() => return,
        (Some(h), _) => h.bits().to_vec(),
        // the values were rounded to half precision when written: the conversion is exact
        (None, Some(values)) => values.iter().map(|&x| f32_to_f16(x)).collect(),
        (None, None) => Vec::new(),
    };
    col.data = Floats::Half(HalfRows::from_bits(bits, col.dim));
}

/// Puts every sealed segment's graphs where the configuration wants them: the graph of a
/// vector whose `hnsw_config.on_disk` is set reads its level-0 lists (nearly all its links)
/// through a read-only memory map of its graph file, others hold them in memory. Graphs
/// loaded at open and graphs a build installs are placed as they are read or installed;
/// this follows a settings update (and retries what a build could not map). Reading a file
/// back checks every byte of it, under the state's write lock — a settings change is rare.
/// A graph a search or a build holds at the moment is left for a later checkpoint; a
/// segment whose graph file cannot serve a map is marked and keeps its graphs in memory.
/// Called by [`place_columns`], under the state's write lock, which vector-list changes
/// (the only moves of graph files) also hold.
fn place_graphs(dir: &CollectionDir, st: &mut State, config: &CollectionConfig) {
    for seg in st.segments.values_mut() {
        let mut failed = false;
        for (no, name) in config.vectors.keys().enumerate() {
            let wanted = ann::params_for(config, name).on_disk && !seg.graphs_unmappable;
            let Some(graph) = seg.graphs.get_mut(name) else {
                continue;
            };
            if (graph.hnsw.shared_bytes() > 0) == wanted {
                continue;
            }
            let Some(graph) = Arc::get_mut(graph) else {
                continue;
            };
            if !wanted {
                if let Ok(copy) = Hnsw::from_bytes(&graph.hnsw.to_bytes()) {
                    graph.hnsw = copy;
                }
                continue;
            }
            match dir.read_graph_links(seg.id, no) {
                Ok(Some((stored, read)))
                    if stored == *name
                        && read.hnsw.shared_bytes() > 0
                        && same_shape(&read.hnsw, &graph.hnsw) =>
                {
                    graph.hnsw = read.hnsw;
                }
                _ => failed = true,
            }
        }
        seg.graphs_unmappable |= failed;
    }
}

/// Whether a graph read back from a file has the shape of the one a segment holds. The file
/// was written from that graph before it was installed, and builds write under the lock
/// that guards the file names, so this only catches a file of another shape (not another
/// graph of the same rows, which nothing writes).
fn same_shape(a: &Hnsw, b: &Hnsw) -> bool {
    (a.len(), a.dim(), a.metric(), a.params(), a.deleted_count())
        == (b.len(), b.dim(), b.metric(), b.params(), b.deleted_count())
}

fn append(into: &mut SegmentData, from: SegmentData) {
    into.ids.extend(from.ids);
    into.versions.extend(from.versions);
    into.payloads.extend(from.payloads);
    for (name, col) in from.dense {
        if let Some(dst) = into.dense.get_mut(&name) {
            dst.data.to_mut().extend_from_slice(&col.data.widened());
            dst.present.extend(col.present);
        }
    }
    for (name, col) in from.sparse {
        if let Some(dst) = into.sparse.get_mut(&name) {
            dst.extend(col);
        }
    }
}

/// Checks that a segment file's columns fit the collection and its manifest entry.
pub(super) fn check_segment(
    dir: &CollectionDir,
    ms: &ManifestSegment,
    data: &SegmentData,
    config: &CollectionConfig,
) -> Result<()> {
    let path = dir.segments_dir().join(format!("seg-{:016x}.azs", ms.id));
    let bad = |what: String| Err(Error::corruption(&path, what));
    let rows = data.rows();
    if rows != ms.rows || data.versions.len() != rows || data.payloads.len() != rows {
        return bad(format!(
            "segment has {rows} rows; the manifest says {}",
            ms.rows
        ));
    }
    if ms.deleted.iter().any(|&r| r as usize >= rows) {
        return bad("manifest tombstone beyond the segment's rows".into());
    }
    for (name, p) in &config.vectors {
        match data.dense.get(name) {
            Some(c)
                if c.dim == p.size && c.present.len() == rows && c.data.len() == rows * p.size => {}
            _ => {
                return bad(format!(
                    "dense column {name:?} missing or of the wrong shape"
                ))
            }
        }
    }
    if data.dense.len() != config.vectors.len() {
        return bad("unexpected dense columns".into());
    }
    for name in config.sparse_vectors.keys() {
        if data.sparse.get(name).is_none_or(|c| c.len() != rows) {
            return bad(format!(
                "sparse column {name:?} missing or of the wrong length"
            ));
        }
    }
    if data.sparse.len() != config.sparse_vectors.len() {
        return bad("unexpected sparse columns".into());
    }
    Ok(())
}

impl Collection {
    /// Makes every logged write durable (for writes made without `wait`).
    pub fn sync_log(&self) -> Result<()> {
        match &self.wal {
            Some(wal) => wal.wait_durable(wal.last_lsn()),
            None => Ok(()),
        }
    }
}

impl Collection {
    /// Checkpoints, then archives the collection's files while holding the write lock and
    /// `graph_files` (taken first, as everywhere): the indexer neither writes nor removes a
    /// graph or value-graph file between the archive's listing and its reads.
    pub(crate) fn write_snapshot(&self, out: &std::path::Path) -> Result<crate::SnapshotInfo> {
        let _files = self.graph_files.lock();
        let mut st = self.state.write();
        self.checkpoint_locked(&mut st)?;
        let dir = self
            .dir
            .as_ref()
            .ok_or_else(|| Error::invalid("an in-memory collection has no snapshots"))?;
        crate::storage::snapshot::write(dir, &self.name, out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use crate::collection::SearchRequest;
    use crate::config::{CollectionConfig, Datatype, VectorParams};
    use crate::db::{Database, DbOptions};
    use crate::point::{NamedVectors, PointStruct, Vector};
    use crate::storage::segment_file;
    use crate::types::{Distance, Payload, PointId};

    fn segment_files(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(segment_files(&path));
            } else if path.extension().is_some_and(|e| e == "azs") {
                out.push(path);
            }
        }
        out
    }

    /// A `Float16` vector whose segment file holds f32 values (as files before format 3
    /// did) is held in half precision in memory; the segment's other `on_disk` column
    /// stays mapped.
    #[test]
    fn an_f32_column_of_a_float16_vector_stays_in_memory_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut vectors = BTreeMap::new();
        for (name, datatype) in [("f", Datatype::Float32), ("h", Datatype::Float16)] {
            let mut p = VectorParams::new(8, Distance::Euclid);
            p.on_disk = true;
            p.datatype = datatype;
            vectors.insert(name.to_string(), p);
        }
        let rows = 300usize;
        let value = |i: usize, j: usize| ((i * 8 + j) % 17) as f32 * 0.25;
        let opts = || DbOptions {
            background: false,
            ..Default::default()
        };
        {
            let db = Database::open_with(dir.path(), opts()).unwrap();
            let c = db
                .create_collection("c", CollectionConfig::named(vectors))
                .unwrap();
            let points = (0..rows)
                .map(|i| {
                    let mut v = NamedVectors::new();
                    for name in ["f", "h"] {
                        v.insert(
                            name.to_string(),
                            Vector::Dense((0..8).map(|j| value(i, j)).collect()),
                        );
                    }
                    PointStruct {
                        id: PointId::Num(i as u64),
                        vectors: v,
                        payload: Payload::new(),
                    }
                })
                .collect();
            c.upsert(points, true).unwrap();
            c.flush().unwrap();
            let info = c.info();
            assert_eq!(info.dense_bytes.mapped, rows * 8 * (4 + 2));
        }
        // the file rewritten with every column in f32
        let files = segment_files(dir.path());
        assert_eq!(files.len(), 1);
        let bytes = std::fs::read(&files[0]).unwrap();
        let data = segment_file::decode(&files[0], segment_file::Source::Bytes(&bytes)).unwrap();
        assert!(data.dense["h"].data.half().is_some());
        std::fs::remove_file(&files[0]).unwrap();
        segment_file::write(&files[0], &data, &|_| false).unwrap();

        let db = Database::open_with(dir.path(), opts()).unwrap();
        let c = db.collection("c").unwrap();
        for _ in 0..3 {
            // (and again after each of two checkpoints' placements)
            let info = c.info();
            assert_eq!(info.dense_bytes.mapped, rows * 8 * 4, "f stays mapped");
            assert_eq!(
                info.dense_bytes.in_memory,
                rows * 8 * 2,
                "h in half precision"
            );
            c.flush().unwrap();
        }
        let mut req = SearchRequest::dense((0..8).map(|j| value(5, j)).collect(), 1);
        req.using = "h".to_string();
        assert_eq!(c.search(&req).unwrap()[0].id, PointId::Num(5));
    }
}
