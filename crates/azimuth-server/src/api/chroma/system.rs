//! System routes (heartbeat, version, pre-flight checks, identity, reset, healthcheck) and
//! tenants and databases.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::catalog::{DEFAULT_DATABASE, DEFAULT_TENANT};
use super::error::{blocking, ChromaError, ChromaJson, ChromaResult};
use super::names;
use super::ChromaState;

/// The largest batch the client may send in one write (it chunks by this itself).
pub const MAX_BATCH_SIZE: usize = 5461;

pub async fn heartbeat() -> Json<Value> {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Json(json!({ "nanosecond heartbeat": ns as u64 }))
}

/// The official server reports "1.0.0" (the API version); the client does not check it.
pub async fn version() -> Json<Value> {
    Json(json!("1.0.0"))
}

pub async fn pre_flight(State(s): State<ChromaState>) -> Json<Value> {
    Json(json!({
        "max_batch_size": s.max_batch.clamp(1, MAX_BATCH_SIZE),
        "supports_base64_encoding": true,
    }))
}

pub async fn identity() -> Json<Value> {
    Json(json!({
        "user_id": "",
        "tenant": DEFAULT_TENANT,
        "databases": [DEFAULT_DATABASE],
    }))
}

pub async fn reset() -> ChromaError {
    ChromaError::other(StatusCode::FORBIDDEN, "Reset is disabled by config")
}

pub async fn healthcheck() -> Json<Value> {
    Json(json!({"is_executor_ready": true, "is_log_client_ready": true}))
}

pub async fn v1_gone() -> ChromaError {
    ChromaError {
        status: StatusCode::GONE,
        name: "Unimplemented",
        message: "The v1 API is deprecated. Please use /v2 apis".into(),
    }
}

#[derive(Deserialize)]
pub struct NameBody {
    name: String,
}

pub async fn create_tenant(
    State(s): State<ChromaState>,
    ChromaJson(body): ChromaJson<NameBody>,
) -> ChromaResult<Json<Value>> {
    names::check_tenant_name(&body.name)?;
    blocking(move || s.chroma.with(|c| c.create_tenant(&body.name))).await?;
    Ok(Json(json!({})))
}

pub async fn get_tenant(
    State(s): State<ChromaState>,
    Path(tenant): Path<String>,
) -> ChromaResult<Json<Value>> {
    let t = tenant.clone();
    blocking(move || s.chroma.with(|c| c.require_tenant(&t))).await?;
    Ok(Json(json!({"name": tenant, "resource_name": null})))
}

pub async fn create_database(
    State(s): State<ChromaState>,
    Path(tenant): Path<String>,
    ChromaJson(body): ChromaJson<NameBody>,
) -> ChromaResult<Json<Value>> {
    names::check_database_name(&body.name)?;
    blocking(move || s.chroma.with(|c| c.create_database(&tenant, &body.name))).await?;
    Ok(Json(json!({})))
}

fn database_json(d: &super::catalog::DatabaseRecord) -> Value {
    json!({"id": d.id, "name": d.name, "tenant": d.tenant})
}

fn short_name(name: &str) -> ChromaResult<()> {
    if name.chars().count() < 3 {
        return Err(ChromaError::invalid(
            "database name must be at least 3 characters",
        ));
    }
    Ok(())
}

pub async fn get_database(
    State(s): State<ChromaState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ChromaResult<Json<Value>> {
    short_name(&name)?;
    let d = blocking(move || {
        s.chroma
            .with(|c| c.require_database(&tenant, &name).map(database_json))
    })
    .await?;
    Ok(Json(d))
}

/// `limit` / `offset` query parameters (absent, or unsigned integers).
pub fn paging(q: &HashMap<String, String>) -> ChromaResult<(usize, usize)> {
    let num = |k: &str| -> ChromaResult<Option<usize>> {
        q.get(k)
            .map(|v| {
                v.parse::<usize>().map_err(|_| {
                    ChromaError::invalid(format!("Failed to deserialize query string: {k}={v}"))
                })
            })
            .transpose()
    };
    Ok((
        num("offset")?.unwrap_or(0),
        num("limit")?.unwrap_or(usize::MAX),
    ))
}

pub async fn list_databases(
    State(s): State<ChromaState>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ChromaResult<Json<Value>> {
    let (offset, limit) = paging(&q)?;
    let list = blocking(move || s.chroma.with(|c| Ok(c.databases(&tenant)))).await?;
    Ok(Json(Value::Array(
        list.iter()
            .skip(offset)
            .take(limit)
            .map(database_json)
            .collect(),
    )))
}

pub async fn delete_database(
    State(s): State<ChromaState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ChromaResult<Json<Value>> {
    blocking(move || s.chroma.with(|c| c.delete_database(&tenant, &name))).await?;
    Ok(Json(json!({})))
}
