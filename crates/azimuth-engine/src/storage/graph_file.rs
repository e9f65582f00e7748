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
//! { graph key | row_count u32 | rows u32* | image (u32 len + HNSW image) }* }*`.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use azimuth_index::{Hnsw, SharedBytes};

use super::codec::{Decoder, Encoder};
use super::files::{frame, unframe, FRAME_HEADER};
use super::mapped::{FileMap, GraphMap};
use crate::ann::{ValueGraph, VectorGraph};
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"AZGRAPH\0";
const VERSION: u32 = 2;
/// Version 2 starts the HNSW image at a multiple of this many bytes into the file.
const IMAGE_ALIGN: usize = 64;
const VALUES_MAGIC: &[u8; 8] = b"AZVALGR\0";
/// Version 2: the same layout, holding version 2 HNSW images.
const VALUES_VERSION: u32 = 2;

/// The value graphs of one payload key, as a value-graph file holds them: the key's path
/// (its text form) and each graph under the key the segment keeps it by.
pub(crate) struct StoredValueGraphs<G> {
    pub key: String,
    pub graphs: Vec<(String, G)>,
}

pub(crate) fn encode(name: &str, graph: &VectorGraph) -> Vec<u8> {
    let image = graph.hnsw.to_bytes();
    let mut e = Encoder::with_capacity(image.len() + 64 + graph.calibration.len() * 8);
    e.str(name);
    e.len(graph.calibration.len());
    for &(ef, recall) in &graph.calibration {
        e.u32(ef);
        e.u32(recall.to_bits());
    }
    let at = FRAME_HEADER + e.buf.len() + 4;
    let pad = at.next_multiple_of(IMAGE_ALIGN) - at;
    e.len(pad);
    e.buf.resize(e.buf.len() + pad, 0);
    e.buf.extend_from_slice(&image);
    frame(MAGIC, VERSION, &e.buf)
}

/// Decodes a graph file; returns the vector name it was built for and the graph, which
/// holds all its links.
pub(crate) fn decode(path: &Path, file: &[u8]) -> Result<(String, VectorGraph)> {
    let (name, calibration, image) = decode_parts(path, file)?;
    let hnsw =
        Hnsw::from_bytes(&file[image]).map_err(|e| Error::corruption(path, e.to_string()))?;
    Ok((name, VectorGraph::loaded(hnsw, calibration)))
}

/// [`decode`] for a graph file's memory map, which the graph keeps: its level-0 lists are
/// read in place (every byte is checked first, as by `decode`).
pub(crate) fn decode_mapped(path: &Path, map: &FileMap) -> Result<(String, VectorGraph)> {
    let (name, calibration, image) = decode_parts(path, map)?;
    let shared: SharedBytes = Arc::new(GraphMap(map.clone()));
    let hnsw =
        Hnsw::from_shared(shared, image).map_err(|e| Error::corruption(path, e.to_string()))?;
    Ok((name, VectorGraph::loaded(hnsw, calibration)))
}

/// A graph file's ef → recall calibration.
type Calibration = Vec<(u32, f32)>;

/// The vector name, the calibration and where the HNSW image lies in `file`.
fn decode_parts(path: &Path, file: &[u8]) -> Result<(String, Calibration, Range<usize>)> {
    let body = unframe(path, file, MAGIC, VERSION)?;
    let version = u32::from_le_bytes([file[8], file[9], file[10], file[11]]);
    let mut d = Decoder::new(body, path);
    let name = d.str()?.to_string();
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
    if version >= 2 {
        let pad = d.u32()? as usize;
        if pad >= IMAGE_ALIGN || d.take(pad)?.iter().any(|&b| b != 0) {
            return Err(d.corrupt("bad padding before the graph"));
        }
    }
    let start = FRAME_HEADER + d.pos();
    let end = start + d.rest().len();
    Ok((name, calibration, start..end))
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
            let hnsw =
                Hnsw::from_bytes(d.bytes()?).map_err(|e| Error::corruption(path, e.to_string()))?;
            let graph = ValueGraph::from_parts(rows, hnsw)
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

    /// A version 2 file read through a map serves its level-0 lists in place; a version 1
    /// file (no padding, a version 1 image) is still read, into memory, mapped or not.
    #[test]
    fn version_2_files_map_their_lists_and_version_1_files_are_still_read() {
        let data: Vec<f32> = (0..200 * 8).map(|i| (i * 37 % 101) as f32).collect();
        let hnsw = Hnsw::build(&data, 8, Metric::L2Squared, HnswParams::default(), 1);
        let image = hnsw.to_bytes();
        let graph = VectorGraph::loaded(hnsw, vec![(16, 0.9), (32, 0.95)]);
        let dir = tempfile::tempdir().unwrap();
        let (v2_path, v1_path) = (dir.path().join("v2.azg"), dir.path().join("v1.azg"));
        std::fs::write(&v2_path, encode("v", &graph)).unwrap();
        // version 1: the image without its padding, the file without its own
        let pad_at = 56 + 200 + 200usize.div_ceil(8);
        let mut old_image = image.clone();
        old_image.drain(pad_at..pad_at.next_multiple_of(64));
        old_image[8] = 1;
        old_image.truncate(old_image.len() - 4);
        let crc = crc32fast::hash(&old_image);
        old_image.extend_from_slice(&crc.to_le_bytes());
        let mut e = Encoder::with_capacity(old_image.len() + 64);
        e.str("v");
        e.len(2);
        for (ef, recall) in [(16u32, 0.9f32), (32, 0.95)] {
            e.u32(ef);
            e.u32(recall.to_bits());
        }
        e.buf.extend_from_slice(&old_image);
        std::fs::write(&v1_path, frame(MAGIC, 1, &e.buf)).unwrap();

        let answer = |g: &VectorGraph| g.hnsw.search(&data, &data[8..16], 5, 32, None);
        let want = answer(&graph);
        let map = crate::storage::mapped::map(&v2_path).unwrap();
        let (name, mapped) = decode_mapped(&v2_path, &map).unwrap();
        assert_eq!(name, "v");
        assert_eq!(mapped.hnsw.shared_bytes(), 200 * (1 + 2 * 16) * 4);
        assert_eq!(mapped.calibration, graph.calibration);
        assert_eq!(answer(&mapped), want);
        for path in [&v1_path, &v2_path] {
            let (_, read) = decode(path, &std::fs::read(path).unwrap()).unwrap();
            assert_eq!((read.hnsw.shared_bytes(), answer(&read)), (0, want.clone()));
        }
        let map = crate::storage::mapped::map(&v1_path).unwrap();
        let (_, old) = decode_mapped(&v1_path, &map).unwrap();
        assert_eq!((old.hnsw.shared_bytes(), answer(&old)), (0, want));
    }
}
