//! Chroma's error body (`{"error": <name>, "message": …}`), the one mapping from engine errors
//! to it, and the JSON body extractor that answers malformed input the way Chroma does (422).
//!
//! The client raises the exception class named by `error` (see the spec's §1 table), so the
//! names here are part of the protocol.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use azimuth_engine::{Error, ErrorKind};
use serde::de::DeserializeOwned;
use serde_json::json;

/// An error as the Chroma client expects it.
#[derive(Debug)]
pub struct ChromaError {
    pub status: StatusCode,
    /// The client's exception name: `InvalidArgumentError`, `NotFoundError`, …
    pub name: &'static str,
    pub message: String,
}

pub type ChromaResult<T> = Result<T, ChromaError>;

impl ChromaError {
    /// 400 `InvalidArgumentError`.
    pub fn invalid(msg: impl Into<String>) -> Self {
        ChromaError {
            status: StatusCode::BAD_REQUEST,
            name: "InvalidArgumentError",
            message: msg.into(),
        }
    }

    /// 404 `NotFoundError`.
    pub fn not_found(msg: impl Into<String>) -> Self {
        ChromaError {
            status: StatusCode::NOT_FOUND,
            name: "NotFoundError",
            message: msg.into(),
        }
    }

    /// 409 `ChromaError` (what the official server sends for "already exists").
    pub fn already_exists(msg: impl Into<String>) -> Self {
        ChromaError {
            status: StatusCode::CONFLICT,
            name: "ChromaError",
            message: msg.into(),
        }
    }

    /// 422 `ChromaError`: the body does not deserialize into the request type.
    pub fn unprocessable(msg: impl std::fmt::Display) -> Self {
        ChromaError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            name: "ChromaError",
            message: format!("Failed to deserialize the JSON body into the target type: {msg}"),
        }
    }

    /// Another status answered with the base `ChromaError` name (403, 410, 501, …).
    pub fn other(status: StatusCode, msg: impl Into<String>) -> Self {
        ChromaError {
            status,
            name: "ChromaError",
            message: msg.into(),
        }
    }

    /// 500 `InternalError`.
    pub fn internal(msg: impl Into<String>) -> Self {
        ChromaError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            name: "InternalError",
            message: msg.into(),
        }
    }

    /// `Collection [x] does not exist` (404).
    pub fn no_collection(x: &str) -> Self {
        Self::not_found(format!("Collection [{x}] does not exist"))
    }
}

impl IntoResponse for ChromaError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.name, "message": self.message});
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<Error> for ChromaError {
    fn from(e: Error) -> Self {
        let detail = match &e {
            Error::InvalidArgument(m)
            | Error::NotFound(m)
            | Error::AlreadyExists(m)
            | Error::ResourceExhausted(m) => m.clone(),
            other => other.to_string(),
        };
        match e.kind() {
            ErrorKind::InvalidArgument | ErrorKind::ResourceExhausted => Self::invalid(detail),
            ErrorKind::NotFound => Self::not_found(detail),
            ErrorKind::AlreadyExists | ErrorKind::Conflict => Self::already_exists(detail),
            _ => {
                tracing::error!(error = %e, "engine error");
                Self::internal(detail)
            }
        }
    }
}

impl From<tokio::task::JoinError> for ChromaError {
    fn from(e: tokio::task::JoinError) -> Self {
        tracing::error!(error = %e, "engine task failed");
        Self::internal("task failed")
    }
}

/// Runs engine work on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ChromaResult<T> + Send + 'static,
) -> ChromaResult<T> {
    tokio::task::spawn_blocking(f).await?
}

/// A JSON request body; malformed or mistyped input is a 422 `ChromaError`, as on the
/// official server. An empty body parses as `{}`.
pub struct ChromaJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ChromaJson<T> {
    type Rejection = ChromaError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ChromaError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ChromaError::other(e.status(), e.body_text()))?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes)
            .map(ChromaJson)
            .map_err(ChromaError::unprocessable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_client_exception_names() {
        let e: ChromaError = Error::InvalidArgument("x".into()).into();
        assert_eq!((e.status.as_u16(), e.name), (400, "InvalidArgumentError"));
        let e: ChromaError = Error::NotFound("x".into()).into();
        assert_eq!((e.status.as_u16(), e.name), (404, "NotFoundError"));
        let e: ChromaError = Error::AlreadyExists("x".into()).into();
        assert_eq!((e.status.as_u16(), e.name), (409, "ChromaError"));
        let e: ChromaError = Error::Internal("x".into()).into();
        assert_eq!((e.status.as_u16(), e.name), (500, "InternalError"));
    }
}
