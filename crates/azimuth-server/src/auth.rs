//! API keys: a full-access key and a read-only key, from the `api-key` header or
//! `Authorization: Bearer`. Health paths stay open.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

fn presented(req: &Request) -> Option<&str> {
    let h = req.headers();
    if let Some(k) = h.get("api-key").and_then(|v| v.to_str().ok()) {
        return Some(k);
    }
    h.get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

fn is_open_path(path: &str) -> bool {
    path == "/" || path == "/healthz" || path.starts_with("/readyz") || path.starts_with("/livez")
}

/// POSTs that only read.
fn is_read_post(path: &str) -> bool {
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

pub async fn check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let cfg = &state.config;
    if (cfg.api_key.is_none() && cfg.read_only_api_key.is_none()) || is_open_path(req.uri().path())
    {
        return next.run(req).await;
    }
    let Some(key) = presented(&req) else {
        return (
            StatusCode::UNAUTHORIZED,
            "Must provide an API key or an Authorization bearer token",
        )
            .into_response();
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
            return (
                StatusCode::FORBIDDEN,
                "Forbidden: this API key may only read",
            )
                .into_response();
        }
        return next.run(req).await;
    }
    (StatusCode::UNAUTHORIZED, "Invalid API key or JWT").into_response()
}
