//! Record writes (`add`, `upsert`, `update`) and what reads share with them: finding the
//! collection of a request, Chroma string ids ↔ engine point ids, and the payload layout.
//!
//! Payload layout of a record (see ARCHITECTURE.md): metadata keys as top-level payload keys
//! (so Qdrant filters work on them), plus reserved keys Chroma metadata cannot use (it
//! refuses keys starting with `#`): `#document`, `#uri`, `#seq` (insertion sequence: Chroma
//! returns `get` results in insertion order), and for cosine collections `#norm` (the norm of
//! the vector as given, since the engine stores cosine vectors normalised and Chroma returns
//! them as given).

use std::collections::HashMap;

use azimuth_engine::{
    Collection, Distance, JsonPath, NamedVectors, Payload, PayloadSelector, PointId, PointStruct,
    ScrollRequest, Vector, VectorSelector, DEFAULT_VECTOR,
};
use serde_json::Value;

use super::catalog::{lock_writer, Chroma, View};
use super::error::{ChromaError, ChromaResult};
use super::filter::DOCUMENT_KEY;
use super::wire::RecordWrite;

pub const URI_KEY: &str = "#uri";
pub const SEQ_KEY: &str = "#seq";
pub const NORM_KEY: &str = "#norm";

/// The collection a record route names (by UUID).
pub fn find(ch: &Chroma, tenant: &str, database: &str, id: &str) -> ChromaResult<View> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(ChromaError::invalid("Collection ID is not a valid UUIDv4"));
    }
    ch.with(|c| Ok(c.by_id(tenant, database, id)))?
        .ok_or_else(|| ChromaError::not_found(format!("Collection [{id}] does not exist.")))
}

/// How a point id reads as a Chroma id.
pub fn id_string(id: &PointId) -> String {
    id.to_string()
}

/// The engine ids for Chroma ids: the string id, or — for points written through the Qdrant
/// API — an existing integer or UUID point whose text is exactly that string.
pub fn resolve_ids(col: &Collection, ids: &[String]) -> ChromaResult<Vec<(PointId, bool)>> {
    let mut candidates = Vec::new();
    for s in ids {
        candidates.push(PointId::Str(s.clone()));
        if let Some(alt) = alternative(s) {
            candidates.push(alt);
        }
    }
    let found: std::collections::HashSet<PointId> = col
        .get(&candidates, &PayloadSelector::None, &VectorSelector::None)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    Ok(ids
        .iter()
        .map(|s| {
            let str_id = PointId::Str(s.clone());
            if found.contains(&str_id) {
                return (str_id, true);
            }
            match alternative(s) {
                Some(alt) if found.contains(&alt) => (alt, true),
                _ => (str_id, false),
            }
        })
        .collect())
}

fn alternative(s: &str) -> Option<PointId> {
    if let Ok(n) = s.parse::<u64>() {
        return (n.to_string() == s).then_some(PointId::Num(n));
    }
    let u = uuid::Uuid::parse_str(s).ok()?;
    (u.hyphenated().to_string() == s).then_some(PointId::Uuid(u))
}

/// The engine distance of a view's collection.
pub fn distance(col: &Collection) -> ChromaResult<Distance> {
    col.config()
        .vectors
        .get(DEFAULT_VECTOR)
        .map(|p| p.distance)
        .ok_or_else(|| {
            ChromaError::invalid(format!(
                "Collection {} has no unnamed dense vector, so Chroma cannot use its vectors",
                col.name()
            ))
        })
}

pub fn dimension_error(expected: usize, got: usize) -> ChromaError {
    ChromaError::invalid(format!(
        "Collection expecting embedding with dimension of {expected}, got {got}"
    ))
}

/// A record's embedding as given (cosine vectors are stored normalised, with their norm).
pub fn embedding_of(payload: Option<&Payload>, vectors: Option<&NamedVectors>) -> Option<Vec<f32>> {
    let Some(Vector::Dense(v)) = vectors?.get(DEFAULT_VECTOR) else {
        return None;
    };
    match payload
        .and_then(|p| p.get(NORM_KEY))
        .and_then(Value::as_f64)
    {
        Some(n) => Some(v.iter().map(|x| (f64::from(*x) * n) as f32).collect()),
        None => Some(v.clone()),
    }
}

/// Metadata as Chroma sees it: every payload key except the reserved `#…` ones; `None`
/// when there are none.
pub fn metadata_of(payload: &Payload) -> Option<Value> {
    let m: serde_json::Map<String, Value> = payload
        .iter()
        .filter(|(k, _)| !k.starts_with('#'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!m.is_empty()).then_some(Value::Object(m))
}

fn norm(v: &[f32]) -> f64 {
    v.iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt()
}

/// The next insertion sequence number: one past the largest `#seq` in the collection.
fn scan_next_seq(col: &Collection) -> ChromaResult<u64> {
    let page = col.scroll(&ScrollRequest {
        limit: usize::MAX,
        with_payload: PayloadSelector::Include(vec![JsonPath::key(SEQ_KEY)]),
        ..ScrollRequest::default()
    })?;
    Ok(page
        .points
        .iter()
        .filter_map(|r| r.payload.as_ref()?.get(SEQ_KEY)?.as_u64())
        .max()
        .map_or(0, |m| m + 1))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WriteKind {
    Add,
    Upsert,
    Update,
}

/// Applies a validated batch with Chroma's semantics: `add` skips existing ids, `update`
/// skips missing ones, `upsert`/`update` merge metadata key by key (null deletes a key) and
/// keep the document, uri and embedding unless new ones are given. In-batch duplicates are
/// applied in order. One engine upsert, durable before returning.
pub fn write(
    ch: &Chroma,
    view: &View,
    kind: WriteKind,
    writes: Vec<RecordWrite>,
    dim: Option<usize>,
) -> ChromaResult<()> {
    let col = match (&view.engine, dim) {
        (Some(c), _) => c.clone(),
        (None, Some(d)) if kind != WriteKind::Update => ch.with(|c| c.materialize(view, d))?,
        // No vectors yet, and nothing to create them from: nothing exists to update.
        (None, _) => return Ok(()),
    };
    let space = distance(&col)?;
    let expected = view
        .dimension()
        .or_else(|| col.config().vectors.get(DEFAULT_VECTOR).map(|p| p.size))
        .unwrap_or(0);
    if let Some(d) = dim.filter(|d| *d != expected) {
        return Err(dimension_error(expected, d));
    }
    if writes.is_empty() {
        return Ok(());
    }
    let writer = ch.writer(&col);
    let mut w = lock_writer(&writer);
    let mut next_seq = match w.next_seq {
        Some(s) => s,
        None => scan_next_seq(&col)?,
    };
    let ids: Vec<String> = writes.iter().map(|x| x.id.clone()).collect();
    let resolved = resolve_ids(&col, &ids)?;
    let existing_ids: Vec<PointId> = resolved
        .iter()
        .filter(|(_, e)| *e)
        .map(|(p, _)| p.clone())
        .collect();
    let current: HashMap<PointId, (Payload, Vec<f32>)> = col
        .get(&existing_ids, &PayloadSelector::All, &VectorSelector::All)?
        .into_iter()
        .filter_map(|r| {
            let v = match r.vectors?.remove(DEFAULT_VECTOR)? {
                Vector::Dense(v) => v,
                Vector::Sparse(_) => return None,
            };
            Some((r.id, (r.payload.unwrap_or_default(), v)))
        })
        .collect();
    if existing_ids.len() != current.len() && kind != WriteKind::Add {
        return Err(ChromaError::invalid(format!(
            "Collection {} has points without an unnamed dense vector; Chroma cannot edit them",
            col.name()
        )));
    }
    let mut order: Vec<PointId> = Vec::new();
    let mut touched: HashMap<PointId, (Payload, Vec<f32>)> = HashMap::new();
    for (x, (pid, exists)) in writes.into_iter().zip(resolved) {
        if let Some(p) = touched.get_mut(&pid) {
            // Seen earlier in this batch: add keeps the first, the others merge in order.
            if kind != WriteKind::Add {
                let (payload, vector) = std::mem::take(p);
                *p = merge(payload, vector, &x, space);
            }
            continue;
        }
        let merged = match current.get(&pid) {
            Some(_) | None if exists && kind == WriteKind::Add => continue,
            Some((payload, vector)) => merge(payload.clone(), vector.clone(), &x, space),
            None if kind == WriteKind::Update => continue,
            None => {
                let Some(vector) = x.embedding.clone() else {
                    continue;
                };
                let mut payload = Payload::new();
                payload.insert(SEQ_KEY.into(), Value::from(next_seq));
                next_seq += 1;
                merge(payload, vector, &x, space)
            }
        };
        order.push(pid.clone());
        touched.insert(pid, merged);
    }
    let points: Vec<PointStruct> = order
        .into_iter()
        .filter_map(|id| {
            let (payload, vector) = touched.remove(&id)?;
            Some(PointStruct::new(id, vector, payload))
        })
        .collect();
    if !points.is_empty() {
        col.upsert(points, true)?;
    }
    w.next_seq = Some(next_seq);
    Ok(())
}

/// One record after a write: metadata merged (null deletes), document/uri/embedding replaced
/// when given.
fn merge(
    mut payload: Payload,
    mut vector: Vec<f32>,
    x: &RecordWrite,
    space: Distance,
) -> (Payload, Vec<f32>) {
    if let Some(m) = &x.metadata {
        for (k, v) in m {
            if v.is_null() {
                payload.remove(k);
            } else {
                payload.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(d) = &x.document {
        payload.insert(DOCUMENT_KEY.into(), Value::String(d.clone()));
    }
    if let Some(u) = &x.uri {
        payload.insert(URI_KEY.into(), Value::String(u.clone()));
    }
    if let Some(e) = &x.embedding {
        vector = e.clone();
        if space == Distance::Cosine {
            payload.insert(NORM_KEY.into(), Value::from(norm(e)));
        }
    }
    (payload, vector)
}
