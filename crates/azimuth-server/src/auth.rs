//! API keys: a full-access key and a read-only key, from the `api-key` header,
//! `Authorization: Bearer` or Chroma's `X-Chroma-Token`. Health paths (and Chroma's heartbeat
//! and version) stay open. Refusals on Chroma paths use Chroma's error body, so its client
//! raises `AuthorizationError` (401) or `ChromaAuthError` (403).

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

fn presented(req: &Request) -> Option<&str> {
    let h = req.headers();
    for name in ["api-key", "x-chroma-token"] {
        if let Some(k) = h.get(name).and_then(|v| v.to_str().ok()) {
            return Some(k);
        }
    }
    h.get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

fn is_open_path(path: &str) -> bool {
    path == "/"
        || path == "/healthz"
        || path.starts_with("/readyz")
        || path.starts_with("/livez")
        || matches!(
            path,
            "/api/v2" | "/api/v2/" | "/api/v2/heartbeat" | "/api/v2/version"
        )
}

/// POSTs that only read.
fn is_read_post(path: &str) -> bool {
    if let Some(chroma) = path.strip_prefix("/api/v2/") {
        return chroma.ends_with("/get") || chroma.ends_with("/query");
    }
    const READ_SUFFIXES: [&str; 5] = [
        "/points",
        "/points/scroll",
        "/points/count",
        "/facet",
        "/exists",
    ];
    READ_SUFFIXES.iter().any(|s| path.ends_with(s))
        || [
            "/points/query",
            "/points/search",
            "/points/recommend",
            "/points/discover",
        ]
        .iter()
        .any(|p| path.contains(p))
}

fn is_write(req: &Request) -> bool {
    match *req.method() {
        Method::GET | Method::HEAD | Method::OPTIONS => false,
        Method::POST => !is_read_post(req.uri().path()),
        _ => true,
    }
}

/// Constant-time comparison so a key can't be guessed byte by byte from timings.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A refusal in the caller's protocol: Chroma's error body under `/api/`, plain text otherwise.
fn refuse(req: &Request, status: StatusCode, msg: &'static str) -> Response {
    if req.uri().path().starts_with("/api/") {
        let name = if status == StatusCode::FORBIDDEN {
            "AuthError"
        } else {
            "AuthorizationError"
        };
        let body = serde_json::json!({"error": name, "message": msg});
        return (status, axum::Json(body)).into_response();
    }
    (status, msg).into_response()
}

pub async fn check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let cfg = &state.config;
    if (cfg.api_key.is_none() && cfg.read_only_api_key.is_none()) || is_open_path(req.uri().path())
    {
        return next.run(req).await;
    }
    let Some(key) = presented(&req) else {
        return refuse(
            &req,
            StatusCode::UNAUTHORIZED,
            "Must provide an API key or an Authorization bearer token",
        );
    };
    if cfg.api_key.as_deref().is_some_and(|k| same(k, key)) {
        return next.run(req).await;
    }
    if cfg
        .read_only_api_key
        .as_deref()
        .is_some_and(|k| same(k, key))
    {
        if is_write(&req) {
            return refuse(
                &req,
                StatusCode::FORBIDDEN,
                "Forbidden: this API key may only read",
            );
        }
        return next.run(req).await;
    }
    refuse(&req, StatusCode::UNAUTHORIZED, "Invalid API key or JWT")
}
