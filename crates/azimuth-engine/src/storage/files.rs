//! File primitives: checksummed "framed" files written atomically, directory fsync, the
//! database lock.
//!
//! A framed file is `magic[8] | version u32 | flags u32 | body_len u64 | body | crc32 u32`,
//! the CRC covering everything before it (see `docs/format.md`). It is written to a temporary
//! name, fsynced, renamed over the target and the directory fsynced, so a reader sees either
//! the old or the new file, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::codec::Encoder;
use crate::error::{Error, Result};

pub(crate) const FRAME_HEADER: usize = 24;

/// Extra attempts, 10 ms apart, to take a database lock that looks held.
const LOCK_RETRIES: u32 = 20;

/// The header of a framed file whose body is `body_len` bytes.
fn frame_header(magic: &[u8; 8], version: u32, body_len: u64) -> [u8; FRAME_HEADER] {
    let mut head = [0u8; FRAME_HEADER];
    head[..8].copy_from_slice(magic);
    head[8..12].copy_from_slice(&version.to_le_bytes());
    // bytes 12..16: flags, 0
    head[16..24].copy_from_slice(&body_len.to_le_bytes());
    head
}

/// Encodes `body` as a framed file image.
pub(crate) fn frame(magic: &[u8; 8], version: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEADER + body.len() + 4);
    out.extend_from_slice(&frame_header(magic, version, body.len() as u64));
    out.extend_from_slice(body);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks a framed file image and returns its body. `supported` is the highest version this
/// build reads.
pub(crate) fn unframe<'a>(
    path: &Path,
    data: &'a [u8],
    magic: &[u8; 8],
    supported: u32,
) -> Result<&'a [u8]> {
    if data.len() < FRAME_HEADER + 4 {
        return Err(Error::corruption(path, "file is shorter than its header"));
    }
    if &data[..8] != magic {
        return Err(Error::corruption(
            path,
            "wrong magic bytes: not an Azimuth file of this kind",
        ));
    }
    let version = u32::from_le_bytes([data[8], data[9], data[10], data[11]]);
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&data[16..24]);
    let body_len = u64::from_le_bytes(len_bytes);
    if body_len != (data.len() - FRAME_HEADER - 4) as u64 {
        return Err(Error::corruption(
            path,
            format!(
                "body length {body_len} does not match the file size {}",
                data.len()
            ),
        ));
    }
    let crc_at = data.len() - 4;
    let stored = u32::from_le_bytes([
        data[crc_at],
        data[crc_at + 1],
        data[crc_at + 2],
        data[crc_at + 3],
    ]);
    if crc32fast::hash(&data[..crc_at]) != stored {
        return Err(Error::corruption(path, "checksum mismatch"));
    }
    if version == 0 || version > supported {
        return Err(Error::corruption(
            path,
            format!("format version {version} is not supported by this build (max {supported}); upgrade Azimuth"),
        ));
    }
    Ok(&data[FRAME_HEADER..crc_at])
}

/// Writes `bytes` to `path` atomically and durably (temp file, fsync, rename, fsync dir).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_path(path);
    let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    sync_dir(parent(path))
}

/// A new framed file (one that must not exist yet: immutable segment files) written while
/// its body is encoded: the body goes to the file in pieces of about [`SPILL_BYTES`], so a
/// large file never sits in memory whole. The bytes are those [`frame`] would give; the
/// header is filled in last, and the file is fsynced with its directory by
/// [`FrameWriter::finish`]. Dropped unfinished, it leaves an orphan that is not in any
/// manifest (removed before the next attempt).
pub(crate) struct FrameWriter {
    /// Encode the body here; call [`FrameWriter::spill`] now and then.
    pub enc: Encoder,
    file: File,
    path: PathBuf,
    body_crc: crc32fast::Hasher,
    body_len: u64,
}

/// Body bytes buffered before they are written out.
pub(crate) const SPILL_BYTES: usize = 1 << 20;

impl FrameWriter {
    pub fn create_new(path: &Path) -> Result<FrameWriter> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        file.write_all(&[0u8; FRAME_HEADER])
            .map_err(|e| Error::io(path, e))?;
        Ok(FrameWriter {
            enc: Encoder::with_capacity(SPILL_BYTES + (64 << 10)),
            file,
            path: path.to_path_buf(),
            body_crc: crc32fast::Hasher::new(),
            body_len: 0,
        })
    }

    /// The file offset the next encoded byte lands at.
    pub fn position(&self) -> u64 {
        (FRAME_HEADER + self.enc.buf.len()) as u64 + self.body_len
    }

    /// Writes the buffered body out once it has grown past [`SPILL_BYTES`].
    pub fn spill(&mut self) -> Result<()> {
        if self.enc.buf.len() >= SPILL_BYTES {
            self.write_buffered()?;
        }
        Ok(())
    }

    fn write_buffered(&mut self) -> Result<()> {
        self.body_crc.update(&self.enc.buf);
        self.body_len += self.enc.buf.len() as u64;
        self.file
            .write_all(&self.enc.buf)
            .map_err(|e| Error::io(&self.path, e))?;
        self.enc.buf.clear();
        Ok(())
    }

    /// Writes the rest of the body, the checksum and the header; fsyncs the file and its
    /// directory.
    pub fn finish(mut self, magic: &[u8; 8], version: u32) -> Result<()> {
        use std::io::{Seek, SeekFrom};
        self.write_buffered()?;
        let head = frame_header(magic, version, self.body_len);
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head);
        crc.combine(&self.body_crc);
        let path = self.path;
        self.file
            .write_all(&crc.finalize().to_le_bytes())
            .map_err(|e| Error::io(&path, e))?;
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(&head))
            .map_err(|e| Error::io(&path, e))?;
        self.file.sync_all().map_err(|e| Error::io(&path, e))?;
        sync_dir(parent(&path))
    }
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::io(path, e))
}

/// The file's bytes, or `None` when there is no such file.
pub(crate) fn read_file_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(data) => Ok(Some(data)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let d = File::open(dir).map_err(|e| Error::io(dir, e))?;
    d.sync_all().map_err(|e| Error::io(dir, e))
}

pub(crate) fn create_dir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|e| Error::io(path, e))
}

pub(crate) fn remove_file_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// File names in `dir` (not recursive), sorted.
pub(crate) fn list_names(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let rd = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if let Some(name) = entry.file_name().to_str() {
            out.push(name.to_string());
        }
    }
    out.sort();
    Ok(out)
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

/// An exclusive advisory lock on `<dir>/LOCK`, held for the lifetime of the value.
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        let path = dir.join("LOCK");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        // A child process between fork and exec briefly shares every open file of its parent,
        // this lock included; so a lock just released by a closed database can still look
        // held for a moment. Retry for a short while before reporting another holder.
        for attempt in 0.. {
            match file.try_lock() {
                Ok(()) => return Ok(DirLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if attempt < LOCK_RETRIES => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(fs::TryLockError::WouldBlock) => break,
                Err(fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::Locked {
            path: dir.to_path_buf(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip_and_every_flipped_byte_is_caught() {
        let img = frame(b"AZTEST\0\0", 1, b"hello world");
        let p = Path::new("t");
        assert_eq!(unframe(p, &img, b"AZTEST\0\0", 1).unwrap(), b"hello world");
        for i in 0..img.len() {
            let mut bad = img.clone();
            bad[i] ^= 0x10;
            let err = unframe(p, &bad, b"AZTEST\0\0", 1).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Corruption, "byte {i}");
        }
        assert!(unframe(p, &img[..img.len() - 1], b"AZTEST\0\0", 1).is_err());
    }
}

#[cfg(test)]
mod frame_tests {
    use super::*;

    #[test]
    fn streamed_frames_equal_framed_images() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..(3 * SPILL_BYTES + 123))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        for (i, body) in [&b""[..], b"x", &[7u8; 1000], &big].into_iter().enumerate() {
            let path = dir.path().join(format!("f{i}"));
            let mut w = FrameWriter::create_new(&path).unwrap();
            for piece in body.chunks(4099) {
                w.enc.buf.extend_from_slice(piece);
                w.spill().unwrap();
            }
            w.finish(b"AZTEST01", 3).unwrap();
            assert!(
                fs::read(&path).unwrap() == frame(b"AZTEST01", 3, body),
                "body {i}"
            );
            // never over an existing file
            assert!(FrameWriter::create_new(&path).is_err());
        }
    }
}
