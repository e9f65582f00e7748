//! Payload edits and projections addressed by key paths: `set_payload` (with an optional
//! `key`), `delete_payload`, `with_payload` include/exclude, and size/depth validation.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Map, Value};

use super::path::{JsonPath, PathSegment};
use crate::error::{Error, Result};
use crate::types::Payload;

/// Merges `values` into `into`: a null value removes the key, anything else replaces it.
fn merge(into: &mut Map<String, Value>, values: &Payload) {
    for (k, v) in values {
        if v.is_null() {
            into.remove(k);
        } else {
            into.insert(k.clone(), v.clone());
        }
    }
}

/// Merges `values` into an object slot, or replaces a non-object with them.
fn merge_into_slot(slot: &mut Value, values: &Payload) {
    match slot {
        Value::Object(map) => merge(map, values),
        other => {
            let mut map = Map::new();
            merge(&mut map, values);
            *other = Value::Object(map);
        }
    }
}

/// `set_payload`: merges `values` into the payload, or, with `key`, into the object(s) at that
/// path. Missing objects on the way are created; a non-object met by a key is replaced by an
/// object; `[n]` or `[]` met by a non-array replaces it with `[]` and stops; `[]` fans out over
/// every element; an out-of-range `[n]` does nothing. A null in `values` removes that key.
pub fn set_payload(target: &mut Payload, values: &Payload, key: Option<&JsonPath>) {
    let Some(key) = key else {
        merge(target, values);
        return;
    };
    let mut root = Value::Object(std::mem::take(target));
    set_at(&mut root, key.segments(), values);
    if let Value::Object(map) = root {
        *target = map;
    }
}

fn set_at(slot: &mut Value, path: &[PathSegment], values: &Payload) {
    let Some((segment, rest)) = path.split_first() else {
        return;
    };
    match (segment, &mut *slot) {
        (PathSegment::Key(k), Value::Object(map)) => {
            let child = map
                .entry(k.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if rest.is_empty() {
                merge_into_slot(child, values);
            } else {
                set_at(child, rest, values);
            }
        }
        (PathSegment::Key(k), _) => {
            let mut map = Map::new();
            map.insert(k.clone(), Value::Object(Map::new()));
            *slot = Value::Object(map);
            if let Some(child) = slot.get_mut(k.as_str()) {
                if rest.is_empty() {
                    merge_into_slot(child, values);
                } else {
                    set_at(child, rest, values);
                }
            }
        }
        (PathSegment::Index(i), Value::Array(items)) => {
            if let Some(item) = usize::try_from(*i).ok().and_then(|i| items.get_mut(i)) {
                set_element(item, rest, values);
            }
        }
        (PathSegment::Wildcard, Value::Array(items)) => {
            for item in items {
                set_element(item, rest, values);
            }
        }
        (PathSegment::Index(_) | PathSegment::Wildcard, _) => *slot = Value::Array(Vec::new()),
    }
}

fn set_element(item: &mut Value, rest: &[PathSegment], values: &Payload) {
    if rest.is_empty() {
        merge_into_slot(item, values);
    } else {
        set_at(item, rest, values);
    }
}

/// `delete_payload`: removes each key path. A path ending in `[]` empties the array; one
/// ending in `[n]` does nothing (deleting by position is not idempotent); missing paths are
/// ignored.
pub fn delete_keys(target: &mut Payload, keys: &[JsonPath]) {
    for key in keys {
        if let Some((PathSegment::Key(first), rest)) = key.segments().split_first() {
            if rest.is_empty() {
                target.remove(first);
            } else if let Some(child) = target.get_mut(first) {
                delete_at(child, rest);
            }
        }
    }
}

fn delete_at(slot: &mut Value, path: &[PathSegment]) {
    let Some((segment, rest)) = path.split_first() else {
        return;
    };
    match (segment, slot) {
        (PathSegment::Key(k), Value::Object(map)) if rest.is_empty() => {
            map.remove(k);
        }
        (PathSegment::Key(k), Value::Object(map)) => {
            if let Some(child) = map.get_mut(k) {
                delete_at(child, rest);
            }
        }
        (PathSegment::Index(i), Value::Array(items)) if !rest.is_empty() => {
            if let Some(item) = usize::try_from(*i).ok().and_then(|i| items.get_mut(i)) {
                delete_at(item, rest);
            }
        }
        (PathSegment::Wildcard, Value::Array(items)) if rest.is_empty() => items.clear(),
        (PathSegment::Wildcard, Value::Array(items)) => {
            for item in items {
                delete_at(item, rest);
            }
        }
        _ => {}
    }
}

/// A merged set of selector paths: each node is either "everything below" or per-step
/// children.
enum Selection {
    All,
    Some(BTreeMap<PathSegment, Selection>),
}

/// Builds the selector tree; a shorter path wins over any longer one it is a prefix of.
fn selection(paths: &[JsonPath]) -> BTreeMap<PathSegment, Selection> {
    let mut root = BTreeMap::new();
    'paths: for path in paths {
        let Some((last, parents)) = path.segments().split_last() else {
            continue;
        };
        let mut node = &mut root;
        for part in parents {
            let entry = node
                .entry(part.clone())
                .or_insert_with(|| Selection::Some(BTreeMap::new()));
            match entry {
                Selection::All => continue 'paths,
                Selection::Some(children) => node = children,
            }
        }
        node.insert(last.clone(), Selection::All);
    }
    root
}

fn include_map(
    map: &Map<String, Value>,
    tree: &BTreeMap<PathSegment, Selection>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in map {
        match tree.get(&PathSegment::Key(k.clone())) {
            Some(Selection::All) => {
                out.insert(k.clone(), v.clone());
            }
            Some(Selection::Some(sub)) => {
                out.insert(k.clone(), include_value(v, sub));
            }
            None => {}
        }
    }
    out
}

/// Only `[]` selects array elements; `[n]` selects nothing from an array.
fn include_value(v: &Value, tree: &BTreeMap<PathSegment, Selection>) -> Value {
    match v {
        Value::Object(map) => Value::Object(include_map(map, tree)),
        Value::Array(items) => match tree.get(&PathSegment::Wildcard) {
            None => Value::Array(Vec::new()),
            Some(Selection::All) => v.clone(),
            Some(Selection::Some(sub)) => {
                Value::Array(items.iter().map(|i| include_value(i, sub)).collect())
            }
        },
        scalar => scalar.clone(),
    }
}

fn exclude_map(
    map: &Map<String, Value>,
    tree: &BTreeMap<PathSegment, Selection>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in map {
        match tree.get(&PathSegment::Key(k.clone())) {
            None => {
                out.insert(k.clone(), v.clone());
            }
            Some(Selection::Some(sub)) => {
                out.insert(k.clone(), exclude_value(v, sub));
            }
            Some(Selection::All) => {}
        }
    }
    out
}

fn exclude_value(v: &Value, tree: &BTreeMap<PathSegment, Selection>) -> Value {
    match v {
        Value::Object(map) => Value::Object(exclude_map(map, tree)),
        Value::Array(items) => match tree.get(&PathSegment::Wildcard) {
            None => v.clone(),
            Some(Selection::All) => Value::Array(Vec::new()),
            Some(Selection::Some(sub)) => {
                Value::Array(items.iter().map(|i| exclude_value(i, sub)).collect())
            }
        },
        scalar => scalar.clone(),
    }
}

/// `with_payload` projection: keep only the `include` paths (if given), then drop the
/// `exclude` paths (if given).
pub fn select(
    payload: &Payload,
    include: Option<&[JsonPath]>,
    exclude: Option<&[JsonPath]>,
) -> Payload {
    let included = include.map(|paths| include_map(payload, &selection(paths)));
    let base = included.as_ref().unwrap_or(payload);
    match exclude {
        Some(paths) => exclude_map(base, &selection(paths)),
        None => included.unwrap_or_else(|| payload.clone()),
    }
}

/// Counts bytes written, to size a payload without building its JSON text.
struct ByteCounter(usize);

impl Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How deeply objects and arrays nest; the payload object itself is level 1. Stops counting
/// past `limit`.
fn nesting_depth(p: &Payload, limit: usize) -> usize {
    let mut deepest = 1;
    let mut stack: Vec<(&Value, usize)> = p.values().map(|v| (v, 2)).collect();
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Object(m) => Box::new(m.values()),
            Value::Array(a) => Box::new(a.iter()),
            _ => continue,
        };
        deepest = deepest.max(depth);
        if deepest > limit {
            return deepest;
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    deepest
}

/// Checks a payload against the size (serialised JSON bytes) and nesting-depth limits.
pub fn validate_payload(p: &Payload, max_bytes: usize, max_depth: usize) -> Result<()> {
    let depth = nesting_depth(p, max_depth);
    if depth > max_depth {
        return Err(Error::ResourceExhausted(format!(
            "payload nests objects/arrays more than {max_depth} levels deep; flatten it"
        )));
    }
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, p)
        .map_err(|e| Error::invalid(format!("payload cannot be serialised: {e}")))?;
    if counter.0 > max_bytes {
        return Err(Error::ResourceExhausted(format!(
            "payload is {} bytes as JSON; at most {max_bytes} bytes are allowed",
            counter.0
        )));
    }
    Ok(())
}

#[cfg(test)]
#[path = "payload_ops_tests.rs"]
mod tests;
