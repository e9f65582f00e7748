//! `Collection`: points in, searches and reads out.
//!
//! Every method converts its arguments while attached to the interpreter, runs the engine
//! call detached (other Python threads run meanwhile; searches from several threads run in
//! parallel), then converts the results back.

use std::sync::Arc;

use azimuth_engine::{
    Filter, JsonPath, NamedVectors, OrderBy, PayloadSelector, PointStruct, QueryVector,
    ScrollRequest, SearchRequest, Vector, VectorSelector, DEFAULT_VECTOR,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::convert::{id_to_py, is_single_id, payload, point_id, point_ids, to_json};
use crate::database::Shared;
use crate::errors::{invalid, to_py};
use crate::params::{
    apply_search_params, at_least, check_ef, filter, metric_name, payload_selector, selector,
    vector_selector,
};
use crate::results::{hit, numpy_hits, record, Hit, Record};
use crate::vectors::rows;

/// A named set of points, each with a vector, an id and a JSON payload. Get one from
/// `Database.create_collection` / `get_collection`.
#[pyclass(module = "azimuth", frozen)]
pub(crate) struct Collection {
    shared: Arc<Shared>,
    inner: Arc<azimuth_engine::Collection>,
}

/// What a search asks for besides its query vectors.
struct SearchArgs {
    k: usize,
    filter: Option<Filter>,
    ef: Option<usize>,
    exact: bool,
    score_threshold: Option<f32>,
    offset: usize,
    with_payload: PayloadSelector,
    with_vectors: VectorSelector,
    using: String,
}

impl SearchArgs {
    fn request(&self, query: Vec<f32>) -> SearchRequest {
        let mut req = SearchRequest {
            query: QueryVector::Dense(query),
            using: self.using.clone(),
            filter: self.filter.clone(),
            limit: self.k,
            offset: self.offset,
            score_threshold: self.score_threshold,
            with_payload: self.with_payload.clone(),
            with_vectors: self.with_vectors.clone(),
            params: Default::default(),
        };
        apply_search_params(&mut req, self.ef, self.exact);
        req
    }
}

impl Collection {
    pub(crate) fn new(shared: Arc<Shared>, inner: Arc<azimuth_engine::Collection>) -> Self {
        Collection { shared, inner }
    }

    /// Runs an engine call detached from the interpreter, with the database held open.
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&azimuth_engine::Collection) -> azimuth_engine::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| self.shared.with(|_| f(&self.inner)))
            .map_err(to_py(py))
    }

    fn single_unnamed(&self) -> bool {
        self.inner.config().single_unnamed
    }

    /// Query vectors plus the search arguments, or a `ValueError`.
    #[allow(clippy::too_many_arguments)]
    fn search_args(
        &self,
        py: Python<'_>,
        k: i64,
        filter_obj: Option<&Bound<'_, PyAny>>,
        ef: Option<i64>,
        exact: bool,
        score_threshold: Option<f32>,
        offset: i64,
        with_payload: &Bound<'_, PyAny>,
        with_vectors: bool,
        using: Option<String>,
    ) -> PyResult<SearchArgs> {
        Ok(SearchArgs {
            k: at_least(py, "k", k, 1)?,
            filter: filter(filter_obj)?,
            ef: check_ef(py, ef)?,
            exact,
            score_threshold,
            offset: at_least(py, "offset", offset, 0)?,
            with_payload: payload_selector(with_payload)?,
            with_vectors: vector_selector(with_vectors),
            using: using.unwrap_or_default(),
        })
    }

    /// Vectors per point, from one array (the unnamed vector) or a dict of name → array.
    fn point_vectors(&self, vectors: &Bound<'_, PyAny>, n: usize) -> PyResult<Vec<NamedVectors>> {
        let py = vectors.py();
        let mut out = vec![NamedVectors::new(); n];
        let named: Vec<(String, Bound<'_, PyAny>)> = match vectors.cast::<PyDict>() {
            Ok(d) => d
                .iter()
                .map(|(k, v)| Ok((k.extract::<String>()?, v)))
                .collect::<PyResult<_>>()?,
            Err(_) => vec![(DEFAULT_VECTOR.to_string(), vectors.clone())],
        };
        for (name, v) in named {
            let what = if name.is_empty() {
                "vectors".to_string()
            } else {
                format!("vectors[{name:?}]")
            };
            let mut r = rows(&v, &what)?;
            if n == 0 && r.single && r.rows.iter().all(Vec::is_empty) {
                r.rows.clear(); // `[]`: no vectors for no ids
            }
            if r.rows.len() != n {
                return Err(invalid(
                    py,
                    format!("got {n} ids but {} rows in {what}", r.rows.len()),
                ));
            }
            for (point, row) in out.iter_mut().zip(r.rows) {
                point.insert(name.clone(), Vector::Dense(row));
            }
        }
        Ok(out)
    }
}

fn payloads(obj: Option<&Bound<'_, PyAny>>, n: usize) -> PyResult<Vec<azimuth_engine::Payload>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(vec![azimuth_engine::Payload::new(); n]);
    };
    let py = obj.py();
    if obj.is_instance_of::<PyDict>() {
        if n == 1 {
            return Ok(vec![payload(Some(obj), "payload")?]);
        }
        return Err(invalid(
            py,
            "payloads must be a list with one dict (or None) per id",
        ));
    }
    let items: Vec<Bound<'_, PyAny>> = obj
        .try_iter()
        .map_err(|_| invalid(py, "payloads must be a list with one dict (or None) per id"))?
        .collect::<PyResult<_>>()?;
    if items.len() != n {
        return Err(invalid(
            py,
            format!("got {n} ids but {} payloads", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, p)| payload(Some(p), &format!("payloads[{i}]")))
        .collect()
}

fn order_by(obj: &Bound<'_, PyAny>) -> PyResult<OrderBy> {
    let py = obj.py();
    let parse_key = |k: &str| JsonPath::parse(k).map_err(|e| crate::errors::engine(py, e));
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(OrderBy {
            key: parse_key(&s.to_cow()?)?,
            descending: false,
            start_from: None,
        });
    }
    let d = obj.cast::<PyDict>().map_err(|_| {
        invalid(
            py,
            "order_by must be a key or {\"key\": ..., \"direction\": \"asc\"|\"desc\", \"start_from\": ...}",
        )
    })?;
    let mut key = None;
    let mut descending = false;
    let mut start_from = None;
    for (k, v) in d.iter() {
        match k.extract::<String>()?.as_str() {
            "key" => key = Some(parse_key(&v.extract::<String>()?)?),
            "direction" => {
                descending = match v.extract::<String>()?.as_str() {
                    "asc" => false,
                    "desc" => true,
                    other => {
                        return Err(invalid(
                            py,
                            format!(
                                "order_by direction must be \"asc\" or \"desc\", got {other:?}"
                            ),
                        ))
                    }
                }
            }
            "start_from" => start_from = Some(v.extract::<f64>()?),
            other => {
                return Err(invalid(
                    py,
                    format!("unknown order_by field {other:?}: use key, direction, start_from"),
                ))
            }
        }
    }
    let key = key.ok_or_else(|| invalid(py, "order_by needs a \"key\""))?;
    Ok(OrderBy {
        key,
        descending,
        start_from,
    })
}

#[pymethods]
impl Collection {
    /// The collection's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The dimension of the (unnamed) vector, or `None` for a collection of named vectors.
    #[getter]
    fn dim(&self) -> Option<usize> {
        self.inner
            .config()
            .vectors
            .get(DEFAULT_VECTOR)
            .map(|v| v.size)
    }

    /// "cosine", "dot", "euclid" or "manhattan" (of the unnamed vector).
    #[getter]
    fn metric(&self) -> Option<&'static str> {
        self.inner
            .config()
            .vectors
            .get(DEFAULT_VECTOR)
            .map(|v| metric_name(v.distance))
    }

    /// Inserts or replaces points. `ids`: ints, UUIDs or strings (one id, or one per row).
    /// `vectors`: a 2-D array with one row per id (numpy float32 is read in place; float16,
    /// float64, integer arrays and nested lists are converted), or a 1-D vector for one id.
    /// `payloads`: one dict (or None) per id. With `wait=True` (the default) the write is
    /// durable when this returns.
    #[pyo3(signature = (ids, vectors, payloads = None, *, wait = true))]
    fn upsert(
        &self,
        py: Python<'_>,
        ids: &Bound<'_, PyAny>,
        vectors: &Bound<'_, PyAny>,
        payloads: Option<&Bound<'_, PyAny>>,
        wait: bool,
    ) -> PyResult<()> {
        let ids = point_ids(ids)?;
        let n = ids.len();
        let vectors = self.point_vectors(vectors, n)?;
        let payloads = self::payloads(payloads, n)?;
        if n == 0 {
            return Ok(());
        }
        let points: Vec<PointStruct> = ids
            .into_iter()
            .zip(vectors)
            .zip(payloads)
            .map(|((id, vectors), payload)| PointStruct {
                id,
                vectors,
                payload,
            })
            .collect();
        self.run(py, |c| c.upsert(points, wait)).map(|_| ())
    }

    /// Nearest points to `query`: a 1-D vector gives a list of `Hit`, a 2-D array (one
    /// query per row) a list of lists. `filter` is a dict in Qdrant's filter grammar.
    /// `ef` (≥ 1) widens the HNSW beam and `exact=True` bypasses the index (segments too
    /// small to index are always scanned exactly). `score_threshold` keeps only hits
    /// better than it; `offset` skips the best ones (paging).
    #[pyo3(signature = (query, k = 10, filter = None, *, ef = None, exact = false, score_threshold = None, offset = 0, with_payload = None, with_vectors = false, using = None))]
    #[allow(clippy::too_many_arguments)]
    fn search<'py>(
        &self,
        py: Python<'py>,
        query: &Bound<'py, PyAny>,
        k: i64,
        filter: Option<&Bound<'py, PyAny>>,
        ef: Option<i64>,
        exact: bool,
        score_threshold: Option<f32>,
        offset: i64,
        with_payload: Option<&Bound<'py, PyAny>>,
        with_vectors: bool,
        using: Option<String>,
    ) -> PyResult<Bound<'py, PyList>> {
        let rows = rows(query, "query")?;
        let true_ = pyo3::types::PyBool::new(py, true).to_owned().into_any();
        let args = self.search_args(
            py,
            k,
            filter,
            ef,
            exact,
            score_threshold,
            offset,
            with_payload.unwrap_or(&true_),
            with_vectors,
            using,
        )?;
        let reqs: Vec<SearchRequest> = rows.rows.into_iter().map(|q| args.request(q)).collect();
        let results = self.run(py, |c| c.search_batch(&reqs))?;
        let single_unnamed = self.single_unnamed();
        let lists = results
            .iter()
            .map(|hits| {
                let hits = hits
                    .iter()
                    .map(|p| hit(py, p, single_unnamed))
                    .collect::<PyResult<Vec<Hit>>>()?;
                PyList::new(py, hits)
            })
            .collect::<PyResult<Vec<_>>>()?;
        if rows.single {
            return Ok(lists
                .into_iter()
                .next()
                .unwrap_or_else(|| PyList::empty(py)));
        }
        PyList::new(py, lists)
    }

    /// Batch search returning numpy arrays `(ids, scores)` of shape `(n, k)` (or `(k,)` for
    /// one query), best first, without building `Hit` objects. Rows with fewer than `k` hits
    /// are padded with id -1 and score NaN. `ids` is int64 when every returned id is an
    /// integer below 2**63; otherwise an object array of int/str padded with None.
    #[pyo3(signature = (queries, k = 10, filter = None, *, ef = None, exact = false, using = None))]
    #[allow(clippy::too_many_arguments)]
    fn search_numpy<'py>(
        &self,
        py: Python<'py>,
        queries: &Bound<'py, PyAny>,
        k: i64,
        filter: Option<&Bound<'py, PyAny>>,
        ef: Option<i64>,
        exact: bool,
        using: Option<String>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let rows = rows(queries, "queries")?;
        let no_payload = pyo3::types::PyBool::new(py, false).to_owned().into_any();
        let args =
            self.search_args(py, k, filter, ef, exact, None, 0, &no_payload, false, using)?;
        let reqs: Vec<SearchRequest> = rows.rows.into_iter().map(|q| args.request(q)).collect();
        let results = self.run(py, |c| c.search_batch(&reqs))?;
        let (ids, scores) = numpy_hits(py, &results, args.k, rows.single)?;
        PyTuple::new(py, [ids, scores])
    }

    /// Points by id, in the order asked; missing ids are left out. One id (not in a list)
    /// gives a `Record` or `None`.
    #[pyo3(signature = (ids, *, with_payload = None, with_vectors = false))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        ids: &Bound<'py, PyAny>,
        with_payload: Option<&Bound<'py, PyAny>>,
        with_vectors: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let single = is_single_id(ids)?;
        let ids = point_ids(ids)?;
        let with_payload = match with_payload {
            Some(w) => payload_selector(w)?,
            None => PayloadSelector::All,
        };
        let with_vectors = vector_selector(with_vectors);
        let found = self.run(py, |c| c.get(&ids, &with_payload, &with_vectors))?;
        let single_unnamed = self.single_unnamed();
        if single {
            return match found.first() {
                Some(r) => Ok(Bound::new(py, record(py, r, single_unnamed)?)?.into_any()),
                None => Ok(py.None().into_bound(py)),
            };
        }
        let records = found
            .iter()
            .map(|r| record(py, r, single_unnamed))
            .collect::<PyResult<Vec<Record>>>()?;
        Ok(PyList::new(py, records)?.into_any())
    }

    /// Deletes points by `ids` or by `filter` (exactly one). Unknown ids are ignored.
    #[pyo3(signature = (ids = None, filter = None, *, wait = true))]
    fn delete(
        &self,
        py: Python<'_>,
        ids: Option<&Bound<'_, PyAny>>,
        filter: Option<&Bound<'_, PyAny>>,
        wait: bool,
    ) -> PyResult<()> {
        let sel = selector(py, ids, filter)?;
        self.run(py, |c| c.delete(&sel, wait)).map(|_| ())
    }

    /// One page of points in id order (or ordered by a payload field with `order_by`: a key,
    /// or `{"key", "direction": "asc"|"desc", "start_from"}`; needs an integer, float or
    /// datetime payload index). Returns `(records, next_offset)`; pass `next_offset` as
    /// `offset` for the next page; it is `None` after the last page.
    #[pyo3(signature = (filter = None, limit = 10, offset = None, *, with_payload = None, with_vectors = false, order_by = None))]
    #[allow(clippy::too_many_arguments)]
    fn scroll<'py>(
        &self,
        py: Python<'py>,
        filter: Option<&Bound<'py, PyAny>>,
        limit: i64,
        offset: Option<&Bound<'py, PyAny>>,
        with_payload: Option<&Bound<'py, PyAny>>,
        with_vectors: bool,
        order_by: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let req = ScrollRequest {
            offset: offset.filter(|o| !o.is_none()).map(point_id).transpose()?,
            limit: at_least(py, "limit", limit, 1)?,
            filter: self::filter(filter)?,
            with_payload: match with_payload {
                Some(w) => payload_selector(w)?,
                None => PayloadSelector::All,
            },
            with_vectors: vector_selector(with_vectors),
            order_by: order_by
                .filter(|o| !o.is_none())
                .map(self::order_by)
                .transpose()?,
        };
        let page = self.run(py, |c| c.scroll(&req))?;
        let single_unnamed = self.single_unnamed();
        let records = page
            .points
            .iter()
            .map(|r| record(py, r, single_unnamed))
            .collect::<PyResult<Vec<Record>>>()?;
        let next = match &page.next_page_offset {
            Some(id) => id_to_py(py, id)?,
            None => py.None().into_bound(py),
        };
        PyTuple::new(py, [PyList::new(py, records)?.into_any(), next])
    }

    /// Number of points matching `filter` (all points without one). Exact.
    #[pyo3(signature = (filter = None))]
    fn count(&self, py: Python<'_>, filter: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
        let f = self::filter(filter)?;
        self.run(py, |c| c.count(f.as_ref()))
    }

    /// Merges `payload` into the payloads of the points selected by `ids` or `filter`
    /// (exactly one); with `key`, merges it into the object at that key path. Raises
    /// `NotFound` naming a listed id that does not exist (the others are still updated).
    #[pyo3(signature = (payload, ids = None, filter = None, *, key = None, wait = true))]
    fn set_payload(
        &self,
        py: Python<'_>,
        payload: &Bound<'_, PyAny>,
        ids: Option<&Bound<'_, PyAny>>,
        filter: Option<&Bound<'_, PyAny>>,
        key: Option<String>,
        wait: bool,
    ) -> PyResult<()> {
        let p = self::payload(Some(payload), "payload")?;
        let sel = selector(py, ids, filter)?;
        self.run(py, |c| c.set_payload(&sel, p, key.as_deref(), wait))
            .map(|_| ())
    }

    /// Replaces the payloads of the selected points with `payload`.
    #[pyo3(signature = (payload, ids = None, filter = None, *, wait = true))]
    fn overwrite_payload(
        &self,
        py: Python<'_>,
        payload: &Bound<'_, PyAny>,
        ids: Option<&Bound<'_, PyAny>>,
        filter: Option<&Bound<'_, PyAny>>,
        wait: bool,
    ) -> PyResult<()> {
        let p = self::payload(Some(payload), "payload")?;
        let sel = selector(py, ids, filter)?;
        self.run(py, |c| c.overwrite_payload(&sel, p, wait))
            .map(|_| ())
    }

    /// Removes `keys` (key paths such as "a.b") from the selected points' payloads.
    #[pyo3(signature = (keys, ids = None, filter = None, *, wait = true))]
    fn delete_payload(
        &self,
        py: Python<'_>,
        keys: Vec<String>,
        ids: Option<&Bound<'_, PyAny>>,
        filter: Option<&Bound<'_, PyAny>>,
        wait: bool,
    ) -> PyResult<()> {
        let sel = selector(py, ids, filter)?;
        self.run(py, |c| c.delete_payload(&sel, &keys, wait))
            .map(|_| ())
    }

    /// Empties the selected points' payloads.
    #[pyo3(signature = (ids = None, filter = None, *, wait = true))]
    fn clear_payload(
        &self,
        py: Python<'_>,
        ids: Option<&Bound<'_, PyAny>>,
        filter: Option<&Bound<'_, PyAny>>,
        wait: bool,
    ) -> PyResult<()> {
        let sel = selector(py, ids, filter)?;
        self.run(py, |c| c.clear_payload(&sel, wait)).map(|_| ())
    }

    /// Indexes a payload field so filters on it are fast. `type`: "keyword", "integer",
    /// "float", "bool", "datetime", "uuid", "geo" or "text" (or Qdrant's object form,
    /// `{"type": "text", ...}`). Indexes never change results, only speed.
    #[pyo3(signature = (field, r#type = None, *, wait = true))]
    fn create_payload_index(
        &self,
        py: Python<'_>,
        field: &str,
        r#type: Option<&Bound<'_, PyAny>>,
        wait: bool,
    ) -> PyResult<()> {
        let spec = match r#type {
            None => serde_json::Value::from("keyword"),
            Some(t) => to_json(t, "type")?,
        };
        self.run(py, |c| c.create_payload_index_spec(field, &spec, wait))
            .map(|_| ())
    }

    /// Drops a payload index (a no-op when there is none).
    #[pyo3(signature = (field, *, wait = true))]
    fn drop_payload_index(&self, py: Python<'_>, field: &str, wait: bool) -> PyResult<()> {
        self.run(py, |c| c.delete_payload_index(field, wait))
            .map(|_| ())
    }

    /// A summary: name, dim, metric, points, segments, payload indexes (field → type).
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let info = self.run(py, |c| Ok(c.info()))?;
        let d = PyDict::new(py);
        d.set_item("name", &info.name)?;
        d.set_item("dim", self.dim())?;
        d.set_item("metric", self.metric())?;
        d.set_item("points_count", info.points_count)?;
        d.set_item("segments_count", info.segments_count)?;
        let schema = PyDict::new(py);
        for idx in &info.payload_schema {
            schema.set_item(idx.key.to_string(), idx.schema.name())?;
        }
        d.set_item("payload_schema", schema)?;
        let ix = &info.indexing;
        d.set_item("indexed_vectors", ix.indexed_vectors)?;
        d.set_item("indexing_pending", ix.pending)?;
        let calibration = PyDict::new(py);
        for (name, table) in &ix.calibration {
            calibration.set_item(name, table.clone())?;
        }
        d.set_item("recall_calibration", calibration)?;
        let quantization = match &info.config.quantization {
            Some(azimuth_engine::Quantization::Scalar { .. }) => Some("int8"),
            Some(azimuth_engine::Quantization::Binary { .. }) => Some("binary"),
            Some(azimuth_engine::Quantization::Product { .. }) => Some("product"),
            None => None,
        };
        d.set_item("quantization", quantization)?;
        let dtype = info.config.vectors.get(azimuth_engine::DEFAULT_VECTOR);
        d.set_item("dtype", dtype.map(|v| v.datatype.name()))?;
        d.set_item("vector_bytes_in_memory", info.dense_bytes.in_memory)?;
        d.set_item("vector_bytes_mapped", info.dense_bytes.mapped)?;
        d.set_item("index_bytes_in_memory", info.indexing.index_bytes)?;
        d.set_item("index_bytes_mapped", info.indexing.index_bytes_mapped)?;
        Ok(d)
    }

    /// Builds the ANN index now (seals recent writes, merges, builds graphs) instead of
    /// waiting for the background indexer, which starts once writes pause for a second.
    fn build_index(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |c| c.build_indexes())
    }

    /// Seals recent writes into a segment file (writes are durable without it).
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |c| c.flush())
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.run(py, |c| Ok(c.len()))
    }

    fn __contains__(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<bool> {
        let id = point_id(id)?;
        let found = self.run(py, |c| {
            c.get(
                std::slice::from_ref(&id),
                &PayloadSelector::None,
                &VectorSelector::None,
            )
        })?;
        Ok(!found.is_empty())
    }

    fn __repr__(&self) -> String {
        match (self.dim(), self.metric()) {
            (Some(dim), Some(metric)) => format!(
                "Collection({:?}, dim={dim}, metric={metric:?})",
                self.inner.name()
            ),
            _ => format!("Collection({:?})", self.inner.name()),
        }
    }
}
