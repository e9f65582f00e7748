//! Points as callers give and receive them: vectors, payload, selectors and results.

use std::collections::BTreeMap;

use crate::config::{CollectionConfig, Datatype, DEFAULT_VECTOR};
use crate::error::{Error, Result};
use crate::filter::JsonPath;
use crate::types::{Distance, Payload, PointId};

/// A sparse vector: sorted unique indices with their weights.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SparseVector {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl SparseVector {
    /// Checks lengths, uniqueness and finiteness, and sorts by index.
    pub fn normalized(mut self, name: &str) -> Result<SparseVector> {
        if self.indices.len() != self.values.len() {
            return Err(Error::invalid(format!(
                "sparse vector {name:?}: {} indices but {} values",
                self.indices.len(),
                self.values.len()
            )));
        }
        if let Some(v) = self.values.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "sparse vector {name:?} contains a non-finite value {v}"
            )));
        }
        let mut pairs: Vec<(u32, f32)> = self
            .indices
            .iter()
            .copied()
            .zip(self.values.iter().copied())
            .collect();
        pairs.sort_unstable_by_key(|p| p.0);
        if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(Error::invalid(format!(
                "sparse vector {name:?} has duplicate indices"
            )));
        }
        self.indices = pairs.iter().map(|p| p.0).collect();
        self.values = pairs.iter().map(|p| p.1).collect();
        Ok(self)
    }

    /// Dot product over shared indices; `None` when they share none.
    pub fn dot(&self, other: &SparseVector) -> Option<f32> {
        let (mut i, mut j, mut sum, mut any) = (0, 0, 0f32, false);
        while i < self.indices.len() && j < other.indices.len() {
            match self.indices[i].cmp(&other.indices[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += self.values[i] * other.values[j];
                    any = true;
                    i += 1;
                    j += 1;
                }
            }
        }
        any.then_some(sum)
    }
}

/// One vector of a point.
#[derive(Clone, Debug, PartialEq)]
pub enum Vector {
    Dense(Vec<f32>),
    Sparse(SparseVector),
}

/// A point's vectors by name; the unnamed vector is `""`.
pub type NamedVectors = BTreeMap<String, Vector>;

/// A point to upsert.
#[derive(Clone, Debug, PartialEq)]
pub struct PointStruct {
    pub id: PointId,
    pub vectors: NamedVectors,
    pub payload: Payload,
}

impl PointStruct {
    /// A point with only the unnamed dense vector.
    pub fn new(id: impl Into<PointId>, vector: Vec<f32>, payload: Payload) -> Self {
        let mut vectors = NamedVectors::new();
        vectors.insert(DEFAULT_VECTOR.to_string(), Vector::Dense(vector));
        PointStruct {
            id: id.into(),
            vectors,
            payload,
        }
    }
}

/// Checks a dense vector against its space; normalises it when the space is Cosine.
pub(crate) fn prepare_dense(
    name: &str,
    v: Vec<f32>,
    config: &CollectionConfig,
) -> Result<Vec<f32>> {
    let Some(params) = config.vectors.get(name) else {
        return Err(unknown_vector(name, config));
    };
    if v.len() != params.size {
        return Err(Error::invalid(format!(
            "wrong vector dimension for {}: expected {}, got {}",
            display_name(name),
            params.size,
            v.len()
        )));
    }
    if let Some(x) = v.iter().find(|x| !x.is_finite()) {
        return Err(Error::invalid(format!(
            "vector {} contains a non-finite component {x}",
            display_name(name)
        )));
    }
    Ok(if params.distance == Distance::Cosine {
        normalize(v)
    } else {
        v
    })
}

/// Validates (and normalises) every vector of a point against the collection config.
pub(crate) fn prepare_vectors(
    vectors: NamedVectors,
    config: &CollectionConfig,
) -> Result<NamedVectors> {
    let mut out = NamedVectors::new();
    for (name, v) in vectors {
        let v = match v {
            Vector::Dense(d) => {
                if config.sparse_vectors.contains_key(&name) {
                    return Err(Error::invalid(format!(
                        "vector {name:?} is sparse; a dense vector was given"
                    )));
                }
                let mut d = prepare_dense(&name, d, config)?;
                if config.vectors.get(&name).map(|p| p.datatype) == Some(Datatype::Float16) {
                    round_to_half(&name, &mut d)?;
                }
                Vector::Dense(d)
            }
            Vector::Sparse(s) => {
                if !config.sparse_vectors.contains_key(&name) {
                    return Err(if config.vectors.contains_key(&name) {
                        Error::invalid(format!(
                            "vector {} is dense; a sparse vector was given",
                            display_name(&name)
                        ))
                    } else {
                        unknown_vector(&name, config)
                    });
                }
                Vector::Sparse(s.normalized(&name)?)
            }
        };
        out.insert(name, v);
    }
    Ok(out)
}

/// Largest magnitude a half-precision component holds.
const HALF_MAX: f32 = 65504.0;

/// Rounds every component of vector `name` to the nearest half-precision value (what a
/// `Float16` space keeps); a component beyond ±65504 is an error.
pub(crate) fn round_to_half(name: &str, v: &mut [f32]) -> Result<()> {
    use azimuth_index::distance::half::{f16_to_f32, f32_to_f16};
    if let Some(x) = v.iter().find(|x| x.abs() > HALF_MAX) {
        return Err(Error::invalid(format!(
            "vector {} has datatype float16, whose components lie within ±{HALF_MAX}; got {x}",
            display_name(name)
        )));
    }
    v.iter_mut().for_each(|x| *x = f16_to_f32(f32_to_f16(*x)));
    Ok(())
}

pub(crate) fn normalize(mut v: Vec<f32>) -> Vec<f32> {
    let n = azimuth_index::distance::norm(&v);
    if n > 0.0 && n.is_finite() {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

fn display_name(name: &str) -> String {
    if name.is_empty() {
        "(unnamed)".to_string()
    } else {
        format!("{name:?}")
    }
}

pub(crate) fn unknown_vector(name: &str, config: &CollectionConfig) -> Error {
    let known: Vec<String> = config
        .vectors
        .keys()
        .chain(config.sparse_vectors.keys())
        .map(|n| display_name(n))
        .collect();
    Error::invalid(format!(
        "this collection has no vector {}; its vectors are: {}",
        display_name(name),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    ))
}

/// Which payload fields to return.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum PayloadSelector {
    #[default]
    All,
    None,
    Include(Vec<JsonPath>),
    Exclude(Vec<JsonPath>),
}

/// Which vectors to return.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum VectorSelector {
    All,
    #[default]
    None,
    Names(Vec<String>),
}

/// Which points a write applies to.
#[derive(Clone, Debug)]
pub enum PointSelector {
    Ids(Vec<PointId>),
    Filter(crate::filter::Filter),
}

/// A point as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub id: PointId,
    pub payload: Option<Payload>,
    pub vectors: Option<NamedVectors>,
    /// The sort value, for scrolls ordered by a payload field.
    pub order_value: Option<OrderValue>,
}

/// A search hit.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredPoint {
    pub id: PointId,
    /// The lsn of the last write that touched the point.
    pub version: u64,
    pub score: f32,
    pub payload: Option<Payload>,
    pub vectors: Option<NamedVectors>,
}

/// A value a scroll was ordered by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OrderValue {
    Int(i64),
    Float(f64),
}

/// The outcome of an acknowledged write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateResult {
    /// The log sequence number of the write (0 for a no-op).
    pub operation_id: u64,
    /// True when the write is durable (it waited for fsync).
    pub completed: bool,
}
