//! Service endpoints: version, health probes, telemetry, metrics, cluster status.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use azimuth_engine::CollectionInfo;
use serde_json::json;

use crate::reply::{ApiResult, Reply};
use crate::AppState;

/// `GET /`: not enveloped; the client reads `version` for its compatibility check.
pub async fn root(State(s): State<AppState>) -> Response {
    axum::Json(json!({"title": "azimuth - vector database (qdrant compatible)", "version": s.config.reported_version,
        "commit": env!("CARGO_PKG_VERSION")}))
    .into_response()
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

pub async fn healthz() -> Response {
    text(StatusCode::OK, "healthz check passed")
}

pub async fn readyz() -> Response {
    text(StatusCode::OK, "all shards are ready")
}

pub async fn telemetry(State(s): State<AppState>) -> ApiResult {
    let n = s.db.list_collections().len();
    Ok(Reply(json!({"id": "00000000-0000-0000-0000-000000000000",
        "app": {"name": "azimuth", "version": env!("CARGO_PKG_VERSION"), "startup": "1970-01-01T00:00:00Z"},
        "collections": {"number_of_collections": n}})))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(s): State<AppState>) -> Response {
    let names = s.db.list_collections();
    let mut out = String::new();
    out.push_str("# HELP app_info information about the azimuth server\n# TYPE app_info gauge\n");
    out.push_str(&format!(
        "app_info{{name=\"azimuth\",version=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str(
        "# HELP collections_total number of collections\n# TYPE collections_total gauge\n",
    );
    out.push_str(&format!("collections_total {}\n", names.len()));
    let collections: Vec<(String, _)> = names
        .into_iter()
        .filter_map(|n| {
            let c = s.db.collection(&n).ok()?;
            let label = n
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            Some((label, c))
        })
        .collect();
    out.push_str("# HELP collection_points number of points per collection\n# TYPE collection_points gauge\n");
    for (label, c) in &collections {
        out.push_str(&format!(
            "collection_points{{collection=\"{label}\"}} {}\n",
            c.len()
        ));
    }
    // each collection's info once: both gauges below read it
    let infos: Vec<_> = collections.iter().map(|(l, c)| (l, c.info())).collect();
    let mut by_place = |name: &str, help: &str, bytes: &dyn Fn(&CollectionInfo) -> [usize; 2]| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for (label, info) in &infos {
            for (place, n) in ["memory", "mapped"].into_iter().zip(bytes(info)) {
                out.push_str(&format!(
                    "{name}{{collection=\"{label}\",place=\"{place}\"}} {n}\n"
                ));
            }
        }
    };
    by_place(
        "collection_dense_vector_bytes",
        "bytes of dense vectors held in memory or read through memory maps of segment files (on_disk vectors; float16 ones count 2 bytes per component)",
        &|i| [i.dense_bytes.in_memory, i.dense_bytes.mapped],
    );
    by_place(
        "collection_index_bytes",
        "bytes of graphs and quantized codes held in memory, or graph links read through memory maps of graph files (hnsw_config.on_disk)",
        &|i| [i.indexing.index_bytes, i.indexing.index_bytes_mapped],
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
        .into_response()
}

pub async fn cluster() -> ApiResult {
    Ok(Reply(json!({"status": "disabled"})))
}
