//! ANN graph files: `graph-<segment id>-<vector number>.azg`, a framed file holding one
//! vector space's HNSW graph over a sealed segment and its ef → recall calibration.
//!
//! Body (little-endian; see `docs/format.md`): `vector name (u32 len + UTF-8) |
//! calibration_count u32 | { ef u32, recall f32 }* | HNSW image (rest of the body, its own
//! layout and CRC, see azimuth-index)`.

use std::path::Path;

use azimuth_index::Hnsw;

use super::codec::{Decoder, Encoder};
use super::files::{frame, unframe};
use crate::ann::VectorGraph;
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"AZGRAPH\0";
const VERSION: u32 = 1;

pub(crate) fn encode(name: &str, graph: &VectorGraph) -> Vec<u8> {
    let image = graph.hnsw.to_bytes();
    let mut e = Encoder::with_capacity(image.len() + 64 + graph.calibration.len() * 8);
    e.str(name);
    e.len(graph.calibration.len());
    for &(ef, recall) in &graph.calibration {
        e.u32(ef);
        e.u32(recall.to_bits());
    }
    e.buf.extend_from_slice(&image);
    frame(MAGIC, VERSION, &e.buf)
}

/// Decodes a graph file; returns the vector name it was built for and the graph.
pub(crate) fn decode(path: &Path, file: &[u8]) -> Result<(String, VectorGraph)> {
    let body = unframe(path, file, MAGIC, VERSION)?;
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
    let hnsw = Hnsw::from_bytes(d.rest()).map_err(|e| Error::corruption(path, e.to_string()))?;
    Ok((
        name,
        VectorGraph {
            hnsw,
            calibration,
            codes: None,
            all_present: false,
        },
    ))
}
