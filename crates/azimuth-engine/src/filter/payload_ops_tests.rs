use super::*;
use serde_json::json;

fn obj(v: Value) -> Payload {
    v.as_object().cloned().expect("object")
}

fn path(s: &str) -> JsonPath {
    JsonPath::parse(s).expect("path")
}

fn set(target: Value, values: Value, key: Option<&str>) -> Value {
    let mut t = obj(target);
    let key = key.map(path);
    set_payload(&mut t, &obj(values), key.as_ref());
    Value::Object(t)
}

#[test]
fn set_without_key_merges_and_null_removes() {
    assert_eq!(
        set(json!({"a": 1, "b": 2}), json!({"b": 3, "c": 4}), None),
        json!({"a": 1, "b": 3, "c": 4})
    );
    assert_eq!(
        set(json!({"a": 1, "b": 2}), json!({"b": null}), None),
        json!({"a": 1})
    );
}

#[test]
fn set_with_key() {
    assert_eq!(
        set(json!({"a": {"x": 1}}), json!({"b": 2}), Some("a")),
        json!({"a": {"x": 1, "b": 2}})
    );
    assert_eq!(
        set(json!({}), json!({"b": 2}), Some("a.c")),
        json!({"a": {"c": {"b": 2}}})
    );
    assert_eq!(
        set(json!({"a": 5}), json!({"b": 2}), Some("a")),
        json!({"a": {"b": 2}})
    );
    assert_eq!(
        set(json!({"a": 5}), json!({"b": 2}), Some("a.c")),
        json!({"a": {"c": {"b": 2}}})
    );
    assert_eq!(
        set(
            json!({"a": [{"x": 1}, 7, {"y": 2}]}),
            json!({"b": 2}),
            Some("a[]")
        ),
        json!({"a": [{"x": 1, "b": 2}, {"b": 2}, {"y": 2, "b": 2}]})
    );
    assert_eq!(
        set(
            json!({"a": [{"c": {}}, {"d": 1}]}),
            json!({"b": 2}),
            Some("a[].c")
        ),
        json!({"a": [{"c": {"b": 2}}, {"d": 1, "c": {"b": 2}}]})
    );
    assert_eq!(
        set(json!({"a": [{}, {}]}), json!({"b": 2}), Some("a[1]")),
        json!({"a": [{}, {"b": 2}]})
    );
    assert_eq!(
        set(json!({"a": [{}]}), json!({"b": 2}), Some("a[5]")),
        json!({"a": [{}]})
    );
    assert_eq!(
        set(json!({}), json!({"b": 2}), Some("a[0].c")),
        json!({"a": []})
    );
    assert_eq!(
        set(json!({"a": {"x": 1}}), json!({"b": 2}), Some("a[]")),
        json!({"a": []})
    );
    assert_eq!(
        set(
            json!({"a": {"b": 1, "c": 2}}),
            json!({"b": null}),
            Some("a")
        ),
        json!({"a": {"c": 2}})
    );
}

#[test]
fn delete_paths() {
    let mut p = obj(
        json!({"a": {"b": 1, "c": 2}, "l": [{"x": 1, "y": 2}, {"x": 3}], "arr": [1, 2], "z": 0}),
    );
    delete_keys(
        &mut p,
        &[
            path("a.b"),
            path("l[].x"),
            path("arr[0]"),
            path("missing.q"),
            path("z"),
        ],
    );
    assert_eq!(
        Value::Object(p.clone()),
        json!({"a": {"c": 2}, "l": [{"y": 2}, {}], "arr": [1, 2]})
    );
    delete_keys(&mut p, &[path("arr[]"), path("l[0].y")]);
    assert_eq!(
        Value::Object(p),
        json!({"a": {"c": 2}, "l": [{}, {}], "arr": []})
    );
}

#[test]
fn select_include_exclude_like_local_mode() {
    let p = obj(
        json!({"a": {"b": 1, "c": 2}, "aa": {"b": 3}, "a.b": 4, "l": [{"b": 5, "c": 6}], "s": 9}),
    );
    let inc = |keys: &[&str]| {
        Value::Object(select(
            &p,
            Some(&keys.iter().map(|k| path(k)).collect::<Vec<_>>()),
            None,
        ))
    };
    let exc = |keys: &[&str]| {
        Value::Object(select(
            &p,
            None,
            Some(&keys.iter().map(|k| path(k)).collect::<Vec<_>>()),
        ))
    };
    assert_eq!(inc(&["a.b"]), json!({"a": {"b": 1}}));
    assert_eq!(
        inc(&["\"a.b\"", "l[].c"]),
        json!({"a.b": 4, "l": [{"c": 6}]})
    );
    assert_eq!(inc(&["a", "a.b"]), json!({"a": {"b": 1, "c": 2}}));
    assert_eq!(inc(&["a.b", "a"]), json!({"a": {"b": 1, "c": 2}}));
    assert_eq!(inc(&["l[0]"]), json!({"l": []}));
    assert_eq!(inc(&["s.x"]), json!({"s": 9}));
    assert_eq!(inc(&[]), json!({}));
    assert_eq!(
        exc(&["a", "l[].b"]),
        json!({"aa": {"b": 3}, "a.b": 4, "l": [{"c": 6}], "s": 9})
    );
    assert_eq!(
        exc(&["l[]"]),
        json!({"a": {"b": 1, "c": 2}, "aa": {"b": 3}, "a.b": 4, "l": [], "s": 9})
    );
    assert_eq!(exc(&["l[0]"]), Value::Object(p.clone()));
    assert_eq!(
        Value::Object(select(&p, None, None)),
        Value::Object(p.clone())
    );
    let both = select(&p, Some(&[path("a")]), Some(&[path("a.c")]));
    assert_eq!(Value::Object(both), json!({"a": {"b": 1}}));
}

#[test]
fn validation_limits() {
    let p = obj(json!({"a": {"b": [1, {"c": 2}]}}));
    assert!(validate_payload(&p, 1000, 4).is_ok());
    let err = validate_payload(&p, 1000, 3).expect_err("too deep");
    assert_eq!(err.kind(), crate::ErrorKind::ResourceExhausted);
    assert!(err.to_string().contains("3 levels"), "{err}");
    let size = serde_json::to_vec(&p).expect("json").len();
    assert!(validate_payload(&p, size, 10).is_ok());
    let err = validate_payload(&p, size - 1, 10).expect_err("too big");
    assert_eq!(err.kind(), crate::ErrorKind::ResourceExhausted);
    assert!(err.to_string().contains(&format!("{size} bytes")), "{err}");
    assert!(validate_payload(&Payload::new(), 2, 1).is_ok());
}
