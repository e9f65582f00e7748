//! The Qdrant REST API (as qdrant-client 1.20 uses it; see `shared/reference/qdrant-rest.md`).

mod collections;
mod fusion;
mod points;
mod query;
mod service;
mod snapshots;
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
