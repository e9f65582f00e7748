use super::*;
use serde_json::json;

struct P {
    id: PointId,
    payload: Payload,
    vectors: Vec<&'static str>,
}

impl PointRef for P {
    fn id(&self) -> &PointId {
        &self.id
    }
    fn payload(&self) -> &Payload {
        &self.payload
    }
    fn has_vector(&self, name: &str) -> bool {
        self.vectors.contains(&name)
    }
}

fn point(payload: Value) -> P {
    P {
        id: PointId::Num(1),
        payload: payload.as_object().cloned().expect("object payload"),
        vectors: vec!["", "image"],
    }
}

fn filter(v: Value) -> Filter {
    Filter::from_json(&v).expect("valid filter")
}

/// Does a single condition (as JSON) hold for the payload?
fn holds(cond: Value, payload: Value) -> bool {
    filter(json!({ "must": [cond] })).matches(&point(payload))
}

#[test]
fn match_value_is_type_strict() {
    let c = |v: Value| json!({"key": "x", "match": {"value": v}});
    assert!(holds(c(json!(1)), json!({"x": 1})));
    assert!(!holds(c(json!(1)), json!({"x": 1.0})));
    assert!(!holds(c(json!(1)), json!({"x": true})));
    assert!(!holds(c(json!(1)), json!({"x": "1"})));
    assert!(holds(c(json!(true)), json!({"x": true})));
    assert!(!holds(c(json!(true)), json!({"x": 1})));
    assert!(holds(c(json!("a")), json!({"x": ["b", "a"]})));
    assert!(!holds(c(json!("A")), json!({"x": "a"})));
    assert!(
        !holds(c(json!("a")), json!({"x": [["a"]]})),
        "flattened one level only"
    );
    assert!(!holds(c(json!("a")), json!({})));
    assert!(holds(c(json!(-5)), json!({"x": -5})));
}

#[test]
fn match_any_and_except() {
    let any = |v: Value| json!({"key": "x", "match": {"any": v}});
    assert!(holds(any(json!(["a", "b"])), json!({"x": "b"})));
    assert!(!holds(any(json!([])), json!({"x": "b"})));
    assert!(holds(any(json!([1, 2])), json!({"x": [5, 2]})));
    assert!(!holds(any(json!([1, 2])), json!({"x": 2.0})));
    let except = |v: Value| json!({"key": "x", "match": {"except": v}});
    assert!(holds(except(json!(["red"])), json!({"x": "blue"})));
    assert!(!holds(except(json!(["red"])), json!({"x": "red"})));
    assert!(
        holds(except(json!(["red"])), json!({"x": ["red", "blue"]})),
        "some value not in list"
    );
    assert!(!holds(except(json!(["red"])), json!({"x": null})));
    assert!(!holds(except(json!(["red"])), json!({"x": []})));
    assert!(!holds(except(json!(["red"])), json!({})));
    assert!(
        holds(except(json!(["red"])), json!({"x": 5})),
        "other types are not in the list"
    );
    assert!(holds(except(json!([])), json!({"x": "red"})));
}

#[test]
fn full_text_prefix_substring() {
    let m = |op: &str, q: &str| json!({"key": "body", "match": {op: q}});
    let doc = json!({"body": "Azimuth is a Vector-DB; vector search!"});
    assert!(holds(m("text", "vector db"), doc.clone()));
    assert!(!holds(m("text", "vector dbs"), doc.clone()));
    assert!(!holds(m("text", "vec"), doc.clone()));
    assert!(holds(m("text_any", "nope search"), doc.clone()));
    assert!(holds(m("phrase", "vector db"), doc.clone()));
    assert!(!holds(m("phrase", "search vector"), doc.clone()));
    assert!(
        holds(m("phrase", "db vector"), doc.clone()),
        "tokens: ... vector db vector search"
    );
    assert!(holds(m("prefix", "Azi"), doc.clone()));
    assert!(!holds(m("prefix", "azi"), doc.clone()));
    assert!(holds(m("substring", "DB; v"), doc.clone()));
    assert!(holds(m("prefix", ""), json!({"body": "x"})));
    assert!(!holds(m("prefix", ""), json!({"body": 1})));
    assert!(!holds(m("text", "1"), json!({"body": 1})));
}

#[test]
fn numeric_ranges() {
    let r = |v: Value| json!({"key": "n", "range": v});
    assert!(holds(r(json!({"gt": 1.0, "lte": 5.5})), json!({"n": 5})));
    assert!(holds(r(json!({"gt": 1.0, "lte": 5.5})), json!({"n": 5.5})));
    assert!(!holds(r(json!({"gt": 1.0})), json!({"n": 1})));
    assert!(holds(r(json!({"gte": 1.0})), json!({"n": 1})));
    assert!(!holds(r(json!({"gte": 0})), json!({"n": true})));
    assert!(!holds(r(json!({"gte": 0})), json!({"n": "5"})));
    assert!(!holds(r(json!({"gte": 0})), json!({"n": null})));
    assert!(!holds(r(json!({"gte": 0})), json!({})));
    assert!(holds(r(json!({"lt": 0})), json!({"n": [3, -1]})));
    assert!(holds(r(json!({})), json!({"n": 3})));
    // Integers are compared exactly, not through f64 rounding.
    assert!(holds(
        r(json!({"gt": 9007199254740992.0})),
        json!({"n": 9007199254740993_i64})
    ));
    assert!(!holds(
        r(json!({"lt": 9007199254740992.0})),
        json!({"n": 9007199254740993_i64})
    ));
    assert!(holds(r(json!({"gt": 1.5e19})), json!({"n": u64::MAX})));
}

#[test]
fn datetime_ranges() {
    let r = json!({"key": "ts", "range": {"gte": "2026-01-01T00:00:00Z", "lt": "2026-02-01"}});
    assert!(holds(r.clone(), json!({"ts": "2026-01-15"})));
    assert!(holds(r.clone(), json!({"ts": "2026-01-01 00:00:00"})));
    assert!(
        holds(r.clone(), json!({"ts": "2026-02-01T01:00:00+02:00"})),
        "23:00 UTC on Jan 31"
    );
    assert!(!holds(r.clone(), json!({"ts": "2026-02-01T00:00:00Z"})));
    assert!(!holds(
        r.clone(),
        json!({"ts": "2025-12-31T23:59:59.999999Z"})
    ));
    assert!(!holds(r.clone(), json!({"ts": "not a date"})));
    assert!(!holds(r.clone(), json!({"ts": 1767225600})));
    assert!(holds(r, json!({"ts": ["garbage", "2026-01-02T03:04"]})));
}

#[test]
fn values_count() {
    let vc = |v: Value| json!({"key": "tags", "values_count": v});
    assert!(holds(vc(json!({"gte": 2})), json!({"tags": ["a", "b"]})));
    assert!(!holds(vc(json!({"gte": 2})), json!({"tags": ["a"]})));
    assert!(holds(vc(json!({"lt": 2})), json!({"tags": "a"})));
    assert!(holds(vc(json!({"lt": 1})), json!({})), "missing counts 0");
    assert!(holds(vc(json!({"lte": 0})), json!({"tags": null})));
    assert!(!holds(vc(json!({"gt": 0})), json!({"tags": []})));
    // Every bound must hold for the same count.
    let per_element = json!({"a": [{"t": [1]}, {"t": [1, 2, 3]}]});
    let both = json!({"key": "a[].t", "values_count": {"gt": 1, "lt": 3}});
    assert!(!holds(both, per_element.clone()));
    assert!(holds(
        json!({"key": "a[].t", "values_count": {"gt": 2}}),
        per_element
    ));
}

#[test]
fn is_empty_and_is_null() {
    let empty = |p: Value| holds(json!({"is_empty": {"key": "x"}}), p);
    assert!(empty(json!({})));
    assert!(empty(json!({"x": null})));
    assert!(empty(json!({"x": []})));
    assert!(
        !empty(json!({"x": [null]})),
        "an array holding null is not empty"
    );
    assert!(!empty(json!({"x": 0})));
    assert!(!empty(json!({"x": ""})));
    assert!(!empty(json!({"x": {}})));
    let null = |p: Value| holds(json!({"is_null": {"key": "x"}}), p);
    assert!(null(json!({"x": null})));
    assert!(null(json!({"x": [1, null]})));
    assert!(!null(json!({})), "missing is not null");
    assert!(!null(json!({"x": []})));
    assert!(!null(json!({"x": [[null]]})));
    // The field-condition shorthands compare with the flag.
    assert!(holds(
        json!({"key": "x", "is_empty": false}),
        json!({"x": 1})
    ));
    assert!(!holds(json!({"key": "x", "is_empty": false}), json!({})));
    assert!(holds(json!({"key": "x", "is_null": false}), json!({})));
    assert!(holds(json!({"key": "x", "is_empty": true}), json!({})));
}

#[test]
fn geo_conditions() {
    let loc = json!({"loc": {"lon": 13.4, "lat": 52.5}});
    let radius = json!({"key": "loc", "geo_radius": {"center": {"lon": 13.41, "lat": 52.5}, "radius": 1000.0}});
    assert!(holds(radius.clone(), loc.clone()));
    assert!(!holds(radius, json!({"loc": {"lon": 14.4, "lat": 52.5}})));
    let bbox = json!({"key": "loc", "geo_bounding_box": {
        "top_left": {"lon": 13.0, "lat": 53.0}, "bottom_right": {"lon": 14.0, "lat": 52.0}}});
    assert!(holds(bbox.clone(), loc.clone()));
    assert!(holds(
        bbox.clone(),
        json!({"loc": [{"lon": 0, "lat": 0}, {"lon": 13.5, "lat": 52.5}]})
    ));
    assert!(!holds(bbox, json!({"loc": "13.4,52.5"})));
    let poly = json!({"key": "loc", "geo_polygon": {"exterior": {"points": [
        {"lon": 13.0, "lat": 52.0}, {"lon": 14.0, "lat": 52.0}, {"lon": 14.0, "lat": 53.0},
        {"lon": 13.0, "lat": 52.0}]}}});
    assert!(holds(
        poly.clone(),
        json!({"loc": {"lon": 13.9, "lat": 52.1}})
    ));
    assert!(!holds(poly, json!({"loc": {"lon": 13.1, "lat": 52.9}})));
}

#[test]
fn clauses_combine() {
    let p = point(json!({"a": 1, "b": "x"}));
    let a1 = json!({"key": "a", "match": {"value": 1}});
    let a2 = json!({"key": "a", "match": {"value": 2}});
    assert!(filter(json!({})).matches(&p));
    assert!(
        filter(json!({"should": []})).matches(&p),
        "empty should = no constraint"
    );
    assert!(filter(json!({"should": [a2.clone(), a1.clone()]})).matches(&p));
    assert!(!filter(json!({"should": a2.clone()})).matches(&p));
    assert!(filter(json!({"must_not": [a2.clone()]})).matches(&p));
    assert!(!filter(json!({"must_not": [a2.clone(), a1.clone()]})).matches(&p));
    let ms = |n: u64| json!({"min_should": {"conditions": [a1.clone(), a2.clone(), a1.clone()], "min_count": n}});
    assert!(filter(ms(2)).matches(&p));
    assert!(!filter(ms(3)).matches(&p));
    assert!(!filter(json!({"must": [{"should": [a2.clone()]}, a1.clone()]})).matches(&p));
    assert!(filter(json!({"must": [{"must_not": [a2]}]})).matches(&p));
    assert!(
        filter(json!({"must": {}})).matches(&p),
        "an empty sub-filter matches"
    );
}

#[test]
fn ids_vectors_slices() {
    let mut p = point(json!({}));
    p.id = PointId::parse_uuid("5c56c793-69f3-4fbf-87e6-c4bf54c28c26").expect("uuid");
    let has = |ids: Value| json!({"must": [{"has_id": ids}]});
    assert!(filter(has(json!(["5C56C79369F34FBF87E6C4BF54C28C26"]))).matches(&p));
    assert!(filter(has(json!(["{5c56c793-69f3-4fbf-87e6-c4bf54c28c26}", 3]))).matches(&p));
    assert!(!filter(has(json!([1, 2]))).matches(&p));
    p.id = PointId::Str("doc-1".into());
    assert!(filter(has(json!(["doc-1"]))).matches(&p));
    assert!(filter(json!({"must": {"has_vector": "image"}})).matches(&p));
    assert!(filter(json!({"must": {"has_vector": ""}})).matches(&p));
    assert!(!filter(json!({"must": {"has_vector": "audio"}})).matches(&p));
    p.id = PointId::Num(7);
    let hits = (0..4)
        .filter(|i| filter(json!({"must": {"slice": {"total": 4, "index": i}}})).matches(&p))
        .count();
    assert_eq!(hits, 1, "a point is in exactly one slice");
}

#[test]
fn nested_needs_one_element_to_satisfy_everything() {
    let doc = json!({"diet": [
        {"food": "meat", "likes": false},
        {"food": "veg", "likes": true}
    ]});
    let nested = |key: &str, must: Value| json!({"nested": {"key": key, "filter": {"must": must}}});
    let meat_liked = json!([{"key": "food", "match": {"value": "meat"}},
                            {"key": "likes", "match": {"value": true}}]);
    assert!(!holds(nested("diet", meat_liked.clone()), doc.clone()));
    assert!(!holds(nested("diet[]", meat_liked), doc.clone()));
    let veg_liked = json!([{"key": "food", "match": {"value": "veg"}},
                           {"key": "likes", "match": {"value": true}}]);
    assert!(holds(nested("diet", veg_liked.clone()), doc.clone()));
    assert!(holds(nested("diet[]", veg_liked.clone()), doc.clone()));
    // A flat array condition would accept the mix of elements.
    assert!(holds(
        json!({"key": "diet[].food", "match": {"value": "meat"}}),
        doc.clone()
    ));
    // Not an array of objects: nothing to check.
    assert!(!holds(
        nested("diet", veg_liked.clone()),
        json!({"diet": {"food": "veg", "likes": true}})
    ));
    // Vectors are not visible inside a nested filter.
    assert!(!holds(
        nested("diet", json!([{"has_vector": ""}])),
        doc.clone()
    ));
    assert!(holds(nested("diet", json!([])), doc));
}

#[test]
fn multiple_operators_all_hold() {
    let c = json!({"key": "n", "match": {"value": 3}, "range": {"gt": 5.0}});
    assert!(!holds(c, json!({"n": 3})));
    let c = json!({"key": "n", "match": {"value": 3}, "range": {"gt": 1.0}});
    assert!(holds(c, json!({"n": 3})));
    let no_operator = FieldCondition::new(JsonPath::key("n"));
    let payload = point(json!({"n": 3})).payload;
    assert!(!no_operator.holds(&payload));
}

#[test]
fn works_through_dyn() {
    let p = point(json!({"a": 1}));
    let d: &dyn PointRef = &p;
    assert!(filter(json!({"must": {"key": "a", "match": {"value": 1}}})).matches(d));
}
