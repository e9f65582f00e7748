//! Property tests for payload filters: evaluation, payload indexes and the planner against a
//! separate reference evaluator that walks the filter JSON and payload JSON directly.
//!
//! The reference follows Qdrant local mode's semantics written out plainly; it shares no code
//! with `azimuth_engine::filter`. Geo shapes in the generated filters are axis-aligned
//! rectangles on an integer grid while points sit on a half-integer grid, so no point ever
//! lies on a shape's edge and the reference can use plain rectangle tests.

use std::collections::BTreeSet;

use azimuth_engine::filter::{plan, FieldSchema, Filter, JsonPath, PayloadIndexes, Plan, PointRef};
use azimuth_engine::{Payload, PointId};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------------------------------------
// Reference evaluator
// ---------------------------------------------------------------------------------------------

mod reference {
    use super::*;

    pub struct Point<'a> {
        pub id: u64,
        pub vectors: &'a [String],
    }

    enum Seg {
        Key(String),
        Idx(usize),
        All,
    }

    fn parse_path(s: &str) -> Vec<Seg> {
        let chars: Vec<char> = s.chars().collect();
        let mut segs = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '.' => i += 1,
                '"' => {
                    let end = i + 1 + chars[i + 1..].iter().position(|&c| c == '"').unwrap();
                    segs.push(Seg::Key(chars[i + 1..end].iter().collect()));
                    i = end + 1;
                }
                '[' => {
                    let end = i + chars[i..].iter().position(|&c| c == ']').unwrap();
                    let inner: String = chars[i + 1..end].iter().collect();
                    segs.push(if inner.is_empty() {
                        Seg::All
                    } else {
                        Seg::Idx(inner.parse().unwrap())
                    });
                    i = end + 1;
                }
                _ => {
                    let start = i;
                    while i < chars.len() && !matches!(chars[i], '.' | '[') {
                        i += 1;
                    }
                    segs.push(Seg::Key(chars[start..i].iter().collect()));
                }
            }
        }
        segs
    }

    fn resolve<'a>(v: &'a Value, segs: &[Seg], out: &mut Vec<&'a Value>) {
        let Some(first) = segs.first() else {
            out.push(v);
            return;
        };
        match (first, v) {
            (Seg::Key(k), Value::Object(m)) => {
                if let Some(c) = m.get(k) {
                    resolve(c, &segs[1..], out)
                }
            }
            (Seg::Idx(i), Value::Array(a)) => {
                if let Some(c) = a.get(*i) {
                    resolve(c, &segs[1..], out)
                }
            }
            (Seg::All, Value::Array(a)) => a.iter().for_each(|c| resolve(c, &segs[1..], out)),
            _ => {}
        }
    }

    /// Values at `key`; with `flat`, arrays are unwrapped one level.
    fn values<'a>(payload: &'a Value, key: &str, flat: bool) -> Vec<&'a Value> {
        let mut raw = Vec::new();
        resolve(payload, &parse_path(key), &mut raw);
        if !flat {
            return raw;
        }
        let mut out = Vec::new();
        for v in raw {
            match v {
                Value::Array(a) => out.extend(a.iter()),
                other => out.push(other),
            }
        }
        out
    }

    fn list(v: Option<&Value>) -> Vec<&Value> {
        match v {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(a)) => a.iter().collect(),
            Some(other) => vec![other],
        }
    }

    pub fn filter(f: &Value, payload: &Value, pt: Option<&Point>) -> bool {
        let must = list(f.get("must"))
            .into_iter()
            .all(|c| condition(c, payload, pt));
        let must_not = list(f.get("must_not"))
            .into_iter()
            .any(|c| condition(c, payload, pt));
        let should = list(f.get("should"));
        let should_ok = should.is_empty() || should.into_iter().any(|c| condition(c, payload, pt));
        let min_ok = match f.get("min_should") {
            Some(m) => {
                let hits = list(m.get("conditions"))
                    .into_iter()
                    .filter(|c| condition(c, payload, pt))
                    .count();
                hits as u64 >= m["min_count"].as_u64().unwrap()
            }
            None => true,
        };
        must && !must_not && should_ok && min_ok
    }

    fn condition(c: &Value, payload: &Value, pt: Option<&Point>) -> bool {
        if c.get("key").is_some() {
            return field(c, payload);
        }
        if let Some(e) = c.get("is_empty") {
            return is_empty(payload, e["key"].as_str().unwrap());
        }
        if let Some(e) = c.get("is_null") {
            return is_null(payload, e["key"].as_str().unwrap());
        }
        if let Some(ids) = c.get("has_id") {
            let ids: Vec<u64> = ids
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap())
                .collect();
            return pt.is_some_and(|p| ids.contains(&p.id));
        }
        if let Some(name) = c.get("has_vector") {
            return pt.is_some_and(|p| p.vectors.iter().any(|v| v == name.as_str().unwrap()));
        }
        if let Some(n) = c.get("nested") {
            let key = n["key"].as_str().unwrap();
            let key = key.strip_suffix("[]").unwrap_or(key);
            return values(payload, key, false)
                .into_iter()
                .filter_map(Value::as_array)
                .flatten()
                .filter(|e| e.is_object())
                .any(|e| filter(&n["filter"], e, None));
        }
        filter(c, payload, pt)
    }

    fn is_empty(payload: &Value, key: &str) -> bool {
        values(payload, key, false)
            .into_iter()
            .all(|v| v.is_null() || v.as_array().is_some_and(|a| a.is_empty()))
    }

    fn is_null(payload: &Value, key: &str) -> bool {
        values(payload, key, false)
            .into_iter()
            .any(|v| v.is_null() || v.as_array().is_some_and(|a| a.iter().any(Value::is_null)))
    }

    fn field(c: &Value, payload: &Value) -> bool {
        let key = c["key"].as_str().unwrap();
        let vals = values(payload, key, true);
        let any = |pred: &dyn Fn(&Value) -> bool| vals.iter().any(|v| pred(v));
        let mut ok = true;
        if let Some(vc) = c.get("values_count") {
            let raw = values(payload, key, false);
            let counts: Vec<u64> = if raw.iter().all(|v| v.is_null()) {
                vec![0]
            } else {
                raw.iter()
                    .map(|v| match v {
                        Value::Null => 0,
                        Value::Array(a) => a.len() as u64,
                        _ => 1,
                    })
                    .collect()
            };
            let bound = |name: &str, n: u64, f: fn(u64, u64) -> bool| {
                vc.get(name).is_none_or(|b| f(n, b.as_u64().unwrap()))
            };
            ok &= counts.iter().any(|&n| {
                bound("lt", n, |a, b| a < b)
                    && bound("lte", n, |a, b| a <= b)
                    && bound("gt", n, |a, b| a > b)
                    && bound("gte", n, |a, b| a >= b)
            });
        }
        if let Some(b) = c.get("is_empty") {
            ok &= is_empty(payload, key) == b.as_bool().unwrap();
        }
        if let Some(b) = c.get("is_null") {
            ok &= is_null(payload, key) == b.as_bool().unwrap();
        }
        if let Some(m) = c.get("match") {
            ok &= any(&|v| match_one(m, v));
        }
        if let Some(r) = c.get("range") {
            ok &= any(&|v| range_one(r, v));
        }
        if let Some(g) = c.get("geo_radius") {
            ok &= any(&|v| {
                geo(v).is_some_and(|(lon, lat)| {
                    haversine(lon, lat, &g["center"]) < g["radius"].as_f64().unwrap()
                })
            });
        }
        if let Some(g) = c.get("geo_bounding_box") {
            ok &= any(&|v| geo(v).is_some_and(|p| in_box(p, g)));
        }
        if let Some(g) = c.get("geo_polygon") {
            ok &= any(&|v| geo(v).is_some_and(|p| in_polygon(p, g)));
        }
        ok
    }

    /// Type-strict scalar equality, the way Qdrant distinguishes bool / int / float / string.
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::String(x), Value::String(y)) => x == y,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Number(x), Value::Number(y)) => {
                !x.is_f64() && !y.is_f64() && x.as_i64() == y.as_i64()
            }
            _ => false,
        }
    }

    fn words(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        for ch in s.chars() {
            if ch.is_alphanumeric() {
                cur.push(ch);
            } else if !cur.is_empty() {
                out.push(cur.to_lowercase());
                cur.clear();
            }
        }
        if !cur.is_empty() {
            out.push(cur.to_lowercase());
        }
        out
    }

    fn match_one(m: &Value, v: &Value) -> bool {
        let s = v.as_str();
        if let Some(x) = m.get("value") {
            return same(x, v);
        }
        if let Some(xs) = m.get("any") {
            return xs.as_array().unwrap().iter().any(|x| same(x, v));
        }
        if let Some(xs) = m.get("except") {
            return !v.is_null() && !xs.as_array().unwrap().iter().any(|x| same(x, v));
        }
        let Some(s) = s else { return false };
        let doc = words(s);
        if let Some(q) = m.get("text") {
            let q = words(q.as_str().unwrap());
            return !q.is_empty() && q.iter().all(|t| doc.contains(t));
        }
        if let Some(q) = m.get("text_any") {
            return words(q.as_str().unwrap()).iter().any(|t| doc.contains(t));
        }
        if let Some(q) = m.get("phrase") {
            let q = words(q.as_str().unwrap());
            return !q.is_empty() && (0..doc.len()).any(|i| doc[i..].starts_with(&q));
        }
        if let Some(p) = m.get("prefix") {
            return s.starts_with(p.as_str().unwrap());
        }
        if let Some(p) = m.get("substring") {
            return s.contains(p.as_str().unwrap());
        }
        panic!("unknown match {m}")
    }

    fn range_one(r: &Value, v: &Value) -> bool {
        let is_datetime = r.as_object().unwrap().values().any(Value::is_string);
        // Both kinds compare as f64: instants here are far below 2^53 µs.
        let as_number = |b: &Value| -> f64 {
            match b {
                Value::String(s) => super::datetime_instant(s).unwrap() as f64,
                other => other.as_f64().unwrap(),
            }
        };
        let x = match v {
            Value::String(s) if is_datetime => match super::datetime_instant(s) {
                Some(t) => t as f64,
                None => return false,
            },
            Value::Number(n) if !is_datetime => n.as_f64().unwrap(),
            _ => return false,
        };
        let bound = as_number;
        let check =
            |name: &str, f: fn(f64, f64) -> bool| r.get(name).is_none_or(|b| f(x, bound(b)));
        check("lt", |a, b| a < b)
            && check("lte", |a, b| a <= b)
            && check("gt", |a, b| a > b)
            && check("gte", |a, b| a >= b)
    }

    fn geo(v: &Value) -> Option<(f64, f64)> {
        let o = v.as_object()?;
        Some((o.get("lon")?.as_f64()?, o.get("lat")?.as_f64()?))
    }

    fn haversine(lon: f64, lat: f64, center: &Value) -> f64 {
        let (clon, clat) = geo(center).unwrap();
        let (p1, p2) = (lat.to_radians(), clat.to_radians());
        let dp = p2 - p1;
        let dl = clon.to_radians() - lon.to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        6_371_008.8 * (2.0 * a.sqrt().asin())
    }

    fn in_box((lon, lat): (f64, f64), b: &Value) -> bool {
        let (l, t) = geo(&b["top_left"]).unwrap();
        let (r, bot) = geo(&b["bottom_right"]).unwrap();
        let lon_ok = if l > r {
            lon > l || lon < r
        } else {
            l < lon && lon < r
        };
        lon_ok && bot < lat && lat < t
    }

    fn rect(ring: &Value) -> (f64, f64, f64, f64) {
        let pts: Vec<(f64, f64)> = ring["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| geo(p).unwrap())
            .collect();
        let lo = |f: fn(&(f64, f64)) -> f64| pts.iter().map(f).fold(f64::INFINITY, f64::min);
        let hi = |f: fn(&(f64, f64)) -> f64| pts.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
        (lo(|p| p.0), hi(|p| p.0), lo(|p| p.1), hi(|p| p.1))
    }

    fn in_rect((lon, lat): (f64, f64), (x0, x1, y0, y1): (f64, f64, f64, f64)) -> bool {
        x0 < lon && lon < x1 && y0 < lat && lat < y1
    }

    fn in_polygon(p: (f64, f64), g: &Value) -> bool {
        let holes = g
            .get("interiors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        in_rect(p, rect(&g["exterior"])) && !holes.iter().any(|h| in_rect(p, rect(h)))
    }
}

// ---------------------------------------------------------------------------------------------
// Datetimes: a fixed table of spellings and the instants they denote
// ---------------------------------------------------------------------------------------------

/// Days from 1970-01-01, counted plainly (only years ≥ 1970 are generated).
fn days_since_epoch(y: i64, m: i64, d: i64) -> i64 {
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days: i64 = (1970..y).map(|yy| if leap(yy) { 366 } else { 365 }).sum();
    let month_days = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days += month_days[..(m - 1) as usize].iter().sum::<i64>();
    days + d - 1
}

/// Every generated datetime string with the instant it denotes (µs since the epoch, UTC).
fn datetime_table() -> &'static [(String, i64)] {
    static TABLE: std::sync::OnceLock<Vec<(String, i64)>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let walls = [
            (2026, 1, 1, 0, 0, 0, 0),
            (2026, 1, 15, 12, 30, 0, 0),
            (2025, 12, 31, 23, 59, 59, 999_999),
            (2026, 2, 1, 0, 0, 0, 0),
            (2024, 2, 29, 6, 0, 0, 500_000),
            (2026, 1, 31, 23, 0, 0, 0),
        ];
        let mut out = Vec::new();
        for (y, mo, d, h, mi, s, us) in walls {
            let wall =
                ((days_since_epoch(y, mo, d) * 24 + h) * 60 + mi) * 60_000_000 + s * 1_000_000 + us;
            let date = format!("{y:04}-{mo:02}-{d:02}");
            let hm = format!("{h:02}:{mi:02}");
            let frac = if us == 0 {
                String::new()
            } else {
                format!(".{us:06}")
            };
            let full = format!("{hm}:{s:02}{frac}");
            if h == 0 && mi == 0 && s == 0 && us == 0 {
                out.push((date.clone(), wall));
            }
            if s == 0 && us == 0 {
                out.push((format!("{date}T{hm}"), wall));
            }
            out.push((format!("{date}T{full}"), wall));
            out.push((format!("{date} {full}Z"), wall));
            out.push((format!("{date} {full} UTC"), wall));
            out.push((format!("{date}T{full}+02:00"), wall - 2 * 3_600_000_000));
            out.push((format!("{date}T{full}-05:30"), wall + 330 * 60_000_000));
            out.push((format!("{date}T{hm}:{s:02}.{us:06}000Z"), wall));
        }
        out
    })
}

fn datetime_instant(s: &str) -> Option<i64> {
    datetime_table()
        .iter()
        .find(|(t, _)| t == s)
        .map(|&(_, i)| i)
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const WORDS: &[&str] = &[
    "red",
    "Red",
    "",
    "The Vector-DB, fast",
    "db vector search",
    "Ünïcode WÖRDS here",
    "5c56c793-69f3-4fbf-87e6-c4bf54c28c26",
    "5C56C793-69F3-4FBF-87E6-C4BF54C28C26",
    "2026-13-45",
];
const QUERIES: &[&str] = &[
    "vector",
    "DB vector",
    "db",
    "",
    "fast vector",
    "wörds",
    "vector search",
    "pie apple",
    "red",
];
const PREFIXES: &[&str] = &["re", "R", "", "5c", "db v", "2026-0", "Vector"];
const KEYS: &[&str] = &[
    "a", "b", "a.b", "a[].b", "a[0]", "a[]", "a[0].b", "arr", "arr[].b", "arr[].c", "obj.b", "a.c",
    "\"a\"", "c",
];
const NUMS: &[f64] = &[-2.0, -0.5, 0.0, 1.0, 1.5, 2.0, 2.5, 3.0];

fn pick<T: Clone + std::fmt::Debug + 'static>(
    items: &'static [T],
) -> impl Strategy<Value = T> + Clone {
    prop::sample::select(items)
}

fn datetime_string() -> impl Strategy<Value = String> + Clone {
    (0..datetime_table().len()).prop_map(|i| datetime_table()[i].0.clone())
}

fn geo_point() -> impl Strategy<Value = Value> + Clone {
    let lons = &[-179.5, -1.5, -0.5, 0.5, 1.5, 2.5, 179.5];
    let lats = &[-1.5, -0.5, 0.5, 1.5, 2.5, 60.5];
    (pick(lons), pick(lats)).prop_map(|(lon, lat)| json!({"lon": lon, "lat": lat}))
}

fn scalar() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => (-1i64..=2).prop_map(Value::from),
        1 => pick(&[0.5, 1.0, 2.0, -1.5]).prop_map(Value::from),
        3 => pick(WORDS).prop_map(Value::from),
        2 => datetime_string().prop_map(Value::from),
        2 => geo_point(),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(pick(&["b", "c"]), inner, 0..3).prop_map(
                |m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            ),
        ]
    })
}

fn scalar_or_list() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        3 => scalar(),
        1 => prop::collection::vec(scalar(), 0..4).prop_map(Value::Array),
    ]
}

/// An object with optional `b` and `c` fields, the shape most generated keys look into.
fn object_bc() -> impl Strategy<Value = Value> + Clone {
    let field = proptest::option::weighted(0.8, scalar_or_list());
    (field.clone(), field).prop_map(|(b, c)| {
        let mut m = Map::new();
        m.extend(b.map(|b| ("b".to_string(), b)));
        m.extend(c.map(|c| ("c".to_string(), c)));
        Value::Object(m)
    })
}

fn payload() -> impl Strategy<Value = Value> {
    let objects = prop::collection::vec(object_bc(), 0..4).prop_map(Value::Array);
    let a = prop_oneof![
        2 => object_bc(),
        2 => objects.clone(),
        2 => scalar_or_list(),
        1 => value(),
    ];
    let arr = prop_oneof![3 => objects, 1 => value()];
    let obj = prop_oneof![3 => object_bc(), 1 => value()];
    let opt = |s: BoxedStrategy<Value>| proptest::option::weighted(0.75, s);
    (
        opt(a.boxed()),
        opt(scalar_or_list().boxed()),
        opt(scalar_or_list().boxed()),
        opt(arr.boxed()),
        opt(obj.boxed()),
    )
        .prop_map(|(a, b, c, arr, obj)| {
            let mut m = Map::new();
            for (k, v) in [("a", a), ("b", b), ("c", c), ("arr", arr), ("obj", obj)] {
                m.extend(v.map(|v| (k.to_string(), v)));
            }
            Value::Object(m)
        })
}

fn bounds(b: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Value> {
    let opt = proptest::option::weighted(0.4, b);
    (opt.clone(), opt.clone(), opt.clone(), opt).prop_map(|(gt, gte, lt, lte)| {
        let mut m = Map::new();
        for (name, v) in [("gt", gt), ("gte", gte), ("lt", lt), ("lte", lte)] {
            if let Some(v) = v {
                m.insert(name.to_string(), v);
            }
        }
        Value::Object(m)
    })
}

fn ring(x0: i32, y0: i32, w: i32, h: i32) -> Value {
    let (x1, y1) = (x0 + w, y0 + h);
    json!({"points": [{"lon": x0, "lat": y0}, {"lon": x1, "lat": y0}, {"lon": x1, "lat": y1},
                      {"lon": x0, "lat": y1}, {"lon": x0, "lat": y0}]})
}

fn operator() -> impl Strategy<Value = (String, Value)> {
    let word = pick(WORDS).prop_map(Value::from);
    let int = (-2i64..=3).prop_map(Value::from);
    let list = prop_oneof![
        prop::collection::vec(word.clone(), 0..3),
        prop::collection::vec(int.clone(), 0..3)
    ];
    let matches = prop_oneof![
        prop_oneof![word, int, any::<bool>().prop_map(Value::from)]
            .prop_map(|v| json!({"value": v})),
        list.clone().prop_map(|l| json!({"any": l})),
        list.prop_map(|l| json!({"except": l})),
        (pick(&["text", "text_any", "phrase"]), pick(QUERIES)).prop_map(|(op, q)| json!({op: q})),
        (pick(&["prefix", "substring"]), pick(PREFIXES)).prop_map(|(op, q)| json!({op: q})),
    ];
    let num_bound = prop_oneof![
        pick(NUMS).prop_map(Value::from),
        (-2i64..=3).prop_map(Value::from)
    ];
    let cell = -2i32..=2;
    prop_oneof![
        4 => matches.prop_map(|m| ("match".to_string(), m)),
        2 => bounds(num_bound).prop_map(|r| ("range".to_string(), r)),
        2 => bounds(datetime_string().prop_map(Value::from))
            .prop_filter("datetime range needs a bound", |r| !r.as_object().unwrap().is_empty())
            .prop_map(|r| ("range".to_string(), r)),
        1 => (geo_point(), pick(&[1e3, 1e5, 2e5, 1e6, 2e7])).prop_map(|(c, r)| {
            ("geo_radius".to_string(), json!({"center": c, "radius": r}))
        }),
        1 => (cell.clone(), cell.clone(), 1i32..4, 1i32..4, any::<bool>()).prop_map(|(x, y, w, h, wrap)| {
            let (left, right) = if wrap { (179, -179) } else { (x, x + w) };
            ("geo_bounding_box".to_string(), json!({"top_left": {"lon": left, "lat": y + h},
                                                    "bottom_right": {"lon": right, "lat": y}}))
        }),
        1 => (cell.clone(), cell, 1i32..5, 1i32..5, any::<bool>()).prop_map(|(x, y, w, h, hole)| {
            let interiors = if hole && w > 2 && h > 2 { vec![ring(x + 1, y + 1, 1, 1)] } else { vec![] };
            ("geo_polygon".to_string(), json!({"exterior": ring(x, y, w, h), "interiors": interiors}))
        }),
        1 => bounds((0u64..4).prop_map(Value::from)).prop_map(|b| ("values_count".to_string(), b)),
        1 => (pick(&["is_empty", "is_null"]), any::<bool>()).prop_map(|(op, b)| (op.to_string(), json!(b))),
    ]
}

fn field_condition() -> impl Strategy<Value = Value> {
    (pick(KEYS), prop::collection::vec(operator(), 1..=2)).prop_map(|(key, ops)| {
        let mut m = Map::new();
        m.insert("key".into(), json!(key));
        m.extend(ops);
        Value::Object(m)
    })
}

/// Leaf conditions; `with_ids` is false inside nested filters, where has_id is not allowed.
fn leaf(with_ids: bool) -> BoxedStrategy<Value> {
    let basic = prop_oneof![
        6 => field_condition(),
        1 => pick(KEYS).prop_map(|k| json!({"is_empty": {"key": k}})),
        1 => pick(KEYS).prop_map(|k| json!({"is_null": {"key": k}})),
        1 => pick(&["", "img", "txt"]).prop_map(|n| json!({"has_vector": n})),
    ];
    if with_ids {
        prop_oneof![6 => basic, 1 => prop::collection::vec(0u64..30, 0..6).prop_map(|ids| json!({"has_id": ids}))].boxed()
    } else {
        basic.boxed()
    }
}

fn filter_of(cond: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Value> {
    let clause = prop::collection::vec(cond.clone(), 0..3);
    let single_or_list = prop_oneof![3 => clause.clone().prop_map(Value::Array), 1 => cond.clone()];
    let min_should = proptest::option::weighted(0.2, (prop::collection::vec(cond, 0..4), 1u64..3));
    (
        proptest::option::of(single_or_list),
        proptest::option::of(clause.clone()),
        proptest::option::of(clause),
        min_should,
    )
        .prop_map(|(must, should, must_not, min_should)| {
            let mut f = Map::new();
            for (name, c) in [
                ("must", must),
                ("should", should.map(Value::Array)),
                ("must_not", must_not.map(Value::Array)),
            ] {
                if let Some(c) = c {
                    f.insert(name.to_string(), c);
                }
            }
            if let Some((conditions, min_count)) = min_should {
                f.insert(
                    "min_should".into(),
                    json!({"conditions": conditions, "min_count": min_count}),
                );
            }
            Value::Object(f)
        })
}

fn condition() -> BoxedStrategy<Value> {
    leaf(true)
        .prop_recursive(3, 24, 4, |inner| {
            let nested_inner =
                filter_of(leaf(false).prop_recursive(1, 6, 3, |i| filter_of(i).boxed()));
            prop_oneof![
                2 => filter_of(inner),
                1 => (pick(&["a", "a[]", "arr", "arr[]"]), nested_inner)
                    .prop_map(|(k, f)| json!({"nested": {"key": k, "filter": f}})),
            ]
        })
        .boxed()
}

fn filter_json() -> impl Strategy<Value = Value> {
    filter_of(condition())
}

fn schema() -> impl Strategy<Value = FieldSchema> {
    pick(&FieldSchema::ALL)
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// The index kind that serves each field condition of a filter, keyed by the indexed path
/// (for nested conditions, `path[].inner_key`).
fn natural_schemas(f: &Value) -> Vec<(String, FieldSchema)> {
    let mut out = Vec::new();
    collect_schemas(f, "", &mut out);
    out
}

fn collect_schemas(v: &Value, prefix: &str, out: &mut Vec<(String, FieldSchema)>) {
    let Some(obj) = v.as_object() else {
        if let Some(items) = v.as_array() {
            items.iter().for_each(|i| collect_schemas(i, prefix, out));
        }
        return;
    };
    if let Some(key) = obj.get("key").and_then(Value::as_str) {
        let key = format!("{prefix}{key}");
        let schema = if let Some(m) = obj.get("match") {
            match m
                .as_object()
                .and_then(|m| m.iter().next())
                .map(|(k, v)| (k.as_str(), v))
            {
                Some(("text" | "text_any" | "phrase", _)) => FieldSchema::Text,
                Some((_, Value::Bool(_))) => FieldSchema::Bool,
                Some((_, Value::Number(_))) => FieldSchema::Integer,
                Some((_, Value::Array(a))) if a.first().is_some_and(Value::is_number) => {
                    FieldSchema::Integer
                }
                Some((_, Value::String(s))) if s.starts_with("5c") => FieldSchema::Uuid,
                _ => FieldSchema::Keyword,
            }
        } else if let Some(r) = obj.get("range") {
            if r.as_object()
                .is_some_and(|r| r.values().any(Value::is_string))
            {
                FieldSchema::Datetime
            } else if key.len() % 2 == 0 {
                FieldSchema::Integer
            } else {
                FieldSchema::Float
            }
        } else if obj.keys().any(|k| k.starts_with("geo_")) {
            FieldSchema::Geo
        } else {
            return;
        };
        out.push((key, schema));
        return;
    }
    if let Some(n) = obj.get("nested") {
        let base = n["key"].as_str().unwrap_or_default();
        let base = base.strip_suffix("[]").unwrap_or(base);
        collect_schemas(&n["filter"], &format!("{base}[]."), out);
        return;
    }
    for clause in ["must", "should", "must_not"] {
        if let Some(c) = obj.get(clause) {
            collect_schemas(c, prefix, out);
        }
    }
    if let Some(m) = obj.get("min_should") {
        collect_schemas(&m["conditions"], prefix, out);
    }
}

struct Row {
    id: PointId,
    payload: Payload,
    vectors: Vec<String>,
}

impl PointRef for Row {
    fn id(&self) -> &PointId {
        &self.id
    }
    fn payload(&self) -> &Payload {
        &self.payload
    }
    fn has_vector(&self, name: &str) -> bool {
        self.vectors.iter().any(|v| v == name)
    }
}

fn obj(v: Value) -> Payload {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("payloads are generated as objects"),
    }
}

/// Rows a plan selects after re-checking candidates with `matches`.
fn run_plan(plan: Plan, filter: &Filter, rows: &[Row]) -> BTreeSet<usize> {
    let candidates: Vec<usize> = match plan {
        Plan::FullScan => (0..rows.len()).collect(),
        Plan::Candidates(c) => {
            assert!(
                c.windows(2).all(|w| w[0] < w[1]),
                "candidates must be sorted and unique"
            );
            c.into_iter().map(|r| r as usize).collect()
        }
    };
    candidates
        .into_iter()
        .filter(|&i| filter.matches(&rows[i]))
        .collect()
}

type RowSpec = (Value, Vec<&'static str>, Option<Value>);

fn row_spec() -> impl Strategy<Value = RowSpec> {
    (
        payload(),
        prop::sample::subsequence(&["", "img", "txt"][..], 0..=3),
        proptest::option::weighted(0.3, payload()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    /// Index-planned evaluation and per-row evaluation agree with the reference evaluator.
    #[test]
    fn plan_and_matches_agree_with_reference(
        specs in prop::collection::vec(row_spec(), 1..24),
        filter_value in prop_oneof![
            2 => filter_json(),
            1 => filter_of(leaf(true)),
            1 => prop::collection::vec(field_condition(), 1..3).prop_map(|c| json!({"must": c})),
            1 => prop::collection::vec(field_condition(), 1..3).prop_map(|c| json!({"should": c})),
            1 => (pick(&["a", "a[]", "arr", "arr[]"]), pick(&["b", "c"]), prop::collection::vec(operator(), 1..=2))
                .prop_map(|(path, key, ops)| {
                    let mut c = Map::new();
                    c.insert("key".into(), json!(key));
                    c.extend(ops);
                    json!({"must": [{"nested": {"key": path, "filter": {"must": [c]}}}]})
                }),
        ],
        natural in prop::collection::vec(any::<bool>(), 16),
        index_schemas in prop::collection::vec(proptest::option::weighted(0.7, schema()), KEYS.len()),
    ) {
        let filter = Filter::from_json(&filter_value).expect("generated filters are valid");
        // Index the first payloads, then update some rows so insert/remove are exercised.
        let mut idx = PayloadIndexes::new();
        let first: Vec<Payload> = specs.iter().map(|s| obj(s.0.clone())).collect();
        // Most keys get an index of a random kind, so that conditions often meet an index of
        // the matching kind and often one of a mismatched kind.
        for (key, schema) in KEYS.iter().zip(&index_schemas) {
            if let Some(schema) = schema {
                let key = JsonPath::parse(key).expect("generated keys are valid");
                idx.create_field(key, *schema, first.iter().enumerate().map(|(i, p)| (i as u32, p)));
            }
        }
        // And keys the filter uses mostly get the index kind that serves their operator.
        for ((key, schema), take) in natural_schemas(&filter_value).into_iter().zip(natural.iter().cycle()) {
            if *take {
                let key = JsonPath::parse(&key).expect("generated keys are valid");
                idx.create_field(key, schema, first.iter().enumerate().map(|(i, p)| (i as u32, p)));
            }
        }
        let mut rows = Vec::new();
        for (i, (p, vectors, update)) in specs.iter().enumerate() {
            let mut payload = obj(p.clone());
            if let Some(new) = update {
                idx.remove(i as u32, &payload);
                payload = obj(new.clone());
                idx.insert(i as u32, &payload);
            }
            rows.push(Row { id: PointId::Num(i as u64), payload, vectors: vectors.iter().map(|v| v.to_string()).collect() });
        }
        let expected: BTreeSet<usize> = rows
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                let pt = reference::Point { id: *i as u64, vectors: &r.vectors };
                reference::filter(&filter_value, &Value::Object(r.payload.clone()), Some(&pt))
            })
            .map(|(i, _)| i)
            .collect();
        let per_row: BTreeSet<usize> = (0..rows.len()).filter(|&i| filter.matches(&rows[i])).collect();
        prop_assert_eq!(&per_row, &expected, "matches() disagrees with the reference");
        let n = rows.len();
        let planned = run_plan(plan(&filter, &idx, n), &filter, &rows);
        prop_assert_eq!(&planned, &expected, "planned evaluation disagrees");
        // Pretend the segment is huge so that every index-backed plan yields candidates.
        let forced = run_plan(plan(&filter, &idx, n * 1000), &filter, &rows);
        prop_assert_eq!(&forced, &expected, "candidate lists missed rows");
    }
}

/// A value dense in one kind of data, so that single-condition lookups find rows.
fn focused_value() -> impl Strategy<Value = Value> {
    let one = prop_oneof![
        3 => geo_point(),
        3 => prop_oneof![(-1i64..=2).prop_map(Value::from), pick(&[0.5, 1.0, 2.0, -1.5]).prop_map(Value::from)],
        3 => datetime_string().prop_map(Value::from),
        3 => pick(WORDS).prop_map(Value::from),
        1 => scalar(),
    ];
    prop_oneof![3 => one.clone(), 1 => prop::collection::vec(one, 0..3).prop_map(Value::Array)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// A single indexed condition over dense data: the index-backed candidates never miss a
    /// row that `matches` (and the reference) accept.
    #[test]
    fn single_condition_lookups_are_supersets(
        values in prop::collection::vec(proptest::option::weighted(0.9, focused_value()), 1..40),
        ops in prop::collection::vec(operator(), 1..=2),
        natural in any::<bool>(),
        other_schema in schema(),
    ) {
        let mut cond = Map::new();
        cond.insert("key".into(), json!("v"));
        cond.extend(ops);
        let filter_value = json!({"must": [Value::Object(cond)]});
        let filter = Filter::from_json(&filter_value).expect("generated filters are valid");
        let schema = match natural_schemas(&filter_value).first() {
            Some((_, s)) if natural => *s,
            _ => other_schema,
        };
        let rows: Vec<Row> = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| Row {
                id: PointId::Num(i as u64),
                payload: v.map(|v| obj(json!({"v": v}))).unwrap_or_default(),
                vectors: vec![],
            })
            .collect();
        let mut idx = PayloadIndexes::new();
        idx.create_field(JsonPath::key("v"), schema, rows.iter().enumerate().map(|(i, r)| (i as u32, &r.payload)));
        let expected: BTreeSet<usize> = (0..rows.len())
            .filter(|&i| reference::filter(&filter_value, &Value::Object(rows[i].payload.clone()), None))
            .collect();
        let per_row: BTreeSet<usize> = (0..rows.len()).filter(|&i| filter.matches(&rows[i])).collect();
        prop_assert_eq!(&per_row, &expected, "matches() disagrees with the reference");
        let forced = run_plan(plan(&filter, &idx, rows.len() * 1000), &filter, &rows);
        prop_assert_eq!(&forced, &expected, "candidate lists missed rows");
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z_\\[\\]\\.\"0-9]{0,8}".prop_map(Value::String),
        pick(&[
            "must",
            "should",
            "key",
            "match",
            "range",
            "nested",
            "filter",
            "has_id",
            "value",
            "any",
            "gt",
            "lt",
            "geo_polygon",
            "exterior",
            "points",
            "lon",
            "lat",
            "min_should"
        ])
        .prop_map(Value::from),
    ];
    let names = pick(&[
        "must",
        "should",
        "must_not",
        "min_should",
        "key",
        "match",
        "range",
        "value",
        "any",
        "except",
        "text",
        "nested",
        "filter",
        "has_id",
        "has_vector",
        "is_empty",
        "is_null",
        "gt",
        "lte",
        "geo_radius",
        "center",
        "radius",
        "lon",
        "lat",
        "conditions",
        "min_count",
        "values_count",
        "slice",
        "total",
        "index",
        "exterior",
        "points",
    ]);
    leaf.prop_recursive(6, 64, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(names.clone(), inner, 0..4).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Arbitrary JSON never panics the parser, and whatever parses also evaluates.
    #[test]
    fn from_json_never_panics(v in arbitrary_json(), p in payload()) {
        if let Ok(f) = Filter::from_json(&v) {
            let row = Row { id: PointId::Num(1), payload: obj(p), vectors: vec![] };
            let _ = f.matches(&row);
        }
    }

    /// Key paths survive Display → parse, and parsing arbitrary text never panics.
    #[test]
    fn paths_round_trip(s in "[a-z\"\\.\\[\\]0-9 _-]{0,12}", key in pick(KEYS)) {
        if let Ok(p) = JsonPath::parse(&s) {
            prop_assert_eq!(JsonPath::parse(&p.to_string()).expect("display reparses"), p);
        }
        let p = JsonPath::parse(key).expect("valid");
        prop_assert_eq!(JsonPath::parse(&p.to_string()).expect("display reparses"), p);
    }
}

// ---------------------------------------------------------------------------------------------
// Captured filters (spec §10.7)
// ---------------------------------------------------------------------------------------------

fn captured() -> [Value; 2] {
    [
        json!({"should": {"is_null": {"key": "x"}},
         "min_should": {"conditions": [{"key": "a", "match": {"value": 1}}, {"key": "b", "match": {"value": true}}], "min_count": 1},
         "must": [{"key": "ts", "range": {"lt": "2026-02-01T00:00:00", "gte": "2026-01-01T00:00:00Z"}},
          {"key": "loc", "geo_radius": {"center": {"lon": 13.4, "lat": 52.5}, "radius": 1000.0}},
          {"key": "loc", "geo_bounding_box": {"top_left": {"lon": 13.0, "lat": 53.0}, "bottom_right": {"lon": 14.0, "lat": 52.0}}},
          {"key": "loc", "geo_polygon": {"exterior": {"points": [{"lon": 0.0, "lat": 0.0}, {"lon": 1.0, "lat": 0.0}, {"lon": 1.0, "lat": 1.0}, {"lon": 0.0, "lat": 0.0}]}, "interiors": []}},
          {"key": "tags", "values_count": {"gte": 2}},
          {"key": "color", "match": {"except": ["red", "blue"]}},
          {"key": "body", "match": {"text": "vector db"}}, {"key": "body", "match": {"phrase": "vector db"}},
          {"key": "body", "match": {"text_any": "vector db"}}, {"key": "path", "match": {"prefix": "/a/b"}},
          {"key": "n", "range": {"gt": 1.0, "lte": 5.5}}, {"key": "opt", "is_empty": true},
          {"key": "country.cities[].population", "range": {"gte": 1000000.0}}],
         "must_not": [{"has_vector": "image"}, {"has_id": [1, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"]}]}),
        json!({"must": [{"nested": {"key": "diet", "filter": {"must": [{"key": "food", "match": {"value": "meat"}},
                   {"key": "likes", "match": {"value": true}}]}}},
                  {"should": [{"slice": {"total": 4, "index": 1}}]}]}),
    ]
}

#[test]
fn captured_filters_parse_to_the_expected_model() {
    use azimuth_engine::filter::{Condition, Match, Range};
    let [first, second] = captured();
    let f = Filter::from_json(&first).expect("captured filter 1");
    assert_eq!(f, Filter::from_json(&first).expect("deterministic"));
    assert_eq!((f.must.len(), f.should.len(), f.must_not.len()), (13, 1, 2));
    assert_eq!(
        f.min_should
            .as_ref()
            .map(|m| (m.conditions.len(), m.min_count)),
        Some((2, 1))
    );
    let Condition::Field(ts) = &f.must[0] else {
        panic!("field")
    };
    let jan = datetime_instant("2026-01-01").expect("in table");
    let feb = datetime_instant("2026-02-01").expect("in table");
    assert_eq!(
        ts.range,
        Some(Range::Datetime {
            gt: None,
            gte: Some(jan),
            lt: Some(feb),
            lte: None
        })
    );
    let Condition::Field(body) = &f.must[7] else {
        panic!("field")
    };
    assert_eq!(body.r#match, Some(Match::Phrase("vector db".into())));
    let Condition::Field(pop) = &f.must[12] else {
        panic!("field")
    };
    assert_eq!(pop.key.to_string(), "country.cities[].population");
    let Condition::HasId(ids) = &f.must_not[1] else {
        panic!("has_id")
    };
    assert!(
        ids.contains(&PointId::parse_uuid("5c56c793-69f3-4fbf-87e6-c4bf54c28c26").expect("uuid"))
    );

    let g = Filter::from_json(&second).expect("captured filter 2");
    assert!(matches!(&g.must[0], Condition::Nested { filter, .. } if filter.must.len() == 2));
    let Condition::Filter(inner) = &g.must[1] else {
        panic!("sub-filter")
    };
    assert_eq!(inner.should, vec![Condition::Slice { total: 4, index: 1 }]);
    let row = |meat_liked: bool| Row {
        id: PointId::Num(0),
        payload: obj(
            json!({"diet": [{"food": "meat", "likes": meat_liked}, {"food": "veg", "likes": true}]}),
        ),
        vectors: vec![],
    };
    let slice1 = (0..64u64)
        .find(|&i| {
            Filter::from_json(&json!({"must": {"slice": {"total": 4, "index": 1}}}))
                .expect("slice")
                .matches(&Row {
                    id: PointId::Num(i),
                    payload: Payload::new(),
                    vectors: vec![],
                })
        })
        .expect("some id lands in slice 1");
    let mut liked = row(true);
    liked.id = PointId::Num(slice1);
    assert!(g.matches(&liked));
    let mut disliked = row(false);
    disliked.id = PointId::Num(slice1);
    assert!(!g.matches(&disliked));
}

#[test]
fn broken_captured_filters_are_rejected() {
    let [first, second] = captured();
    let mut breakages: Vec<Value> = Vec::new();
    let mut b = first.clone();
    b["must"][0]["range"]["lt"] = json!("2026-02-30T00:00:00");
    breakages.push(b);
    let mut b = first.clone();
    b["must"][3]["geo_polygon"]["exterior"]["points"]
        .as_array_mut()
        .unwrap()
        .pop();
    breakages.push(b);
    let mut b = first.clone();
    b["must"][5]["match"] = json!({"excep": ["red"]});
    breakages.push(b);
    let mut b = first.clone();
    b["min_should"]["min_count"] = json!(0);
    breakages.push(b);
    let mut b = first;
    b["must"][1] = json!({"key": "loc"});
    breakages.push(b);
    let mut b = second.clone();
    b["must"][0]["nested"]["filter"]["must"][0] = json!({"has_id": [1]});
    breakages.push(b);
    let mut b = second;
    b["must"][1]["should"][0]["slice"]["index"] = json!(4);
    breakages.push(b);
    for b in breakages {
        let err = Filter::from_json(&b).expect_err("broken filter must be rejected");
        assert_eq!(
            err.kind(),
            azimuth_engine::ErrorKind::InvalidArgument,
            "{err}"
        );
    }
}

/// A collection with dense vectors "", "img" and "txt" (2-d) holding the generated rows.
fn collection_with(
    specs: &[RowSpec],
    schemas: &[(String, FieldSchema)],
) -> (
    azimuth_engine::Database,
    std::sync::Arc<azimuth_engine::Collection>,
) {
    use azimuth_engine::{
        CollectionConfig, Database, Distance, PointSelector, PointStruct, Vector, VectorParams,
    };
    let db = Database::in_memory();
    let vectors = ["", "img", "txt"]
        .iter()
        .map(|n| (n.to_string(), VectorParams::new(2, Distance::Dot)))
        .collect();
    let c = db
        .create_collection("p", CollectionConfig::named(vectors))
        .expect("create");
    // Half the indexes exist before the writes and half are built over existing rows.
    let (early, late) = schemas.split_at(schemas.len() / 2);
    for (key, schema) in early {
        c.create_payload_index(key, *schema, false).expect("index");
    }
    for (i, (p, names, update)) in specs.iter().enumerate() {
        let vectors = names
            .iter()
            .map(|n| (n.to_string(), Vector::Dense(vec![1.0, i as f32])))
            .collect();
        let point = PointStruct {
            id: PointId::Num(i as u64),
            vectors,
            payload: obj(p.clone()),
        };
        c.upsert(vec![point], false).expect("upsert");
        if let Some(new) = update {
            c.overwrite_payload(
                &PointSelector::Ids(vec![PointId::Num(i as u64)]),
                obj(new.clone()),
                false,
            )
            .expect("overwrite");
        }
    }
    for (key, schema) in late {
        c.create_payload_index(key, *schema, false).expect("index");
    }
    (db, c)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    /// Through the engine's public API: count, scroll, filtered search and delete-by-filter
    /// select exactly the rows the reference evaluator selects.
    #[test]
    fn engine_reads_and_deletes_agree_with_reference(
        specs in prop::collection::vec(row_spec(), 1..20),
        filter_value in filter_json(),
        index_schemas in prop::collection::vec(proptest::option::weighted(0.6, schema()), KEYS.len()),
    ) {
        use azimuth_engine::{PointSelector, ScrollRequest, SearchRequest};
        let filter = Filter::from_json(&filter_value).expect("generated filters are valid");
        let mut schemas: Vec<(String, FieldSchema)> = KEYS.iter().zip(&index_schemas)
            .filter_map(|(k, s)| s.map(|s| (k.to_string(), s))).collect();
        schemas.extend(natural_schemas(&filter_value));
        let (_db, c) = collection_with(&specs, &schemas);
        let expected: BTreeSet<u64> = specs.iter().enumerate().filter(|(i, (p, names, update))| {
            let vectors: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            let pt = reference::Point { id: *i as u64, vectors: &vectors };
            reference::filter(&filter_value, update.as_ref().unwrap_or(p), Some(&pt))
        }).map(|(i, _)| i as u64).collect();
        prop_assert_eq!(c.count(Some(&filter)).expect("count"), expected.len());
        let req = ScrollRequest { limit: 1000, filter: Some(filter.clone()), ..Default::default() };
        let scrolled: BTreeSet<u64> = c.scroll(&req).expect("scroll").points.iter()
            .map(|r| match r.id { PointId::Num(n) => n, _ => u64::MAX }).collect();
        prop_assert_eq!(&scrolled, &expected, "scroll disagrees");
        let mut search = SearchRequest::dense(vec![1.0, 0.0], 1000);
        search.using = "img".into();
        search.filter = Some(filter.clone());
        let found: BTreeSet<u64> = c.search(&search).expect("search").iter()
            .map(|h| match h.id { PointId::Num(n) => n, _ => u64::MAX }).collect();
        let with_img: BTreeSet<u64> = expected.iter().copied().filter(|&i| specs[i as usize].1.contains(&"img")).collect();
        prop_assert_eq!(&found, &with_img, "filtered search disagrees");
        c.delete(&PointSelector::Filter(filter), false).expect("delete");
        prop_assert_eq!(c.len(), specs.len() - expected.len(), "delete by filter removed the wrong rows");
    }
}
