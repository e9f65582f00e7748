//! Little-endian binary encoding for WAL records and segment files.
//!
//! [`Encoder`] appends to a byte vector; [`Decoder`] reads from a slice with every read
//! bounds-checked, so truncated or garbled bytes become a [`Error::Corruption`] naming the
//! file instead of a panic.

use std::path::Path;

use crate::error::{Error, Result};

/// Appends primitive values to a buffer.
#[derive(Default)]
pub(crate) struct Encoder {
    pub buf: Vec<u8>,
}

impl Encoder {
    pub fn with_capacity(n: usize) -> Self {
        Encoder {
            buf: Vec::with_capacity(n),
        }
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.buf.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// A length or count; lengths are u32 on disk (callers enforce the limits).
    pub fn len(&mut self, n: usize) {
        self.u32(n as u32);
    }

    pub fn f32s(&mut self, v: &[f32]) {
        self.buf.reserve(v.len() * 4);
        for x in v {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
    }

    pub fn u32s(&mut self, v: &[u32]) {
        self.buf.reserve(v.len() * 4);
        for x in v {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
    }
}

/// Reads primitive values from a slice; any overrun is corruption of `path`.
pub(crate) struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Decoder<'a> {
    pub fn new(data: &'a [u8], path: &'a Path) -> Self {
        Decoder { data, pos: 0, path }
    }

    pub fn corrupt(&self, what: &str) -> Error {
        Error::corruption(self.path, format!("{what} (at byte {})", self.pos))
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.data[self.pos.min(self.data.len())..];
        self.pos = self.data.len();
        s
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Bytes read so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| self.corrupt("unexpected end of data"))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A count of items each at least `min_item_bytes` long; rejects counts the remaining
    /// bytes cannot hold, so a garbled count never triggers a huge allocation.
    pub fn count(&mut self, min_item_bytes: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        let remaining = self.data.len() - self.pos;
        if n.saturating_mul(min_item_bytes.max(1)) > remaining {
            return Err(self.corrupt("count larger than the remaining data"));
        }
        Ok(n)
    }

    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    pub fn str(&mut self) -> Result<&'a str> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| self.corrupt("invalid UTF-8 in string"))
    }

    pub fn f32s(&mut self, n: usize) -> Result<Vec<f32>> {
        let b = self.take(
            n.checked_mul(4)
                .ok_or_else(|| self.corrupt("length overflow"))?,
        )?;
        Ok(b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    pub fn u32s(&mut self, n: usize) -> Result<Vec<u32>> {
        let b = self.take(
            n.checked_mul(4)
                .ok_or_else(|| self.corrupt("length overflow"))?,
        )?;
        Ok(b.chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_overrun() {
        let mut e = Encoder::default();
        e.u8(7);
        e.u32(42);
        e.u64(u64::MAX);
        e.str("héllo");
        e.f32s(&[1.5, -2.0]);
        let p = Path::new("x");
        let mut d = Decoder::new(&e.buf, p);
        assert_eq!(d.u8().unwrap(), 7);
        assert_eq!(d.u32().unwrap(), 42);
        assert_eq!(d.u64().unwrap(), u64::MAX);
        assert_eq!(d.str().unwrap(), "héllo");
        assert_eq!(d.f32s(2).unwrap(), vec![1.5, -2.0]);
        assert!(d.is_empty());
        assert!(d.u8().is_err());
        let mut d = Decoder::new(&[255, 255, 255, 255], p);
        assert!(d.count(1).is_err());
    }
}
