use super::*;
use serde_json::json;

fn parse(v: Value) -> Filter {
    Filter::from_json(&v).expect("valid filter")
}

fn error(v: Value) -> String {
    let err = Filter::from_json(&v).expect_err("must be rejected");
    assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument, "{err}");
    err.to_string()
}

fn key(s: &str) -> JsonPath {
    JsonPath::parse(s).expect("path")
}

#[test]
fn clause_forms() {
    let c = json!({"key": "a", "match": {"value": "x"}});
    let single = parse(json!({"must": c.clone()}));
    let list = parse(json!({"must": [c.clone()]}));
    assert_eq!(single, list);
    assert_eq!(single.must.len(), 1);
    assert!(parse(json!({})).is_empty());
    assert!(parse(json!({"must": null, "should": [], "min_should": null})).is_empty());
    let f = parse(json!({"must_not": [c.clone(), {"must": [c]}]}));
    assert!(matches!(f.must_not[1], Condition::Filter(_)));
}

#[test]
fn field_condition_model() {
    let f = parse(json!({"must": [
        {"key": "n", "range": {"gt": 1.0, "lte": 5}},
        {"key": "ts", "range": {"gte": "1970-01-02"}},
        {"key": "tags", "values_count": {"gte": 2}},
        {"key": "c", "match": {"except": ["red", "blue"]}},
        {"key": "opt", "is_empty": true},
        {"key": "a[].b", "match": {"any": [1, 2]}}
    ]}));
    let field = |i: usize| match &f.must[i] {
        Condition::Field(fc) => fc.clone(),
        other => panic!("not a field condition: {other:?}"),
    };
    assert_eq!(
        field(0).range,
        Some(Range::Number {
            gt: Some(1.0),
            gte: None,
            lt: None,
            lte: Some(5.0)
        })
    );
    assert_eq!(
        field(1).range,
        Some(Range::Datetime {
            gt: None,
            gte: Some(86_400_000_000),
            lt: None,
            lte: None
        })
    );
    assert_eq!(
        field(2).values_count,
        Some(ValuesCount {
            gte: Some(2),
            ..Default::default()
        })
    );
    assert_eq!(
        field(3).r#match,
        Some(Match::Except(vec![
            ScalarValue::Keyword("red".into()),
            ScalarValue::Keyword("blue".into())
        ]))
    );
    assert_eq!(field(4).is_empty, Some(true));
    assert_eq!(field(5).key, key("a[].b"));
    assert_eq!(
        field(5).r#match,
        Some(Match::Any(vec![
            ScalarValue::Integer(1),
            ScalarValue::Integer(2)
        ]))
    );
}

#[test]
fn has_id_spellings() {
    let f = parse(json!({"must": {"has_id": [
        1, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "5C56C79369F34FBF87E6C4BF54C28C26",
        "urn:uuid:5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "chroma-id"
    ]}}));
    let Condition::HasId(ids) = &f.must[0] else {
        panic!("not has_id")
    };
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&PointId::Num(1)));
    assert!(ids.contains(&PointId::Str("chroma-id".into())));
}

#[test]
fn errors_name_the_problem_and_place() {
    let msg = error(json!({"must": [{}, {}, {"key": "a", "mach": {"value": 1}}]}));
    assert!(
        msg.contains("unknown filter operator \"mach\" in condition must[2]"),
        "{msg}"
    );
    let msg = error(json!({"must": [{"should": [{"key": "a"}]}]}));
    assert!(
        msg.contains("has no operator") && msg.contains("must[0].should[0]"),
        "{msg}"
    );
    let msg = error(json!({"musts": []}));
    assert!(msg.contains("unknown filter field \"musts\""), "{msg}");
    let msg = error(json!({"must": {"match": {"value": 1}}}));
    assert!(msg.contains("needs a \"key\""), "{msg}");
    let msg = error(json!({"must": {"frobnicate": 1}}));
    assert!(msg.contains("unknown condition \"frobnicate\""), "{msg}");
    let msg = error(json!({"must": {"key": "a..b", "match": {"value": 1}}}));
    assert!(msg.contains("invalid key path"), "{msg}");
    let msg = error(json!({"must": {"key": "ts", "range": {"gte": "yesterday"}}}));
    assert!(
        msg.contains("\"yesterday\" is not a supported datetime"),
        "{msg}"
    );
}

#[test]
fn rejects_malformed_operators() {
    for bad in [
        json!({"must": 5}),
        json!({"must": [{"key": "a", "match": {"value": 1.5}}]}),
        json!({"must": [{"key": "a", "match": {"value": 1, "any": [1]}}]}),
        json!({"must": [{"key": "a", "match": {"any": [1, "a"]}}]}),
        json!({"must": [{"key": "a", "match": {"any": [true]}}]}),
        json!({"must": [{"key": "a", "match": {"fuzzy": "x"}}]}),
        json!({"must": [{"key": "a", "match": {"text": 3}}]}),
        json!({"must": [{"key": "a", "range": {"gt": 1, "lt": "2026-01-01"}}]}),
        json!({"must": [{"key": "a", "range": {"between": 1}}]}),
        json!({"must": [{"key": "a", "range": {"gt": true}}]}),
        json!({"must": [{"key": "a", "values_count": {"gt": -1}}]}),
        json!({"must": [{"key": "a", "is_empty": "yes"}]}),
        json!({"must": [{"key": 3, "match": {"value": 1}}]}),
        json!({"must": [{"is_empty": {"key": "a", "x": 1}}]}),
        json!({"must": [{"is_null": "a"}]}),
        json!({"must": [{"has_id": [-1]}]}),
        json!({"must": [{"has_id": [1.5]}]}),
        json!({"must": [{"has_id": 1}]}),
        json!({"must": [{"has_vector": 1}]}),
        json!({"must": [{"has_vector": "a", "has_id": [1]}]}),
        json!({"must": [{"nested": {"key": "a", "filter": {"must": [{"has_id": [1]}]}}}]}),
        json!({"must": [{"nested": {"key": "a", "filter": {"should": {"must": {"has_id": [1]}}}}}]}),
        json!({"must": [{"nested": {"key": "a"}}]}),
        json!({"must": [{"slice": {"total": 0, "index": 0}}]}),
        json!({"must": [{"slice": {"total": 2, "index": 2}}]}),
        json!({"min_should": {"conditions": [], "min_count": 0}}),
        json!({"min_should": {"conditions": []}}),
        json!({"min_should": {"conditions": [], "min_count": 1, "extra": 1}}),
        json!({"must": [{"key": "l", "geo_radius": {"center": {"lon": 0, "lat": 91}, "radius": 1}}]}),
        json!({"must": [{"key": "l", "geo_radius": {"center": {"lon": 0, "lat": 0}}}]}),
        json!({"must": [{"key": "l", "geo_bounding_box": {"top_left": {"lon": 0, "lat": 0}}}]}),
        json!({"must": [{"key": "l", "geo_polygon": {"exterior": {"points": [
            {"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 0, "lat": 0}]}}}]}),
        json!({"must": [{"key": "l", "geo_polygon": {"exterior": {"points": [
            {"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1}, {"lon": 0, "lat": 1}]}}}]}),
        json!({"must": [{"key": "l", "geo_polygon": {"exterior": {"points": [
            {"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1}, {"lon": 0, "lat": 0}]},
            "interiors": [{"points": []}]}}]}),
    ] {
        error(bad);
    }
}

#[test]
fn caps_nesting_depth() {
    let mut deep = json!({"must": []});
    for _ in 0..MAX_FILTER_DEPTH {
        deep = json!({"must": [deep]});
    }
    let msg = error(deep);
    assert!(msg.contains("nest deeper"), "{msg}");
    let mut ok = json!({});
    for _ in 0..MAX_FILTER_DEPTH - 1 {
        ok = json!({"must": ok});
    }
    parse(ok);
}

#[test]
fn geo_polygon_with_holes() {
    let ring = |c: f64, w: f64| {
        json!({"points": [{"lon": c - w, "lat": c - w}, {"lon": c + w, "lat": c - w},
                          {"lon": c + w, "lat": c + w}, {"lon": c - w, "lat": c - w}]})
    };
    let f = parse(json!({"must": {"key": "l", "geo_polygon": {
        "exterior": ring(0.0, 10.0), "interiors": [ring(0.0, 1.0)]}}}));
    let Condition::Field(fc) = &f.must[0] else {
        panic!("field")
    };
    let poly = fc.geo_polygon.as_ref().expect("polygon");
    assert_eq!(poly.exterior.len(), 4);
    assert_eq!(poly.interiors.len(), 1);
}
