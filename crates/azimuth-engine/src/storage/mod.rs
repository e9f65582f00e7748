//! Everything that touches files. No other engine module does file I/O.
//!
//! Layout of a database directory (byte layouts in `docs/format.md`):
//!
//! ```text
//! <root>/LOCK                              exclusive lock while open
//! <root>/ALIASES                           framed JSON: alias → collection name
//! <root>/CATALOG-<name>                    framed JSON: an API layer's catalog document
//! <root>/collections/c-<hex>/CONFIG        framed JSON: name + CollectionConfig
//! <root>/collections/c-<hex>/MANIFEST      framed JSON: segments, tombstones, WAL cut
//! <root>/collections/c-<hex>/wal/wal-<gen>.log
//! <root>/collections/c-<hex>/segments/seg-<id>.azs
//! <root>/collections/c-<hex>/segments/graph-<id>-<n>.azg   ANN graph of dense vector n
//! <root>/collections/c-<hex>/segments/values-<id>-<n>.azv  its value graphs
//! ```

pub(crate) mod catalog;
pub(crate) mod codec;
pub(crate) mod files;
pub(crate) mod full_snapshot;
pub(crate) mod graph_file;
pub(crate) mod mapped;
pub(crate) mod segment_file;
pub mod snapshot;
pub(crate) mod wal;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ann::{ValueGraph, VectorGraph};
use crate::config::CollectionConfig;
use crate::error::{Error, Result};
use crate::segment::{Floats, SegmentData};
pub(crate) use files::DirLock;

/// What a value-graph file holds: the vector name it was written for and, per payload key,
/// the graphs.
pub(crate) type ValueGraphFile = (String, Vec<graph_file::StoredValueGraphs<ValueGraph>>);
pub(crate) use wal::Wal;

const CONFIG_MAGIC: &[u8; 8] = b"AZCONFIG";
const CONFIG_VERSION: u32 = 1;
const MANIFEST_MAGIC: &[u8; 8] = b"AZMANIFS";
const MANIFEST_VERSION: u32 = 1;
const ALIASES_MAGIC: &[u8; 8] = b"AZALIAS\0";
const ALIASES_VERSION: u32 = 1;

/// The CONFIG file body.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredConfig {
    pub name: String,
    pub config: CollectionConfig,
}

/// One sealed segment as listed in the manifest.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ManifestSegment {
    pub id: u64,
    pub rows: usize,
    /// Tombstoned rows, ascending.
    pub deleted: Vec<u32>,
}

/// The MANIFEST file body: the durable state of a collection up to `applied_lsn`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub generation: u64,
    /// Replay starts with this WAL file generation.
    pub wal_gen: u64,
    /// Every record up to this lsn is reflected in the segments.
    pub applied_lsn: u64,
    pub next_segment_id: u64,
    pub segments: Vec<ManifestSegment>,
    /// Payload indexes: (key path, schema type).
    pub payload_schema: Vec<(String, String)>,
}

/// The root directory of a database.
pub(crate) struct DbDir {
    pub root: PathBuf,
    _lock: DirLock,
}

impl DbDir {
    pub fn open(root: &Path) -> Result<DbDir> {
        files::create_dir(root)?;
        let lock = DirLock::acquire(root)?;
        let dir = DbDir {
            root: root.to_path_buf(),
            _lock: lock,
        };
        files::create_dir(&dir.collections_dir())?;
        // Leftovers of interrupted creates and deletes.
        for name in files::list_names(&dir.collections_dir())? {
            if name.starts_with(".tmp-") || name.starts_with(".trash-") {
                let p = dir.collections_dir().join(&name);
                std::fs::remove_dir_all(&p).map_err(|e| Error::io(&p, e))?;
            }
        }
        Ok(dir)
    }

    /// Collection aliases (alias → collection name); empty when the file does not exist.
    pub fn read_aliases(&self) -> Result<std::collections::BTreeMap<String, String>> {
        let path = self.root.join("ALIASES");
        if !path.exists() {
            return Ok(Default::default());
        }
        let data = files::read_file(&path)?;
        let body = files::unframe(&path, &data, ALIASES_MAGIC, ALIASES_VERSION)?;
        serde_json::from_slice(body)
            .map_err(|e| Error::corruption(&path, format!("bad aliases: {e}")))
    }

    pub fn write_aliases(
        &self,
        aliases: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        let body = serde_json::to_vec(aliases).map_err(|e| Error::Internal(e.to_string()))?;
        let image = files::frame(ALIASES_MAGIC, ALIASES_VERSION, &body);
        files::write_atomic(&self.root.join("ALIASES"), &image)
    }

    /// Directory of a collection's snapshots (created on demand). Names that are not plain
    /// file names are replaced by a hash, so no collection name can escape the folder.
    pub fn snapshots_dir(&self, collection: &str) -> Result<PathBuf> {
        let plain = collection.len() <= 100
            && !collection.starts_with('.')
            && collection
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        let safe = if plain {
            collection.to_string()
        } else {
            use sha2::Digest;
            let h = sha2::Sha256::digest(collection.as_bytes());
            format!(
                "x-{}",
                h.iter()
                    .take(16)
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            )
        };
        let dir = self.root.join("snapshots").join(safe);
        files::create_dir(&dir)?;
        Ok(dir)
    }

    /// A fresh staging directory under `collections/` (removed on open if left behind).
    pub fn staging_dir(&self) -> PathBuf {
        self.collections_dir()
            .join(format!(".tmp-{}", unique_suffix()))
    }

    /// Moves a staged (unpacked) collection into place and returns its directory.
    pub fn install_staged(&self, staged: &Path) -> Result<CollectionDir> {
        let fin = self
            .collections_dir()
            .join(format!("c-{}", unique_suffix()));
        std::fs::rename(staged, &fin).map_err(|e| Error::io(&fin, e))?;
        files::sync_dir(&self.collections_dir())?;
        Ok(CollectionDir { path: fin })
    }

    fn collections_dir(&self) -> PathBuf {
        self.root.join("collections")
    }

    /// Directories of existing collections.
    pub fn collection_dirs(&self) -> Result<Vec<CollectionDir>> {
        Ok(files::list_names(&self.collections_dir())?
            .into_iter()
            .filter(|n| n.starts_with("c-"))
            .map(|n| CollectionDir {
                path: self.collections_dir().join(n),
            })
            .collect())
    }

    /// Creates a collection directory atomically: everything is written under a temporary
    /// name and renamed into place.
    pub fn create_collection(&self, stored: &StoredConfig) -> Result<CollectionDir> {
        let unique = unique_suffix();
        let tmp = self.collections_dir().join(format!(".tmp-{unique}"));
        files::create_dir(&tmp)?;
        let staged = CollectionDir { path: tmp.clone() };
        files::create_dir(&staged.wal_dir())?;
        files::create_dir(&staged.segments_dir())?;
        staged.write_config(stored)?;
        staged.write_manifest(&Manifest::default())?;
        files::sync_dir(&staged.wal_dir())?;
        files::sync_dir(&staged.segments_dir())?;
        files::sync_dir(&tmp)?;
        let fin = self.collections_dir().join(format!("c-{unique}"));
        std::fs::rename(&tmp, &fin).map_err(|e| Error::io(&fin, e))?;
        files::sync_dir(&self.collections_dir())?;
        Ok(CollectionDir { path: fin })
    }

    /// Deletes a collection directory: renamed away first (atomic), then removed.
    pub fn delete_collection(&self, dir: &CollectionDir) -> Result<()> {
        let trash = self
            .collections_dir()
            .join(format!(".trash-{}", unique_suffix()));
        std::fs::rename(&dir.path, &trash).map_err(|e| Error::io(&dir.path, e))?;
        files::sync_dir(&self.collections_dir())?;
        std::fs::remove_dir_all(&trash).map_err(|e| Error::io(&trash, e))
    }
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let c = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{nanos:x}{c:04x}{:x}", std::process::id())
}

/// One collection's directory.
#[derive(Clone, Debug)]
pub(crate) struct CollectionDir {
    pub path: PathBuf,
}

impl CollectionDir {
    pub fn wal_dir(&self) -> PathBuf {
        self.path.join("wal")
    }

    pub fn segments_dir(&self) -> PathBuf {
        self.path.join("segments")
    }

    fn segment_path(&self, id: u64) -> PathBuf {
        self.segments_dir().join(format!("seg-{id:016x}.azs"))
    }

    pub fn write_config(&self, stored: &StoredConfig) -> Result<()> {
        let body = serde_json::to_vec(stored).map_err(|e| Error::Internal(e.to_string()))?;
        files::write_atomic(
            &self.path.join("CONFIG"),
            &files::frame(CONFIG_MAGIC, CONFIG_VERSION, &body),
        )
    }

    pub fn read_config(&self) -> Result<StoredConfig> {
        let path = self.path.join("CONFIG");
        let data = files::read_file(&path)?;
        let body = files::unframe(&path, &data, CONFIG_MAGIC, CONFIG_VERSION)?;
        serde_json::from_slice(body)
            .map_err(|e| Error::corruption(&path, format!("bad config: {e}")))
    }

    pub fn write_manifest(&self, m: &Manifest) -> Result<()> {
        let body = serde_json::to_vec(m).map_err(|e| Error::Internal(e.to_string()))?;
        files::write_atomic(
            &self.path.join("MANIFEST"),
            &files::frame(MANIFEST_MAGIC, MANIFEST_VERSION, &body),
        )
    }

    pub fn read_manifest(&self) -> Result<Manifest> {
        let path = self.path.join("MANIFEST");
        let data = files::read_file(&path)?;
        let body = files::unframe(&path, &data, MANIFEST_MAGIC, MANIFEST_VERSION)?;
        serde_json::from_slice(body)
            .map_err(|e| Error::corruption(&path, format!("bad manifest: {e}")))
    }

    /// Writes segment `id`; the columns of `Float16` vectors of `config` in half precision.
    pub fn write_segment(
        &self,
        id: u64,
        data: &SegmentData,
        config: &CollectionConfig,
    ) -> Result<()> {
        let path = self.segment_path(id);
        files::remove_file_if_exists(&path)?; // an orphan of an interrupted checkpoint
        let half = |name: &str| config.vectors.get(name).is_some_and(|p| p.half_rows());
        segment_file::write(&path, data, &half)
    }

    /// Reads segment `id`, checking it whole. With `on_disk`, dense columns whose name
    /// passes the test are read in place through a map of the file when its format allows
    /// (version 2 on; half-precision columns stay half precision); everything else is copied
    /// into memory.
    pub fn read_segment(
        &self,
        id: u64,
        on_disk: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<SegmentData> {
        let path = self.segment_path(id);
        let failed = |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::corruption(&path, "segment file listed in the manifest is missing")
            } else {
                Error::io(&path, e)
            }
        };
        // a file that cannot be mapped (too many maps, a file system without mmap) is read
        // into memory instead
        if let Some((on_disk, Ok(map))) = on_disk.map(|f| (f, mapped::map(&path))) {
            let data = segment_file::decode(&path, segment_file::Source::Mapped(&map, on_disk));
            mapped::settle(&map);
            return data;
        }
        let data = std::fs::read(&path).map_err(failed)?;
        segment_file::decode(&path, segment_file::Source::Bytes(&data))
    }

    /// The dense columns of segment `id`'s file read in place through a map of the file (f32
    /// or half precision), by vector name; none for a version 1 file. The file was checked
    /// when it was opened, or written by this process.
    pub fn map_dense_columns(&self, id: u64) -> Result<Vec<(String, Floats)>> {
        let path = self.segment_path(id);
        let map = mapped::map(&path).map_err(|e| Error::io(&path, e))?;
        let columns = segment_file::locate_dense(&path, &map)?;
        mapped::settle(&map);
        Ok(columns)
    }

    pub fn graph_path(&self, segment: u64, vector: usize) -> PathBuf {
        self.segments_dir()
            .join(format!("graph-{segment:016x}-{vector}.azg"))
    }

    /// Writes the graph of dense vector number `vector` (in name order) of a segment.
    pub fn write_graph(
        &self,
        segment: u64,
        vector: usize,
        name: &str,
        graph: &VectorGraph,
    ) -> Result<()> {
        files::write_atomic(
            &self.graph_path(segment, vector),
            &graph_file::encode(name, graph),
        )
    }

    /// Reads a segment's graph of dense vector number `vector`, if one was written. With
    /// `mapped`, the graph reads its level-0 lists through a read-only memory map of the
    /// file (after checking every byte) when the file allows it (see
    /// [`azimuth_index::Hnsw::from_shared`]); a file that cannot be mapped is read into
    /// memory.
    pub fn read_graph(
        &self,
        segment: u64,
        vector: usize,
        mapped: bool,
    ) -> Result<Option<(String, VectorGraph)>> {
        self.read_graph_parts(segment, vector, mapped, true)
    }

    /// [`CollectionDir::read_graph`] with `mapped`, for a caller that holds the graph's
    /// codes already and wants its links read in place: stored codes are skipped.
    pub fn read_graph_links(
        &self,
        segment: u64,
        vector: usize,
    ) -> Result<Option<(String, VectorGraph)>> {
        self.read_graph_parts(segment, vector, true, false)
    }

    fn read_graph_parts(
        &self,
        segment: u64,
        vector: usize,
        mapped: bool,
        with_codes: bool,
    ) -> Result<Option<(String, VectorGraph)>> {
        let path = self.graph_path(segment, vector);
        if mapped {
            match mapped::map(&path) {
                Ok(map) => {
                    let graph = graph_file::decode_mapped(&path, &map, with_codes);
                    mapped::settle(&map); // checking it read every page
                    return graph.map(Some);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(_) => {} // read it instead
            }
        }
        let Some(data) = files::read_file_if_exists(&path)? else {
            return Ok(None);
        };
        graph_file::decode(&path, &data, with_codes).map(Some)
    }

    /// Removes a graph file (one built for a segment that is gone).
    pub fn remove_graph(&self, segment: u64, vector: usize) -> Result<()> {
        files::remove_file_if_exists(&self.graph_path(segment, vector))
    }

    pub fn values_path(&self, segment: u64, vector: usize) -> PathBuf {
        self.segments_dir()
            .join(format!("values-{segment:016x}-{vector}.azv"))
    }

    /// Writes the value graphs of dense vector number `vector` (named `name`) of a segment.
    pub fn write_value_graphs(
        &self,
        segment: u64,
        vector: usize,
        name: &str,
        keys: &[graph_file::StoredValueGraphs<std::sync::Arc<ValueGraph>>],
    ) -> Result<()> {
        files::write_atomic(
            &self.values_path(segment, vector),
            &graph_file::encode_values(name, keys),
        )
    }

    /// Reads a segment's value graphs of dense vector number `vector`, if any were written.
    pub fn read_value_graphs(&self, segment: u64, vector: usize) -> Result<Option<ValueGraphFile>> {
        let path = self.values_path(segment, vector);
        let Some(data) = files::read_file_if_exists(&path)? else {
            return Ok(None);
        };
        graph_file::decode_values(&path, &data).map(Some)
    }

    /// Removes a value-graph file.
    pub fn remove_value_graphs(&self, segment: u64, vector: usize) -> Result<()> {
        files::remove_file_if_exists(&self.values_path(segment, vector))
    }

    /// Removes segment and graph files of segments not in `keep` (orphans of interrupted
    /// checkpoints, merges and index builds). Temporary files of kept segments' graphs may
    /// belong to a build in progress; they are removed only `at_open`.
    pub fn remove_segments_except(&self, keep: &[u64], at_open: bool) -> Result<()> {
        for name in files::list_names(&self.segments_dir())? {
            let hex_id = |s: &str| u64::from_str_radix(s, 16).ok();
            let segment = name
                .strip_prefix("seg-")
                .and_then(|s| s.strip_suffix(".azs"))
                .and_then(hex_id);
            let graph = name
                .strip_prefix("graph-")
                .or_else(|| name.strip_prefix("values-"))
                .and_then(|s| s.split('-').next())
                .and_then(hex_id);
            let stale = match (segment, graph) {
                (Some(id), _) => !keep.contains(&id),
                (None, Some(id)) => !keep.contains(&id) || (at_open && name.ends_with(".tmp")),
                (None, None) => name.ends_with(".tmp"),
            };
            if stale {
                files::remove_file_if_exists(&self.segments_dir().join(name))?;
            }
        }
        Ok(())
    }
}
