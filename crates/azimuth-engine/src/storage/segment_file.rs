//! Sealed segment files: `seg-<id>.azs`, a framed file whose body holds the segment's columns.
//!
//! Body (all little-endian; see `docs/format.md`):
//! `rows u32 | ids[rows] | versions u64[rows] | dense_count u32 | { name, dim u32,
//! present u8[rows], values f32[rows*dim] }* | sparse_count u32 | { name, {tag u8, sparse}[rows] }*
//! | payloads { len u32, json }[rows]`.

use std::collections::BTreeMap;
use std::path::Path;

use super::codec::Decoder;
use super::files::{unframe, FrameWriter};
use crate::error::Result;
use crate::ops::{
    decode_id, decode_payload, decode_sparse, encode_id, encode_payload, encode_sparse_opt,
};
use crate::segment::{DenseColumn, SegmentData};

const MAGIC: &[u8; 8] = b"AZSEGMT\0";
const VERSION: u32 = 1;

/// Writes `data` as the new segment file `path`, streaming its columns (see
/// [`FrameWriter`]): the file never sits in memory whole.
pub(crate) fn write(path: &Path, data: &SegmentData) -> Result<()> {
    /// Values per piece of a column written out at once.
    const CHUNK: usize = 1 << 16;
    let mut w = FrameWriter::create_new(path)?;
    let rows = data.rows();
    w.enc.len(rows);
    for id in &data.ids {
        encode_id(&mut w.enc, id);
    }
    w.spill()?;
    for v in &data.versions {
        w.enc.u64(*v);
    }
    w.spill()?;
    w.enc.len(data.dense.len());
    for (name, col) in &data.dense {
        w.enc.str(name);
        w.enc.len(col.dim);
        w.enc.buf.extend(col.present.iter().map(|&p| p as u8));
        w.spill()?;
        for piece in col.data.chunks(CHUNK) {
            w.enc.f32s(piece);
            w.spill()?;
        }
    }
    w.enc.len(data.sparse.len());
    for (name, col) in &data.sparse {
        w.enc.str(name);
        for s in col {
            encode_sparse_opt(&mut w.enc, s.as_ref());
            w.spill()?;
        }
    }
    for p in &data.payloads {
        encode_payload(&mut w.enc, p);
        w.spill()?;
    }
    w.finish(MAGIC, VERSION)
}

pub(crate) fn decode(path: &Path, file: &[u8]) -> Result<SegmentData> {
    let body = unframe(path, file, MAGIC, VERSION)?;
    let mut d = Decoder::new(body, path);
    let rows = d.count(1 + 8)?;
    let ids = (0..rows)
        .map(|_| decode_id(&mut d))
        .collect::<Result<Vec<_>>>()?;
    let versions = (0..rows).map(|_| d.u64()).collect::<Result<Vec<_>>>()?;
    let mut dense = BTreeMap::new();
    for _ in 0..d.count(8)? {
        let name = d.str()?.to_string();
        let dim = d.u32()? as usize;
        let present = d.take(rows)?.iter().map(|&b| b != 0).collect();
        let n = rows
            .checked_mul(dim)
            .ok_or_else(|| d.corrupt("dense column size overflows"))?;
        let data = d.f32s(n)?;
        dense.insert(name, DenseColumn { dim, data, present });
    }
    let mut sparse = BTreeMap::new();
    for _ in 0..d.count(4)? {
        let name = d.str()?.to_string();
        let mut col = Vec::with_capacity(rows);
        for _ in 0..rows {
            col.push(match d.u8()? {
                0 => None,
                1 => Some(decode_sparse(&mut d)?),
                _ => return Err(d.corrupt("bad sparse vector tag")),
            });
        }
        sparse.insert(name, col);
    }
    let payloads = (0..rows)
        .map(|_| decode_payload(&mut d))
        .collect::<Result<Vec<_>>>()?;
    if !d.is_empty() {
        return Err(d.corrupt("trailing bytes after the last column"));
    }
    Ok(SegmentData {
        ids,
        versions,
        dense,
        sparse,
        payloads,
    })
}
