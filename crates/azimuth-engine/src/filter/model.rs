//! The engine's filter model: plain Rust types, independent of any wire format. The Qdrant JSON
//! grammar is parsed into these by [`Filter::from_json`](super::Filter::from_json).

use std::collections::HashSet;

use super::path::JsonPath;
use crate::types::PointId;

/// A boolean combination of conditions. All clauses must hold; an empty filter matches
/// everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// Every condition must hold.
    pub must: Vec<Condition>,
    /// At least one condition must hold; an empty list is no constraint.
    pub should: Vec<Condition>,
    /// No condition may hold.
    pub must_not: Vec<Condition>,
    /// At least `min_count` of the conditions must hold.
    pub min_should: Option<MinShould>,
}

impl Filter {
    /// True when the filter places no constraint at all.
    pub fn is_empty(&self) -> bool {
        self.must.is_empty()
            && self.should.is_empty()
            && self.must_not.is_empty()
            && self.min_should.is_none()
    }

    /// Whether some condition, at any depth, lists point ids (`has_id`).
    pub fn names_ids(&self) -> bool {
        let conditions = self.must.iter().chain(&self.should).chain(&self.must_not);
        let min_should = self.min_should.iter().flat_map(|m| &m.conditions);
        conditions.chain(min_should).any(|c| match c {
            Condition::HasId(_) => true,
            Condition::Nested { filter, .. } | Condition::Filter(filter) => filter.names_ids(),
            _ => false,
        })
    }
}

/// `min_should`: at least `min_count` of `conditions` hold.
#[derive(Clone, Debug, PartialEq)]
pub struct MinShould {
    pub conditions: Vec<Condition>,
    pub min_count: usize,
}

/// One condition of a [`Filter`].
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// Operators on the values at a key.
    Field(FieldCondition),
    /// The key is missing, null, `[]`, or every value it resolves to is null or `[]`.
    IsEmpty(JsonPath),
    /// Some value at the key is null (or an array holding null). A missing key is not null.
    IsNull(JsonPath),
    /// The point's id is in the set.
    HasId(HashSet<PointId>),
    /// The point has the named vector (`""` = the unnamed one).
    HasVector(String),
    /// Some single object element of the array at `path` satisfies `filter`, whose keys are
    /// relative to the element.
    Nested { path: JsonPath, filter: Filter },
    /// `siphash24(id) % total == index`.
    Slice { total: u64, index: u64 },
    /// A sub-filter.
    Filter(Filter),
}

/// Operators on the values a key resolves to. Every operator that is present must hold.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldCondition {
    pub key: JsonPath,
    pub r#match: Option<Match>,
    pub range: Option<Range>,
    pub geo_radius: Option<GeoRadius>,
    pub geo_bounding_box: Option<GeoBoundingBox>,
    pub geo_polygon: Option<GeoPolygon>,
    pub values_count: Option<ValuesCount>,
    /// `Some(b)`: the key's emptiness (as [`Condition::IsEmpty`]) equals `b`.
    pub is_empty: Option<bool>,
    /// `Some(b)`: the key's nullness (as [`Condition::IsNull`]) equals `b`.
    pub is_null: Option<bool>,
}

impl FieldCondition {
    /// A condition on `key` with no operator yet; set at least one before use.
    pub fn new(key: JsonPath) -> FieldCondition {
        FieldCondition {
            key,
            r#match: None,
            range: None,
            geo_radius: None,
            geo_bounding_box: None,
            geo_polygon: None,
            values_count: None,
            is_empty: None,
            is_null: None,
        }
    }

    /// True when at least one operator is set.
    pub fn has_operator(&self) -> bool {
        self.r#match.is_some()
            || self.range.is_some()
            || self.geo_radius.is_some()
            || self.geo_bounding_box.is_some()
            || self.geo_polygon.is_some()
            || self.values_count.is_some()
            || self.is_empty.is_some()
            || self.is_null.is_some()
    }
}

/// A scalar a `match` compares against. Types are distinct: `1`, `1.0` and `true` never
/// equal each other, and float payload values never match.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ScalarValue {
    Keyword(String),
    Integer(i64),
    Bool(bool),
}

/// `match` forms.
#[derive(Clone, Debug, PartialEq)]
pub enum Match {
    /// Equal to the value.
    Value(ScalarValue),
    /// Equal to one of the values (`[]` matches nothing).
    Any(Vec<ScalarValue>),
    /// A non-null value equal to none of them.
    Except(Vec<ScalarValue>),
    /// Every query token is a token of the string.
    Text(String),
    /// Some query token is a token of the string.
    TextAny(String),
    /// The query tokens appear consecutively, in order.
    Phrase(String),
    /// The string starts with this (byte-wise, case-sensitive).
    Prefix(String),
    /// The string contains this (byte-wise, case-sensitive).
    Substring(String),
}

/// `range`: numeric bounds, or datetime bounds in microseconds since the epoch (UTC).
#[derive(Clone, Debug, PartialEq)]
pub enum Range {
    Number {
        gt: Option<f64>,
        gte: Option<f64>,
        lt: Option<f64>,
        lte: Option<f64>,
    },
    Datetime {
        gt: Option<i64>,
        gte: Option<i64>,
        lt: Option<i64>,
        lte: Option<i64>,
    },
}

/// A point on Earth, in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoPoint {
    pub lon: f64,
    pub lat: f64,
}

/// Haversine distance from `center` strictly below `radius` meters.
#[derive(Clone, Debug, PartialEq)]
pub struct GeoRadius {
    pub center: GeoPoint,
    pub radius: f64,
}

/// Strictly inside the box; wraps the antimeridian when `top_left.lon > bottom_right.lon`.
#[derive(Clone, Debug, PartialEq)]
pub struct GeoBoundingBox {
    pub top_left: GeoPoint,
    pub bottom_right: GeoPoint,
}

/// Inside the exterior ring and outside every interior ring (hole). Rings are closed (first
/// point equals the last) and have at least four points.
#[derive(Clone, Debug, PartialEq)]
pub struct GeoPolygon {
    pub exterior: Vec<GeoPoint>,
    pub interiors: Vec<Vec<GeoPoint>>,
}

/// Bounds on the number of values at a key (an array counts its length, a scalar 1, null 0).
/// All bounds must hold for the same count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValuesCount {
    pub gt: Option<usize>,
    pub gte: Option<usize>,
    pub lt: Option<usize>,
    pub lte: Option<usize>,
}

impl ValuesCount {
    /// True when `count` satisfies every bound.
    pub fn holds(&self, count: usize) -> bool {
        self.gt.is_none_or(|b| count > b)
            && self.gte.is_none_or(|b| count >= b)
            && self.lt.is_none_or(|b| count < b)
            && self.lte.is_none_or(|b| count <= b)
    }
}
