//! Collection snapshots: a tar archive of a checkpointed collection directory plus a
//! `snapshot.json` listing every file with its size and CRC-32, and a SHA-256 of the whole
//! archive beside it (`<name>.checksum`).
//!
//! Unpacking trusts nothing: entry names must be one of the layout's names (no `..`, no
//! absolute paths, no links), sizes and CRCs must match the listing, and the unpacked
//! collection is then opened with the usual checks (framing, checksums) before it replaces
//! anything.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::files::{self, list_names};
use super::CollectionDir;
use crate::error::{Error, Result};
use crate::filter::format_utc;

const LISTING: &str = "snapshot.json";
const FORMAT: u32 = 1;
/// Largest single file accepted from an archive.
const MAX_ENTRY: u64 = 64 << 30;

#[derive(Serialize, Deserialize)]
struct Listing {
    format: u32,
    collection: String,
    /// relative path → (size, crc32)
    files: BTreeMap<String, (u64, u32)>,
}

/// A snapshot file on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub name: String,
    pub size: u64,
    /// SHA-256 of the archive, lowercase hex.
    pub checksum: String,
    /// `YYYY-MM-DDTHH:MM:SS` (UTC).
    pub creation_time: String,
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Files of a checkpointed collection directory, relative paths, sorted.
fn collection_files(dir: &CollectionDir) -> Result<Vec<String>> {
    let mut out = vec!["CONFIG".to_string(), "MANIFEST".to_string()];
    for sub in ["segments", "wal"] {
        for name in list_names(&dir.path.join(sub))? {
            if !name.ends_with(".tmp") {
                out.push(format!("{sub}/{name}"));
            }
        }
    }
    Ok(out)
}

/// Writes `dir` as a snapshot archive at `out` (the caller holds the collection's write lock
/// after a checkpoint, so the files are stable) and its `.checksum` beside it.
pub(crate) fn write(dir: &CollectionDir, collection: &str, out: &Path) -> Result<SnapshotInfo> {
    let mut hashing = ArchiveWriter::create(out)?;
    let tmp = hashing.tmp.clone();
    {
        let mut tar = tar::Builder::new(&mut hashing);
        let mut listing = Listing {
            format: FORMAT,
            collection: collection.to_string(),
            files: BTreeMap::new(),
        };
        let names = collection_files(dir)?;
        let mut contents = Vec::with_capacity(names.len());
        for rel in &names {
            let path = dir.path.join(rel);
            let data = files::read_file(&path)?;
            listing
                .files
                .insert(rel.clone(), (data.len() as u64, crc32fast::hash(&data)));
            contents.push((rel, data));
        }
        let json = serde_json::to_vec(&listing).map_err(|e| Error::Internal(e.to_string()))?;
        append(&mut tar, LISTING, &json, &tmp)?;
        for (rel, data) in contents {
            append(&mut tar, rel, &data, &tmp)?;
        }
        tar.finish().map_err(|e| Error::io(&tmp, e))?;
    }
    hashing.finish(out)
}

fn append<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8], path: &Path) -> Result<()> {
    tar.append(&header(name, data.len() as u64, path)?, data)
        .map_err(|e| Error::io(path, e))
}

/// The ustar header of a regular file entry (`path` names the archive in errors).
pub(super) fn header(name: &str, size: u64, path: &Path) -> Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_path(name).map_err(|e| Error::io(path, e))?;
    h.set_cksum();
    Ok(h)
}

/// An archive being written to `<name>.tmp` and hashed as it goes; [`ArchiveWriter::finish`]
/// syncs it, renames it into place and writes its `.checksum` beside it.
pub(super) struct ArchiveWriter {
    inner: File,
    hash: Sha256,
    pub(super) tmp: PathBuf,
}

impl ArchiveWriter {
    pub(super) fn create(out: &Path) -> Result<ArchiveWriter> {
        let tmp = out.with_extension("snapshot.tmp");
        let inner = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(ArchiveWriter {
            inner,
            hash: Sha256::new(),
            tmp,
        })
    }

    pub(super) fn finish(self, out: &Path) -> Result<SnapshotInfo> {
        self.inner.sync_all().map_err(|e| Error::io(&self.tmp, e))?;
        let checksum = hex(&self.hash.finalize());
        fs::rename(&self.tmp, out).map_err(|e| Error::io(out, e))?;
        files::write_atomic(&checksum_path(out), checksum.as_bytes())?;
        info(out)
    }
}

impl Write for ArchiveWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

pub(crate) fn checksum_path(snapshot: &Path) -> PathBuf {
    let mut s = snapshot.as_os_str().to_os_string();
    s.push(".checksum");
    PathBuf::from(s)
}

/// Size, checksum and time of a snapshot file.
pub(crate) fn info(path: &Path) -> Result<SnapshotInfo> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let checksum = match fs::read_to_string(checksum_path(path)) {
        Ok(s) => s.trim().to_string(),
        Err(_) => sha256_file(path)?,
    };
    let secs = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    Ok(SnapshotInfo {
        name: path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string(),
        size: meta.len(),
        checksum,
        creation_time: format_utc(secs, 'T'),
    })
}

pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(hex(&h.finalize()));
        }
        h.update(&buf[..n]);
    }
}

/// True for the relative paths a snapshot may contain.
fn allowed_entry(name: &str) -> bool {
    let simple = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !s.starts_with('.')
    };
    match name.split_once('/') {
        None => name == "CONFIG" || name == "MANIFEST" || name == LISTING,
        // segment files and the graph and value-graph files derived from them
        Some(("segments", f)) => {
            let kind = [("seg-", ".azs"), ("graph-", ".azg"), ("values-", ".azv")];
            kind.iter()
                .any(|(start, end)| f.starts_with(start) && f.ends_with(end))
                && simple(f)
        }
        Some(("wal", f)) => f.starts_with("wal-") && f.ends_with(".log") && simple(f),
        _ => false,
    }
}

/// Unpacks an archive into the new directory `into` (with `wal/` and `segments/`), checking
/// names, sizes and CRCs against the listing. Returns the collection name it was taken from.
pub(crate) fn unpack(reader: impl Read, into: &Path) -> Result<String> {
    let bad = |m: String| Error::invalid(format!("not a valid Azimuth snapshot: {m}"));
    files::create_dir(&into.join("wal"))?;
    files::create_dir(&into.join("segments"))?;
    let mut archive = tar::Archive::new(reader);
    let mut listing: Option<Listing> = None;
    let mut seen = BTreeMap::new();
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(bad(
                "archive holds something other than regular files".into()
            ));
        }
        let name = entry
            .path()
            .map_err(|e| bad(e.to_string()))?
            .to_string_lossy()
            .to_string();
        if !allowed_entry(&name) || seen.contains_key(&name) {
            return Err(bad(format!("unexpected entry {name:?}")));
        }
        let size = entry.size();
        if size > MAX_ENTRY {
            return Err(bad(format!("entry {name:?} is too large")));
        }
        let mut data = Vec::with_capacity(size.min(1 << 26) as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| bad(e.to_string()))?;
        if name == LISTING {
            listing =
                Some(serde_json::from_slice(&data).map_err(|e| bad(format!("bad listing: {e}")))?);
            continue;
        }
        seen.insert(name.clone(), (data.len() as u64, crc32fast::hash(&data)));
        let path = into.join(&name);
        let mut f = File::create(&path).map_err(|e| Error::io(&path, e))?;
        f.write_all(&data).map_err(|e| Error::io(&path, e))?;
        f.sync_all().map_err(|e| Error::io(&path, e))?;
    }
    let listing = listing.ok_or_else(|| bad("no snapshot.json".into()))?;
    if listing.format != FORMAT {
        return Err(bad(format!(
            "snapshot format {} is not supported",
            listing.format
        )));
    }
    if listing.files != seen {
        return Err(bad(
            "files do not match the listing (missing, extra, or damaged)".into(),
        ));
    }
    for d in [into.join("wal"), into.join("segments"), into.to_path_buf()] {
        files::sync_dir(&d)?;
    }
    Ok(listing.collection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_entry_names() {
        assert_eq!(format_utc(0, 'T'), "1970-01-01T00:00:00");
        assert_eq!(format_utc(1_795_000_000, ' '), "2026-11-18 11:06:40");
        assert_eq!(format_utc(951_782_400, 'T'), "2000-02-29T00:00:00");
        for ok in [
            "CONFIG",
            "MANIFEST",
            "segments/seg-00000000000000a1.azs",
            "segments/graph-00000000000000a1-0.azg",
            "segments/values-00000000000000a1-2.azv",
            "wal/wal-0000000000000002.log",
        ] {
            assert!(allowed_entry(ok), "{ok}");
        }
        for bad in [
            "../CONFIG",
            "/etc/passwd",
            "segments/../../x",
            "segments/seg-1/../x.azs",
            "wal/x",
            "other",
            "segments/.seg-.azs",
            "segments/graph-1.azs",
            "segments/values-1/../x.azv",
        ] {
            assert!(!allowed_entry(bad), "{bad}");
        }
    }
}
