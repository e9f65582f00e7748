use super::*;
use crate::filter::Filter;
use serde_json::json;

fn payloads() -> Vec<Payload> {
    [
        json!({"k": "apple", "n": 1, "f": 1.5, "b": true, "ts": "2026-01-01T00:00:00Z",
               "u": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "geo": {"lon": 13.4, "lat": 52.5},
               "t": "Vector databases are fast"}),
        json!({"k": ["apricot", "banana"], "n": [2, 3.0], "f": -0.0, "b": false,
               "ts": "2026-02-01", "u": "not-a-uuid", "geo": [{"lon": 0, "lat": 0}],
               "t": "slow DATABASES"}),
        json!({"k": null, "n": "7", "f": 9007199254740993_i64, "b": "true", "ts": 5,
               "geo": "52.5,13.4", "t": ["vector", "search"]}),
        json!({}),
    ]
    .into_iter()
    .map(|v| v.as_object().cloned().expect("object"))
    .collect()
}

fn indexes(p: &[Payload]) -> PayloadIndexes {
    let mut idx = PayloadIndexes::new();
    let fields = [
        ("k", FieldSchema::Keyword),
        ("n", FieldSchema::Integer),
        ("f", FieldSchema::Float),
        ("b", FieldSchema::Bool),
        ("ts", FieldSchema::Datetime),
        ("u", FieldSchema::Uuid),
        ("geo", FieldSchema::Geo),
        ("t", FieldSchema::Text),
    ];
    for (name, schema) in fields {
        idx.create_field(
            JsonPath::key(name),
            schema,
            p.iter().enumerate().map(|(i, p)| (i as u32, p)),
        );
    }
    idx
}

/// The rows the index proposes for a single condition, or None when it can't serve it.
fn lookup(idx: &PayloadIndexes, cond: serde_json::Value) -> Option<Vec<u32>> {
    let f = Filter::from_json(&json!({"must": [cond]})).expect("filter");
    let Some(crate::filter::Condition::Field(fc)) = f.must.first() else {
        panic!("field")
    };
    idx.source(fc).map(|s| s.rows())
}

#[test]
fn counts_rows_with_indexed_values() {
    let p = payloads();
    let idx = indexes(&p);
    let counts: Vec<(String, &str, usize)> = idx
        .fields()
        .into_iter()
        .map(|(k, s, n)| (k.to_string(), s.name(), n))
        .collect();
    let expect = [
        ("b", "bool", 2),
        ("f", "float", 3),
        ("geo", "geo", 2),
        ("k", "keyword", 2),
        ("n", "integer", 2),
        ("t", "text", 3),
        ("ts", "datetime", 2),
        ("u", "uuid", 1),
    ];
    let expect: Vec<_> = expect
        .iter()
        .map(|(k, s, n)| (k.to_string(), *s, *n))
        .collect();
    assert_eq!(counts, expect);
}

#[test]
fn lookups_are_supersets_of_matches() {
    let p = payloads();
    let idx = indexes(&p);
    let cases = [
        (
            json!({"key": "k", "match": {"value": "banana"}}),
            Some(vec![1]),
        ),
        (
            json!({"key": "k", "match": {"any": ["apple", "banana", "zz"]}}),
            Some(vec![0, 1]),
        ),
        (
            json!({"key": "k", "match": {"prefix": "ap"}}),
            Some(vec![0, 1]),
        ),
        (
            json!({"key": "k", "match": {"substring": "nan"}}),
            Some(vec![1]),
        ),
        (json!({"key": "k", "match": {"except": ["apple"]}}), None),
        (json!({"key": "n", "match": {"value": 3}}), Some(vec![])),
        (json!({"key": "n", "match": {"value": 2}}), Some(vec![1])),
        (json!({"key": "n", "range": {"gte": 2.5}}), Some(vec![1])),
        (
            json!({"key": "f", "range": {"gte": 0.0, "lte": 0.0}}),
            Some(vec![1]),
        ),
        (
            json!({"key": "f", "range": {"gt": 9007199254740992.0}}),
            Some(vec![2]),
        ),
        (json!({"key": "f", "match": {"value": 1}}), None),
        (json!({"key": "b", "match": {"value": true}}), Some(vec![0])),
        (
            json!({"key": "ts", "range": {"gt": "2026-01-01T00:00:00Z"}}),
            Some(vec![1]),
        ),
        (json!({"key": "ts", "range": {"gte": 0}}), None),
        (
            json!({"key": "u", "match": {"value": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"}}),
            Some(vec![0]),
        ),
        (json!({"key": "u", "match": {"value": "not-a-uuid"}}), None),
        (
            json!({"key": "t", "match": {"text": "DATABASES vector"}}),
            Some(vec![0]),
        ),
        (
            json!({"key": "t", "match": {"text": "databases"}}),
            Some(vec![0, 1]),
        ),
        (
            json!({"key": "t", "match": {"phrase": "vector search"}}),
            Some(vec![2]),
        ),
        (
            json!({"key": "t", "match": {"text_any": "search slow"}}),
            Some(vec![1, 2]),
        ),
        (json!({"key": "t", "match": {"text": " "}}), Some(vec![])),
        (
            json!({"key": "geo", "geo_radius": {"center": {"lon": 13.4, "lat": 52.5}, "radius": 10.0}}),
            Some(vec![0]),
        ),
        (
            json!({"key": "geo", "geo_bounding_box": {"top_left": {"lon": -1, "lat": 1},
                "bottom_right": {"lon": 1, "lat": -1}}}),
            Some(vec![1]),
        ),
        (json!({"key": "missing", "match": {"value": 1}}), None),
    ];
    for (cond, want) in cases {
        assert_eq!(lookup(&idx, cond.clone()), want, "{cond}");
    }
}

#[test]
fn insert_remove_and_drop() {
    let p = payloads();
    let mut idx = indexes(&p);
    let extra = json!({"k": "banana", "n": 2})
        .as_object()
        .cloned()
        .expect("object");
    idx.insert(9, &extra);
    let banana = json!({"key": "k", "match": {"value": "banana"}});
    assert_eq!(lookup(&idx, banana.clone()), Some(vec![1, 9]));
    idx.remove(1, &p[1]);
    assert_eq!(lookup(&idx, banana.clone()), Some(vec![9]));
    assert_eq!(
        lookup(&idx, json!({"key": "n", "range": {"gte": 2.5}})),
        Some(vec![])
    );
    idx.remove(9, &extra);
    assert_eq!(lookup(&idx, banana.clone()), Some(vec![]));
    let k = JsonPath::key("k");
    assert_eq!(idx.schema(&k), Some(FieldSchema::Keyword));
    assert!(idx.drop_field(&k));
    assert!(!idx.drop_field(&k));
    assert_eq!(lookup(&idx, banana), None);
}
