//! Vectors in: numpy arrays (float32, float16, float64, integers) or nested lists, as one
//! vector (1-D) or one vector per row (2-D).
//!
//! float32, float16 and float64 arrays are read where they are — through numpy's buffer,
//! without an intermediate array — straight into the per-point `Vec<f32>` the engine takes;
//! a C-contiguous float32 row is one `memcpy`. Other numeric dtypes go through
//! `astype(float32)`, lists through `numpy.asarray`.

use half::f16;
use numpy::prelude::*;
use numpy::{dtype, Element, PyArrayDyn, PyUntypedArray};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::errors::invalid;

static ASARRAY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Vectors read from Python.
pub(crate) struct Rows {
    pub rows: Vec<Vec<f32>>,
    /// The input was a single vector (1-D), not a batch.
    pub single: bool,
}

/// Reads one vector or a batch; `what` names the argument in errors.
pub(crate) fn rows(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Rows> {
    let py = obj.py();
    let arr = match obj.cast::<PyUntypedArray>() {
        Ok(a) => a.clone(),
        Err(_) => {
            let asarray = ASARRAY.get_or_try_init(py, || {
                py.import("numpy")?.getattr("asarray").map(Bound::unbind)
            })?;
            let converted = asarray.bind(py).call1((obj,)).map_err(|e| {
                invalid(
                    py,
                    format!("{what} must be a vector or a 2-D array of vectors: {e}"),
                )
            })?;
            converted.cast_into::<PyUntypedArray>().map_err(|_| {
                invalid(
                    py,
                    format!("{what} must be a vector or a 2-D array of vectors"),
                )
            })?
        }
    };
    let ndim = arr.ndim();
    if ndim != 1 && ndim != 2 {
        return Err(invalid(
            py,
            format!("{what} must be 1-D (one vector) or 2-D (one vector per row), got {ndim}-D"),
        ));
    }
    let dt = arr.dtype();
    if dt.is_equiv_to(&dtype::<f32>(py)) {
        read::<f32>(&arr, |x| x)
    } else if dt.is_equiv_to(&dtype::<f16>(py)) {
        read::<f16>(&arr, f16::to_f32)
    } else if dt.is_equiv_to(&dtype::<f64>(py)) {
        read::<f64>(&arr, |x| x as f32)
    } else if matches!(dt.kind(), b'i' | b'u' | b'f') {
        // Other integer or float widths, or non-native byte order.
        let f32_arr = arr.call_method1("astype", (dtype::<f32>(py),))?;
        read::<f32>(f32_arr.cast::<PyUntypedArray>()?, |x| x)
    } else {
        Err(invalid(
            py,
            format!("{what} must hold numbers, got an array of dtype {dt}"),
        ))
    }
}

fn read<T: Element + Copy>(
    arr: &Bound<'_, PyUntypedArray>,
    f: impl Fn(T) -> f32,
) -> PyResult<Rows> {
    let typed = arr.cast::<PyArrayDyn<T>>()?;
    let ro = typed.try_readonly()?;
    let view = ro.as_array();
    let row = |r: numpy::ndarray::ArrayViewD<'_, T>| -> Vec<f32> {
        match r.as_slice() {
            Some(s) => s.iter().map(|&x| f(x)).collect(),
            None => r.iter().map(|&x| f(x)).collect(),
        }
    };
    Ok(if view.ndim() == 1 {
        Rows {
            rows: vec![row(view)],
            single: true,
        }
    } else {
        Rows {
            rows: view.outer_iter().map(row).collect(),
            single: false,
        }
    })
}
