//! Parsing Qdrant's filter JSON (spec §10) into the engine's [`Filter`] model.
//!
//! Unknown fields and operators are rejected; every error names the offending field and where
//! it is (`must[2].should[0]`).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::datetime::parse_datetime;
use super::model::{
    Condition, FieldCondition, Filter, GeoBoundingBox, GeoPoint, GeoPolygon, GeoRadius, Match,
    MinShould, Range, ScalarValue, ValuesCount,
};
use super::path::JsonPath;
use crate::error::{Error, Result};
use crate::types::PointId;

/// How deeply filters may nest (sub-filters and nested conditions).
pub const MAX_FILTER_DEPTH: usize = 64;

const FILTER_FIELDS: [&str; 4] = ["must", "should", "must_not", "min_should"];
const FIELD_OPERATORS: [&str; 8] = [
    "match",
    "range",
    "geo_radius",
    "geo_bounding_box",
    "geo_polygon",
    "values_count",
    "is_empty",
    "is_null",
];

/// Where in the filter we are, for error messages.
#[derive(Clone, Copy)]
struct Loc<'a>(&'a str);

impl Loc<'_> {
    fn err(self, msg: impl std::fmt::Display) -> Error {
        if self.0.is_empty() {
            Error::invalid(format!("{msg} in the filter"))
        } else {
            Error::invalid(format!("{msg} in condition {}", self.0))
        }
    }

    fn child(self, name: &str) -> String {
        if self.0.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.0)
        }
    }
}

impl Filter {
    /// Parses Qdrant's filter JSON (spec §10).
    pub fn from_json(value: &Value) -> Result<Filter> {
        parse_filter(value, Loc(""), 0)
    }
}

fn object<'v>(value: &'v Value, loc: Loc<'_>, what: &str) -> Result<&'v Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| loc.err(format!("{what} must be a JSON object, got {}", kind(value))))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_filter(value: &Value, loc: Loc<'_>, depth: usize) -> Result<Filter> {
    if depth >= MAX_FILTER_DEPTH {
        return Err(loc.err(format!(
            "filters nest deeper than {MAX_FILTER_DEPTH} levels"
        )));
    }
    let obj = object(value, loc, "a filter")?;
    let mut filter = Filter::default();
    for (name, v) in obj {
        let here = loc.child(name);
        match name.as_str() {
            "must" => filter.must = parse_clause(v, Loc(&here), depth)?,
            "should" => filter.should = parse_clause(v, Loc(&here), depth)?,
            "must_not" => filter.must_not = parse_clause(v, Loc(&here), depth)?,
            "min_should" if v.is_null() => {}
            "min_should" => filter.min_should = Some(parse_min_should(v, Loc(&here), depth)?),
            other => return Err(loc.err(format!("unknown filter field {other:?}"))),
        }
    }
    Ok(filter)
}

/// A clause is one condition or a list of them; null means none.
fn parse_clause(value: &Value, loc: Loc<'_>, depth: usize) -> Result<Vec<Condition>> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_condition(item, Loc(&format!("{}[{i}]", loc.0)), depth))
            .collect(),
        single => Ok(vec![parse_condition(single, loc, depth)?]),
    }
}

fn parse_min_should(value: &Value, loc: Loc<'_>, depth: usize) -> Result<MinShould> {
    let obj = object(value, loc, "min_should")?;
    let mut conditions = None;
    let mut min_count = None;
    for (name, v) in obj {
        match name.as_str() {
            "conditions" => {
                conditions = Some(parse_clause(v, Loc(&loc.child("conditions")), depth)?)
            }
            "min_count" => {
                let n = v
                    .as_u64()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| loc.err(format!("min_count must be an integer ≥ 1, got {v}")))?;
                min_count = Some(usize::try_from(n).unwrap_or(usize::MAX));
            }
            other => return Err(loc.err(format!("unknown min_should field {other:?}"))),
        }
    }
    Ok(MinShould {
        conditions: conditions.ok_or_else(|| loc.err("min_should needs \"conditions\""))?,
        min_count: min_count.ok_or_else(|| loc.err("min_should needs \"min_count\""))?,
    })
}

fn parse_condition(value: &Value, loc: Loc<'_>, depth: usize) -> Result<Condition> {
    let obj = object(value, loc, "a condition")?;
    if obj.contains_key("key") {
        return parse_field_condition(obj, loc).map(Condition::Field);
    }
    let single = |name: &str| -> Result<()> {
        match obj.keys().find(|k| k.as_str() != name) {
            Some(extra) => Err(loc.err(format!("unexpected field {extra:?} next to {name:?}"))),
            None => Ok(()),
        }
    };
    if let Some(v) = obj.get("is_empty") {
        single("is_empty")?;
        return Ok(Condition::IsEmpty(parse_key_object(v, loc, "is_empty")?));
    }
    if let Some(v) = obj.get("is_null") {
        single("is_null")?;
        return Ok(Condition::IsNull(parse_key_object(v, loc, "is_null")?));
    }
    if let Some(v) = obj.get("has_id") {
        single("has_id")?;
        return parse_has_id(v, loc).map(Condition::HasId);
    }
    if let Some(v) = obj.get("has_vector") {
        single("has_vector")?;
        let name = v
            .as_str()
            .ok_or_else(|| loc.err(format!("has_vector must be a string, got {}", kind(v))))?;
        return Ok(Condition::HasVector(name.to_string()));
    }
    if let Some(v) = obj.get("nested") {
        single("nested")?;
        return parse_nested(v, loc, depth);
    }
    if let Some(v) = obj.get("slice") {
        single("slice")?;
        return parse_slice(v, loc);
    }
    if let Some(op) = obj.keys().find(|k| FIELD_OPERATORS.contains(&k.as_str())) {
        return Err(loc.err(format!("operator {op:?} needs a \"key\"")));
    }
    if let Some(other) = obj.keys().find(|k| !FILTER_FIELDS.contains(&k.as_str())) {
        return Err(loc.err(format!("unknown condition {other:?}")));
    }
    parse_filter(value, loc, depth + 1).map(Condition::Filter)
}

fn parse_key(value: &Value, loc: Loc<'_>) -> Result<JsonPath> {
    let text = value
        .as_str()
        .ok_or_else(|| loc.err(format!("\"key\" must be a string, got {}", kind(value))))?;
    JsonPath::parse(text).map_err(|e| match e {
        Error::InvalidArgument(msg) => loc.err(msg),
        other => other,
    })
}

/// `{"key": "path"}`, the argument of `is_empty` and `is_null` conditions.
fn parse_key_object(value: &Value, loc: Loc<'_>, what: &str) -> Result<JsonPath> {
    let obj = object(value, loc, what)?;
    if let Some(extra) = obj.keys().find(|k| k.as_str() != "key") {
        return Err(loc.err(format!("unknown {what} field {extra:?}")));
    }
    let key = obj
        .get("key")
        .ok_or_else(|| loc.err(format!("{what} needs a \"key\"")))?;
    parse_key(key, loc)
}

fn parse_field_condition(obj: &Map<String, Value>, loc: Loc<'_>) -> Result<FieldCondition> {
    let mut fc = FieldCondition::new(parse_key(obj.get("key").unwrap_or(&Value::Null), loc)?);
    for (name, v) in obj
        .iter()
        .filter(|(n, v)| n.as_str() != "key" && !v.is_null())
    {
        match name.as_str() {
            "match" => fc.r#match = Some(parse_match(v, loc)?),
            "range" => fc.range = Some(parse_range(v, loc)?),
            "geo_radius" => fc.geo_radius = Some(parse_geo_radius(v, loc)?),
            "geo_bounding_box" => fc.geo_bounding_box = Some(parse_geo_box(v, loc)?),
            "geo_polygon" => fc.geo_polygon = Some(parse_geo_polygon(v, loc)?),
            "values_count" => fc.values_count = Some(parse_values_count(v, loc)?),
            "is_empty" => fc.is_empty = Some(parse_bool(v, loc, "is_empty")?),
            "is_null" => fc.is_null = Some(parse_bool(v, loc, "is_null")?),
            other => return Err(loc.err(format!("unknown filter operator {other:?}"))),
        }
    }
    if !fc.has_operator() {
        return Err(loc.err(format!(
            "field condition on {:?} has no operator (expected one of {})",
            fc.key.to_string(),
            FIELD_OPERATORS.join(", ")
        )));
    }
    Ok(fc)
}

fn parse_bool(value: &Value, loc: Loc<'_>, what: &str) -> Result<bool> {
    value
        .as_bool()
        .ok_or_else(|| loc.err(format!("{what} must be a boolean, got {}", kind(value))))
}

fn parse_scalar(value: &Value, loc: Loc<'_>, what: &str) -> Result<ScalarValue> {
    match value {
        Value::String(s) => Ok(ScalarValue::Keyword(s.clone())),
        Value::Bool(b) => Ok(ScalarValue::Bool(*b)),
        Value::Number(n) if !n.is_f64() => n
            .as_i64()
            .map(ScalarValue::Integer)
            .ok_or_else(|| loc.err(format!("{what} {n} does not fit a signed 64-bit integer"))),
        other => Err(loc.err(format!(
            "{what} must be a string, an integer or a boolean, got {}",
            kind(other)
        ))),
    }
}

/// `any` / `except` lists: all strings or all integers.
fn parse_scalar_list(value: &Value, loc: Loc<'_>, what: &str) -> Result<Vec<ScalarValue>> {
    let items = value
        .as_array()
        .ok_or_else(|| loc.err(format!("{what} must be an array, got {}", kind(value))))?;
    let list = items
        .iter()
        .map(|v| match v {
            Value::Bool(_) => Err(loc.err(format!(
                "{what} must hold strings or integers, got a boolean"
            ))),
            v => parse_scalar(v, loc, what),
        })
        .collect::<Result<Vec<_>>>()?;
    let strings = list
        .iter()
        .filter(|s| matches!(s, ScalarValue::Keyword(_)))
        .count();
    if strings != 0 && strings != list.len() {
        return Err(loc.err(format!(
            "{what} must hold only strings or only integers, not both"
        )));
    }
    Ok(list)
}

fn parse_match(value: &Value, loc: Loc<'_>) -> Result<Match> {
    let obj = object(value, loc, "match")?;
    let mut entries = obj.iter();
    let (Some((name, v)), None) = (entries.next(), entries.next()) else {
        return Err(loc.err(format!(
            "match must have exactly one field, got {}",
            obj.len()
        )));
    };
    let text = |what: &str| -> Result<String> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| loc.err(format!("match.{what} must be a string, got {}", kind(v))))
    };
    Ok(match name.as_str() {
        "value" => Match::Value(parse_scalar(v, loc, "match.value")?),
        "any" => Match::Any(parse_scalar_list(v, loc, "match.any")?),
        "except" => Match::Except(parse_scalar_list(v, loc, "match.except")?),
        "text" => Match::Text(text("text")?),
        "text_any" => Match::TextAny(text("text_any")?),
        "phrase" => Match::Phrase(text("phrase")?),
        "prefix" => Match::Prefix(text("prefix")?),
        "substring" => Match::Substring(text("substring")?),
        other => return Err(loc.err(format!("unknown match operator {other:?}"))),
    })
}

/// Numeric when every bound is a number, datetime when every bound is a string.
fn parse_range(value: &Value, loc: Loc<'_>) -> Result<Range> {
    let obj = object(value, loc, "range")?;
    let mut bounds: [Option<&Value>; 4] = [None; 4];
    for (name, v) in obj.iter().filter(|(_, v)| !v.is_null()) {
        let slot = ["gt", "gte", "lt", "lte"]
            .iter()
            .position(|b| b == name)
            .ok_or_else(|| loc.err(format!("unknown range bound {name:?}")))?;
        bounds[slot] = Some(v);
    }
    if bounds.iter().flatten().all(|v| v.is_number()) {
        let num = |b: Option<&Value>| b.and_then(Value::as_f64);
        let [gt, gte, lt, lte] = bounds.map(num);
        return Ok(Range::Number { gt, gte, lt, lte });
    }
    if !bounds.iter().flatten().all(|v| v.is_string()) {
        return Err(loc.err("range bounds must be all numbers or all datetime strings"));
    }
    let mut parsed = [None; 4];
    for (slot, b) in parsed.iter_mut().zip(bounds) {
        if let Some(s) = b.and_then(Value::as_str) {
            *slot = Some(parse_datetime(s).ok_or_else(|| {
                loc.err(format!(
                    "range bound {s:?} is not a supported datetime (RFC 3339)"
                ))
            })?);
        }
    }
    let [gt, gte, lt, lte] = parsed;
    Ok(Range::Datetime { gt, gte, lt, lte })
}

fn parse_geo_point(value: &Value, loc: Loc<'_>, what: &str) -> Result<GeoPoint> {
    let obj = object(value, loc, what)?;
    if let Some(extra) = obj
        .keys()
        .find(|k| k.as_str() != "lon" && k.as_str() != "lat")
    {
        return Err(loc.err(format!("unknown field {extra:?} in {what}")));
    }
    let coord = |name: &str, limit: f64| -> Result<f64> {
        let x = obj
            .get(name)
            .and_then(Value::as_f64)
            .ok_or_else(|| loc.err(format!("{what}.{name} must be a number")))?;
        if !(-limit..=limit).contains(&x) {
            return Err(loc.err(format!(
                "{what}.{name} = {x} is outside [-{limit}, {limit}]"
            )));
        }
        Ok(x)
    };
    Ok(GeoPoint {
        lon: coord("lon", 180.0)?,
        lat: coord("lat", 90.0)?,
    })
}

/// Reads the named fields of an object, rejecting any other field.
fn fields<'v, const N: usize>(
    value: &'v Value,
    loc: Loc<'_>,
    what: &str,
    names: [&str; N],
) -> Result<[Option<&'v Value>; N]> {
    let obj = object(value, loc, what)?;
    let mut out = [None; N];
    for (name, v) in obj {
        let slot = names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| loc.err(format!("unknown {what} field {name:?}")))?;
        out[slot] = Some(v).filter(|v| !v.is_null());
    }
    Ok(out)
}

fn require<'v>(v: Option<&'v Value>, loc: Loc<'_>, what: &str) -> Result<&'v Value> {
    v.ok_or_else(|| loc.err(format!("{what} is required")))
}

fn parse_geo_radius(value: &Value, loc: Loc<'_>) -> Result<GeoRadius> {
    let [center, radius] = fields(value, loc, "geo_radius", ["center", "radius"])?;
    let center = parse_geo_point(require(center, loc, "geo_radius.center")?, loc, "center")?;
    let radius = require(radius, loc, "geo_radius.radius")?
        .as_f64()
        .ok_or_else(|| loc.err("geo_radius.radius must be a number of meters"))?;
    Ok(GeoRadius { center, radius })
}

fn parse_geo_box(value: &Value, loc: Loc<'_>) -> Result<GeoBoundingBox> {
    let [tl, br] = fields(value, loc, "geo_bounding_box", ["top_left", "bottom_right"])?;
    Ok(GeoBoundingBox {
        top_left: parse_geo_point(
            require(tl, loc, "geo_bounding_box.top_left")?,
            loc,
            "top_left",
        )?,
        bottom_right: parse_geo_point(
            require(br, loc, "geo_bounding_box.bottom_right")?,
            loc,
            "bottom_right",
        )?,
    })
}

fn parse_ring(value: &Value, loc: Loc<'_>, what: &str) -> Result<Vec<GeoPoint>> {
    let [points] = fields(value, loc, what, ["points"])?;
    let items = require(points, loc, &format!("{what}.points"))?
        .as_array()
        .ok_or_else(|| loc.err(format!("{what}.points must be an array")))?;
    let ring = items
        .iter()
        .map(|p| parse_geo_point(p, loc, &format!("{what} point")))
        .collect::<Result<Vec<_>>>()?;
    if ring.len() < 4 {
        return Err(loc.err(format!(
            "{what} ring needs at least 4 points, got {}",
            ring.len()
        )));
    }
    if ring.first() != ring.last() {
        return Err(loc.err(format!(
            "{what} ring is not closed (first point ≠ last point)"
        )));
    }
    Ok(ring)
}

fn parse_geo_polygon(value: &Value, loc: Loc<'_>) -> Result<GeoPolygon> {
    let [exterior, interiors] = fields(value, loc, "geo_polygon", ["exterior", "interiors"])?;
    let exterior = parse_ring(
        require(exterior, loc, "geo_polygon.exterior")?,
        loc,
        "exterior",
    )?;
    let interiors = match interiors {
        None => Vec::new(),
        Some(v) => v
            .as_array()
            .ok_or_else(|| loc.err("geo_polygon.interiors must be an array"))?
            .iter()
            .enumerate()
            .map(|(i, r)| parse_ring(r, loc, &format!("interiors[{i}]")))
            .collect::<Result<_>>()?,
    };
    Ok(GeoPolygon {
        exterior,
        interiors,
    })
}

fn parse_values_count(value: &Value, loc: Loc<'_>) -> Result<ValuesCount> {
    let bounds = fields(value, loc, "values_count", ["gt", "gte", "lt", "lte"])?;
    let mut out = [None; 4];
    for (slot, b) in out.iter_mut().zip(bounds) {
        if let Some(v) = b {
            let n = v.as_u64().ok_or_else(|| {
                loc.err(format!("values_count bounds must be integers ≥ 0, got {v}"))
            })?;
            *slot = Some(usize::try_from(n).unwrap_or(usize::MAX));
        }
    }
    let [gt, gte, lt, lte] = out;
    Ok(ValuesCount { gt, gte, lt, lte })
}

fn parse_has_id(value: &Value, loc: Loc<'_>) -> Result<HashSet<PointId>> {
    let items = value.as_array().ok_or_else(|| {
        loc.err(format!(
            "has_id must be an array of ids, got {}",
            kind(value)
        ))
    })?;
    items
        .iter()
        .map(|v| match v {
            Value::Number(n) => n
                .as_u64()
                .map(PointId::Num)
                .ok_or_else(|| loc.err(format!("has_id: {n} is not an unsigned integer id"))),
            Value::String(s) => {
                Ok(PointId::parse_uuid(s).unwrap_or_else(|_| PointId::Str(s.clone())))
            }
            other => Err(loc.err(format!(
                "has_id: ids must be integers or strings, got {}",
                kind(other)
            ))),
        })
        .collect()
}

fn parse_nested(value: &Value, loc: Loc<'_>, depth: usize) -> Result<Condition> {
    let [key, filter] = fields(value, loc, "nested", ["key", "filter"])?;
    let path = parse_key(require(key, loc, "nested.key")?, loc)?;
    let inner_loc = loc.child("nested.filter");
    let filter = parse_filter(
        require(filter, loc, "nested.filter")?,
        Loc(&inner_loc),
        depth + 1,
    )?;
    if contains_has_id(&filter) {
        return Err(loc.err("has_id is not allowed inside a nested condition"));
    }
    Ok(Condition::Nested { path, filter })
}

fn contains_has_id(f: &Filter) -> bool {
    let conditions = f
        .must
        .iter()
        .chain(&f.should)
        .chain(&f.must_not)
        .chain(f.min_should.iter().flat_map(|m| &m.conditions));
    conditions.into_iter().any(|c| match c {
        Condition::HasId(_) => true,
        Condition::Filter(inner) | Condition::Nested { filter: inner, .. } => {
            contains_has_id(inner)
        }
        _ => false,
    })
}

fn parse_slice(value: &Value, loc: Loc<'_>) -> Result<Condition> {
    let [total, index] = fields(value, loc, "slice", ["total", "index"])?;
    let total = require(total, loc, "slice.total")?
        .as_u64()
        .filter(|&t| t >= 1)
        .ok_or_else(|| loc.err("slice.total must be an integer ≥ 1"))?;
    let index = require(index, loc, "slice.index")?
        .as_u64()
        .filter(|&i| i < total)
        .ok_or_else(|| {
            loc.err(format!(
                "slice.index must be an integer in [0, {}]",
                total - 1
            ))
        })?;
    Ok(Condition::Slice { total, index })
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
