//! Protobuf messages of Qdrant's gRPC API (package `qdrant`), as far as Azimuth serves it.
//!
//! Written by hand with prost's derive: field numbers and types follow the wire protocol
//! qdrant-client speaks. Enumerations are kept as `i32` and matched by number. Variants of a
//! `oneof` that Azimuth does not serve over gRPC decode into [`Unsupported`], so a request
//! using them is refused by name instead of being read as if the field were absent.

// Variant names follow the protocol's; messages are decoded once per call, so a large
// variant costs nothing worth boxing for.
#![allow(clippy::enum_variant_names, clippy::large_enum_variant)]

use std::collections::HashMap;

use prost::{Message, Oneof};

/// Any message whose content is not read: a `oneof` variant Azimuth refuses over gRPC.
#[derive(Clone, PartialEq, Message)]
pub struct Unsupported {}

// ---- json_with_int.proto ----

#[derive(Clone, PartialEq, Message)]
pub struct Struct {
    #[prost(map = "string, message", tag = "1")]
    pub fields: HashMap<String, Value>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Value {
    #[prost(oneof = "value::Kind", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub kind: Option<value::Kind>,
}

pub mod value {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Kind {
        #[prost(int32, tag = "1")]
        NullValue(i32),
        #[prost(double, tag = "2")]
        DoubleValue(f64),
        #[prost(int64, tag = "3")]
        IntegerValue(i64),
        #[prost(string, tag = "4")]
        StringValue(String),
        #[prost(bool, tag = "5")]
        BoolValue(bool),
        #[prost(message, tag = "6")]
        StructValue(Struct),
        #[prost(message, tag = "7")]
        ListValue(ListValue),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct ListValue {
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<Value>,
}

pub type Payload = HashMap<String, Value>;

// ---- google.protobuf.Timestamp ----

#[derive(Clone, PartialEq, Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

// ---- qdrant.proto ----

#[derive(Clone, PartialEq, Message)]
pub struct HealthCheckRequest {}

#[derive(Clone, PartialEq, Message)]
pub struct HealthCheckReply {
    #[prost(string, tag = "1")]
    pub title: String,
    #[prost(string, tag = "2")]
    pub version: String,
    #[prost(string, optional, tag = "3")]
    pub commit: Option<String>,
}

// ---- qdrant_common.proto ----

#[derive(Clone, PartialEq, Message)]
pub struct PointId {
    #[prost(oneof = "point_id::Options", tags = "1, 2")]
    pub options: Option<point_id::Options>,
}

pub mod point_id {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Options {
        #[prost(uint64, tag = "1")]
        Num(u64),
        #[prost(string, tag = "2")]
        Uuid(String),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct GeoPoint {
    #[prost(double, tag = "1")]
    pub lon: f64,
    #[prost(double, tag = "2")]
    pub lat: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct Filter {
    #[prost(message, repeated, tag = "1")]
    pub should: Vec<Condition>,
    #[prost(message, repeated, tag = "2")]
    pub must: Vec<Condition>,
    #[prost(message, repeated, tag = "3")]
    pub must_not: Vec<Condition>,
    #[prost(message, optional, tag = "4")]
    pub min_should: Option<MinShould>,
}

#[derive(Clone, PartialEq, Message)]
pub struct MinShould {
    #[prost(message, repeated, tag = "1")]
    pub conditions: Vec<Condition>,
    #[prost(uint64, tag = "2")]
    pub min_count: u64,
}

#[derive(Clone, PartialEq, Message)]
pub struct Condition {
    #[prost(oneof = "condition::Kind", tags = "1, 2, 3, 4, 5, 6, 7, 8")]
    pub kind: Option<condition::Kind>,
}

pub mod condition {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Kind {
        #[prost(message, tag = "1")]
        Field(FieldCondition),
        #[prost(message, tag = "2")]
        IsEmpty(KeyCondition),
        #[prost(message, tag = "3")]
        HasId(HasIdCondition),
        #[prost(message, tag = "4")]
        Filter(Filter),
        #[prost(message, tag = "5")]
        IsNull(KeyCondition),
        #[prost(message, tag = "6")]
        Nested(NestedCondition),
        #[prost(message, tag = "7")]
        HasVector(HasVectorCondition),
        #[prost(message, tag = "8")]
        Slice(Unsupported),
    }
}

/// `IsEmptyCondition` and `IsNullCondition`: both hold one key.
#[derive(Clone, PartialEq, Message)]
pub struct KeyCondition {
    #[prost(string, tag = "1")]
    pub key: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct HasIdCondition {
    #[prost(message, repeated, tag = "1")]
    pub has_id: Vec<PointId>,
}

#[derive(Clone, PartialEq, Message)]
pub struct HasVectorCondition {
    #[prost(string, tag = "1")]
    pub has_vector: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct NestedCondition {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub filter: Option<Filter>,
}

#[derive(Clone, PartialEq, Message)]
pub struct FieldCondition {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub r#match: Option<Match>,
    #[prost(message, optional, tag = "3")]
    pub range: Option<Range>,
    #[prost(message, optional, tag = "4")]
    pub geo_bounding_box: Option<GeoBoundingBox>,
    #[prost(message, optional, tag = "5")]
    pub geo_radius: Option<GeoRadius>,
    #[prost(message, optional, tag = "6")]
    pub values_count: Option<ValuesCount>,
    #[prost(message, optional, tag = "7")]
    pub geo_polygon: Option<GeoPolygon>,
    #[prost(message, optional, tag = "8")]
    pub datetime_range: Option<DatetimeRange>,
    #[prost(bool, optional, tag = "9")]
    pub is_empty: Option<bool>,
    #[prost(bool, optional, tag = "10")]
    pub is_null: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Match {
    #[prost(
        oneof = "r#match::Value",
        tags = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"
    )]
    pub value: Option<r#match::Value>,
}

pub mod r#match {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Value {
        #[prost(string, tag = "1")]
        Keyword(String),
        #[prost(int64, tag = "2")]
        Integer(i64),
        #[prost(bool, tag = "3")]
        Boolean(bool),
        #[prost(string, tag = "4")]
        Text(String),
        #[prost(message, tag = "5")]
        Keywords(RepeatedStrings),
        #[prost(message, tag = "6")]
        Integers(RepeatedIntegers),
        #[prost(message, tag = "7")]
        ExceptIntegers(RepeatedIntegers),
        #[prost(message, tag = "8")]
        ExceptKeywords(RepeatedStrings),
        #[prost(string, tag = "9")]
        Phrase(String),
        #[prost(string, tag = "10")]
        TextAny(String),
        #[prost(string, tag = "11")]
        Prefix(String),
        #[prost(string, tag = "12")]
        Substring(String),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct RepeatedStrings {
    #[prost(string, repeated, tag = "1")]
    pub strings: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct RepeatedIntegers {
    #[prost(int64, repeated, tag = "1")]
    pub integers: Vec<i64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Range {
    #[prost(double, optional, tag = "1")]
    pub lt: Option<f64>,
    #[prost(double, optional, tag = "2")]
    pub gt: Option<f64>,
    #[prost(double, optional, tag = "3")]
    pub gte: Option<f64>,
    #[prost(double, optional, tag = "4")]
    pub lte: Option<f64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct DatetimeRange {
    #[prost(message, optional, tag = "1")]
    pub lt: Option<Timestamp>,
    #[prost(message, optional, tag = "2")]
    pub gt: Option<Timestamp>,
    #[prost(message, optional, tag = "3")]
    pub gte: Option<Timestamp>,
    #[prost(message, optional, tag = "4")]
    pub lte: Option<Timestamp>,
}

#[derive(Clone, PartialEq, Message)]
pub struct GeoBoundingBox {
    #[prost(message, optional, tag = "1")]
    pub top_left: Option<GeoPoint>,
    #[prost(message, optional, tag = "2")]
    pub bottom_right: Option<GeoPoint>,
}

#[derive(Clone, PartialEq, Message)]
pub struct GeoRadius {
    #[prost(message, optional, tag = "1")]
    pub center: Option<GeoPoint>,
    #[prost(float, tag = "2")]
    pub radius: f32,
}

#[derive(Clone, PartialEq, Message)]
pub struct GeoLineString {
    #[prost(message, repeated, tag = "1")]
    pub points: Vec<GeoPoint>,
}

#[derive(Clone, PartialEq, Message)]
pub struct GeoPolygon {
    #[prost(message, optional, tag = "1")]
    pub exterior: Option<GeoLineString>,
    #[prost(message, repeated, tag = "2")]
    pub interiors: Vec<GeoLineString>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ValuesCount {
    #[prost(uint64, optional, tag = "1")]
    pub lt: Option<u64>,
    #[prost(uint64, optional, tag = "2")]
    pub gt: Option<u64>,
    #[prost(uint64, optional, tag = "3")]
    pub gte: Option<u64>,
    #[prost(uint64, optional, tag = "4")]
    pub lte: Option<u64>,
}

// ---- collections.proto ----

#[derive(Clone, PartialEq, Message)]
pub struct CollectionNameRequest {
    #[prost(string, tag = "1")]
    pub collection_name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListCollectionsRequest {}

#[derive(Clone, PartialEq, Message)]
pub struct CollectionDescription {
    #[prost(string, tag = "1")]
    pub name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListCollectionsResponse {
    #[prost(message, repeated, tag = "1")]
    pub collections: Vec<CollectionDescription>,
    #[prost(double, tag = "2")]
    pub time: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct GetCollectionInfoResponse {
    #[prost(message, optional, tag = "1")]
    pub result: Option<CollectionInfo>,
    #[prost(double, tag = "2")]
    pub time: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct CollectionInfo {
    #[prost(int32, tag = "1")]
    pub status: i32,
    #[prost(message, optional, tag = "2")]
    pub optimizer_status: Option<OptimizerStatus>,
    #[prost(uint64, tag = "4")]
    pub segments_count: u64,
    #[prost(message, optional, tag = "7")]
    pub config: Option<CollectionConfig>,
    #[prost(map = "string, message", tag = "8")]
    pub payload_schema: HashMap<String, PayloadSchemaInfo>,
    #[prost(uint64, optional, tag = "9")]
    pub points_count: Option<u64>,
    #[prost(uint64, optional, tag = "10")]
    pub indexed_vectors_count: Option<u64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OptimizerStatus {
    #[prost(bool, tag = "1")]
    pub ok: bool,
    #[prost(string, tag = "2")]
    pub error: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct CollectionConfig {
    #[prost(message, optional, tag = "1")]
    pub params: Option<CollectionParams>,
    #[prost(message, optional, tag = "2")]
    pub hnsw_config: Option<HnswConfigDiff>,
    #[prost(message, optional, tag = "3")]
    pub optimizer_config: Option<OptimizersConfigDiff>,
    #[prost(message, optional, tag = "4")]
    pub wal_config: Option<WalConfigDiff>,
    #[prost(message, optional, tag = "5")]
    pub quantization_config: Option<QuantizationConfig>,
    #[prost(map = "string, message", tag = "7")]
    pub metadata: Payload,
}

#[derive(Clone, PartialEq, Message)]
pub struct CollectionParams {
    #[prost(uint32, tag = "3")]
    pub shard_number: u32,
    #[prost(bool, tag = "4")]
    pub on_disk_payload: bool,
    #[prost(message, optional, tag = "5")]
    pub vectors_config: Option<VectorsConfig>,
    #[prost(uint32, optional, tag = "6")]
    pub replication_factor: Option<u32>,
    #[prost(uint32, optional, tag = "7")]
    pub write_consistency_factor: Option<u32>,
    #[prost(message, optional, tag = "10")]
    pub sparse_vectors_config: Option<SparseVectorConfig>,
}

#[derive(Clone, PartialEq, Message)]
pub struct VectorsConfig {
    #[prost(oneof = "vectors_config::Config", tags = "1, 2")]
    pub config: Option<vectors_config::Config>,
}

pub mod vectors_config {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Config {
        #[prost(message, tag = "1")]
        Params(VectorParams),
        #[prost(message, tag = "2")]
        ParamsMap(VectorParamsMap),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct VectorParams {
    #[prost(uint64, tag = "1")]
    pub size: u64,
    #[prost(int32, tag = "2")]
    pub distance: i32,
    #[prost(message, optional, tag = "3")]
    pub hnsw_config: Option<HnswConfigDiff>,
    #[prost(message, optional, tag = "4")]
    pub quantization_config: Option<QuantizationConfig>,
    #[prost(bool, optional, tag = "5")]
    pub on_disk: Option<bool>,
    #[prost(int32, optional, tag = "6")]
    pub datatype: Option<i32>,
    #[prost(message, optional, tag = "7")]
    pub multivector_config: Option<MultiVectorConfig>,
}

#[derive(Clone, PartialEq, Message)]
pub struct MultiVectorConfig {
    #[prost(int32, tag = "1")]
    pub comparator: i32,
}

#[derive(Clone, PartialEq, Message)]
pub struct VectorParamsMap {
    #[prost(map = "string, message", tag = "1")]
    pub map: HashMap<String, VectorParams>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SparseVectorConfig {
    #[prost(map = "string, message", tag = "1")]
    pub map: HashMap<String, SparseVectorParams>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SparseVectorParams {
    #[prost(message, optional, tag = "1")]
    pub index: Option<Unsupported>,
    #[prost(int32, optional, tag = "2")]
    pub modifier: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct HnswConfigDiff {
    #[prost(uint64, optional, tag = "1")]
    pub m: Option<u64>,
    #[prost(uint64, optional, tag = "2")]
    pub ef_construct: Option<u64>,
    #[prost(uint64, optional, tag = "3")]
    pub full_scan_threshold: Option<u64>,
    #[prost(uint64, optional, tag = "4")]
    pub max_indexing_threads: Option<u64>,
    #[prost(bool, optional, tag = "5")]
    pub on_disk: Option<bool>,
    #[prost(uint64, optional, tag = "6")]
    pub payload_m: Option<u64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OptimizersConfigDiff {
    #[prost(double, optional, tag = "1")]
    pub deleted_threshold: Option<f64>,
    #[prost(uint64, optional, tag = "2")]
    pub vacuum_min_vector_number: Option<u64>,
    #[prost(uint64, optional, tag = "3")]
    pub default_segment_number: Option<u64>,
    #[prost(uint64, optional, tag = "4")]
    pub max_segment_size: Option<u64>,
    #[prost(uint64, optional, tag = "5")]
    pub memmap_threshold: Option<u64>,
    #[prost(uint64, optional, tag = "6")]
    pub indexing_threshold: Option<u64>,
    #[prost(uint64, optional, tag = "7")]
    pub flush_interval_sec: Option<u64>,
    #[prost(uint64, optional, tag = "8")]
    pub deprecated_max_optimization_threads: Option<u64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct WalConfigDiff {
    #[prost(uint64, optional, tag = "1")]
    pub wal_capacity_mb: Option<u64>,
    #[prost(uint64, optional, tag = "2")]
    pub wal_segments_ahead: Option<u64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct QuantizationConfig {
    #[prost(oneof = "quantization_config::Kind", tags = "1, 2, 3, 4")]
    pub kind: Option<quantization_config::Kind>,
}

pub mod quantization_config {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Kind {
        #[prost(message, tag = "1")]
        Scalar(ScalarQuantization),
        #[prost(message, tag = "2")]
        Product(Unsupported),
        #[prost(message, tag = "3")]
        Binary(BinaryQuantization),
        #[prost(message, tag = "4")]
        Turbo(Unsupported),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct ScalarQuantization {
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    #[prost(float, optional, tag = "2")]
    pub quantile: Option<f32>,
    #[prost(bool, optional, tag = "3")]
    pub always_ram: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct BinaryQuantization {
    #[prost(bool, optional, tag = "1")]
    pub always_ram: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PayloadSchemaInfo {
    #[prost(int32, tag = "1")]
    pub data_type: i32,
    #[prost(uint64, optional, tag = "3")]
    pub points: Option<u64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CreateCollection {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(message, optional, tag = "4")]
    pub hnsw_config: Option<HnswConfigDiff>,
    #[prost(message, optional, tag = "5")]
    pub wal_config: Option<WalConfigDiff>,
    #[prost(message, optional, tag = "6")]
    pub optimizers_config: Option<OptimizersConfigDiff>,
    #[prost(uint32, optional, tag = "7")]
    pub shard_number: Option<u32>,
    #[prost(bool, optional, tag = "8")]
    pub on_disk_payload: Option<bool>,
    #[prost(uint64, optional, tag = "9")]
    pub timeout: Option<u64>,
    #[prost(message, optional, tag = "10")]
    pub vectors_config: Option<VectorsConfig>,
    #[prost(uint32, optional, tag = "11")]
    pub replication_factor: Option<u32>,
    #[prost(uint32, optional, tag = "12")]
    pub write_consistency_factor: Option<u32>,
    #[prost(message, optional, tag = "14")]
    pub quantization_config: Option<QuantizationConfig>,
    #[prost(message, optional, tag = "16")]
    pub sparse_vectors_config: Option<SparseVectorConfig>,
    #[prost(message, optional, tag = "17")]
    pub strict_mode_config: Option<Unsupported>,
    #[prost(map = "string, message", tag = "18")]
    pub metadata: Payload,
}

#[derive(Clone, PartialEq, Message)]
pub struct DeleteCollection {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(uint64, optional, tag = "2")]
    pub timeout: Option<u64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CollectionOperationResponse {
    #[prost(bool, tag = "1")]
    pub result: bool,
    #[prost(double, tag = "2")]
    pub time: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct CollectionExists {
    #[prost(bool, tag = "1")]
    pub exists: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct CollectionExistsResponse {
    #[prost(message, optional, tag = "1")]
    pub result: Option<CollectionExists>,
    #[prost(double, tag = "2")]
    pub time: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct ChangeAliases {
    #[prost(message, repeated, tag = "1")]
    pub actions: Vec<AliasOperations>,
    #[prost(uint64, optional, tag = "2")]
    pub timeout: Option<u64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct AliasOperations {
    #[prost(oneof = "alias_operations::Action", tags = "1, 2, 3")]
    pub action: Option<alias_operations::Action>,
}

pub mod alias_operations {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Action {
        #[prost(message, tag = "1")]
        CreateAlias(CreateAlias),
        #[prost(message, tag = "2")]
        RenameAlias(RenameAlias),
        #[prost(message, tag = "3")]
        DeleteAlias(DeleteAlias),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct CreateAlias {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(string, tag = "2")]
    pub alias_name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct RenameAlias {
    #[prost(string, tag = "1")]
    pub old_alias_name: String,
    #[prost(string, tag = "2")]
    pub new_alias_name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct DeleteAlias {
    #[prost(string, tag = "1")]
    pub alias_name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct AliasDescription {
    #[prost(string, tag = "1")]
    pub alias_name: String,
    #[prost(string, tag = "2")]
    pub collection_name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListAliasesResponse {
    #[prost(message, repeated, tag = "1")]
    pub aliases: Vec<AliasDescription>,
    #[prost(double, tag = "2")]
    pub time: f64,
}

// ---- points.proto ----

#[derive(Clone, PartialEq, Message)]
pub struct DenseVector {
    #[prost(float, repeated, tag = "1")]
    pub data: Vec<f32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SparseVector {
    #[prost(float, repeated, tag = "1")]
    pub values: Vec<f32>,
    #[prost(uint32, repeated, tag = "2")]
    pub indices: Vec<u32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct MultiDenseVector {
    #[prost(message, repeated, tag = "1")]
    pub vectors: Vec<DenseVector>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SparseIndices {
    #[prost(uint32, repeated, tag = "1")]
    pub data: Vec<u32>,
}

/// `Vector` (input) and `VectorOutput`: the old flat fields (1–3) or one of the typed
/// variants (101–106).
#[derive(Clone, PartialEq, Message)]
pub struct Vector {
    #[prost(float, repeated, tag = "1")]
    pub data: Vec<f32>,
    #[prost(message, optional, tag = "2")]
    pub indices: Option<SparseIndices>,
    #[prost(uint32, optional, tag = "3")]
    pub vectors_count: Option<u32>,
    #[prost(oneof = "vector::Kind", tags = "101, 102, 103, 104, 105, 106")]
    pub kind: Option<vector::Kind>,
}

pub mod vector {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Kind {
        #[prost(message, tag = "101")]
        Dense(DenseVector),
        #[prost(message, tag = "102")]
        Sparse(SparseVector),
        #[prost(message, tag = "103")]
        MultiDense(MultiDenseVector),
        #[prost(message, tag = "104")]
        Document(Unsupported),
        #[prost(message, tag = "105")]
        Image(Unsupported),
        #[prost(message, tag = "106")]
        Object(Unsupported),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedVectors {
    #[prost(map = "string, message", tag = "1")]
    pub vectors: HashMap<String, Vector>,
}

/// `Vectors` (input) and `VectorsOutput`: one unnamed vector or named ones.
#[derive(Clone, PartialEq, Message)]
pub struct Vectors {
    #[prost(oneof = "vectors::Options", tags = "1, 2")]
    pub options: Option<vectors::Options>,
}

pub mod vectors {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Options {
        #[prost(message, tag = "1")]
        Vector(Vector),
        #[prost(message, tag = "2")]
        Vectors(NamedVectors),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct PointStruct {
    #[prost(message, optional, tag = "1")]
    pub id: Option<PointId>,
    #[prost(map = "string, message", tag = "3")]
    pub payload: Payload,
    #[prost(message, optional, tag = "4")]
    pub vectors: Option<Vectors>,
}

#[derive(Clone, PartialEq, Message)]
pub struct UpsertPoints {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(bool, optional, tag = "2")]
    pub wait: Option<bool>,
    #[prost(message, repeated, tag = "3")]
    pub points: Vec<PointStruct>,
    #[prost(message, optional, tag = "5")]
    pub shard_key_selector: Option<Unsupported>,
    #[prost(message, optional, tag = "6")]
    pub update_filter: Option<Filter>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PointsSelector {
    #[prost(oneof = "points_selector::Kind", tags = "1, 2")]
    pub kind: Option<points_selector::Kind>,
}

pub mod points_selector {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Kind {
        #[prost(message, tag = "1")]
        Points(PointsIdsList),
        #[prost(message, tag = "2")]
        Filter(Filter),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct PointsIdsList {
    #[prost(message, repeated, tag = "1")]
    pub ids: Vec<PointId>,
}

/// `DeletePoints` and `ClearPayloadPoints`.
#[derive(Clone, PartialEq, Message)]
pub struct SelectPoints {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(bool, optional, tag = "2")]
    pub wait: Option<bool>,
    #[prost(message, optional, tag = "3")]
    pub points: Option<PointsSelector>,
    #[prost(message, optional, tag = "5")]
    pub shard_key_selector: Option<Unsupported>,
}

#[derive(Clone, PartialEq, Message)]
pub struct WithPayloadSelector {
    #[prost(oneof = "with_payload_selector::Kind", tags = "1, 2, 3")]
    pub kind: Option<with_payload_selector::Kind>,
}

pub mod with_payload_selector {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Kind {
        #[prost(bool, tag = "1")]
        Enable(bool),
        #[prost(message, tag = "2")]
        Include(FieldList),
        #[prost(message, tag = "3")]
        Exclude(FieldList),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct FieldList {
    #[prost(string, repeated, tag = "1")]
    pub fields: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct WithVectorsSelector {
    #[prost(oneof = "with_vectors_selector::Kind", tags = "1, 2")]
    pub kind: Option<with_vectors_selector::Kind>,
}

pub mod with_vectors_selector {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Kind {
        #[prost(bool, tag = "1")]
        Enable(bool),
        #[prost(message, tag = "2")]
        Include(VectorsSelector),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct VectorsSelector {
    #[prost(string, repeated, tag = "1")]
    pub names: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct GetPoints {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(message, repeated, tag = "2")]
    pub ids: Vec<PointId>,
    #[prost(message, optional, tag = "4")]
    pub with_payload: Option<WithPayloadSelector>,
    #[prost(message, optional, tag = "5")]
    pub with_vectors: Option<WithVectorsSelector>,
    #[prost(message, optional, tag = "7")]
    pub shard_key_selector: Option<Unsupported>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SetPayloadPoints {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(bool, optional, tag = "2")]
    pub wait: Option<bool>,
    #[prost(map = "string, message", tag = "3")]
    pub payload: Payload,
    #[prost(message, optional, tag = "5")]
    pub points_selector: Option<PointsSelector>,
    #[prost(message, optional, tag = "7")]
    pub shard_key_selector: Option<Unsupported>,
    #[prost(string, optional, tag = "8")]
    pub key: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct DeletePayloadPoints {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(bool, optional, tag = "2")]
    pub wait: Option<bool>,
    #[prost(string, repeated, tag = "3")]
    pub keys: Vec<String>,
    #[prost(message, optional, tag = "5")]
    pub points_selector: Option<PointsSelector>,
    #[prost(message, optional, tag = "7")]
    pub shard_key_selector: Option<Unsupported>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CreateFieldIndexCollection {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(bool, optional, tag = "2")]
    pub wait: Option<bool>,
    #[prost(string, tag = "3")]
    pub field_name: String,
    #[prost(int32, optional, tag = "4")]
    pub field_type: Option<i32>,
    #[prost(message, optional, tag = "5")]
    pub field_index_params: Option<Unsupported>,
}

#[derive(Clone, PartialEq, Message)]
pub struct DenseVectorCreationConfig {
    #[prost(uint64, tag = "1")]
    pub size: u64,
    #[prost(int32, tag = "2")]
    pub distance: i32,
    #[prost(message, optional, tag = "3")]
    pub multivector_config: Option<Unsupported>,
    #[prost(int32, optional, tag = "4")]
    pub datatype: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SparseVectorCreationConfig {
    #[prost(int32, optional, tag = "1")]
    pub modifier: Option<i32>,
    #[prost(int32, optional, tag = "2")]
    pub datatype: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CreateVectorNameRequest {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(bool, optional, tag = "2")]
    pub wait: Option<bool>,
    #[prost(string, tag = "3")]
    pub vector_name: String,
    #[prost(message, optional, tag = "4")]
    pub dense_config: Option<DenseVectorCreationConfig>,
    #[prost(message, optional, tag = "5")]
    pub sparse_config: Option<SparseVectorCreationConfig>,
}

#[derive(Clone, PartialEq, Message)]
pub struct DeleteVectorNameRequest {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(bool, optional, tag = "2")]
    pub wait: Option<bool>,
    #[prost(string, tag = "3")]
    pub vector_name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct DeleteFieldIndexCollection {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(bool, optional, tag = "2")]
    pub wait: Option<bool>,
    #[prost(string, tag = "3")]
    pub field_name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct SearchParams {
    #[prost(uint64, optional, tag = "1")]
    pub hnsw_ef: Option<u64>,
    #[prost(bool, optional, tag = "2")]
    pub exact: Option<bool>,
    #[prost(message, optional, tag = "3")]
    pub quantization: Option<QuantizationSearchParams>,
    #[prost(bool, optional, tag = "4")]
    pub indexed_only: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct QuantizationSearchParams {
    #[prost(bool, optional, tag = "1")]
    pub ignore: Option<bool>,
    #[prost(bool, optional, tag = "2")]
    pub rescore: Option<bool>,
    #[prost(double, optional, tag = "3")]
    pub oversampling: Option<f64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SearchPoints {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(float, repeated, tag = "2")]
    pub vector: Vec<f32>,
    #[prost(message, optional, tag = "3")]
    pub filter: Option<Filter>,
    #[prost(uint64, tag = "4")]
    pub limit: u64,
    #[prost(message, optional, tag = "6")]
    pub with_payload: Option<WithPayloadSelector>,
    #[prost(message, optional, tag = "7")]
    pub params: Option<SearchParams>,
    #[prost(float, optional, tag = "8")]
    pub score_threshold: Option<f32>,
    #[prost(uint64, optional, tag = "9")]
    pub offset: Option<u64>,
    #[prost(string, optional, tag = "10")]
    pub vector_name: Option<String>,
    #[prost(message, optional, tag = "11")]
    pub with_vectors: Option<WithVectorsSelector>,
    #[prost(message, optional, tag = "14")]
    pub shard_key_selector: Option<Unsupported>,
    #[prost(message, optional, tag = "15")]
    pub sparse_indices: Option<SparseIndices>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SearchBatchPoints {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(message, repeated, tag = "2")]
    pub search_points: Vec<SearchPoints>,
}

#[derive(Clone, PartialEq, Message)]
pub struct StartFrom {
    #[prost(oneof = "start_from::Value", tags = "1, 2, 3, 4")]
    pub value: Option<start_from::Value>,
}

pub mod start_from {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Value {
        #[prost(double, tag = "1")]
        Float(f64),
        #[prost(int64, tag = "2")]
        Integer(i64),
        #[prost(message, tag = "3")]
        Timestamp(Timestamp),
        #[prost(string, tag = "4")]
        Datetime(String),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct OrderBy {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(int32, optional, tag = "2")]
    pub direction: Option<i32>,
    #[prost(message, optional, tag = "3")]
    pub start_from: Option<StartFrom>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ScrollPoints {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(message, optional, tag = "2")]
    pub filter: Option<Filter>,
    #[prost(message, optional, tag = "3")]
    pub offset: Option<PointId>,
    #[prost(uint32, optional, tag = "4")]
    pub limit: Option<u32>,
    #[prost(message, optional, tag = "6")]
    pub with_payload: Option<WithPayloadSelector>,
    #[prost(message, optional, tag = "7")]
    pub with_vectors: Option<WithVectorsSelector>,
    #[prost(message, optional, tag = "9")]
    pub shard_key_selector: Option<Unsupported>,
    #[prost(message, optional, tag = "10")]
    pub order_by: Option<OrderBy>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CountPoints {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(message, optional, tag = "2")]
    pub filter: Option<Filter>,
    #[prost(bool, optional, tag = "3")]
    pub exact: Option<bool>,
    #[prost(message, optional, tag = "5")]
    pub shard_key_selector: Option<Unsupported>,
}

#[derive(Clone, PartialEq, Message)]
pub struct VectorInput {
    #[prost(oneof = "vector_input::Kind", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub kind: Option<vector_input::Kind>,
}

pub mod vector_input {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Kind {
        #[prost(message, tag = "1")]
        Id(PointId),
        #[prost(message, tag = "2")]
        Dense(DenseVector),
        #[prost(message, tag = "3")]
        Sparse(SparseVector),
        #[prost(message, tag = "4")]
        MultiDense(MultiDenseVector),
        #[prost(message, tag = "5")]
        Document(Unsupported),
        #[prost(message, tag = "6")]
        Image(Unsupported),
        #[prost(message, tag = "7")]
        Object(Unsupported),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct Rrf {
    #[prost(uint32, optional, tag = "1")]
    pub k: Option<u32>,
    #[prost(float, repeated, tag = "2")]
    pub weights: Vec<f32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Query {
    #[prost(
        oneof = "query::Variant",
        tags = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"
    )]
    pub variant: Option<query::Variant>,
}

pub mod query {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Variant {
        #[prost(message, tag = "1")]
        Nearest(VectorInput),
        #[prost(message, tag = "2")]
        Recommend(Unsupported),
        #[prost(message, tag = "3")]
        Discover(Unsupported),
        #[prost(message, tag = "4")]
        Context(Unsupported),
        #[prost(message, tag = "5")]
        OrderBy(OrderBy),
        #[prost(int32, tag = "6")]
        Fusion(i32),
        #[prost(int32, tag = "7")]
        Sample(i32),
        #[prost(message, tag = "8")]
        Formula(Unsupported),
        #[prost(message, tag = "9")]
        NearestWithMmr(Unsupported),
        #[prost(message, tag = "10")]
        Rrf(Rrf),
        #[prost(message, tag = "11")]
        RelevanceFeedback(Unsupported),
        #[prost(message, tag = "12")]
        Text(Unsupported),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct PrefetchQuery {
    #[prost(message, repeated, tag = "1")]
    pub prefetch: Vec<PrefetchQuery>,
    #[prost(message, optional, tag = "2")]
    pub query: Option<Query>,
    #[prost(string, optional, tag = "3")]
    pub using: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub filter: Option<Filter>,
    #[prost(message, optional, tag = "5")]
    pub params: Option<SearchParams>,
    #[prost(float, optional, tag = "6")]
    pub score_threshold: Option<f32>,
    #[prost(uint64, optional, tag = "7")]
    pub limit: Option<u64>,
    #[prost(message, optional, tag = "8")]
    pub lookup_from: Option<Unsupported>,
}

#[derive(Clone, PartialEq, Message)]
pub struct QueryPoints {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(message, repeated, tag = "2")]
    pub prefetch: Vec<PrefetchQuery>,
    #[prost(message, optional, tag = "3")]
    pub query: Option<Query>,
    #[prost(string, optional, tag = "4")]
    pub using: Option<String>,
    #[prost(message, optional, tag = "5")]
    pub filter: Option<Filter>,
    #[prost(message, optional, tag = "6")]
    pub params: Option<SearchParams>,
    #[prost(float, optional, tag = "7")]
    pub score_threshold: Option<f32>,
    #[prost(uint64, optional, tag = "8")]
    pub limit: Option<u64>,
    #[prost(uint64, optional, tag = "9")]
    pub offset: Option<u64>,
    #[prost(message, optional, tag = "10")]
    pub with_vectors: Option<WithVectorsSelector>,
    #[prost(message, optional, tag = "11")]
    pub with_payload: Option<WithPayloadSelector>,
    #[prost(message, optional, tag = "13")]
    pub shard_key_selector: Option<Unsupported>,
    #[prost(message, optional, tag = "14")]
    pub lookup_from: Option<Unsupported>,
}

#[derive(Clone, PartialEq, Message)]
pub struct QueryBatchPoints {
    #[prost(string, tag = "1")]
    pub collection_name: String,
    #[prost(message, repeated, tag = "2")]
    pub query_points: Vec<QueryPoints>,
}

#[derive(Clone, PartialEq, Message)]
pub struct UpdateResult {
    #[prost(uint64, optional, tag = "1")]
    pub operation_id: Option<u64>,
    #[prost(int32, tag = "2")]
    pub status: i32,
}

#[derive(Clone, PartialEq, Message)]
pub struct PointsOperationResponse {
    #[prost(message, optional, tag = "1")]
    pub result: Option<UpdateResult>,
    #[prost(double, tag = "2")]
    pub time: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct OrderValue {
    #[prost(oneof = "order_value::Variant", tags = "1, 2")]
    pub variant: Option<order_value::Variant>,
}

pub mod order_value {
    use super::*;
    #[derive(Clone, PartialEq, Oneof)]
    pub enum Variant {
        #[prost(int64, tag = "1")]
        Int(i64),
        #[prost(double, tag = "2")]
        Float(f64),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct ScoredPoint {
    #[prost(message, optional, tag = "1")]
    pub id: Option<PointId>,
    #[prost(map = "string, message", tag = "2")]
    pub payload: Payload,
    #[prost(float, tag = "3")]
    pub score: f32,
    #[prost(uint64, tag = "5")]
    pub version: u64,
    #[prost(message, optional, tag = "6")]
    pub vectors: Option<Vectors>,
    #[prost(message, optional, tag = "8")]
    pub order_value: Option<OrderValue>,
}

/// `SearchResponse` and `QueryResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct ScoredResponse {
    #[prost(message, repeated, tag = "1")]
    pub result: Vec<ScoredPoint>,
    #[prost(double, tag = "2")]
    pub time: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct BatchResult {
    #[prost(message, repeated, tag = "1")]
    pub result: Vec<ScoredPoint>,
}

/// `SearchBatchResponse` and `QueryBatchResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct BatchResponse {
    #[prost(message, repeated, tag = "1")]
    pub result: Vec<BatchResult>,
    #[prost(double, tag = "2")]
    pub time: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct RetrievedPoint {
    #[prost(message, optional, tag = "1")]
    pub id: Option<PointId>,
    #[prost(map = "string, message", tag = "2")]
    pub payload: Payload,
    #[prost(message, optional, tag = "4")]
    pub vectors: Option<Vectors>,
    #[prost(message, optional, tag = "6")]
    pub order_value: Option<OrderValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct GetResponse {
    #[prost(message, repeated, tag = "1")]
    pub result: Vec<RetrievedPoint>,
    #[prost(double, tag = "2")]
    pub time: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct ScrollResponse {
    #[prost(message, optional, tag = "1")]
    pub next_page_offset: Option<PointId>,
    #[prost(message, repeated, tag = "2")]
    pub result: Vec<RetrievedPoint>,
    #[prost(double, tag = "3")]
    pub time: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct CountResult {
    #[prost(uint64, tag = "1")]
    pub count: u64,
}

#[derive(Clone, PartialEq, Message)]
pub struct CountResponse {
    #[prost(message, optional, tag = "1")]
    pub result: Option<CountResult>,
    #[prost(double, tag = "2")]
    pub time: f64,
}
