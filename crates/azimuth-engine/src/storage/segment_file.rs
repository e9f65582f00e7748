//! Sealed segment files: `seg-<id>.azs`, a framed file whose body holds the segment's columns.
//!
//! Body (all little-endian; see `docs/format.md`):
//! `rows u32 | ids[rows] | versions u64[rows] | dense_count u32 | { name, dim u32,
//! element u8 (version 3: 0 = f32, 1 = f16), present u8[rows], zero padding to a file
//! offset divisible by 64 (version 2 on), values f32|f16[rows*dim] }* | sparse_count u32 |
//! { name, {tag u8, sparse}[rows] }* | payloads { len u32, json }[rows]`.
//!
//! The aligned values of versions 2 and 3 can be read in place through a memory map
//! ([`Source::Mapped`], [`locate_dense`]); version 1 files are always copied into memory.
//! Columns of `Float16` spaces are written in half precision (version 3).

use std::collections::BTreeMap;
use std::path::Path;

use azimuth_index::distance::half::f32_to_f16;
use azimuth_index::quant::HalfRows;

use super::codec::Decoder;
use super::files::{unframe, FrameWriter, FRAME_HEADER};
use super::mapped::{FileImage, FileMap, MappedFloats};
use crate::error::Result;
use crate::ops::{
    decode_id, decode_payload, decode_sparse, encode_id, encode_payload, encode_sparse_opt,
};
use crate::segment::{DenseColumn, Floats, SegmentData};

const MAGIC: &[u8; 8] = b"AZSEGMT\0";
const VERSION: u32 = 3;
/// Element codes of a dense column's values (version 3).
const ELEMENT_F32: u8 = 0;
const ELEMENT_F16: u8 = 1;
/// Dense values start at a file offset divisible by this (version 2 on): a cache line, so a
/// mapped column is aligned for any SIMD load.
const VALUES_ALIGN: usize = 64;

/// Where [`decode`] reads a segment file from.
pub(crate) enum Source<'a> {
    /// The file's bytes: every column is copied.
    Bytes(&'a [u8]),
    /// A map of the file: dense columns whose name passes the test stay in the file.
    Mapped(&'a FileMap, &'a dyn Fn(&str) -> bool),
}

/// Writes `data` as the new segment file `path`, streaming its columns (see
/// [`FrameWriter`]): the file never sits in memory whole. Columns whose name passes `half`
/// are written in half precision (their values were rounded to it when written).
pub(crate) fn write(path: &Path, data: &SegmentData, half: &dyn Fn(&str) -> bool) -> Result<()> {
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
        let half = half(name);
        w.enc.str(name);
        w.enc.len(col.dim);
        w.enc.u8(if half { ELEMENT_F16 } else { ELEMENT_F32 });
        w.enc.buf.extend(col.present.iter().map(|&p| p as u8));
        let pad = padding(w.position() as usize);
        w.enc.buf.extend(std::iter::repeat_n(0u8, pad));
        w.spill()?;
        match (half, col.data.half(), col.data.f32s()) {
            (true, Some(h), _) => {
                for piece in h.bits().chunks(CHUNK) {
                    w.enc.buf.extend(piece.iter().flat_map(|b| b.to_le_bytes()));
                    w.spill()?;
                }
            }
            (true, None, Some(values)) => {
                for piece in values.chunks(CHUNK) {
                    let bits = piece.iter().flat_map(|&x| f32_to_f16(x).to_le_bytes());
                    w.enc.buf.extend(bits);
                    w.spill()?;
                }
            }
            _ => {
                for piece in col.data.widened().chunks(CHUNK) {
                    w.enc.f32s(piece);
                    w.spill()?;
                }
            }
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

/// Zero bytes that move file offset `at` to the next multiple of [`VALUES_ALIGN`].
fn padding(at: usize) -> usize {
    (VALUES_ALIGN - at % VALUES_ALIGN) % VALUES_ALIGN
}

/// A dense column's header as read from the file, and where its values are.
struct DenseHead<'a> {
    name: &'a str,
    dim: usize,
    /// The values are half precision.
    half: bool,
    present: &'a [u8],
    /// File offset of the first value.
    start: usize,
    values: &'a [u8],
}

fn dense_head<'a>(d: &mut Decoder<'a>, rows: usize, version: u32) -> Result<DenseHead<'a>> {
    let name = d.str()?;
    let dim = d.u32()? as usize;
    let half = match version {
        0..=2 => false,
        _ => match d.u8()? {
            ELEMENT_F32 => false,
            ELEMENT_F16 => true,
            _ => return Err(d.corrupt("unknown element type of a dense column")),
        },
    };
    let present = d.take(rows)?;
    if version >= 2 {
        let pad = padding(FRAME_HEADER + d.pos());
        if d.take(pad)?.iter().any(|&b| b != 0) {
            return Err(d.corrupt("nonzero padding before a dense column's values"));
        }
    }
    let bytes = rows
        .checked_mul(dim)
        .and_then(|n| n.checked_mul(if half { 2 } else { 4 }))
        .ok_or_else(|| d.corrupt("dense column size overflows"))?;
    let start = FRAME_HEADER + d.pos();
    let values = d.take(bytes)?;
    Ok(DenseHead {
        name,
        dim,
        half,
        present,
        start,
        values,
    })
}

/// Skips a body's ids and versions; returns the row count.
fn skip_rows(d: &mut Decoder<'_>) -> Result<usize> {
    let rows = d.count(1 + 8)?;
    for _ in 0..rows {
        decode_id(d)?;
    }
    d.take(rows * 8)?;
    Ok(rows)
}

/// Reads a segment file, checking everything (see [`unframe`]).
pub(crate) fn decode(path: &Path, source: Source<'_>) -> Result<SegmentData> {
    let (file, map) = match source {
        Source::Bytes(b) => (b, None),
        Source::Mapped(m, on_disk) => (&m[..], Some((m, on_disk))),
    };
    let body = unframe(path, file, MAGIC, VERSION)?;
    let version = u32::from_le_bytes([file[8], file[9], file[10], file[11]]);
    let mut d = Decoder::new(body, path);
    let rows = d.count(1 + 8)?;
    let ids = (0..rows)
        .map(|_| decode_id(&mut d))
        .collect::<Result<Vec<_>>>()?;
    let versions = (0..rows).map(|_| d.u64()).collect::<Result<Vec<_>>>()?;
    let mut dense = BTreeMap::new();
    for _ in 0..d.count(8)? {
        let h = dense_head(&mut d, rows, version)?;
        let in_place = match map {
            Some((m, on_disk)) if version >= 2 && on_disk(h.name) => in_place(m, &h),
            _ => None,
        };
        let data = match in_place {
            Some(floats) => floats,
            None if h.half => Floats::Half(HalfRows::from_bits(
                h.values
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect(),
                h.dim,
            )),
            None => Floats::Owned(
                h.values
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
        };
        let column = DenseColumn {
            dim: h.dim,
            data,
            present: h.present.iter().map(|&b| b != 0).collect(),
        };
        dense.insert(h.name.to_string(), column);
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

/// A dense column's values read in place from `map` (f32 or half precision), if the map
/// can serve them (aligned, little-endian machine).
fn in_place(map: &FileMap, h: &DenseHead<'_>) -> Option<Floats> {
    if h.half {
        let image: azimuth_index::SharedBytes = std::sync::Arc::new(FileImage(map.clone()));
        HalfRows::from_shared(image, h.start, h.values.len() / 2, h.dim).map(Floats::Half)
    } else {
        MappedFloats::new(map, h.start, h.values.len() / 4).map(Floats::Mapped)
    }
}

/// The dense columns of a segment file already checked at open or written by this process,
/// located without reading the rest of the file: `(name, values)` for each column a map can
/// serve. Only the header is checked (the checksum would read every page); a version 1
/// file, whose values are not aligned, gives none.
pub(crate) fn locate_dense(path: &Path, map: &FileMap) -> Result<Vec<(String, Floats)>> {
    let file = &map[..];
    let version = match file.get(..12) {
        Some(h) if &h[..8] == MAGIC => u32::from_le_bytes([h[8], h[9], h[10], h[11]]),
        _ => return Ok(Vec::new()),
    };
    if version < 2 || file.len() < FRAME_HEADER + 4 {
        return Ok(Vec::new());
    }
    let mut d = Decoder::new(&file[FRAME_HEADER..file.len() - 4], path);
    let rows = skip_rows(&mut d)?;
    let mut out = Vec::new();
    for _ in 0..d.count(8)? {
        let h = dense_head(&mut d, rows, version)?;
        if let Some(floats) = in_place(map, &h) {
            out.push((h.name.to_string(), floats));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::codec::Encoder;
    use crate::storage::{files, mapped};
    use crate::types::PointId;

    /// Rows with string ids of uneven lengths, so the columns after them start anywhere.
    fn sample() -> SegmentData {
        let rows = 7;
        let mut dense = BTreeMap::new();
        for (name, dim) in [("a", 3usize), ("b", 5)] {
            let values: Vec<f32> = (0..rows * dim).map(|i| i as f32 * 0.5 - 3.0).collect();
            let present = (0..rows).map(|r| r != 2).collect();
            dense.insert(
                name.to_string(),
                DenseColumn {
                    dim,
                    data: values.into(),
                    present,
                },
            );
        }
        SegmentData {
            ids: (0..rows).map(|r| PointId::Str("x".repeat(r + 1))).collect(),
            versions: (0..rows as u64).collect(),
            dense,
            sparse: BTreeMap::new(),
            payloads: vec![Default::default(); rows],
        }
    }

    fn same(a: &SegmentData, b: &SegmentData) {
        assert_eq!(a.ids, b.ids);
        assert_eq!(a.versions, b.versions);
        for ((n1, c1), (n2, c2)) in a.dense.iter().zip(&b.dense) {
            assert_eq!((n1, c1.dim, &c1.present), (n2, c2.dim, &c2.present));
            assert_eq!(c1.data.widened(), c2.data.widened());
        }
    }

    /// Where a column's values start in memory.
    fn address(f: &Floats) -> usize {
        match f.half() {
            Some(h) => h.bits().as_ptr() as usize,
            None => f.f32s().unwrap().as_ptr() as usize,
        }
    }

    #[test]
    fn values_are_aligned_read_in_place_and_half_where_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg.azs");
        // (the sample's values are exact in half precision)
        let data = sample();
        write(&path, &data, &|n| n == "b").unwrap();
        let map = mapped::map(&path).unwrap();
        let located = locate_dense(&path, &map).unwrap();
        assert_eq!(located.len(), 2);
        for (name, m) in &located {
            let at = address(m) - map.as_ptr() as usize;
            assert_eq!(at % VALUES_ALIGN, 0, "{name} starts at byte {at}");
            assert_eq!(m.widened(), data.dense[name].data.widened());
            assert!(m.is_mapped());
            assert_eq!(m.half().is_some(), name == "b");
        }
        for mapped_names in ["a", "b", "ab", ""] {
            let on_disk = |n: &str| mapped_names.contains(n);
            let read = decode(&path, Source::Mapped(&map, &on_disk)).unwrap();
            same(&read, &data);
            for (name, col) in &read.dense {
                assert_eq!(col.data.is_mapped(), on_disk(name), "{name}");
                assert_eq!(col.data.half().is_some(), name == "b", "{name}");
            }
        }
        let bytes = std::fs::read(&path).unwrap();
        let read = decode(&path, Source::Bytes(&bytes)).unwrap();
        assert!(read.dense.values().all(|c| !c.data.is_mapped()));
        assert!(read.dense["b"].data.half().is_some());
        same(&read, &data);
        // half the bytes: the f32 file of the same rows is 7 × 5 × 2 bytes longer
        let path32 = dir.path().join("seg32.azs");
        write(&path32, &data, &|_| false).unwrap();
        let (l16, l32) = (bytes.len(), std::fs::read(&path32).unwrap().len());
        assert!(l32 >= l16 + 70 - VALUES_ALIGN && l32 <= l16 + 70 + VALUES_ALIGN);
    }

    /// A body as versions 1 and 2 wrote it (no element byte; version 2 pads the values).
    fn old_body(data: &SegmentData, version: u32) -> Vec<u8> {
        let mut e = Encoder::with_capacity(1 << 12);
        e.len(data.rows());
        for id in &data.ids {
            encode_id(&mut e, id);
        }
        for v in &data.versions {
            e.u64(*v);
        }
        e.len(data.dense.len());
        for (name, col) in &data.dense {
            e.str(name);
            e.len(col.dim);
            e.buf.extend(col.present.iter().map(|&p| p as u8));
            if version >= 2 {
                let pad = padding(FRAME_HEADER + e.buf.len());
                e.buf.extend(std::iter::repeat_n(0u8, pad));
            }
            e.f32s(&col.data.widened());
        }
        e.len(0);
        for p in &data.payloads {
            encode_payload(&mut e, p);
        }
        e.buf
    }

    #[test]
    fn version_1_files_are_still_read_into_memory() {
        let data = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg.azs");
        std::fs::write(&path, files::frame(MAGIC, 1, &old_body(&data, 1))).unwrap();
        let map = mapped::map(&path).unwrap();
        assert!(locate_dense(&path, &map).unwrap().is_empty());
        let read = decode(&path, Source::Mapped(&map, &|_| true)).unwrap();
        assert!(read.dense.values().all(|c| !c.data.is_mapped()));
        same(&read, &data);
    }

    #[test]
    fn version_2_files_are_still_read_in_place() {
        let data = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg.azs");
        std::fs::write(&path, files::frame(MAGIC, 2, &old_body(&data, 2))).unwrap();
        let map = mapped::map(&path).unwrap();
        assert_eq!(locate_dense(&path, &map).unwrap().len(), 2);
        let read = decode(&path, Source::Mapped(&map, &|n| n == "a")).unwrap();
        assert!(read.dense["a"].data.is_mapped() && !read.dense["b"].data.is_mapped());
        assert!(read.dense.values().all(|c| c.data.half().is_none()));
        same(&read, &data);
    }

    #[test]
    fn an_unknown_element_type_is_corruption() {
        let data = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg.azs");
        write(&path, &data, &|_| false).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        // the element byte of the first column follows its name ("a") and dim
        let body = &bytes[FRAME_HEADER..];
        let at = FRAME_HEADER + find(body, &[1, 0, 0, 0, b'a', 3, 0, 0, 0]).unwrap() + 9;
        assert_eq!(bytes[at], ELEMENT_F32);
        bytes[at] = 7;
        let body_end = bytes.len() - 4;
        let body = bytes[FRAME_HEADER..body_end].to_vec();
        let reframed = files::frame(MAGIC, VERSION, &body);
        let err = decode(&path, Source::Bytes(&reframed)).unwrap_err();
        assert!(err.to_string().contains("element type"), "{err}");
    }

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }
}
