//! Evaluating a [`Filter`] against one point. This is the only definition of what a filter
//! means; payload indexes merely narrow the rows this is run on.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::datetime::parse_datetime;
use super::geo::as_geo_point;
use super::model::{Condition, FieldCondition, Filter, Match, Range, ScalarValue, ValuesCount};
use super::path::JsonPath;
use super::slice::slice_of;
use super::text;
use crate::types::{Payload, PointId};

/// What a filter needs to know about a point.
pub trait PointRef {
    fn id(&self) -> &PointId;
    fn payload(&self) -> &Payload;
    /// True when the point has the named vector (`""` = the unnamed one).
    fn has_vector(&self, name: &str) -> bool;
}

impl<T: PointRef + ?Sized> PointRef for &T {
    fn id(&self) -> &PointId {
        (**self).id()
    }

    fn payload(&self) -> &Payload {
        (**self).payload()
    }

    fn has_vector(&self, name: &str) -> bool {
        (**self).has_vector(name)
    }
}

/// The object a filter is evaluated on: a point, or an array element inside a nested
/// condition (which has no id and no vectors).
struct Subject<'a> {
    payload: &'a Payload,
    id: Option<&'a PointId>,
    has_vector: &'a dyn Fn(&str) -> bool,
}

impl Filter {
    /// True when the point satisfies the filter.
    pub fn matches(&self, p: &(impl PointRef + ?Sized)) -> bool {
        let has_vector = |name: &str| p.has_vector(name);
        let subject = Subject {
            payload: p.payload(),
            id: Some(p.id()),
            has_vector: &has_vector,
        };
        filter_holds(self, &subject)
    }
}

fn filter_holds(f: &Filter, s: &Subject<'_>) -> bool {
    f.must.iter().all(|c| condition_holds(c, s))
        && !f.must_not.iter().any(|c| condition_holds(c, s))
        && (f.should.is_empty() || f.should.iter().any(|c| condition_holds(c, s)))
        && f.min_should.as_ref().is_none_or(|m| {
            m.min_count == 0
                || m.conditions
                    .iter()
                    .filter(|c| condition_holds(c, s))
                    .nth(m.min_count - 1)
                    .is_some()
        })
}

fn condition_holds(c: &Condition, s: &Subject<'_>) -> bool {
    match c {
        Condition::Field(fc) => fc.holds(s.payload),
        Condition::IsEmpty(key) => is_empty(key, s.payload),
        Condition::IsNull(key) => is_null(key, s.payload),
        Condition::HasId(ids) => s.id.is_some_and(|id| ids.contains(id)),
        Condition::HasVector(name) => (s.has_vector)(name),
        Condition::Nested { path, filter } => nested_holds(path, filter, s.payload),
        Condition::Slice { total, index } => {
            *total > 0 && s.id.is_some_and(|id| slice_of(id, *total) == *index)
        }
        Condition::Filter(f) => filter_holds(f, s),
    }
}

fn nested_holds(path: &JsonPath, filter: &Filter, payload: &Payload) -> bool {
    let no_vectors = |_: &str| false;
    path.without_trailing_wildcard()
        .raw_values(payload)
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(Value::as_object)
        .any(|element| {
            let subject = Subject {
                payload: element,
                id: None,
                has_vector: &no_vectors,
            };
            filter_holds(filter, &subject)
        })
}

/// The key resolves to nothing, or only to nulls and empty arrays.
pub(crate) fn is_empty(key: &JsonPath, payload: &Payload) -> bool {
    key.raw_values(payload).into_iter().all(|v| match v {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        _ => false,
    })
}

/// Some value at the key is null, or an array with a null element.
pub(crate) fn is_null(key: &JsonPath, payload: &Payload) -> bool {
    key.raw_values(payload).into_iter().any(|v| match v {
        Value::Null => true,
        Value::Array(items) => items.iter().any(Value::is_null),
        _ => false,
    })
}

fn values_count_holds(vc: &ValuesCount, key: &JsonPath, payload: &Payload) -> bool {
    let values = key.raw_values(payload);
    let count = |v: &Value| match v {
        Value::Null => 0,
        Value::Array(items) => items.len(),
        _ => 1,
    };
    if values.iter().all(|v| v.is_null()) {
        return vc.holds(0);
    }
    values.into_iter().any(|v| vc.holds(count(v)))
}

impl FieldCondition {
    /// True when every operator present holds for the payload (false when none is present).
    pub fn holds(&self, payload: &Payload) -> bool {
        if !self.has_operator() {
            return false;
        }
        if let Some(vc) = &self.values_count {
            if !values_count_holds(vc, &self.key, payload) {
                return false;
            }
        }
        if self
            .is_empty
            .is_some_and(|want| is_empty(&self.key, payload) != want)
        {
            return false;
        }
        if self
            .is_null
            .is_some_and(|want| is_null(&self.key, payload) != want)
        {
            return false;
        }
        let needs_values = self.r#match.is_some()
            || self.range.is_some()
            || self.geo_radius.is_some()
            || self.geo_bounding_box.is_some()
            || self.geo_polygon.is_some();
        !needs_values || self.value_operators_hold(&self.key.values(payload))
    }

    fn value_operators_hold(&self, values: &[&Value]) -> bool {
        let any = |pred: &dyn Fn(&Value) -> bool| values.iter().any(|v| pred(v));
        self.r#match
            .as_ref()
            .is_none_or(|m| any(&|v| match_holds(m, v)))
            && self
                .range
                .as_ref()
                .is_none_or(|r| any(&|v| range_holds(r, v)))
            && self
                .geo_radius
                .as_ref()
                .is_none_or(|g| any(&|v| as_geo_point(v).is_some_and(|p| g.contains(p))))
            && self
                .geo_bounding_box
                .as_ref()
                .is_none_or(|g| any(&|v| as_geo_point(v).is_some_and(|p| g.contains(p))))
            && self
                .geo_polygon
                .as_ref()
                .is_none_or(|g| any(&|v| as_geo_point(v).is_some_and(|p| g.contains(p))))
    }
}

/// Type-strict equality of a match scalar and one payload value.
pub(crate) fn scalar_eq(s: &ScalarValue, v: &Value) -> bool {
    match (s, v) {
        (ScalarValue::Keyword(k), Value::String(x)) => k == x,
        (ScalarValue::Integer(i), Value::Number(n)) => !n.is_f64() && n.as_i64() == Some(*i),
        (ScalarValue::Bool(b), Value::Bool(x)) => b == x,
        _ => false,
    }
}

/// One (already flattened) payload value against a `match`.
pub(crate) fn match_holds(m: &Match, v: &Value) -> bool {
    match m {
        Match::Value(s) => scalar_eq(s, v),
        Match::Any(list) => list.iter().any(|s| scalar_eq(s, v)),
        Match::Except(list) => !v.is_null() && !list.iter().any(|s| scalar_eq(s, v)),
        Match::Text(q) => v.as_str().is_some_and(|d| text::matches_all(d, q)),
        Match::TextAny(q) => v.as_str().is_some_and(|d| text::matches_any(d, q)),
        Match::Phrase(q) => v.as_str().is_some_and(|d| text::matches_phrase(d, q)),
        Match::Prefix(p) => v.as_str().is_some_and(|d| d.starts_with(p.as_str())),
        Match::Substring(p) => v.as_str().is_some_and(|d| d.contains(p.as_str())),
    }
}

/// One (already flattened) payload value against a `range`.
pub(crate) fn range_holds(r: &Range, v: &Value) -> bool {
    match (r, v) {
        (Range::Number { gt, gte, lt, lte }, Value::Number(n)) => {
            let within = |bound: &Option<f64>, ok: fn(Ordering) -> bool| {
                bound.is_none_or(|b| compare_number(n, b).is_some_and(ok))
            };
            within(gt, Ordering::is_gt)
                && within(gte, Ordering::is_ge)
                && within(lt, Ordering::is_lt)
                && within(lte, Ordering::is_le)
        }
        (Range::Datetime { gt, gte, lt, lte }, Value::String(s)) => {
            parse_datetime(s).is_some_and(|t| datetime_within(t, *gt, *gte, *lt, *lte))
        }
        _ => false,
    }
}

pub(crate) fn datetime_within(
    t: i64,
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
) -> bool {
    gt.is_none_or(|b| t > b)
        && gte.is_none_or(|b| t >= b)
        && lt.is_none_or(|b| t < b)
        && lte.is_none_or(|b| t <= b)
}

/// Exact comparison of a JSON number with an f64 (integers are not rounded to f64 first).
pub(crate) fn compare_number(n: &Number, b: f64) -> Option<Ordering> {
    if let Some(i) = n.as_i64() {
        compare_int(i128::from(i), b)
    } else if let Some(u) = n.as_u64() {
        compare_int(i128::from(u), b)
    } else {
        n.as_f64()?.partial_cmp(&b)
    }
}

fn compare_int(n: i128, b: f64) -> Option<Ordering> {
    if b.is_nan() {
        return None;
    }
    if b > 1e30 {
        return Some(Ordering::Less);
    }
    if b < -1e30 {
        return Some(Ordering::Greater);
    }
    let floor = b.floor();
    // |floor| < 1e30 < 2^127 and floor is integral, so the cast is exact.
    match n.cmp(&(floor as i128)) {
        Ordering::Equal if b > floor => Some(Ordering::Less),
        other => Some(other),
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
