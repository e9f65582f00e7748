//! Qdrant wire values ↔ engine values: ids, vectors, payload and vector selectors, filters.
//! Parsing is by hand over `serde_json::Value` where Qdrant's shapes are untagged unions, so
//! every malformed shape gets a precise 400.

use std::collections::BTreeMap;

use azimuth_engine::{
    CollectionConfig, Filter, JsonPath, NamedVectors, OrderValue, Payload, PayloadSelector,
    PointId, QuantizationParams, Record, SearchParams, SparseVector, Vector, VectorSelector,
};
use serde_json::{json, Map, Value};

use crate::reply::ApiError;

pub fn parse_id(v: &Value) -> Result<PointId, ApiError> {
    match v {
        Value::Number(n) => n.as_u64().map(PointId::Num).ok_or_else(|| {
            ApiError::bad_request(format!("point id {n} is not an unsigned 64-bit integer"))
        }),
        Value::String(s) => PointId::parse_uuid(s).map_err(|_| {
            ApiError::bad_request(format!(
                "point id {s:?} is neither an unsigned integer nor a UUID"
            ))
        }),
        other => Err(ApiError::bad_request(format!(
            "point id must be an unsigned integer or a UUID string, got {other}"
        ))),
    }
}

pub fn parse_ids(v: &Value) -> Result<Vec<PointId>, ApiError> {
    match v {
        Value::Array(a) => a.iter().map(parse_id).collect(),
        other => Err(ApiError::bad_request(format!(
            "expected a list of point ids, got {other}"
        ))),
    }
}

pub fn id_json(id: &PointId) -> Value {
    match id {
        PointId::Num(n) => json!(n),
        PointId::Uuid(u) => json!(u.hyphenated().to_string()),
        PointId::Str(s) => json!(s),
    }
}

fn f32s(v: &[Value], what: &str) -> Result<Vec<f32>, ApiError> {
    v.iter()
        .map(|x| {
            x.as_f64().map(|f| f as f32).ok_or_else(|| {
                ApiError::bad_request(format!("{what}: every component must be a number, got {x}"))
            })
        })
        .collect()
}

fn sparse(m: &Map<String, Value>, what: &str) -> Result<SparseVector, ApiError> {
    let (Some(Value::Array(idx)), Some(Value::Array(vals))) = (m.get("indices"), m.get("values"))
    else {
        return Err(ApiError::bad_request(format!(
            "{what}: a sparse vector needs \"indices\" and \"values\" lists"
        )));
    };
    if m.len() != 2 {
        return Err(ApiError::bad_request(format!(
            "{what}: a sparse vector has only \"indices\" and \"values\""
        )));
    }
    let indices = idx
        .iter()
        .map(|x| x.as_u64().and_then(|i| u32::try_from(i).ok()))
        .collect::<Option<Vec<u32>>>()
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{what}: sparse indices must be unsigned 32-bit integers"
            ))
        })?;
    Ok(SparseVector {
        indices,
        values: f32s(vals, what)?,
    })
}

/// One vector value: dense list, sparse object. Multivectors and inference objects are 400.
pub fn parse_vector(v: &Value, what: &str) -> Result<Vector, ApiError> {
    match v {
        Value::Array(a) if a.first().is_some_and(Value::is_array) => Err(ApiError::bad_request(
            format!("{what}: multivectors are not supported yet"),
        )),
        Value::Array(a) => Ok(Vector::Dense(f32s(a, what)?)),
        Value::Object(m) if m.contains_key("indices") => Ok(Vector::Sparse(sparse(m, what)?)),
        Value::Object(m)
            if m.contains_key("text") || m.contains_key("image") || m.contains_key("object") =>
        {
            Err(ApiError::bad_request(format!(
                "{what}: server-side inference objects are not supported; send vectors"
            )))
        }
        other => Err(ApiError::bad_request(format!(
            "{what}: expected a vector, got {}",
            kind(other)
        ))),
    }
}

/// `VectorStruct`: a bare vector (the unnamed one) or a map of named vectors.
pub fn parse_vectors(v: &Value, what: &str) -> Result<NamedVectors, ApiError> {
    let mut out = NamedVectors::new();
    match v {
        Value::Object(m) if !m.contains_key("indices") => {
            for (name, x) in m {
                out.insert(
                    name.clone(),
                    parse_vector(x, &format!("{what} vector {name:?}"))?,
                );
            }
        }
        other => {
            out.insert(String::new(), parse_vector(other, what)?);
        }
    }
    Ok(out)
}

pub fn parse_payload(v: Option<&Value>, what: &str) -> Result<Payload, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(Payload::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(other) => Err(ApiError::bad_request(format!(
            "{what}: payload must be a JSON object, got {}",
            kind(other)
        ))),
    }
}

pub fn parse_filter(v: Option<&Value>) -> Result<Option<Filter>, ApiError> {
    let f = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(f) => Filter::from_json(f).map_err(|e| ApiError::bad_request(e.to_string()))?,
    };
    check_filter_ids(&f)?;
    Ok(Some(f))
}

/// Qdrant ids are integers or UUIDs: a `has_id` with any other string is a 400.
fn check_filter_ids(f: &Filter) -> Result<(), ApiError> {
    use azimuth_engine::filter::Condition;
    let conds = f
        .must
        .iter()
        .chain(&f.should)
        .chain(&f.must_not)
        .chain(f.min_should.iter().flat_map(|m| &m.conditions));
    for c in conds {
        match c {
            Condition::HasId(ids) => {
                if let Some(PointId::Str(s)) = ids.iter().find(|i| matches!(i, PointId::Str(_))) {
                    return Err(ApiError::bad_request(format!(
                        "has_id: {s:?} is neither an unsigned integer nor a UUID"
                    )));
                }
            }
            Condition::Filter(inner) | Condition::Nested { filter: inner, .. } => {
                check_filter_ids(inner)?
            }
            _ => {}
        }
    }
    Ok(())
}

/// `limit`: a positive integer (Qdrant answers 422 for 0).
pub fn limit_field(m: &Map<String, Value>, default: usize) -> Result<usize, ApiError> {
    let n = usize_field(m, "limit", default)?;
    if n == 0 {
        return Err(ApiError::unprocessable(
            "limit: value 0 is invalid, it must be 1 or more",
        ));
    }
    Ok(n)
}

/// An optional field of a given JSON type; anything else is a 400.
pub fn typed<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    ok: fn(&Value) -> bool,
    what: &str,
) -> Result<Option<&'a Value>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) if ok(v) => Ok(Some(v)),
        Some(v) => Err(ApiError::bad_request(format!(
            "{key} must be {what}, got {v}"
        ))),
    }
}

/// `params` of a search: `hnsw_ef`, `exact`, `quantization` (`ignore`, `rescore`,
/// `oversampling`) and Azimuth's `target_recall` (a recall@10 target in (0, 1] that picks ef
/// from the index's calibration); `indexed_only` and `acorn` are checked for type and
/// otherwise ignored.
pub fn search_params(m: &Map<String, Value>) -> Result<SearchParams, ApiError> {
    let Some(p) = typed(m, "params", Value::is_object, "an object")? else {
        return Ok(SearchParams::default());
    };
    let p = object(p, "params")?;
    let hnsw_ef = typed(
        p,
        "hnsw_ef",
        |v| v.as_u64().is_some(),
        "a non-negative integer",
    )?
    .and_then(Value::as_u64)
    .map(|e| e.clamp(1, 1 << 16) as usize);
    let exact = typed(p, "exact", Value::is_boolean, "a boolean")?.and_then(Value::as_bool);
    typed(p, "indexed_only", Value::is_boolean, "a boolean")?;
    let mut quantization = QuantizationParams::default();
    if let Some(q) = typed(p, "quantization", Value::is_object, "an object")? {
        let q = object(q, "params.quantization")?;
        let flag = |k| {
            Ok::<_, ApiError>(typed(q, k, Value::is_boolean, "a boolean")?.and_then(Value::as_bool))
        };
        quantization.ignore = flag("ignore")?.unwrap_or(false);
        quantization.rescore = flag("rescore")?;
        quantization.oversampling =
            match typed(q, "oversampling", Value::is_number, "a number")?.and_then(Value::as_f64) {
                Some(o) if (1.0..=1000.0).contains(&o) => Some(o as f32),
                Some(o) => {
                    return Err(ApiError::bad_request(format!(
                        "params.quantization.oversampling must be between 1 and 1000, got {o}"
                    )))
                }
                None => None,
            };
    }
    typed(p, "acorn", Value::is_object, "an object")?;
    let target_recall = match typed(p, "target_recall", Value::is_number, "a number")? {
        None => None,
        Some(v) => match v.as_f64() {
            Some(t) if t > 0.0 && t <= 1.0 => Some(t as f32),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "params.target_recall must be in (0, 1], got {v}"
                )))
            }
        },
    };
    Ok(SearchParams {
        hnsw_ef,
        exact: exact.unwrap_or(false),
        target_recall,
        quantization,
    })
}

fn paths(a: &[Value]) -> Result<Vec<JsonPath>, ApiError> {
    a.iter()
        .map(|k| {
            let s = k
                .as_str()
                .ok_or_else(|| ApiError::bad_request("payload selector keys must be strings"))?;
            JsonPath::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))
        })
        .collect()
}

/// `with_payload`: bool, list of keys, `{"include": [..]}` or `{"exclude": [..]}`.
pub fn payload_selector(v: Option<&Value>, default: bool) -> Result<PayloadSelector, ApiError> {
    Ok(match v {
        None | Some(Value::Null) => {
            if default {
                PayloadSelector::All
            } else {
                PayloadSelector::None
            }
        }
        Some(Value::Bool(true)) => PayloadSelector::All,
        Some(Value::Bool(false)) => PayloadSelector::None,
        Some(Value::Array(a)) => PayloadSelector::Include(paths(a)?),
        Some(Value::Object(m)) => match (m.get("include"), m.get("exclude")) {
            (Some(Value::Array(a)), None) => PayloadSelector::Include(paths(a)?),
            (None, Some(Value::Array(a))) => PayloadSelector::Exclude(paths(a)?),
            _ => {
                return Err(ApiError::bad_request(
                    "with_payload object needs exactly one of include / exclude lists",
                ))
            }
        },
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "with_payload: unexpected {}",
                kind(other)
            )))
        }
    })
}

/// `with_vector(s)`: bool or a list of vector names.
pub fn vector_selector(v: Option<&Value>) -> Result<VectorSelector, ApiError> {
    Ok(match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => VectorSelector::None,
        Some(Value::Bool(true)) => VectorSelector::All,
        Some(Value::Array(a)) => VectorSelector::Names(
            a.iter()
                .map(|n| n.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| ApiError::bad_request("with_vector names must be strings"))?,
        ),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "with_vector: unexpected {}",
                kind(other)
            )))
        }
    })
}

pub fn vector_json(v: &Vector) -> Value {
    match v {
        Vector::Dense(d) => json!(d),
        Vector::Sparse(s) => json!({"indices": s.indices, "values": s.values}),
    }
}

/// Vectors as Qdrant returns them: a bare list for a single-unnamed collection, else a map.
pub fn vectors_json(v: &NamedVectors, config: &CollectionConfig) -> Value {
    if config.single_unnamed {
        if let Some(x) = v.get("") {
            return vector_json(x);
        }
    }
    Value::Object(v.iter().map(|(n, x)| (n.clone(), vector_json(x))).collect())
}

pub fn record_json(r: &Record, config: &CollectionConfig) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), id_json(&r.id));
    if let Some(p) = &r.payload {
        m.insert("payload".into(), Value::Object(p.clone()));
    }
    if let Some(v) = &r.vectors {
        m.insert("vector".into(), vectors_json(v, config));
    }
    if let Some(o) = r.order_value {
        m.insert("order_value".into(), order_value_json(o));
    }
    Value::Object(m)
}

pub fn order_value_json(o: OrderValue) -> Value {
    match o {
        OrderValue::Int(i) => json!(i),
        OrderValue::Float(f) => json!(f),
    }
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The object body of a request, or a 400.
pub fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object().ok_or_else(|| {
        ApiError::bad_request(format!("{what} must be a JSON object, got {}", kind(v)))
    })
}

/// Rejects keys outside `allowed` (Qdrant's `extra="forbid"` models).
pub fn only_keys(m: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), ApiError> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::bad_request(format!(
            "{what}: unknown field {k:?}"
        ))),
        None => Ok(()),
    }
}

pub fn usize_field(m: &Map<String, Value>, key: &str, default: usize) -> Result<usize, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_u64().map(|n| n as usize).ok_or_else(|| {
            ApiError::bad_request(format!("{key} must be a non-negative integer, got {v}"))
        }),
    }
}

/// `UpdateResult`: `completed` when the write is durable, else `acknowledged`.
pub fn update_json(r: azimuth_engine::UpdateResult) -> Value {
    json!({"operation_id": r.operation_id, "status": if r.completed { "completed" } else { "acknowledged" }})
}

/// The `wait` query parameter (default false, as Qdrant's).
pub fn wait_param(q: &BTreeMap<String, String>) -> Result<bool, ApiError> {
    match q.get("wait").map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "wait must be true or false, got {other:?}"
        ))),
    }
}
