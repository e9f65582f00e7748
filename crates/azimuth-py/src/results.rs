//! Results out: `Hit` and `Record` objects, and the numpy fast path of batch search.

use azimuth_engine::{NamedVectors, PointId, Record as EngineRecord, ScoredPoint, Vector};
use numpy::prelude::*;
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{id_to_py, payload_to_py};

/// One search result: `id`, `score`, and `payload` / `vector` when asked for.
///
/// `score` is the similarity for "cosine" and "dot" (higher is closer) and the distance for
/// "euclid" and "manhattan" (lower is closer).
#[pyclass(module = "azimuth", frozen, get_all)]
pub(crate) struct Hit {
    /// `int`, or `str` for UUID and string ids.
    id: Py<PyAny>,
    score: f32,
    /// The payload `dict`, or `None` when not requested.
    payload: Option<Py<PyDict>>,
    /// The stored vector (a float32 array; unit length for cosine), or `None` when not
    /// requested.
    vector: Option<Py<PyAny>>,
}

#[pymethods]
impl Hit {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Hit(id={}, score={:?}, payload={})",
            self.id.bind(py).repr()?,
            self.score,
            repr_opt(py, self.payload.as_ref().map(|p| p.bind(py).as_any()))?
        ))
    }
}

/// A stored point: `id`, and `payload` / `vector` when asked for.
#[pyclass(module = "azimuth", frozen, get_all)]
pub(crate) struct Record {
    /// `int`, or `str` for UUID and string ids.
    id: Py<PyAny>,
    /// The payload `dict`, or `None` when not requested.
    payload: Option<Py<PyDict>>,
    /// The stored vector (a float32 array; unit length for cosine), or `None` when not
    /// requested.
    vector: Option<Py<PyAny>>,
}

#[pymethods]
impl Record {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Record(id={}, payload={})",
            self.id.bind(py).repr()?,
            repr_opt(py, self.payload.as_ref().map(|p| p.bind(py).as_any()))?
        ))
    }
}

fn repr_opt(_py: Python<'_>, v: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    Ok(match v {
        Some(v) => v.repr()?.to_cow()?.into_owned(),
        None => "None".to_string(),
    })
}

/// Vectors as returned: the unnamed vector as an array for a single-vector collection, else
/// a dict of name → array (sparse vectors as `{"indices": [...], "values": [...]}`).
fn vectors_to_py<'py>(
    py: Python<'py>,
    v: &NamedVectors,
    single_unnamed: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let one = |x: &Vector| -> PyResult<Bound<'py, PyAny>> {
        Ok(match x {
            Vector::Dense(d) => PyArray1::from_slice(py, d).into_any(),
            Vector::Sparse(s) => {
                let d = PyDict::new(py);
                d.set_item("indices", &s.indices)?;
                d.set_item("values", &s.values)?;
                d.into_any()
            }
        })
    };
    if single_unnamed {
        if let Some(x) = v.get("") {
            return one(x);
        }
    }
    let d = PyDict::new(py);
    for (name, x) in v {
        d.set_item(name, one(x)?)?;
    }
    Ok(d.into_any())
}

pub(crate) fn hit(py: Python<'_>, p: &ScoredPoint, single_unnamed: bool) -> PyResult<Hit> {
    Ok(Hit {
        id: id_to_py(py, &p.id)?.unbind(),
        score: p.score,
        payload: p
            .payload
            .as_ref()
            .map(|m| payload_to_py(py, m).map(Bound::unbind))
            .transpose()?,
        vector: p
            .vectors
            .as_ref()
            .map(|v| vectors_to_py(py, v, single_unnamed).map(Bound::unbind))
            .transpose()?,
    })
}

pub(crate) fn record(py: Python<'_>, r: &EngineRecord, single_unnamed: bool) -> PyResult<Record> {
    Ok(Record {
        id: id_to_py(py, &r.id)?.unbind(),
        payload: r
            .payload
            .as_ref()
            .map(|m| payload_to_py(py, m).map(Bound::unbind))
            .transpose()?,
        vector: r
            .vectors
            .as_ref()
            .map(|v| vectors_to_py(py, v, single_unnamed).map(Bound::unbind))
            .transpose()?,
    })
}

/// The `(ids, scores)` arrays of `search_numpy`: shape `(n, k)` (or `(k,)` for one query),
/// best first. Rows with fewer than `k` hits are padded with id -1 and score NaN. `ids` is
/// int64 when every returned id is an integer below 2**63, otherwise an object array of
/// `int` / `str` padded with `None`.
pub(crate) fn numpy_hits<'py>(
    py: Python<'py>,
    results: &[Vec<ScoredPoint>],
    k: usize,
    single: bool,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let n = results.len();
    let total = n.checked_mul(k).ok_or_else(|| {
        crate::errors::invalid(py, format!("{n} queries × k={k} results is too large"))
    })?;
    let mut scores = filled(total, f32::NAN)?;
    let int_ids = results
        .iter()
        .flatten()
        .all(|p| matches!(p.id, PointId::Num(x) if x <= i64::MAX as u64));
    let shape: Vec<usize> = if single { vec![k] } else { vec![n, k] };
    for (i, row) in results.iter().enumerate() {
        for (j, p) in row.iter().take(k).enumerate() {
            scores[i * k + j] = p.score;
        }
    }
    let ids = if int_ids {
        let mut ids = filled(total, -1i64)?;
        for (i, row) in results.iter().enumerate() {
            for (j, p) in row.iter().take(k).enumerate() {
                if let PointId::Num(x) = p.id {
                    ids[i * k + j] = x as i64;
                }
            }
        }
        PyArray1::from_vec(py, ids)
            .reshape(shape.as_slice())?
            .into_any()
    } else {
        let mut ids: Vec<Py<PyAny>> = Vec::new();
        ids.try_reserve_exact(total)
            .map_err(|_| out_of_memory(total))?;
        for row in results {
            for j in 0..k {
                ids.push(match row.get(j) {
                    Some(p) => id_to_py(py, &p.id)?.unbind(),
                    None => py.None(),
                });
            }
        }
        PyArray1::from_vec(py, ids)
            .reshape(shape.as_slice())?
            .into_any()
    };
    let scores = PyArray1::from_vec(py, scores)
        .reshape(shape.as_slice())?
        .into_any();
    Ok((ids, scores))
}

/// `len` copies of `value`, or `MemoryError` (not an abort) when that cannot be allocated —
/// the padding of `search_numpy` is `queries × k`, however few points there are.
fn filled<T: Clone>(len: usize, value: T) -> PyResult<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| out_of_memory(len))?;
    v.resize(len, value);
    Ok(v)
}

fn out_of_memory(len: usize) -> PyErr {
    pyo3::exceptions::PyMemoryError::new_err(format!(
        "cannot allocate result arrays of {len} elements; ask for a smaller k"
    ))
}
