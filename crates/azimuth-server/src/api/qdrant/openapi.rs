//! `GET /openapi.json`: an OpenAPI 3 document of the endpoints this server implements,
//! generated from one table (a test checks every entry reaches a handler).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::AppState;

/// (method, path, tag, summary) of every implemented endpoint.
pub(super) const ENDPOINTS: &[(&str, &str, &str, &str)] = &[
    ("get", "/", "service", "Version information"),
    ("get", "/healthz", "service", "Health probe (plain text)"),
    ("get", "/livez", "service", "Liveness probe (plain text)"),
    ("get", "/readyz", "service", "Readiness probe (plain text)"),
    ("get", "/telemetry", "service", "Telemetry summary"),
    (
        "get",
        "/metrics",
        "service",
        "Prometheus metrics (text format)",
    ),
    (
        "get",
        "/cluster",
        "service",
        "Cluster status (single node: disabled)",
    ),
    ("get", "/openapi.json", "service", "This document"),
    ("get", "/collections", "collections", "List collections"),
    ("get", "/aliases", "aliases", "List all aliases"),
    (
        "post",
        "/collections/aliases",
        "aliases",
        "Create, delete and rename aliases atomically",
    ),
    (
        "get",
        "/collections/{collection_name}",
        "collections",
        "Collection info",
    ),
    (
        "put",
        "/collections/{collection_name}",
        "collections",
        "Create a collection",
    ),
    (
        "patch",
        "/collections/{collection_name}",
        "collections",
        "Update collection parameters",
    ),
    (
        "delete",
        "/collections/{collection_name}",
        "collections",
        "Delete a collection",
    ),
    (
        "get",
        "/collections/{collection_name}/exists",
        "collections",
        "Whether a collection exists",
    ),
    (
        "get",
        "/collections/{collection_name}/aliases",
        "aliases",
        "Aliases of a collection",
    ),
    (
        "get",
        "/collections/{collection_name}/cluster",
        "collections",
        "Shard layout (single node)",
    ),
    (
        "put",
        "/collections/{collection_name}/vectors/{vector_name}",
        "collections",
        "Add a dense or sparse vector to a collection of named vectors",
    ),
    (
        "delete",
        "/collections/{collection_name}/vectors/{vector_name}",
        "collections",
        "Delete a vector and every point's value of it",
    ),
    (
        "put",
        "/collections/{collection_name}/index",
        "indexes",
        "Create a payload index",
    ),
    (
        "delete",
        "/collections/{collection_name}/index/{field_name}",
        "indexes",
        "Delete a payload index",
    ),
    (
        "put",
        "/collections/{collection_name}/points",
        "points",
        "Upsert points (list or batch form)",
    ),
    (
        "post",
        "/collections/{collection_name}/points",
        "points",
        "Retrieve points by id",
    ),
    (
        "get",
        "/collections/{collection_name}/points/{id}",
        "points",
        "Retrieve one point",
    ),
    (
        "post",
        "/collections/{collection_name}/points/delete",
        "points",
        "Delete points by id or filter",
    ),
    (
        "post",
        "/collections/{collection_name}/points/payload",
        "points",
        "Merge payload keys",
    ),
    (
        "put",
        "/collections/{collection_name}/points/payload",
        "points",
        "Overwrite payloads",
    ),
    (
        "post",
        "/collections/{collection_name}/points/payload/delete",
        "points",
        "Delete payload keys",
    ),
    (
        "post",
        "/collections/{collection_name}/points/payload/clear",
        "points",
        "Clear payloads",
    ),
    (
        "put",
        "/collections/{collection_name}/points/vectors",
        "points",
        "Update named vectors",
    ),
    (
        "post",
        "/collections/{collection_name}/points/vectors/delete",
        "points",
        "Delete named vectors",
    ),
    (
        "post",
        "/collections/{collection_name}/points/batch",
        "points",
        "Apply write operations in order",
    ),
    (
        "post",
        "/collections/{collection_name}/points/scroll",
        "points",
        "Page through points",
    ),
    (
        "post",
        "/collections/{collection_name}/points/count",
        "points",
        "Count points",
    ),
    (
        "post",
        "/collections/{collection_name}/points/query",
        "search",
        "Universal query: nearest (with mmr), recommend (average_vector, best_score, sum_scores), discover, context, relevance_feedback (naive), prefetch with fusion (rrf, dbsf) or formula, order_by, sample",
    ),
    (
        "post",
        "/collections/{collection_name}/points/query/batch",
        "search",
        "Several queries",
    ),
    (
        "post",
        "/collections/{collection_name}/points/query/groups",
        "search",
        "Query grouped by a payload field",
    ),
    (
        "post",
        "/collections/{collection_name}/points/search",
        "search",
        "Legacy nearest-neighbour search",
    ),
    (
        "post",
        "/collections/{collection_name}/points/search/batch",
        "search",
        "Legacy batch search",
    ),
    (
        "post",
        "/collections/{collection_name}/points/search/groups",
        "search",
        "Legacy search grouped by a payload field",
    ),
    (
        "post",
        "/collections/{collection_name}/points/search/matrix/pairs",
        "search",
        "Distance matrix of a random sample, as pairs",
    ),
    (
        "post",
        "/collections/{collection_name}/points/search/matrix/offsets",
        "search",
        "Distance matrix of a random sample, as row/column offsets",
    ),
    (
        "post",
        "/collections/{collection_name}/points/recommend",
        "search",
        "Legacy recommendation from positive and negative examples",
    ),
    (
        "post",
        "/collections/{collection_name}/points/recommend/batch",
        "search",
        "Legacy batch recommendation",
    ),
    (
        "post",
        "/collections/{collection_name}/points/recommend/groups",
        "search",
        "Legacy recommendation grouped by a payload field",
    ),
    (
        "post",
        "/collections/{collection_name}/points/discover",
        "search",
        "Legacy discovery (target and context pairs) or context search",
    ),
    (
        "post",
        "/collections/{collection_name}/points/discover/batch",
        "search",
        "Legacy batch discovery",
    ),
    (
        "get",
        "/snapshots",
        "snapshots",
        "List whole-storage snapshots",
    ),
    (
        "post",
        "/snapshots",
        "snapshots",
        "Create a whole-storage snapshot (every collection, the aliases, the Chroma catalog)",
    ),
    (
        "get",
        "/snapshots/{snapshot_name}",
        "snapshots",
        "Download a whole-storage snapshot",
    ),
    (
        "delete",
        "/snapshots/{snapshot_name}",
        "snapshots",
        "Delete a whole-storage snapshot",
    ),
    (
        "get",
        "/collections/{collection_name}/snapshots",
        "snapshots",
        "List snapshots",
    ),
    (
        "post",
        "/collections/{collection_name}/snapshots",
        "snapshots",
        "Create a snapshot",
    ),
    (
        "put",
        "/collections/{collection_name}/snapshots/recover",
        "snapshots",
        "Recover from a server-local file:// snapshot",
    ),
    (
        "post",
        "/collections/{collection_name}/snapshots/upload",
        "snapshots",
        "Recover from an uploaded snapshot (multipart field `snapshot`)",
    ),
    (
        "get",
        "/collections/{collection_name}/snapshots/{snapshot_name}",
        "snapshots",
        "Download a snapshot",
    ),
    (
        "delete",
        "/collections/{collection_name}/snapshots/{snapshot_name}",
        "snapshots",
        "Delete a snapshot",
    ),
];

fn operation(method: &str, path: &str, tag: &str, summary: &str) -> Value {
    let mut params: Vec<Value> = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    let reads = ["/query", "/search", "/recommend", "/discover"]
        .iter()
        .any(|p| path.contains(p));
    let writes = ["put", "patch", "delete"].contains(&method)
        || (method == "post"
            && !reads
            && [
                "/delete",
                "/payload",
                "/clear",
                "/vectors/delete",
                "/batch",
                "/aliases",
                "/snapshots",
                "/upload",
            ]
            .iter()
            .any(|s| path.ends_with(s)));
    if (writes && path.contains("/points"))
        || path.ends_with("/index")
        || path.contains("/index/")
        || path.contains("/vectors/{vector_name}")
    {
        params.push(
            json!({"name": "wait", "in": "query", "required": false, "schema": {"type": "boolean"},
            "description": "return after the write is durable (default false: acknowledged)"}),
        );
    }
    let mut op = json!({
        "tags": [tag], "summary": summary, "operationId": format!("{method}_{}", path.replace(['/', '{', '}', '.'], "_")),
        "parameters": params,
        "responses": {
            "200": {"description": "success", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}},
            "4XX": {"description": "bad request, not found, conflict", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
    });
    if ["put", "post", "patch"].contains(&method) && !path.ends_with("/snapshots") {
        op["requestBody"] = json!({"required": method != "post" || !path.ends_with("/count"),
            "content": {"application/json": {"schema": {"type": "object"}}}});
    }
    op
}

/// The document.
pub(super) fn document(version: &str) -> Value {
    let mut paths = Map::new();
    for (method, path, tag, summary) in ENDPOINTS {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = operation(method, path, tag, summary);
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Azimuth — Qdrant-compatible REST API", "version": version,
            "description": "The subset of the Qdrant REST API this server implements. Request and response bodies follow Qdrant's; see the Qdrant API reference for their schemas."},
        "paths": paths,
        "components": {"schemas": {
            "Envelope": {"type": "object", "properties": {"result": {}, "status": {"type": "string"}, "time": {"type": "number"}}},
            "Error": {"type": "object", "properties": {"status": {"type": "object", "properties": {"error": {"type": "string"}}}, "time": {"type": "number"}}}
        }}
    })
}

pub async fn serve(State(s): State<AppState>) -> Response {
    axum::Json(document(&s.config.reported_version)).into_response()
}
