//! The body of `PUT /collections/{name}/points`, read with its vectors going straight into
//! `f32` rows. Uploads are mostly numbers: read as a `serde_json::Value`, every component
//! would become a tree node to build, convert and drop (a third of the server's CPU in an
//! upload profile). Everything that is not a plain list of numbers where a vector goes is
//! kept as JSON and checked by the same functions as before, so answers do not change.

use std::fmt;

use azimuth_engine::{NamedVectors, PointStruct, Vector};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::points::{
    batch_assemble, batch_ids, batch_rows_fit, named_batch_vectors, upsert_options, upsert_shape,
    Write,
};
use super::wire::{parse_id, parse_vector, parse_vectors};
use crate::reply::ApiError;

/// A vector: a list of numbers read as `f32`, or any other JSON.
#[derive(Clone)]
pub enum VectorJson {
    Floats(Vec<f32>),
    Json(Value),
}

impl From<Vec<f32>> for VectorJson {
    fn from(v: Vec<f32>) -> Self {
        VectorJson::Floats(v)
    }
}

thread_local! {
    /// Length of the last vector this thread read: the capacity to start the next one with.
    static LAST_LEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One component of a vector: a number (read without building a `Value`), or any other
/// JSON, which makes the whole vector JSON.
enum Elem {
    Num(f64),
    Other(Value),
}

impl<'de> Deserialize<'de> for Elem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Elem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a vector component")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Elem, E> {
                Ok(Elem::Num(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Elem, E> {
                Ok(Elem::Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Elem, E> {
                Ok(Elem::Num(v as f64))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Elem, E> {
                Ok(Elem::Other(Value::Bool(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Elem, E> {
                Ok(Elem::Other(Value::from(v)))
            }
            fn visit_unit<E>(self) -> Result<Elem, E> {
                Ok(Elem::Other(Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Elem, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Elem::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Elem, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Elem::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for VectorJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = VectorJson;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a vector")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<VectorJson, A::Error> {
                // JSON gives no length up front: start at the last vector's length (vectors
                // of a body are mostly alike) rather than doubling up to it.
                let hint = seq.size_hint().unwrap_or_else(|| LAST_LEN.get());
                let mut floats = Vec::with_capacity(hint.min(1 << 16));
                while let Some(x) = seq.next_element::<Elem>()? {
                    match x {
                        Elem::Num(f) => floats.push(f as f32),
                        Elem::Other(x) => {
                            // not a list of numbers: keep all of it as JSON
                            let mut all: Vec<Value> = floats
                                .into_iter()
                                .map(|f| Value::from(f64::from(f)))
                                .collect();
                            all.push(x);
                            while let Some(y) = seq.next_element::<Value>()? {
                                all.push(y);
                            }
                            return Ok(VectorJson::Json(Value::Array(all)));
                        }
                    }
                }
                LAST_LEN.set(floats.len());
                Ok(VectorJson::Floats(floats))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<VectorJson, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(VectorJson::Json)
            }
            fn visit_bool<E>(self, v: bool) -> Result<VectorJson, E> {
                Ok(VectorJson::Json(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<VectorJson, E> {
                Ok(VectorJson::Json(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<VectorJson, E> {
                Ok(VectorJson::Json(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<VectorJson, E> {
                Ok(VectorJson::Json(Value::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<VectorJson, E> {
                Ok(VectorJson::Json(Value::from(v)))
            }
            fn visit_unit<E>(self) -> Result<VectorJson, E> {
                Ok(VectorJson::Json(Value::Null))
            }
        }
        d.deserialize_any(V)
    }
}

impl VectorJson {
    /// The unnamed dense vector, or what [`parse_vectors`] makes of the JSON.
    fn into_vectors(self, what: &str) -> Result<NamedVectors, ApiError> {
        match self {
            VectorJson::Floats(v) => {
                let mut out = NamedVectors::new();
                out.insert(String::new(), Vector::Dense(v));
                Ok(out)
            }
            VectorJson::Json(v) => parse_vectors(&v, what),
        }
    }

    fn into_vector(self, what: &str) -> Result<Vector, ApiError> {
        match self {
            VectorJson::Floats(v) => Ok(Vector::Dense(v)),
            VectorJson::Json(v) => parse_vector(&v, what),
        }
    }
}

/// One element of `points`.
#[derive(Default, Clone)]
pub struct PointJson {
    pub id: Option<Value>,
    pub vector: Option<VectorJson>,
    pub payload: Option<Value>,
    /// The first key that is none of the three.
    pub unknown: Option<String>,
}

impl<'de> Deserialize<'de> for PointJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PointJson;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a point object with id, vector and payload")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PointJson, A::Error> {
                let mut p = PointJson::default();
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "id" => p.id = Some(map.next_value()?),
                        "vector" => p.vector = Some(map.next_value()?),
                        "payload" => p.payload = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            p.unknown.get_or_insert(k);
                        }
                    }
                }
                Ok(p)
            }
        }
        d.deserialize_map(V)
    }
}

impl PointJson {
    fn into_point(self, i: usize) -> Result<PointStruct, ApiError> {
        let what = format!("points[{i}]");
        if let Some(k) = self.unknown {
            return Err(ApiError::bad_request(format!(
                "{what}: unknown field {k:?}"
            )));
        }
        let id = parse_id(
            self.id
                .as_ref()
                .ok_or_else(|| ApiError::bad_request(format!("{what}: id is required")))?,
        )?;
        let vectors = self
            .vector
            .ok_or_else(|| ApiError::bad_request(format!("{what}: vector is required")))?
            .into_vectors(&what)?;
        Ok(PointStruct {
            id,
            vectors,
            payload: payload(self.payload, &what)?,
        })
    }
}

fn payload(v: Option<Value>, what: &str) -> Result<azimuth_engine::Payload, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(Default::default()),
        Some(Value::Object(m)) => Ok(m),
        Some(other) => super::wire::parse_payload(Some(&other), what),
    }
}

/// `batch.vectors`: one vector per id, or anything else (named vectors) as JSON.
#[derive(Clone)]
pub enum BatchVectors {
    Rows(Vec<VectorJson>),
    Json(Value),
}

impl<'de> Deserialize<'de> for BatchVectors {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BatchVectors;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of vectors or a map of vector name to list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BatchVectors, A::Error> {
                let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(r) = seq.next_element::<VectorJson>()? {
                    rows.push(r);
                }
                Ok(BatchVectors::Rows(rows))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BatchVectors, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(BatchVectors::Json)
            }
            fn visit_bool<E>(self, v: bool) -> Result<BatchVectors, E> {
                Ok(BatchVectors::Json(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<BatchVectors, E> {
                Ok(BatchVectors::Json(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<BatchVectors, E> {
                Ok(BatchVectors::Json(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<BatchVectors, E> {
                Ok(BatchVectors::Json(Value::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<BatchVectors, E> {
                Ok(BatchVectors::Json(Value::from(v)))
            }
            fn visit_unit<E>(self) -> Result<BatchVectors, E> {
                Ok(BatchVectors::Json(Value::Null))
            }
        }
        d.deserialize_any(V)
    }
}

/// `batch` with its vectors read as rows.
#[derive(Default, Clone)]
pub struct BatchJson {
    pub ids: Option<Value>,
    pub vectors: Option<BatchVectors>,
    pub payloads: Option<Value>,
}

impl<'de> Deserialize<'de> for BatchJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BatchJson;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a batch object with ids, vectors and payloads")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BatchJson, A::Error> {
                let mut b = BatchJson::default();
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "ids" => b.ids = Some(map.next_value()?),
                        "vectors" => b.vectors = Some(map.next_value()?),
                        "payloads" => b.payloads = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(b)
            }
        }
        d.deserialize_map(V)
    }
}

impl BatchJson {
    fn into_points(self) -> Result<Vec<PointStruct>, ApiError> {
        let ids = batch_ids(self.ids.as_ref())?;
        let mut vectors: Vec<NamedVectors> = vec![Default::default(); ids.len()];
        match self.vectors {
            Some(BatchVectors::Rows(rows)) => {
                batch_rows_fit(ids.len(), rows.len())?;
                for (i, (r, out)) in rows.into_iter().zip(vectors.iter_mut()).enumerate() {
                    out.insert(
                        String::new(),
                        r.into_vector(&format!("batch.vectors[{i}]"))?,
                    );
                }
            }
            Some(BatchVectors::Json(v)) => named_batch_vectors(Some(&v), &mut vectors)?,
            None => named_batch_vectors(None, &mut vectors)?,
        }
        batch_assemble(ids, vectors, self.payloads.as_ref())
    }
}

/// The whole upsert body: `points` or `batch`, and the other keys as JSON.
#[derive(Default, Clone)]
pub struct UpsertBody {
    pub points: Option<Vec<PointJson>>,
    pub batch: Option<BatchJson>,
    /// `points` (or `batch`) was there but not a list (an object).
    pub malformed_points: bool,
    pub malformed_batch: bool,
    pub rest: Map<String, Value>,
}

impl<'de> Deserialize<'de> for UpsertBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UpsertBody;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object with \"points\" or \"batch\"")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UpsertBody, A::Error> {
                let mut b = UpsertBody::default();
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "points" => match map.next_value::<Option<Listed<PointJson>>>()? {
                            Some(Listed(Some(p))) => b.points = Some(p),
                            _ => b.malformed_points = true,
                        },
                        "batch" => match map.next_value::<Option<Batch>>()? {
                            Some(Batch(Some(x))) => b.batch = Some(x),
                            _ => b.malformed_batch = true,
                        },
                        _ => {
                            let v = map.next_value::<Value>()?;
                            b.rest.insert(k, v);
                        }
                    }
                }
                Ok(b)
            }
        }
        d.deserialize_map(V)
    }
}

/// A list of `T`, or `None` for any other JSON (read and dropped).
struct Listed<T>(Option<Vec<T>>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Listed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Listed<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Listed<T>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(x) = seq.next_element::<T>()? {
                    out.push(x);
                }
                Ok(Listed(Some(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Listed<T>, A::Error> {
                IgnoredAny::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Listed(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Listed<T>, E> {
                Ok(Listed(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Listed<T>, E> {
                Ok(Listed(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Listed<T>, E> {
                Ok(Listed(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Listed<T>, E> {
                Ok(Listed(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Listed<T>, E> {
                Ok(Listed(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A batch object, or `None` for any other JSON (read and dropped).
struct Batch(Option<BatchJson>);

impl<'de> Deserialize<'de> for Batch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Batch;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a batch object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Batch, A::Error> {
                BatchJson::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|b| Batch(Some(b)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Batch, A::Error> {
                IgnoredAny::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Batch(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Batch, E> {
                Ok(Batch(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Batch, E> {
                Ok(Batch(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Batch, E> {
                Ok(Batch(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Batch, E> {
                Ok(Batch(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Batch, E> {
                Ok(Batch(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl UpsertBody {
    /// The write, with the same checks (and messages) as [`super::points::parse_upsert`].
    pub fn into_write(self) -> Result<Write, ApiError> {
        if self.malformed_batch && self.points.is_none() && !self.malformed_points {
            return Err(ApiError::bad_request(
                "batch must be an object with \"ids\" and \"vectors\"",
            ));
        }
        let points = match (self.points, self.batch) {
            (Some(ps), None) if !self.malformed_batch => ps
                .into_iter()
                .enumerate()
                .map(|(i, p)| p.into_point(i))
                .collect::<Result<_, _>>()?,
            (None, Some(b)) if !self.malformed_points => b.into_points()?,
            _ => return Err(upsert_shape()),
        };
        Ok(Write::Upsert(points, upsert_options(&self.rest)?))
    }

    /// The body of points given as vectors already (the gRPC API's upsert).
    pub fn of_points(points: Vec<PointJson>, rest: Map<String, Value>) -> UpsertBody {
        UpsertBody {
            points: Some(points),
            rest,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::qdrant::points::parse_upsert;

    /// The typed reader and the JSON-value reader agree: same points, or both refuse.
    #[test]
    fn typed_and_value_readers_agree() {
        let bodies = [
            json!({"points": [{"id": 1, "vector": [0.1, 2, -3.5e-3], "payload": {"a": [1, 2.5]}}]}),
            json!({"points": [{"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "vector": [1e39, 0]}]}),
            json!({"points": [{"id": 2, "vector": {"img": [1, 2], "sp": {"indices": [3], "values": [0.5]}}}]}),
            json!({"points": [{"id": 3, "vector": [[1, 2], [3, 4]]}]}),
            json!({"points": [{"id": 3, "vector": [1, "x"]}]}),
            json!({"points": [{"id": 3, "vector": 7}]}),
            json!({"points": [{"id": 3, "vector": [1], "extra": 1}]}),
            json!({"points": [{"vector": [1]}]}),
            json!({"points": [{"id": 4}]}),
            json!({"points": [{"id": 4, "vector": [1], "payload": [1]}]}),
            json!({"points": [{"id": 4, "vector": [1], "payload": null}]}),
            json!({"points": [{"id": -4, "vector": [1]}]}),
            json!({"points": {"id": 1}}),
            json!({"points": null}),
            json!({"batch": {"ids": [1, 2], "vectors": [[1, 2], [3, 4]], "payloads": [{"a": 1}, null]}}),
            json!({"batch": {"ids": [1, 2], "vectors": [[1, 2]]}}),
            json!({"batch": {"ids": [1, 2], "vectors": {"img": [[1], [2]]}}}),
            json!({"batch": {"ids": [1], "vectors": [{"indices": [1], "values": [2]}]}}),
            json!({"batch": {"ids": [1], "vectors": [[1]], "payloads": [1]}}),
            json!({"batch": {"vectors": [[1]]}}),
            json!({"batch": {"ids": [1]}}),
            json!({"batch": [1]}),
            json!({"points": [], "batch": {"ids": [], "vectors": []}}),
            json!({}),
            json!({"points": [{"id": 1, "vector": [1]}], "update_mode": "insert_only",
                   "update_filter": {"must": [{"key": "a", "match": {"value": 1}}]}}),
            json!({"points": [{"id": 1, "vector": [1]}], "update_mode": "sometimes"}),
        ];
        for body in bodies {
            let by_value = parse_upsert(&body);
            let typed = serde_json::from_str::<UpsertBody>(&body.to_string())
                .map_err(|e| e.to_string())
                .and_then(|b| b.into_write().map_err(|e| e.message));
            let from_value = serde_json::from_value::<UpsertBody>(body.clone())
                .map_err(|e| e.to_string())
                .and_then(|b| b.into_write().map_err(|e| e.message));
            match (by_value, typed, from_value) {
                (Ok(Write::Upsert(a, ao)), Ok(Write::Upsert(b, bo)), Ok(Write::Upsert(c, _))) => {
                    assert_eq!(a, b, "{body}");
                    assert_eq!(a, c, "{body}");
                    assert_eq!(format!("{ao:?}"), format!("{bo:?}"), "{body}");
                }
                (Err(_), Err(_), Err(_)) => {}
                (a, b, c) => panic!(
                    "{body}: value reader {:?}, typed {:?}, from value {:?}",
                    a.err().map(|e| e.message),
                    b.err(),
                    c.err()
                ),
            }
        }
    }
}
