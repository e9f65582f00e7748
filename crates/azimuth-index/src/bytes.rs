//! Little-endian byte layouts shared by the crate's serialised forms (HNSW images,
//! quantized codes): a reader that fails instead of running past the end, and the metric's
//! one-byte code.

use crate::distance::Metric;

/// Bytes ran out, or a size overflowed, while reading a serialised form.
#[derive(Debug)]
pub(crate) struct Truncated(pub(crate) &'static str);

/// A cursor over bytes that fails instead of running past the end.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], Truncated> {
        if len > self.0.len() {
            return Err(Truncated("truncated"));
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(head)
    }

    /// `count` items of `size` bytes each (`None` = an overflowed count).
    pub(crate) fn take_items(
        &mut self,
        count: Option<usize>,
        size: usize,
    ) -> Result<&'a [u8], Truncated> {
        let len = count.and_then(|c| c.checked_mul(size));
        self.take(len.ok_or(Truncated("size overflows"))?)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Truncated> {
        Ok(le_u32(self.take(4)?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Truncated> {
        let bytes = self.take(8)?;
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(word))
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.0.len()
    }
}

/// The first four bytes as a little-endian u32 (missing bytes read as zero).
pub(crate) fn le_u32(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    for (dst, src) in word.iter_mut().zip(bytes) {
        *dst = *src;
    }
    u32::from_le_bytes(word)
}

pub(crate) fn metric_code(metric: Metric) -> u8 {
    match metric {
        Metric::Dot => 0,
        Metric::L2Squared => 1,
        Metric::L1 => 2,
    }
}

/// The metric of a code written by [`metric_code`].
pub(crate) fn metric_from_code(code: u8) -> Option<Metric> {
    match code {
        0 => Some(Metric::Dot),
        1 => Some(Metric::L2Squared),
        2 => Some(Metric::L1),
        _ => None,
    }
}
