//! Qdrant's gRPC API (`qdrant.Qdrant`, `qdrant.Collections`, `qdrant.Points`), so clients
//! built with `prefer_grpc=True` work unchanged.
//!
//! Each unary call is decoded (prost), turned into the REST request that means the same
//! (`convert`), and run through the REST router itself — auth, limits, validation and
//! handlers are the REST API's, so both protocols answer alike. The REST reply becomes the
//! protobuf reply; a REST error becomes a gRPC status (400 → INVALID_ARGUMENT, 404 →
//! NOT_FOUND, 401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED, …) carrying the same message.
//! Calls outside the served set answer UNIMPLEMENTED with a message naming the REST route.
//!
//! Transport: HTTP/2 (h2c, or TLS with ALPN `h2`) on its own port, one length-prefixed
//! message per request and reply, `grpc-status` in the trailers; compressed messages are
//! refused (Azimuth advertises no `grpc-accept-encoding`).

mod convert;
mod pb;

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use http_body::Frame;
use prost::Message;
use serde_json::{json, Value as Json};
use tower::ServiceExt;

use crate::reply::{PreParsed, PreTyped};

/// A gRPC status: code (see the gRPC spec) and message.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub code: u16,
    pub message: String,
}

impl Status {
    pub const INVALID_ARGUMENT: u16 = 3;
    pub const NOT_FOUND: u16 = 5;
    pub const UNIMPLEMENTED: u16 = 12;

    pub fn invalid(msg: impl Into<String>) -> Self {
        Status {
            code: Self::INVALID_ARGUMENT,
            message: msg.into(),
        }
    }

    pub fn unimplemented(msg: impl Into<String>) -> Self {
        Status {
            code: Self::UNIMPLEMENTED,
            message: msg.into(),
        }
    }

    /// The status for a REST reply's HTTP status.
    fn from_http(status: StatusCode, message: String) -> Self {
        let code = match status.as_u16() {
            400 | 422 => Self::INVALID_ARGUMENT,
            401 => 16,
            403 => 7,
            404 => Self::NOT_FOUND,
            409 => 6,
            413 | 429 => 8,
            408 | 504 => 4,
            503 => 14,
            500 => 13,
            _ => 2,
        };
        Status { code, message }
    }
}

/// The gRPC router: every path goes to [`call`]; `rest` is the complete REST application.
/// Request messages are limited to `max_body_bytes`, as REST bodies are.
pub fn router(rest: Router, max_body_bytes: usize) -> Router {
    Router::new()
        .fallback(call)
        .with_state(rest)
        .layer(axum::extract::DefaultBodyLimit::max(max_body_bytes))
}

/// One REST request standing for a gRPC call.
struct Rest {
    method: Method,
    path: String,
    body: Option<Json>,
    /// The body as the handler's own type, when the call builds it directly.
    typed: Option<PreTyped>,
}

impl Rest {
    fn get(path: String) -> Self {
        Self::bodiless(Method::GET, path)
    }
    fn delete(path: String) -> Self {
        Self::bodiless(Method::DELETE, path)
    }
    fn bodiless(method: Method, path: String) -> Self {
        Rest {
            method,
            path,
            body: None,
            typed: None,
        }
    }
    fn with(method: Method, path: String, body: Json) -> Self {
        Rest {
            method,
            path,
            body: Some(body),
            typed: None,
        }
    }
}

/// Percent-encodes one path segment (a collection or field name).
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A POST to `/collections/{collection}{suffix}`.
fn post(collection: &str, suffix: &str, body: Json) -> Result<Rest, Status> {
    Ok(Rest::with(
        Method::POST,
        format!("{}{suffix}", col(collection)?),
        body,
    ))
}

fn col(name: &str) -> Result<String, Status> {
    if name.is_empty() {
        return Err(Status::invalid("collection_name is empty"));
    }
    Ok(format!("/collections/{}", seg(name)))
}

fn wait(w: Option<bool>) -> &'static str {
    if w.unwrap_or(false) {
        "?wait=true"
    } else {
        "?wait=false"
    }
}

/// Runs `rest` through the REST router with the caller's credentials; returns the
/// envelope's `result` and `time`, or the error as a gRPC status.
async fn run(app: &Router, headers: &HeaderMap, rest: Rest) -> Result<(Json, f64), Status> {
    let mut req = Request::builder()
        .method(rest.method)
        .uri(&rest.path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .map_err(|e| Status::invalid(format!("bad request path {:?}: {e}", rest.path)))?;
    if let Some(v) = rest.body {
        // handed over as a value: no JSON text in between
        req.extensions_mut().insert(PreParsed(v));
    }
    if let Some(t) = rest.typed {
        req.extensions_mut().insert(t);
    }
    for name in ["api-key", "authorization"] {
        if let Some(v) = headers.get(name) {
            req.headers_mut().insert(name, v.clone());
        }
    }
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e: Infallible| match e {});
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .map_err(|e| Status {
            code: 13,
            message: e.to_string(),
        })?;
    let v: Json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
    let time = v.get("time").and_then(Json::as_f64).unwrap_or(0.0);
    if !status.is_success() {
        let msg = v
            .get("status")
            .and_then(|s| s.get("error"))
            .and_then(Json::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        return Err(Status::from_http(status, msg));
    }
    // `GET /` is not enveloped
    let result = match v.get("result") {
        Some(r) => r.clone(),
        None => v,
    };
    Ok((result, time))
}

fn decode<M: Message + Default>(body: &[u8]) -> Result<M, Status> {
    if body.len() < 5 {
        return Err(Status::invalid("the request holds no gRPC message"));
    }
    if body[0] != 0 {
        return Err(Status::unimplemented(
            "compressed messages are not supported; send them uncompressed",
        ));
    }
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    if body.len() != 5 + len {
        return Err(Status::invalid(
            "a unary call must carry exactly one message",
        ));
    }
    M::decode(&body[5..]).map_err(|e| Status::invalid(format!("malformed message: {e}")))
}

fn frame<M: Message>(m: &M) -> Bytes {
    let len = m.encoded_len();
    let mut out = Vec::with_capacity(5 + len);
    out.push(0);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    m.encode(&mut out).expect("a Vec grows to fit the message");
    Bytes::from(out)
}

/// A reply body: one data frame, then the trailers.
struct Reply {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl http_body::Body for Reply {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(d) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}

/// `grpc-message` is percent-encoded (spec: printable ASCII except `%` stays as is).
fn encode_message(msg: &str) -> HeaderValue {
    let mut out = String::with_capacity(msg.len());
    for b in msg.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&out).unwrap_or_else(|_| HeaderValue::from_static("error"))
}

fn grpc_response(result: Result<Bytes, Status>) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/grpc");
    let body = match result {
        Ok(data) => {
            let mut t = HeaderMap::new();
            t.insert("grpc-status", HeaderValue::from_static("0"));
            Body::new(Reply {
                data: Some(data),
                trailers: Some(t),
            })
        }
        Err(s) => {
            // trailers-only reply: the status travels in the headers
            builder = builder
                .header("grpc-status", s.code.to_string())
                .header("grpc-message", encode_message(&s.message));
            Body::empty()
        }
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn not_grpc() -> Response {
    Response::builder()
        .status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(
            "this port speaks Qdrant's gRPC API (HTTP/2, content-type application/grpc); the REST API is on the main port",
        ))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

async fn call(
    State(app): State<Router>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let grpc = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    if !grpc {
        return not_grpc();
    }
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return grpc_response(Err(Status {
                code: 8,
                message: format!("the request could not be read: {}", e.body_text()),
            }))
        }
    };
    grpc_response(dispatch(&app, &headers, uri.path(), &body).await)
}

/// Serves one call; `path` is `/package.Service/Method`.
async fn dispatch(
    app: &Router,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<Bytes, Status> {
    let run = |rest: Rest| run(app, headers, rest);
    match path {
        "/qdrant.Qdrant/HealthCheck" => {
            let _: pb::HealthCheckRequest = decode(body)?;
            let (v, _) = run(Rest::get("/".into())).await?;
            Ok(frame(&pb::HealthCheckReply {
                title: v["title"].as_str().unwrap_or("azimuth").into(),
                version: v["version"].as_str().unwrap_or_default().into(),
                commit: v["commit"].as_str().map(str::to_string),
            }))
        }
        "/qdrant.Collections/List" => {
            let _: pb::ListCollectionsRequest = decode(body)?;
            let (v, time) = run(Rest::get("/collections".into())).await?;
            let collections = v["collections"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|c| pb::CollectionDescription {
                            name: c["name"].as_str().unwrap_or_default().into(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(frame(&pb::ListCollectionsResponse { collections, time }))
        }
        "/qdrant.Collections/Get" => {
            let r: pb::CollectionNameRequest = decode(body)?;
            let (v, time) = run(Rest::get(col(&r.collection_name)?)).await?;
            Ok(frame(&pb::GetCollectionInfoResponse {
                result: Some(convert::to_collection_info(&v)),
                time,
            }))
        }
        "/qdrant.Collections/CollectionExists" => {
            let r: pb::CollectionNameRequest = decode(body)?;
            let (v, time) = run(Rest::get(format!("{}/exists", col(&r.collection_name)?))).await?;
            Ok(frame(&pb::CollectionExistsResponse {
                result: Some(pb::CollectionExists {
                    exists: v["exists"].as_bool().unwrap_or(false),
                }),
                time,
            }))
        }
        "/qdrant.Collections/Create" => {
            let r: pb::CreateCollection = decode(body)?;
            let b = convert::create_collection(&r)?;
            let (v, time) = run(Rest::with(Method::PUT, col(&r.collection_name)?, b)).await?;
            Ok(frame(&pb::CollectionOperationResponse {
                result: v.as_bool().unwrap_or(true),
                time,
            }))
        }
        "/qdrant.Collections/Delete" => {
            let r: pb::DeleteCollection = decode(body)?;
            let (v, time) = run(Rest::delete(col(&r.collection_name)?)).await?;
            Ok(frame(&pb::CollectionOperationResponse {
                result: v.as_bool().unwrap_or(true),
                time,
            }))
        }
        "/qdrant.Collections/UpdateAliases" => {
            let r: pb::ChangeAliases = decode(body)?;
            let mut actions = Vec::with_capacity(r.actions.len());
            for a in &r.actions {
                use pb::alias_operations::Action;
                actions.push(match &a.action {
                    Some(Action::CreateAlias(c)) => json!({"create_alias": {"collection_name": c.collection_name, "alias_name": c.alias_name}}),
                    Some(Action::RenameAlias(c)) => json!({"rename_alias": {"old_alias_name": c.old_alias_name, "new_alias_name": c.new_alias_name}}),
                    Some(Action::DeleteAlias(c)) => json!({"delete_alias": {"alias_name": c.alias_name}}),
                    None => return Err(Status::invalid("an alias operation has no action set")),
                });
            }
            let (v, time) = run(Rest::with(
                Method::POST,
                "/collections/aliases".into(),
                json!({ "actions": actions }),
            ))
            .await?;
            Ok(frame(&pb::CollectionOperationResponse {
                result: v.as_bool().unwrap_or(true),
                time,
            }))
        }
        "/qdrant.Collections/ListAliases" | "/qdrant.Collections/ListCollectionAliases" => {
            let path = if path.ends_with("/ListAliases") {
                let _: pb::ListCollectionsRequest = decode(body)?;
                "/aliases".to_string()
            } else {
                let r: pb::CollectionNameRequest = decode(body)?;
                format!("{}/aliases", col(&r.collection_name)?)
            };
            let (v, time) = run(Rest::get(path)).await?;
            let aliases = v["aliases"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| pb::AliasDescription {
                            alias_name: x["alias_name"].as_str().unwrap_or_default().into(),
                            collection_name: x["collection_name"]
                                .as_str()
                                .unwrap_or_default()
                                .into(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(frame(&pb::ListAliasesResponse { aliases, time }))
        }
        "/qdrant.Points/Upsert" => {
            let r: pb::UpsertPoints = decode(body)?;
            let p = format!("{}/points{}", col(&r.collection_name)?, wait(r.wait));
            let b = convert::upsert(r)?;
            let rest = Rest {
                method: Method::PUT,
                path: p,
                body: None,
                typed: Some(PreTyped::new(b)),
            };
            let (v, time) = run(rest).await?;
            Ok(points_op(&v, time))
        }
        "/qdrant.Points/Delete" | "/qdrant.Points/ClearPayload" => {
            let r: pb::SelectPoints = decode(body)?;
            if r.shard_key_selector.is_some() {
                return Err(Status::unimplemented(
                    "shard keys: Azimuth runs one shard per collection",
                ));
            }
            let b = convert::selector(&r.points)?;
            let what = if path.ends_with("/Delete") {
                "delete"
            } else {
                "payload/clear"
            };
            let p = format!("{}/points/{what}{}", col(&r.collection_name)?, wait(r.wait));
            let (v, time) = run(Rest::with(Method::POST, p, Json::Object(b))).await?;
            Ok(points_op(&v, time))
        }
        "/qdrant.Points/SetPayload" | "/qdrant.Points/OverwritePayload" => {
            let r: pb::SetPayloadPoints = decode(body)?;
            if r.shard_key_selector.is_some() {
                return Err(Status::unimplemented(
                    "shard keys: Azimuth runs one shard per collection",
                ));
            }
            let mut b = convert::selector(&r.points_selector)?;
            b.insert("payload".into(), convert::payload(&r.payload)?);
            if let Some(k) = &r.key {
                b.insert("key".into(), json!(k));
            }
            let method = if path.ends_with("/SetPayload") {
                Method::POST
            } else {
                Method::PUT
            };
            let p = format!(
                "{}/points/payload{}",
                col(&r.collection_name)?,
                wait(r.wait)
            );
            let (v, time) = run(Rest::with(method, p, Json::Object(b))).await?;
            Ok(points_op(&v, time))
        }
        "/qdrant.Points/DeletePayload" => {
            let r: pb::DeletePayloadPoints = decode(body)?;
            if r.shard_key_selector.is_some() {
                return Err(Status::unimplemented(
                    "shard keys: Azimuth runs one shard per collection",
                ));
            }
            let mut b = convert::selector(&r.points_selector)?;
            b.insert("keys".into(), json!(r.keys));
            let p = format!(
                "{}/points/payload/delete{}",
                col(&r.collection_name)?,
                wait(r.wait)
            );
            let (v, time) = run(Rest::with(Method::POST, p, Json::Object(b))).await?;
            Ok(points_op(&v, time))
        }
        "/qdrant.Points/CreateFieldIndex" => {
            let r: pb::CreateFieldIndexCollection = decode(body)?;
            if r.field_index_params.is_some() {
                return Err(Status::unimplemented(
                    "field index parameters are served by the REST API (PUT /collections/{name}/index); over gRPC give the field type only",
                ));
            }
            let b = json!({"field_name": r.field_name, "field_schema": convert::field_type(r.field_type)?});
            let p = format!("{}/index{}", col(&r.collection_name)?, wait(r.wait));
            let (v, time) = run(Rest::with(Method::PUT, p, b)).await?;
            Ok(points_op(&v, time))
        }
        "/qdrant.Points/DeleteFieldIndex" => {
            let r: pb::DeleteFieldIndexCollection = decode(body)?;
            let p = format!(
                "{}/index/{}{}",
                col(&r.collection_name)?,
                seg(&r.field_name),
                wait(r.wait)
            );
            let (v, time) = run(Rest::delete(p)).await?;
            Ok(points_op(&v, time))
        }
        "/qdrant.Points/CreateVectorName" => {
            let r: pb::CreateVectorNameRequest = decode(body)?;
            let b = convert::create_vector_name(&r)?;
            let p = format!(
                "{}/vectors/{}{}",
                col(&r.collection_name)?,
                seg(&r.vector_name),
                wait(r.wait)
            );
            let (v, time) = run(Rest::with(Method::PUT, p, b)).await?;
            Ok(points_op(&v, time))
        }
        "/qdrant.Points/DeleteVectorName" => {
            let r: pb::DeleteVectorNameRequest = decode(body)?;
            let p = format!(
                "{}/vectors/{}{}",
                col(&r.collection_name)?,
                seg(&r.vector_name),
                wait(r.wait)
            );
            let (v, time) = run(Rest::delete(p)).await?;
            Ok(points_op(&v, time))
        }
        "/qdrant.Points/Get" => {
            let r: pb::GetPoints = decode(body)?;
            let b = convert::get_points(&r)?;
            let (v, time) = run(post(&r.collection_name, "/points", b)?).await?;
            Ok(frame(&pb::GetResponse {
                result: convert::to_retrieved_list(&v),
                time,
            }))
        }
        "/qdrant.Points/Scroll" => {
            let r: pb::ScrollPoints = decode(body)?;
            let b = convert::scroll_points(&r)?;
            let (v, time) = run(post(&r.collection_name, "/points/scroll", b)?).await?;
            Ok(frame(&pb::ScrollResponse {
                next_page_offset: convert::to_point_id(&v["next_page_offset"]),
                result: convert::to_retrieved_list(&v["points"]),
                time,
            }))
        }
        "/qdrant.Points/Count" => {
            let r: pb::CountPoints = decode(body)?;
            let b = convert::count_points(&r)?;
            let (v, time) = run(post(&r.collection_name, "/points/count", b)?).await?;
            Ok(frame(&pb::CountResponse {
                result: Some(pb::CountResult {
                    count: v["count"].as_u64().unwrap_or(0),
                }),
                time,
            }))
        }
        "/qdrant.Points/Search" => {
            let r: pb::SearchPoints = decode(body)?;
            let b = convert::search_points(&r)?;
            let (v, time) = run(post(&r.collection_name, "/points/search", b)?).await?;
            Ok(frame(&pb::ScoredResponse {
                result: convert::to_scored_list(&v),
                time,
            }))
        }
        "/qdrant.Points/SearchBatch" => {
            let r: pb::SearchBatchPoints = decode(body)?;
            let searches: Vec<Json> = r
                .search_points
                .iter()
                .map(convert::search_points)
                .collect::<Result<_, _>>()?;
            let (v, time) = run(post(
                &r.collection_name,
                "/points/search/batch",
                json!({ "searches": searches }),
            )?)
            .await?;
            Ok(frame(&batch(&v, convert::to_scored_list, time)))
        }
        "/qdrant.Points/Query" => {
            let r: pb::QueryPoints = decode(body)?;
            let b = convert::query_points(&r)?;
            let (v, time) = run(post(&r.collection_name, "/points/query", b)?).await?;
            Ok(frame(&pb::ScoredResponse {
                result: convert::to_scored_list(&v["points"]),
                time,
            }))
        }
        "/qdrant.Points/QueryBatch" => {
            let r: pb::QueryBatchPoints = decode(body)?;
            let searches: Vec<Json> = r
                .query_points
                .iter()
                .map(convert::query_points)
                .collect::<Result<_, _>>()?;
            let (v, time) = run(post(
                &r.collection_name,
                "/points/query/batch",
                json!({ "searches": searches }),
            )?)
            .await?;
            Ok(frame(&batch(
                &v,
                |x| convert::to_scored_list(&x["points"]),
                time,
            )))
        }
        other => Err(unimplemented_call(other)),
    }
}

fn points_op(v: &Json, time: f64) -> Bytes {
    frame(&pb::PointsOperationResponse {
        result: Some(convert::update_result(v)),
        time,
    })
}

fn batch(v: &Json, each: impl Fn(&Json) -> Vec<pb::ScoredPoint>, time: f64) -> pb::BatchResponse {
    pb::BatchResponse {
        result: v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| pb::BatchResult { result: each(x) })
                    .collect()
            })
            .unwrap_or_default(),
        time,
    }
}

fn unimplemented_call(path: &str) -> Status {
    let known = path.starts_with("/qdrant.Points/")
        || path.starts_with("/qdrant.Collections/")
        || path.starts_with("/qdrant.Snapshots/")
        || path.starts_with("/qdrant.Qdrant/");
    if known {
        Status::unimplemented(format!(
            "{path} is not served over gRPC by Azimuth; the REST API on the main port serves it \
             (over gRPC: health check, collections list/get/exists/create/delete/aliases, points \
             upsert/get/delete/payload/field index/vector names/scroll/count/search/query)"
        ))
    } else {
        Status::unimplemented(format!("unknown method {path}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_decode_or_refuse() {
        let msg = pb::CountPoints {
            collection_name: "c".into(),
            ..Default::default()
        };
        let f = frame(&msg);
        assert_eq!(decode::<pb::CountPoints>(&f).unwrap(), msg);
        let mut compressed = f.to_vec();
        compressed[0] = 1;
        assert_eq!(
            decode::<pb::CountPoints>(&compressed).unwrap_err().code,
            Status::UNIMPLEMENTED
        );
        assert_eq!(
            decode::<pb::CountPoints>(&f[..3]).unwrap_err().code,
            Status::INVALID_ARGUMENT
        );
        let mut two = f.to_vec();
        two.extend_from_slice(&f);
        assert_eq!(
            decode::<pb::CountPoints>(&two).unwrap_err().code,
            Status::INVALID_ARGUMENT
        );
        // a length beyond the body
        let mut long = f.to_vec();
        long[4] = 200;
        assert!(decode::<pb::CountPoints>(&long).is_err());
    }

    #[test]
    fn names_are_escaped_into_one_path_segment() {
        assert_eq!(seg("a b/../c"), "a%20b%2F..%2Fc");
        assert_eq!(seg("ok_name-1.x~"), "ok_name-1.x~");
        assert!(col("").is_err());
    }

    #[test]
    fn messages_are_printable_ascii() {
        assert_eq!(encode_message("100% ñ\n"), "100%25 %C3%B1%0A");
    }
}
