//! Point writes (upsert, delete, payload and vector edits, batches) and reads (retrieve,
//! scroll, count).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use azimuth_engine::filter::parse_datetime;
use azimuth_engine::{
    Collection, JsonPath, OrderBy, PayloadSelector, PointSelector, PointStruct, ScrollRequest,
    UpdateResult, UpsertMode, UpsertOptions, VectorSelector,
};
use serde_json::{json, Map, Value};

use super::upsert_body::UpsertBody;
use super::wire::*;
use crate::reply::{blocking, ApiError, ApiResult, Body, Reply};
use crate::AppState;

type Params = Query<BTreeMap<String, String>>;

/// One parsed write operation.
pub enum Write {
    Upsert(Vec<PointStruct>, UpsertOptions),
    Delete(PointSelector),
    SetPayload {
        sel: PointSelector,
        payload: azimuth_engine::Payload,
        key: Option<String>,
    },
    OverwritePayload {
        sel: PointSelector,
        payload: azimuth_engine::Payload,
    },
    DeletePayload {
        sel: PointSelector,
        keys: Vec<String>,
    },
    ClearPayload(PointSelector),
    UpdateVectors {
        points: Vec<(azimuth_engine::PointId, azimuth_engine::NamedVectors)>,
        filter: Option<azimuth_engine::Filter>,
    },
    DeleteVectors {
        sel: PointSelector,
        names: Vec<String>,
    },
}

impl Write {
    pub fn apply(self, c: &Collection, wait: bool) -> azimuth_engine::Result<UpdateResult> {
        match self {
            Write::Upsert(points, opts) => c.upsert_with(points, &opts, wait),
            Write::Delete(sel) => c.delete(&sel, wait),
            Write::SetPayload { sel, payload, key } => {
                c.set_payload(&sel, payload, key.as_deref(), wait)
            }
            Write::OverwritePayload { sel, payload } => c.overwrite_payload(&sel, payload, wait),
            Write::DeletePayload { sel, keys } => c.delete_payload(&sel, &keys, wait),
            Write::ClearPayload(sel) => c.clear_payload(&sel, wait),
            Write::UpdateVectors { points, filter } => {
                c.update_vectors(points, filter.as_ref(), wait)
            }
            Write::DeleteVectors { sel, names } => c.delete_vectors(&sel, &names, wait),
        }
    }
}

fn selector(m: &Map<String, Value>) -> Result<PointSelector, ApiError> {
    match (m.get("points"), m.get("filter")) {
        (Some(p), None) if !p.is_null() => Ok(PointSelector::Ids(parse_ids(p)?)),
        (None, Some(f)) | (Some(Value::Null), Some(f)) => Ok(PointSelector::Filter(
            parse_filter(Some(f))?.unwrap_or_default(),
        )),
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "give either \"points\" or \"filter\", not both",
        )),
        _ => Err(ApiError::bad_request(
            "select points with \"points\": [ids] or \"filter\": {...}",
        )),
    }
}

fn strings(v: Option<&Value>, what: &str) -> Result<Vec<String>, ApiError> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| ApiError::bad_request(format!("{what} must be a list of strings"))),
        _ => Err(ApiError::bad_request(format!(
            "{what} must be a list of strings"
        ))),
    }
}

fn point_struct(v: &Value, i: usize) -> Result<PointStruct, ApiError> {
    let m = object(v, &format!("points[{i}]"))?;
    only_keys(m, &["id", "vector", "payload"], &format!("points[{i}]"))?;
    let id = parse_id(
        m.get("id")
            .ok_or_else(|| ApiError::bad_request(format!("points[{i}]: id is required")))?,
    )?;
    let vectors = match m.get("vector") {
        Some(v) => parse_vectors(v, &format!("points[{i}]"))?,
        None => {
            return Err(ApiError::bad_request(format!(
                "points[{i}]: vector is required"
            )))
        }
    };
    Ok(PointStruct {
        id,
        vectors,
        payload: parse_payload(m.get("payload"), &format!("points[{i}]"))?,
    })
}

fn batch_points(b: &Value) -> Result<Vec<PointStruct>, ApiError> {
    let m = object(b, "batch")?;
    let ids = batch_ids(m.get("ids"))?;
    let n = ids.len();
    let mut vectors: Vec<azimuth_engine::NamedVectors> = vec![Default::default(); n];
    match m.get("vectors") {
        Some(Value::Array(rows)) => {
            batch_rows_fit(n, rows.len())?;
            for (i, r) in rows.iter().enumerate() {
                vectors[i].insert(
                    String::new(),
                    parse_vector(r, &format!("batch.vectors[{i}]"))?,
                );
            }
        }
        other => named_batch_vectors(other, &mut vectors)?,
    }
    batch_assemble(ids, vectors, m.get("payloads"))
}

pub(super) fn batch_ids(ids: Option<&Value>) -> Result<Vec<azimuth_engine::PointId>, ApiError> {
    parse_ids(ids.ok_or_else(|| ApiError::bad_request("batch.ids is required"))?)
}

pub(super) fn batch_rows_fit(ids: usize, rows: usize) -> Result<(), ApiError> {
    if rows != ids {
        return Err(ApiError::bad_request(format!(
            "batch has {ids} ids but {rows} vectors"
        )));
    }
    Ok(())
}

/// `batch.vectors` as a map of vector name to one vector per id (or anything else: 400).
pub(super) fn named_batch_vectors(
    v: Option<&Value>,
    vectors: &mut [azimuth_engine::NamedVectors],
) -> Result<(), ApiError> {
    let n = vectors.len();
    let Some(Value::Object(named)) = v else {
        return Err(ApiError::bad_request(
            "batch.vectors is required: a list, or a map of vector name to list",
        ));
    };
    for (name, rows) in named {
        let rows = rows.as_array().filter(|r| r.len() == n).ok_or_else(|| {
            ApiError::bad_request(format!(
                "batch.vectors.{name} must be a list with one vector per id"
            ))
        })?;
        for (i, r) in rows.iter().enumerate() {
            vectors[i].insert(
                name.clone(),
                parse_vector(r, &format!("batch.vectors.{name}[{i}]"))?,
            );
        }
    }
    Ok(())
}

/// Zips a batch's ids, vectors and `payloads` into points.
pub(super) fn batch_assemble(
    ids: Vec<azimuth_engine::PointId>,
    vectors: Vec<azimuth_engine::NamedVectors>,
    payloads: Option<&Value>,
) -> Result<Vec<PointStruct>, ApiError> {
    let n = ids.len();
    let payloads = match payloads {
        None | Some(Value::Null) => vec![Value::Null; n],
        Some(Value::Array(p)) if p.len() == n => p.clone(),
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "batch.payloads must be a list of {n} objects or nulls"
            )))
        }
    };
    ids.into_iter()
        .zip(vectors)
        .zip(payloads.iter())
        .enumerate()
        .map(|(i, ((id, vectors), p))| {
            Ok(PointStruct {
                id,
                vectors,
                payload: parse_payload(Some(p), &format!("batch.payloads[{i}]"))?,
            })
        })
        .collect()
}

pub(super) fn upsert_options(m: &Map<String, Value>) -> Result<UpsertOptions, ApiError> {
    let mode = match m.get("update_mode").and_then(Value::as_str) {
        None | Some("upsert") => UpsertMode::Upsert,
        Some("insert_only") => UpsertMode::InsertOnly,
        Some("update_only") => UpsertMode::UpdateOnly,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown update_mode {other:?}"
            )))
        }
    };
    Ok(UpsertOptions {
        mode,
        update_filter: parse_filter(m.get("update_filter"))?,
    })
}

pub fn parse_upsert(body: &Value) -> Result<Write, ApiError> {
    let m = object(body, "request body")?;
    let points = match (m.get("points"), m.get("batch")) {
        (Some(Value::Array(p)), None) => p
            .iter()
            .enumerate()
            .map(|(i, v)| point_struct(v, i))
            .collect::<Result<_, _>>()?,
        (None, Some(b)) => batch_points(b)?,
        _ => return Err(upsert_shape()),
    };
    Ok(Write::Upsert(points, upsert_options(m)?))
}

pub(super) fn upsert_shape() -> ApiError {
    ApiError::bad_request("upsert needs either \"points\": [...] or \"batch\": {...}")
}

fn parse_set_payload(body: &Value, overwrite: bool) -> Result<Write, ApiError> {
    let m = object(body, "request body")?;
    let payload = match m.get("payload") {
        Some(Value::Object(p)) => p.clone(),
        _ => return Err(ApiError::bad_request("payload must be a JSON object")),
    };
    let sel = selector(m)?;
    if overwrite {
        return Ok(Write::OverwritePayload { sel, payload });
    }
    let key = typed(m, "key", Value::is_string, "a key path string")?
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Write::SetPayload { sel, payload, key })
}

fn parse_update_vectors(body: &Value) -> Result<Write, ApiError> {
    let m = object(body, "request body")?;
    let Some(Value::Array(pts)) = m.get("points") else {
        return Err(ApiError::bad_request(
            "points must be a list of {id, vector}",
        ));
    };
    let mut points = Vec::with_capacity(pts.len());
    for (i, p) in pts.iter().enumerate() {
        let o = object(p, &format!("points[{i}]"))?;
        let id = parse_id(
            o.get("id")
                .ok_or_else(|| ApiError::bad_request(format!("points[{i}]: id is required")))?,
        )?;
        let v = o
            .get("vector")
            .ok_or_else(|| ApiError::bad_request(format!("points[{i}]: vector is required")))?;
        points.push((id, parse_vectors(v, &format!("points[{i}]"))?));
    }
    Ok(Write::UpdateVectors {
        points,
        filter: parse_filter(m.get("update_filter"))?,
    })
}

/// Parses one write of kind `op` (the batch operation names).
pub fn parse_write(op: &str, body: &Value) -> Result<Write, ApiError> {
    match op {
        "upsert" => parse_upsert(body),
        "delete" => Ok(Write::Delete(selector(object(body, "delete")?)?)),
        "set_payload" => parse_set_payload(body, false),
        "overwrite_payload" => parse_set_payload(body, true),
        "delete_payload" => {
            let m = object(body, "delete_payload")?;
            Ok(Write::DeletePayload {
                sel: selector(m)?,
                keys: strings(m.get("keys"), "keys")?,
            })
        }
        "clear_payload" => Ok(Write::ClearPayload(selector(object(
            body,
            "clear_payload",
        )?)?)),
        "update_vectors" => parse_update_vectors(body),
        "delete_vectors" => {
            let m = object(body, "delete_vectors")?;
            Ok(Write::DeleteVectors {
                sel: selector(m)?,
                names: strings(m.get("vector"), "vector")?,
            })
        }
        other => Err(ApiError::bad_request(format!(
            "unknown operation {other:?}"
        ))),
    }
}

async fn write(s: AppState, name: String, q: &BTreeMap<String, String>, w: Write) -> ApiResult {
    let wait = wait_param(q)?;
    blocking(move || {
        Ok(Reply(update_json(
            w.apply(&*s.db.collection(&name)?, wait)?,
        )))
    })
    .await
}

pub async fn upsert(
    State(s): State<AppState>,
    Path(name): Path<String>,
    q: Params,
    Body(b): Body<UpsertBody>,
) -> ApiResult {
    let w = b.into_write()?;
    if let Write::Upsert(p, _) = &w {
        if p.len() > s.config.max_batch {
            return Err(ApiError::bad_request(format!(
                "{} points in one request; the limit is {}",
                p.len(),
                s.config.max_batch
            )));
        }
    }
    write(s, name, &q, w).await
}

macro_rules! write_endpoint {
    ($fn:ident, $op:literal) => {
        pub async fn $fn(
            State(s): State<AppState>,
            Path(name): Path<String>,
            q: Params,
            Body(b): Body<Value>,
        ) -> ApiResult {
            let w = parse_write($op, &b)?;
            write(s, name, &q, w).await
        }
    };
}

write_endpoint!(delete, "delete");
write_endpoint!(set_payload, "set_payload");
write_endpoint!(overwrite_payload, "overwrite_payload");
write_endpoint!(delete_payload, "delete_payload");
write_endpoint!(clear_payload, "clear_payload");
write_endpoint!(update_vectors, "update_vectors");
write_endpoint!(delete_vectors, "delete_vectors");

pub async fn batch(
    State(s): State<AppState>,
    Path(name): Path<String>,
    q: Params,
    Body(b): Body<Value>,
) -> ApiResult {
    let wait = wait_param(&q)?;
    let Some(Value::Array(ops)) = b.get("operations") else {
        return Err(ApiError::bad_request("body needs an \"operations\" list"));
    };
    let mut writes = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let m = object(op, &format!("operations[{i}]"))?;
        let (kind, body) = m.iter().next().filter(|_| m.len() == 1).ok_or_else(|| {
            ApiError::bad_request(format!(
                "operations[{i}] must have exactly one key naming the operation"
            ))
        })?;
        writes.push(parse_write(kind, body)?);
    }
    blocking(move || {
        let c = s.db.collection(&name)?;
        let results: Vec<Value> = writes
            .into_iter()
            .map(|w| w.apply(&c, wait).map(update_json))
            .collect::<Result<_, _>>()?;
        Ok(Reply(Value::Array(results)))
    })
    .await
}

pub async fn retrieve(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    let m = object(&b, "request body")?;
    let ids = parse_ids(
        m.get("ids")
            .ok_or_else(|| ApiError::bad_request("ids is required"))?,
    )?;
    let wp = payload_selector(m.get("with_payload"), true)?;
    let wv = vector_selector(m.get("with_vector").or_else(|| m.get("with_vectors")))?;
    blocking(move || {
        let c = s.db.collection(&name)?;
        let recs = c.get(&ids, &wp, &wv)?;
        Ok(Reply(Value::Array(
            recs.iter().map(|r| record_json(r, &c.config())).collect(),
        )))
    })
    .await
}

pub async fn get_point(
    State(s): State<AppState>,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult {
    let id = match id.parse::<u64>() {
        Ok(n) => azimuth_engine::PointId::Num(n),
        Err(_) => parse_id(&Value::String(id))?,
    };
    blocking(move || {
        let c = s.db.collection(&name)?;
        let recs = c.get(
            std::slice::from_ref(&id),
            &PayloadSelector::All,
            &VectorSelector::All,
        )?;
        let r = recs
            .first()
            .ok_or_else(|| ApiError::not_found(format!("No point with id {id} found")))?;
        Ok(Reply(record_json(r, &c.config())))
    })
    .await
}

pub(super) fn order_by(v: &Value) -> Result<OrderBy, ApiError> {
    let (key, direction, start) = match v {
        Value::String(k) => (k.as_str(), None, None),
        Value::Object(m) => (
            m.get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request("order_by.key is required"))?,
            m.get("direction").and_then(Value::as_str),
            m.get("start_from").filter(|x| !x.is_null()),
        ),
        _ => {
            return Err(ApiError::bad_request(
                "order_by must be a key or {\"key\": ...}",
            ))
        }
    };
    let descending = match direction {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(d) => {
            return Err(ApiError::bad_request(format!(
                "order_by.direction must be asc or desc, got {d:?}"
            )))
        }
    };
    let start_from = match start {
        None => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => Some(parse_datetime(s).ok_or_else(|| {
            ApiError::bad_request(format!("order_by.start_from: {s:?} is not a datetime"))
        })? as f64),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "order_by.start_from: unexpected {}",
                kind(other)
            )))
        }
    };
    let key = JsonPath::parse(key).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(OrderBy {
        key,
        descending,
        start_from,
    })
}

pub async fn scroll(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    let m = object(&b, "request body")?;
    let req = ScrollRequest {
        offset: m
            .get("offset")
            .filter(|x| !x.is_null())
            .map(parse_id)
            .transpose()?,
        limit: limit_field(m, 10)?,
        filter: parse_filter(m.get("filter"))?,
        with_payload: payload_selector(m.get("with_payload"), true)?,
        with_vectors: vector_selector(m.get("with_vector").or_else(|| m.get("with_vectors")))?,
        order_by: m
            .get("order_by")
            .filter(|x| !x.is_null())
            .map(order_by)
            .transpose()?,
    };
    blocking(move || {
        let c = s.db.collection(&name)?;
        let page = c.scroll(&req)?;
        let points: Vec<Value> = page.points.iter().map(|r| record_json(r, &c.config())).collect();
        Ok(Reply(json!({"points": points, "next_page_offset": page.next_page_offset.as_ref().map(id_json)})))
    })
    .await
}

pub async fn count(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    let m = object(&b, "request body")?;
    typed(m, "exact", Value::is_boolean, "a boolean")?;
    let filter = parse_filter(m.get("filter"))?;
    blocking(move || {
        Ok(Reply(
            json!({"count": s.db.collection(&name)?.count(filter.as_ref())?}),
        ))
    })
    .await
}

/// `POST /collections/{c}/facet`: value counts of an indexed keyword/integer/uuid/bool key.
pub async fn facet(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    let m = object(&b, "request body")?;
    let key = m
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("key is required"))?;
    let key = JsonPath::parse(key).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let limit = usize_field(m, "limit", 10)?;
    let filter = parse_filter(m.get("filter"))?;
    blocking(move || {
        let hits =
            s.db.collection(&name)?
                .facet(&key, filter.as_ref(), limit)?;
        let hits: Vec<Value> = hits
            .into_iter()
            .map(|h| json!({"value": h.value, "count": h.count}))
            .collect();
        Ok(Reply(json!({ "hits": hits })))
    })
    .await
}
