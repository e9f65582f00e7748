//! Rows in IEEE half precision, owned or read in place from shared bytes (a mapped file),
//! and [`RowsRef`]: the exact rows a rescoring reads, in either precision.

use std::sync::Arc;

use crate::distance::half::{f16_score, f16_to_f32, f32_to_f16};
use crate::distance::{kernels, Metric};
use crate::flat::TopK;
use crate::hnsw::SharedBytes;

/// Row-major half-precision values (binary16 bit patterns), `dim` per row; a trailing
/// partial row is ignored. Cloning shares the values.
#[derive(Clone)]
pub struct HalfRows {
    dim: usize,
    store: Arc<HalfStore>,
}

enum HalfStore {
    Owned(Vec<u16>),
    /// `len` little-endian values at `words`, inside `bytes`, only ever read.
    Shared {
        bytes: SharedBytes,
        words: *const u16,
        len: usize,
    },
}

// SAFETY: `words` points into the bytes that the `Arc` (itself `Send + Sync`) keeps alive
// and that nothing writes (see `ImageBytes`); the values are only read.
unsafe impl Send for HalfStore {}
// SAFETY: as above: shared reads of immutable memory.
unsafe impl Sync for HalfStore {}

impl std::fmt::Debug for HalfRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &*self.store {
            HalfStore::Owned(_) => "owned",
            HalfStore::Shared { .. } => "shared",
        };
        write!(f, "HalfRows({} × {}, {kind})", self.rows(), self.dim)
    }
}

impl HalfRows {
    /// `data`'s whole rows rounded to half precision (values beyond ±65504 become ±inf).
    pub fn encode(data: &[f32], dim: usize) -> HalfRows {
        let rows = data.len().checked_div(dim).unwrap_or(0);
        HalfRows::from_bits(
            data[..rows * dim].iter().map(|&x| f32_to_f16(x)).collect(),
            dim,
        )
    }

    /// Rows of the given bit patterns.
    pub fn from_bits(bits: Vec<u16>, dim: usize) -> HalfRows {
        HalfRows {
            dim,
            store: Arc::new(HalfStore::Owned(bits)),
        }
    }

    /// `len` values read in place at byte `start` of `bytes`; `None` unless they lie inside
    /// them, are 2-byte aligned and the machine is little-endian (the caller then copies).
    pub fn from_shared(bytes: SharedBytes, start: usize, len: usize, dim: usize) -> Option<Self> {
        let image = bytes.bytes();
        let end = len.checked_mul(2)?.checked_add(start)?;
        let base = image.get(start..end)?.as_ptr();
        if !base.cast::<u16>().is_aligned() || cfg!(target_endian = "big") {
            return None;
        }
        let words = base.cast::<u16>();
        Some(HalfRows {
            dim,
            store: Arc::new(HalfStore::Shared { bytes, words, len }),
        })
    }

    /// Every value's bit pattern.
    pub fn bits(&self) -> &[u16] {
        match &*self.store {
            HalfStore::Owned(v) => v,
            // SAFETY: `from_shared` checked range and alignment; every bit pattern is a valid
            // u16, and the `Arc` in the store keeps the bytes alive and unchanged.
            HalfStore::Shared { words, len, .. } => unsafe {
                std::slice::from_raw_parts(*words, *len)
            },
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn rows(&self) -> usize {
        self.bits().len().checked_div(self.dim).unwrap_or(0)
    }

    /// Whether `other` holds the very same values (shares them with this).
    pub fn same_values(&self, other: &HalfRows) -> bool {
        Arc::ptr_eq(&self.store, &other.store)
    }

    /// Whether the values are read in place from shared bytes.
    pub fn is_shared(&self) -> bool {
        matches!(&*self.store, HalfStore::Shared { .. })
    }

    /// Heap bytes of owned values (none for shared ones).
    pub fn memory_bytes(&self) -> usize {
        match &*self.store {
            HalfStore::Owned(v) => v.capacity() * 2,
            HalfStore::Shared { .. } => 0,
        }
    }

    /// Bytes of the values, owned or shared.
    pub fn value_bytes(&self) -> usize {
        self.bits().len() * 2
    }

    /// Lets the resident pages of shared values go (a hint; see
    /// `ImageBytes::release_range`).
    pub fn release(&self) {
        if let HalfStore::Shared { bytes, words, len } = &*self.store {
            let start = *words as usize - bytes.bytes().as_ptr() as usize;
            bytes.release_range(start, len * 2);
        }
    }

    /// Row `r`'s bit patterns, if it exists.
    #[inline]
    pub fn row(&self, r: u32) -> Option<&[u16]> {
        let start = usize::try_from(r).ok()?.checked_mul(self.dim)?;
        self.bits().get(start..start.checked_add(self.dim)?)
    }

    /// Row `r` widened to f32.
    pub fn row_f32(&self, r: u32) -> Option<Vec<f32>> {
        Some(self.row(r)?.iter().map(|&h| f16_to_f32(h)).collect())
    }

    /// Row `r` widened to f32 into `out` (replacing its contents); false if there is no such
    /// row.
    pub fn widen_row_into(&self, r: u32, out: &mut Vec<f32>) -> bool {
        let Some(row) = self.row(r) else {
            return false;
        };
        out.clear();
        out.extend(row.iter().map(|&h| f16_to_f32(h)));
        true
    }

    /// Every whole row widened to f32.
    pub fn widened(&self) -> Vec<f32> {
        let n = self.rows() * self.dim;
        self.bits()[..n].iter().map(|&h| f16_to_f32(h)).collect()
    }

    /// `metric` score of row `r` for `query`, if the row exists and the lengths agree.
    #[inline]
    pub fn score(&self, metric: Metric, query: &[f32], r: u32) -> Option<f32> {
        let row = self.row(r).filter(|_| query.len() == self.dim)?;
        Some(f16_score(metric, query, row))
    }

    /// [`crate::flat::search`] over these rows.
    pub fn search(
        &self,
        query: &[f32],
        metric: Metric,
        k: usize,
        mut accept: impl FnMut(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        if k == 0 || self.dim == 0 || query.len() != self.dim {
            return Vec::new();
        }
        let mut top = TopK::new(k, metric.higher_is_better());
        for (r, row) in (0..=u32::MAX).zip(self.bits().chunks_exact(self.dim)) {
            if accept(r) {
                top.push(r, f16_score(metric, query, row));
            }
        }
        top.into_sorted_vec()
    }

    /// [`crate::flat::search_rows`] over these rows: the best `k` of `rows` (ascending; a
    /// repeated row counts once), best first, ties to the smaller row.
    pub fn search_rows(
        &self,
        query: &[f32],
        metric: Metric,
        k: usize,
        rows: &[u32],
    ) -> Vec<(u32, f32)> {
        if k == 0 || query.len() != self.dim {
            return Vec::new();
        }
        crate::flat::best_of_rows(rows, k, metric.higher_is_better(), |r| {
            self.row(r).map(|row| f16_score(metric, query, row))
        })
    }
}

/// The exact rows a rescoring reads: f32, or half precision (a space stored in it).
#[derive(Clone, Copy, Debug)]
pub enum RowsRef<'a> {
    F32(&'a [f32]),
    F16(&'a HalfRows),
}

impl<'a> From<&'a [f32]> for RowsRef<'a> {
    fn from(d: &'a [f32]) -> Self {
        RowsRef::F32(d)
    }
}

impl<'a> From<&'a Vec<f32>> for RowsRef<'a> {
    fn from(d: &'a Vec<f32>) -> Self {
        RowsRef::F32(d)
    }
}

impl<'a> From<&'a HalfRows> for RowsRef<'a> {
    fn from(h: &'a HalfRows) -> Self {
        RowsRef::F16(h)
    }
}

impl RowsRef<'_> {
    /// `metric` score of row `r` (of `dim` values) for `query`, if the row exists.
    #[inline]
    pub fn score(&self, metric: Metric, dim: usize, query: &[f32], r: u32) -> Option<f32> {
        match self {
            RowsRef::F32(data) => {
                let start = usize::try_from(r).ok()?.checked_mul(dim)?;
                let v = data.get(start..start.checked_add(dim)?)?;
                Some(kernels().score(metric, query, v))
            }
            RowsRef::F16(h) => h.score(metric, query, r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounded(n: usize, dim: usize) -> Vec<f32> {
        (0..n * dim)
            .map(|i| f16_to_f32(f32_to_f16(((i * 7919) % 1000) as f32 / 500.0 - 1.0)))
            .collect()
    }

    #[test]
    fn shared_rows_read_the_bytes_in_place_and_match_owned_ones() {
        let data = rounded(50, 8);
        let owned = HalfRows::encode(&data, 8);
        // an image with 6 bytes before the values
        let mut image = vec![0u8; 6];
        image.extend(owned.bits().iter().flat_map(|h| h.to_le_bytes()));
        let image: SharedBytes = Arc::new(image);
        let shared = HalfRows::from_shared(image.clone(), 6, 400, 8).unwrap();
        assert!(shared.is_shared() && !owned.is_shared());
        assert_eq!(shared.bits(), owned.bits());
        assert_eq!((shared.rows(), shared.memory_bytes()), (50, 0));
        assert_eq!(shared.widened(), data);
        assert_eq!(shared.row_f32(3).unwrap(), &data[24..32]);
        assert!(shared.row(50).is_none() && shared.row_f32(50).is_none());
        // out of range or misaligned: refused
        assert!(HalfRows::from_shared(image.clone(), 6, 401, 8).is_none());
        assert!(HalfRows::from_shared(image.clone(), 5, 10, 8).is_none());
        assert!(HalfRows::from_shared(image, usize::MAX, 1, 8).is_none());
    }

    #[test]
    fn scans_match_exact_search_over_the_same_values() {
        let data = rounded(200, 16);
        let half = HalfRows::encode(&data, 16);
        let q = &rounded(201, 16)[200 * 16..];
        for metric in [Metric::Dot, Metric::L2Squared, Metric::L1] {
            let got = half.search(q, metric, 10, |r| r % 2 == 0);
            let want = crate::flat::search(q, &data, 16, metric, 10, |r| r % 2 == 0);
            assert_eq!(got.len(), 10);
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.0, w.0, "{metric:?}");
                assert!((g.1 - w.1).abs() <= 1e-4 * w.1.abs().max(1.0));
            }
            let f32_rows = RowsRef::from(&data);
            let f16_rows = RowsRef::from(&half);
            for r in [0, 7, 199] {
                let a = f32_rows.score(metric, 16, q, r).unwrap();
                let b = f16_rows.score(metric, 16, q, r).unwrap();
                assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0));
            }
            assert!(f16_rows.score(metric, 16, q, 200).is_none());
            assert!(f32_rows.score(metric, 16, q, 200).is_none());
        }
        assert!(half.search(&[0.0; 3], Metric::Dot, 10, |_| true).is_empty());
    }
}
