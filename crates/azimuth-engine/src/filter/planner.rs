//! Query planning by cardinality: estimate how many rows a filter selects, and when an index
//! lookup selects few enough of them, hand the caller that candidate list instead of a full
//! scan.

use super::index::{PayloadIndexes, Source};
use super::model::{Condition, FieldCondition, Filter};

/// Estimated number of rows a filter selects: `min ≤ expected ≤ max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cardinality {
    pub min: usize,
    pub expected: usize,
    pub max: usize,
}

impl Cardinality {
    fn exact(n: usize) -> Cardinality {
        Cardinality {
            min: n,
            expected: n,
            max: n,
        }
    }

    /// Nothing is known: anything from none to all rows.
    fn unknown(total: usize) -> Cardinality {
        Cardinality {
            min: 0,
            expected: total / 2,
            max: total,
        }
    }

    fn at_most(n: usize, total: usize) -> Cardinality {
        let n = n.min(total);
        Cardinality {
            min: 0,
            expected: n,
            max: n,
        }
    }
}

/// How the caller should find the rows to check with [`Filter::matches`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Check every row.
    FullScan,
    /// Check only these rows: sorted, deduplicated, a superset of the matching rows.
    Candidates(Vec<u32>),
}

/// Candidate lists at or above this share of the rows (in percent) are not worth it.
const MAX_CANDIDATE_PERCENT: usize = 30;

/// Chooses between a full scan and an index lookup.
pub fn plan(filter: &Filter, idx: &PayloadIndexes, total_rows: usize) -> Plan {
    if filter.is_empty() || total_rows == 0 {
        return Plan::FullScan;
    }
    match filter_source(filter, idx) {
        Some(src)
            if src.size().saturating_mul(100)
                < total_rows.saturating_mul(MAX_CANDIDATE_PERCENT) =>
        {
            Plan::Candidates(src.rows())
        }
        _ => Plan::FullScan,
    }
}

/// The cheapest index-backed superset of the filter's rows, if any.
fn filter_source<'a>(f: &Filter, idx: &'a PayloadIndexes) -> Option<Source<'a>> {
    let mut options: Vec<Source<'a>> = f
        .must
        .iter()
        .filter_map(|c| condition_source(c, idx))
        .collect();
    if !f.should.is_empty() {
        options.extend(union_source(&f.should, idx));
    }
    if let Some(m) = f.min_should.as_ref().filter(|m| m.min_count >= 1) {
        options.extend(union_source(&m.conditions, idx));
    }
    options.into_iter().min_by_key(Source::size)
}

/// The union over conditions, when every one of them has a source.
fn union_source<'a>(conditions: &[Condition], idx: &'a PayloadIndexes) -> Option<Source<'a>> {
    conditions
        .iter()
        .map(|c| condition_source(c, idx))
        .collect::<Option<Vec<_>>>()
        .map(Source::Union)
}

fn condition_source<'a>(c: &Condition, idx: &'a PayloadIndexes) -> Option<Source<'a>> {
    match c {
        Condition::Field(fc) => idx.source(fc),
        Condition::Filter(f) => filter_source(f, idx),
        Condition::Nested { path, filter } => {
            // An element satisfying the inner filter puts its values under `path[].key`.
            let base = path.without_trailing_wildcard();
            filter
                .must
                .iter()
                .filter_map(|inner| match inner {
                    Condition::Field(fc) => idx.source(&FieldCondition {
                        key: base.join_elements(&fc.key),
                        ..fc.clone()
                    }),
                    _ => None,
                })
                .min_by_key(Source::size)
        }
        _ => None,
    }
}

/// Estimates how many of `total_rows` rows the filter selects.
pub fn estimate(filter: &Filter, idx: &PayloadIndexes, total_rows: usize) -> Cardinality {
    estimate_filter(filter, idx, total_rows)
}

fn estimate_filter(f: &Filter, idx: &PayloadIndexes, total: usize) -> Cardinality {
    let mut parts: Vec<Cardinality> = f
        .must
        .iter()
        .map(|c| estimate_condition(c, idx, total))
        .collect();
    if !f.should.is_empty() {
        parts.push(any_of(
            f.should.iter().map(|c| estimate_condition(c, idx, total)),
            total,
        ));
    }
    if !f.must_not.is_empty() {
        let hit = any_of(
            f.must_not.iter().map(|c| estimate_condition(c, idx, total)),
            total,
        );
        parts.push(complement(hit, total));
    }
    if let Some(m) = &f.min_should {
        let union = any_of(
            m.conditions
                .iter()
                .map(|c| estimate_condition(c, idx, total)),
            total,
        );
        parts.push(match m.min_count {
            0 => Cardinality::exact(total),
            1 => union,
            n => Cardinality {
                min: 0,
                expected: union.expected / n,
                max: union.max,
            },
        });
    }
    all_of(parts, total)
}

fn estimate_condition(c: &Condition, idx: &PayloadIndexes, total: usize) -> Cardinality {
    match c {
        Condition::Filter(f) => estimate_filter(f, idx, total),
        Condition::HasId(ids) => Cardinality::at_most(ids.len(), total),
        Condition::Slice { total: slices, .. } => Cardinality {
            min: 0,
            expected: total / usize::try_from(*slices).unwrap_or(usize::MAX).max(1),
            max: total,
        },
        Condition::Field(_) | Condition::Nested { .. } => match condition_source(c, idx) {
            Some(src) => Cardinality::at_most(src.size(), total),
            None => Cardinality::unknown(total),
        },
        _ => Cardinality::unknown(total),
    }
}

/// All parts hold (assuming independence for the expected value).
fn all_of(parts: Vec<Cardinality>, total: usize) -> Cardinality {
    if total == 0 {
        return Cardinality::exact(0);
    }
    let mut out = Cardinality::exact(total);
    let mut fraction = 1.0;
    let mut min_slack = 0usize;
    for p in &parts {
        out.max = out.max.min(p.max);
        fraction *= p.expected as f64 / total as f64;
        min_slack += total - p.min.min(total);
    }
    out.min = total.saturating_sub(min_slack).min(out.max);
    out.expected = ((fraction * total as f64).round() as usize).clamp(out.min, out.max);
    out
}

/// At least one part holds (assuming independence for the expected value).
fn any_of(parts: impl Iterator<Item = Cardinality>, total: usize) -> Cardinality {
    if total == 0 {
        return Cardinality::exact(0);
    }
    let mut out = Cardinality::exact(0);
    let mut miss = 1.0;
    for p in parts {
        out.min = out.min.max(p.min);
        out.max = (out.max + p.max).min(total);
        miss *= 1.0 - p.expected as f64 / total as f64;
    }
    out.expected = (((1.0 - miss) * total as f64).round() as usize).clamp(out.min, out.max);
    out
}

fn complement(c: Cardinality, total: usize) -> Cardinality {
    Cardinality {
        min: total.saturating_sub(c.max),
        expected: total.saturating_sub(c.expected),
        max: total.saturating_sub(c.min),
    }
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
