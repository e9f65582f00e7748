//! Search: the universal Query API (`/points/query`, `/points/query/batch`,
//! `/points/query/groups`) and the legacy `/points/search` routes, over the engine's exact
//! search. Prefetches run first; the query at each level re-scores, fuses (RRF, DBSF) or orders
//! the union of its prefetches' results.

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, State};
use azimuth_engine::filter::Condition;
use azimuth_engine::{
    Collection, Filter, OrderBy, OrderValue, PayloadSelector, PointId, QueryVector, ScrollRequest,
    SearchParams, SearchRequest, Vector, VectorSelector,
};
use serde_json::{json, Map, Value};

use super::fusion::{dbsf, rrf};
use super::wire::*;
use crate::reply::{blocking, ApiError, ApiResult, Body, Reply};
use crate::AppState;

/// What one query level asks for, before stored vectors are looked up.
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
    Rrf {
        k: f64,
        weights: Option<Vec<f64>>,
    },
    Dbsf,
    Order(OrderBy),
}

enum Example {
    Vector(Vector),
    Point(PointId),
}

/// One level of a query: the top level or a prefetch.
struct Stage {
    prefetch: Vec<Stage>,
    want: Want,
    using: String,
    filter: Option<Filter>,
    limit: usize,
    score_threshold: Option<f32>,
    params: SearchParams,
}

pub(super) struct Query {
    stage: Stage,
    offset: usize,
    with_payload: PayloadSelector,
    with_vectors: VectorSelector,
}

/// A ranked result before payloads and vectors are attached.
#[derive(Clone, Debug)]
pub(super) struct Hit {
    pub id: PointId,
    pub score: f32,
    pub version: u64,
    pub order_value: Option<OrderValue>,
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
        if let Some(f) = m.get("fusion") {
            return match f.as_str() {
                Some("rrf") => Ok(Want::Rrf {
                    k: 2.0,
                    weights: None,
                }),
                Some("dbsf") => Ok(Want::Dbsf),
                _ => Err(ApiError::bad_request(format!(
                    "fusion must be \"rrf\" or \"dbsf\", got {f}"
                ))),
            };
        }
        if let Some(r) = m.get("rrf") {
            let k = r.get("k").and_then(Value::as_f64).unwrap_or(2.0);
            let weights = match r.get("weights") {
                None | Some(Value::Null) => None,
                Some(Value::Array(w)) => {
                    Some(w.iter().map(|x| x.as_f64().unwrap_or(1.0)).collect())
                }
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "rrf.weights must be a list of numbers",
                    ))
                }
            };
            return Ok(Want::Rrf { k, weights });
        }
        if let Some(o) = m.get("order_by") {
            return Ok(Want::Order(super::points::order_by(o)?));
        }
        for k in [
            "discover",
            "context",
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

fn parse_stage(m: &Map<String, Value>, top_level: bool) -> Result<Stage, ApiError> {
    let params = search_params(m)?;
    if m.get("lookup_from").is_some_and(|x| !x.is_null()) {
        return Err(unsupported("lookup_from"));
    }
    let prefetch = match m.get("prefetch") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|p| parse_stage(object(p, "prefetch")?, false))
            .collect::<Result<_, _>>()?,
        Some(p) => vec![parse_stage(object(p, "prefetch")?, false)?],
    };
    let want = parse_want(m.get("query"))?;
    if !prefetch.is_empty() && matches!(want, Want::All) {
        return Err(ApiError::bad_request(
            "a query is required when prefetch is present",
        ));
    }
    if prefetch.is_empty() && matches!(want, Want::Rrf { .. } | Want::Dbsf) {
        return Err(ApiError::bad_request(
            "fusion needs prefetch queries to fuse",
        ));
    }
    if top_level
        && m.get("score_threshold").is_some_and(|x| !x.is_null())
        && matches!(want, Want::All | Want::Order(_))
    {
        return Err(ApiError::bad_request(
            "score_threshold needs a query that scores points",
        ));
    }
    Ok(Stage {
        params,
        prefetch,
        want,
        using: m
            .get("using")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        filter: parse_filter(m.get("filter"))?,
        limit: limit_field(m, 10)?,
        score_threshold: typed(m, "score_threshold", Value::is_number, "a number")?
            .and_then(Value::as_f64)
            .map(|t| t as f32),
    })
}

pub(super) fn parse_query(body: &Value) -> Result<Query, ApiError> {
    let m = object(body, "query request")?;
    Ok(Query {
        stage: parse_stage(m, true)?,
        offset: usize_field(m, "offset", 0)?,
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
        .and_then(|v| v.get(using).cloned())
        .ok_or_else(|| ApiError::bad_request(format!("point {id} has no vector {using:?}")))
}

fn dense(
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

/// The vector a scoring query searches with, and the point ids it must exclude.
fn target(c: &Collection, want: Want, using: &str) -> Result<(Vector, Vec<PointId>), ApiError> {
    let mut exclude = Vec::new();
    let v = match want {
        Want::Vector(v) => v,
        Want::Point(id) => {
            let v = stored_vector(c, &id, using)?;
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
                .map(|e| dense(c, e, using, &mut exclude))
                .collect::<Result<Vec<_>, _>>()?;
            let neg = negative
                .into_iter()
                .map(|e| dense(c, e, using, &mut exclude))
                .collect::<Result<Vec<_>, _>>()?;
            let p = mean(&pos);
            Vector::Dense(if neg.is_empty() {
                p
            } else {
                p.iter().zip(mean(&neg)).map(|(a, b)| a + (a - b)).collect()
            })
        }
        _ => {
            return Err(ApiError::bad_request(
                "this query does not score points by a vector",
            ))
        }
    };
    Ok((v, exclude))
}

fn and(a: Option<Filter>, b: Option<&Filter>) -> Option<Filter> {
    match (a, b) {
        (None, None) => None,
        (Some(f), None) => Some(f),
        (None, Some(f)) => Some(f.clone()),
        (Some(x), Some(y)) => Some(Filter {
            must: vec![Condition::Filter(x), Condition::Filter(y.clone())],
            ..Default::default()
        }),
    }
}

/// Runs one level: its prefetches first (with `outer` merged into their filters), then its
/// own query over their union; returns up to `fetch` hits, best first.
fn run_stage(
    c: &Collection,
    stage: Stage,
    outer: Option<&Filter>,
    fetch: usize,
) -> Result<Vec<Hit>, ApiError> {
    let filter = and(stage.filter, outer);
    let mut lists = Vec::with_capacity(stage.prefetch.len());
    for p in stage.prefetch {
        let limit = p.limit;
        lists.push(run_stage(c, p, filter.as_ref(), limit)?);
    }
    let candidates: Option<HashSet<PointId>> =
        (!lists.is_empty()).then(|| lists.iter().flatten().map(|h| h.id.clone()).collect());
    let restrict = |f: Option<Filter>| match &candidates {
        None => f,
        Some(ids) => and(
            Some(Filter {
                must: vec![Condition::HasId(ids.clone())],
                ..Default::default()
            }),
            f.as_ref(),
        ),
    };
    let mut hits = match stage.want {
        Want::Rrf { k, weights } => rrf(&lists, k, weights.as_deref()),
        Want::Dbsf => dbsf(&lists),
        Want::All => scroll_hits(c, filter, None, fetch)?,
        Want::Order(order) => scroll_hits(c, restrict(filter), Some(order), fetch)?,
        want => {
            let (vector, exclude) = target(c, want, &stage.using)?;
            let mut f = restrict(filter).unwrap_or_default();
            if !exclude.is_empty() {
                f.must_not
                    .push(Condition::HasId(exclude.into_iter().collect()));
            }
            let req = SearchRequest {
                query: match vector {
                    Vector::Dense(d) => QueryVector::Dense(d),
                    Vector::Sparse(s) => QueryVector::Sparse(s),
                },
                using: stage.using,
                filter: Some(f),
                limit: fetch,
                offset: 0,
                score_threshold: stage.score_threshold,
                with_payload: PayloadSelector::None,
                with_vectors: VectorSelector::None,
                params: stage.params,
            };
            let found = c.search(&req)?;
            return Ok(found
                .into_iter()
                .map(|p| Hit {
                    id: p.id,
                    score: p.score,
                    version: p.version,
                    order_value: None,
                })
                .collect());
        }
    };
    if let Some(t) = stage.score_threshold {
        hits.retain(|h| h.score >= t);
    }
    hits.truncate(fetch);
    Ok(hits)
}

fn scroll_hits(
    c: &Collection,
    filter: Option<Filter>,
    order: Option<OrderBy>,
    fetch: usize,
) -> Result<Vec<Hit>, ApiError> {
    let req = ScrollRequest {
        offset: None,
        limit: fetch,
        filter,
        with_payload: PayloadSelector::None,
        with_vectors: VectorSelector::None,
        order_by: order.clone(),
    };
    let constant = if order.is_some() { 0.0 } else { 1.0 };
    Ok(c.scroll(&req)?
        .points
        .into_iter()
        .map(|r| Hit {
            id: r.id,
            score: constant,
            version: 0,
            order_value: r.order_value,
        })
        .collect())
}

/// Hits with payloads and vectors attached, as `ScoredPoint` JSON.
pub(super) fn materialise(
    c: &Collection,
    hits: &[Hit],
    wp: &PayloadSelector,
    wv: &VectorSelector,
) -> Result<Vec<Value>, ApiError> {
    let ids: Vec<PointId> = hits.iter().map(|h| h.id.clone()).collect();
    let needs_lookup = !matches!(wp, PayloadSelector::None) || !matches!(wv, VectorSelector::None);
    let records: HashMap<PointId, azimuth_engine::Record> = if needs_lookup {
        c.get(&ids, wp, wv)?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect()
    } else {
        HashMap::new()
    };
    Ok(hits
        .iter()
        .map(|h| {
            let mut m = Map::new();
            m.insert("id".into(), id_json(&h.id));
            m.insert("version".into(), json!(h.version));
            m.insert("score".into(), json!(h.score + 0.0)); // + 0.0 turns -0.0 into 0.0
            if let Some(r) = records.get(&h.id) {
                if let Some(p) = &r.payload {
                    m.insert("payload".into(), Value::Object(p.clone()));
                }
                if let Some(v) = &r.vectors {
                    m.insert("vector".into(), vectors_json(v, c.config()));
                }
            }
            if let Some(o) = h.order_value {
                m.insert("order_value".into(), order_value_json(o));
            }
            Value::Object(m)
        })
        .collect())
}

pub(super) fn run_query(c: &Collection, q: Query) -> Result<Value, ApiError> {
    let fetch = q.offset.saturating_add(q.stage.limit);
    let hits = run_stage(c, q.stage, None, fetch)?;
    let page: Vec<Hit> = hits.into_iter().skip(q.offset).collect();
    Ok(Value::Array(materialise(
        c,
        &page,
        &q.with_payload,
        &q.with_vectors,
    )?))
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

/// Parses every search of a batch, runs them against one collection and wraps each result.
async fn run_batch(
    s: AppState,
    name: String,
    body: &Value,
    parse: fn(&Value) -> Result<Query, ApiError>,
    wrap: fn(Value) -> Value,
) -> ApiResult {
    let queries = batch_of(body, &s)?
        .iter()
        .map(parse)
        .collect::<Result<Vec<_>, _>>()?;
    blocking(move || {
        let c = s.db.collection(&name)?;
        let out = queries
            .into_iter()
            .map(|q| run_query(&c, q).map(wrap))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Reply(Value::Array(out)))
    })
    .await
}

pub async fn query_batch(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    run_batch(
        s,
        name,
        &b,
        parse_query,
        |points| json!({ "points": points }),
    )
    .await
}

/// `/points/query/groups`: the best hits grouped by a keyword or integer payload value.
pub async fn query_groups(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    let m = object(&b, "request body")?;
    let group_by = m
        .get("group_by")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("group_by is required"))?;
    let group_by = azimuth_engine::JsonPath::parse(group_by)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let group_size = usize_field(m, "group_size", 3)?;
    let groups = usize_field(m, "limit", 10)?;
    if m.get("with_lookup").is_some_and(|x| !x.is_null()) {
        return Err(unsupported("with_lookup"));
    }
    let mut q = parse_query(&b)?;
    q.stage.limit = usize::MAX;
    blocking(move || {
        let c = s.db.collection(&name)?;
        let hits = run_stage(&c, q.stage, None, usize::MAX)?;
        let keys = c.get(&hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>(), &PayloadSelector::Include(vec![group_by.clone()]), &VectorSelector::None)?;
        let payloads: HashMap<PointId, azimuth_engine::Payload> = keys.into_iter().filter_map(|r| Some((r.id, r.payload?))).collect();
        let grouped = super::fusion::group(&hits, |id| payloads.get(id).map(|p| group_by.values(p).into_iter().cloned().collect()).unwrap_or_default(), group_size, groups);
        let out = grouped
            .into_iter()
            .map(|(key, members)| Ok(json!({"id": key, "hits": materialise(&c, &members, &q.with_payload, &q.with_vectors)?})))
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(Reply(json!({ "groups": out })))
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
    for k in ["top", "shard_key", "prefetch", "lookup_from"] {
        q.remove(k);
    }
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
    run_batch(s, name, &b, legacy_search, |points| points).await
}
