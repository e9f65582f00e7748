//! Azimuth embedded in Python: the native module `azimuth._azimuth` behind the `azimuth`
//! package (pyo3 + numpy, one abi3 wheel for CPython ≥ 3.9, built with maturin).
//!
//! # Design
//!
//! - **A thin layer.** Every decision about data is the engine's; this crate converts Python
//!   values to engine values and back (`convert.rs` ids and JSON, `vectors.rs` numpy input,
//!   `params.rs` keyword arguments, `results.rs` output objects and arrays) and maps engine
//!   errors to exceptions in one place (`errors.rs`, classes defined in
//!   `python/azimuth/errors.py`).
//! - **Detached engine calls.** Arguments are converted while attached to the interpreter;
//!   the engine call itself runs in `Python::detach` (the GIL is released), so threads
//!   search in parallel and a long write does not stall other threads.
//! - **One open database per directory per process** (`database.rs`): connecting again shares
//!   it; `close()` waits for calls in flight, then releases the directory lock, after which
//!   every object of that database raises instead of touching files another process may now
//!   own.
//!
//! The Python-facing documentation is in the docstrings and in `python/azimuth/_azimuth.pyi`.

mod collection;
mod convert;
mod database;
mod errors;
mod params;
mod results;
mod vectors;

use pyo3::prelude::*;

/// The native half of the `azimuth` package; import `azimuth` instead.
#[pymodule]
#[pyo3(name = "_azimuth")]
fn azimuth_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(database::connect, m)?)?;
    m.add_class::<database::Database>()?;
    m.add_class::<collection::Collection>()?;
    m.add_class::<results::Hit>()?;
    m.add_class::<results::Record>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
