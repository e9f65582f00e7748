//! Record request bodies and their checks: ids, embeddings (float lists or base64 float32
//! little-endian strings), metadata values and `include`. Errors use the official server's
//! status and message (422 for values of the wrong type, 400 for rule violations).

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::{ChromaError, ChromaResult};
use axum::http::StatusCode;

/// `include` entries. Declared in the order the official server lists them in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Include {
    Distances,
    Documents,
    Embeddings,
    Metadatas,
    Uris,
}

impl Include {
    pub fn name(self) -> &'static str {
        match self {
            Include::Distances => "distances",
            Include::Documents => "documents",
            Include::Embeddings => "embeddings",
            Include::Metadatas => "metadatas",
            Include::Uris => "uris",
        }
    }
}

/// `add` / `upsert` / `update` body. `embeddings` is required (possibly null) for add and
/// upsert; the handlers check that.
#[derive(Debug, Deserialize)]
pub struct WriteBody {
    pub ids: Vec<String>,
    #[serde(default = "missing")]
    pub embeddings: Value,
    #[serde(default)]
    pub metadatas: Option<Vec<Option<Map<String, Value>>>>,
    #[serde(default)]
    pub documents: Option<Vec<Option<String>>>,
    #[serde(default)]
    pub uris: Option<Vec<Option<String>>>,
}

/// Marks an absent `embeddings` key (JSON cannot produce this string as a non-string).
fn missing() -> Value {
    Value::Bool(false)
}

#[derive(Debug, Deserialize)]
pub struct GetBody {
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(default, rename = "where")]
    pub where_: Option<Value>,
    #[serde(default)]
    pub where_document: Option<Value>,
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default)]
    pub include: Option<Vec<Include>>,
}

#[derive(Debug, Deserialize)]
pub struct QueryBody {
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(default, rename = "where")]
    pub where_: Option<Value>,
    #[serde(default)]
    pub where_document: Option<Value>,
    pub query_embeddings: Value,
    #[serde(default)]
    pub n_results: Option<u64>,
    #[serde(default)]
    pub include: Option<Vec<Include>>,
}

#[derive(Debug, Deserialize)]
pub struct DeleteBody {
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(default, rename = "where")]
    pub where_: Option<Value>,
    #[serde(default)]
    pub where_document: Option<Value>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// One validated record write; `None` fields leave the stored value unchanged.
#[derive(Debug, Clone)]
pub struct RecordWrite {
    pub id: String,
    pub embedding: Option<Vec<f32>>,
    /// Metadata to merge: a null value deletes the key.
    pub metadata: Option<Map<String, Value>>,
    pub document: Option<String>,
    pub uri: Option<String>,
}

fn undecodable(what: &str) -> ChromaError {
    ChromaError::unprocessable(format!(
        "{what}: data did not match any variant of untagged enum EmbeddingsPayload"
    ))
}

/// Decodes one embedding: a list of numbers or a base64 string of float32 little-endian.
fn embedding(v: &Value) -> ChromaResult<Vec<f32>> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|x| x.as_f64().map(|f| f as f32))
            .collect::<Option<Vec<f32>>>()
            .ok_or_else(|| undecodable("embeddings")),
        Value::String(s) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| undecodable("embeddings"))?;
            if bytes.len() % 4 != 0 {
                return Err(undecodable("embeddings"));
            }
            Ok(bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect())
        }
        _ => Err(undecodable("embeddings")),
    }
}

/// Decodes a list of embeddings; `allow_null` admits null entries (update).
pub fn embeddings(v: &Value, allow_null: bool) -> ChromaResult<Vec<Option<Vec<f32>>>> {
    let Value::Array(items) = v else {
        return Err(undecodable("embeddings"));
    };
    items
        .iter()
        .map(|e| match e {
            Value::Null if allow_null => Ok(None),
            other => embedding(other).map(Some),
        })
        .collect()
}

/// Rule checks on decoded embeddings: at least one dimension, finite values, one dimension
/// for the whole batch. Returns that dimension.
pub fn check_embeddings(embs: &[Option<Vec<f32>>]) -> ChromaResult<Option<usize>> {
    let mut dim = None;
    for (i, e) in embs.iter().enumerate() {
        let Some(e) = e else { continue };
        if e.is_empty() {
            return Err(ChromaError::invalid(
                "Validation error: embeddings: Each embedding must have at least 1 dimension",
            ));
        }
        if let Some(x) = e.iter().find(|x| !x.is_finite()) {
            return Err(ChromaError::invalid(format!(
                "Non-finite float value at embedding index {i}: {x}"
            )));
        }
        match dim {
            None => dim = Some(e.len()),
            Some(d) if d != e.len() => {
                return Err(ChromaError::invalid(
                    "Inconsistent dimensions in provided embeddings",
                ))
            }
            _ => {}
        }
    }
    Ok(dim)
}

fn bad_metadata_value(field: &str, i: usize, key: &str) -> ChromaError {
    ChromaError::unprocessable(format!(
        "{field}[{i}].{key}: data did not match any variant of untagged enum MetadataValue"
    ))
}

/// Checks one metadata map and normalises its values: strings, integers, floats, bools, and
/// arrays of one of those (integers in an array holding floats become floats). `nulls`
/// admits null values (update / upsert: delete the key).
pub fn check_metadata(
    field: &str,
    i: usize,
    m: &Map<String, Value>,
    nulls: bool,
) -> ChromaResult<Map<String, Value>> {
    let mut out = Map::new();
    for (k, v) in m {
        let v = match v {
            Value::Null if nulls => Value::Null,
            Value::String(_) | Value::Bool(_) | Value::Number(_) => v.clone(),
            Value::Array(items) => {
                Value::Array(check_array(items).ok_or_else(|| bad_metadata_value(field, i, k))?)
            }
            Value::Object(o) if o.get("#type").and_then(Value::as_str) == Some("sparse_vector") => {
                return Err(ChromaError::other(
                    StatusCode::NOT_IMPLEMENTED,
                    format!("Unimplemented: Sparse vector is not supported for local chroma: {k}"),
                ))
            }
            _ => return Err(bad_metadata_value(field, i, k)),
        };
        out.insert(k.clone(), v);
    }
    if out.keys().any(|k| k.starts_with('#')) {
        return Err(ChromaError::invalid(format!(
            "Validation error: {field}: Invalid metadata at index {i}"
        )));
    }
    Ok(out)
}

fn check_array(items: &[Value]) -> Option<Vec<Value>> {
    let all = |f: fn(&Value) -> bool| items.iter().all(f);
    if all(Value::is_string) || all(Value::is_boolean) || all(|v| v.is_i64()) {
        return Some(items.to_vec());
    }
    if all(Value::is_number) {
        return items
            .iter()
            .map(|v| {
                v.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
            })
            .collect();
    }
    None
}

/// Validates a write body into per-record writes. `embeddings_required` is true for add and
/// upsert; `nulls` admits null metadata values (upsert, update).
pub fn record_writes(
    body: WriteBody,
    embeddings_required: bool,
    nulls: bool,
) -> ChromaResult<(Vec<RecordWrite>, Option<usize>)> {
    let n = body.ids.len();
    let embs = match &body.embeddings {
        Value::Bool(false) if embeddings_required => {
            return Err(ChromaError::unprocessable("missing field `embeddings`"))
        }
        Value::Bool(false) | Value::Null if !embeddings_required => None,
        v => Some(embeddings(v, !embeddings_required)?),
    };
    let lengths_ok = embs.as_ref().is_none_or(|e| e.len() == n)
        && body.metadatas.as_ref().is_none_or(|m| m.len() == n)
        && body.documents.as_ref().is_none_or(|d| d.len() == n)
        && body.uris.as_ref().is_none_or(|u| u.len() == n);
    if !lengths_ok {
        return Err(ChromaError::invalid(
            "Inconsistent number of IDs, embeddings, documents, URIs and metadatas",
        ));
    }
    if body.ids.iter().any(String::is_empty) {
        return Err(ChromaError::invalid(
            "Empty ID, ID must have at least one character",
        ));
    }
    let dim = match &embs {
        Some(e) => check_embeddings(e)?,
        None => None,
    };
    let mut metas = Vec::with_capacity(n);
    for (i, m) in body.metadatas.iter().flatten().enumerate() {
        metas.push(match m {
            Some(m) => Some(check_metadata("metadatas", i, m, nulls)?),
            None => None,
        });
    }
    let mut embs = embs.map(|e| e.into_iter());
    let mut metas = body.metadatas.is_some().then(|| metas.into_iter());
    let mut docs = body.documents.map(|d| d.into_iter());
    let mut uris = body.uris.map(|u| u.into_iter());
    let writes = body
        .ids
        .into_iter()
        .map(|id| RecordWrite {
            id,
            embedding: embs.as_mut().and_then(|e| e.next()).flatten(),
            metadata: metas.as_mut().and_then(|m| m.next()).flatten(),
            document: docs.as_mut().and_then(|d| d.next()).flatten(),
            uri: uris.as_mut().and_then(|u| u.next()).flatten(),
        })
        .collect();
    Ok((writes, dim))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> WriteBody {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn base64_and_float_embeddings_decode_alike() {
        let e = embeddings(&json!(["AACAPwAAAAAAAAAA", [1, 0, 0]]), false).unwrap();
        assert_eq!(e[0], Some(vec![1.0, 0.0, 0.0]));
        assert_eq!(e[0], e[1]);
        assert!(embeddings(&json!(["AAA"]), false).is_err());
        assert!(embeddings(&json!([null]), false).is_err());
        assert_eq!(embeddings(&json!([null]), true).unwrap(), vec![None]);
        let nan = base64::engine::general_purpose::STANDARD.encode(f32::NAN.to_le_bytes());
        let e = embeddings(&json!([nan]), false).unwrap();
        let err = check_embeddings(&e).unwrap_err();
        assert_eq!(
            err.message,
            "Non-finite float value at embedding index 0: NaN"
        );
    }

    #[test]
    fn write_bodies_are_checked_like_the_official_server() {
        let err = record_writes(body(json!({"ids": ["a"]})), true, false).unwrap_err();
        assert_eq!(err.status.as_u16(), 422);
        let err = record_writes(
            body(json!({"ids": ["a", "b"], "embeddings": [[1.0]]})),
            true,
            false,
        )
        .unwrap_err();
        assert!(err.message.starts_with("Inconsistent number"));
        let err = record_writes(
            body(json!({"ids": [""], "embeddings": [[1.0]]})),
            true,
            false,
        )
        .unwrap_err();
        assert!(err.message.starts_with("Empty ID"));
        let err = record_writes(
            body(json!({"ids": ["a", "b"], "embeddings": [[1.0], [1.0, 2.0]]})),
            true,
            false,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "Inconsistent dimensions in provided embeddings"
        );
        let err = record_writes(
            body(json!({"ids": ["a"], "embeddings": [[1.0]], "metadatas": [{"#k": 1}]})),
            true,
            false,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "Validation error: metadatas: Invalid metadata at index 0"
        );
        for bad in [
            json!({"x": {"y": 1}}),
            json!({"x": [1, "a"]}),
            json!({"x": null}),
        ] {
            let err = record_writes(
                body(json!({"ids": ["a"], "embeddings": [[1.0]], "metadatas": [bad]})),
                true,
                false,
            )
            .unwrap_err();
            assert_eq!(err.status.as_u16(), 422);
        }
        let (w, dim) = record_writes(
            body(json!({"ids": ["a"], "embeddings": [[1.0, 2.0]], "metadatas": [{"x": [1, 2.5], "n": null}]})),
            true,
            true,
        )
        .unwrap();
        assert_eq!(dim, Some(2));
        assert_eq!(w[0].metadata.as_ref().unwrap()["x"], json!([1.0, 2.5]));
        assert_eq!(w[0].metadata.as_ref().unwrap()["n"], Value::Null);
        let (w, dim) =
            record_writes(body(json!({"ids": ["a"], "embeddings": null})), false, true).unwrap();
        assert_eq!((w[0].embedding.clone(), dim), (None, None));
    }
}
