//! Logged write operations and their binary encoding (the WAL record payload).
//!
//! Operations are logged after validation and after filters were resolved to ids, so replay
//! is a deterministic re-application that needs no filter evaluation.

use std::path::Path;

use crate::error::Result;
use crate::point::{NamedVectors, PointStruct, SparseVector, Vector};
use crate::storage::codec::{Decoder, Encoder};
use crate::types::{Payload, PointId};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    Upsert(Vec<PointStruct>),
    Delete(Vec<PointId>),
    SetPayload {
        ids: Vec<PointId>,
        payload: Payload,
        key: Option<String>,
    },
    OverwritePayload {
        ids: Vec<PointId>,
        payload: Payload,
    },
    DeletePayload {
        ids: Vec<PointId>,
        keys: Vec<String>,
    },
    ClearPayload {
        ids: Vec<PointId>,
    },
    UpdateVectors(Vec<(PointId, NamedVectors)>),
    DeleteVectors {
        ids: Vec<PointId>,
        names: Vec<String>,
    },
    CreateIndex {
        key: String,
        schema: String,
    },
    DropIndex {
        key: String,
    },
}

pub(crate) fn encode_id(e: &mut Encoder, id: &PointId) {
    match id {
        PointId::Num(n) => {
            e.u8(0);
            e.u64(*n);
        }
        PointId::Uuid(u) => {
            e.u8(1);
            e.buf.extend_from_slice(u.as_bytes());
        }
        PointId::Str(s) => {
            e.u8(2);
            e.str(s);
        }
    }
}

pub(crate) fn decode_id(d: &mut Decoder) -> Result<PointId> {
    Ok(match d.u8()? {
        0 => PointId::Num(d.u64()?),
        1 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(d.take(16)?);
            PointId::Uuid(uuid::Uuid::from_bytes(b))
        }
        2 => PointId::Str(d.str()?.to_string()),
        _ => return Err(d.corrupt("unknown point id tag")),
    })
}

pub(crate) fn encode_payload(e: &mut Encoder, p: &Payload) {
    let at = e.buf.len();
    e.len(0);
    if p.is_empty() {
        return;
    }
    // Serialised in place behind its length. A map of JSON values cannot fail to
    // serialise; should it, the payload is written empty rather than half.
    if serde_json::to_writer(&mut e.buf, p).is_err() {
        e.buf.truncate(at + 4);
        return;
    }
    let n = (e.buf.len() - at - 4) as u32;
    e.buf[at..at + 4].copy_from_slice(&n.to_le_bytes());
}

pub(crate) fn decode_payload(d: &mut Decoder) -> Result<Payload> {
    let b = d.bytes()?;
    if b.is_empty() {
        return Ok(Payload::new());
    }
    serde_json::from_slice(b).map_err(|_| d.corrupt("payload is not a JSON object"))
}

fn encode_sparse(e: &mut Encoder, s: &SparseVector) {
    e.len(s.indices.len());
    e.u32s(&s.indices);
    e.f32s(&s.values);
}

pub(crate) fn decode_sparse(d: &mut Decoder) -> Result<SparseVector> {
    let n = d.count(8)?;
    Ok(SparseVector {
        indices: d.u32s(n)?,
        values: d.f32s(n)?,
    })
}

pub(crate) fn encode_sparse_opt(e: &mut Encoder, s: Option<&SparseVector>) {
    match s {
        None => e.u8(0),
        Some(s) => {
            e.u8(1);
            encode_sparse(e, s);
        }
    }
}

fn encode_vectors(e: &mut Encoder, v: &NamedVectors) {
    e.len(v.len());
    for (name, vec) in v {
        e.str(name);
        match vec {
            Vector::Dense(d) => {
                e.u8(0);
                e.len(d.len());
                e.f32s(d);
            }
            Vector::Sparse(s) => {
                e.u8(1);
                encode_sparse(e, s);
            }
        }
    }
}

fn decode_vectors(d: &mut Decoder) -> Result<NamedVectors> {
    let n = d.count(6)?;
    let mut out = NamedVectors::new();
    for _ in 0..n {
        let name = d.str()?.to_string();
        let v = match d.u8()? {
            0 => {
                let len = d.count(4)?;
                Vector::Dense(d.f32s(len)?)
            }
            1 => Vector::Sparse(decode_sparse(d)?),
            _ => return Err(d.corrupt("unknown vector tag")),
        };
        out.insert(name, v);
    }
    Ok(out)
}

fn encode_ids(e: &mut Encoder, ids: &[PointId]) {
    e.len(ids.len());
    ids.iter().for_each(|id| encode_id(e, id));
}

fn decode_ids(d: &mut Decoder) -> Result<Vec<PointId>> {
    let n = d.count(2)?;
    (0..n).map(|_| decode_id(d)).collect()
}

fn encode_strs(e: &mut Encoder, v: &[String]) {
    e.len(v.len());
    v.iter().for_each(|s| e.str(s));
}

fn decode_strs(d: &mut Decoder) -> Result<Vec<String>> {
    let n = d.count(4)?;
    (0..n).map(|_| d.str().map(str::to_string)).collect()
}

impl Op {
    /// Bytes to reserve for [`Op::encode`]: exact for an upsert's vectors, a guess for the
    /// rest (a batch of uploads is mostly vectors; growing a buffer of that size copies it).
    fn size_hint(&self) -> usize {
        match self {
            Op::Upsert(points) => points
                .iter()
                .map(|p| {
                    let vectors: usize = p
                        .vectors
                        .iter()
                        .map(|(name, v)| {
                            name.len()
                                + 9
                                + match v {
                                    Vector::Dense(d) => d.len() * 4,
                                    Vector::Sparse(s) => 4 + s.indices.len() * 8,
                                }
                        })
                        .sum();
                    // id, count, and a modest payload
                    vectors + 32 + 64 * p.payload.len()
                })
                .sum::<usize>()
                .saturating_add(8),
            _ => 256,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(self.size_hint());
        match self {
            Op::Upsert(points) => {
                e.u8(1);
                e.len(points.len());
                for p in points {
                    encode_id(&mut e, &p.id);
                    encode_vectors(&mut e, &p.vectors);
                    encode_payload(&mut e, &p.payload);
                }
            }
            Op::Delete(ids) => {
                e.u8(2);
                encode_ids(&mut e, ids);
            }
            Op::SetPayload { ids, payload, key } => {
                e.u8(3);
                encode_ids(&mut e, ids);
                encode_payload(&mut e, payload);
                encode_strs(&mut e, key.as_slice());
            }
            Op::OverwritePayload { ids, payload } => {
                e.u8(4);
                encode_ids(&mut e, ids);
                encode_payload(&mut e, payload);
            }
            Op::DeletePayload { ids, keys } => {
                e.u8(5);
                encode_ids(&mut e, ids);
                encode_strs(&mut e, keys);
            }
            Op::ClearPayload { ids } => {
                e.u8(6);
                encode_ids(&mut e, ids);
            }
            Op::UpdateVectors(points) => {
                e.u8(7);
                e.len(points.len());
                for (id, v) in points {
                    encode_id(&mut e, id);
                    encode_vectors(&mut e, v);
                }
            }
            Op::DeleteVectors { ids, names } => {
                e.u8(8);
                encode_ids(&mut e, ids);
                encode_strs(&mut e, names);
            }
            Op::CreateIndex { key, schema } => {
                e.u8(9);
                e.str(key);
                e.str(schema);
            }
            Op::DropIndex { key } => {
                e.u8(10);
                e.str(key);
            }
        }
        e.buf
    }

    pub fn decode(bytes: &[u8], path: &Path) -> Result<Op> {
        let mut d = Decoder::new(bytes, path);
        let op = match d.u8()? {
            1 => {
                let n = d.count(10)?;
                let mut points = Vec::with_capacity(n);
                for _ in 0..n {
                    let id = decode_id(&mut d)?;
                    let vectors = decode_vectors(&mut d)?;
                    let payload = decode_payload(&mut d)?;
                    points.push(PointStruct {
                        id,
                        vectors,
                        payload,
                    });
                }
                Op::Upsert(points)
            }
            2 => Op::Delete(decode_ids(&mut d)?),
            3 => {
                let ids = decode_ids(&mut d)?;
                let payload = decode_payload(&mut d)?;
                let key = decode_strs(&mut d)?.into_iter().next();
                Op::SetPayload { ids, payload, key }
            }
            4 => Op::OverwritePayload {
                ids: decode_ids(&mut d)?,
                payload: decode_payload(&mut d)?,
            },
            5 => Op::DeletePayload {
                ids: decode_ids(&mut d)?,
                keys: decode_strs(&mut d)?,
            },
            6 => Op::ClearPayload {
                ids: decode_ids(&mut d)?,
            },
            7 => {
                let n = d.count(6)?;
                let mut points = Vec::with_capacity(n);
                for _ in 0..n {
                    points.push((decode_id(&mut d)?, decode_vectors(&mut d)?));
                }
                Op::UpdateVectors(points)
            }
            8 => Op::DeleteVectors {
                ids: decode_ids(&mut d)?,
                names: decode_strs(&mut d)?,
            },
            9 => Op::CreateIndex {
                key: d.str()?.to_string(),
                schema: d.str()?.to_string(),
            },
            10 => Op::DropIndex {
                key: d.str()?.to_string(),
            },
            _ => return Err(d.corrupt("unknown operation tag")),
        };
        if !d.is_empty() {
            return Err(d.corrupt("trailing bytes after operation"));
        }
        Ok(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_round_trips() {
        let mut payload = Payload::new();
        payload.insert(
            "a".into(),
            serde_json::json!({"b": [1, 2.5, "x", null, true]}),
        );
        let mut vectors = NamedVectors::new();
        vectors.insert("".into(), Vector::Dense(vec![1.0, -0.5]));
        vectors.insert(
            "s".into(),
            Vector::Sparse(SparseVector {
                indices: vec![1, 9],
                values: vec![0.5, 2.0],
            }),
        );
        let ids = vec![
            PointId::Num(7),
            PointId::Uuid(uuid::Uuid::from_u128(99)),
            PointId::Str("doc-1".into()),
        ];
        let ops = vec![
            Op::Upsert(vec![PointStruct {
                id: ids[0].clone(),
                vectors: vectors.clone(),
                payload: payload.clone(),
            }]),
            Op::Delete(ids.clone()),
            Op::SetPayload {
                ids: ids.clone(),
                payload: payload.clone(),
                key: Some("a.b".into()),
            },
            Op::SetPayload {
                ids: ids.clone(),
                payload: payload.clone(),
                key: None,
            },
            Op::OverwritePayload {
                ids: ids.clone(),
                payload: Payload::new(),
            },
            Op::DeletePayload {
                ids: ids.clone(),
                keys: vec!["a".into(), "b.c".into()],
            },
            Op::ClearPayload { ids: ids.clone() },
            Op::UpdateVectors(vec![(ids[2].clone(), vectors)]),
            Op::DeleteVectors {
                ids,
                names: vec!["".into()],
            },
            Op::CreateIndex {
                key: "a.b".into(),
                schema: "keyword".into(),
            },
            Op::DropIndex { key: "a.b".into() },
        ];
        for op in ops {
            let bytes = op.encode();
            assert_eq!(Op::decode(&bytes, Path::new("w")).unwrap(), op);
            for cut in 0..bytes.len() {
                assert!(Op::decode(&bytes[..cut], Path::new("w")).is_err());
            }
        }
    }
}
