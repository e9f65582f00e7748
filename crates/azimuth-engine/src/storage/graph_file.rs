//! ANN graph files: `graph-<segment id>-<vector number>.azg`, a framed file holding one
//! vector space's HNSW graph over a sealed segment and its ef → recall calibration; and
//! value-graph files: `values-<segment id>-<vector number>.azv`, the graphs of single
//! payload values' rows (see `ann::ValueGraph`) for one vector space of a sealed segment.
//!
//! Graph body (little-endian; see `docs/format.md`): `vector name (u32 len + UTF-8) |
//! calibration_count u32 | { ef u32, recall f32 }* | pad_len u32 | pad_len zero bytes |
//! HNSW image (rest of the body, its own layout and CRC, see azimuth-index)`. The padding
//! (version 2) puts the image at a multiple of 64 bytes into the file, so a memory map of
//! the file can serve the image's level-0 lists in place (`hnsw_config.on_disk`).
//!
//! Value-graph body: `vector name | key_count u32 | { key path | graph_count u32 |
//! { graph key | row_count u32 | rows u32* | calibration (version 3) | image (u32 len +
//! HNSW image) }* }*`, the calibration being `count u32 | { ef u32, recall f32 }*` as in a
//! graph body.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use azimuth_index::{Hnsw, SharedBytes};

use super::codec::{Decoder, Encoder};
use super::files::{frame, unframe, FRAME_HEADER};
use super::mapped::{FileImage, FileMap};
use crate::ann::{Codes, ValueGraph, VectorGraph};
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"AZGRAPH\0";
/// Version 2: the image at a 64-byte offset; version 3: stored quantized codes before it.
const VERSION: u32 = 3;
/// Version 2 starts the HNSW image at a multiple of this many bytes into the file.
const IMAGE_ALIGN: usize = 64;
const VALUES_MAGIC: &[u8; 8] = b"AZVALGR\0";
/// Version 2: version 2 HNSW images; version 3: each graph's calibration after its rows.
const VALUES_VERSION: u32 = 3;

/// The value graphs of one payload key, as a value-graph file holds them: the key's path
/// (its text form) and each graph under the key the segment keeps it by.
pub(crate) struct StoredValueGraphs<G> {
    pub key: String,
    pub graphs: Vec<(String, G)>,
}

pub(crate) fn encode(name: &str, graph: &VectorGraph) -> Vec<u8> {
    let image = graph.hnsw.to_bytes();
    let codes_len = graph.codes.as_ref().map_or(0, |c| c.memory_bytes());
    let mut e = Encoder::with_capacity(image.len() + codes_len + 128 + graph.calibration.len() * 8);
    e.str(name);
    put_calibration(&mut e, &graph.calibration);
    let codes = graph.codes.as_ref().and_then(|c| c.stored());
    e.bytes(codes.as_deref().unwrap_or(&[]));
    let at = FRAME_HEADER + e.buf.len() + 4;
    let pad = at.next_multiple_of(IMAGE_ALIGN) - at;
    e.len(pad);
    e.buf.resize(e.buf.len() + pad, 0);
    e.buf.extend_from_slice(&image);
    frame(MAGIC, VERSION, &e.buf)
}

/// Decodes a graph file; returns the vector name it was built for and the graph, which
/// holds all its links, and its stored codes `with_codes` (skipped otherwise).
pub(crate) fn decode(path: &Path, file: &[u8], with_codes: bool) -> Result<(String, VectorGraph)> {
    let ((name, calibration, codes), image) = decode_parts(path, file, with_codes)?;
    let hnsw =
        Hnsw::from_bytes(&file[image]).map_err(|e| Error::corruption(path, e.to_string()))?;
    Ok((name, VectorGraph::loaded(hnsw, calibration, codes)))
}

/// [`decode`] for a graph file's memory map, which the graph keeps: its level-0 lists are
/// read in place (every byte is checked first, as by `decode`). Without `with_codes` the
/// stored codes are skipped, not decoded (the caller keeps the codes it has).
pub(crate) fn decode_mapped(
    path: &Path,
    map: &FileMap,
    with_codes: bool,
) -> Result<(String, VectorGraph)> {
    let ((name, calibration, codes), image) = decode_parts(path, map, with_codes)?;
    let shared: SharedBytes = Arc::new(FileImage(map.clone()));
    let hnsw =
        Hnsw::from_shared(shared, image).map_err(|e| Error::corruption(path, e.to_string()))?;
    Ok((name, VectorGraph::loaded(hnsw, calibration, codes)))
}

/// A graph file's ef → recall calibration.
type Calibration = Vec<(u32, f32)>;

/// What a graph file holds besides the HNSW image: the vector name, the calibration and the
/// stored quantized codes (version 3; `None` when it kept none).
type Parts = (String, Calibration, Option<Codes>);

/// The parts of a graph file (its codes only `with_codes`) and where its HNSW image lies
/// in `file`.
fn decode_parts(path: &Path, file: &[u8], with_codes: bool) -> Result<(Parts, Range<usize>)> {
    let body = unframe(path, file, MAGIC, VERSION)?;
    let version = u32::from_le_bytes([file[8], file[9], file[10], file[11]]);
    let mut d = Decoder::new(body, path);
    let name = d.str()?.to_string();
    let calibration = get_calibration(&mut d)?;
    let codes = match version {
        3.. => match d.bytes()? {
            [] => None,
            _ if !with_codes => None,
            bytes => Some(Codes::from_stored(bytes).map_err(|e| d.corrupt(&e.to_string()))?),
        },
        _ => None,
    };
    if version >= 2 {
        let pad = d.u32()? as usize;
        if pad >= IMAGE_ALIGN || d.take(pad)?.iter().any(|&b| b != 0) {
            return Err(d.corrupt("bad padding before the graph"));
        }
    }
    let start = FRAME_HEADER + d.pos();
    let end = start + d.rest().len();
    Ok(((name, calibration, codes), start..end))
}

/// `count u32 | { ef u32, recall f32 }*`: a graph's ef → recall@10 table.
fn put_calibration(e: &mut Encoder, calibration: &[(u32, f32)]) {
    e.len(calibration.len());
    for &(ef, recall) in calibration {
        e.u32(ef);
        e.u32(recall.to_bits());
    }
}

/// Reads what [`put_calibration`] wrote: efs strictly ascending, recalls in 0..=1.
fn get_calibration(d: &mut Decoder) -> Result<Calibration> {
    let n = d.count(8)?;
    let mut calibration = Vec::with_capacity(n);
    for _ in 0..n {
        let ef = d.u32()?;
        let recall = f32::from_bits(d.u32()?);
        if !(0.0..=1.0).contains(&recall) {
            return Err(d.corrupt("calibration recall outside 0..=1"));
        }
        calibration.push((ef, recall));
    }
    if calibration.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(d.corrupt("calibration efs not ascending"));
    }
    Ok(calibration)
}

/// Encodes the value graphs of vector `name` of one segment.
pub(crate) fn encode_values(name: &str, keys: &[StoredValueGraphs<Arc<ValueGraph>>]) -> Vec<u8> {
    let images: Vec<Vec<Vec<u8>>> = keys
        .iter()
        .map(|k| k.graphs.iter().map(|(_, g)| g.hnsw().to_bytes()).collect())
        .collect();
    let size: usize = images.iter().flatten().map(Vec::len).sum::<usize>()
        + keys
            .iter()
            .flat_map(|k| &k.graphs)
            .map(|(key, g)| key.len() + g.rows.len() * 4 + 16)
            .sum::<usize>();
    let mut e = Encoder::with_capacity(size + 64);
    e.str(name);
    e.len(keys.len());
    for (k, images) in keys.iter().zip(&images) {
        e.str(&k.key);
        e.len(k.graphs.len());
        for ((key, g), image) in k.graphs.iter().zip(images) {
            e.str(key);
            e.len(g.rows.len());
            e.u32s(&g.rows);
            put_calibration(&mut e, &g.calibration);
            e.bytes(image);
        }
    }
    frame(VALUES_MAGIC, VALUES_VERSION, &e.buf)
}

/// Decodes a value-graph file: the vector name it was written for and its graphs. Each
/// graph is checked against itself (ascending rows, one node per row); whether it still
/// fits the segment is the caller's question.
pub(crate) fn decode_values(
    path: &Path,
    file: &[u8],
) -> Result<(String, Vec<StoredValueGraphs<ValueGraph>>)> {
    let body = unframe(path, file, VALUES_MAGIC, VALUES_VERSION)?;
    let version = u32::from_le_bytes([file[8], file[9], file[10], file[11]]);
    let mut d = Decoder::new(body, path);
    let name = d.str()?.to_string();
    let keys = d.count(8)?;
    let mut out = Vec::with_capacity(keys);
    for _ in 0..keys {
        let key = d.str()?.to_string();
        let count = d.count(12)?;
        let mut graphs = Vec::with_capacity(count);
        for _ in 0..count {
            let graph_key = d.str()?.to_string();
            let rows = d.count(4)?;
            let rows = d.u32s(rows)?;
            let calibration = if version >= 3 {
                get_calibration(&mut d)?
            } else {
                Vec::new()
            };
            let hnsw =
                Hnsw::from_bytes(d.bytes()?).map_err(|e| Error::corruption(path, e.to_string()))?;
            let graph = ValueGraph::from_parts(rows, hnsw, calibration)
                .ok_or_else(|| d.corrupt("a value graph does not fit its rows"))?;
            graphs.push((graph_key, graph));
        }
        out.push(StoredValueGraphs { key, graphs });
    }
    if !d.rest().is_empty() {
        return Err(d.corrupt("bytes after the last value graph"));
    }
    Ok((name, out))
}

#[cfg(test)]
mod tests {
    use azimuth_index::{HnswParams, Metric};

    use super::*;

    /// A version 3 file read through a map serves its level-0 lists in place and gives back
    /// the binary codes it kept; a version 2 file (no codes) and a version 1 file (no
    /// padding, a version 1 image) are still read, into memory, mapped or not.
    #[test]
    fn current_files_map_their_lists_and_keep_codes_and_older_files_are_still_read() {
        let data: Vec<f32> = (0..200 * 8).map(|i| (i * 37 % 101) as f32).collect();
        let hnsw = Hnsw::build(&data, 8, Metric::L2Squared, HnswParams::default(), 1);
        let image = hnsw.to_bytes();
        let binary = azimuth_index::quant::BinaryCodes::encode(&data, 8, Metric::L2Squared);
        let stored = binary.unwrap().to_bytes();
        let codes = Codes::from_stored(&stored).unwrap();
        let calibration = vec![(16, 0.9), (32, 0.95)];
        let graph = VectorGraph::loaded(hnsw, calibration.clone(), Some(codes));
        let dir = tempfile::tempdir().unwrap();
        let path = |v: u32| dir.path().join(format!("v{v}.azg"));
        std::fs::write(path(3), encode("v", &graph)).unwrap();
        // the body up to the codes, as versions 1 and 2 begin
        let mut head = Encoder::with_capacity(64);
        head.str("v");
        put_calibration(&mut head, &calibration);
        // version 2: no codes; padding to put the image at a 64-byte file offset
        let mut e = Encoder::with_capacity(image.len() + 128);
        e.buf.extend_from_slice(&head.buf);
        let at = FRAME_HEADER + e.buf.len() + 4;
        let pad = at.next_multiple_of(IMAGE_ALIGN) - at;
        e.len(pad);
        e.buf.resize(e.buf.len() + pad, 0);
        e.buf.extend_from_slice(&image);
        std::fs::write(path(2), frame(MAGIC, 2, &e.buf)).unwrap();
        // version 1: the image without its padding, the file without its own
        let pad_at = 56 + 200 + 200usize.div_ceil(8);
        let mut old_image = image.clone();
        old_image.drain(pad_at..pad_at.next_multiple_of(64));
        old_image[8] = 1;
        old_image.truncate(old_image.len() - 4);
        let crc = crc32fast::hash(&old_image);
        old_image.extend_from_slice(&crc.to_le_bytes());
        let mut e = Encoder::with_capacity(old_image.len() + 64);
        e.buf.extend_from_slice(&head.buf);
        e.buf.extend_from_slice(&old_image);
        std::fs::write(path(1), frame(MAGIC, 1, &e.buf)).unwrap();

        let answer = |g: &VectorGraph| g.hnsw.search(&data, &data[8..16], 5, 32, None);
        let want = answer(&graph);
        let stored_of = |g: &VectorGraph| g.codes.as_ref().and_then(Codes::stored);
        for v in [3, 2] {
            let map = crate::storage::mapped::map(&path(v)).unwrap();
            let (name, mapped) = decode_mapped(&path(v), &map, true).unwrap();
            assert_eq!(name, "v");
            assert_eq!(mapped.hnsw.shared_bytes(), 200 * (1 + 2 * 16) * 4);
            assert_eq!(mapped.calibration, calibration);
            assert_eq!(answer(&mapped), want);
            let kept = (v == 3).then(|| stored.clone());
            assert_eq!(stored_of(&mapped), kept, "version {v}");
            // links only: the same graph, the codes skipped
            let (_, links) = decode_mapped(&path(v), &map, false).unwrap();
            assert_eq!((answer(&links), stored_of(&links)), (want.clone(), None));
        }
        for v in [1, 2, 3] {
            let (_, read) = decode(&path(v), &std::fs::read(path(v)).unwrap(), true).unwrap();
            assert_eq!((read.hnsw.shared_bytes(), answer(&read)), (0, want.clone()));
            assert_eq!(read.calibration, calibration);
        }
        let map = crate::storage::mapped::map(&path(1)).unwrap();
        let (_, old) = decode_mapped(&path(1), &map, true).unwrap();
        assert_eq!((old.hnsw.shared_bytes(), answer(&old)), (0, want));
    }

    /// A value-graph file keeps each graph's calibration (version 3); a version 2 file,
    /// written before, is read with empty tables.
    #[test]
    fn value_graph_files_keep_calibrations_and_version_2_files_are_still_read() {
        let data: Vec<f32> = (0..50 * 4).map(|i| (i * 37 % 101) as f32).collect();
        let hnsw = Hnsw::build(&data, 4, Metric::L2Squared, HnswParams::default(), 1);
        let image = hnsw.to_bytes();
        let rows: Vec<u32> = (0..50).map(|i| i * 3 + 1).collect();
        let calibration = vec![(10, 0.8), (16, 0.93), (24, 1.0)];
        let graph = ValueGraph::from_parts(rows.clone(), hnsw, calibration.clone()).unwrap();
        let keys = [StoredValueGraphs {
            key: "tag".to_string(),
            graphs: vec![("v\0tag\0Integer(1)".to_string(), Arc::new(graph))],
        }];
        let path = Path::new("values-1-0.azv");
        let (name, read) = decode_values(path, &encode_values("v", &keys)).unwrap();
        assert_eq!(name, "v");
        let (key, g) = &read[0].graphs[0];
        assert_eq!(
            (key.as_str(), &g.rows),
            (keys[0].graphs[0].0.as_str(), &rows)
        );
        assert_eq!(g.calibration, calibration);

        let mut e = Encoder::with_capacity(image.len() + 512);
        e.str("v");
        e.len(1);
        e.str("tag");
        e.len(1);
        e.str(&keys[0].graphs[0].0);
        e.len(rows.len());
        e.u32s(&rows);
        e.bytes(&image);
        let (_, read) = decode_values(path, &frame(VALUES_MAGIC, 2, &e.buf)).unwrap();
        let g = &read[0].graphs[0].1;
        assert_eq!((&g.rows, g.calibration.len()), (&rows, 0));
        // a table that is not ascending is corruption, not a silent misestimate
        let bad = ValueGraph::from_parts(
            rows,
            Hnsw::from_bytes(&image).unwrap(),
            vec![(16, 0.9), (10, 0.8)],
        );
        let keys = [StoredValueGraphs {
            key: "tag".to_string(),
            graphs: vec![("k".to_string(), Arc::new(bad.unwrap()))],
        }];
        assert!(decode_values(path, &encode_values("v", &keys)).is_err());
    }
}
