//! Point reads: retrieve by id, scroll (by id or ordered by a payload field), count.

use std::cmp::Ordering;

use super::Collection;
use crate::error::{Error, Result};
use crate::filter::{parse_datetime, select, FieldSchema, Filter, JsonPath};
use crate::point::{OrderValue, PayloadSelector, Record, VectorSelector};
use crate::segment::Segment;
use crate::types::{Payload, PointId};

/// Order a scroll by a payload field (needs an integer, float or datetime index on it).
#[derive(Clone, Debug)]
pub struct OrderBy {
    pub key: JsonPath,
    pub descending: bool,
    /// Start at this value (inclusive).
    pub start_from: Option<f64>,
}

/// A page request.
#[derive(Clone, Debug)]
pub struct ScrollRequest {
    /// First id of the page (inclusive).
    pub offset: Option<PointId>,
    pub limit: usize,
    pub filter: Option<Filter>,
    pub with_payload: PayloadSelector,
    pub with_vectors: VectorSelector,
    pub order_by: Option<OrderBy>,
}

impl Default for ScrollRequest {
    fn default() -> Self {
        ScrollRequest {
            offset: None,
            limit: 10,
            filter: None,
            with_payload: PayloadSelector::All,
            with_vectors: VectorSelector::None,
            order_by: None,
        }
    }
}

/// A page of points and where the next one starts.
#[derive(Clone, Debug, PartialEq)]
pub struct ScrollResult {
    pub points: Vec<Record>,
    pub next_page_offset: Option<PointId>,
}

pub(crate) fn select_payload(p: &Payload, sel: &PayloadSelector) -> Option<Payload> {
    match sel {
        PayloadSelector::All => Some(p.clone()),
        PayloadSelector::None => None,
        PayloadSelector::Include(keys) => Some(select(p, Some(keys), None)),
        PayloadSelector::Exclude(keys) => Some(select(p, None, Some(keys))),
    }
}

pub(crate) fn select_vectors(
    seg: &Segment,
    row: u32,
    sel: &VectorSelector,
) -> Option<crate::point::NamedVectors> {
    match sel {
        VectorSelector::None => None,
        _ => Some(seg.select_vectors(row, sel)),
    }
}

fn record(seg: &Segment, row: u32, wp: &PayloadSelector, wv: &VectorSelector) -> Record {
    Record {
        id: seg.data.ids[row as usize].clone(),
        payload: select_payload(&seg.data.payloads[row as usize], wp),
        vectors: select_vectors(seg, row, wv),
        order_value: None,
    }
}

impl Collection {
    /// The points with these ids, in the order asked; missing ids are left out.
    pub fn get(
        &self,
        ids: &[PointId],
        with_payload: &PayloadSelector,
        with_vectors: &VectorSelector,
    ) -> Result<Vec<Record>> {
        self.check_alive()?;
        let st = self.state.read();
        let mut seen = std::collections::HashSet::new();
        Ok(ids
            .iter()
            .filter(|id| seen.insert(*id))
            .filter_map(|id| st.locate(id))
            .map(|(seg, row)| record(seg, row, with_payload, with_vectors))
            .collect())
    }

    /// Number of points matching `filter` (all points without one).
    pub fn count(&self, filter: Option<&Filter>) -> Result<usize> {
        self.check_alive()?;
        let st = self.state.read();
        if filter.is_none_or(|f| f.is_empty()) {
            return Ok(st.live_points());
        }
        Ok(st
            .segments
            .values()
            .map(|s| s.matching_rows(filter).len())
            .sum())
    }

    /// One page of points in id order, or ordered by a payload field.
    pub fn scroll(&self, req: &ScrollRequest) -> Result<ScrollResult> {
        self.check_alive()?;
        if let Some(order) = &req.order_by {
            return self.scroll_ordered(req, order);
        }
        let st = self.state.read();
        let filter = req.filter.as_ref().filter(|f| !f.is_empty());
        let range = match &req.offset {
            Some(o) => st.id_map.range(o.clone()..),
            None => st.id_map.range(..),
        };
        let mut points = Vec::new();
        let mut next = None;
        for (id, (s, r)) in range {
            let seg = &st.segments[s];
            if filter.is_some_and(|f| !f.matches(&seg.view(*r))) {
                continue;
            }
            if points.len() == req.limit {
                next = Some(id.clone());
                break;
            }
            points.push(record(seg, *r, &req.with_payload, &req.with_vectors));
        }
        Ok(ScrollResult {
            points,
            next_page_offset: next,
        })
    }

    fn scroll_ordered(&self, req: &ScrollRequest, order: &OrderBy) -> Result<ScrollResult> {
        let st = self.state.read();
        let schema = st.schema.get(&order.key).copied();
        let schema = match schema {
            Some(s @ (FieldSchema::Integer | FieldSchema::Float | FieldSchema::Datetime)) => s,
            _ => {
                return Err(Error::invalid(format!(
                    "no range index for order_by key {}: create an integer, float or datetime payload index on it first",
                    order.key
                )))
            }
        };
        let mut rows: Vec<(f64, OrderValue, &PointId, u64, u32)> = Vec::new();
        for seg in st.segments.values() {
            for r in seg.matching_rows(req.filter.as_ref()) {
                // One row per distinct value of the point, as an index holds them.
                let mut seen: Vec<f64> = Vec::new();
                for v in order.key.values(&seg.data.payloads[r as usize]) {
                    if let Some((key, ov)) = order_value(v, schema) {
                        if !seen.contains(&key) {
                            seen.push(key);
                            rows.push((key, ov, &seg.data.ids[r as usize], seg.id, r));
                        }
                    }
                }
            }
        }
        if let Some(start) = order.start_from {
            rows.retain(|x| {
                if order.descending {
                    x.0 <= start
                } else {
                    x.0 >= start
                }
            });
        }
        rows.sort_by(|a, b| {
            let o = a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal);
            (if order.descending { o.reverse() } else { o }).then_with(|| a.2.cmp(b.2))
        });
        let points = rows
            .into_iter()
            .take(req.limit)
            .map(|(_, ov, _, s, r)| Record {
                order_value: Some(ov),
                ..record(&st.segments[&s], r, &req.with_payload, &req.with_vectors)
            })
            .collect();
        Ok(ScrollResult {
            points,
            next_page_offset: None,
        })
    }
}

/// The sort key and reported value of a payload value under an index of `schema`: a float
/// index reports floats, an integer index only integers, a datetime index microseconds.
fn order_value(v: &serde_json::Value, schema: FieldSchema) -> Option<(f64, OrderValue)> {
    match schema {
        FieldSchema::Datetime => {
            let micros = parse_datetime(v.as_str()?)?;
            Some((micros as f64, OrderValue::Int(micros)))
        }
        FieldSchema::Integer => {
            let i = v.as_i64()?;
            Some((i as f64, OrderValue::Int(i)))
        }
        _ => {
            let f = v.as_f64()?;
            Some((f, OrderValue::Float(f)))
        }
    }
}

/// A facet value and how many points hold it.
#[derive(Clone, Debug, PartialEq)]
pub struct FacetHit {
    pub value: serde_json::Value,
    pub count: usize,
}

impl Collection {
    /// Counts the points holding each value of `key` (keyword, integer, uuid or bool index
    /// required), among points matching `filter`: most frequent first, ties by value.
    pub fn facet(
        &self,
        key: &JsonPath,
        filter: Option<&Filter>,
        limit: usize,
    ) -> Result<Vec<FacetHit>> {
        self.check_alive()?;
        let st = self.state.read();
        match st.schema.get(key) {
            Some(FieldSchema::Keyword | FieldSchema::Integer | FieldSchema::Uuid | FieldSchema::Bool) => {}
            _ => {
                return Err(Error::invalid(format!(
                    "facet needs a keyword, integer, uuid or bool payload index on {key}; create one first"
                )))
            }
        }
        let mut counts: std::collections::HashMap<String, (serde_json::Value, usize)> =
            Default::default();
        for seg in st.segments.values() {
            for r in seg.matching_rows(filter) {
                let mut seen = std::collections::HashSet::new();
                for v in key.values(&seg.data.payloads[r as usize]) {
                    let facetable = v.is_string() || v.is_boolean() || v.is_i64() || v.is_u64();
                    if facetable && seen.insert(v.to_string()) {
                        counts
                            .entry(v.to_string())
                            .or_insert_with(|| (v.clone(), 0))
                            .1 += 1;
                    }
                }
            }
        }
        let mut hits: Vec<FacetHit> = counts
            .into_values()
            .map(|(value, count)| FacetHit { value, count })
            .collect();
        hits.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| value_order(&a.value, &b.value))
        });
        hits.truncate(limit);
        Ok(hits)
    }
}

/// Ascending order of facet values: booleans, then numbers, then strings.
fn value_order(a: &serde_json::Value, b: &serde_json::Value) -> Ordering {
    use serde_json::Value::*;
    let rank = |v: &serde_json::Value| match v {
        Bool(_) => 0,
        Number(_) => 1,
        _ => 2,
    };
    match (a, b) {
        (Bool(x), Bool(y)) => x.cmp(y),
        (Number(x), Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (String(x), String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}
