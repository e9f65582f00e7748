//! Payload filters: the model, its one evaluation semantic, Qdrant's JSON grammar, payload
//! indexes, the cardinality planner, and key-path payload operations.
//!
//! # Design
//!
//! - **One semantic.** [`Filter::matches`] (in `eval.rs`) is the only definition of what a
//!   filter means. It follows Qdrant's local mode (`qdrant_client/local/payload_filters.py`):
//!   type-strict `match`, arrays flattened one level, missing and null values never satisfying
//!   value operators, `except` skipping nulls, an empty `should` meaning no constraint, full
//!   text by one word tokenizer whether or not a text index exists, and so on.
//! - **Indexes only narrow.** [`PayloadIndexes`] (in `index.rs`) maps values to sorted rows. A
//!   lookup returns a *superset* of the rows that can match, never the answer: callers always
//!   re-check candidates with [`Filter::matches`]. So an index can never change a result, only
//!   how many rows are looked at; operators that cannot be served that way are not served.
//! - **Planner by cardinality.** [`estimate`] bounds how many rows a filter selects; [`plan`]
//!   returns [`Plan::Candidates`] when the cheapest index-backed superset (one indexed `must`
//!   condition, or the union of a fully indexed `should`/`min_should`) is a small share of the
//!   rows, and [`Plan::FullScan`] otherwise.
//! - **Boundaries.** The model types carry no serde derives; [`Filter::from_json`] and
//!   [`FieldSchema::from_json`] translate the Qdrant wire format and reject anything unknown
//!   with an [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming the place.
//!
//! Key paths ([`JsonPath`]) are shared by filters, indexes and the payload operations in
//! `payload_ops.rs` (`set_payload` with `key`, `delete_payload`, `with_payload` selectors).

mod datetime;
mod eval;
mod geo;
mod index;
mod json;
mod model;
mod path;
mod payload_ops;
mod planner;
mod schema;
mod slice;
mod text;

pub use datetime::{format_utc, parse_datetime};
pub use eval::PointRef;
pub use geo::{as_geo_point, haversine_m, EARTH_RADIUS_M};
pub use index::PayloadIndexes;
pub use json::MAX_FILTER_DEPTH;
pub use model::{
    Condition, FieldCondition, Filter, GeoBoundingBox, GeoPoint, GeoPolygon, GeoRadius, Match,
    MinShould, Range, ScalarValue, ValuesCount,
};
pub use path::{JsonPath, PathSegment};
pub use payload_ops::{delete_keys, select, set_payload, validate_payload};
pub use planner::{estimate, plan, Cardinality, Plan};
pub use schema::FieldSchema;
pub use text::tokenize;
