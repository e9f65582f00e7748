//! Azimuth's database engine.
//!
//! A [`Database`] holds named [`Collection`]s; a collection holds points (id, dense and sparse
//! vectors, JSON payload) and answers exact top-k searches and filtered reads.
//!
//! Writes are validated, then appended to the collection's write-ahead log, then applied to
//! the in-memory mutable segment; `wait = true` returns once the log record is fsynced (many
//! concurrent writers share one fsync). Checkpoints seal the mutable segment to an immutable,
//! checksummed segment file and switch the manifest atomically; the background worker merges
//! segments and vacuums tombstones. See `ARCHITECTURE.md` for the module map and
//! `docs/format.md` for every byte layout.

mod ann;
mod catalog;
mod collection;
mod config;
mod db;
mod error;
pub mod filter;
mod ops;
mod point;
mod segment;
mod snapshots;
mod storage;
mod types;

pub use collection::{
    Collection, CollectionInfo, ContextPair, ExampleQuery, FacetHit, IndexerOptions, IndexingInfo,
    Mmr, NewVector, OrderBy, PayloadIndexInfo, QuantizationParams, QueryVector, ScrollRequest,
    ScrollResult, SearchParams, SearchRequest, UpsertMode, UpsertOptions, WriteLimits,
};
pub use config::{
    CollectionConfig, Datatype, HnswParams, OptimizerParams, Quantization, SparseVectorParams,
    VectorParams, DEFAULT_VECTOR, MAX_DIM,
};
pub use db::{AliasAction, Database, DbOptions, MAX_NAME_LEN};
pub use error::{Error, ErrorKind, Result};
pub use filter::{FieldSchema, Filter, JsonPath};
pub use point::{
    NamedVectors, OrderValue, PayloadSelector, PointSelector, PointStruct, Record, ScoredPoint,
    SparseVector, UpdateResult, Vector, VectorSelector,
};
pub use storage::snapshot::SnapshotInfo;
pub use types::{Distance, Payload, PointId};
