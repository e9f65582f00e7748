//! Record reads and deletes: `get` (insertion order, then limit/offset), `query` (nearest
//! neighbours among the records the filters allow, distances as Chroma defines them),
//! `delete` and `count`.

use std::collections::{BTreeSet, HashSet};

use azimuth_engine::filter::{Condition, FieldCondition, Match, ScalarValue};
use azimuth_engine::{
    Collection, Distance, Filter, JsonPath, PayloadSelector, PointId, PointSelector, Record,
    ScoredPoint, ScrollRequest, SearchParams, SearchRequest, VectorSelector,
};
use serde_json::{json, Value};

use super::error::{ChromaError, ChromaResult};
use super::filter::{Cmp, MetaOp, Scalar, Where, DOCUMENT_KEY};
use super::records::{
    dimension_error, distance, embedding_of, id_string, metadata_of, resolve_ids, NORM_KEY,
    SEQ_KEY, URI_KEY,
};
use super::wire::{check_embeddings, embeddings, Include};

/// The records an `ids` list and a filter select, in insertion order (`#seq`, then id for
/// points written through the Qdrant API, which come last).
pub fn select(
    col: &Collection,
    ids: Option<&[String]>,
    filter: Option<&Where>,
) -> ChromaResult<Vec<PointId>> {
    let mut keys = BTreeSet::from([SEQ_KEY.to_string()]);
    if let Some(f) = filter {
        f.keys(&mut keys);
    }
    let sel = PayloadSelector::Include(keys.into_iter().map(JsonPath::key).collect());
    let records: Vec<Record> = match ids {
        Some(ids) => {
            let existing: Vec<PointId> = resolve_ids(col, ids)?
                .into_iter()
                .filter(|(_, e)| *e)
                .map(|(p, _)| p)
                .collect();
            col.get(&existing, &sel, &VectorSelector::None)?
        }
        None => {
            // An engine filter admitting a superset of the matches (string equality and
            // membership under $and / $or) lets payload indexes narrow the read; every
            // record read is still checked with Chroma's semantics below.
            col.scroll(&ScrollRequest {
                limit: usize::MAX,
                with_payload: sel,
                filter: filter.and_then(superset_filter),
                ..ScrollRequest::default()
            })?
            .points
        }
    };
    let mut keyed: Vec<(u64, PointId)> = records
        .into_iter()
        .filter(|r| filter.is_none_or(|f| r.payload.as_ref().is_some_and(|p| f.matches(p))))
        .map(|r| {
            let seq = r
                .payload
                .as_ref()
                .and_then(|p| p.get(SEQ_KEY))
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            (seq, r.id)
        })
        .collect();
    keyed.sort();
    Ok(keyed.into_iter().map(|(_, id)| id).collect())
}

fn wants(include: &[Include], i: Include) -> bool {
    include.contains(&i)
}

fn payload_selector(include: &[Include], space: Distance) -> PayloadSelector {
    if wants(include, Include::Metadatas) {
        return PayloadSelector::All;
    }
    let mut keys = Vec::new();
    if wants(include, Include::Documents) {
        keys.push(JsonPath::key(DOCUMENT_KEY));
    }
    if wants(include, Include::Uris) {
        keys.push(JsonPath::key(URI_KEY));
    }
    if wants(include, Include::Embeddings) && space == Distance::Cosine {
        keys.push(JsonPath::key(NORM_KEY));
    }
    if keys.is_empty() {
        PayloadSelector::None
    } else {
        PayloadSelector::Include(keys)
    }
}

fn vector_selector(include: &[Include]) -> VectorSelector {
    if wants(include, Include::Embeddings) {
        VectorSelector::All
    } else {
        VectorSelector::None
    }
}

/// Column-major result fields for a list of records; non-included fields are null.
struct Columns {
    ids: Vec<Value>,
    embeddings: Vec<Value>,
    documents: Vec<Value>,
    uris: Vec<Value>,
    metadatas: Vec<Value>,
}

impl Columns {
    fn new() -> Columns {
        Columns {
            ids: Vec::new(),
            embeddings: Vec::new(),
            documents: Vec::new(),
            uris: Vec::new(),
            metadatas: Vec::new(),
        }
    }

    fn push(
        &mut self,
        id: &PointId,
        payload: Option<&azimuth_engine::Payload>,
        vectors: Option<&azimuth_engine::NamedVectors>,
    ) {
        self.ids.push(Value::String(id_string(id)));
        let text = |k: &str| {
            payload
                .and_then(|p| p.get(k))
                .filter(|v| v.is_string())
                .cloned()
                .unwrap_or(Value::Null)
        };
        self.documents.push(text(DOCUMENT_KEY));
        self.uris.push(text(URI_KEY));
        self.metadatas
            .push(payload.and_then(metadata_of).unwrap_or(Value::Null));
        self.embeddings
            .push(embedding_of(payload, vectors).map_or(Value::Null, |v| json!(v)));
    }

    fn field(&self, include: &[Include], i: Include) -> Value {
        let col = match i {
            Include::Embeddings => &self.embeddings,
            Include::Documents => &self.documents,
            Include::Uris => &self.uris,
            Include::Metadatas => &self.metadatas,
            Include::Distances => return Value::Null,
        };
        if wants(include, i) {
            Value::Array(col.clone())
        } else {
            Value::Null
        }
    }
}

fn include_json(include: &[Include]) -> Value {
    Value::Array(include.iter().map(|i| json!(i.name())).collect())
}

/// `get`: ids ∧ where ∧ where_document, insertion order, then offset and limit.
pub fn get(
    col: Option<&Collection>,
    ids: Option<&[String]>,
    filter: Option<&Where>,
    offset: u64,
    limit: Option<u64>,
    include: &[Include],
) -> ChromaResult<Value> {
    let mut out = Columns::new();
    if let Some(col) = col {
        let space = distance(col).unwrap_or(Distance::Euclid);
        let selected = select(col, ids, filter)?;
        let page: Vec<PointId> = selected
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX)))
            .collect();
        let records = col.get(
            &page,
            &payload_selector(include, space),
            &vector_selector(include),
        )?;
        for r in &records {
            out.push(&r.id, r.payload.as_ref(), r.vectors.as_ref());
        }
    }
    Ok(json!({
        "ids": out.ids,
        "embeddings": out.field(include, Include::Embeddings),
        "documents": out.field(include, Include::Documents),
        "uris": out.field(include, Include::Uris),
        "metadatas": out.field(include, Include::Metadatas),
        "include": include_json(include),
    }))
}

/// A Chroma distance from an engine score: squared L2, `1 − dot`, `1 − cosine`.
fn chroma_distance(space: Distance, score: f32) -> f32 {
    match space {
        Distance::Euclid => (f64::from(score) * f64::from(score)) as f32,
        Distance::Dot | Distance::Cosine => 1.0 - score,
        Distance::Manhattan => score,
    }
}

/// `query`: per query embedding, the `n_results` nearest allowed records.
pub fn query(
    col: Option<&Collection>,
    query_embeddings: &Value,
    n_results: u64,
    ids: Option<&[String]>,
    filter: Option<&Where>,
    include: &[Include],
    ef: Option<usize>,
) -> ChromaResult<Value> {
    let params = SearchParams {
        hnsw_ef: ef,
        ..SearchParams::default()
    };
    let queries: Vec<Vec<f32>> = embeddings(query_embeddings, false)?
        .into_iter()
        .flatten()
        .collect();
    check_embeddings(&queries.iter().cloned().map(Some).collect::<Vec<_>>())?;
    let mut results: Vec<Vec<ScoredPoint>> = vec![Vec::new(); queries.len()];
    let mut space = Distance::Euclid;
    if let Some(col) = col {
        space = distance(col)?;
        let dim = col.config().vectors.get("").map_or(0, |p| p.size);
        if let Some(q) = queries.iter().find(|q| q.len() != dim) {
            return Err(dimension_error(dim, q.len()));
        }
        let fast = match (ids, filter) {
            (None, Some(f)) => verified_candidates(col, f, &queries, n_results, &params)?,
            _ => None,
        };
        let allowed: Option<HashSet<PointId>> = match fast {
            Some(set) => Some(set),
            None if ids.is_some() || filter.is_some() => {
                Some(select(col, ids, filter)?.into_iter().collect())
            }
            None => None,
        };
        let limit = usize::try_from(n_results)
            .unwrap_or(usize::MAX)
            .min(match &allowed {
                Some(a) => a.len(),
                None => col.len(),
            });
        if limit > 0 {
            let filter = allowed.map(|a| Filter {
                must: vec![Condition::HasId(a)],
                ..Filter::default()
            });
            let reqs: Vec<SearchRequest> = queries
                .iter()
                .map(|q| SearchRequest {
                    filter: filter.clone(),
                    with_payload: payload_selector(include, space),
                    with_vectors: vector_selector(include),
                    params: params.clone(),
                    ..SearchRequest::dense(q.clone(), limit)
                })
                .collect();
            results = col.search_batch(&reqs)?;
        }
    }
    let mut ids_out = Vec::new();
    let mut dist_out = Vec::new();
    let mut cols = Vec::new();
    for hits in &results {
        let mut c = Columns::new();
        let mut d = Vec::new();
        for h in hits {
            c.push(&h.id, h.payload.as_ref(), h.vectors.as_ref());
            d.push(json!(chroma_distance(space, h.score)));
        }
        ids_out.push(Value::Array(c.ids.clone()));
        dist_out.push(Value::Array(d));
        cols.push(c);
    }
    let field = |i: Include| {
        if wants(include, i) {
            Value::Array(cols.iter().map(|c| c.field(include, i)).collect())
        } else {
            Value::Null
        }
    };
    Ok(json!({
        "ids": ids_out,
        "embeddings": field(Include::Embeddings),
        "documents": field(Include::Documents),
        "uris": field(Include::Uris),
        "metadatas": field(Include::Metadatas),
        "distances": if wants(include, Include::Distances) { Value::Array(dist_out) } else { Value::Null },
        "include": include_json(include),
    }))
}

/// The engine filter that admits every record `w` admits (and maybe more), for the forms
/// whose Chroma semantics the engine's `match` covers: string `$eq` and `$in` (the engine
/// also admits arrays holding the string, hence "superset"), `$and` of anything (conjuncts
/// it cannot express are left out), `$or` of expressible forms. `None`: no restriction.
fn superset_filter(w: &Where) -> Option<Filter> {
    let condition = |w: &Where| -> Option<Condition> {
        match w {
            Where::Meta { key, op } if !key.starts_with('#') => {
                let m = match op {
                    MetaOp::Cmp(Cmp::Eq, Scalar::Str(s)) => {
                        Match::Value(ScalarValue::Keyword(s.clone()))
                    }
                    MetaOp::In(list) => Match::Any(
                        list.iter()
                            .map(|v| match v {
                                Scalar::Str(s) => Some(ScalarValue::Keyword(s.clone())),
                                _ => None,
                            })
                            .collect::<Option<Vec<_>>>()?,
                    ),
                    _ => return None,
                };
                let mut fc = FieldCondition::new(JsonPath::key(key));
                fc.r#match = Some(m);
                Some(Condition::Field(fc))
            }
            Where::And(_) | Where::Or(_) => superset_filter(w).map(Condition::Filter),
            Where::Meta { .. } | Where::Doc(_) => None,
        }
    };
    match w {
        Where::And(parts) => {
            let must: Vec<Condition> = parts.iter().filter_map(condition).collect();
            (!must.is_empty()).then(|| Filter {
                must,
                ..Filter::default()
            })
        }
        Where::Or(parts) => Some(Filter {
            should: parts.iter().map(condition).collect::<Option<Vec<_>>>()?,
            ..Filter::default()
        }),
        single @ Where::Meta { .. } => Some(Filter {
            must: vec![condition(single)?],
            ..Filter::default()
        }),
        Where::Doc(_) => None,
    }
}

/// The fast path of a filtered query: search with the engine filter that admits a superset
/// of `w`'s records (payload indexes, the filter cache and value graphs serve it), then check
/// every hit with `w` itself. When all hits pass, each query's best `n` allowed records are
/// among them, so the union is a valid (small) allowed set; when any fails (an array
/// holding the string, say), `None` sends the query down the exhaustive path.
fn verified_candidates(
    col: &Collection,
    w: &Where,
    queries: &[Vec<f32>],
    n: u64,
    params: &SearchParams,
) -> ChromaResult<Option<HashSet<PointId>>> {
    let Some(engine_filter) = superset_filter(w) else {
        return Ok(None);
    };
    let limit = usize::try_from(n).unwrap_or(usize::MAX).min(col.len());
    if limit == 0 {
        return Ok(None);
    }
    let mut keys = BTreeSet::new();
    w.keys(&mut keys);
    let sel = PayloadSelector::Include(keys.into_iter().map(JsonPath::key).collect());
    let reqs: Vec<SearchRequest> = queries
        .iter()
        .map(|q| SearchRequest {
            filter: Some(engine_filter.clone()),
            with_payload: sel.clone(),
            params: params.clone(),
            ..SearchRequest::dense(q.clone(), limit)
        })
        .collect();
    let mut out = HashSet::new();
    for hits in col.search_batch(&reqs)? {
        for h in hits {
            if !h.payload.as_ref().is_some_and(|p| w.matches(p)) {
                return Ok(None);
            }
            out.insert(h.id);
        }
    }
    Ok(Some(out))
}

/// `delete`: by ids, by filter (optionally the first `limit` matches), or both. Returns the
/// count the official server reports (the number of ids asked for, when only ids are given).
pub fn delete(
    col: Option<&Collection>,
    ids: Option<&[String]>,
    filter: Option<&Where>,
    limit: Option<u64>,
) -> ChromaResult<u64> {
    if filter.is_none() {
        if ids.is_some_and(|i| i.is_empty()) {
            return Err(ChromaError::invalid(
                "Validation error: ids, where: Either ids or where must be specified",
            ));
        }
        let Some(ids) = ids else {
            return Ok(0);
        };
        if let Some(col) = col {
            let existing: Vec<PointId> = resolve_ids(col, ids)?
                .into_iter()
                .filter(|(_, e)| *e)
                .map(|(p, _)| p)
                .collect();
            if !existing.is_empty() {
                col.delete(&PointSelector::Ids(existing), true)?;
            }
        }
        return Ok(ids.len() as u64);
    }
    let Some(col) = col else {
        return Ok(0);
    };
    let mut doomed = select(col, ids, filter)?;
    if let Some(l) = limit {
        doomed.truncate(usize::try_from(l).unwrap_or(usize::MAX));
    }
    let n = doomed.len() as u64;
    if n > 0 {
        col.delete(&PointSelector::Ids(doomed), true)?;
    }
    Ok(n)
}
