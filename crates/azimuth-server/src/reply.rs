//! Qdrant's response envelope, request timing, and the one mapping from engine errors to HTTP.

use std::time::Instant;

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use azimuth_engine::{Error, ErrorKind};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

tokio::task_local! {
    static START: Instant;
}

/// Middleware: records when the request started so envelopes can report `time`.
pub async fn timed(req: Request, next: Next) -> Response {
    START.scope(Instant::now(), next.run(req)).await
}

fn elapsed() -> f64 {
    START.try_with(|s| s.elapsed().as_secs_f64()).unwrap_or(0.0)
}

/// A successful result: `{"result": ..., "status": "ok", "time": seconds}`.
pub struct Reply(pub Value);

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        axum::Json(json!({"result": self.0, "status": "ok", "time": elapsed()})).into_response()
    }
}

/// An error answered as `{"status": {"error": message}, "time": seconds}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(msg: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: format!("Bad request: {msg}"),
        }
    }

    pub fn unprocessable(msg: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!("Validation error in JSON body: {msg}"),
        }
    }

    pub fn not_found(msg: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: format!("Not found: {msg}"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"status": {"error": self.message}, "time": elapsed()});
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (status, prefix) = match e.kind() {
            ErrorKind::InvalidArgument => (StatusCode::BAD_REQUEST, "Wrong input"),
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "Not found"),
            ErrorKind::AlreadyExists => (StatusCode::CONFLICT, "Wrong input"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "Conflict"),
            ErrorKind::ResourceExhausted => (StatusCode::BAD_REQUEST, "Bad request"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "Service internal error"),
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "engine error");
        }
        let detail = match &e {
            Error::InvalidArgument(m)
            | Error::NotFound(m)
            | Error::AlreadyExists(m)
            | Error::ResourceExhausted(m) => m.clone(),
            other => other.to_string(),
        };
        ApiError {
            status,
            message: format!("{prefix}: {detail}"),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        tracing::error!(error = %e, "engine task failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "Service internal error: task failed".into(),
        }
    }
}

pub type ApiResult = Result<Reply, ApiError>;

/// Single searches of collections up to this many points run on the async worker that
/// received them (see `api::qdrant::query`): the longest such search, an exact scan of
/// every row before the index exists, stays in the tens of milliseconds.
pub const INLINE_SEARCH_MAX_POINTS: usize = 250_000;

/// Runs engine work on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await?
}

/// A body already parsed by the caller (the gRPC API, which builds its REST bodies as
/// values): set as a request extension, [`Body`] takes it instead of reading the bytes.
#[derive(Clone)]
pub struct PreParsed(pub Value);

/// A body already built as the handler's own type (the gRPC API's upserts, whose vectors
/// arrive as floats): [`Body`] takes it when the types match.
#[derive(Clone)]
pub struct PreTyped(std::sync::Arc<std::sync::Mutex<Option<Box<dyn std::any::Any + Send>>>>);

impl PreTyped {
    pub fn new<T: std::any::Any + Send>(v: T) -> Self {
        PreTyped(std::sync::Arc::new(std::sync::Mutex::new(Some(Box::new(
            v,
        )))))
    }

    fn take<T: 'static>(&self) -> Option<T> {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.take()?.downcast::<T>() {
            Ok(t) => Some(*t),
            Err(other) => {
                *slot = Some(other);
                None
            }
        }
    }
}

/// A JSON body that answers malformed input with Qdrant's 400 envelope (axum's own `Json`
/// would answer 422 in plain text). An empty body parses as `{}`.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + 'static> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(mut req: Request, state: &S) -> Result<Self, ApiError> {
        if let Some(t) = req
            .extensions()
            .get::<PreTyped>()
            .and_then(PreTyped::take::<T>)
        {
            return Ok(Body(t));
        }
        if let Some(PreParsed(v)) = req.extensions_mut().remove::<PreParsed>() {
            return serde_json::from_value(v)
                .map(Body)
                .map_err(|e| ApiError::bad_request(format!("Format error in JSON body: {e}")));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError {
                status: e.status(),
                message: format!("Bad request: {}", e.body_text()),
            })?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes)
            .map(Body)
            .map_err(|e| ApiError::bad_request(format!("Format error in JSON body: {e}")))
    }
}
