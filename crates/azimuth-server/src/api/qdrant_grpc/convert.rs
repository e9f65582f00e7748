//! Between protobuf messages and the JSON bodies of the REST API.
//!
//! Requests become the REST body the same call would send (`to_*`), so both protocols share
//! one parser, one validator and one set of handlers; REST results become protobuf replies
//! (`from_*`). Anything the gRPC side cannot express in REST terms is refused with
//! `Status::unimplemented` naming the field.

use serde_json::{json, Map, Value as Json};

use super::pb;
use super::Status;
use crate::api::qdrant::upsert_body::{PointJson, UpsertBody, VectorJson};

type R<T> = Result<T, Status>;

fn bad(msg: impl Into<String>) -> Status {
    Status::invalid(msg)
}

// ---- requests: protobuf → REST JSON ----

pub fn point_id(id: &pb::PointId) -> R<Json> {
    match &id.options {
        Some(pb::point_id::Options::Num(n)) => Ok(json!(n)),
        Some(pb::point_id::Options::Uuid(s)) => Ok(json!(s)),
        None => Err(bad("a point id has neither `num` nor `uuid` set")),
    }
}

pub fn point_ids(ids: &[pb::PointId]) -> R<Json> {
    Ok(Json::Array(ids.iter().map(point_id).collect::<R<_>>()?))
}

pub fn value(v: &pb::Value) -> R<Json> {
    use pb::value::Kind;
    Ok(match &v.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::DoubleValue(d)) => match serde_json::Number::from_f64(*d) {
            Some(n) => Json::Number(n),
            None => return Err(bad(format!("payload value {d} is not a finite number"))),
        },
        Some(Kind::IntegerValue(i)) => json!(i),
        Some(Kind::StringValue(s)) => json!(s),
        Some(Kind::BoolValue(b)) => json!(b),
        Some(Kind::StructValue(s)) => payload(&s.fields)?,
        Some(Kind::ListValue(l)) => Json::Array(l.values.iter().map(value).collect::<R<_>>()?),
    })
}

pub fn payload(p: &pb::Payload) -> R<Json> {
    let mut m = Map::with_capacity(p.len());
    for (k, v) in p {
        m.insert(k.clone(), value(v)?);
    }
    Ok(Json::Object(m))
}

fn put<T: serde::Serialize>(m: &mut Map<String, Json>, key: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(key.to_string(), json!(v));
    }
}

fn geo_point(p: &Option<pb::GeoPoint>, what: &str) -> R<Json> {
    let p = p
        .as_ref()
        .ok_or_else(|| bad(format!("{what} is missing")))?;
    Ok(json!({"lon": p.lon, "lat": p.lat}))
}

fn line(l: &pb::GeoLineString) -> R<Json> {
    let points: Vec<Json> = l
        .points
        .iter()
        .map(|p| json!({"lon": p.lon, "lat": p.lat}))
        .collect();
    Ok(json!({ "points": points }))
}

/// RFC 3339 text (UTC) of a protobuf timestamp, years 0000–9999.
pub fn timestamp(t: &pb::Timestamp) -> R<Json> {
    if !(0..1_000_000_000).contains(&t.nanos) {
        return Err(bad(format!("timestamp nanos {} out of range", t.nanos)));
    }
    if !(-62_167_219_200..=253_402_300_799).contains(&t.seconds) {
        return Err(bad(format!("timestamp {} s is out of range", t.seconds)));
    }
    Ok(json!(format!(
        "{}.{:09}Z",
        azimuth_engine::filter::format_utc(t.seconds, 'T'),
        t.nanos
    )))
}

fn field_condition(fc: &pb::FieldCondition) -> R<Json> {
    use pb::r#match::Value as M;
    let mut m = Map::new();
    m.insert("key".into(), json!(fc.key));
    if let Some(mt) = &fc.r#match {
        let v = match &mt.value {
            Some(M::Keyword(s)) => json!({ "value": s }),
            Some(M::Integer(i)) => json!({ "value": i }),
            Some(M::Boolean(b)) => json!({ "value": b }),
            Some(M::Text(s)) => json!({ "text": s }),
            Some(M::Keywords(l)) => json!({ "any": l.strings }),
            Some(M::Integers(l)) => json!({ "any": l.integers }),
            Some(M::ExceptIntegers(l)) => json!({ "except": l.integers }),
            Some(M::ExceptKeywords(l)) => json!({ "except": l.strings }),
            Some(M::Phrase(s)) => json!({ "phrase": s }),
            Some(M::TextAny(s)) => json!({ "text_any": s }),
            Some(M::Prefix(_)) | Some(M::Substring(_)) => {
                return Err(Status::unimplemented(
                    "match by prefix or substring is not supported",
                ))
            }
            None => return Err(bad(format!("the match on {:?} has no value", fc.key))),
        };
        m.insert("match".into(), v);
    }
    if let Some(r) = &fc.range {
        let mut o = Map::new();
        put(&mut o, "lt", r.lt);
        put(&mut o, "gt", r.gt);
        put(&mut o, "gte", r.gte);
        put(&mut o, "lte", r.lte);
        m.insert("range".into(), Json::Object(o));
    }
    if let Some(r) = &fc.datetime_range {
        let mut o = Map::new();
        for (k, t) in [
            ("lt", &r.lt),
            ("gt", &r.gt),
            ("gte", &r.gte),
            ("lte", &r.lte),
        ] {
            if let Some(t) = t {
                o.insert(k.into(), timestamp(t)?);
            }
        }
        m.insert("range".into(), Json::Object(o));
    }
    if let Some(b) = &fc.geo_bounding_box {
        m.insert(
            "geo_bounding_box".into(),
            json!({"top_left": geo_point(&b.top_left, "top_left")?,
                   "bottom_right": geo_point(&b.bottom_right, "bottom_right")?}),
        );
    }
    if let Some(g) = &fc.geo_radius {
        m.insert(
            "geo_radius".into(),
            json!({"center": geo_point(&g.center, "center")?, "radius": g.radius}),
        );
    }
    if let Some(p) = &fc.geo_polygon {
        let ext = p
            .exterior
            .as_ref()
            .ok_or_else(|| bad("geo_polygon needs an exterior"))?;
        let interiors: Vec<Json> = p.interiors.iter().map(line).collect::<R<_>>()?;
        m.insert(
            "geo_polygon".into(),
            json!({"exterior": line(ext)?, "interiors": interiors}),
        );
    }
    if let Some(c) = &fc.values_count {
        let mut o = Map::new();
        put(&mut o, "lt", c.lt);
        put(&mut o, "gt", c.gt);
        put(&mut o, "gte", c.gte);
        put(&mut o, "lte", c.lte);
        m.insert("values_count".into(), Json::Object(o));
    }
    put(&mut m, "is_empty", fc.is_empty);
    put(&mut m, "is_null", fc.is_null);
    Ok(Json::Object(m))
}

fn condition(c: &pb::Condition) -> R<Json> {
    use pb::condition::Kind;
    Ok(match &c.kind {
        Some(Kind::Field(fc)) => field_condition(fc)?,
        Some(Kind::IsEmpty(k)) => json!({"is_empty": {"key": k.key}}),
        Some(Kind::IsNull(k)) => json!({"is_null": {"key": k.key}}),
        Some(Kind::HasId(h)) => json!({ "has_id": point_ids(&h.has_id)? }),
        Some(Kind::Filter(f)) => filter(f)?,
        Some(Kind::Nested(n)) => {
            let f = n
                .filter
                .as_ref()
                .ok_or_else(|| bad("a nested condition needs a filter"))?;
            json!({"nested": {"key": n.key, "filter": filter(f)?}})
        }
        Some(Kind::HasVector(h)) => json!({ "has_vector": h.has_vector }),
        Some(Kind::Slice(_)) => {
            return Err(Status::unimplemented("slice conditions are not supported"))
        }
        None => return Err(bad("a condition has no variant set")),
    })
}

fn conditions(cs: &[pb::Condition]) -> R<Json> {
    Ok(Json::Array(cs.iter().map(condition).collect::<R<_>>()?))
}

pub fn filter(f: &pb::Filter) -> R<Json> {
    let mut m = Map::new();
    if !f.must.is_empty() {
        m.insert("must".into(), conditions(&f.must)?);
    }
    if !f.should.is_empty() {
        m.insert("should".into(), conditions(&f.should)?);
    }
    if !f.must_not.is_empty() {
        m.insert("must_not".into(), conditions(&f.must_not)?);
    }
    if let Some(ms) = &f.min_should {
        m.insert(
            "min_should".into(),
            json!({"conditions": conditions(&ms.conditions)?, "min_count": ms.min_count}),
        );
    }
    Ok(Json::Object(m))
}

fn inference(what: &str) -> Status {
    Status::unimplemented(format!(
        "{what} inputs need server-side inference, which Azimuth does not run; send vectors"
    ))
}

fn vector(v: &pb::Vector) -> R<Json> {
    use pb::vector::Kind;
    Ok(match &v.kind {
        Some(Kind::Dense(d)) => json!(d.data),
        Some(Kind::Sparse(s)) => json!({"indices": s.indices, "values": s.values}),
        Some(Kind::MultiDense(m)) => Json::Array(m.vectors.iter().map(|d| json!(d.data)).collect()),
        Some(Kind::Document(_)) => return Err(inference("document")),
        Some(Kind::Image(_)) => return Err(inference("image")),
        Some(Kind::Object(_)) => return Err(inference("object")),
        None => {
            if let Some(ix) = &v.indices {
                json!({"indices": ix.data, "values": v.data})
            } else if let Some(n) = v.vectors_count.filter(|&n| n > 0) {
                let n = n as usize;
                if !v.data.len().is_multiple_of(n) {
                    return Err(bad(format!(
                        "{} numbers do not split into {n} vectors",
                        v.data.len()
                    )));
                }
                let dim = v.data.len() / n;
                Json::Array(v.data.chunks(dim.max(1)).map(|c| json!(c)).collect())
            } else {
                json!(v.data)
            }
        }
    })
}

pub fn vectors(v: &pb::Vectors) -> R<Json> {
    match &v.options {
        Some(pb::vectors::Options::Vector(v)) => vector(v),
        Some(pb::vectors::Options::Vectors(named)) => {
            let mut m = Map::with_capacity(named.vectors.len());
            for (k, v) in &named.vectors {
                m.insert(k.clone(), vector(v)?);
            }
            Ok(Json::Object(m))
        }
        None => Err(bad("a point's vectors have no variant set")),
    }
}

pub fn with_payload(w: &Option<pb::WithPayloadSelector>) -> Option<Json> {
    use pb::with_payload_selector::Kind;
    match w.as_ref()?.kind.as_ref()? {
        Kind::Enable(b) => Some(json!(b)),
        Kind::Include(f) => Some(json!({ "include": f.fields })),
        Kind::Exclude(f) => Some(json!({ "exclude": f.fields })),
    }
}

pub fn with_vectors(w: &Option<pb::WithVectorsSelector>) -> Option<Json> {
    use pb::with_vectors_selector::Kind;
    match w.as_ref()?.kind.as_ref()? {
        Kind::Enable(b) => Some(json!(b)),
        Kind::Include(s) => Some(json!(s.names)),
    }
}

pub fn params(p: &pb::SearchParams) -> Json {
    let mut m = Map::new();
    put(&mut m, "hnsw_ef", p.hnsw_ef);
    put(&mut m, "exact", p.exact);
    put(&mut m, "indexed_only", p.indexed_only);
    if let Some(q) = &p.quantization {
        let mut o = Map::new();
        put(&mut o, "ignore", q.ignore);
        put(&mut o, "rescore", q.rescore);
        put(&mut o, "oversampling", q.oversampling);
        m.insert("quantization".into(), Json::Object(o));
    }
    Json::Object(m)
}

pub fn selector(s: &Option<pb::PointsSelector>) -> R<Map<String, Json>> {
    let mut m = Map::new();
    match s.as_ref().and_then(|s| s.kind.as_ref()) {
        Some(pb::points_selector::Kind::Points(ids)) => {
            m.insert("points".into(), point_ids(&ids.ids)?);
        }
        Some(pb::points_selector::Kind::Filter(f)) => {
            m.insert("filter".into(), filter(f)?);
        }
        None => return Err(bad("select points by ids or by a filter")),
    }
    Ok(m)
}

pub fn order_by(o: &pb::OrderBy) -> R<Json> {
    use pb::start_from::Value as S;
    let mut m = Map::new();
    m.insert("key".into(), json!(o.key));
    match o.direction {
        None => {}
        Some(0) => {
            m.insert("direction".into(), json!("asc"));
        }
        Some(1) => {
            m.insert("direction".into(), json!("desc"));
        }
        Some(d) => return Err(bad(format!("unknown order direction {d}"))),
    }
    if let Some(s) = o.start_from.as_ref().and_then(|s| s.value.as_ref()) {
        let v = match s {
            S::Float(f) => json!(f),
            S::Integer(i) => json!(i),
            S::Timestamp(t) => timestamp(t)?,
            S::Datetime(d) => json!(d),
        };
        m.insert("start_from".into(), v);
    }
    Ok(Json::Object(m))
}

fn vector_input(v: &pb::VectorInput) -> R<Json> {
    use pb::vector_input::Kind;
    Ok(match &v.kind {
        Some(Kind::Id(id)) => point_id(id)?,
        Some(Kind::Dense(d)) => json!(d.data),
        Some(Kind::Sparse(s)) => json!({"indices": s.indices, "values": s.values}),
        Some(Kind::MultiDense(m)) => Json::Array(m.vectors.iter().map(|d| json!(d.data)).collect()),
        Some(Kind::Document(_)) => return Err(inference("document")),
        Some(Kind::Image(_)) => return Err(inference("image")),
        Some(Kind::Object(_)) => return Err(inference("object")),
        None => return Err(bad("a query vector has no variant set")),
    })
}

fn query(q: &pb::Query) -> R<Json> {
    use pb::query::Variant as V;
    let rest_only = |what: &str| {
        Err(Status::unimplemented(format!(
            "{what} queries are served by the REST API (POST /collections/{{name}}/points/query); \
             over gRPC Azimuth answers nearest, order_by, fusion, rrf and sample"
        )))
    };
    Ok(match &q.variant {
        Some(V::Nearest(v)) => json!({ "nearest": vector_input(v)? }),
        Some(V::OrderBy(o)) => json!({ "order_by": order_by(o)? }),
        Some(V::Fusion(0)) => json!({"fusion": "rrf"}),
        Some(V::Fusion(1)) => json!({"fusion": "dbsf"}),
        Some(V::Fusion(f)) => return Err(bad(format!("unknown fusion {f}"))),
        Some(V::Sample(0)) => json!({"sample": "random"}),
        Some(V::Sample(s)) => return Err(bad(format!("unknown sample {s}"))),
        Some(V::Rrf(r)) => {
            let mut o = Map::new();
            put(&mut o, "k", r.k);
            if !r.weights.is_empty() {
                o.insert("weights".into(), json!(r.weights));
            }
            json!({ "rrf": o })
        }
        Some(V::Recommend(_)) => return rest_only("recommend"),
        Some(V::Discover(_)) => return rest_only("discover"),
        Some(V::Context(_)) => return rest_only("context"),
        Some(V::Formula(_)) => return rest_only("formula"),
        Some(V::NearestWithMmr(_)) => return rest_only("MMR"),
        Some(V::RelevanceFeedback(_)) => return rest_only("relevance feedback"),
        Some(V::Text(_)) => return rest_only("text"),
        None => return Err(bad("a query has no variant set")),
    })
}

fn no_shard_keys(s: &Option<pb::Unsupported>) -> R<()> {
    match s {
        Some(_) => Err(Status::unimplemented(
            "shard keys: Azimuth runs one shard per collection",
        )),
        None => Ok(()),
    }
}

/// The fields a query and each of its prefetch stages share.
struct Stage<'a> {
    prefetch: &'a [pb::PrefetchQuery],
    query: Option<&'a pb::Query>,
    using: Option<&'a String>,
    filter: Option<&'a pb::Filter>,
    params: Option<&'a pb::SearchParams>,
    score_threshold: Option<f32>,
    limit: Option<u64>,
    lookup_from: bool,
}

fn stage(s: Stage<'_>) -> R<Map<String, Json>> {
    if s.lookup_from {
        return Err(Status::unimplemented(
            "lookup_from is served by the REST API only",
        ));
    }
    let mut m = Map::new();
    if !s.prefetch.is_empty() {
        m.insert(
            "prefetch".into(),
            Json::Array(s.prefetch.iter().map(prefetch).collect::<R<_>>()?),
        );
    }
    if let Some(q) = s.query {
        m.insert("query".into(), query(q)?);
    }
    put(&mut m, "using", s.using);
    if let Some(f) = s.filter {
        m.insert("filter".into(), filter(f)?);
    }
    if let Some(ps) = s.params {
        m.insert("params".into(), params(ps));
    }
    put(&mut m, "score_threshold", s.score_threshold);
    put(&mut m, "limit", s.limit);
    Ok(m)
}

fn prefetch(p: &pb::PrefetchQuery) -> R<Json> {
    stage(Stage {
        prefetch: &p.prefetch,
        query: p.query.as_ref(),
        using: p.using.as_ref(),
        filter: p.filter.as_ref(),
        params: p.params.as_ref(),
        score_threshold: p.score_threshold,
        limit: p.limit,
        lookup_from: p.lookup_from.is_some(),
    })
    .map(Json::Object)
}

/// The REST body of `POST /points/query` for one `QueryPoints`.
pub fn query_points(q: &pb::QueryPoints) -> R<Json> {
    no_shard_keys(&q.shard_key_selector)?;
    let mut m = stage(Stage {
        prefetch: &q.prefetch,
        query: q.query.as_ref(),
        using: q.using.as_ref(),
        filter: q.filter.as_ref(),
        params: q.params.as_ref(),
        score_threshold: q.score_threshold,
        limit: q.limit,
        lookup_from: q.lookup_from.is_some(),
    })?;
    put(&mut m, "offset", q.offset);
    put(&mut m, "with_vector", with_vectors(&q.with_vectors));
    put(&mut m, "with_payload", with_payload(&q.with_payload));
    Ok(Json::Object(m))
}

/// The REST body of `POST /points/search` for one `SearchPoints`.
pub fn search_points(s: &pb::SearchPoints) -> R<Json> {
    no_shard_keys(&s.shard_key_selector)?;
    let v = match &s.sparse_indices {
        Some(ix) => json!({"indices": ix.data, "values": s.vector}),
        None => json!(s.vector),
    };
    let v = match &s.vector_name {
        Some(name) => json!({"name": name, "vector": v}),
        None => v,
    };
    let mut m = Map::new();
    m.insert("vector".into(), v);
    m.insert("limit".into(), json!(s.limit));
    if let Some(f) = &s.filter {
        m.insert("filter".into(), filter(f)?);
    }
    if let Some(ps) = &s.params {
        m.insert("params".into(), params(ps));
    }
    put(&mut m, "score_threshold", s.score_threshold);
    put(&mut m, "offset", s.offset);
    put(&mut m, "with_vector", with_vectors(&s.with_vectors));
    put(&mut m, "with_payload", with_payload(&s.with_payload));
    Ok(Json::Object(m))
}

pub fn scroll_points(s: &pb::ScrollPoints) -> R<Json> {
    no_shard_keys(&s.shard_key_selector)?;
    let mut m = Map::new();
    if let Some(f) = &s.filter {
        m.insert("filter".into(), filter(f)?);
    }
    if let Some(o) = &s.offset {
        m.insert("offset".into(), point_id(o)?);
    }
    put(&mut m, "limit", s.limit);
    put(&mut m, "with_vector", with_vectors(&s.with_vectors));
    put(&mut m, "with_payload", with_payload(&s.with_payload));
    if let Some(o) = &s.order_by {
        m.insert("order_by".into(), order_by(o)?);
    }
    Ok(Json::Object(m))
}

pub fn count_points(c: &pb::CountPoints) -> R<Json> {
    no_shard_keys(&c.shard_key_selector)?;
    let mut m = Map::new();
    if let Some(f) = &c.filter {
        m.insert("filter".into(), filter(f)?);
    }
    put(&mut m, "exact", c.exact);
    Ok(Json::Object(m))
}

/// The upsert body, built directly: dense vectors stay `f32` rows.
pub fn upsert(u: pb::UpsertPoints) -> R<UpsertBody> {
    no_shard_keys(&u.shard_key_selector)?;
    let mut rest = Map::new();
    if let Some(f) = &u.update_filter {
        rest.insert("update_filter".into(), filter(f)?);
    }
    let points = u
        .points
        .into_iter()
        .map(|p| {
            let id = point_id(p.id.as_ref().ok_or_else(|| bad("a point has no id"))?)?;
            let vector = match p.vectors {
                Some(pb::Vectors {
                    options:
                        Some(pb::vectors::Options::Vector(pb::Vector {
                            kind: Some(pb::vector::Kind::Dense(d)),
                            ..
                        })),
                }) => VectorJson::Floats(d.data),
                Some(pb::Vectors {
                    options:
                        Some(pb::vectors::Options::Vector(pb::Vector {
                            data,
                            indices: None,
                            vectors_count: None,
                            kind: None,
                        })),
                }) => VectorJson::Floats(data),
                Some(v) => VectorJson::Json(vectors(&v)?),
                None => VectorJson::Json(json!({})),
            };
            Ok(PointJson {
                id: Some(id),
                vector: Some(vector),
                payload: Some(payload(&p.payload)?),
                unknown: None,
            })
        })
        .collect::<R<Vec<_>>>()?;
    Ok(UpsertBody::of_points(points, rest))
}

pub fn get_points(g: &pb::GetPoints) -> R<Json> {
    no_shard_keys(&g.shard_key_selector)?;
    let mut m = Map::new();
    m.insert("ids".into(), point_ids(&g.ids)?);
    put(&mut m, "with_vector", with_vectors(&g.with_vectors));
    // gRPC leaves payloads out unless asked (REST's retrieve includes them by default)
    m.insert(
        "with_payload".into(),
        with_payload(&g.with_payload).unwrap_or(json!(false)),
    );
    Ok(Json::Object(m))
}

/// The REST sparse vector settings for a gRPC `Modifier` (0 none, 1 idf).
fn sparse_params(modifier: Option<i32>) -> R<Json> {
    match modifier {
        None | Some(0) => Ok(json!({})),
        Some(1) => Ok(json!({"modifier": "idf"})),
        Some(x) => Err(bad(format!("unknown sparse modifier {x}"))),
    }
}

/// The JSON name of a gRPC `Datatype` (none when unset).
fn datatype_name(datatype: Option<i32>) -> R<Option<&'static str>> {
    match datatype {
        None | Some(0) => Ok(None),
        Some(1) => Ok(Some("float32")),
        Some(2) => Ok(Some("uint8")),
        Some(3) => Ok(Some("float16")),
        Some(d) => Err(Status::unimplemented(format!("vector datatype {d}"))),
    }
}

/// `CreateVectorNameRequest` → the body of `PUT /collections/{c}/vectors/{v}`.
pub fn create_vector_name(r: &pb::CreateVectorNameRequest) -> R<Json> {
    match (&r.dense_config, &r.sparse_config) {
        (Some(d), None) => {
            if d.multivector_config.is_some() {
                return Err(bad("multivectors are not supported yet"));
            }
            let mut dense = json!({"size": d.size, "distance": distance(d.distance)?});
            if let Some(name) = datatype_name(d.datatype)? {
                dense["datatype"] = json!(name);
            }
            Ok(json!({ "dense": dense }))
        }
        (None, Some(sp)) => Ok(json!({"sparse": sparse_params(sp.modifier)?})),
        _ => Err(bad("give the new vector's dense_config or sparse_config")),
    }
}

fn distance(d: i32) -> R<&'static str> {
    Ok(match d {
        1 => "Cosine",
        2 => "Euclid",
        3 => "Dot",
        4 => "Manhattan",
        _ => return Err(bad(format!("unknown distance {d}"))),
    })
}

fn hnsw(h: &pb::HnswConfigDiff) -> Json {
    let mut m = Map::new();
    put(&mut m, "m", h.m);
    put(&mut m, "ef_construct", h.ef_construct);
    put(&mut m, "full_scan_threshold", h.full_scan_threshold);
    put(&mut m, "max_indexing_threads", h.max_indexing_threads);
    put(&mut m, "on_disk", h.on_disk);
    put(&mut m, "payload_m", h.payload_m);
    Json::Object(m)
}

fn quantization(q: &pb::QuantizationConfig) -> R<Json> {
    use pb::quantization_config::Kind;
    Ok(match &q.kind {
        Some(Kind::Scalar(s)) => {
            if s.r#type != 1 {
                return Err(bad(format!(
                    "unknown scalar quantization type {}",
                    s.r#type
                )));
            }
            let mut o = Map::new();
            o.insert("type".into(), json!("int8"));
            put(&mut o, "quantile", s.quantile);
            put(&mut o, "always_ram", s.always_ram);
            json!({ "scalar": o })
        }
        Some(Kind::Binary(b)) => {
            let mut o = Map::new();
            put(&mut o, "always_ram", b.always_ram);
            json!({ "binary": o })
        }
        Some(Kind::Product(_)) | Some(Kind::Turbo(_)) => {
            return Err(Status::unimplemented(
                "product and turbo quantization are not supported; use scalar or binary",
            ))
        }
        None => return Err(bad("a quantization config has no variant set")),
    })
}

fn vector_params(p: &pb::VectorParams) -> R<Json> {
    let mut m = Map::new();
    m.insert("size".into(), json!(p.size));
    m.insert("distance".into(), json!(distance(p.distance)?));
    if let Some(h) = &p.hnsw_config {
        m.insert("hnsw_config".into(), hnsw(h));
    }
    if let Some(q) = &p.quantization_config {
        m.insert("quantization_config".into(), quantization(q)?);
    }
    put(&mut m, "on_disk", p.on_disk);
    if let Some(name) = datatype_name(p.datatype)? {
        m.insert("datatype".into(), json!(name));
    }
    if let Some(mv) = &p.multivector_config {
        if mv.comparator != 0 {
            return Err(bad(format!(
                "unknown multivector comparator {}",
                mv.comparator
            )));
        }
        m.insert(
            "multivector_config".into(),
            json!({"comparator": "max_sim"}),
        );
    }
    Ok(Json::Object(m))
}

fn vectors_config(v: &pb::VectorsConfig) -> R<Json> {
    match &v.config {
        Some(pb::vectors_config::Config::Params(p)) => vector_params(p),
        Some(pb::vectors_config::Config::ParamsMap(map)) => {
            let mut m = Map::new();
            for (k, p) in &map.map {
                m.insert(k.clone(), vector_params(p)?);
            }
            Ok(Json::Object(m))
        }
        None => Err(bad("vectors_config has no variant set")),
    }
}

pub fn create_collection(c: &pb::CreateCollection) -> R<Json> {
    if c.strict_mode_config.is_some() {
        return Err(Status::unimplemented("strict mode is not supported"));
    }
    let mut m = Map::new();
    if let Some(v) = &c.vectors_config {
        m.insert("vectors".into(), vectors_config(v)?);
    }
    if let Some(h) = &c.hnsw_config {
        m.insert("hnsw_config".into(), hnsw(h));
    }
    if let Some(o) = &c.optimizers_config {
        let mut x = Map::new();
        put(&mut x, "deleted_threshold", o.deleted_threshold);
        put(
            &mut x,
            "vacuum_min_vector_number",
            o.vacuum_min_vector_number,
        );
        put(&mut x, "default_segment_number", o.default_segment_number);
        put(&mut x, "max_segment_size", o.max_segment_size);
        put(&mut x, "memmap_threshold", o.memmap_threshold);
        put(&mut x, "indexing_threshold", o.indexing_threshold);
        put(&mut x, "flush_interval_sec", o.flush_interval_sec);
        put(
            &mut x,
            "max_optimization_threads",
            o.deprecated_max_optimization_threads,
        );
        m.insert("optimizers_config".into(), Json::Object(x));
    }
    if let Some(w) = &c.wal_config {
        let mut x = Map::new();
        put(&mut x, "wal_capacity_mb", w.wal_capacity_mb);
        put(&mut x, "wal_segments_ahead", w.wal_segments_ahead);
        m.insert("wal_config".into(), Json::Object(x));
    }
    if let Some(q) = &c.quantization_config {
        m.insert("quantization_config".into(), quantization(q)?);
    }
    if let Some(s) = &c.sparse_vectors_config {
        let mut x = Map::new();
        for (k, p) in &s.map {
            x.insert(k.clone(), sparse_params(p.modifier)?);
        }
        m.insert("sparse_vectors".into(), Json::Object(x));
    }
    put(&mut m, "shard_number", c.shard_number);
    put(&mut m, "replication_factor", c.replication_factor);
    put(
        &mut m,
        "write_consistency_factor",
        c.write_consistency_factor,
    );
    put(&mut m, "on_disk_payload", c.on_disk_payload);
    if !c.metadata.is_empty() {
        m.insert("metadata".into(), payload(&c.metadata)?);
    }
    Ok(Json::Object(m))
}

pub fn field_type(t: Option<i32>) -> R<&'static str> {
    Ok(match t {
        None | Some(0) => "keyword",
        Some(1) => "integer",
        Some(2) => "float",
        Some(3) => "geo",
        Some(4) => "text",
        Some(5) => "bool",
        Some(6) => "datetime",
        Some(7) => "uuid",
        Some(x) => return Err(bad(format!("unknown field type {x}"))),
    })
}

// ---- replies: REST JSON → protobuf ----

fn num(v: &Json) -> Option<u64> {
    v.as_u64()
}

pub fn to_value(v: &Json) -> pb::Value {
    use pb::value::Kind;
    let kind = match v {
        Json::Null => Kind::NullValue(0),
        Json::Bool(b) => Kind::BoolValue(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Kind::IntegerValue(i),
            None => Kind::DoubleValue(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Kind::StringValue(s.clone()),
        Json::Array(a) => Kind::ListValue(pb::ListValue {
            values: a.iter().map(to_value).collect(),
        }),
        Json::Object(o) => Kind::StructValue(pb::Struct {
            fields: o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect(),
        }),
    };
    pb::Value { kind: Some(kind) }
}

fn to_payload(v: Option<&Json>) -> pb::Payload {
    match v {
        Some(Json::Object(o)) => o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect(),
        _ => Default::default(),
    }
}

pub fn to_point_id(v: &Json) -> Option<pb::PointId> {
    let options = match v {
        Json::Number(n) => pb::point_id::Options::Num(n.as_u64()?),
        Json::String(s) => pb::point_id::Options::Uuid(s.clone()),
        _ => return None,
    };
    Some(pb::PointId {
        options: Some(options),
    })
}

fn floats(v: &[Json]) -> Vec<f32> {
    v.iter().map(|x| x.as_f64().unwrap_or(0.0) as f32).collect()
}

fn to_vector(v: &Json) -> pb::Vector {
    use pb::vector::Kind;
    let kind = match v {
        Json::Array(a) if a.first().is_some_and(Json::is_array) => {
            Kind::MultiDense(pb::MultiDenseVector {
                vectors: a
                    .iter()
                    .map(|row| pb::DenseVector {
                        data: row.as_array().map(|r| floats(r)).unwrap_or_default(),
                    })
                    .collect(),
            })
        }
        Json::Array(a) => Kind::Dense(pb::DenseVector { data: floats(a) }),
        Json::Object(o) => Kind::Sparse(pb::SparseVector {
            values: o
                .get("values")
                .and_then(Json::as_array)
                .map(|a| floats(a))
                .unwrap_or_default(),
            indices: o
                .get("indices")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_u64())
                        .map(|x| x as u32)
                        .collect()
                })
                .unwrap_or_default(),
        }),
        _ => Kind::Dense(pb::DenseVector::default()),
    };
    pb::Vector {
        kind: Some(kind),
        ..Default::default()
    }
}

fn to_vectors(v: Option<&Json>) -> Option<pb::Vectors> {
    let v = v?;
    let options = match v {
        Json::Null => return None,
        Json::Object(o) if !(o.contains_key("indices") && o.contains_key("values")) => {
            pb::vectors::Options::Vectors(pb::NamedVectors {
                vectors: o.iter().map(|(k, v)| (k.clone(), to_vector(v))).collect(),
            })
        }
        other => pb::vectors::Options::Vector(to_vector(other)),
    };
    Some(pb::Vectors {
        options: Some(options),
    })
}

fn to_order_value(v: Option<&Json>) -> Option<pb::OrderValue> {
    let v = v?;
    let variant = match v.as_i64() {
        Some(i) => pb::order_value::Variant::Int(i),
        None => pb::order_value::Variant::Float(v.as_f64()?),
    };
    Some(pb::OrderValue {
        variant: Some(variant),
    })
}

pub fn to_scored(p: &Json) -> pb::ScoredPoint {
    pb::ScoredPoint {
        id: p.get("id").and_then(to_point_id),
        payload: to_payload(p.get("payload")),
        score: p.get("score").and_then(Json::as_f64).unwrap_or(0.0) as f32,
        version: p.get("version").and_then(num).unwrap_or(0),
        vectors: to_vectors(p.get("vector")),
        order_value: to_order_value(p.get("order_value")),
    }
}

/// `f` of every element of a JSON list (nothing for anything else).
fn each<T>(v: &Json, f: impl Fn(&Json) -> T) -> Vec<T> {
    v.as_array()
        .map(|a| a.iter().map(f).collect())
        .unwrap_or_default()
}

pub fn to_scored_list(v: &Json) -> Vec<pb::ScoredPoint> {
    each(v, to_scored)
}

pub fn to_retrieved(p: &Json) -> pb::RetrievedPoint {
    pb::RetrievedPoint {
        id: p.get("id").and_then(to_point_id),
        payload: to_payload(p.get("payload")),
        vectors: to_vectors(p.get("vector")),
        order_value: to_order_value(p.get("order_value")),
    }
}

pub fn to_retrieved_list(v: &Json) -> Vec<pb::RetrievedPoint> {
    each(v, to_retrieved)
}

pub fn update_result(v: &Json) -> pb::UpdateResult {
    let status = match v.get("status").and_then(Json::as_str) {
        Some("acknowledged") => 1,
        Some("completed") => 2,
        _ => 0,
    };
    pb::UpdateResult {
        operation_id: v.get("operation_id").and_then(num),
        status,
    }
}

fn to_distance(s: Option<&str>) -> i32 {
    match s {
        Some("Cosine") => 1,
        Some("Euclid") => 2,
        Some("Dot") => 3,
        Some("Manhattan") => 4,
        _ => 0,
    }
}

fn to_hnsw(v: Option<&Json>) -> Option<pb::HnswConfigDiff> {
    let v = v?.as_object()?;
    let u = |k: &str| v.get(k).and_then(Json::as_u64);
    Some(pb::HnswConfigDiff {
        m: u("m"),
        ef_construct: u("ef_construct"),
        full_scan_threshold: u("full_scan_threshold"),
        max_indexing_threads: u("max_indexing_threads"),
        on_disk: v.get("on_disk").and_then(Json::as_bool),
        payload_m: u("payload_m"),
    })
}

fn to_quantization(v: Option<&Json>) -> Option<pb::QuantizationConfig> {
    let v = v?.as_object()?;
    let kind = if let Some(s) = v.get("scalar") {
        pb::quantization_config::Kind::Scalar(pb::ScalarQuantization {
            r#type: 1,
            quantile: s.get("quantile").and_then(Json::as_f64).map(|q| q as f32),
            always_ram: s.get("always_ram").and_then(Json::as_bool),
        })
    } else if let Some(b) = v.get("binary") {
        pb::quantization_config::Kind::Binary(pb::BinaryQuantization {
            always_ram: b.get("always_ram").and_then(Json::as_bool),
        })
    } else {
        return None;
    };
    Some(pb::QuantizationConfig { kind: Some(kind) })
}

fn to_vector_params(v: &Json) -> pb::VectorParams {
    let datatype = match v.get("datatype").and_then(Json::as_str) {
        Some("float32") => Some(1),
        Some("uint8") => Some(2),
        Some("float16") => Some(3),
        _ => None,
    };
    pb::VectorParams {
        size: v.get("size").and_then(num).unwrap_or(0),
        distance: to_distance(v.get("distance").and_then(Json::as_str)),
        hnsw_config: to_hnsw(v.get("hnsw_config")),
        quantization_config: to_quantization(v.get("quantization_config")),
        on_disk: v.get("on_disk").and_then(Json::as_bool),
        datatype,
        multivector_config: v
            .get("multivector_config")
            .filter(|m| !m.is_null())
            .map(|_| pb::MultiVectorConfig { comparator: 0 }),
    }
}

fn to_vectors_config(v: Option<&Json>) -> Option<pb::VectorsConfig> {
    let v = v?.as_object()?;
    let config = if v.contains_key("size") {
        pb::vectors_config::Config::Params(to_vector_params(&Json::Object(v.clone())))
    } else {
        pb::vectors_config::Config::ParamsMap(pb::VectorParamsMap {
            map: v
                .iter()
                .map(|(k, p)| (k.clone(), to_vector_params(p)))
                .collect(),
        })
    };
    Some(pb::VectorsConfig {
        config: Some(config),
    })
}

fn to_schema_type(s: Option<&str>) -> i32 {
    match s {
        Some("keyword") => 1,
        Some("integer") => 2,
        Some("float") => 3,
        Some("geo") => 4,
        Some("text") => 5,
        Some("bool") => 6,
        Some("datetime") => 7,
        Some("uuid") => 8,
        _ => 0,
    }
}

pub fn to_collection_info(v: &Json) -> pb::CollectionInfo {
    let status = match v.get("status").and_then(Json::as_str) {
        Some("green") => 1,
        Some("yellow") => 2,
        Some("red") => 3,
        Some("grey") => 4,
        _ => 0,
    };
    let optimizer_status = match v.get("optimizer_status") {
        Some(Json::Object(o)) => pb::OptimizerStatus {
            ok: false,
            error: o
                .get("error")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
        },
        _ => pb::OptimizerStatus {
            ok: true,
            error: String::new(),
        },
    };
    let cfg = v.get("config").cloned().unwrap_or(Json::Null);
    let params = cfg.get("params").cloned().unwrap_or(Json::Null);
    let opt = cfg.get("optimizer_config").cloned().unwrap_or(Json::Null);
    let ou = |k: &str| opt.get(k).and_then(Json::as_u64);
    let wal = cfg.get("wal_config").cloned().unwrap_or(Json::Null);
    let sparse = params
        .get("sparse_vectors")
        .and_then(Json::as_object)
        .map(|m| pb::SparseVectorConfig {
            map: m
                .iter()
                .map(|(k, p)| {
                    let modifier = match p.get("modifier").and_then(Json::as_str) {
                        Some("idf") => Some(1),
                        _ => None,
                    };
                    (
                        k.clone(),
                        pb::SparseVectorParams {
                            index: None,
                            modifier,
                        },
                    )
                })
                .collect(),
        });
    let config = pb::CollectionConfig {
        params: Some(pb::CollectionParams {
            shard_number: params.get("shard_number").and_then(num).unwrap_or(1) as u32,
            on_disk_payload: params
                .get("on_disk_payload")
                .and_then(Json::as_bool)
                .unwrap_or(false),
            vectors_config: to_vectors_config(params.get("vectors")),
            replication_factor: params
                .get("replication_factor")
                .and_then(num)
                .map(|x| x as u32),
            write_consistency_factor: params
                .get("write_consistency_factor")
                .and_then(num)
                .map(|x| x as u32),
            sparse_vectors_config: sparse,
        }),
        hnsw_config: to_hnsw(cfg.get("hnsw_config")).or_else(|| Some(Default::default())),
        optimizer_config: Some(pb::OptimizersConfigDiff {
            deleted_threshold: opt.get("deleted_threshold").and_then(Json::as_f64),
            vacuum_min_vector_number: ou("vacuum_min_vector_number"),
            default_segment_number: ou("default_segment_number"),
            max_segment_size: ou("max_segment_size"),
            memmap_threshold: ou("memmap_threshold"),
            indexing_threshold: ou("indexing_threshold"),
            flush_interval_sec: ou("flush_interval_sec"),
            deprecated_max_optimization_threads: ou("max_optimization_threads"),
        }),
        wal_config: Some(pb::WalConfigDiff {
            wal_capacity_mb: wal.get("wal_capacity_mb").and_then(num),
            wal_segments_ahead: wal.get("wal_segments_ahead").and_then(num),
        }),
        quantization_config: to_quantization(cfg.get("quantization_config")),
        metadata: to_payload(cfg.get("metadata")),
    };
    let payload_schema = v
        .get("payload_schema")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, s)| {
                    (
                        k.clone(),
                        pb::PayloadSchemaInfo {
                            data_type: to_schema_type(s.get("data_type").and_then(Json::as_str)),
                            points: s.get("points").and_then(num),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    pb::CollectionInfo {
        status,
        optimizer_status: Some(optimizer_status),
        segments_count: v.get("segments_count").and_then(num).unwrap_or(0),
        config: Some(config),
        payload_schema,
        points_count: v.get("points_count").and_then(num),
        indexed_vectors_count: v.get("indexed_vectors_count").and_then(num),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = |seconds, nanos| timestamp(&pb::Timestamp { seconds, nanos }).unwrap();
        assert_eq!(t(0, 0), json!("1970-01-01T00:00:00.000000000Z"));
        assert_eq!(t(951_782_400, 5), json!("2000-02-29T00:00:00.000000005Z"));
        assert_eq!(t(1_700_000_000, 0), json!("2023-11-14T22:13:20.000000000Z"));
        assert_eq!(t(-1, 0), json!("1969-12-31T23:59:59.000000000Z"));
        assert_eq!(
            t(253_402_300_799, 0),
            json!("9999-12-31T23:59:59.000000000Z")
        );
        assert!(timestamp(&pb::Timestamp {
            seconds: 253_402_300_800,
            nanos: 0
        })
        .is_err());
        assert!(timestamp(&pb::Timestamp {
            seconds: 0,
            nanos: -1
        })
        .is_err());
        assert!(timestamp(&pb::Timestamp {
            seconds: i64::MAX,
            nanos: 0
        })
        .is_err());
    }

    #[test]
    fn values_round_trip_through_json() {
        let j = json!({"a": [1, 2.5, "x", null, true, {"b": -3}]});
        let p = to_payload(Some(&j));
        assert_eq!(payload(&p).unwrap(), j);
        let nan = pb::Value {
            kind: Some(pb::value::Kind::DoubleValue(f64::NAN)),
        };
        assert!(value(&nan).is_err());
    }
}
