use super::*;
use crate::filter::{FieldSchema, JsonPath};
use crate::types::Payload;
use serde_json::json;

fn rows(n: usize) -> Vec<Payload> {
    (0..n)
        .map(|i| {
            json!({"city": format!("c{}", i % 10), "n": i, "tags": [format!("t{}", i % 3)],
                   "items": [{"sku": format!("s{i}")}]})
            .as_object()
            .cloned()
            .expect("object")
        })
        .collect()
}

fn setup(n: usize) -> (Vec<Payload>, PayloadIndexes) {
    let data = rows(n);
    let mut idx = PayloadIndexes::new();
    for (key, schema) in [
        ("city", FieldSchema::Keyword),
        ("n", FieldSchema::Integer),
        ("items[].sku", FieldSchema::Keyword),
    ] {
        let key = JsonPath::parse(key).expect("path");
        idx.create_field(
            key,
            schema,
            data.iter().enumerate().map(|(i, p)| (i as u32, p)),
        );
    }
    (data, idx)
}

fn f(v: serde_json::Value) -> Filter {
    Filter::from_json(&v).expect("filter")
}

#[test]
fn picks_cheapest_must_condition() {
    let (_, idx) = setup(100);
    let filter = f(json!({"must": [
        {"key": "city", "match": {"value": "c3"}},
        {"key": "n", "range": {"gte": 10, "lt": 13}},
        {"key": "tags", "match": {"value": "t1"}}
    ]}));
    // Numeric index bounds are inclusive (a superset); `matches` drops row 13.
    assert_eq!(
        plan(&filter, &idx, 100),
        Plan::Candidates(vec![10, 11, 12, 13])
    );
    let est = estimate(&filter, &idx, 100);
    assert!(
        est.min <= est.expected && est.expected <= est.max && est.max <= 4,
        "{est:?}"
    );
}

#[test]
fn broad_or_unindexed_filters_scan() {
    let (_, idx) = setup(100);
    assert_eq!(plan(&f(json!({})), &idx, 100), Plan::FullScan);
    let unindexed = f(json!({"must": {"key": "tags", "match": {"value": "t1"}}}));
    assert_eq!(plan(&unindexed, &idx, 100), Plan::FullScan);
    let broad = f(json!({"must": {"key": "n", "range": {"gte": 10}}}));
    assert_eq!(plan(&broad, &idx, 100), Plan::FullScan);
    let must_not = f(json!({"must_not": {"key": "city", "match": {"value": "c1"}}}));
    assert_eq!(plan(&must_not, &idx, 100), Plan::FullScan);
    let est = estimate(&must_not, &idx, 100);
    assert_eq!((est.min, est.expected, est.max), (90, 90, 100));
}

#[test]
fn should_needs_every_branch_indexed() {
    let (_, idx) = setup(100);
    let both = f(json!({"should": [
        {"key": "n", "match": {"value": 5}}, {"key": "n", "match": {"value": 50}}
    ]}));
    assert_eq!(plan(&both, &idx, 100), Plan::Candidates(vec![5, 50]));
    let half = f(json!({"should": [
        {"key": "n", "match": {"value": 5}}, {"key": "tags", "match": {"value": "t1"}}
    ]}));
    assert_eq!(plan(&half, &idx, 100), Plan::FullScan);
    let min_should = f(json!({"min_should": {"min_count": 1, "conditions": [
        {"key": "n", "match": {"value": 7}}, {"key": "n", "match": {"any": [8, 9]}}
    ]}}));
    assert_eq!(
        plan(&min_should, &idx, 100),
        Plan::Candidates(vec![7, 8, 9])
    );
}

#[test]
fn nested_and_sub_filters_use_indexes() {
    let (_, idx) = setup(100);
    let nested = f(
        json!({"must": {"nested": {"key": "items", "filter": {"must": [
        {"key": "sku", "match": {"value": "s42"}}]}}}}),
    );
    assert_eq!(plan(&nested, &idx, 100), Plan::Candidates(vec![42]));
    let sub = f(json!({"must": {"must": {"key": "city", "match": {"value": "c4"}}}}));
    let Plan::Candidates(rows) = plan(&sub, &idx, 100) else {
        panic!("expected candidates")
    };
    assert_eq!(rows.len(), 10);
}

#[test]
fn estimates_combine_sensibly() {
    let (_, idx) = setup(100);
    let has_id = f(json!({"must": {"has_id": [1, 2, 3]}}));
    assert_eq!(estimate(&has_id, &idx, 100).max, 3);
    let unknown = estimate(&f(json!({"must": {"is_empty": {"key": "x"}}})), &idx, 100);
    assert_eq!((unknown.min, unknown.max), (0, 100));
    let or = estimate(
        &f(json!({"should": [
            {"key": "city", "match": {"value": "c1"}}, {"key": "city", "match": {"value": "c2"}}
        ]})),
        &idx,
        100,
    );
    assert!(
        or.max == 20 && or.expected <= 20 && or.expected >= 10,
        "{or:?}"
    );
    assert_eq!(estimate(&f(json!({})), &idx, 100), Cardinality::exact(100));
    assert_eq!(estimate(&has_id, &idx, 0), Cardinality::exact(0));
}
