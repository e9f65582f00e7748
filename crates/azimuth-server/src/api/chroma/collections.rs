//! Collection routes: create / get-or-create, get (by name or id), list, count, modify
//! (by id), delete (by name), and the record routes of one collection (by id).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::catalog::View;
use super::config::{self, CreateConfiguration, UpdateConfiguration};
use super::error::{blocking, ChromaError, ChromaJson, ChromaResult};
use super::filter::parse_both;
use super::records::{self, WriteKind};
use super::wire::{self, DeleteBody, GetBody, Include, QueryBody, WriteBody};
use super::{names, system, ChromaState};

#[derive(Deserialize)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    configuration: Option<CreateConfiguration>,
    #[serde(default)]
    #[allow(dead_code)]
    schema: Option<Value>,
    #[serde(default)]
    get_or_create: bool,
}

#[derive(Deserialize)]
pub struct ModifyBody {
    #[serde(default)]
    new_name: Option<String>,
    #[serde(default)]
    new_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    new_configuration: Option<UpdateConfiguration>,
}

fn collection_metadata(
    field: &str,
    m: Option<Map<String, Value>>,
) -> ChromaResult<Option<Map<String, Value>>> {
    match m {
        Some(m) if m.is_empty() => Err(ChromaError::invalid(format!(
            "Validation error: {field}: Metadata cannot be empty"
        ))),
        Some(m) => Ok(Some(wire::check_metadata(field, 0, &m, false)?)),
        None => Ok(None),
    }
}

pub async fn create(
    State(s): State<ChromaState>,
    Path((tenant, database)): Path<(String, String)>,
    ChromaJson(body): ChromaJson<CreateBody>,
) -> ChromaResult<Json<Value>> {
    names::check_collection_name(&body.name)?;
    let metadata = collection_metadata("metadata", body.metadata)?;
    let configuration = config::resolve(metadata.as_ref(), body.configuration.as_ref())?;
    let view = blocking(move || {
        s.chroma.with(|c| {
            c.require_database(&tenant, &database)?;
            if let Some(v) = c.by_name(&tenant, &database, &body.name) {
                if body.get_or_create {
                    return Ok(v);
                }
                return Err(ChromaError::already_exists(format!(
                    "Collection [{}] already exists",
                    body.name
                )));
            }
            c.create(&tenant, &database, &body.name, metadata, configuration)
        })
    })
    .await?;
    Ok(Json(view.to_json()))
}

pub async fn list(
    State(s): State<ChromaState>,
    Path((tenant, database)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ChromaResult<Json<Value>> {
    let (offset, limit) = system::paging(&q)?;
    let mut views = blocking(move || {
        s.chroma.with(|c| {
            c.require_database(&tenant, &database)?;
            Ok(c.list(&tenant, &database))
        })
    })
    .await?;
    views.sort_by(|a, b| a.record.id.cmp(&b.record.id));
    Ok(Json(Value::Array(
        views
            .iter()
            .skip(offset)
            .take(limit)
            .map(View::to_json)
            .collect(),
    )))
}

pub async fn count(
    State(s): State<ChromaState>,
    Path((tenant, database)): Path<(String, String)>,
) -> ChromaResult<Json<Value>> {
    let n = blocking(move || {
        s.chroma.with(|c| {
            c.require_database(&tenant, &database)?;
            Ok(c.list(&tenant, &database).len())
        })
    })
    .await?;
    Ok(Json(json!(n)))
}

pub async fn get_by_name(
    State(s): State<ChromaState>,
    Path((tenant, database, name)): Path<(String, String, String)>,
) -> ChromaResult<Json<Value>> {
    let v = blocking(move || {
        s.chroma.with(|c| {
            c.require_database(&tenant, &database)?;
            c.by_name(&tenant, &database, &name)
                .ok_or_else(|| ChromaError::no_collection(&name))
        })
    })
    .await?;
    Ok(Json(v.to_json()))
}

pub async fn get_by_id(
    State(s): State<ChromaState>,
    Path((tenant, database, id)): Path<(String, String, String)>,
) -> ChromaResult<Json<Value>> {
    let v = blocking(move || {
        s.chroma.with(|c| {
            c.require_database(&tenant, &database)?;
            c.by_id(&tenant, &database, &id)
                .ok_or_else(|| ChromaError::no_collection(&id))
        })
    })
    .await?;
    Ok(Json(v.to_json()))
}

pub async fn modify(
    State(s): State<ChromaState>,
    Path((tenant, database, id)): Path<(String, String, String)>,
    ChromaJson(body): ChromaJson<ModifyBody>,
) -> ChromaResult<Json<Value>> {
    if let Some(n) = &body.new_name {
        names::check_collection_name(n)?;
    }
    let metadata = collection_metadata("new_metadata", body.new_metadata)?;
    blocking(move || {
        let view = records::find(&s.chroma, &tenant, &database, &id)?;
        let configuration = body
            .new_configuration
            .as_ref()
            .map(|u| config::apply_update(&view.record.configuration, u));
        s.chroma
            .with(|c| c.modify(&view, body.new_name, metadata, configuration))
    })
    .await?;
    Ok(Json(json!({})))
}

pub async fn delete(
    State(s): State<ChromaState>,
    Path((tenant, database, name)): Path<(String, String, String)>,
) -> ChromaResult<Json<Value>> {
    blocking(move || {
        s.chroma.with(|c| {
            c.require_database(&tenant, &database)?;
            let v = c
                .by_name(&tenant, &database, &name)
                .ok_or_else(|| ChromaError::no_collection(&name))?;
            c.delete(&v)
        })
    })
    .await?;
    Ok(Json(json!({})))
}

// ---- records -------------------------------------------------------------------------------

async fn write(
    s: ChromaState,
    (tenant, database, id): (String, String, String),
    body: WriteBody,
    kind: WriteKind,
) -> ChromaResult<()> {
    let (writes, dim) =
        wire::record_writes(body, kind != WriteKind::Update, kind != WriteKind::Add)?;
    blocking(move || {
        let view = records::find(&s.chroma, &tenant, &database, &id)?;
        records::write(&s.chroma, &view, kind, writes, dim)
    })
    .await
}

pub async fn add(
    State(s): State<ChromaState>,
    Path(p): Path<(String, String, String)>,
    ChromaJson(body): ChromaJson<WriteBody>,
) -> ChromaResult<(StatusCode, Json<Value>)> {
    write(s, p, body, WriteKind::Add).await?;
    Ok((StatusCode::CREATED, Json(json!({}))))
}

pub async fn upsert(
    State(s): State<ChromaState>,
    Path(p): Path<(String, String, String)>,
    ChromaJson(body): ChromaJson<WriteBody>,
) -> ChromaResult<Json<Value>> {
    write(s, p, body, WriteKind::Upsert).await?;
    Ok(Json(json!({})))
}

pub async fn update(
    State(s): State<ChromaState>,
    Path(p): Path<(String, String, String)>,
    ChromaJson(body): ChromaJson<WriteBody>,
) -> ChromaResult<Json<Value>> {
    write(s, p, body, WriteKind::Update).await?;
    Ok(Json(json!({})))
}

pub async fn get(
    State(s): State<ChromaState>,
    Path((tenant, database, id)): Path<(String, String, String)>,
    ChromaJson(body): ChromaJson<GetBody>,
) -> ChromaResult<Json<Value>> {
    let filter = parse_both(body.where_.as_ref(), body.where_document.as_ref())?;
    let include = body
        .include
        .unwrap_or_else(|| vec![Include::Metadatas, Include::Documents]);
    let out = blocking(move || {
        let view = records::find(&s.chroma, &tenant, &database, &id)?;
        super::read::get(
            view.engine.as_deref(),
            body.ids.as_deref(),
            filter.as_ref(),
            body.offset.unwrap_or(0),
            body.limit,
            &include,
        )
    })
    .await?;
    Ok(Json(out))
}

pub async fn query(
    State(s): State<ChromaState>,
    Path((tenant, database, id)): Path<(String, String, String)>,
    ChromaJson(body): ChromaJson<QueryBody>,
) -> ChromaResult<Json<Value>> {
    let filter = parse_both(body.where_.as_ref(), body.where_document.as_ref())?;
    let include = body
        .include
        .clone()
        .unwrap_or_else(|| vec![Include::Documents, Include::Metadatas, Include::Distances]);
    let out = blocking(move || {
        let view = records::find(&s.chroma, &tenant, &database, &id)?;
        // The collection's `ef_search` (`hnsw:search_ef`) is the beam width of graph walks.
        let ef = super::config::hnsw_of(&view.record.configuration).ef_search;
        super::read::query(
            view.engine.as_deref(),
            &body.query_embeddings,
            body.n_results.unwrap_or(10),
            body.ids.as_deref(),
            filter.as_ref(),
            &include,
            usize::try_from(ef).ok().filter(|&e| e > 0),
        )
    })
    .await?;
    Ok(Json(out))
}

pub async fn delete_records(
    State(s): State<ChromaState>,
    Path((tenant, database, id)): Path<(String, String, String)>,
    ChromaJson(body): ChromaJson<DeleteBody>,
) -> ChromaResult<Json<Value>> {
    let filter = parse_both(body.where_.as_ref(), body.where_document.as_ref())?;
    let n = blocking(move || {
        let view = records::find(&s.chroma, &tenant, &database, &id)?;
        let writer = view.engine.as_ref().map(|c| s.chroma.writer(c));
        let _guard = writer.as_deref().map(super::catalog::lock_writer);
        super::read::delete(
            view.engine.as_deref(),
            body.ids.as_deref(),
            filter.as_ref(),
            body.limit,
        )
    })
    .await?;
    Ok(Json(json!({ "deleted": n })))
}

pub async fn count_records(
    State(s): State<ChromaState>,
    Path((tenant, database, id)): Path<(String, String, String)>,
) -> ChromaResult<Json<Value>> {
    let n = blocking(move || {
        let view = records::find(&s.chroma, &tenant, &database, &id)?;
        Ok(view.engine.as_ref().map_or(0, |c| c.len()))
    })
    .await?;
    Ok(Json(json!(n)))
}

/// Routes the official local server does not implement either.
pub async fn not_implemented() -> ChromaError {
    ChromaError::other(
        StatusCode::NOT_IMPLEMENTED,
        "This operation is not implemented for local chroma",
    )
}
