//! Serialisation of an [`Hnsw`] graph; the byte layout is documented in the module docs of
//! `hnsw`. Loading trusts nothing: every count and id is checked before the graph is built.

use std::ops::Range;

use super::graph::{Graph, SharedBytes, ABSENT, MAX_LEVEL};
use super::search::ScratchPool;
use super::{Hnsw, HnswError, HnswParams, MAX_EF_CONSTRUCT, MAX_M};
use crate::bytes::{le_u32, metric_code, metric_from_code, Reader, Truncated};
use crate::distance::Metric;

const MAGIC: [u8; 8] = *b"AZMHNSW\0";
const VERSION: u32 = 2;
/// Version 2 starts the level-0 lists at a multiple of this many bytes into the image.
const LEVEL0_ALIGN: usize = 64;
const NO_ENTRY: u32 = u32::MAX;
const CRC_LEN: usize = 4;

impl Hnsw {
    /// The graph (not the vectors) as self-describing, checksummed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.graph.len();
        let levels = self.graph.levels();
        let upper_slots: u64 = levels
            .iter()
            .filter(|&&l| l != ABSENT)
            .map(|&l| u64::from(l) * self.graph.stride_upper() as u64)
            .sum();
        let mut out = Vec::with_capacity(56 + n * (2 + 4 * self.graph.stride0()));
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&[metric_code(self.metric), 0, 0, 0]);
        out.extend_from_slice(&(self.dim as u64).to_le_bytes());
        out.extend_from_slice(&(self.params.m as u32).to_le_bytes());
        out.extend_from_slice(&(self.params.ef_construct as u32).to_le_bytes());
        out.extend_from_slice(&self.params.seed.to_le_bytes());
        out.extend_from_slice(&(n as u32).to_le_bytes());
        out.extend_from_slice(&self.entry.unwrap_or(NO_ENTRY).to_le_bytes());
        out.extend_from_slice(&upper_slots.to_le_bytes());
        out.extend_from_slice(levels);
        let mut bitmap = vec![0u8; n.div_ceil(8)];
        for (i, _) in self.deleted.iter().enumerate().filter(|(_, &d)| d) {
            bitmap[i / 8] |= 1 << (i % 8);
        }
        out.extend_from_slice(&bitmap);
        out.resize(out.len().next_multiple_of(LEVEL0_ALIGN), 0);
        let mut ids = Vec::new();
        for node in 0..n as u32 {
            self.write_list(&mut out, node, 0, &mut ids);
        }
        for (node, &level) in (0u32..).zip(levels) {
            if level != ABSENT {
                for lev in 1..=level {
                    self.write_list(&mut out, node, lev, &mut ids);
                }
            }
        }
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    fn write_list(&self, out: &mut Vec<u8>, node: u32, level: u8, ids: &mut Vec<u32>) {
        self.graph.neighbors_into(node, level, ids);
        let capacity = self.graph.capacity(level);
        out.extend_from_slice(&(ids.len() as u32).to_le_bytes());
        for slot in 0..capacity {
            out.extend_from_slice(&ids.get(slot).copied().unwrap_or(0).to_le_bytes());
        }
    }

    /// Loads bytes written by [`Hnsw::to_bytes`], checking them completely.
    pub fn from_bytes(bytes: &[u8]) -> Result<Hnsw, HnswError> {
        load(bytes, None)
    }

    /// [`Hnsw::from_bytes`] for the image at `range` of `bytes`, which the graph keeps: its
    /// level-0 lists (nearly all of a graph's links) are read in place, not copied, when
    /// the image is of version 2 and they are 4-byte aligned in memory (always, for an
    /// image starting at a multiple of 64 bytes into a memory map). Everything is checked
    /// as by `from_bytes`. See [`Hnsw::shared_bytes`].
    pub fn from_shared(bytes: SharedBytes, range: Range<usize>) -> Result<Hnsw, HnswError> {
        let start = range.start;
        let image = bytes
            .bytes()
            .get(range)
            .ok_or_else(|| corruption("image range outside the bytes"))?;
        load(image, Some((&bytes, start)))
    }
}

/// Loads an image; with `shared` (the bytes holding it and its offset there) a version-2
/// image's level-0 lists are read in place when they can be.
fn load(bytes: &[u8], shared: Option<(&SharedBytes, usize)>) -> Result<Hnsw, HnswError> {
    let Some(split) = bytes.len().checked_sub(CRC_LEN) else {
        return corrupt("shorter than a checksum");
    };
    let (body, stored) = bytes.split_at(split);
    if crc32(body).to_le_bytes() != stored {
        return corrupt("checksum mismatch");
    }
    let mut r = Reader(body);
    let header = Header::read(&mut r)?;
    let levels = r.take(header.n)?.to_vec();
    let bitmap = r.take(header.n.div_ceil(8))?;
    if header.version >= 2 {
        let at = body.len() - r.0.len();
        let padding = r.take(at.next_multiple_of(LEVEL0_ALIGN) - at)?;
        if padding.iter().any(|&b| b != 0) {
            return corrupt("nonzero padding before the lists");
        }
    }
    let level0_at = body.len() - r.0.len();
    let stride0 = 1 + 2 * header.params.m;
    let level0 = r.take_items(header.n.checked_mul(stride0), 4)?;
    let upper = r.take_items(usize::try_from(header.upper_slots).ok(), 4)?;
    if !r.0.is_empty() {
        return corrupt("trailing bytes after the lists");
    }
    let (count, entry) = check_levels(&levels, header.entry, header.upper_slots, header.params)?;
    let deleted = read_deleted(bitmap, &levels)?;
    let m = header.params.m;
    let (graph, in_place) = match shared.filter(|_| header.version >= 2) {
        Some((bytes, base)) => {
            match Graph::with_shared_level0(m, levels, bytes.clone(), base + level0_at) {
                Ok(graph) => (graph, true),
                Err(levels) => (Graph::with_levels(m, levels), false),
            }
        }
        None => (Graph::with_levels(m, levels), false),
    };
    let mut lists = ListReader::new(&graph);
    for (node, slots) in (0u32..).zip(level0.chunks_exact(4 * stride0)) {
        lists.load(node, 0, slots, !in_place)?;
    }
    let mut upper = upper.chunks_exact(4 * graph.stride_upper());
    for (node, &level) in (0u32..).zip(graph.levels()) {
        if level == ABSENT {
            continue;
        }
        for lev in 1..=level {
            let slots = upper
                .next()
                .ok_or_else(|| corruption("upper lists too short"))?;
            lists.load(node, lev, slots, true)?;
        }
    }
    let deleted_count = deleted.iter().filter(|&&d| d).count();
    Ok(Hnsw {
        dim: header.dim,
        metric: header.metric,
        params: header.params,
        graph,
        entry,
        count,
        deleted,
        deleted_count,
        pool: ScratchPool::default(),
    })
}

struct Header {
    version: u32,
    dim: usize,
    metric: Metric,
    params: HnswParams,
    n: usize,
    entry: u32,
    upper_slots: u64,
}

impl Header {
    fn read(r: &mut Reader<'_>) -> Result<Header, HnswError> {
        if r.take(8)? != MAGIC {
            return corrupt("bad magic");
        }
        let version = r.u32()?;
        if !(1..=VERSION).contains(&version) {
            return corrupt(format!("unsupported version {version}"));
        }
        let metric = match r.take(4)? {
            &[code, 0, 0, 0] => metric_from_code(code),
            _ => None,
        };
        let Some(metric) = metric else {
            return corrupt("bad metric or reserved bytes");
        };
        let dim = usize::try_from(r.u64()?).map_err(|_| corruption("dim too large"))?;
        let m = r.u32()? as usize;
        let ef_construct = r.u32()? as usize;
        let seed = r.u64()?;
        if !(2..=MAX_M).contains(&m) || !(1..=MAX_EF_CONSTRUCT).contains(&ef_construct) {
            return corrupt(format!(
                "parameters out of range (m {m}, ef {ef_construct})"
            ));
        }
        let params = HnswParams {
            m,
            ef_construct,
            seed,
        };
        let n = r.u32()? as usize;
        let entry = r.u32()?;
        let upper_slots = r.u64()?;
        Ok(Header {
            version,
            dim,
            metric,
            params,
            n,
            entry,
            upper_slots,
        })
    }
}

/// Checks levels, the entry point and the upper arena size; returns (present nodes, entry).
fn check_levels(
    levels: &[u8],
    entry: u32,
    upper_slots: u64,
    params: HnswParams,
) -> Result<(usize, Option<u32>), HnswError> {
    let present = || levels.iter().copied().filter(|&l| l != ABSENT);
    if present().any(|l| l > MAX_LEVEL) {
        return corrupt("level out of range");
    }
    let count = present().count();
    let expected: u64 = present()
        .map(|l| u64::from(l) * (1 + params.m as u64))
        .sum();
    if expected != upper_slots {
        return corrupt("upper-level size does not match the levels");
    }
    let top = present().max();
    match (top, levels.get(entry as usize)) {
        (None, _) if entry == NO_ENTRY => Ok((0, None)),
        (Some(top), Some(&level)) if level == top => Ok((count, Some(entry))),
        _ => corrupt("entry point is not a node of the top level"),
    }
}

/// The deleted flags; set bits must name present nodes.
fn read_deleted(bitmap: &[u8], levels: &[u8]) -> Result<Vec<bool>, HnswError> {
    let bit = |i: usize| bitmap.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0);
    let deleted: Vec<bool> = (0..levels.len()).map(bit).collect();
    let set_bits: u32 = bitmap.iter().map(|b| b.count_ones()).sum();
    let valid = deleted.iter().zip(levels).all(|(&d, &l)| !d || l != ABSENT);
    if !valid || set_bits as usize != deleted.iter().filter(|&&d| d).count() {
        return corrupt("deleted flag on an absent or nonexistent row");
    }
    Ok(deleted)
}

/// Validates serialised lists and stores them into a graph.
struct ListReader<'g> {
    graph: &'g Graph,
    ids: Vec<u32>,
}

impl<'g> ListReader<'g> {
    fn new(graph: &'g Graph) -> ListReader<'g> {
        ListReader {
            graph,
            ids: Vec::new(),
        }
    }

    /// Checks one list (`count`, then capacity ids) and, if `store` and `node` has `level`,
    /// stores it (lists read in place are only checked).
    fn load(&mut self, node: u32, level: u8, bytes: &[u8], store: bool) -> Result<(), HnswError> {
        let mut words = bytes.chunks_exact(4).map(le_u32);
        let count = words.next().unwrap_or(0) as usize;
        let present = self.graph.level(node).is_some();
        if count > self.graph.capacity(level) || (!present && count > 0) {
            return corrupt(format!(
                "row {node}: bad neighbour count {count} at level {level}"
            ));
        }
        self.ids.clear();
        for (slot, id) in words.enumerate() {
            let reaches = self.graph.level(id).is_some_and(|l| l >= level);
            let ok = if slot < count {
                id != node && reaches
            } else {
                id == 0
            };
            if !ok {
                return corrupt(format!("row {node}: bad neighbour {id} at level {level}"));
            }
            if slot < count {
                self.ids.push(id);
            }
        }
        if present && store {
            self.graph.set_neighbors(node, level, &self.ids);
        }
        Ok(())
    }
}

impl From<Truncated> for HnswError {
    fn from(t: Truncated) -> HnswError {
        corruption(t.0)
    }
}

fn corruption(why: impl Into<String>) -> HnswError {
    HnswError::Corruption(why.into())
}

fn corrupt<T>(why: impl Into<String>) -> Result<T, HnswError> {
    Err(corruption(why))
}

/// CRC-32 (IEEE 802.3, reflected, as zlib and `crc32fast` compute it).
pub(super) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc = CRC_TABLE[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}
