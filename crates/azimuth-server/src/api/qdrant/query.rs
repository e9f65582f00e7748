//! Search: the universal Query API (`/points/query`, `/points/query/batch`,
//! `/points/query/groups`) and the legacy `/points/search` routes, over the engine's exact
//! search. Prefetches run first; the query at each level re-scores, fuses (RRF, DBSF) or orders
//! the union of its prefetches' results.

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, State};
use azimuth_engine::filter::Condition;
use azimuth_engine::{
    Collection, ContextPair, Database, ExampleQuery, Filter, Mmr, OrderBy, OrderValue,
    PayloadSelector, PointId, QueryVector, ScrollRequest, SearchParams, SearchRequest, Vector,
    VectorSelector,
};
use serde_json::{json, Map, Value};

use super::fusion::{dbsf, rrf};
use super::wire::*;
use crate::reply::{blocking, ApiError, ApiResult, Body, Reply};
use crate::AppState;

/// What one query level asks for, before stored vectors are looked up.
enum Want {
    /// No query: points in id order with a constant score.
    All,
    /// Nearest to a vector or to a stored point's vector (the point itself is excluded),
    /// optionally re-ranked for diversity.
    Nearest {
        what: Example,
        mmr: Option<Mmr>,
    },
    Recommend {
        positive: Vec<Example>,
        negative: Vec<Example>,
        strategy: Strategy,
    },
    Discover {
        target: Example,
        context: Vec<(Example, Example)>,
    },
    Context(Vec<(Example, Example)>),
    /// Relevance feedback, naive strategy.
    Feedback {
        target: Example,
        feedback: Vec<(Example, f32)>,
        coefficients: [f32; 3],
    },
    /// Random points (score 1).
    Sample,
    Rrf {
        k: f64,
        weights: Option<Vec<f64>>,
    },
    Dbsf,
    Order(OrderBy),
    Formula(Box<super::formula::Formula>),
}

#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    AverageVector,
    BestScore,
    SumScores,
}

enum Example {
    Vector(Vector),
    Point(PointId),
}

/// Where examples given as point ids take their vectors from (`lookup_from`).
struct Lookup {
    collection: String,
    vector: Option<String>,
}

/// One level of a query: the top level or a prefetch.
struct Stage {
    prefetch: Vec<Stage>,
    want: Want,
    using: String,
    filter: Option<Filter>,
    limit: usize,
    score_threshold: Option<f32>,
    params: SearchParams,
    lookup: Option<Lookup>,
}

pub(super) struct Query {
    stage: Stage,
    offset: usize,
    with_payload: PayloadSelector,
    with_vectors: VectorSelector,
}

/// A ranked result before payloads and vectors are attached.
#[derive(Clone, Debug)]
pub(super) struct Hit {
    pub id: PointId,
    pub score: f32,
    pub version: u64,
    pub order_value: Option<OrderValue>,
}

fn example(v: &Value) -> Result<Example, ApiError> {
    match v {
        Value::Number(_) | Value::String(_) => Ok(Example::Point(parse_id(v)?)),
        other => Ok(Example::Vector(parse_vector(other, "query")?)),
    }
}

fn examples(v: Option<&Value>) -> Result<Vec<Example>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a.iter().map(example).collect(),
        Some(other) => Err(ApiError::bad_request(format!(
            "recommend examples must be a list, got {}",
            kind(other)
        ))),
    }
}

/// `ContextPair | [ContextPair]` → pairs of examples.
fn context_pairs(v: Option<&Value>) -> Result<Vec<(Example, Example)>, ApiError> {
    let one = |p: &Value| -> Result<(Example, Example), ApiError> {
        let m = object(p, "context pair")?;
        let side = |k: &str| {
            m.get(k)
                .filter(|x| !x.is_null())
                .ok_or_else(|| ApiError::bad_request(format!("a context pair needs {k:?}")))
                .and_then(example)
        };
        Ok((side("positive")?, side("negative")?))
    };
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a.iter().map(one).collect(),
        Some(p) => Ok(vec![one(p)?]),
    }
}

fn unsupported(what: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{what} queries are not supported by this server yet"
    ))
}

fn parse_mmr(v: &Value) -> Result<Mmr, ApiError> {
    let m = object(v, "mmr")?;
    let diversity = match m.get("diversity") {
        None | Some(Value::Null) => 0.5,
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN) as f32,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "mmr.diversity must be a number between 0 and 1, got {other}"
            )))
        }
    };
    if !(0.0..=1.0).contains(&diversity) {
        return Err(ApiError::bad_request(format!(
            "mmr.diversity must be between 0 and 1, got {diversity}"
        )));
    }
    let candidates = match m.get("candidates_limit") {
        None | Some(Value::Null) => None,
        Some(_) => Some(usize_field(m, "candidates_limit", 0)?),
    };
    Ok(Mmr {
        diversity,
        candidates,
    })
}

fn parse_want(q: Option<&Value>) -> Result<Want, ApiError> {
    let Some(q) = q.filter(|x| !x.is_null()) else {
        return Ok(Want::All);
    };
    if let Value::Object(m) = q {
        if let Some(n) = m.get("nearest") {
            let mmr = match m.get("mmr") {
                None | Some(Value::Null) => None,
                Some(v) => Some(parse_mmr(v)?),
            };
            return Ok(Want::Nearest {
                what: example(n)?,
                mmr,
            });
        }
        if let Some(r) = m.get("recommend") {
            let r = object(r, "recommend")?;
            let strategy = match r.get("strategy") {
                None | Some(Value::Null) => Strategy::AverageVector,
                Some(v) => match v.as_str() {
                    Some("average_vector") => Strategy::AverageVector,
                    Some("best_score") => Strategy::BestScore,
                    Some("sum_scores") => Strategy::SumScores,
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "recommend strategy must be \"average_vector\", \"best_score\" or \"sum_scores\", got {v}"
                        )))
                    }
                },
            };
            return Ok(Want::Recommend {
                positive: examples(r.get("positive"))?,
                negative: examples(r.get("negative"))?,
                strategy,
            });
        }
        if let Some(d) = m.get("discover") {
            let d = object(d, "discover")?;
            let target = d
                .get("target")
                .filter(|x| !x.is_null())
                .ok_or_else(|| ApiError::bad_request("discover needs a target"))?;
            return Ok(Want::Discover {
                target: example(target)?,
                context: context_pairs(d.get("context"))?,
            });
        }
        if let Some(c) = m.get("context") {
            return Ok(Want::Context(context_pairs(Some(c))?));
        }
        if let Some(sample) = m.get("sample") {
            return match sample.as_str() {
                Some("random") => Ok(Want::Sample),
                _ => Err(ApiError::bad_request(format!(
                    "sample must be \"random\", got {sample}"
                ))),
            };
        }
        if m.contains_key("formula") {
            return Ok(Want::Formula(Box::new(super::formula::Formula::parse(m)?)));
        }
        if let Some(f) = m.get("fusion") {
            return match f.as_str() {
                Some("rrf") => Ok(Want::Rrf {
                    k: 2.0,
                    weights: None,
                }),
                Some("dbsf") => Ok(Want::Dbsf),
                _ => Err(ApiError::bad_request(format!(
                    "fusion must be \"rrf\" or \"dbsf\", got {f}"
                ))),
            };
        }
        if let Some(r) = m.get("rrf") {
            let k = r.get("k").and_then(Value::as_f64).unwrap_or(2.0);
            let weights = match r.get("weights") {
                None | Some(Value::Null) => None,
                Some(Value::Array(w)) => {
                    Some(w.iter().map(|x| x.as_f64().unwrap_or(1.0)).collect())
                }
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "rrf.weights must be a list of numbers",
                    ))
                }
            };
            return Ok(Want::Rrf { k, weights });
        }
        if let Some(o) = m.get("order_by") {
            return Ok(Want::Order(super::points::order_by(o)?));
        }
        if let Some(r) = m.get("relevance_feedback") {
            return parse_feedback(r);
        }
        for k in ["text"] {
            if m.contains_key(k) {
                return Err(unsupported(k));
            }
        }
    }
    Ok(Want::Nearest {
        what: example(q)?,
        mmr: None,
    })
}

/// `{"target", "feedback": [{"example", "score"}], "strategy": {"naive": {"a", "b", "c"}}}`.
fn parse_feedback(v: &Value) -> Result<Want, ApiError> {
    let m = object(v, "relevance_feedback")?;
    let target = m
        .get("target")
        .filter(|x| !x.is_null())
        .ok_or_else(|| ApiError::bad_request("relevance_feedback needs a target"))?;
    let feedback = match m.get("feedback") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|item| {
                let item = object(item, "feedback item")?;
                let example = item
                    .get("example")
                    .filter(|x| !x.is_null())
                    .ok_or_else(|| ApiError::bad_request("a feedback item needs an example"))?;
                let score = item.get("score").and_then(Value::as_f64).ok_or_else(|| {
                    ApiError::bad_request("a feedback item needs a numeric score")
                })?;
                Ok((self::example(example)?, score as f32))
            })
            .collect::<Result<Vec<_>, ApiError>>()?,
        _ => {
            return Err(ApiError::bad_request(
                "relevance_feedback needs a feedback list",
            ))
        }
    };
    let naive = m
        .get("strategy")
        .and_then(|s| s.get("naive"))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ApiError::bad_request("relevance_feedback supports the strategy {\"naive\": {a, b, c}}")
        })?;
    let coef = |k: &str| {
        naive
            .get(k)
            .and_then(Value::as_f64)
            .map(|x| x as f32)
            .ok_or_else(|| ApiError::bad_request(format!("strategy.naive.{k} must be a number")))
    };
    Ok(Want::Feedback {
        target: example(target)?,
        feedback,
        coefficients: [coef("a")?, coef("b")?, coef("c")?],
    })
}

fn parse_lookup(v: Option<&Value>) -> Result<Option<Lookup>, ApiError> {
    let Some(v) = v.filter(|x| !x.is_null()) else {
        return Ok(None);
    };
    let m = object(v, "lookup_from")?;
    let collection = m
        .get("collection")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("lookup_from needs a \"collection\" name"))?
        .to_string();
    let vector = match m.get("vector") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "lookup_from.vector must be a vector name, got {other}"
            )))
        }
    };
    Ok(Some(Lookup { collection, vector }))
}

fn parse_stage(m: &Map<String, Value>, top_level: bool) -> Result<Stage, ApiError> {
    let params = search_params(m)?;
    let prefetch = match m.get("prefetch") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|p| parse_stage(object(p, "prefetch")?, false))
            .collect::<Result<_, _>>()?,
        Some(p) => vec![parse_stage(object(p, "prefetch")?, false)?],
    };
    let want = parse_want(m.get("query"))?;
    if !prefetch.is_empty() && matches!(want, Want::All) {
        return Err(ApiError::bad_request(
            "a query is required when prefetch is present",
        ));
    }
    if prefetch.is_empty() && matches!(want, Want::Rrf { .. } | Want::Dbsf) {
        return Err(ApiError::bad_request(
            "fusion needs prefetch queries to fuse",
        ));
    }
    if prefetch.is_empty() && matches!(want, Want::Formula(_)) {
        return Err(ApiError::bad_request(
            "a formula re-scores prefetch results: give it prefetch queries",
        ));
    }
    if top_level
        && m.get("score_threshold").is_some_and(|x| !x.is_null())
        && matches!(want, Want::All | Want::Order(_) | Want::Sample)
    {
        return Err(ApiError::bad_request(
            "score_threshold needs a query that scores points",
        ));
    }
    Ok(Stage {
        params,
        prefetch,
        want,
        using: m
            .get("using")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        filter: parse_filter(m.get("filter"))?,
        limit: limit_field(m, 10)?,
        score_threshold: typed(m, "score_threshold", Value::is_number, "a number")?
            .and_then(Value::as_f64)
            .map(|t| t as f32),
        lookup: parse_lookup(m.get("lookup_from"))?,
    })
}

pub(super) fn parse_query(body: &Value) -> Result<Query, ApiError> {
    let m = object(body, "query request")?;
    Ok(Query {
        stage: parse_stage(m, true)?,
        offset: usize_field(m, "offset", 0)?,
        with_payload: payload_selector(m.get("with_payload"), false)?,
        with_vectors: vector_selector(m.get("with_vector").or_else(|| m.get("with_vectors")))?,
    })
}

/// A stored point's vector `using`, or a 400/404 saying what is missing.
fn stored_vector(c: &Collection, id: &PointId, using: &str) -> Result<Vector, ApiError> {
    let recs = c.get(
        std::slice::from_ref(id),
        &PayloadSelector::None,
        &VectorSelector::Names(vec![using.to_string()]),
    )?;
    let rec = recs
        .first()
        .ok_or_else(|| ApiError::not_found(format!("No point with id {id} found")))?;
    rec.vectors
        .as_ref()
        .and_then(|v| v.get(using).cloned())
        .ok_or_else(|| ApiError::bad_request(format!("point {id} has no vector {using:?}")))
}

/// Turns examples into vectors: point ids are read from the searched collection (and then
/// excluded from the results) or, with `lookup_from`, from the lookup collection.
struct Resolver<'a> {
    c: &'a Collection,
    using: &'a str,
    lookup: Option<(std::sync::Arc<Collection>, String)>,
    exclude: Vec<PointId>,
}

impl<'a> Resolver<'a> {
    fn new(db: &Database, c: &'a Collection, stage: &'a Stage) -> Result<Self, ApiError> {
        let lookup = match &stage.lookup {
            None => None,
            Some(l) => Some((
                db.collection(&l.collection)?,
                l.vector.clone().unwrap_or_else(|| stage.using.clone()),
            )),
        };
        Ok(Resolver {
            c,
            using: &stage.using,
            lookup,
            exclude: Vec::new(),
        })
    }

    fn vector(&mut self, e: Example) -> Result<Vector, ApiError> {
        match e {
            Example::Vector(v) => Ok(v),
            Example::Point(id) => match &self.lookup {
                Some((other, name)) => {
                    let v = stored_vector(other, &id, name)?;
                    if other.name() == self.c.name() {
                        self.exclude.push(id);
                    }
                    Ok(v)
                }
                None => {
                    let v = stored_vector(self.c, &id, self.using)?;
                    self.exclude.push(id);
                    Ok(v)
                }
            },
        }
    }

    fn dense(&mut self, e: Example, what: &str) -> Result<Vec<f32>, ApiError> {
        match self.vector(e)? {
            Vector::Dense(d) => Ok(d),
            Vector::Sparse(_) => Err(ApiError::bad_request(format!(
                "{what} works with dense vectors only"
            ))),
        }
    }

    fn all(&mut self, es: Vec<Example>, what: &str) -> Result<Vec<Vec<f32>>, ApiError> {
        es.into_iter().map(|e| self.dense(e, what)).collect()
    }

    fn pairs(
        &mut self,
        ps: Vec<(Example, Example)>,
        what: &str,
    ) -> Result<Vec<ContextPair>, ApiError> {
        ps.into_iter()
            .map(|(p, n)| {
                Ok(ContextPair {
                    positive: self.dense(p, what)?,
                    negative: self.dense(n, what)?,
                })
            })
            .collect()
    }
}

fn mean(vs: &[Vec<f32>]) -> Vec<f32> {
    let dim = vs.first().map_or(0, Vec::len);
    let mut out = vec![0.0; dim];
    for v in vs {
        out.iter_mut().zip(v).for_each(|(o, x)| *o += x);
    }
    out.iter_mut().for_each(|o| *o /= vs.len().max(1) as f32);
    out
}

/// The engine query a scoring level searches with.
fn target(r: &mut Resolver<'_>, want: Want) -> Result<QueryVector, ApiError> {
    Ok(match want {
        Want::Nearest { what, .. } => match r.vector(what)? {
            Vector::Dense(d) => QueryVector::Dense(d),
            Vector::Sparse(s) => QueryVector::Sparse(s),
        },
        Want::Recommend {
            positive,
            negative,
            strategy,
        } => {
            let pos = r.all(positive, "recommend")?;
            let neg = r.all(negative, "recommend")?;
            match strategy {
                Strategy::AverageVector => {
                    if pos.is_empty() {
                        return Err(ApiError::bad_request(
                            "recommend with the average_vector strategy needs at least one positive example",
                        ));
                    }
                    let p = mean(&pos);
                    QueryVector::Dense(if neg.is_empty() {
                        p
                    } else {
                        p.iter().zip(mean(&neg)).map(|(a, b)| a + (a - b)).collect()
                    })
                }
                Strategy::BestScore => QueryVector::Examples(ExampleQuery::BestScore {
                    positive: pos,
                    negative: neg,
                }),
                Strategy::SumScores => QueryVector::Examples(ExampleQuery::SumScores {
                    positive: pos,
                    negative: neg,
                }),
            }
        }
        Want::Discover { target, context } => QueryVector::Examples(ExampleQuery::Discover {
            target: r.dense(target, "discover")?,
            context: r.pairs(context, "discover")?,
        }),
        Want::Context(pairs) => {
            QueryVector::Examples(ExampleQuery::Context(r.pairs(pairs, "context")?))
        }
        Want::Feedback {
            target,
            feedback,
            coefficients: [a, b, c],
        } => QueryVector::Examples(ExampleQuery::Feedback {
            target: r.dense(target, "relevance_feedback")?,
            feedback: feedback
                .into_iter()
                .map(|(e, s)| Ok((r.dense(e, "relevance_feedback")?, s)))
                .collect::<Result<Vec<_>, ApiError>>()?,
            a,
            b,
            c,
        }),
        _ => {
            return Err(ApiError::bad_request(
                "this query does not score points by a vector",
            ))
        }
    })
}

fn and(a: Option<Filter>, b: Option<&Filter>) -> Option<Filter> {
    match (a, b) {
        (None, None) => None,
        (Some(f), None) => Some(f),
        (None, Some(f)) => Some(f.clone()),
        (Some(x), Some(y)) => Some(Filter {
            must: vec![Condition::Filter(x), Condition::Filter(y.clone())],
            ..Default::default()
        }),
    }
}

/// Runs one level: its prefetches first (with `outer` merged into their filters), then its
/// own query over their union; returns up to `fetch` hits, best first.
fn run_stage(
    db: &Database,
    c: &Collection,
    stage: Stage,
    outer: Option<&Filter>,
    fetch: usize,
) -> Result<Vec<Hit>, ApiError> {
    let filter = and(stage.filter.clone(), outer);
    let mut lists = Vec::with_capacity(stage.prefetch.len());
    let mut stage = stage;
    for p in std::mem::take(&mut stage.prefetch) {
        let limit = p.limit;
        lists.push(run_stage(db, c, p, filter.as_ref(), limit)?);
    }
    let candidates: Option<HashSet<PointId>> =
        (!lists.is_empty()).then(|| lists.iter().flatten().map(|h| h.id.clone()).collect());
    let restrict = |f: Option<Filter>| match &candidates {
        None => f,
        Some(ids) => and(
            Some(Filter {
                must: vec![Condition::HasId(ids.clone())],
                ..Default::default()
            }),
            f.as_ref(),
        ),
    };
    let want = std::mem::replace(&mut stage.want, Want::All);
    let mut hits = match want {
        Want::Rrf { k, weights } => rrf(&lists, k, weights.as_deref()),
        Want::Dbsf => dbsf(&lists),
        Want::Formula(f) => f.rescore(c, &lists, fetch)?,
        Want::All => scroll_hits(c, filter, None, fetch)?,
        Want::Order(order) => scroll_hits(c, restrict(filter), Some(order), fetch)?,
        Want::Sample => sample_hits(c, restrict(filter), fetch)?,
        want => {
            let mmr = match &want {
                Want::Nearest { mmr, .. } => *mmr,
                _ => None,
            };
            let mut r = Resolver::new(db, c, &stage)?;
            let query = target(&mut r, want)?;
            let exclude = std::mem::take(&mut r.exclude);
            let mut f = restrict(filter).unwrap_or_default();
            if !exclude.is_empty() {
                f.must_not
                    .push(Condition::HasId(exclude.into_iter().collect()));
            }
            let req = SearchRequest {
                query,
                using: stage.using,
                filter: Some(f),
                limit: fetch,
                offset: 0,
                score_threshold: stage.score_threshold,
                with_payload: PayloadSelector::None,
                with_vectors: VectorSelector::None,
                params: stage.params,
            };
            let found = match mmr {
                Some(m) => c.search_mmr(&req, &m)?,
                None => c.search(&req)?,
            };
            return Ok(found
                .into_iter()
                .map(|p| Hit {
                    id: p.id,
                    score: p.score,
                    version: p.version,
                    order_value: None,
                })
                .collect());
        }
    };
    if let Some(t) = stage.score_threshold {
        hits.retain(|h| h.score >= t);
    }
    hits.truncate(fetch);
    Ok(hits)
}

/// Up to `fetch` points passing `filter`, in random order, each scored 1.
fn sample_hits(c: &Collection, filter: Option<Filter>, fetch: usize) -> Result<Vec<Hit>, ApiError> {
    let mut all = scroll_hits(c, filter, None, usize::MAX)?;
    let mut state = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64)
        | 1;
    let mut next = move || {
        // xorshift64*: plenty for picking sample points.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let take = fetch.min(all.len());
    for i in 0..take {
        let j = i + (next() % (all.len() - i) as u64) as usize;
        all.swap(i, j);
    }
    all.truncate(take);
    Ok(all)
}

fn scroll_hits(
    c: &Collection,
    filter: Option<Filter>,
    order: Option<OrderBy>,
    fetch: usize,
) -> Result<Vec<Hit>, ApiError> {
    let req = ScrollRequest {
        offset: None,
        limit: fetch,
        filter,
        with_payload: PayloadSelector::None,
        with_vectors: VectorSelector::None,
        order_by: order.clone(),
    };
    let constant = if order.is_some() { 0.0 } else { 1.0 };
    Ok(c.scroll(&req)?
        .points
        .into_iter()
        .map(|r| Hit {
            id: r.id,
            score: constant,
            version: 0,
            order_value: r.order_value,
        })
        .collect())
}

/// Hits with payloads and vectors attached, as `ScoredPoint` JSON.
pub(super) fn materialise(
    c: &Collection,
    hits: &[Hit],
    wp: &PayloadSelector,
    wv: &VectorSelector,
) -> Result<Vec<Value>, ApiError> {
    let ids: Vec<PointId> = hits.iter().map(|h| h.id.clone()).collect();
    let needs_lookup = !matches!(wp, PayloadSelector::None) || !matches!(wv, VectorSelector::None);
    let records: HashMap<PointId, azimuth_engine::Record> = if needs_lookup {
        c.get(&ids, wp, wv)?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect()
    } else {
        HashMap::new()
    };
    Ok(hits
        .iter()
        .map(|h| {
            let mut m = Map::new();
            m.insert("id".into(), id_json(&h.id));
            m.insert("version".into(), json!(h.version));
            m.insert("score".into(), json!(h.score + 0.0)); // + 0.0 turns -0.0 into 0.0
            if let Some(r) = records.get(&h.id) {
                if let Some(p) = &r.payload {
                    m.insert("payload".into(), Value::Object(p.clone()));
                }
                if let Some(v) = &r.vectors {
                    m.insert("vector".into(), vectors_json(v, &c.config()));
                }
            }
            if let Some(o) = h.order_value {
                m.insert("order_value".into(), order_value_json(o));
            }
            Value::Object(m)
        })
        .collect())
}

pub(super) fn run_query(db: &Database, c: &Collection, q: Query) -> Result<Value, ApiError> {
    let fetch = q.offset.saturating_add(q.stage.limit);
    let hits = run_stage(db, c, q.stage, None, fetch)?;
    let page: Vec<Hit> = hits.into_iter().skip(q.offset).collect();
    Ok(Value::Array(materialise(
        c,
        &page,
        &q.with_payload,
        &q.with_vectors,
    )?))
}

pub async fn query(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    let q = parse_query(&b)?;
    let c = s.db.collection(&name)?;
    search_now_or_later(c, move |c| {
        Ok(Reply(json!({"points": run_query(&s.db, c, q)?})))
    })
    .await
}

/// Runs one search of `c`: on the calling worker when the collection is small enough that
/// any search of it is short, else on the blocking pool. Handing a sub-millisecond search
/// to the pool costs two thread switches, which measured as a fifth of the server's CPU
/// per query (0.48 → 0.36 ms with an indexed 145k × 384 collection).
async fn search_now_or_later(
    c: std::sync::Arc<Collection>,
    f: impl FnOnce(&Collection) -> ApiResult + Send + 'static,
) -> ApiResult {
    if c.len() <= crate::reply::INLINE_SEARCH_MAX_POINTS {
        f(&c)
    } else {
        blocking(move || f(&c)).await
    }
}

fn batch_of(b: &Value, s: &AppState) -> Result<Vec<Value>, ApiError> {
    match b.get("searches") {
        Some(Value::Array(a)) if a.len() <= s.config.max_batch => Ok(a.clone()),
        Some(Value::Array(a)) => Err(ApiError::bad_request(format!(
            "{} searches in one batch; the limit is {}",
            a.len(),
            s.config.max_batch
        ))),
        _ => Err(ApiError::bad_request("body needs a \"searches\" list")),
    }
}

/// Parses every search of a batch, runs them against one collection and wraps each result.
async fn run_batch(
    s: AppState,
    name: String,
    body: &Value,
    parse: fn(&Value) -> Result<Query, ApiError>,
    wrap: fn(Value) -> Value,
) -> ApiResult {
    let queries = batch_of(body, &s)?
        .iter()
        .map(parse)
        .collect::<Result<Vec<_>, _>>()?;
    blocking(move || {
        let c = s.db.collection(&name)?;
        let out = queries
            .into_iter()
            .map(|q| run_query(&s.db, &c, q).map(wrap))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Reply(Value::Array(out)))
    })
    .await
}

pub async fn query_batch(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    run_batch(
        s,
        name,
        &b,
        parse_query,
        |points| json!({ "points": points }),
    )
    .await
}

/// `with_lookup` of a groups request: the collection whose point with the group's id is
/// attached to each group.
struct GroupLookup {
    collection: String,
    with_payload: PayloadSelector,
    with_vectors: VectorSelector,
}

fn group_lookup(v: Option<&Value>) -> Result<Option<GroupLookup>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(c)) => Ok(Some(GroupLookup {
            collection: c.clone(),
            with_payload: PayloadSelector::All,
            with_vectors: VectorSelector::None,
        })),
        Some(Value::Object(m)) => Ok(Some(GroupLookup {
            collection: m
                .get("collection")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request("with_lookup needs a \"collection\""))?
                .to_string(),
            with_payload: payload_selector(m.get("with_payload"), true)?,
            with_vectors: vector_selector(m.get("with_vectors").or_else(|| m.get("with_vector")))?,
        })),
        Some(other) => Err(ApiError::bad_request(format!(
            "with_lookup must be a collection name or an object, got {}",
            kind(other)
        ))),
    }
}

/// A group id as the point id it names in a lookup collection, if it can be one.
fn group_point_id(key: &Value) -> Option<PointId> {
    match key {
        Value::Number(n) => n.as_u64().map(PointId::Num),
        Value::String(s) => PointId::parse_uuid(s).ok(),
        _ => None,
    }
}

/// The best hits grouped by a keyword or integer payload value (`/points/query/groups` and
/// the legacy `/search/groups`, `/recommend/groups`).
async fn run_groups(
    s: AppState,
    name: String,
    b: Value,
    parse: fn(&Value) -> Result<Query, ApiError>,
) -> ApiResult {
    let m = object(&b, "request body")?;
    let group_by = m
        .get("group_by")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("group_by is required"))?;
    let group_by = azimuth_engine::JsonPath::parse(group_by)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let group_size = usize_field(m, "group_size", 3)?;
    let groups = usize_field(m, "limit", 10)?;
    let lookup = group_lookup(m.get("with_lookup"))?;
    let mut q = parse(&b)?;
    q.stage.limit = usize::MAX;
    blocking(move || {
        let c = s.db.collection(&name)?;
        let lookup_c = match &lookup {
            Some(l) => Some(s.db.collection(&l.collection)?),
            None => None,
        };
        let hits = run_stage(&s.db, &c, q.stage, None, usize::MAX)?;
        let ids: Vec<PointId> = hits.iter().map(|h| h.id.clone()).collect();
        let keys = c.get(
            &ids,
            &PayloadSelector::Include(vec![group_by.clone()]),
            &VectorSelector::None,
        )?;
        let payloads: HashMap<PointId, azimuth_engine::Payload> = keys
            .into_iter()
            .filter_map(|r| Some((r.id, r.payload?)))
            .collect();
        let key_of = |id: &PointId| {
            payloads
                .get(id)
                .map(|p| group_by.values(p).into_iter().cloned().collect())
                .unwrap_or_default()
        };
        let grouped = super::fusion::group(&hits, key_of, group_size, groups);
        let mut out = Vec::with_capacity(grouped.len());
        for (key, members) in grouped {
            let mut g = Map::new();
            g.insert(
                "hits".into(),
                Value::Array(materialise(&c, &members, &q.with_payload, &q.with_vectors)?),
            );
            if let (Some(l), Some(lc)) = (&lookup, &lookup_c) {
                if let Some(id) = group_point_id(&key) {
                    if let Some(r) = lc.get(&[id], &l.with_payload, &l.with_vectors)?.first() {
                        g.insert("lookup".into(), record_json(r, &lc.config()));
                    }
                }
            }
            g.insert("id".into(), key);
            out.push(Value::Object(g));
        }
        Ok(Reply(json!({ "groups": out })))
    })
    .await
}

pub async fn query_groups(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    run_groups(s, name, b, parse_query).await
}

/// Copies the fields the legacy routes share with the Query API into a query request.
fn legacy_common(m: &Map<String, Value>, query: Value) -> Result<Value, ApiError> {
    let mut q: Map<String, Value> = Map::new();
    for k in [
        "using",
        "lookup_from",
        "filter",
        "params",
        "offset",
        "with_payload",
        "with_vector",
        "with_vectors",
        "score_threshold",
    ] {
        if let Some(v) = m.get(k) {
            q.insert(k.into(), v.clone());
        }
    }
    let limit = m
        .get("limit")
        .or_else(|| m.get("top"))
        .cloned()
        .ok_or_else(|| ApiError::bad_request("limit is required"))?;
    q.insert("limit".into(), limit);
    q.insert("query".into(), query);
    Ok(Value::Object(q))
}

/// Legacy `SearchRequest` → a query: `vector` is a list or `{"name", "vector"}`.
fn legacy_search(body: &Value) -> Result<Query, ApiError> {
    let m = object(body, "search request")?;
    let (using, vector) = match m.get("vector") {
        Some(Value::Object(nv)) if nv.contains_key("name") => (
            nv.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            nv.get("vector").cloned().unwrap_or(Value::Null),
        ),
        Some(v) => (String::new(), v.clone()),
        None => return Err(ApiError::bad_request("vector is required")),
    };
    let mut q = legacy_common(m, json!({ "nearest": vector }))?;
    q["using"] = json!(using);
    if let Some(q) = q.as_object_mut() {
        q.remove("lookup_from");
    }
    parse_query(&q)
}

/// Legacy `RecommendRequest` → a recommend query.
fn legacy_recommend(body: &Value) -> Result<Query, ApiError> {
    let m = object(body, "recommend request")?;
    let mut r = Map::new();
    for k in ["positive", "negative", "strategy"] {
        if let Some(v) = m.get(k) {
            r.insert(k.into(), v.clone());
        }
    }
    parse_query(&legacy_common(m, json!({ "recommend": r }))?)
}

/// Legacy `DiscoverRequest` → a discover query, or a context query without a target.
fn legacy_discover(body: &Value) -> Result<Query, ApiError> {
    let m = object(body, "discover request")?;
    let context = m.get("context").cloned().unwrap_or(Value::Null);
    let query = match m.get("target").filter(|t| !t.is_null()) {
        Some(t) => json!({"discover": {"target": t, "context": context}}),
        None if context.as_array().is_some_and(|a| !a.is_empty()) => {
            json!({ "context": context })
        }
        None => {
            return Err(ApiError::bad_request(
                "discover needs a target, context pairs, or both",
            ))
        }
    };
    parse_query(&legacy_common(m, query)?)
}

async fn legacy_one(
    s: AppState,
    name: String,
    b: Value,
    parse: fn(&Value) -> Result<Query, ApiError>,
) -> ApiResult {
    let q = parse(&b)?;
    let c = s.db.collection(&name)?;
    search_now_or_later(c, move |c| Ok(Reply(run_query(&s.db, c, q)?))).await
}

pub async fn search(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    legacy_one(s, name, b, legacy_search).await
}

pub async fn search_batch(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    run_batch(s, name, &b, legacy_search, |points| points).await
}

pub async fn search_groups(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    run_groups(s, name, b, legacy_search).await
}

pub async fn recommend(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    legacy_one(s, name, b, legacy_recommend).await
}

pub async fn recommend_batch(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    run_batch(s, name, &b, legacy_recommend, |points| points).await
}

pub async fn recommend_groups(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    run_groups(s, name, b, legacy_recommend).await
}

pub async fn discover(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    legacy_one(s, name, b, legacy_discover).await
}

pub async fn discover_batch(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    run_batch(s, name, &b, legacy_discover, |points| points).await
}

/// The sampled points of a distance-matrix request, sorted by id, and each one's `limit`
/// nearest other sampled points (best first).
type Matrix = (Vec<PointId>, Vec<Vec<Hit>>);

fn distance_matrix(c: &Collection, body: &Value) -> Result<Matrix, ApiError> {
    let m = object(body, "request body")?;
    let filter = parse_filter(m.get("filter"))?;
    let sample = usize_field(m, "sample", 10)?;
    let limit = usize_field(m, "limit", 3)?;
    if sample < 2 || limit < 1 {
        return Err(ApiError::bad_request(
            "sample must be at least 2 and limit at least 1",
        ));
    }
    let using = m
        .get("using")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !c.config().vectors.contains_key(&using) {
        return Err(ApiError::bad_request(format!(
            "the distance matrix needs a dense vector; this collection has no dense vector {using:?}"
        )));
    }
    let with_vector = Filter {
        must: vec![Condition::HasVector(using.clone())],
        ..Default::default()
    };
    let mut picked = sample_hits(c, and(filter.clone(), Some(&with_vector)), sample)?;
    if picked.len() < 2 {
        return Ok((Vec::new(), Vec::new()));
    }
    picked.sort_by(|a, b| a.id.cmp(&b.id));
    let ids: Vec<PointId> = picked.into_iter().map(|h| h.id).collect();
    let records = c.get(
        &ids,
        &PayloadSelector::None,
        &VectorSelector::Names(vec![using.clone()]),
    )?;
    let vectors: HashMap<PointId, Vec<f32>> = records
        .into_iter()
        .filter_map(|r| match r.vectors?.remove(&using)? {
            Vector::Dense(d) => Some((r.id, d)),
            Vector::Sparse(_) => None,
        })
        .collect();
    let mut rows = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let Some(v) = vectors.get(id) else {
            rows.push(Vec::new()); // deleted since it was sampled
            continue;
        };
        let others: HashSet<PointId> = ids
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, x)| x.clone())
            .collect();
        let only = Filter {
            must: vec![Condition::HasId(others)],
            ..Default::default()
        };
        let req = SearchRequest {
            using: using.clone(),
            filter: and(Some(only), filter.as_ref()),
            ..SearchRequest::dense(v.clone(), limit)
        };
        rows.push(
            c.search(&req)?
                .into_iter()
                .map(|p| Hit {
                    id: p.id,
                    score: p.score,
                    version: p.version,
                    order_value: None,
                })
                .collect(),
        );
    }
    Ok((ids, rows))
}

/// `/points/search/matrix/pairs`: `{"pairs": [{"a", "b", "score"}]}`.
pub async fn matrix_pairs(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    blocking(move || {
        let c = s.db.collection(&name)?;
        let (ids, rows) = distance_matrix(&c, &b)?;
        let pairs: Vec<Value> = ids
            .iter()
            .zip(&rows)
            .flat_map(|(a, hits)| {
                hits.iter().map(
                    move |h| json!({"a": id_json(a), "b": id_json(&h.id), "score": h.score + 0.0}),
                )
            })
            .collect();
        Ok(Reply(json!({ "pairs": pairs })))
    })
    .await
}

/// `/points/search/matrix/offsets`: the same as a sparse matrix over the sampled ids.
pub async fn matrix_offsets(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult {
    blocking(move || {
        let c = s.db.collection(&name)?;
        let (ids, rows) = distance_matrix(&c, &b)?;
        let position: HashMap<&PointId, usize> =
            ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
        let (mut row, mut col, mut scores) = (Vec::new(), Vec::new(), Vec::new());
        for (i, hits) in rows.iter().enumerate() {
            for h in hits {
                if let Some(&j) = position.get(&h.id) {
                    row.push(i);
                    col.push(j);
                    scores.push(h.score + 0.0);
                }
            }
        }
        Ok(Reply(json!({
            "offsets_row": row,
            "offsets_col": col,
            "scores": scores,
            "ids": ids.iter().map(id_json).collect::<Vec<_>>(),
        })))
    })
    .await
}
