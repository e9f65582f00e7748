//! Python values ↔ engine values: point ids and JSON payloads.
//!
//! Ids: `int` (0 ≤ id < 2⁶⁴, numpy integers too), `uuid.UUID`, or `str` — a string that
//! parses as a UUID is a UUID id (as in Qdrant, so a directory shared with the server agrees),
//! any other non-empty string is a string id. Read back, integer ids are `int`, UUID and
//! string ids are `str` (UUIDs hyphenated, lower case).
//!
//! Payloads are JSON objects: `dict` with `str` keys, `list`/`tuple`, `str`, `int` (64-bit),
//! finite `float`, `bool`, `None`; numpy scalars and arrays are taken by value
//! (`.item()` / `.tolist()`), `datetime.date`/`datetime.datetime` as ISO 8601 strings.

use azimuth_engine::{Payload, PointId};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use serde_json::{Map, Number, Value};

use crate::errors::invalid;

/// Deepest nesting accepted in a payload or filter (the engine's write limit).
pub(crate) const MAX_DEPTH: usize = 64;

static UUID_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static NUMPY_GENERIC: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn is_uuid(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    obj.is_instance(UUID_TYPE.import(obj.py(), "uuid", "UUID")?)
}

fn is_numpy_scalar(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    obj.is_instance(NUMPY_GENERIC.import(obj.py(), "numpy", "generic")?)
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_string())
}

/// True for a value that is one id rather than a collection of ids (a `str` is iterable but
/// is one id).
pub(crate) fn is_single_id(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyInt>()
        || is_uuid(obj)?
        || (is_numpy_scalar(obj)? && obj.hasattr("__index__")?))
}

/// One point id.
pub(crate) fn point_id(obj: &Bound<'_, PyAny>) -> PyResult<PointId> {
    let py = obj.py();
    let id = if obj.is_instance_of::<PyBool>() {
        return Err(invalid(
            py,
            "a point id must be an int, str or UUID, not a bool",
        ));
    } else if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_cow()?;
        PointId::parse_uuid(&s).unwrap_or_else(|_| PointId::Str(s.into_owned()))
    } else if obj.is_instance_of::<PyInt>()
        || (is_numpy_scalar(obj)? && obj.hasattr("__index__")?)
    {
        let n = obj.call_method0("__index__")?;
        PointId::Num(n.extract::<u64>().map_err(|_| {
            invalid(
                py,
                format!("point id {n} is out of range: integer ids are 0 ≤ id < 2**64"),
            )
        })?)
    } else if is_uuid(obj)? {
        PointId::parse_uuid(&obj.str()?.to_cow()?).map_err(|e| invalid(py, e.to_string()))?
    } else {
        return Err(invalid(
            py,
            format!(
                "a point id must be an int, str or UUID, got {}",
                type_name(obj)
            ),
        ));
    };
    id.validate().map_err(|e| crate::errors::engine(py, e))?;
    Ok(id)
}

/// Point ids from one id or any iterable of ids (list, tuple, numpy integer array, …).
pub(crate) fn point_ids(obj: &Bound<'_, PyAny>) -> PyResult<Vec<PointId>> {
    let py = obj.py();
    if is_single_id(obj)? {
        return Ok(vec![point_id(obj)?]);
    }
    if obj.is_instance_of::<PyBytes>() {
        return Err(invalid(py, "ids must be ints, strs or UUIDs, not bytes"));
    }
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        if let Some(ids) = int_array_ids(arr)? {
            return Ok(ids);
        }
    }
    let iter = obj.try_iter().map_err(|_| {
        invalid(
            py,
            format!(
                "ids must be an id or an iterable of ids, got {}",
                type_name(obj)
            ),
        )
    })?;
    iter.map(|item| point_id(&item?)).collect()
}

/// Fast path for 1-D int64 / uint64 numpy arrays.
fn int_array_ids(arr: &Bound<'_, PyUntypedArray>) -> PyResult<Option<Vec<PointId>>> {
    use numpy::{PyArray1, PyArrayMethods, PyUntypedArrayMethods};
    if arr.ndim() != 1 {
        return Ok(None);
    }
    if let Ok(a) = arr.cast::<PyArray1<u64>>() {
        let ro = a.try_readonly()?;
        return Ok(Some(
            ro.as_array().iter().map(|&n| PointId::Num(n)).collect(),
        ));
    }
    if let Ok(a) = arr.cast::<PyArray1<i64>>() {
        let ro = a.try_readonly()?;
        let ids = ro
            .as_array()
            .iter()
            .map(|&n| {
                u64::try_from(n).map(PointId::Num).map_err(|_| {
                    invalid(
                        arr.py(),
                        format!("point id {n} is out of range: integer ids are 0 ≤ id < 2**64"),
                    )
                })
            })
            .collect::<PyResult<_>>()?;
        return Ok(Some(ids));
    }
    Ok(None)
}

/// A point id as Python returns it: `int`, or `str` for UUID and string ids.
pub(crate) fn id_to_py<'py>(py: Python<'py>, id: &PointId) -> PyResult<Bound<'py, PyAny>> {
    Ok(match id {
        PointId::Num(n) => n.into_pyobject(py)?.into_any(),
        PointId::Uuid(_) => PyString::new(py, &id.to_string()).into_any(),
        PointId::Str(s) => PyString::new(py, s).into_any(),
    })
}

/// A Python value as JSON; `what` names it in errors ("payload", "filter").
pub(crate) fn to_json(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    to_json_at(obj, what, 0)
}

fn to_json_at(obj: &Bound<'_, PyAny>, what: &str, depth: usize) -> PyResult<Value> {
    let py = obj.py();
    if depth > MAX_DEPTH {
        return Err(invalid(
            py,
            format!("{what} nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(invalid(
            py,
            format!("{what}: the integer {obj} does not fit in 64 bits"),
        ));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v).map(Value::Number).ok_or_else(|| {
            invalid(
                py,
                format!("{what}: {v} is not a finite number, which JSON cannot hold"),
            )
        });
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        return Ok(Value::Object(dict_to_json(d, what, depth)?));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return obj
            .try_iter()?
            .map(|item| to_json_at(&item?, what, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if is_numpy_scalar(obj)? {
        return to_json_at(&obj.call_method0("item")?, what, depth + 1);
    }
    if obj.cast::<PyUntypedArray>().is_ok() {
        return to_json_at(&obj.call_method0("tolist")?, what, depth);
    }
    if obj.is_instance(DATE_TYPE.import(py, "datetime", "date")?)? {
        return Ok(Value::String(
            obj.call_method0("isoformat")?.str()?.to_cow()?.into_owned(),
        ));
    }
    Err(invalid(
        py,
        format!(
            "{what}: a value of type {} is not JSON (use dict, list, str, int, float, bool or None)",
            type_name(obj)
        ),
    ))
}

fn dict_to_json(d: &Bound<'_, PyDict>, what: &str, depth: usize) -> PyResult<Map<String, Value>> {
    let mut out = Map::new();
    for (k, v) in d.iter() {
        let key = k.cast::<PyString>().map_err(|_| {
            invalid(
                d.py(),
                format!("{what}: keys must be strings, got {}", type_name(&k)),
            )
        })?;
        out.insert(key.to_cow()?.into_owned(), to_json_at(&v, what, depth + 1)?);
    }
    Ok(out)
}

/// A payload: a `dict` (or `None` for an empty one).
pub(crate) fn payload(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Payload> {
    match obj {
        None => Ok(Payload::new()),
        Some(o) if o.is_none() => Ok(Payload::new()),
        Some(o) => match o.cast::<PyDict>() {
            Ok(d) => dict_to_json(d, what, 0),
            Err(_) => Err(invalid(
                o.py(),
                format!("{what} must be a dict, got {}", type_name(o)),
            )),
        },
    }
}

/// JSON as Python values (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`).
pub(crate) fn from_json<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let list = PyList::empty(py);
            for x in a {
                list.append(from_json(py, x)?)?;
            }
            list.into_any()
        }
        Value::Object(m) => payload_to_py(py, m)?.into_any(),
    })
}

/// A payload as a Python `dict`.
pub(crate) fn payload_to_py<'py>(py: Python<'py>, m: &Payload) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, x) in m {
        d.set_item(k, from_json(py, x)?)?;
    }
    Ok(d)
}
