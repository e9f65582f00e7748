//! Per-segment payload indexes: for each indexed key, an ordered map from index key to the
//! sorted rows holding it.
//!
//! Invariant: an index lookup returns a superset of the rows whose payload satisfies the
//! condition it serves, under the evaluation semantics of `eval.rs`. The caller re-checks every
//! candidate with [`Filter::matches`](super::Filter::matches), so an index may over-approximate
//! (geo latitude bands, inclusive numeric bounds) but must never miss a row. An operator an
//! index cannot serve that way (`except`, `is_empty`, …) is simply not served.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;

use serde_json::Value;

use super::datetime::parse_datetime;
use super::geo::{as_geo_point, EARTH_RADIUS_M};
use super::model::{FieldCondition, GeoPoint, Match, Range, ScalarValue};
use super::path::JsonPath;
use super::schema::FieldSchema;
use super::text::tokenize;
use crate::types::Payload;

/// A totally ordered f64 (no NaN reaches an index; `-0.0` is stored as `0.0`).
#[derive(Clone, Copy, Debug)]
struct Num(f64);

impl Num {
    fn new(x: f64) -> Num {
        Num(x + 0.0)
    }
}

impl PartialEq for Num {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}

impl Eq for Num {}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// One index key. A field's keys all come from its schema: keyword/uuid strings and text
/// tokens are `Str`, integers `Int` (plus `Num` for ranges), floats `Num`, datetimes `Int`
/// microseconds, geo points `Num` latitudes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Bool(bool),
    Int(i64),
    Num(Num),
    Str(String),
}

/// The index keys of one (flattened) payload value under a schema.
fn value_keys(schema: FieldSchema, value: &Value, out: &mut Vec<Key>) {
    match (schema, value) {
        (FieldSchema::Keyword, Value::String(s)) => out.push(Key::Str(s.clone())),
        (FieldSchema::Uuid, Value::String(s)) if uuid::Uuid::try_parse(s).is_ok() => {
            out.push(Key::Str(s.clone()))
        }
        (FieldSchema::Text, Value::String(s)) => out.extend(tokenize(s).into_iter().map(Key::Str)),
        (FieldSchema::Datetime, Value::String(s)) => out.extend(parse_datetime(s).map(Key::Int)),
        (FieldSchema::Bool, Value::Bool(b)) => out.push(Key::Bool(*b)),
        (FieldSchema::Integer, Value::Number(n)) => {
            if let Some(i) = n.as_i64().filter(|_| !n.is_f64()) {
                out.push(Key::Int(i));
            }
            out.extend(n.as_f64().map(|x| Key::Num(Num::new(x))));
        }
        (FieldSchema::Float, Value::Number(n)) => {
            out.extend(n.as_f64().map(|x| Key::Num(Num::new(x))))
        }
        (FieldSchema::Geo, v) => out.extend(as_geo_point(v).map(|p| Key::Num(Num::new(p.lat)))),
        _ => {}
    }
}

fn payload_keys(path: &JsonPath, schema: FieldSchema, payload: &Payload) -> Vec<Key> {
    let mut keys = Vec::new();
    for value in path.values(payload) {
        value_keys(schema, value, &mut keys);
    }
    keys.sort();
    keys.dedup();
    keys
}

#[derive(Debug)]
struct FieldIndex {
    schema: FieldSchema,
    /// Rows with at least one indexed value.
    rows: HashSet<u32>,
    postings: BTreeMap<Key, Vec<u32>>,
}

/// The payload indexes of one segment. Rows are the segment's dense point offsets.
#[derive(Debug, Default)]
pub struct PayloadIndexes {
    fields: BTreeMap<JsonPath, FieldIndex>,
}

impl PayloadIndexes {
    pub fn new() -> PayloadIndexes {
        PayloadIndexes::default()
    }

    /// Creates (or rebuilds) the index on `key` from the segment's current rows.
    pub fn create_field<'p>(
        &mut self,
        key: JsonPath,
        schema: FieldSchema,
        rows: impl Iterator<Item = (u32, &'p Payload)>,
    ) {
        let mut field = FieldIndex {
            schema,
            rows: HashSet::new(),
            postings: BTreeMap::new(),
        };
        for (row, payload) in rows {
            field.insert(&key, row, payload);
        }
        self.fields.insert(key, field);
    }

    /// Drops the index on `key`; false when there was none.
    pub fn drop_field(&mut self, key: &JsonPath) -> bool {
        self.fields.remove(key).is_some()
    }

    /// Every index: its key, schema and number of rows holding an indexed value.
    pub fn fields(&self) -> Vec<(JsonPath, FieldSchema, usize)> {
        self.fields
            .iter()
            .map(|(k, f)| (k.clone(), f.schema, f.rows.len()))
            .collect()
    }

    /// The schema of the index on `key`, if any.
    pub fn schema(&self, key: &JsonPath) -> Option<FieldSchema> {
        self.fields.get(key).map(|f| f.schema)
    }

    /// Indexes a row's payload in every field index.
    pub fn insert(&mut self, row: u32, payload: &Payload) {
        for (key, field) in &mut self.fields {
            field.insert(key, row, payload);
        }
    }

    /// Removes a row; `payload` must be the one that was inserted for it.
    pub fn remove(&mut self, row: u32, payload: &Payload) {
        for (key, field) in &mut self.fields {
            for k in payload_keys(key, field.schema, payload) {
                if let Some(list) = field.postings.get_mut(&k) {
                    if let Ok(pos) = list.binary_search(&row) {
                        list.remove(pos);
                    }
                    if list.is_empty() {
                        field.postings.remove(&k);
                    }
                }
            }
            field.rows.remove(&row);
        }
    }

    /// For a keyword or integer index on `key`: each value and its rows (sorted).
    pub(crate) fn value_groups(&self, key: &JsonPath) -> Vec<(ScalarValue, &[u32])> {
        let Some(field) = self.fields.get(key) else {
            return Vec::new();
        };
        field
            .postings
            .iter()
            .filter_map(|(k, rows)| {
                let value = match (field.schema, k) {
                    (FieldSchema::Keyword, Key::Str(s)) => ScalarValue::Keyword(s.clone()),
                    (FieldSchema::Integer, Key::Int(i)) => ScalarValue::Integer(*i),
                    _ => return None,
                };
                Some((value, rows.as_slice()))
            })
            .collect()
    }

    /// Rows that may satisfy `fc`, from the index on its key, when an index serves one of its
    /// operators (the cheapest is chosen: every operator must hold).
    pub(crate) fn source(&self, fc: &FieldCondition) -> Option<Source<'_>> {
        let field = self.fields.get(&fc.key)?;
        let mut options = Vec::new();
        if let Some(m) = &fc.r#match {
            options.extend(field.match_source(m));
        }
        if let Some(r) = &fc.range {
            options.extend(field.range_source(r));
        }
        if field.schema == FieldSchema::Geo {
            options.extend(
                fc.geo_radius
                    .as_ref()
                    .map(|g| field.lat_band(radius_band(g.center, g.radius))),
            );
            options.extend(
                fc.geo_bounding_box
                    .as_ref()
                    .map(|b| field.lat_band((b.bottom_right.lat, b.top_left.lat))),
            );
            options.extend(
                fc.geo_polygon
                    .as_ref()
                    .map(|p| field.lat_band(ring_band(&p.exterior))),
            );
        }
        options.into_iter().min_by_key(Source::size)
    }
}

/// Rows that may match: the union or intersection of posting lists, or a union of sources.
pub(crate) enum Source<'a> {
    Lists {
        lists: Vec<&'a [u32]>,
        intersect: bool,
    },
    Union(Vec<Source<'a>>),
}

impl Source<'_> {
    /// An upper bound on the number of rows.
    pub(crate) fn size(&self) -> usize {
        match self {
            Source::Lists {
                lists,
                intersect: true,
            } => lists.iter().map(|l| l.len()).min().unwrap_or(0),
            Source::Lists { lists, .. } => lists.iter().map(|l| l.len()).sum(),
            Source::Union(parts) => parts.iter().map(Source::size).sum(),
        }
    }

    /// The rows, sorted and deduplicated.
    pub(crate) fn rows(&self) -> Vec<u32> {
        let mut out = match self {
            Source::Lists {
                lists,
                intersect: true,
            } => intersect(lists),
            Source::Lists { lists, .. } => lists.iter().flat_map(|l| l.iter().copied()).collect(),
            Source::Union(parts) => parts.iter().flat_map(Source::rows).collect(),
        };
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn intersect(lists: &[&[u32]]) -> Vec<u32> {
    let Some(smallest) = lists.iter().min_by_key(|l| l.len()) else {
        return Vec::new();
    };
    smallest
        .iter()
        .copied()
        .filter(|row| lists.iter().all(|l| l.binary_search(row).is_ok()))
        .collect()
}

/// Latitudes (inclusive, with a margin for rounding) that can be within `radius` meters of
/// `center`: the great-circle distance is at least the latitude difference.
fn radius_band(center: GeoPoint, radius: f64) -> (f64, f64) {
    if radius.is_nan() || radius <= 0.0 {
        return (1.0, -1.0);
    }
    let delta = (radius / EARTH_RADIUS_M).to_degrees() + 1e-6;
    (center.lat - delta, center.lat + delta)
}

fn ring_band(ring: &[GeoPoint]) -> (f64, f64) {
    let lo = ring.iter().map(|p| p.lat).fold(f64::INFINITY, f64::min);
    let hi = ring.iter().map(|p| p.lat).fold(f64::NEG_INFINITY, f64::max);
    (lo - 1e-6, hi + 1e-6)
}

impl FieldIndex {
    fn insert(&mut self, path: &JsonPath, row: u32, payload: &Payload) {
        let keys = payload_keys(path, self.schema, payload);
        if keys.is_empty() {
            return;
        }
        self.rows.insert(row);
        for k in keys {
            let list = self.postings.entry(k).or_default();
            if let Err(pos) = list.binary_search(&row) {
                list.insert(pos, row);
            }
        }
    }

    fn union_of<'a>(&'a self, keys: impl Iterator<Item = Key>) -> Source<'a> {
        let lists = keys
            .filter_map(|k| self.postings.get(&k).map(Vec::as_slice))
            .collect();
        Source::Lists {
            lists,
            intersect: false,
        }
    }

    /// Posting lists of the keys in `lo..=hi` (none when `lo > hi`).
    fn key_range(&self, lo: Key, hi: Key) -> Source<'_> {
        let lists = if lo <= hi {
            let range = self
                .postings
                .range((Bound::Included(lo), Bound::Included(hi)));
            range.map(|(_, l)| l.as_slice()).collect()
        } else {
            Vec::new()
        };
        Source::Lists {
            lists,
            intersect: false,
        }
    }

    fn lat_band(&self, (lo, hi): (f64, f64)) -> Source<'_> {
        if lo.is_nan() || hi.is_nan() {
            return Source::Lists {
                lists: Vec::new(),
                intersect: false,
            };
        }
        self.key_range(Key::Num(Num::new(lo)), Key::Num(Num::new(hi)))
    }

    fn match_source(&self, m: &Match) -> Option<Source<'_>> {
        let scalars = match m {
            Match::Value(s) => std::slice::from_ref(s),
            Match::Any(list) => list.as_slice(),
            Match::Prefix(p) if self.schema == FieldSchema::Keyword => {
                let from = Bound::Included(Key::Str(p.clone()));
                let lists = self
                    .postings
                    .range((from, Bound::Unbounded))
                    .take_while(|(k, _)| matches!(k, Key::Str(s) if s.starts_with(p.as_str())))
                    .map(|(_, l)| l.as_slice())
                    .collect();
                return Some(Source::Lists {
                    lists,
                    intersect: false,
                });
            }
            Match::Substring(p) if self.schema == FieldSchema::Keyword => {
                let lists = self
                    .postings
                    .iter()
                    .filter(|(k, _)| matches!(k, Key::Str(s) if s.contains(p.as_str())))
                    .map(|(_, l)| l.as_slice())
                    .collect();
                return Some(Source::Lists {
                    lists,
                    intersect: false,
                });
            }
            Match::Text(q) | Match::Phrase(q) if self.schema == FieldSchema::Text => {
                return Some(self.all_tokens(q));
            }
            Match::TextAny(q) if self.schema == FieldSchema::Text => {
                return Some(self.union_of(tokenize(q).into_iter().map(Key::Str)));
            }
            _ => return None,
        };
        let keys = scalars
            .iter()
            .map(|s| self.scalar_key(s))
            .collect::<Option<Vec<_>>>()?;
        Some(self.union_of(keys.into_iter()))
    }

    /// Rows holding every token of the query (none for an empty query, which matches nothing).
    fn all_tokens(&self, query: &str) -> Source<'_> {
        let tokens = tokenize(query);
        let lists: Option<Vec<&[u32]>> = tokens
            .into_iter()
            .map(|t| self.postings.get(&Key::Str(t)).map(Vec::as_slice))
            .collect();
        match lists {
            Some(lists) if !lists.is_empty() => Source::Lists {
                lists,
                intersect: true,
            },
            _ => Source::Lists {
                lists: Vec::new(),
                intersect: false,
            },
        }
    }

    /// The index key equal payload values of `s` are stored under, when this schema stores
    /// every value that can equal `s`.
    fn scalar_key(&self, s: &ScalarValue) -> Option<Key> {
        match (self.schema, s) {
            (FieldSchema::Keyword, ScalarValue::Keyword(k)) => Some(Key::Str(k.clone())),
            (FieldSchema::Uuid, ScalarValue::Keyword(k)) if uuid::Uuid::try_parse(k).is_ok() => {
                Some(Key::Str(k.clone()))
            }
            (FieldSchema::Integer, ScalarValue::Integer(i)) => Some(Key::Int(*i)),
            (FieldSchema::Bool, ScalarValue::Bool(b)) => Some(Key::Bool(*b)),
            _ => None,
        }
    }

    fn range_source(&self, r: &Range) -> Option<Source<'_>> {
        match (self.schema, r) {
            (FieldSchema::Integer | FieldSchema::Float, Range::Number { gt, gte, lt, lte }) => {
                let lo = [*gt, *gte]
                    .into_iter()
                    .flatten()
                    .fold(f64::NEG_INFINITY, f64::max);
                let hi = [*lt, *lte]
                    .into_iter()
                    .flatten()
                    .fold(f64::INFINITY, f64::min);
                if lo.is_nan() || hi.is_nan() {
                    return Some(Source::Lists {
                        lists: Vec::new(),
                        intersect: false,
                    });
                }
                Some(self.key_range(Key::Num(Num::new(lo)), Key::Num(Num::new(hi))))
            }
            (FieldSchema::Datetime, Range::Datetime { gt, gte, lt, lte }) => {
                let lo = [gt.and_then(|b| b.checked_add(1)), *gte]
                    .into_iter()
                    .flatten()
                    .max();
                let hi = [lt.and_then(|b| b.checked_sub(1)), *lte]
                    .into_iter()
                    .flatten()
                    .min();
                if gt.is_some_and(|b| b == i64::MAX) || lt.is_some_and(|b| b == i64::MIN) {
                    return Some(Source::Lists {
                        lists: Vec::new(),
                        intersect: false,
                    });
                }
                let (lo, hi) = (lo.unwrap_or(i64::MIN), hi.unwrap_or(i64::MAX));
                Some(self.key_range(Key::Int(lo), Key::Int(hi)))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
