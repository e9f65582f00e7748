//! Payload key paths (`a.b`, `a[]`, `a[0].b`, `"dotted.key"`) and how they resolve to values.
//!
//! The grammar is Qdrant's: a path starts with a key, bare keys are runs of alphanumeric
//! characters, `_` and `-`, quoted keys may hold anything but `"`, and each key may be followed
//! by any number of `[]` (every element) or `[n]` (one element) selectors. Keys are separated
//! by `.`.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::types::Payload;

/// One step of a [`JsonPath`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSegment {
    /// An object field.
    Key(String),
    /// One array element, `[n]`.
    Index(u64),
    /// Every array element, `[]`.
    Wildcard,
}

/// A parsed payload key path. Always holds at least one segment, and the first is a key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsonPath {
    segments: Vec<PathSegment>,
}

fn is_bare_key_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

fn path_error(text: &str, why: &str) -> Error {
    Error::invalid(format!("invalid key path {text:?}: {why}"))
}

impl JsonPath {
    /// Parses Qdrant's key path syntax.
    pub fn parse(text: &str) -> Result<JsonPath> {
        let mut segments = Vec::new();
        let mut rest = text;
        loop {
            let (key, after_key) = parse_key(text, rest)?;
            segments.push(PathSegment::Key(key));
            rest = parse_brackets(text, after_key, &mut segments)?;
            if rest.is_empty() {
                return Ok(JsonPath { segments });
            }
            match rest.strip_prefix('.') {
                Some(next) if !next.is_empty() => rest = next,
                Some(_) => return Err(path_error(text, "it ends with '.'")),
                None => return Err(path_error(text, "expected '.' or '[' after a key")),
            }
        }
    }

    /// A path made of one plain key (any characters allowed).
    pub fn key(name: impl Into<String>) -> JsonPath {
        JsonPath {
            segments: vec![PathSegment::Key(name.into())],
        }
    }

    /// The path's segments; the first is always a [`PathSegment::Key`].
    pub fn segments(&self) -> &[PathSegment] {
        &self.segments
    }

    /// `self` followed by `[]` and then every segment of `other`.
    pub fn join_elements(&self, other: &JsonPath) -> JsonPath {
        let mut segments = self.segments.clone();
        segments.push(PathSegment::Wildcard);
        segments.extend(other.segments.iter().cloned());
        JsonPath { segments }
    }

    /// The path without a trailing `[]`, unless that would leave it empty.
    pub fn without_trailing_wildcard(&self) -> JsonPath {
        let mut segments = self.segments.clone();
        if segments.len() > 1 && segments.last() == Some(&PathSegment::Wildcard) {
            segments.pop();
        }
        JsonPath { segments }
    }

    /// The values the path selects, as filters see them: a selected array is replaced by its
    /// elements (one level only). Missing keys, out-of-range indexes and type mismatches select
    /// nothing.
    pub fn values<'a>(&self, payload: &'a Payload) -> Vec<&'a Value> {
        let mut out = Vec::new();
        self.walk(payload, &mut |v| match v {
            Value::Array(items) => out.extend(items.iter()),
            other => out.push(other),
        });
        out
    }

    /// The values the path selects, with arrays kept whole (used by `values_count`,
    /// `is_empty`, `is_null` and nested conditions).
    pub fn raw_values<'a>(&self, payload: &'a Payload) -> Vec<&'a Value> {
        let mut out = Vec::new();
        self.walk(payload, &mut |v| out.push(v));
        out
    }

    fn walk<'a>(&self, payload: &'a Payload, emit: &mut dyn FnMut(&'a Value)) {
        let Some((PathSegment::Key(first), rest)) = self.segments.split_first() else {
            return;
        };
        if let Some(value) = payload.get(first) {
            walk_value(value, rest, emit);
        }
    }
}

fn walk_value<'a>(value: &'a Value, path: &[PathSegment], emit: &mut dyn FnMut(&'a Value)) {
    let Some((segment, rest)) = path.split_first() else {
        emit(value);
        return;
    };
    match (segment, value) {
        (PathSegment::Key(k), Value::Object(map)) => {
            if let Some(v) = map.get(k) {
                walk_value(v, rest, emit);
            }
        }
        (PathSegment::Index(i), Value::Array(items)) => {
            if let Some(v) = usize::try_from(*i).ok().and_then(|i| items.get(i)) {
                walk_value(v, rest, emit);
            }
        }
        (PathSegment::Wildcard, Value::Array(items)) => {
            for item in items {
                walk_value(item, rest, emit);
            }
        }
        _ => {}
    }
}

/// Parses one key (quoted or bare) at the start of `rest`.
fn parse_key<'t>(text: &str, rest: &'t str) -> Result<(String, &'t str)> {
    if let Some(quoted) = rest.strip_prefix('"') {
        let end = quoted
            .find('"')
            .ok_or_else(|| path_error(text, "a quoted key is not closed"))?;
        return Ok((quoted[..end].to_string(), &quoted[end + 1..]));
    }
    let end = rest
        .char_indices()
        .find(|&(_, c)| !is_bare_key_char(c))
        .map_or(rest.len(), |(i, _)| i);
    if end == 0 {
        let why = if rest.is_empty() {
            "it is empty".to_string()
        } else {
            format!("expected a key at {rest:?}")
        };
        return Err(path_error(text, &why));
    }
    Ok((rest[..end].to_string(), &rest[end..]))
}

/// Parses any `[]` / `[n]` selectors at the start of `rest`, returning what follows them.
fn parse_brackets<'t>(
    text: &str,
    mut rest: &'t str,
    out: &mut Vec<PathSegment>,
) -> Result<&'t str> {
    while let Some(inner) = rest.strip_prefix('[') {
        let end = inner
            .find(']')
            .ok_or_else(|| path_error(text, "a '[' is not closed"))?;
        let index = &inner[..end];
        if index.is_empty() {
            out.push(PathSegment::Wildcard);
        } else if index.bytes().all(|b| b.is_ascii_digit()) {
            let n = index
                .parse::<u64>()
                .map_err(|_| path_error(text, "array index is too large"))?;
            out.push(PathSegment::Index(n));
        } else {
            return Err(path_error(
                text,
                &format!("array index {index:?} is not a number"),
            ));
        }
        rest = &inner[end + 1..];
    }
    Ok(rest)
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                PathSegment::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if !k.is_empty() && k.chars().all(is_bare_key_char) {
                        f.write_str(k)?;
                    } else {
                        write!(f, "\"{k}\"")?;
                    }
                }
                PathSegment::Index(n) => write!(f, "[{n}]")?,
                PathSegment::Wildcard => f.write_str("[]")?,
            }
        }
        Ok(())
    }
}

impl FromStr for JsonPath {
    type Err = Error;

    fn from_str(s: &str) -> Result<JsonPath> {
        JsonPath::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> JsonPath {
        JsonPath::parse(s).expect("valid path")
    }

    fn payload(v: Value) -> Payload {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn parses_and_displays() {
        for s in [
            "a",
            "a.b.c",
            "a[]",
            "a[0]",
            "a[].b",
            "a[0][1].b",
            "\"a.b\".c",
            "x-y_z.Ü1",
        ] {
            assert_eq!(p(s).to_string(), s);
        }
        assert_eq!(p("a[007]").to_string(), "a[7]");
        assert_eq!(p("\"\"").segments(), &[PathSegment::Key(String::new())]);
        assert_eq!(
            p("a[].\"b c\"[2]").segments(),
            &[
                PathSegment::Key("a".into()),
                PathSegment::Wildcard,
                PathSegment::Key("b c".into()),
                PathSegment::Index(2)
            ]
        );
    }

    #[test]
    fn rejects_bad_paths() {
        for s in [
            "",
            ".",
            "a.",
            ".a",
            "a..b",
            "[0]",
            "a[",
            "a[x]",
            "a[-1]",
            "a b",
            "a[0]b",
            "\"a",
            "a.[0]",
            "a[99999999999999999999]",
        ] {
            let err = JsonPath::parse(s).expect_err(s);
            assert!(err.to_string().contains("invalid key path"), "{s}: {err}");
        }
    }

    #[test]
    fn resolves_values_like_local_mode() {
        let pl = payload(json!({
            "a": {"b": [1, [2, 3]], "c": null},
            "arr": [{"x": 1}, {"x": [2, 3]}, {"y": 0}, 7],
            "nested": [[1, 2], 3],
            "a.b": "dotted"
        }));
        let vals = |s: &str| p(s).values(&pl).into_iter().cloned().collect::<Vec<_>>();
        assert_eq!(vals("a.b"), vec![json!(1), json!([2, 3])]);
        assert_eq!(vals("a.c"), vec![Value::Null]);
        assert_eq!(vals("a.missing"), Vec::<Value>::new());
        assert_eq!(vals("arr[].x"), vec![json!(1), json!(2), json!(3)]);
        assert_eq!(vals("arr[1].x"), vec![json!(2), json!(3)]);
        assert_eq!(vals("arr[9].x"), Vec::<Value>::new());
        assert_eq!(vals("nested[]"), vec![json!(1), json!(2), json!(3)]);
        assert_eq!(vals("nested"), vec![json!([1, 2]), json!(3)]);
        assert_eq!(vals("\"a.b\""), vec![json!("dotted")]);
        assert_eq!(vals("a[0]"), Vec::<Value>::new());
        let raw = p("arr[].x").raw_values(&pl);
        assert_eq!(raw, vec![&json!(1), &json!([2, 3])]);
    }

    #[test]
    fn trailing_wildcard_and_join() {
        assert_eq!(p("a[]").without_trailing_wildcard(), p("a"));
        assert_eq!(p("a").without_trailing_wildcard(), p("a"));
        assert_eq!(p("a.b").join_elements(&p("c[0]")), p("a.b[].c[0]"));
    }
}
