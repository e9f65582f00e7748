//! Chroma's `where` and `where_document` filters: parsed as the official server parses them
//! (`rust/types/src/where_parsing.rs`) and evaluated with the local server's semantics, which
//! differ from the engine's Qdrant-style filter in ways clients notice:
//!
//! - `$ne` / `$nin` / `$not_contains` are complements: they match records that lack the key,
//!   have no metadata, or hold another type.
//! - Numbers compare across int and float (`1 == 1.0`), never with bools or strings. As in the
//!   official server, a float operand is compared with stored integers after truncation
//!   toward zero (`{"v": {"$eq": 1.5}}` matches an integer `1`; `$gte 1.5` matches `1`).
//! - Ranges only match numbers; arrays only answer `$contains` / `$not_contains`, which are
//!   type-strict (`$contains 1` does not find `1.0`).
//! - `$contains` on a document is a case-sensitive substring test (`""` matches every
//!   document); `$regex` uses the `regex` crate's syntax; the negations match null documents.
//!
//! So filters are evaluated here, over the payload, rather than translated to the engine's
//! filter. Reserved payload keys (`#…`) are never seen as metadata.

use std::collections::BTreeSet;

use azimuth_engine::Payload;
use regex::Regex;
use serde_json::Value;

use super::error::ChromaError;

/// A metadata operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn type_name(&self) -> &'static str {
        match self {
            Scalar::Str(_) => "Str",
            Scalar::Int(_) => "Int",
            Scalar::Float(_) => "Float",
            Scalar::Bool(_) => "Bool",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cmp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Clone, Debug)]
pub enum MetaOp {
    Cmp(Cmp, Scalar),
    In(Vec<Scalar>),
    NotIn(Vec<Scalar>),
    Contains(Scalar),
    NotContains(Scalar),
}

#[derive(Clone, Debug)]
pub enum DocOp {
    Contains(String),
    NotContains(String),
    Regex(Regex),
    NotRegex(Regex),
}

/// A parsed filter (`where` and `where_document` share the tree).
#[derive(Clone, Debug)]
pub enum Where {
    And(Vec<Where>),
    Or(Vec<Where>),
    Meta { key: String, op: MetaOp },
    Doc(DocOp),
}

/// The payload key holding the document.
pub const DOCUMENT_KEY: &str = "#document";

fn where_error() -> ChromaError {
    ChromaError::invalid("Invalid where clause")
}

fn where_document_error() -> ChromaError {
    ChromaError::invalid("Invalid where document clause")
}

fn regex(pattern: &str) -> Result<Regex, ChromaError> {
    Regex::new(pattern).map_err(|e| ChromaError::invalid(format!("Regex syntax errror: {e}")))
}

fn single(v: &Value, err: fn() -> ChromaError) -> Result<(&String, &Value), ChromaError> {
    match v.as_object() {
        Some(o) if o.len() == 1 => o.iter().next().ok_or_else(err),
        _ => Err(err()),
    }
}

fn scalar(v: &Value) -> Option<Scalar> {
    match v {
        Value::String(s) => Some(Scalar::Str(s.clone())),
        Value::Bool(b) => Some(Scalar::Bool(*b)),
        Value::Number(n) if n.is_f64() => n.as_f64().map(Scalar::Float),
        Value::Number(n) => n.as_i64().map(Scalar::Int),
        _ => None,
    }
}

/// The list operand of `$in` / `$nin`: non-empty, all of the first element's type (an
/// integer list may not hold floats; a float list may hold integers, read as floats).
fn scalar_list(items: &[Value]) -> Option<Vec<Scalar>> {
    let first = items.first()?;
    items
        .iter()
        .map(|v| match (first, v) {
            (Value::String(_), Value::String(s)) => Some(Scalar::Str(s.clone())),
            (Value::Bool(_), Value::Bool(b)) => Some(Scalar::Bool(*b)),
            (Value::Number(f), Value::Number(n)) if f.is_f64() => n.as_f64().map(Scalar::Float),
            (Value::Number(f), Value::Number(n)) if f.is_i64() => n.as_i64().map(Scalar::Int),
            _ => None,
        })
        .collect()
}

fn children(
    v: &Value,
    err: fn() -> ChromaError,
    parse: fn(&Value) -> Result<Where, ChromaError>,
) -> Result<Vec<Where>, ChromaError> {
    v.as_array().ok_or_else(err)?.iter().map(parse).collect()
}

/// Parses a `where` object.
pub fn parse_where(v: &Value) -> Result<Where, ChromaError> {
    let (key, value) = single(v, where_error)?;
    match key.as_str() {
        "$and" => return Ok(Where::And(children(value, where_error, parse_where)?)),
        "$or" => return Ok(Where::Or(children(value, where_error, parse_where)?)),
        k if k.starts_with('$') => return Err(where_error()),
        _ => {}
    }
    let meta = |op: MetaOp| -> Result<Where, ChromaError> {
        if key == DOCUMENT_KEY {
            let operand = match &op {
                MetaOp::Cmp(_, s) | MetaOp::Contains(s) | MetaOp::NotContains(s) => s,
                MetaOp::In(l) | MetaOp::NotIn(l) => l.first().ok_or_else(where_error)?,
            };
            return Err(ChromaError::invalid(format!(
                "Cannot filter using metadata key '#document' with type '{}' because indexing is disabled",
                operand.type_name()
            )));
        }
        Ok(Where::Meta {
            key: key.clone(),
            op,
        })
    };
    if !value.is_object() {
        let s = scalar(value).ok_or_else(where_error)?;
        return meta(MetaOp::Cmp(Cmp::Eq, s));
    }
    let (operator, operand) = single(value, where_error)?;
    if let Value::Array(items) = operand {
        let list = scalar_list(items).ok_or_else(where_error)?;
        return match operator.as_str() {
            "$in" => meta(MetaOp::In(list)),
            "$nin" => meta(MetaOp::NotIn(list)),
            _ => Err(where_error()),
        };
    }
    let s = scalar(operand).ok_or_else(where_error)?;
    let is_str = matches!(s, Scalar::Str(_));
    let numeric = matches!(s, Scalar::Int(_) | Scalar::Float(_));
    match operator.as_str() {
        "$contains" | "$not_contains" if key == DOCUMENT_KEY => {
            let Scalar::Str(text) = s else {
                return Err(where_error());
            };
            Ok(Where::Doc(if operator == "$contains" {
                DocOp::Contains(text)
            } else {
                DocOp::NotContains(text)
            }))
        }
        "$contains" => meta(MetaOp::Contains(s)),
        "$not_contains" => meta(MetaOp::NotContains(s)),
        "$regex" | "$not_regex" if is_str && key == DOCUMENT_KEY => {
            let Scalar::Str(text) = s else {
                return Err(where_error());
            };
            let re = regex(&text)?;
            Ok(Where::Doc(if operator == "$regex" {
                DocOp::Regex(re)
            } else {
                DocOp::NotRegex(re)
            }))
        }
        "$eq" => meta(MetaOp::Cmp(Cmp::Eq, s)),
        "$ne" => meta(MetaOp::Cmp(Cmp::Ne, s)),
        "$gt" if numeric => meta(MetaOp::Cmp(Cmp::Gt, s)),
        "$gte" if numeric => meta(MetaOp::Cmp(Cmp::Gte, s)),
        "$lt" if numeric => meta(MetaOp::Cmp(Cmp::Lt, s)),
        "$lte" if numeric => meta(MetaOp::Cmp(Cmp::Lte, s)),
        _ => Err(where_error()),
    }
}

/// Parses a `where_document` object.
pub fn parse_where_document(v: &Value) -> Result<Where, ChromaError> {
    let (key, value) = single(v, where_document_error)?;
    match key.as_str() {
        "$and" => {
            return Ok(Where::And(children(
                value,
                where_document_error,
                parse_where_document,
            )?))
        }
        "$or" => {
            return Ok(Where::Or(children(
                value,
                where_document_error,
                parse_where_document,
            )?))
        }
        _ => {}
    }
    let text = value.as_str().ok_or_else(where_document_error)?;
    Ok(Where::Doc(match key.as_str() {
        "$contains" => DocOp::Contains(text.to_string()),
        "$not_contains" => DocOp::NotContains(text.to_string()),
        "$regex" => DocOp::Regex(regex(text)?),
        "$not_regex" => DocOp::NotRegex(regex(text)?),
        _ => return Err(where_document_error()),
    }))
}

/// Both filters of a request, ANDed; `None` when neither was given (JSON null = absent).
pub fn parse_both(
    r#where: Option<&Value>,
    where_document: Option<&Value>,
) -> Result<Option<Where>, ChromaError> {
    let w = r#where
        .filter(|v| !v.is_null())
        .map(parse_where)
        .transpose()?;
    let d = where_document
        .filter(|v| !v.is_null())
        .map(parse_where_document)
        .transpose()?;
    Ok(match (w, d) {
        (Some(w), Some(d)) => Some(Where::And(vec![w, d])),
        (w, d) => w.or(d),
    })
}

/// Compares two numbers the way the official server does: a float operand meets stored
/// integers truncated toward zero, an integer operand meets stored floats as a float.
fn num_cmp(stored: &serde_json::Number, operand: &Scalar) -> Option<std::cmp::Ordering> {
    let stored_int = stored.as_i64().filter(|_| !stored.is_f64());
    match (stored_int, operand) {
        (Some(x), Scalar::Int(i)) => Some(x.cmp(i)),
        (Some(x), Scalar::Float(f)) => Some(x.cmp(&(*f as i64))),
        (None, Scalar::Int(i)) => stored.as_f64()?.partial_cmp(&(*i as f64)),
        (None, Scalar::Float(f)) => stored.as_f64()?.partial_cmp(f),
        _ => None,
    }
}

fn scalar_cmp(stored: &Value, operand: &Scalar) -> Option<std::cmp::Ordering> {
    match (stored, operand) {
        (Value::String(a), Scalar::Str(b)) => Some(a.as_str().cmp(b.as_str())),
        (Value::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
        (Value::Number(n), Scalar::Int(_) | Scalar::Float(_)) => num_cmp(n, operand),
        _ => None,
    }
}

/// Type-strict equality of an array element with a `$contains` operand.
fn element_is(v: &Value, operand: &Scalar) -> bool {
    match (v, operand) {
        (Value::String(a), Scalar::Str(b)) => a == b,
        (Value::Bool(a), Scalar::Bool(b)) => a == b,
        (Value::Number(n), Scalar::Int(i)) => !n.is_f64() && n.as_i64() == Some(*i),
        (Value::Number(n), Scalar::Float(f)) => n.is_f64() && n.as_f64() == Some(*f),
        _ => false,
    }
}

fn meta_holds(stored: Option<&Value>, op: &MetaOp) -> bool {
    use std::cmp::Ordering::*;
    let scalar_value = stored.filter(|v| !v.is_array());
    let cmp = |s: &Scalar| scalar_value.and_then(|v| scalar_cmp(v, s));
    let contains = |s: &Scalar| {
        stored
            .and_then(Value::as_array)
            .is_some_and(|items| items.iter().any(|v| element_is(v, s)))
    };
    match op {
        MetaOp::Cmp(c, s) => {
            let o = cmp(s);
            match c {
                Cmp::Eq => o == Some(Equal),
                Cmp::Ne => o != Some(Equal),
                Cmp::Gt => o == Some(Greater),
                Cmp::Gte => matches!(o, Some(Greater | Equal)),
                Cmp::Lt => o == Some(Less),
                Cmp::Lte => matches!(o, Some(Less | Equal)),
            }
        }
        MetaOp::In(list) => list.iter().any(|s| cmp(s) == Some(Equal)),
        MetaOp::NotIn(list) => !list.iter().any(|s| cmp(s) == Some(Equal)),
        MetaOp::Contains(s) => contains(s),
        MetaOp::NotContains(s) => !contains(s),
    }
}

fn doc_holds(document: Option<&str>, op: &DocOp) -> bool {
    match op {
        DocOp::Contains(t) => document.is_some_and(|d| d.contains(t.as_str())),
        DocOp::NotContains(t) => !document.is_some_and(|d| d.contains(t.as_str())),
        DocOp::Regex(re) => document.is_some_and(|d| re.is_match(d)),
        DocOp::NotRegex(re) => !document.is_some_and(|d| re.is_match(d)),
    }
}

impl Where {
    /// True when a record with this payload (metadata keys plus reserved `#…` keys)
    /// satisfies the filter.
    pub fn matches(&self, payload: &Payload) -> bool {
        match self {
            Where::And(c) => c.iter().all(|w| w.matches(payload)),
            Where::Or(c) => c.iter().any(|w| w.matches(payload)),
            Where::Meta { key, op } => {
                let stored = if key.starts_with('#') {
                    None
                } else {
                    payload.get(key)
                };
                meta_holds(stored, op)
            }
            Where::Doc(op) => doc_holds(payload.get(DOCUMENT_KEY).and_then(Value::as_str), op),
        }
    }

    /// The payload keys evaluation reads.
    pub fn keys(&self, out: &mut BTreeSet<String>) {
        match self {
            Where::And(c) | Where::Or(c) => c.iter().for_each(|w| w.keys(out)),
            Where::Meta { key, .. } => {
                out.insert(key.clone());
            }
            Where::Doc(_) => {
                out.insert(DOCUMENT_KEY.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records() -> Vec<(&'static str, Payload)> {
        let p = |v: Value| v.as_object().cloned().unwrap_or_default();
        vec![
            ("i1", p(json!({"v": 1, "#document": "Hello World"}))),
            ("f1", p(json!({"v": 1.0, "#document": "hello world"}))),
            ("s1", p(json!({"v": "1", "#document": "a%b"}))),
            ("b1", p(json!({"v": true, "#document": "a_b"}))),
            ("none", p(json!({"w": 1}))),
            ("i2", p(json!({"v": 2, "#document": "xyz"}))),
            ("f15", p(json!({"v": 1.5, "#document": "HELLO"}))),
            ("arr", p(json!({"v": [1, 2], "#document": "abc"}))),
            ("farr", p(json!({"v": [1.0, 2.0], "#document": ""}))),
            ("nometa", p(json!({"#document": "q"}))),
        ]
    }

    fn ids(w: Value) -> Vec<&'static str> {
        let w = parse_where(&w).unwrap();
        records()
            .into_iter()
            .filter(|(_, p)| w.matches(p))
            .map(|(id, _)| id)
            .collect()
    }

    fn doc_ids(w: Value) -> Vec<&'static str> {
        let w = parse_where_document(&w).unwrap();
        records()
            .into_iter()
            .filter(|(_, p)| w.matches(p))
            .map(|(id, _)| id)
            .collect()
    }

    /// Expected answers recorded from chromadb 1.5.9 on the same records.
    #[test]
    fn metadata_semantics_match_the_official_server() {
        assert_eq!(ids(json!({"v": 1})), ["i1", "f1"]);
        assert_eq!(ids(json!({"v": 1.5})), ["i1", "f15"]);
        assert_eq!(ids(json!({"v": {"$lt": 1.5}})), ["f1"]);
        assert_eq!(ids(json!({"v": {"$gte": 1.5}})), ["i1", "i2", "f15"]);
        assert_eq!(ids(json!({"v": {"$gt": 1.5}})), ["i2"]);
        assert_eq!(
            ids(json!({"v": {"$ne": 1}})),
            ["s1", "b1", "none", "i2", "f15", "arr", "farr", "nometa"]
        );
        assert_eq!(ids(json!({"v": {"$in": [1, 2]}})), ["i1", "f1", "i2"]);
        assert_eq!(ids(json!({"v": {"$in": [1.5]}})), ["i1", "f15"]);
        assert_eq!(ids(json!({"v": {"$contains": 1}})), ["arr"]);
        assert_eq!(ids(json!({"v": {"$contains": 1.0}})), ["farr"]);
        assert_eq!(ids(json!({"v": {"$contains": "1"}})), Vec::<&str>::new());
        assert_eq!(ids(json!({"v": {"$gt": -0.5}})), ["i1", "f1", "i2", "f15"]);
        assert_eq!(ids(json!({"v": {"$lt": 1.9999}})), ["f1", "f15"]);
        assert_eq!(ids(json!({"v": {"$eq": true}})), ["b1"]);
        assert_eq!(ids(json!({"$and": []})).len(), 10);
        assert!(ids(json!({"$or": []})).is_empty());
    }

    #[test]
    fn document_semantics_match_the_official_server() {
        assert_eq!(doc_ids(json!({"$contains": "hello"})), ["f1"]);
        assert_eq!(doc_ids(json!({"$contains": "%"})), ["s1"]);
        assert_eq!(doc_ids(json!({"$contains": "b"})), ["s1", "b1", "arr"]);
        assert_eq!(doc_ids(json!({"$contains": ""})).len(), 9);
        assert_eq!(doc_ids(json!({"$regex": "(?i)hello"})), ["i1", "f1", "f15"]);
        assert_eq!(
            doc_ids(json!({"$not_regex": "^h"})),
            ["i1", "s1", "b1", "none", "i2", "f15", "arr", "farr", "nometa"]
        );
    }

    #[test]
    fn malformed_filters_are_invalid_arguments() {
        for bad in [
            json!({}),
            json!({"a": 1, "b": 2}),
            json!({"$contains": "x"}),
            json!({"k": {"$gt": "x"}}),
            json!({"k": {"$in": []}}),
            json!({"k": {"$in": [1, "a"]}}),
            json!({"k": {"$in": [1, 2.5]}}),
            json!({"k": {"$bogus": 1}}),
            json!({"k": null}),
            json!({"k": [1]}),
            json!({"k": {"$regex": "a"}}),
            json!({"#document": {"$contains": 1}}),
            json!({"$and": {}}),
            json!({"k": 18446744073709551615u64}),
        ] {
            let e = parse_where(&bad).unwrap_err();
            assert_eq!(e.message, "Invalid where clause", "{bad}");
        }
        assert!(parse_where(&json!({"k": {"$in": [2.5, 1]}})).is_ok());
        let e = parse_where(&json!({"#document": {"$eq": "x"}})).unwrap_err();
        assert!(e.message.contains("indexing is disabled"));
        let e = parse_where_document(&json!({"$regex": "["})).unwrap_err();
        assert!(e
            .message
            .starts_with("Regex syntax errror: regex parse error"));
        for bad in [json!({"$eq": "x"}), json!({"$contains": 1}), json!([])] {
            let e = parse_where_document(&bad).unwrap_err();
            assert_eq!(e.message, "Invalid where document clause", "{bad}");
        }
    }
}
