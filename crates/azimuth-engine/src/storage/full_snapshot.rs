//! Full (whole-storage) snapshots: one tar archive holding a listing
//! (`full-snapshot.json`: format, collections with their archive's size and SHA-256, aliases,
//! catalog documents), then each collection's ordinary snapshot archive
//! (`collections/<i>.snapshot`) and each catalog document body (`catalog/<i>.json`).
//! A `<name>.checksum` beside it holds the SHA-256 of the whole archive.
//!
//! Unpacking trusts nothing: the listing must come first, every other entry must be one it
//! names (fixed name patterns, no paths of the archive's choosing), sizes and SHA-256 must
//! match, and each collection archive is later unpacked with the collection snapshot checks.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::files;
use super::snapshot::{header, hex, ArchiveWriter, SnapshotInfo};
use super::DbDir;
use crate::error::{Error, Result};

const LISTING: &str = "full-snapshot.json";
const FORMAT: u32 = 1;
/// Largest listing accepted.
const MAX_LISTING: u64 = 64 << 20;

/// One archived part: a collection snapshot or a catalog document.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Part {
    /// Collection or catalog document name.
    pub name: String,
    /// Entry name inside the archive.
    pub entry: String,
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Listing {
    pub format: u32,
    pub collections: Vec<Part>,
    /// (alias, collection)
    pub aliases: Vec<(String, String)>,
    pub catalog: Vec<Part>,
}

fn valid_entry(name: &str) -> bool {
    let numbered = |prefix: &str, suffix: &str| {
        name.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(suffix))
            .is_some_and(|d| (1..=9).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
    };
    numbered("collections/", ".snapshot") || numbered("catalog/", ".json")
}

/// Where an entry is unpacked: a flat file name in the staging directory.
fn staged_name(entry: &str) -> String {
    entry.replace('/', "-")
}

impl DbDir {
    /// The folder holding full snapshots (beside the per-collection folders).
    pub fn full_snapshots_dir(&self) -> Result<PathBuf> {
        let dir = self.root.join("snapshots");
        files::create_dir(&dir)?;
        Ok(dir)
    }

    /// A fresh scratch folder for building or unpacking a full snapshot; the caller removes
    /// it with [`DbDir::remove_scratch`].
    pub fn full_scratch_dir(&self) -> Result<PathBuf> {
        let dir = self
            .full_snapshots_dir()?
            .join(format!(".tmp-full-{}", super::unique_suffix()));
        files::create_dir(&dir)?;
        Ok(dir)
    }

    /// Removes a scratch folder and everything in it.
    pub fn remove_scratch(&self, dir: &Path) -> Result<()> {
        match fs::remove_dir_all(dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(dir, e)),
        }
    }

    /// The names of the catalog documents stored.
    pub fn catalog_names(&self) -> Result<Vec<String>> {
        Ok(files::list_names(&self.root)?
            .into_iter()
            .filter_map(|n| n.strip_prefix("CATALOG-").map(str::to_string))
            .filter(|n| super::catalog::valid_name(n))
            .collect())
    }
}

/// Writes a file into the scratch folder (a catalog document body for the archive).
pub(crate) fn write_part(path: &Path, bytes: &[u8]) -> Result<()> {
    files::write_atomic(path, bytes)
}

/// SHA-256 and size of a part file.
pub(crate) fn describe(path: &Path) -> Result<(u64, String)> {
    let size = fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    Ok((size, super::snapshot::sha256_file(path)?))
}

/// Writes the archive at `out` from `listing` and the part files (`entry` → path) and its
/// `.checksum` beside it.
pub(crate) fn write(
    listing: &Listing,
    parts: &BTreeMap<String, PathBuf>,
    out: &Path,
) -> Result<SnapshotInfo> {
    let mut hashing = ArchiveWriter::create(out)?;
    let tmp = hashing.tmp.clone();
    {
        let mut tar = tar::Builder::new(&mut hashing);
        let mut all = listing.clone();
        all.format = FORMAT;
        let json = serde_json::to_vec(&all).map_err(|e| Error::Internal(e.to_string()))?;
        tar.append(&header(LISTING, json.len() as u64, &tmp)?, json.as_slice())
            .map_err(|e| Error::io(&tmp, e))?;
        for p in listing.collections.iter().chain(&listing.catalog) {
            let path = parts
                .get(&p.entry)
                .ok_or_else(|| Error::Internal(format!("no file for {}", p.entry)))?;
            let f = File::open(path).map_err(|e| Error::io(path, e))?;
            tar.append(&header(&p.entry, p.size, &tmp)?, f)
                .map_err(|e| Error::io(&tmp, e))?;
        }
        tar.finish().map_err(|e| Error::io(&tmp, e))?;
    }
    hashing.finish(out)
}

/// Unpacks a full snapshot into the scratch folder `into`; returns the listing and, for each
/// entry, the file it was unpacked to. Every part is checked against the listing.
pub(crate) fn unpack(
    reader: impl Read,
    into: &Path,
) -> Result<(Listing, BTreeMap<String, PathBuf>)> {
    let bad = |m: String| Error::invalid(format!("not a valid Azimuth full snapshot: {m}"));
    let mut archive = tar::Archive::new(reader);
    let mut listing: Option<Listing> = None;
    let mut expected: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut out = BTreeMap::new();
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
        if listing.is_none() {
            if name != LISTING || entry.size() > MAX_LISTING {
                return Err(bad(format!(
                    "the first entry must be {LISTING}, got {name:?}"
                )));
            }
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .map_err(|e| bad(e.to_string()))?;
            let parsed: Listing =
                serde_json::from_slice(&data).map_err(|e| bad(format!("bad listing: {e}")))?;
            if parsed.format != FORMAT {
                return Err(bad(format!("unknown format {}", parsed.format)));
            }
            for p in parsed.collections.iter().chain(&parsed.catalog) {
                if !valid_entry(&p.entry) || expected.contains_key(&p.entry) {
                    return Err(bad(format!("bad entry name {:?} in the listing", p.entry)));
                }
                expected.insert(p.entry.clone(), (p.size, p.sha256.to_ascii_lowercase()));
            }
            listing = Some(parsed);
            continue;
        }
        let Some((size, sha)) = expected.get(&name) else {
            return Err(bad(format!("unexpected entry {name:?}")));
        };
        if out.contains_key(&name) || entry.size() != *size {
            return Err(bad(format!(
                "entry {name:?} is repeated or has the wrong size"
            )));
        }
        let path = into.join(staged_name(&name));
        let mut f = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = entry.read(&mut buf).map_err(|e| bad(e.to_string()))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            f.write_all(&buf[..n]).map_err(|e| Error::io(&path, e))?;
        }
        f.sync_all().map_err(|e| Error::io(&path, e))?;
        if hex(&h.finalize()) != *sha {
            return Err(bad(format!("entry {name:?} does not match its checksum")));
        }
        out.insert(name, path);
    }
    let listing = listing.ok_or_else(|| bad("empty archive".into()))?;
    if let Some(missing) = expected.keys().find(|e| !out.contains_key(*e)) {
        return Err(bad(format!("entry {missing:?} is missing")));
    }
    Ok((listing, out))
}

/// Reads a catalog document body unpacked from an archive.
pub(crate) fn read_part(path: &Path) -> Result<Vec<u8>> {
    files::read_file(path)
}

/// A part's file opened for reading (a collection archive to recover from).
pub(crate) fn open_part(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_are_fixed_patterns() {
        assert!(valid_entry("collections/0.snapshot"));
        assert!(valid_entry("catalog/12.json"));
        for bad in [
            "collections/../x.snapshot",
            "/etc/passwd",
            "collections/a.snapshot",
            "catalog/1.snapshot",
            "collections/.snapshot",
            "x",
        ] {
            assert!(!valid_entry(bad), "{bad}");
        }
    }
}
