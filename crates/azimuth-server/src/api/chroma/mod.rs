//! The Chroma HTTP API v2 under `/api/v2` (as `chromadb.HttpClient` / `AsyncHttpClient`
//! 1.5 use it; see `shared/reference/chroma-http.md`), on the same engine as the Qdrant API.
//!
//! Layout: `wire.rs` (record bodies, embeddings, metadata checks), `filter.rs` (`where` /
//! `where_document`), `config.rs` (collection configuration and schema), `catalog.rs`
//! (tenants, databases, Chroma collections ↔ engine collections), `records.rs` (writes and the
//! payload layout), `read.rs` (get, query, delete, count), `collections.rs` and `system.rs`
//! (handlers), `error.rs` (Chroma's error body and the engine-error mapping).
//!
//! Every success answers a JSON body; every error `{"error": <exception name>, "message"}`.

mod catalog;
mod collections;
mod config;
mod error;
mod filter;
mod names;
mod read;
mod records;
mod system;
mod wire;

use std::sync::Arc;

use axum::routing::{any, get, post};
use axum::Router;

use crate::AppState;
pub use catalog::Chroma;

/// State of the Chroma handlers.
#[derive(Clone)]
pub struct ChromaState {
    pub chroma: Arc<Chroma>,
    pub max_batch: usize,
}

/// The route table; `{tenant}`, `{database}`, `{collection_id}` / `{name}` as in Chroma's
/// OpenAPI document. GET and DELETE of `collections/{x}` take the name, PUT and the record
/// routes take the UUID.
#[cfg_attr(not(test), allow(dead_code))]
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("get", "/api/v2"),
    ("get", "/api/v2/heartbeat"),
    ("get", "/api/v2/version"),
    ("get", "/api/v2/pre-flight-checks"),
    ("get", "/api/v2/auth/identity"),
    ("get", "/api/v2/healthcheck"),
    ("post", "/api/v2/reset"),
    ("post", "/api/v2/tenants"),
    ("get", "/api/v2/tenants/{tenant}"),
    ("get", "/api/v2/tenants/{tenant}/databases"),
    ("post", "/api/v2/tenants/{tenant}/databases"),
    ("get", "/api/v2/tenants/{tenant}/databases/{database}"),
    ("delete", "/api/v2/tenants/{tenant}/databases/{database}"),
    (
        "get",
        "/api/v2/tenants/{tenant}/databases/{database}/collections",
    ),
    (
        "post",
        "/api/v2/tenants/{tenant}/databases/{database}/collections",
    ),
    (
        "get",
        "/api/v2/tenants/{tenant}/databases/{database}/collections_count",
    ),
    (
        "get",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{name}",
    ),
    (
        "delete",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{name}",
    ),
    (
        "put",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}",
    ),
    (
        "get",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/by-id/{collection_id}",
    ),
    (
        "post",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/add",
    ),
    (
        "post",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/upsert",
    ),
    (
        "post",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/update",
    ),
    (
        "post",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/get",
    ),
    (
        "post",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/query",
    ),
    (
        "post",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/delete",
    ),
    (
        "get",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/count",
    ),
];

pub fn router(state: &AppState, chroma: Arc<Chroma>) -> Router {
    let s = ChromaState {
        chroma,
        max_batch: state.config.max_batch,
    };
    let t = "/api/v2/tenants/{tenant}";
    let d = "/api/v2/tenants/{tenant}/databases/{database}";
    // One segment serves both the name (GET, DELETE) and the UUID (PUT, records).
    let c = format!("{d}/collections/{{x}}");
    Router::new()
        .route("/api/v2", get(system::heartbeat))
        .route("/api/v2/", get(system::heartbeat))
        .route("/api/v2/heartbeat", get(system::heartbeat))
        .route("/api/v2/version", get(system::version))
        .route("/api/v2/pre-flight-checks", get(system::pre_flight))
        .route("/api/v2/auth/identity", get(system::identity))
        .route("/api/v2/healthcheck", get(system::healthcheck))
        .route("/api/v2/reset", post(system::reset))
        .route("/api/v2/tenants", post(system::create_tenant))
        .route(t, get(system::get_tenant))
        .route(
            &format!("{t}/databases"),
            get(system::list_databases).post(system::create_database),
        )
        .route(
            &format!("{t}/databases/{{database}}"),
            get(system::get_database).delete(system::delete_database),
        )
        .route(
            &format!("{d}/collections"),
            get(collections::list).post(collections::create),
        )
        .route(&format!("{d}/collections_count"), get(collections::count))
        .route(
            &c,
            get(collections::get_by_name)
                .put(collections::modify)
                .delete(collections::delete),
        )
        .route(
            &format!("{d}/collections/by-id/{{x}}"),
            get(collections::get_by_id),
        )
        .route(&format!("{c}/add"), post(collections::add))
        .route(&format!("{c}/upsert"), post(collections::upsert))
        .route(&format!("{c}/update"), post(collections::update))
        .route(&format!("{c}/get"), post(collections::get))
        .route(&format!("{c}/query"), post(collections::query))
        .route(&format!("{c}/delete"), post(collections::delete_records))
        .route(&format!("{c}/count"), get(collections::count_records))
        .route(&format!("{c}/fork"), post(collections::not_implemented))
        .route(
            &format!("{c}/fork_count"),
            get(collections::not_implemented),
        )
        .route(&format!("{c}/search"), post(collections::not_implemented))
        .route("/api/v1", any(system::v1_gone))
        .route("/api/v1/{*rest}", any(system::v1_gone))
        .with_state(s)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use tower::ServiceExt;

    use super::ENDPOINTS;
    use crate::{Database, ServerConfig};

    /// Every listed endpoint reaches a handler and answers JSON.
    #[tokio::test]
    async fn every_endpoint_is_routed_and_answers_json() {
        let app = crate::app(Arc::new(Database::in_memory()), ServerConfig::default());
        for (method, path) in ENDPOINTS {
            let uri = path
                .replace("{tenant}", "default_tenant")
                .replace("{database}", "default_database")
                .replace("{name}", "nope")
                .replace("{collection_id}", "00000000-0000-0000-0000-000000000001");
            let req = Request::builder()
                .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                .uri(&uri)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let resp = app.clone().oneshot(req).await.unwrap();
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .unwrap();
            assert!(
                status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: method not allowed"
            );
            let v: serde_json::Value = serde_json::from_slice(&body)
                .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {body:?}"));
            if status.is_client_error() || status.is_server_error() {
                assert!(v["error"].is_string(), "{method} {path}: {v}");
                assert!(
                    !v.to_string().contains("no endpoint"),
                    "{method} {path}: {v}"
                );
            }
        }
    }
}
