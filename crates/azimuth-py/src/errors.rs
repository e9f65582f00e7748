//! The one place that maps engine errors to Python exceptions.
//!
//! The exception classes live in `azimuth/errors.py` (multiple inheritance — `NotFound` is
//! also a `KeyError`, `Corruption` also an `OSError` — is plain there); they are looked up
//! once and cached.

use azimuth_engine::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

const MODULE: &str = "azimuth.errors";

static AZIMUTH_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static INVALID_INPUT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ALREADY_EXISTS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static NOT_FOUND: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static LOCKED: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static STORAGE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CORRUPTION: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn raise<A>(py: Python<'_>, cell: &'static PyOnceLock<Py<PyType>>, name: &str, args: A) -> PyErr
where
    A: pyo3::PyErrArguments + Send + Sync + 'static,
{
    match cell.import(py, MODULE, name) {
        Ok(ty) => PyErr::from_type(ty.clone(), args),
        Err(e) => e,
    }
}

/// `azimuth.InvalidInput` (a `ValueError`): the caller passed something unusable.
pub(crate) fn invalid(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    raise(py, &INVALID_INPUT, "InvalidInput", msg.into())
}

/// Maps an engine error to its Python exception, on [`Error::kind`] (plus `Locked`, which is
/// a `Conflict` the caller can act on).
pub(crate) fn engine(py: Python<'_>, e: Error) -> PyErr {
    if let Error::Io { source, .. } = &e {
        // OSError(errno, strerror) fills .errno and .strerror.
        let msg = e.to_string();
        return match source.raw_os_error() {
            Some(code) => raise(py, &STORAGE_ERROR, "StorageError", (code, msg)),
            None => raise(py, &STORAGE_ERROR, "StorageError", msg),
        };
    }
    let msg = match &e {
        // The class already says what these are; keep only the detail.
        Error::InvalidArgument(m)
        | Error::NotFound(m)
        | Error::AlreadyExists(m)
        | Error::Conflict(m) => m.clone(),
        other => other.to_string(),
    };
    if matches!(e, Error::Locked { .. }) {
        return raise(py, &LOCKED, "Locked", msg);
    }
    match e.kind() {
        ErrorKind::InvalidArgument | ErrorKind::ResourceExhausted => invalid(py, msg),
        ErrorKind::AlreadyExists => raise(py, &ALREADY_EXISTS, "AlreadyExists", msg),
        ErrorKind::NotFound => raise(py, &NOT_FOUND, "NotFound", msg),
        ErrorKind::Corruption => raise(py, &CORRUPTION, "Corruption", msg),
        ErrorKind::Io => raise(py, &STORAGE_ERROR, "StorageError", msg),
        _ => raise(py, &AZIMUTH_ERROR, "AzimuthError", msg),
    }
}

/// `.map_err` helper: `result.map_err(to_py(py))?`.
pub(crate) fn to_py(py: Python<'_>) -> impl Fn(Error) -> PyErr + '_ {
    move |e| engine(py, e)
}
