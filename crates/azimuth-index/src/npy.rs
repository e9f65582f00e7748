//! Parsing `.npy` arrays from bytes (no file access here): 2-D, C order, little-endian
//! float32 or float16, as produced by `numpy.save`. Integer arrays (ground truth) are read as
//! i64.

use std::fmt;

/// Why bytes are not a supported `.npy` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyError(pub String);

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a supported .npy array: {}", self.0)
    }
}

impl std::error::Error for NpyError {}

/// A row-major matrix of f32.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

impl Matrix {
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

struct Header {
    descr: String,
    shape: Vec<usize>,
    data_start: usize,
}

fn err<T>(msg: impl Into<String>) -> Result<T, NpyError> {
    Err(NpyError(msg.into()))
}

fn parse_header(bytes: &[u8]) -> Result<Header, NpyError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return err("missing the \\x93NUMPY magic");
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return err(format!("format version {v} is not supported")),
    };
    let end = start
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| NpyError("header runs past the end".into()))?;
    let text = std::str::from_utf8(&bytes[start..end])
        .map_err(|_| NpyError("header is not text".into()))?;
    if text.contains("'fortran_order': True") {
        return err("Fortran-ordered arrays are not supported; save with C order");
    }
    let descr = field(text, "'descr':")
        .and_then(|s| s.split('\'').nth(1))
        .ok_or_else(|| NpyError("no descr".into()))?;
    let shape_text = field(text, "'shape':").ok_or_else(|| NpyError("no shape".into()))?;
    let open = shape_text
        .find('(')
        .ok_or_else(|| NpyError("bad shape".into()))?;
    let close = shape_text
        .find(')')
        .ok_or_else(|| NpyError("bad shape".into()))?;
    let shape = shape_text[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| NpyError(format!("bad dimension {s:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Header {
        descr: descr.to_string(),
        shape,
        data_start: end,
    })
}

fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.find(key).map(|i| &text[i + key.len()..])
}

fn dims(h: &Header) -> Result<(usize, usize), NpyError> {
    match h.shape[..] {
        [r, c] => Ok((r, c)),
        [r] => Ok((r, 1)),
        _ => err(format!(
            "expected a 1-D or 2-D array, got shape {:?}",
            h.shape
        )),
    }
}

fn body<'a>(
    bytes: &'a [u8],
    h: &Header,
    rows: usize,
    cols: usize,
    width: usize,
) -> Result<&'a [u8], NpyError> {
    let n = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(width))
        .ok_or_else(|| NpyError("size overflows".into()))?;
    bytes.get(h.data_start..h.data_start + n).ok_or_else(|| {
        NpyError(format!(
            "data is shorter than the shape {rows}x{cols} needs"
        ))
    })
}

/// Parses a float32 or float16 array into f32.
pub fn parse_f32(bytes: &[u8]) -> Result<Matrix, NpyError> {
    let h = parse_header(bytes)?;
    let (rows, cols) = dims(&h)?;
    let data = match h.descr.as_str() {
        "<f4" => body(bytes, &h, rows, cols, 4)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        "<f2" => body(bytes, &h, rows, cols, 2)?
            .chunks_exact(2)
            .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        d => return err(format!("dtype {d} is not float32 or float16")),
    };
    Ok(Matrix { rows, cols, data })
}

/// Parses an int32 or int64 array (e.g. ground-truth row indices) into rows of i64.
pub fn parse_i64(bytes: &[u8]) -> Result<(usize, usize, Vec<i64>), NpyError> {
    let h = parse_header(bytes)?;
    let (rows, cols) = dims(&h)?;
    let data = match h.descr.as_str() {
        "<i4" => body(bytes, &h, rows, cols, 4)?
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64)
            .collect(),
        "<i8" => body(bytes, &h, rows, cols, 8)?
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
        d => return err(format!("dtype {d} is not int32 or int64")),
    };
    Ok((rows, cols, data))
}

pub use crate::distance::half::f16_to_f32;

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn f32_f16_and_ints() {
        let vals: Vec<u8> = [1.0f32, -2.5, 0.0, 3.25]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let m = parse_f32(&npy("<f4", "(2, 2)", &vals)).unwrap();
        assert_eq!((m.rows, m.cols), (2, 2));
        assert_eq!(m.row(1), &[0.0, 3.25]);
        // 1.0, -2.0, 65504 (max), smallest subnormal
        let halves: Vec<u8> = [0x3c00u16, 0xc000, 0x7bff, 0x0001]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let m = parse_f32(&npy("<f2", "(1, 4)", &halves)).unwrap();
        assert_eq!(m.data[..3], [1.0, -2.0, 65504.0]);
        assert!((m.data[3] - 5.960_464_5e-8).abs() < 1e-12);
        let ints: Vec<u8> = [7i32, -1].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(
            parse_i64(&npy("<i4", "(2,)", &ints)).unwrap(),
            (2, 1, vec![7, -1])
        );
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(parse_f32(b"garbage").is_err());
        assert!(parse_f32(&npy("<f4", "(2, 2)", &[0; 8])).is_err());
        assert!(parse_f32(&npy("<i4", "(1, 1)", &[0; 4])).is_err());
        assert!(parse_f32(&npy("<f4", "(1, 1, 1)", &[0; 4])).is_err());
        assert!(parse_f32(&npy("<f4", "(99999999999999, 99999999999)", &[0; 4])).is_err());
    }
}
