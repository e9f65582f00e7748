//! Collection snapshots: create, list, download, delete, recover from a server-local file or
//! from an upload.

use std::collections::BTreeMap;

use axum::body::Body as HttpBody;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use azimuth_engine::SnapshotInfo;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use super::wire::{object, wait_param};
use crate::reply::{blocking, ApiError, ApiResult, Body, Reply};
use crate::AppState;

type Params = Query<BTreeMap<String, String>>;

fn describe(i: &SnapshotInfo) -> Value {
    json!({"name": i.name, "creation_time": i.creation_time, "size": i.size, "checksum": i.checksum})
}

pub async fn list(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    blocking(move || {
        Ok(Reply(Value::Array(
            s.db.list_snapshots(&name)?.iter().map(describe).collect(),
        )))
    })
    .await
}

pub async fn create(
    State(s): State<AppState>,
    Path(name): Path<String>,
    q: Params,
) -> Result<Response, ApiError> {
    s.db.collection(&name)?;
    make_snapshot(&q, move || s.db.create_snapshot(&name)).await
}

/// Starts writing a snapshot on the blocking pool; with `wait` (the default) answers with its
/// description when done, else at once with 202 `accepted`.
async fn make_snapshot(
    q: &Params,
    make: impl FnOnce() -> azimuth_engine::Result<SnapshotInfo> + Send + 'static,
) -> Result<Response, ApiError> {
    let wait = match q.get("wait") {
        None => true,
        Some(_) => wait_param(q)?,
    };
    let task = tokio::task::spawn_blocking(make);
    if !wait {
        return Ok((
            StatusCode::ACCEPTED,
            axum::Json(json!({"status": "accepted", "time": 0.0})),
        )
            .into_response());
    }
    let info = task.await??;
    Ok(Reply(describe(&info)).into_response())
}

pub async fn delete(
    State(s): State<AppState>,
    Path((name, snap)): Path<(String, String)>,
) -> ApiResult {
    blocking(move || {
        s.db.delete_snapshot(&name, &snap)?;
        Ok(Reply(json!(true)))
    })
    .await
}

pub async fn download(
    State(s): State<AppState>,
    Path((name, snap)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (file, info) = blocking(move || Ok(s.db.open_snapshot(&name, &snap)?)).await?;
    Ok(send_file(file, &info))
}

/// `GET /snapshots`: the whole-storage snapshots.
pub async fn full_list(State(s): State<AppState>) -> ApiResult {
    blocking(move || {
        Ok(Reply(Value::Array(
            s.db.list_full_snapshots()?.iter().map(describe).collect(),
        )))
    })
    .await
}

/// `POST /snapshots?wait=`: a snapshot of every collection, the aliases and the Chroma
/// catalog in one archive.
pub async fn full_create(State(s): State<AppState>, q: Params) -> Result<Response, ApiError> {
    make_snapshot(&q, move || s.db.create_full_snapshot()).await
}

pub async fn full_delete(State(s): State<AppState>, Path(snap): Path<String>) -> ApiResult {
    blocking(move || {
        s.db.delete_full_snapshot(&snap)?;
        Ok(Reply(json!(true)))
    })
    .await
}

pub async fn full_download(
    State(s): State<AppState>,
    Path(snap): Path<String>,
) -> Result<Response, ApiError> {
    let (file, info) = blocking(move || Ok(s.db.open_full_snapshot(&snap)?)).await?;
    Ok(send_file(file, &info))
}

fn send_file(file: std::fs::File, info: &SnapshotInfo) -> Response {
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, info.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", info.name),
            ),
        ],
        HttpBody::from_stream(stream),
    )
        .into_response()
}

/// `PUT .../snapshots/recover` with `{"location": "file:///abs/path", "checksum"?}`.
pub async fn recover(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    let m = object(&b, "request body")?;
    let location = m
        .get("location")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("location is required"))?;
    let checksum = m
        .get("checksum")
        .and_then(Value::as_str)
        .map(str::to_string);
    let Some(path) = location.strip_prefix("file://") else {
        return Err(ApiError::bad_request(
            "only file:// locations on the server are supported; upload the archive to .../snapshots/upload instead",
        ));
    };
    let path = std::path::PathBuf::from(path);
    if !path.is_absolute() {
        return Err(ApiError::bad_request(
            "file:// locations must be absolute paths",
        ));
    }
    blocking(move || {
        s.db.recover_snapshot_file(&name, &path, checksum.as_deref())?;
        Ok(Reply(json!(true)))
    })
    .await
}

/// `POST .../snapshots/upload?checksum=`: multipart form with the archive in field `snapshot`,
/// spooled to a file beside the data and recovered from there.
pub async fn upload(
    State(s): State<AppState>,
    Path(name): Path<String>,
    q: Params,
    mut form: Multipart,
) -> ApiResult {
    let checksum = q.get("checksum").cloned();
    static UPLOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = UPLOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let spool = s
        .config
        .data_dir
        .join(format!(".upload-{}-{n}.snapshot", std::process::id()));
    let mut found = false;
    let result = async {
        while let Some(mut field) = form
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?
        {
            if field.name() != Some("snapshot") {
                continue;
            }
            let mut f = tokio::fs::File::create(&spool)
                .await
                .map_err(|e| ApiError::bad_request(format!("cannot spool upload: {e}")))?;
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| ApiError::bad_request(e.body_text()))?
            {
                f.write_all(&chunk)
                    .await
                    .map_err(|e| ApiError::bad_request(format!("cannot spool upload: {e}")))?;
            }
            f.flush()
                .await
                .map_err(|e| ApiError::bad_request(format!("cannot spool upload: {e}")))?;
            found = true;
            break;
        }
        if !found {
            return Err(ApiError::bad_request(
                "multipart form needs a file field named \"snapshot\"",
            ));
        }
        let (db, path) = (s.db.clone(), spool.clone());
        blocking(move || {
            db.recover_snapshot_file(&name, &path, checksum.as_deref())?;
            Ok(Reply(json!(true)))
        })
        .await
    }
    .await;
    let _ = tokio::fs::remove_file(&spool).await;
    result
}
