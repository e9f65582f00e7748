//! Serialisation of [`BinaryCodes`]: a k-means over the rows and a pass assigning every row
//! costs seconds per hundred thousand rows, so a store keeps the codes instead of encoding
//! them again on open. (Int8 codes are one pass over the rows, cheaper than reading them.)
//!
//! Layout, little-endian: `magic "AZMBINQ\0" | version u32 (1) | metric u8, 3 zero bytes |
//! dim u32 | rows u32 | clusters u32 | mean f32·dim | centroids f32·clusters·dim |
//! cluster u16·rows | zero bytes to a multiple of 4 | bits u64·rows·⌈dim/64⌉ |
//! factor f32·rows | ones u32·rows | shift f32·rows | norm_sq f32·rows`. Loading checks
//! every size, that each row's centroid exists, that no bit lies past `dim` and that each
//! row's count of set bits is the stored one; a failed check is a [`CodesError`].

use std::fmt;

use super::{BinaryCodes, MAX_CLUSTERS};
use crate::bytes::{le_u32, metric_code, metric_from_code, Reader, Truncated};
use crate::distance::Metric;

const MAGIC: [u8; 8] = *b"AZMBINQ\0";
const VERSION: u32 = 1;

/// Serialised codes that are not valid.
#[derive(Clone, Debug, PartialEq)]
pub struct CodesError(String);

impl fmt::Display for CodesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt quantized codes: {}", self.0)
    }
}

impl std::error::Error for CodesError {}

impl From<Truncated> for CodesError {
    fn from(t: Truncated) -> CodesError {
        CodesError(t.0.to_string())
    }
}

fn corrupt<T>(why: impl Into<String>) -> Result<T, CodesError> {
    Err(CodesError(why.into()))
}

impl BinaryCodes {
    /// The codes as self-describing bytes (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let rows = self.rows();
        let mut out = Vec::with_capacity(32 + self.memory_bytes());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&[metric_code(self.metric), 0, 0, 0]);
        for n in [self.dim, rows, self.clusters()] {
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        let floats = |out: &mut Vec<u8>, xs: &[f32]| {
            for x in xs {
                out.extend_from_slice(&x.to_le_bytes());
            }
        };
        floats(&mut out, &self.mean);
        floats(&mut out, &self.centroids);
        for c in &self.cluster {
            out.extend_from_slice(&c.to_le_bytes());
        }
        out.resize(out.len().next_multiple_of(4), 0);
        for w in &self.bits {
            out.extend_from_slice(&w.to_le_bytes());
        }
        floats(&mut out, &self.factor);
        for n in &self.ones {
            out.extend_from_slice(&n.to_le_bytes());
        }
        floats(&mut out, &self.shift);
        floats(&mut out, &self.norm_sq);
        out
    }

    /// Loads bytes written by [`BinaryCodes::to_bytes`], checking them completely.
    pub fn from_bytes(bytes: &[u8]) -> Result<BinaryCodes, CodesError> {
        let mut r = Reader(bytes);
        if r.take(8)? != MAGIC {
            return corrupt("bad magic");
        }
        let version = r.u32()?;
        if version != VERSION {
            return corrupt(format!("unsupported version {version}"));
        }
        let metric = match r.take(4)? {
            &[code, 0, 0, 0] => metric_from_code(code).filter(|&m| m != Metric::L1),
            _ => None,
        };
        let Some(metric) = metric else {
            return corrupt("bad metric or reserved bytes");
        };
        let (dim, rows, clusters) = (r.u32()? as usize, r.u32()? as usize, r.u32()? as usize);
        if dim == 0 || !(1..=MAX_CLUSTERS).contains(&clusters) {
            return corrupt(format!("dim {dim} or {clusters} centroids out of range"));
        }
        let words = dim.div_ceil(64);
        let floats = |r: &mut Reader<'_>, n: Option<usize>| -> Result<Vec<f32>, CodesError> {
            let bytes = r.take_items(n, 4)?;
            Ok(bytes
                .chunks_exact(4)
                .map(|b| f32::from_bits(le_u32(b)))
                .collect())
        };
        let mean = floats(&mut r, Some(dim))?;
        let centroids = floats(&mut r, clusters.checked_mul(dim))?;
        let cluster: Vec<u16> = r
            .take_items(Some(rows), 2)?
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        if r.take((rows * 2).next_multiple_of(4) - rows * 2)?
            .iter()
            .any(|&b| b != 0)
        {
            return corrupt("bad padding after the centroid ids");
        }
        if cluster.iter().any(|&c| usize::from(c) >= clusters) {
            return corrupt("a row's centroid does not exist");
        }
        let bits: Vec<u64> = r
            .take_items(rows.checked_mul(words), 8)?
            .chunks_exact(8)
            .map(|b| {
                let mut w = [0u8; 8];
                w.copy_from_slice(b);
                u64::from_le_bytes(w)
            })
            .collect();
        let factor = floats(&mut r, Some(rows))?;
        let ones: Vec<u32> = r
            .take_items(Some(rows), 4)?
            .chunks_exact(4)
            .map(le_u32)
            .collect();
        let shift = floats(&mut r, Some(rows))?;
        let norm_sq = floats(&mut r, Some(rows))?;
        if r.remaining() != 0 {
            return corrupt("bytes after the codes");
        }
        let past_dim = match dim % 64 {
            0 => 0,
            used => !0u64 << used,
        };
        for (code, &n) in bits.chunks_exact(words).zip(&ones) {
            let set: u32 = code.iter().map(|w| w.count_ones()).sum();
            if code[words - 1] & past_dim != 0 || set != n {
                return corrupt("a row's bits do not match its count");
            }
        }
        Ok(BinaryCodes {
            dim,
            words,
            metric,
            mean,
            centroids,
            cluster,
            bits,
            factor,
            ones,
            shift,
            norm_sq,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(rows: usize, dim: usize) -> BinaryCodes {
        let data: Vec<f32> = (0..rows * dim)
            .map(|i| ((i * 7919 % 1013) as f32 / 1013.0) - 0.5)
            .collect();
        BinaryCodes::encode(&data, dim, Metric::L2Squared).unwrap()
    }

    /// Codes read back estimate exactly as the written ones; damage anywhere in the
    /// structure is an error, never a panic or a silent misestimate.
    #[test]
    fn binary_codes_round_trip_and_damage_is_reported() {
        for dim in [64, 100] {
            let codes = codes(301, dim);
            let bytes = codes.to_bytes();
            let read = BinaryCodes::from_bytes(&bytes).unwrap();
            assert_eq!(read.to_bytes(), bytes);
            let q: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.37).sin()).collect();
            let (a, b) = (codes.query(&q), read.query(&q));
            use crate::hnsw::QueryDistance;
            assert!((0..301).all(|r| a.distance(r) == b.distance(r)));

            let mut extra = bytes.clone();
            extra.push(0);
            assert!(BinaryCodes::from_bytes(&extra).is_err());
            for cut in [0, 7, 30, bytes.len() / 2, bytes.len() - 1] {
                assert!(
                    BinaryCodes::from_bytes(&bytes[..cut]).is_err(),
                    "cut at {cut}"
                );
            }
            // a centroid id past the centroids
            let at = 28 + (dim + codes.clusters() * dim) * 4;
            let mut bad = bytes.clone();
            bad[at..at + 2].copy_from_slice(&u16::MAX.to_le_bytes());
            assert!(BinaryCodes::from_bytes(&bad).is_err());
            // a flipped bit of the first row's code
            let bits_at = (at + 301 * 2).next_multiple_of(4);
            let mut bad = bytes.clone();
            bad[bits_at] ^= 1;
            assert!(BinaryCodes::from_bytes(&bad).is_err());
            // L1 has no binary codes
            let mut bad = bytes.clone();
            bad[12] = 2;
            assert!(BinaryCodes::from_bytes(&bad).is_err());
        }
    }
}
