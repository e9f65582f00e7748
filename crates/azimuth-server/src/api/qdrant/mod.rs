//! The Qdrant REST API (as qdrant-client 1.20 uses it; see `shared/reference/qdrant-rest.md`).

mod collections;
mod formula;
mod fusion;
mod openapi;
mod points;
mod query;
mod service;
mod snapshots;
pub(crate) mod upsert_body;
mod wire;

use axum::routing::{delete, get, post, put};
use axum::Router;

use crate::AppState;

pub fn router(state: AppState) -> Router {
    let c = "/collections/{name}";
    Router::new()
        .route("/", get(service::root))
        .route("/healthz", get(service::healthz))
        .route("/livez", get(service::healthz))
        .route("/readyz", get(service::readyz))
        .route("/telemetry", get(service::telemetry))
        .route("/metrics", get(service::metrics))
        .route("/cluster", get(service::cluster))
        .route("/openapi.json", get(openapi::serve))
        .route(
            "/snapshots",
            get(snapshots::full_list).post(snapshots::full_create),
        )
        .route(
            "/snapshots/{snapshot}",
            get(snapshots::full_download).delete(snapshots::full_delete),
        )
        .route("/collections", get(collections::list))
        .route("/aliases", get(collections::list_aliases))
        .route("/collections/aliases", post(collections::update_aliases))
        .route(
            c,
            get(collections::info)
                .put(collections::create)
                .delete(collections::delete)
                .patch(collections::update),
        )
        .route(&format!("{c}/exists"), get(collections::exists))
        .route(
            &format!("{c}/aliases"),
            get(collections::collection_aliases),
        )
        .route(
            &format!("{c}/cluster"),
            get(collections::collection_cluster),
        )
        .route(
            &format!("{c}/vectors/{{vector}}"),
            put(collections::create_vector).delete(collections::delete_vector),
        )
        .route(&format!("{c}/index"), put(collections::create_index))
        .route(
            &format!("{c}/index/{{field}}"),
            delete(collections::delete_index),
        )
        .route(
            &format!("{c}/points"),
            put(points::upsert).post(points::retrieve),
        )
        .route(&format!("{c}/points/{{id}}"), get(points::get_point))
        .route(&format!("{c}/points/delete"), post(points::delete))
        .route(
            &format!("{c}/points/payload"),
            post(points::set_payload).put(points::overwrite_payload),
        )
        .route(
            &format!("{c}/points/payload/delete"),
            post(points::delete_payload),
        )
        .route(
            &format!("{c}/points/payload/clear"),
            post(points::clear_payload),
        )
        .route(&format!("{c}/points/vectors"), put(points::update_vectors))
        .route(
            &format!("{c}/points/vectors/delete"),
            post(points::delete_vectors),
        )
        .route(&format!("{c}/points/batch"), post(points::batch))
        .route(&format!("{c}/points/scroll"), post(points::scroll))
        .route(&format!("{c}/points/count"), post(points::count))
        .route(&format!("{c}/facet"), post(points::facet))
        .route(&format!("{c}/points/query"), post(query::query))
        .route(&format!("{c}/points/query/batch"), post(query::query_batch))
        .route(
            &format!("{c}/points/query/groups"),
            post(query::query_groups),
        )
        .route(&format!("{c}/points/search"), post(query::search))
        .route(
            &format!("{c}/points/search/batch"),
            post(query::search_batch),
        )
        .route(
            &format!("{c}/points/search/groups"),
            post(query::search_groups),
        )
        .route(
            &format!("{c}/points/search/matrix/pairs"),
            post(query::matrix_pairs),
        )
        .route(
            &format!("{c}/points/search/matrix/offsets"),
            post(query::matrix_offsets),
        )
        .route(&format!("{c}/points/recommend"), post(query::recommend))
        .route(
            &format!("{c}/points/recommend/batch"),
            post(query::recommend_batch),
        )
        .route(
            &format!("{c}/points/recommend/groups"),
            post(query::recommend_groups),
        )
        .route(&format!("{c}/points/discover"), post(query::discover))
        .route(
            &format!("{c}/points/discover/batch"),
            post(query::discover_batch),
        )
        .route(
            &format!("{c}/snapshots"),
            get(snapshots::list).post(snapshots::create),
        )
        .route(&format!("{c}/snapshots/recover"), put(snapshots::recover))
        .route(&format!("{c}/snapshots/upload"), post(snapshots::upload))
        .route(
            &format!("{c}/snapshots/{{snapshot}}"),
            get(snapshots::download).delete(snapshots::delete),
        )
        .fallback(fallback)
        .with_state(state)
}

async fn fallback(uri: axum::http::Uri) -> crate::reply::ApiError {
    crate::reply::ApiError::not_found(format!("no endpoint {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use tower::ServiceExt;

    use super::openapi::ENDPOINTS;
    use crate::{AppState, Database, ServerConfig};

    /// Every endpoint the OpenAPI document lists reaches a handler (not the 404 fallback).
    #[tokio::test]
    async fn openapi_lists_only_routed_endpoints() {
        let state = AppState {
            db: Arc::new(Database::in_memory()),
            config: Arc::new(ServerConfig::default()),
        };
        for (method, path, _, _) in ENDPOINTS {
            let uri = path
                .replace("{collection_name}", "c")
                .replace("{field_name}", "f")
                .replace("{snapshot_name}", "s.snapshot")
                .replace("{id}", "1");
            let req = Request::builder()
                .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                .uri(&uri)
                .body(Body::empty())
                .unwrap();
            let resp = super::router(state.clone()).oneshot(req).await.unwrap();
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .unwrap();
            let text = String::from_utf8_lossy(&body);
            assert!(
                !(status == StatusCode::NOT_FOUND && text.contains("no endpoint")),
                "{method} {path} is not routed"
            );
            assert!(
                status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: method not allowed"
            );
        }
    }
}
