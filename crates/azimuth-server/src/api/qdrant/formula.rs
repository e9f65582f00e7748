//! Formula queries: re-score the union of a query's prefetch results with an arithmetic
//! expression over prefetch scores (`$score`, `$score[i]`), payload values, conditions
//! (1 or 0), geo distances, datetimes and decay functions, as Qdrant defines them. Every
//! expression is checked when the request is parsed; an expression that turns non-finite
//! on a point (division by zero without a default, `ln` of a negative, a missing payload
//! value without a default) fails the request with a 400 naming it.

use std::collections::HashMap;

use azimuth_engine::filter::{haversine_m, parse_datetime, GeoPoint, PointRef};
use azimuth_engine::{
    Collection, Filter, JsonPath, Payload, PayloadSelector, PointId, VectorSelector,
};
use serde_json::{json, Map, Value};

use super::query::Hit;
use crate::reply::ApiError;

#[derive(Clone, Copy, Debug)]
enum Decay {
    Lin,
    Exp,
    Gauss,
}

#[derive(Debug)]
enum Expr {
    Const(f64),
    /// The score the point got from prefetch `i` (0 when it was not among its results).
    Score(usize),
    /// A numeric payload value; the text is the key as written (for `defaults`).
    Var(JsonPath, String),
    /// 1 when the condition holds, else 0.
    Cond(Box<Filter>),
    GeoDistance(GeoPoint, JsonPath, String),
    /// Seconds since the Unix epoch.
    Datetime(f64),
    DatetimeKey(JsonPath, String),
    Mult(Vec<Expr>),
    Sum(Vec<Expr>),
    Max(Vec<Expr>),
    Min(Vec<Expr>),
    Neg(Box<Expr>),
    Abs(Box<Expr>),
    Sqrt(Box<Expr>),
    Exp(Box<Expr>),
    Log10(Box<Expr>),
    Ln(Box<Expr>),
    Acosh(Box<Expr>),
    Div(Box<Expr>, Box<Expr>, Option<f64>),
    Pow(Box<Expr>, Box<Expr>),
    Decay {
        kind: Decay,
        x: Box<Expr>,
        target: Option<Box<Expr>>,
        midpoint: f64,
        scale: f64,
    },
}

/// A parsed `{"formula": Expression, "defaults"?: {...}}` query.
#[derive(Debug)]
pub(super) struct Formula {
    expr: Expr,
    /// Values for keys missing from a point's payload; `$score` keys normalised to
    /// `$score[i]`.
    defaults: Map<String, Value>,
    /// Whether any condition is evaluated (which may ask whether a point has a vector).
    conditions: bool,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg.into())
}

/// `$score` → 0, `$score[i]` → i, anything else → a payload key.
fn variable(text: &str) -> Result<Result<usize, JsonPath>, ApiError> {
    let Some(rest) = text.strip_prefix("$score") else {
        let path =
            JsonPath::parse(text).map_err(|e| bad(format!("formula variable {text:?}: {e}")))?;
        return Ok(Err(path));
    };
    if rest.is_empty() {
        return Ok(Ok(0));
    }
    rest.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse().ok())
        .map(Ok)
        .ok_or_else(|| {
            bad(format!(
                "invalid score pattern {text:?}: use $score or $score[i]"
            ))
        })
}

fn number(v: &Value, what: &str) -> Result<f64, ApiError> {
    v.as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| bad(format!("{what} must be a number, got {v}")))
}

fn key_of(v: &Value, what: &str) -> Result<(JsonPath, String), ApiError> {
    let s = v
        .as_str()
        .ok_or_else(|| bad(format!("{what} must be a payload key, got {v}")))?;
    let p = JsonPath::parse(s).map_err(|e| bad(format!("{what} {s:?}: {e}")))?;
    Ok((p, s.to_string()))
}

fn list(v: &Value, op: &str, conditions: &mut bool) -> Result<Vec<Expr>, ApiError> {
    match v {
        Value::Array(a) => a.iter().map(|e| parse(e, conditions)).collect(),
        other => Err(bad(format!(
            "{op} takes a list of expressions, got {other}"
        ))),
    }
}

fn boxed(v: &Value, conditions: &mut bool) -> Result<Box<Expr>, ApiError> {
    Ok(Box::new(parse(v, conditions)?))
}

fn parse(v: &Value, conditions: &mut bool) -> Result<Expr, ApiError> {
    match v {
        Value::Number(_) => Ok(Expr::Const(number(v, "a formula constant")?)),
        Value::String(s) => Ok(match variable(s)? {
            Ok(i) => Expr::Score(i),
            Err(p) => Expr::Var(p, s.clone()),
        }),
        Value::Object(m) if m.len() == 1 => {
            let (op, arg) = m
                .iter()
                .next()
                .map(|(k, v)| (k.as_str(), v))
                .unwrap_or(("", v));
            let field = |k: &str| -> Result<&Value, ApiError> {
                arg.get(k)
                    .filter(|x| !x.is_null())
                    .ok_or_else(|| bad(format!("{op} needs {k:?}")))
            };
            Ok(match op {
                "mult" => Expr::Mult(list(arg, op, conditions)?),
                "sum" => Expr::Sum(list(arg, op, conditions)?),
                "max" | "min" => {
                    let xs = list(arg, op, conditions)?;
                    if xs.is_empty() {
                        return Err(bad(format!("`{op}` needs at least one operand")));
                    }
                    if op == "max" {
                        Expr::Max(xs)
                    } else {
                        Expr::Min(xs)
                    }
                }
                "neg" => Expr::Neg(boxed(arg, conditions)?),
                "abs" => Expr::Abs(boxed(arg, conditions)?),
                "sqrt" => Expr::Sqrt(boxed(arg, conditions)?),
                "exp" => Expr::Exp(boxed(arg, conditions)?),
                "log10" => Expr::Log10(boxed(arg, conditions)?),
                "ln" => Expr::Ln(boxed(arg, conditions)?),
                "acosh" => Expr::Acosh(boxed(arg, conditions)?),
                "div" => Expr::Div(
                    boxed(field("left")?, conditions)?,
                    boxed(field("right")?, conditions)?,
                    match arg.get("by_zero_default") {
                        None | Some(Value::Null) => None,
                        Some(d) => Some(number(d, "by_zero_default")?),
                    },
                ),
                "pow" => Expr::Pow(
                    boxed(field("base")?, conditions)?,
                    boxed(field("exponent")?, conditions)?,
                ),
                "lin_decay" | "exp_decay" | "gauss_decay" => {
                    let kind = match op {
                        "lin_decay" => Decay::Lin,
                        "exp_decay" => Decay::Exp,
                        _ => Decay::Gauss,
                    };
                    let opt = |k: &str, d: f64| match arg.get(k) {
                        None | Some(Value::Null) => Ok(d),
                        Some(x) => number(x, &format!("{op}.{k}")),
                    };
                    let midpoint = opt("midpoint", 0.5)?;
                    let scale = opt("scale", 1.0)?;
                    match kind {
                        Decay::Lin if !(0.0..=1.0).contains(&midpoint) => {
                            return Err(bad(format!(
                                "linear decay midpoint should be in the range [0.0, 1.0], got {midpoint}"
                            )))
                        }
                        Decay::Exp | Decay::Gauss if midpoint <= 0.0 || midpoint >= 1.0 => {
                            return Err(bad(format!(
                                "decay midpoint should be in the range (0.0, 1.0), got {midpoint}"
                            )))
                        }
                        _ => {}
                    }
                    if scale <= 0.0 {
                        return Err(bad(format!("decay scale must be positive, got {scale}")));
                    }
                    Expr::Decay {
                        kind,
                        x: boxed(field("x")?, conditions)?,
                        target: match arg.get("target") {
                            None | Some(Value::Null) => None,
                            Some(t) => Some(boxed(t, conditions)?),
                        },
                        midpoint,
                        scale,
                    }
                }
                "geo_distance" => {
                    let origin = field("origin")?;
                    let lat = origin
                        .get("lat")
                        .map(|x| number(x, "origin.lat"))
                        .transpose()?;
                    let lon = origin
                        .get("lon")
                        .map(|x| number(x, "origin.lon"))
                        .transpose()?;
                    let (Some(lat), Some(lon)) = (lat, lon) else {
                        return Err(bad("geo_distance.origin needs lat and lon"));
                    };
                    let (p, s) = key_of(field("to")?, "geo_distance.to")?;
                    Expr::GeoDistance(GeoPoint { lat, lon }, p, s)
                }
                "datetime" => {
                    let s = arg
                        .as_str()
                        .ok_or_else(|| bad(format!("datetime must be a string, got {arg}")))?;
                    let micros = parse_datetime(s).ok_or_else(|| {
                        bad(format!("{s:?} is not a datetime in a supported format"))
                    })?;
                    Expr::Datetime(micros as f64 / 1e6)
                }
                "datetime_key" => {
                    let (p, s) = key_of(arg, "datetime_key")?;
                    Expr::DatetimeKey(p, s)
                }
                _ => condition(v, conditions)?,
            })
        }
        Value::Object(_) => condition(v, conditions),
        other => Err(bad(format!("not a formula expression: {other}"))),
    }
}

fn condition(v: &Value, conditions: &mut bool) -> Result<Expr, ApiError> {
    let f = Filter::from_json(&json!({ "must": [v] }))
        .map_err(|e| bad(format!("not a formula expression nor a condition: {e}")))?;
    *conditions = true;
    Ok(Expr::Cond(Box::new(f)))
}

/// What one point's evaluation reads.
struct Point<'a> {
    id: &'a PointId,
    payload: &'a Payload,
    vectors: &'a [String],
    scores: &'a [HashMap<PointId, f32>],
    defaults: &'a Map<String, Value>,
}

impl PointRef for Point<'_> {
    fn id(&self) -> &PointId {
        self.id
    }

    fn payload(&self) -> &Payload {
        self.payload
    }

    fn has_vector(&self, name: &str) -> bool {
        self.vectors.iter().any(|v| v == name)
    }
}

fn non_finite(what: String) -> ApiError {
    bad(format!(
        "the expression {what} produced a non-finite number"
    ))
}

impl Point<'_> {
    /// The payload value at `key`, else the default; a one-element list is its element.
    fn value(&self, key: &JsonPath, text: &str) -> Result<Value, ApiError> {
        let found: Vec<&Value> = key.values(self.payload);
        let v = match found.len() {
            0 => match self.defaults.get(text) {
                Some(Value::Array(a)) if a.is_empty() => None,
                Some(Value::Array(a)) if a.len() == 1 => a.first().cloned(),
                other => other.cloned(),
            },
            1 => found.first().map(|v| (*v).clone()),
            _ => Some(Value::Array(found.into_iter().cloned().collect())),
        };
        v.ok_or_else(|| {
            bad(format!(
                "no value found for {text} in the payload nor the formula defaults"
            ))
        })
    }

    fn eval(&self, e: &Expr) -> Result<f64, ApiError> {
        let one = |x: &Expr| self.eval(x);
        Ok(match e {
            Expr::Const(c) => *c,
            Expr::Score(i) => match self.scores.get(*i).and_then(|m| m.get(self.id)) {
                Some(s) => f64::from(*s),
                None => self
                    .defaults
                    .get(&format!("$score[{i}]"))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
            },
            Expr::Var(p, text) => {
                let v = self.value(p, text)?;
                match v {
                    Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
                    _ => {
                        return Err(bad(format!(
                            "expected a number for {text} in the payload and/or in the formula defaults, got {v}"
                        )))
                    }
                }
            }
            Expr::Cond(f) => f64::from(u8::from(f.matches(self))),
            Expr::GeoDistance(origin, p, text) => {
                let v = self.value(p, text)?;
                let to = azimuth_engine::filter::as_geo_point(&v).ok_or_else(|| {
                    bad(format!(
                        "expected a geo point for {text} in the payload and/or in the formula defaults"
                    ))
                })?;
                haversine_m(*origin, to)
            }
            Expr::Datetime(s) => *s,
            Expr::DatetimeKey(p, text) => {
                let v = self.value(p, text)?;
                let micros = v.as_str().and_then(parse_datetime).ok_or_else(|| {
                    bad(format!(
                        "expected a datetime for {text} in the payload and/or in the formula defaults"
                    ))
                })?;
                micros as f64 / 1e6
            }
            Expr::Mult(xs) => {
                let mut product = 1.0;
                for x in xs {
                    let f = one(x)?;
                    if f == 0.0 {
                        return Ok(f);
                    }
                    product *= f;
                }
                product
            }
            Expr::Sum(xs) => xs.iter().map(one).sum::<Result<f64, _>>()?,
            Expr::Max(xs) => xs
                .iter()
                .try_fold(f64::NEG_INFINITY, |m, x| one(x).map(|v| m.max(v)))?,
            Expr::Min(xs) => xs
                .iter()
                .try_fold(f64::INFINITY, |m, x| one(x).map(|v| m.min(v)))?,
            Expr::Neg(x) => -one(x)?,
            Expr::Abs(x) => one(x)?.abs(),
            Expr::Sqrt(x) => {
                let v = one(x)?;
                if v < 0.0 {
                    return Err(non_finite(format!("√{v}")));
                }
                v.sqrt()
            }
            Expr::Exp(x) => {
                let v = one(x)?;
                let r = v.exp();
                if !r.is_finite() {
                    return Err(non_finite(format!("exp({v})")));
                }
                r
            }
            Expr::Log10(x) | Expr::Ln(x) => {
                let v = one(x)?;
                let log10 = matches!(e, Expr::Log10(_));
                if v <= 0.0 {
                    let name = if log10 { "log10" } else { "ln" };
                    return Err(non_finite(format!("{name}({v})")));
                }
                if log10 {
                    v.log10()
                } else {
                    v.ln()
                }
            }
            Expr::Acosh(x) => {
                let v = one(x)?;
                if v < 1.0 {
                    return Err(non_finite(format!("acosh({v})")));
                }
                v.acosh()
            }
            Expr::Div(l, r, default) => {
                let left = one(l)?;
                if left == 0.0 {
                    return Ok(left);
                }
                let right = one(r)?;
                if right == 0.0 {
                    return default.ok_or_else(|| non_finite(format!("{left}/{right}")));
                }
                let q = left / right;
                if !q.is_finite() {
                    return Err(non_finite(format!("{left}/{right}")));
                }
                q
            }
            Expr::Pow(b, x) => {
                let (base, exponent) = (one(b)?, one(x)?);
                let r = base.powf(exponent);
                if !r.is_finite() {
                    return Err(non_finite(format!("{base}^{exponent}")));
                }
                r
            }
            Expr::Decay {
                kind,
                x,
                target,
                midpoint,
                scale,
            } => {
                let x = one(x)?;
                let target = match target {
                    Some(t) => one(t)?,
                    None => 0.0,
                };
                match kind {
                    Decay::Lin => (1.0 - (1.0 - midpoint) / scale * (x - target).abs()).max(0.0),
                    Decay::Exp => (midpoint.ln() / scale * (x - target).abs()).exp(),
                    Decay::Gauss => {
                        let d = x - target;
                        (midpoint.ln() / (scale * scale) * d * d).exp()
                    }
                }
            }
        })
    }
}

impl Formula {
    /// Parses the query object holding `formula` (and `defaults`).
    pub(super) fn parse(m: &Map<String, Value>) -> Result<Formula, ApiError> {
        let mut conditions = false;
        let expr = parse(m.get("formula").unwrap_or(&Value::Null), &mut conditions)?;
        let mut defaults = Map::new();
        match m.get("defaults") {
            None | Some(Value::Null) => {}
            Some(Value::Object(d)) => {
                for (k, v) in d {
                    let key = match variable(k)? {
                        Ok(i) => format!("$score[{i}]"),
                        Err(_) => k.clone(),
                    };
                    defaults.insert(key, v.clone());
                }
            }
            Some(other) => {
                return Err(bad(format!(
                    "formula defaults must be an object, got {other}"
                )))
            }
        }
        Ok(Formula {
            expr,
            defaults,
            conditions,
        })
    }

    /// Scores the union of `lists` (first appearance order) and returns the best `fetch`.
    pub(super) fn rescore(
        &self,
        c: &Collection,
        lists: &[Vec<Hit>],
        fetch: usize,
    ) -> Result<Vec<Hit>, ApiError> {
        let scores: Vec<HashMap<PointId, f32>> = lists
            .iter()
            .map(|l| l.iter().map(|h| (h.id.clone(), h.score)).collect())
            .collect();
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<PointId> = lists
            .iter()
            .flatten()
            .filter(|h| seen.insert(h.id.clone()))
            .map(|h| h.id.clone())
            .collect();
        let vectors = if self.conditions {
            VectorSelector::All
        } else {
            VectorSelector::None
        };
        let records = c.get(&ids, &PayloadSelector::All, &vectors)?;
        let empty = Payload::new();
        let mut out = Vec::with_capacity(records.len());
        for r in &records {
            let names: Vec<String> = r
                .vectors
                .as_ref()
                .map(|v| v.keys().cloned().collect())
                .unwrap_or_default();
            let p = Point {
                id: &r.id,
                payload: r.payload.as_ref().unwrap_or(&empty),
                vectors: &names,
                scores: &scores,
                defaults: &self.defaults,
            };
            let v = p.eval(&self.expr)?;
            let score = v as f32;
            if !score.is_finite() {
                return Err(non_finite(format!("{v} as f32")));
            }
            out.push(Hit {
                id: r.id.clone(),
                score,
                version: 0,
                order_value: None,
            });
        }
        // Stable: equal scores keep the order the points first appeared in.
        let order: HashMap<&PointId, usize> =
            ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
        out.sort_by(|a, b| {
            b.score
                .partial_cmp(&a.score)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| order.get(&a.id).cmp(&order.get(&b.id)))
        });
        out.truncate(fetch);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(formula: Value, payload: Value, defaults: Value) -> Result<f64, ApiError> {
        let m = json!({"formula": formula, "defaults": defaults});
        let f = Formula::parse(m.as_object().unwrap())?;
        let payload = payload.as_object().unwrap().clone();
        let id = PointId::Num(7);
        let scores = vec![HashMap::from([(id.clone(), 0.5f32)])];
        let p = Point {
            id: &id,
            payload: &payload,
            vectors: &[],
            scores: &scores,
            defaults: &f.defaults,
        };
        p.eval(&f.expr)
    }

    #[test]
    fn arithmetic_variables_and_conditions() {
        let f = json!({"sum": ["$score", {"mult": [2, "price"]},
                               {"key": "tag", "match": {"value": "a"}}]});
        assert_eq!(
            eval(f.clone(), json!({"price": 3, "tag": "a"}), json!({})).unwrap(),
            7.5
        );
        assert_eq!(
            eval(f.clone(), json!({"tag": "b"}), json!({"price": 1})).unwrap(),
            2.5
        );
        assert!(
            eval(f, json!({}), json!({})).is_err(),
            "a missing value without default"
        );
        assert_eq!(
            eval(json!("$score[3]"), json!({}), json!({"$score[3]": 9})).unwrap(),
            9.0
        );
        assert_eq!(eval(json!("$score[3]"), json!({}), json!({})).unwrap(), 0.0);
        assert!(eval(
            json!({"div": {"left": 1, "right": 0}}),
            json!({}),
            json!({})
        )
        .is_err());
        assert_eq!(
            eval(
                json!({"div": {"left": 1, "right": 0, "by_zero_default": 4}}),
                json!({}),
                json!({})
            )
            .unwrap(),
            4.0
        );
        assert!(eval(json!({"ln": -1}), json!({}), json!({})).is_err());
        assert!(eval(json!("$score[x]"), json!({}), json!({})).is_err());
        assert!(eval(json!({"max": []}), json!({}), json!({})).is_err());
        assert!(eval(
            json!({"key": "x", "match": {"nonsense": 1}}),
            json!({}),
            json!({})
        )
        .is_err());
    }

    #[test]
    fn decays_and_datetimes() {
        let lin = json!({"lin_decay": {"x": 5, "target": 0, "scale": 10, "midpoint": 0.5}});
        assert!((eval(lin, json!({}), json!({})).unwrap() - 0.75).abs() < 1e-12);
        // exp decay reaches the midpoint at one scale from the target
        let exp = json!({"exp_decay": {"x": {"datetime_key": "ts"},
                          "target": {"datetime": "2026-01-01T00:00:00Z"}, "scale": 86400}});
        let v = eval(exp, json!({"ts": "2026-01-02T00:00:00+00:00"}), json!({})).unwrap();
        assert!((v - 0.5).abs() < 1e-12);
        let gauss = json!({"gauss_decay": {"x": 2, "scale": 2, "midpoint": 0.25}});
        assert!((eval(gauss, json!({}), json!({})).unwrap() - 0.25).abs() < 1e-12);
        assert!(eval(
            json!({"exp_decay": {"x": 1, "midpoint": 1.0}}),
            json!({}),
            json!({})
        )
        .is_err());
        let geo = json!({"geo_distance": {"origin": {"lat": 0, "lon": 0}, "to": "loc"}});
        let d = eval(geo, json!({"loc": {"lat": 0, "lon": 1}}), json!({})).unwrap();
        assert!((d - 111_195.0).abs() < 100.0, "{d}");
    }
}
