//! Search: the universal Query API (`/points/query`, `/points/query/batch`) and the legacy
//! `/points/search` routes, over the engine's exact search.

use axum::extract::{Path, State};
use azimuth_engine::filter::Condition;
use azimuth_engine::{
    Collection, Filter, NamedVectors, PayloadSelector, PointId, QueryVector, ScrollRequest,
    SearchRequest, Vector, VectorSelector,
};
use serde_json::{json, Map, Value};

use super::wire::*;
use crate::reply::{blocking, ApiError, ApiResult, Body, Reply};
use crate::AppState;

/// What a query asks for, before stored vectors are looked up.
enum Want {
    /// No query: points in id order with a constant score.
    All,
    Vector(Vector),
    /// Nearest to a stored point's vector (the point itself is excluded).
    Point(PointId),
    /// Recommend, `average_vector` strategy.
    Recommend {
        positive: Vec<Example>,
        negative: Vec<Example>,
    },
}

enum Example {
    Vector(Vector),
    Point(PointId),
}

struct Query {
    want: Want,
    using: String,
    filter: Option<Filter>,
    limit: usize,
    offset: usize,
    score_threshold: Option<f32>,
    with_payload: PayloadSelector,
    with_vectors: VectorSelector,
}

fn example(v: &Value) -> Result<Example, ApiError> {
    match v {
        Value::Number(_) | Value::String(_) => Ok(Example::Point(parse_id(v)?)),
        other => Ok(Example::Vector(parse_vector(other, "query")?)),
    }
}

fn examples(v: Option<&Value>) -> Result<Vec<Example>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a.iter().map(example).collect(),
        Some(other) => Err(ApiError::bad_request(format!(
            "recommend examples must be a list, got {}",
            kind(other)
        ))),
    }
}

fn unsupported(what: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{what} queries are not supported by this server yet"
    ))
}

fn parse_want(q: Option<&Value>) -> Result<Want, ApiError> {
    let Some(q) = q.filter(|x| !x.is_null()) else {
        return Ok(Want::All);
    };
    if let Value::Object(m) = q {
        if let Some(n) = m.get("nearest") {
            if m.get("mmr").is_some_and(|x| !x.is_null()) {
                return Err(unsupported("mmr"));
            }
            return Ok(match example(n)? {
                Example::Vector(v) => Want::Vector(v),
                Example::Point(id) => Want::Point(id),
            });
        }
        if let Some(r) = m.get("recommend") {
            let strategy = r
                .get("strategy")
                .and_then(Value::as_str)
                .unwrap_or("average_vector");
            if strategy != "average_vector" {
                return Err(unsupported(&format!("recommend strategy {strategy}")));
            }
            return Ok(Want::Recommend {
                positive: examples(r.get("positive"))?,
                negative: examples(r.get("negative"))?,
            });
        }
        for k in [
            "discover",
            "context",
            "order_by",
            "fusion",
            "rrf",
            "formula",
            "sample",
            "relevance_feedback",
            "text",
        ] {
            if m.contains_key(k) {
                return Err(unsupported(k));
            }
        }
    }
    Ok(match example(q)? {
        Example::Vector(v) => Want::Vector(v),
        Example::Point(id) => Want::Point(id),
    })
}

fn parse_query(body: &Value) -> Result<Query, ApiError> {
    let m = object(body, "query request")?;
    if m.get("prefetch").is_some_and(|x| !x.is_null()) {
        return Err(unsupported("prefetch"));
    }
    if m.get("lookup_from").is_some_and(|x| !x.is_null()) {
        return Err(unsupported("lookup_from"));
    }
    Ok(Query {
        want: parse_want(m.get("query"))?,
        using: m
            .get("using")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        filter: parse_filter(m.get("filter"))?,
        limit: usize_field(m, "limit", 10)?,
        offset: usize_field(m, "offset", 0)?,
        score_threshold: m
            .get("score_threshold")
            .and_then(Value::as_f64)
            .map(|t| t as f32),
        with_payload: payload_selector(m.get("with_payload"), false)?,
        with_vectors: vector_selector(m.get("with_vector").or_else(|| m.get("with_vectors")))?,
    })
}

/// A stored point's vector `using`, or a 400/404 saying what is missing.
fn stored_vector(c: &Collection, id: &PointId, using: &str) -> Result<Vector, ApiError> {
    let recs = c.get(
        std::slice::from_ref(id),
        &PayloadSelector::None,
        &VectorSelector::Names(vec![using.to_string()]),
    )?;
    let rec = recs
        .first()
        .ok_or_else(|| ApiError::not_found(format!("No point with id {id} found")))?;
    rec.vectors
        .as_ref()
        .and_then(|v: &NamedVectors| v.get(using).cloned())
        .ok_or_else(|| ApiError::bad_request(format!("point {id} has no vector {using:?}")))
}

fn resolve(
    c: &Collection,
    e: Example,
    using: &str,
    exclude: &mut Vec<PointId>,
) -> Result<Vec<f32>, ApiError> {
    let v = match e {
        Example::Vector(v) => v,
        Example::Point(id) => {
            let v = stored_vector(c, &id, using)?;
            exclude.push(id);
            v
        }
    };
    match v {
        Vector::Dense(d) => Ok(d),
        Vector::Sparse(_) => Err(ApiError::bad_request("recommend needs dense vectors")),
    }
}

fn mean(vs: &[Vec<f32>]) -> Vec<f32> {
    let dim = vs.first().map_or(0, Vec::len);
    let mut out = vec![0.0; dim];
    for v in vs {
        out.iter_mut().zip(v).for_each(|(o, x)| *o += x);
    }
    out.iter_mut().for_each(|o| *o /= vs.len().max(1) as f32);
    out
}

fn run_query(c: &Collection, q: Query) -> Result<Value, ApiError> {
    let mut exclude = Vec::new();
    let vector = match q.want {
        Want::All => return all_points(c, q),
        Want::Vector(v) => v,
        Want::Point(id) => {
            let v = stored_vector(c, &id, &q.using)?;
            exclude.push(id);
            v
        }
        Want::Recommend { positive, negative } => {
            if positive.is_empty() {
                return Err(ApiError::bad_request(
                    "recommend needs at least one positive example",
                ));
            }
            let pos = positive
                .into_iter()
                .map(|e| resolve(c, e, &q.using, &mut exclude))
                .collect::<Result<Vec<_>, _>>()?;
            let neg = negative
                .into_iter()
                .map(|e| resolve(c, e, &q.using, &mut exclude))
                .collect::<Result<Vec<_>, _>>()?;
            let p = mean(&pos);
            let target = if neg.is_empty() {
                p
            } else {
                let n = mean(&neg);
                p.iter().zip(&n).map(|(a, b)| a + (a - b)).collect()
            };
            Vector::Dense(target)
        }
    };
    let mut filter = q.filter.unwrap_or_default();
    if !exclude.is_empty() {
        filter
            .must_not
            .push(Condition::HasId(exclude.into_iter().collect()));
    }
    let req = SearchRequest {
        query: match vector {
            Vector::Dense(d) => QueryVector::Dense(d),
            Vector::Sparse(s) => QueryVector::Sparse(s),
        },
        using: q.using,
        filter: Some(filter),
        limit: q.limit,
        offset: q.offset,
        score_threshold: q.score_threshold,
        with_payload: q.with_payload,
        with_vectors: q.with_vectors,
    };
    let hits = c.search(&req)?;
    Ok(Value::Array(
        hits.iter().map(|h| scored_json(h, c.config())).collect(),
    ))
}

/// No query: the filtered points in id order, each with score 1.0.
fn all_points(c: &Collection, q: Query) -> Result<Value, ApiError> {
    let req = ScrollRequest {
        offset: None,
        limit: q.offset.saturating_add(q.limit),
        filter: q.filter,
        with_payload: q.with_payload,
        with_vectors: q.with_vectors,
        order_by: None,
    };
    let page = c.scroll(&req)?;
    let points = page.points.iter().skip(q.offset).map(|r| {
        let mut v = record_json(r, c.config());
        if let Value::Object(m) = &mut v {
            m.insert("version".into(), json!(0));
            m.insert("score".into(), json!(1.0));
        }
        v
    });
    Ok(Value::Array(points.collect()))
}

pub async fn query(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    let q = parse_query(&b)?;
    blocking(move || {
        Ok(Reply(
            json!({"points": run_query(&*s.db.collection(&name)?, q)?}),
        ))
    })
    .await
}

fn batch_of(b: &Value, s: &AppState) -> Result<Vec<Value>, ApiError> {
    match b.get("searches") {
        Some(Value::Array(a)) if a.len() <= s.config.max_batch => Ok(a.clone()),
        Some(Value::Array(a)) => Err(ApiError::bad_request(format!(
            "{} searches in one batch; the limit is {}",
            a.len(),
            s.config.max_batch
        ))),
        _ => Err(ApiError::bad_request("body needs a \"searches\" list")),
    }
}

pub async fn query_batch(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    let queries = batch_of(&b, &s)?
        .iter()
        .map(parse_query)
        .collect::<Result<Vec<_>, _>>()?;
    blocking(move || {
        let c = s.db.collection(&name)?;
        let out = queries
            .into_iter()
            .map(|q| run_query(&c, q).map(|p| json!({ "points": p })))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Reply(Value::Array(out)))
    })
    .await
}

/// Legacy `SearchRequest` → a query: `vector` is a list or `{"name", "vector"}`.
fn legacy_search(body: &Value) -> Result<Query, ApiError> {
    let m = object(body, "search request")?;
    let (using, vector) = match m.get("vector") {
        Some(Value::Object(nv)) if nv.contains_key("name") => (
            nv.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            nv.get("vector").cloned().unwrap_or(Value::Null),
        ),
        Some(v) => (String::new(), v.clone()),
        None => return Err(ApiError::bad_request("vector is required")),
    };
    let mut q: Map<String, Value> = m.clone();
    q.remove("vector");
    let limit = m
        .get("limit")
        .or_else(|| m.get("top"))
        .cloned()
        .ok_or_else(|| ApiError::bad_request("limit is required"))?;
    q.insert("limit".into(), limit);
    q.insert("query".into(), json!({ "nearest": vector }));
    q.insert("using".into(), json!(using));
    q.remove("top");
    q.remove("params");
    q.remove("shard_key");
    parse_query(&Value::Object(q))
}

pub async fn search(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    let q = legacy_search(&b)?;
    blocking(move || Ok(Reply(run_query(&*s.db.collection(&name)?, q)?))).await
}

pub async fn search_batch(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    let queries = batch_of(&b, &s)?
        .iter()
        .map(legacy_search)
        .collect::<Result<Vec<_>, _>>()?;
    blocking(move || {
        let c = s.db.collection(&name)?;
        Ok(Reply(Value::Array(
            queries
                .into_iter()
                .map(|q| run_query(&c, q))
                .collect::<Result<_, _>>()?,
        )))
    })
    .await
}
