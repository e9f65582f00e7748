//! `azimuth.connect` and `Database`: opening a directory (or memory), collections by name,
//! closing.
//!
//! A directory is opened once per process: connecting again to a directory this process
//! already has open shares the open database (so re-running `db = azimuth.connect(path)` in
//! a notebook works), while another process gets `Locked`. `close()` is decisive: it waits
//! for calls in flight, closes the engine and releases the directory lock; every `Database`
//! and `Collection` object of that directory in this process then raises on use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use azimuth_engine::{CollectionConfig, Datatype, Error, Quantization, DEFAULT_VECTOR};
use parking_lot::{Mutex, RwLock};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::collection::Collection;
use crate::errors::{invalid, to_py};
use crate::params::{hnsw, metric, metric_name};

/// One open engine database, shared by every Python object that uses it.
pub(crate) struct Shared {
    db: RwLock<Option<azimuth_engine::Database>>,
    path: Option<PathBuf>,
}

impl Shared {
    /// Runs `f` on the open database; holds it open (a concurrent `close` waits) meanwhile.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&azimuth_engine::Database) -> azimuth_engine::Result<T>,
    ) -> azimuth_engine::Result<T> {
        match self.db.read().as_ref() {
            Some(db) => f(db),
            None => Err(Error::InvalidArgument("the database is closed".into())),
        }
    }

    fn is_open(&self) -> bool {
        self.db.read().is_some()
    }

    fn close(&self) {
        let db = self.db.write().take();
        // Dropping stops the background worker and releases the directory lock.
        drop(db);
    }
}

/// Directories open in this process (canonical path → database).
static OPEN: Mutex<BTreeMap<PathBuf, Weak<Shared>>> = Mutex::new(BTreeMap::new());

fn open_dir(path: &Path) -> azimuth_engine::Result<Arc<Shared>> {
    let mut open = OPEN.lock();
    open.retain(|_, w| w.strong_count() > 0);
    if let Ok(canonical) = std::fs::canonicalize(path) {
        if let Some(shared) = open.get(&canonical).and_then(Weak::upgrade) {
            if shared.is_open() {
                return Ok(shared);
            }
        }
    }
    let db = azimuth_engine::Database::open(path)?;
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let shared = Arc::new(Shared {
        db: RwLock::new(Some(db)),
        path: Some(canonical.clone()),
    });
    open.insert(canonical, Arc::downgrade(&shared));
    Ok(shared)
}

/// Opens the database in directory `path` (created if missing), or a fresh in-memory
/// database for `":memory:"`.
///
/// Raises `Locked` when another process has the directory open, `Corruption` when its files
/// are damaged.
#[pyfunction]
pub(crate) fn connect(py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<Database> {
    if let Ok(s) = path.cast::<PyString>() {
        if s.to_cow()? == ":memory:" {
            let shared = Arc::new(Shared {
                db: RwLock::new(Some(azimuth_engine::Database::in_memory())),
                path: None,
            });
            return Ok(Database { shared });
        }
    }
    let dir: PathBuf = path.extract()?;
    if dir.as_os_str().is_empty() {
        return Err(invalid(
            py,
            "path must not be empty (use \":memory:\" for an in-memory database)",
        ));
    }
    let shared = py.detach(|| open_dir(&dir)).map_err(to_py(py))?;
    Ok(Database { shared })
}

/// A database: named collections in a directory or in memory. Made by `azimuth.connect`.
#[pyclass(module = "azimuth", frozen)]
pub(crate) struct Database {
    shared: Arc<Shared>,
}

impl Database {
    fn collection_object(&self, inner: Arc<azimuth_engine::Collection>) -> Collection {
        Collection::new(self.shared.clone(), inner)
    }
}

#[pymethods]
impl Database {
    /// Creates a collection of `dim`-dimensional vectors compared by `metric` ("cosine",
    /// "dot", "euclid" or "manhattan"). `m`, `ef_construct` and `full_scan_threshold` tune
    /// the HNSW index; `quantization` ("int8" or "binary") makes searches walk compact codes
    /// and rescore from the vectors; `on_disk=True` reads sealed vectors and graph links
    /// from their files through memory maps; `dtype="float16"` keeps vectors in half
    /// precision (rounded when written; sealed segments hold them at half the bytes, in
    /// memory and in their files, and searches read them directly). Raises `AlreadyExists`
    /// if the name is taken.
    #[pyo3(signature = (name, dim, metric = "cosine", *, m = None, ef_construct = None, full_scan_threshold = None, quantization = None, on_disk = false, dtype = "float32"))]
    #[allow(clippy::too_many_arguments)]
    fn create_collection(
        &self,
        py: Python<'_>,
        name: &str,
        dim: i64,
        metric: &str,
        m: Option<i64>,
        ef_construct: Option<i64>,
        full_scan_threshold: Option<i64>,
        quantization: Option<&str>,
        on_disk: bool,
        dtype: &str,
    ) -> PyResult<Collection> {
        let hnsw = (m, ef_construct, full_scan_threshold);
        let config = collection_config(py, dim, metric, hnsw, quantization, (on_disk, dtype))?;
        let inner = py
            .detach(|| self.shared.with(|db| db.create_collection(name, config)))
            .map_err(to_py(py))?;
        Ok(self.collection_object(inner))
    }

    /// The collection called `name` (or an alias of it). Raises `NotFound` (a `KeyError`).
    fn get_collection(&self, py: Python<'_>, name: &str) -> PyResult<Collection> {
        let inner = py
            .detach(|| self.shared.with(|db| db.collection(name)))
            .map_err(to_py(py))?;
        Ok(self.collection_object(inner))
    }

    /// The collection called `name`, created with these settings if it does not exist (the
    /// options apply then). An existing collection must have the same `dim`, `metric` and
    /// `dtype` (else `InvalidInput`).
    #[pyo3(signature = (name, dim, metric = "cosine", *, m = None, ef_construct = None, full_scan_threshold = None, quantization = None, on_disk = false, dtype = "float32"))]
    #[allow(clippy::too_many_arguments)]
    fn get_or_create_collection(
        &self,
        py: Python<'_>,
        name: &str,
        dim: i64,
        metric: &str,
        m: Option<i64>,
        ef_construct: Option<i64>,
        full_scan_threshold: Option<i64>,
        quantization: Option<&str>,
        on_disk: bool,
        dtype: &str,
    ) -> PyResult<Collection> {
        let hnsw = (m, ef_construct, full_scan_threshold);
        let config = collection_config(py, dim, metric, hnsw, quantization, (on_disk, dtype))?;
        let want = config.vectors[DEFAULT_VECTOR].clone();
        let inner = py
            .detach(|| {
                self.shared.with(|db| match db.collection(name) {
                    Ok(c) => Ok(c),
                    Err(_) => match db.create_collection(name, config) {
                        Err(e) if e.kind() == azimuth_engine::ErrorKind::AlreadyExists => {
                            db.collection(name)
                        }
                        other => other,
                    },
                })
            })
            .map_err(to_py(py))?;
        match inner.config().vectors.get(DEFAULT_VECTOR) {
            Some(have)
                if (have.size, have.distance, have.datatype)
                    == (want.size, want.distance, want.datatype) => {}
            Some(have) => {
                return Err(invalid(
                    py,
                    format!(
                        "collection {name:?} exists with dim={} metric={:?} dtype={:?}, \
                         not dim={} metric={:?} dtype={:?}",
                        have.size,
                        metric_name(have.distance),
                        have.datatype.name(),
                        want.size,
                        metric_name(want.distance),
                        want.datatype.name()
                    ),
                ))
            }
            None => {
                return Err(invalid(
                    py,
                    format!("collection {name:?} exists with named vectors only"),
                ))
            }
        }
        Ok(self.collection_object(inner))
    }

    /// Names of all collections, sorted.
    fn list_collections(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        py.detach(|| self.shared.with(|db| Ok(db.list_collections())))
            .map_err(to_py(py))
    }

    /// Deletes a collection and its files. Raises `NotFound` unless `missing_ok=True`;
    /// returns whether a collection was deleted.
    #[pyo3(signature = (name, *, missing_ok = false))]
    fn drop_collection(&self, py: Python<'_>, name: &str, missing_ok: bool) -> PyResult<bool> {
        let dropped = py
            .detach(|| self.shared.with(|db| db.delete_collection(name)))
            .map_err(to_py(py))?;
        if !dropped && !missing_ok {
            return Err(crate::errors::engine(
                py,
                Error::NotFound(format!("collection {name:?} does not exist")),
            ));
        }
        Ok(dropped)
    }

    fn __contains__(&self, py: Python<'_>, name: &str) -> PyResult<bool> {
        py.detach(|| self.shared.with(|db| Ok(db.collection_exists(name))))
            .map_err(to_py(py))
    }

    /// Seals recent writes of every collection into segment files (writes are durable
    /// without it; this only makes the next open faster).
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.shared.with(|db| db.flush()))
            .map_err(to_py(py))
    }

    /// Closes the database and releases the directory. Idempotent.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.shared.close());
    }

    /// True until `close()`.
    #[getter]
    fn is_open(&self, py: Python<'_>) -> bool {
        // Detached: a `close` waiting for calls in flight must not wait on this thread.
        py.detach(|| self.shared.is_open())
    }

    /// The directory, or `None` for an in-memory database.
    #[getter]
    fn path(&self) -> Option<String> {
        self.shared.path.as_ref().map(|p| p.display().to_string())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let state = if self.is_open(py) { "" } else { ", closed" };
        match &self.shared.path {
            Some(p) => format!("Database({:?}{state})", p.display().to_string()),
            None => format!("Database(':memory:'{state})"),
        }
    }
}

fn collection_config(
    py: Python<'_>,
    dim: i64,
    metric_name: &str,
    (m, ef_construct, full_scan_threshold): (Option<i64>, Option<i64>, Option<i64>),
    quantization: Option<&str>,
    (on_disk, dtype): (bool, &str),
) -> PyResult<CollectionConfig> {
    if dim < 1 || dim > azimuth_engine::MAX_DIM as i64 {
        return Err(invalid(
            py,
            format!(
                "dim must be between 1 and {}, got {dim}",
                azimuth_engine::MAX_DIM
            ),
        ));
    }
    let distance = metric(py, metric_name)?;
    let mut config = CollectionConfig::single(dim as usize, distance);
    config.hnsw = hnsw(py, m, ef_construct, full_scan_threshold)?;
    config.quantization = match quantization {
        None => None,
        Some("int8") => Some(Quantization::Scalar {
            quantile: None,
            always_ram: true,
        }),
        Some("binary") => Some(Quantization::Binary { always_ram: true }),
        Some(other) => {
            return Err(invalid(
                py,
                format!("quantization must be \"int8\", \"binary\" or None, got {other:?}"),
            ))
        }
    };
    let datatype = match dtype {
        "float32" => Datatype::Float32,
        "float16" => Datatype::Float16,
        other => {
            return Err(invalid(
                py,
                format!("dtype must be \"float32\" or \"float16\", got {other:?}"),
            ))
        }
    };
    if let Some(v) = config.vectors.get_mut(DEFAULT_VECTOR) {
        v.on_disk = on_disk;
        v.datatype = datatype;
    }
    config.hnsw.on_disk = on_disk;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use azimuth_engine::Distance;

    #[test]
    fn a_directory_is_open_once_per_process_and_close_releases_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = open_dir(dir.path()).unwrap();
        let b = open_dir(&dir.path().join(".")).unwrap(); // another spelling, same directory
        assert!(Arc::ptr_eq(&a, &b));
        a.with(|db| {
            db.create_collection("c", CollectionConfig::single(2, Distance::Dot))
                .map(drop)
        })
        .unwrap();

        b.close();
        let closed = a.with(|db| Ok(db.list_collections())).unwrap_err();
        assert_eq!(closed.kind(), azimuth_engine::ErrorKind::InvalidArgument);
        // The engine's lock is released with it: the directory opens again.
        let c = open_dir(dir.path()).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c.with(|db| Ok(db.list_collections())).unwrap(), ["c"]);
        // While open, the engine itself refuses a second opener.
        let locked = azimuth_engine::Database::open(dir.path());
        assert!(matches!(locked, Err(Error::Locked { .. })));
    }
}
