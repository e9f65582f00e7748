//! Keyword arguments → engine values: metrics, index parameters, filters, selectors, and the
//! per-search index parameters.

use azimuth_engine::{
    Distance, Filter, HnswParams, JsonPath, PayloadSelector, PointSelector, SearchRequest,
    VectorSelector,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString};

use crate::convert::{point_ids, to_json};
use crate::errors::{engine, invalid};

/// A metric from its name: `cosine`, `dot` (also `ip`), `euclid` (also `euclidean`, `l2`),
/// `manhattan` (also `l1`); any case.
pub(crate) fn parse_metric(name: &str) -> Option<Distance> {
    Some(match name.to_ascii_lowercase().as_str() {
        "cosine" => Distance::Cosine,
        "dot" | "ip" => Distance::Dot,
        "euclid" | "euclidean" | "l2" => Distance::Euclid,
        "manhattan" | "l1" => Distance::Manhattan,
        _ => return None,
    })
}

pub(crate) fn metric(py: Python<'_>, name: &str) -> PyResult<Distance> {
    parse_metric(name).ok_or_else(|| {
        invalid(
            py,
            format!(
                "unknown metric {name:?}: use \"cosine\", \"dot\", \"euclid\" or \"manhattan\""
            ),
        )
    })
}

/// The canonical name of a metric.
pub(crate) fn metric_name(d: Distance) -> &'static str {
    match d {
        Distance::Cosine => "cosine",
        Distance::Dot => "dot",
        Distance::Euclid => "euclid",
        Distance::Manhattan => "manhattan",
    }
}

/// An integer argument that must be at least `min` (a `ValueError` otherwise, rather than
/// the `OverflowError` an unsigned conversion would give).
pub(crate) fn at_least(py: Python<'_>, name: &str, v: i64, min: i64) -> PyResult<usize> {
    if v < min {
        return Err(invalid(py, format!("{name} must be ≥ {min}, got {v}")));
    }
    usize::try_from(v).map_err(|_| invalid(py, format!("{name} is too large: {v}")))
}

/// HNSW parameters from `create_collection`'s index keywords; `None` keeps the default.
pub(crate) fn hnsw(
    py: Python<'_>,
    m: Option<i64>,
    ef_construct: Option<i64>,
    full_scan_threshold: Option<i64>,
) -> PyResult<HnswParams> {
    let mut p = HnswParams::default();
    if let Some(m) = m {
        p.m = at_least(py, "m", m, 2)?;
    }
    if let Some(ef) = ef_construct {
        p.ef_construct = at_least(py, "ef_construct", ef, 1)?;
    }
    if let Some(t) = full_scan_threshold {
        p.full_scan_threshold = at_least(py, "full_scan_threshold", t, 0)?;
    }
    Ok(p)
}

/// A filter in Qdrant's grammar, given as a dict (`None` = no filter).
pub(crate) fn filter(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Filter>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => {
            let json = to_json(o, "filter")?;
            if !json.is_object() {
                return Err(invalid(
                    o.py(),
                    "filter must be a dict in Qdrant's filter grammar, e.g. \
                     {\"must\": [{\"key\": \"lang\", \"match\": {\"value\": \"en\"}}]}",
                ));
            }
            Filter::from_json(&json)
                .map(Some)
                .map_err(|e| engine(o.py(), e))
        }
    }
}

/// The points a write applies to: exactly one of `ids` and `filter`.
pub(crate) fn selector(
    py: Python<'_>,
    ids: Option<&Bound<'_, PyAny>>,
    filter_obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<PointSelector> {
    let ids = ids.filter(|o| !o.is_none());
    let filter_obj = filter_obj.filter(|o| !o.is_none());
    match (ids, filter_obj) {
        (Some(i), None) => Ok(PointSelector::Ids(point_ids(i)?)),
        (None, Some(f)) => Ok(PointSelector::Filter(filter(Some(f))?.unwrap_or_default())),
        (Some(_), Some(_)) => Err(invalid(py, "give either ids or filter, not both")),
        (None, None) => Err(invalid(py, "select points with ids=[...] or filter={...}")),
    }
}

/// `with_payload`: `True` (all), `False` (none), or a list of key paths to include.
pub(crate) fn payload_selector(obj: &Bound<'_, PyAny>) -> PyResult<PayloadSelector> {
    let py = obj.py();
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(if b.is_true() {
            PayloadSelector::All
        } else {
            PayloadSelector::None
        });
    }
    if obj.is_instance_of::<PyString>() {
        return Err(invalid(
            py,
            "with_payload must be True, False or a list of keys",
        ));
    }
    let keys = obj
        .try_iter()
        .map_err(|_| invalid(py, "with_payload must be True, False or a list of keys"))?;
    let mut paths = Vec::new();
    for k in keys {
        let k = k?;
        let s = k
            .cast::<PyString>()
            .map_err(|_| invalid(py, "with_payload keys must be strings"))?;
        paths.push(JsonPath::parse(&s.to_cow()?).map_err(|e| engine(py, e))?);
    }
    Ok(PayloadSelector::Include(paths))
}

pub(crate) fn vector_selector(with_vectors: bool) -> VectorSelector {
    if with_vectors {
        VectorSelector::All
    } else {
        VectorSelector::None
    }
}

/// Checks `ef`, the beam width of an HNSW search (≥ 1).
pub(crate) fn check_ef(py: Python<'_>, ef: Option<i64>) -> PyResult<Option<usize>> {
    ef.map(|ef| at_least(py, "ef", ef, 1)).transpose()
}

/// Hands the per-search index parameters to a request: `ef` is the graph walk's beam width
/// (default: the collection's `ef_construct`), `exact` skips the graphs.
pub(crate) fn apply_search_params(req: &mut SearchRequest, ef: Option<usize>, exact: bool) {
    req.params.hnsw_ef = ef;
    req.params.exact = exact;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_and_aliases() {
        for d in [
            Distance::Cosine,
            Distance::Dot,
            Distance::Euclid,
            Distance::Manhattan,
        ] {
            assert_eq!(parse_metric(metric_name(d)), Some(d));
            assert_eq!(parse_metric(&metric_name(d).to_uppercase()), Some(d));
        }
        assert_eq!(parse_metric("L2"), Some(Distance::Euclid));
        assert_eq!(parse_metric("ip"), Some(Distance::Dot));
        assert_eq!(parse_metric("l1"), Some(Distance::Manhattan));
        assert_eq!(parse_metric("hamming"), None);
        assert_eq!(parse_metric(""), None);
    }
}
