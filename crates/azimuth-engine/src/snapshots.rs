//! Snapshots of collections: create, list, open for download, delete, recover.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::collection::Collection;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::storage::snapshot::{self, SnapshotInfo};
use crate::storage::{CollectionDir, StoredConfig};

fn valid_name(name: &str) -> bool {
    name.ends_with(".snapshot")
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name.len() <= 255
}

impl Database {
    fn snapshot_dir(&self, collection: &str) -> Result<PathBuf> {
        let dir = self
            .dir()
            .ok_or_else(|| Error::invalid("an in-memory database has no snapshots"))?;
        dir.snapshots_dir(collection)
    }

    /// Writes a snapshot archive of the collection (after a checkpoint).
    pub fn create_snapshot(&self, collection: &str) -> Result<SnapshotInfo> {
        let c = self.collection(collection)?;
        let dir = self.snapshot_dir(c.name())?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let stamp = crate::filter::format_utc(now.as_secs() as i64, '-').replace(':', "-");
        let safe = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("collection")
            .to_string();
        let name = format!("{safe}-{stamp}-{:03}.snapshot", now.subsec_millis());
        c.write_snapshot(&dir.join(name))
    }

    /// The collection's snapshots, oldest first.
    pub fn list_snapshots(&self, collection: &str) -> Result<Vec<SnapshotInfo>> {
        let c = self.collection(collection)?;
        let dir = self.snapshot_dir(c.name())?;
        let mut out = Vec::new();
        for name in crate::storage::files::list_names(&dir)? {
            if valid_name(&name) {
                out.push(snapshot::info(&dir.join(name))?);
            }
        }
        out.sort_by(|a, b| {
            a.creation_time
                .cmp(&b.creation_time)
                .then(a.name.cmp(&b.name))
        });
        Ok(out)
    }

    fn snapshot_path(&self, collection: &str, name: &str) -> Result<PathBuf> {
        let c = self.collection(collection)?;
        let path = self.snapshot_dir(c.name())?.join(name);
        if !valid_name(name) || !path.is_file() {
            return Err(Error::not_found(format!(
                "snapshot {name:?} of collection {collection:?} does not exist"
            )));
        }
        Ok(path)
    }

    /// Opens a snapshot for reading (download).
    pub fn open_snapshot(
        &self,
        collection: &str,
        name: &str,
    ) -> Result<(std::fs::File, SnapshotInfo)> {
        let path = self.snapshot_path(collection, name)?;
        let f = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        Ok((f, snapshot::info(&path)?))
    }

    pub fn delete_snapshot(&self, collection: &str, name: &str) -> Result<()> {
        let path = self.snapshot_path(collection, name)?;
        crate::storage::files::remove_file_if_exists(&snapshot::checksum_path(&path))?;
        crate::storage::files::remove_file_if_exists(&path)
    }

    /// Recovers `collection` from a snapshot archive on this machine.
    pub fn recover_snapshot_file(
        &self,
        collection: &str,
        path: &Path,
        checksum: Option<&str>,
    ) -> Result<()> {
        let f = std::fs::File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                Error::not_found(format!("snapshot file {} does not exist", path.display()))
            }
            _ => Error::io(path, e),
        })?;
        self.recover_snapshot(collection, std::io::BufReader::new(f), checksum)
    }

    /// Recovers `collection` from a snapshot archive stream, replacing the collection if it
    /// exists (or creating it). With `checksum` (SHA-256 hex), a mismatch is an error and
    /// changes nothing.
    pub fn recover_snapshot(
        &self,
        collection: &str,
        archive: impl Read,
        checksum: Option<&str>,
    ) -> Result<()> {
        crate::db::validate_name(collection)?;
        let dir = self
            .dir()
            .ok_or_else(|| Error::invalid("an in-memory database has no snapshots"))?;
        let staged = dir.staging_dir();
        let result = (|| {
            unpack_checked(archive, checksum, &staged, |r| snapshot::unpack(r, &staged))?;
            let cdir = CollectionDir {
                path: staged.clone(),
            };
            let stored = cdir.read_config()?;
            cdir.write_config(&StoredConfig {
                name: collection.to_string(),
                config: stored.config,
            })?;
            // Open once where it lies: every file is checked before anything is replaced.
            drop(Collection::open(cdir, self.limits())?);
            Ok(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e);
        }
        self.install_recovered(collection, &staged)
    }
}

fn part<'a>(
    files: &'a std::collections::BTreeMap<String, PathBuf>,
    entry: &str,
) -> Result<&'a Path> {
    files
        .get(entry)
        .map(PathBuf::as_path)
        .ok_or_else(|| Error::invalid(format!("not a valid Azimuth full snapshot: no {entry:?}")))
}

fn valid_full_name(name: &str) -> bool {
    valid_name(name) && name.starts_with("full-snapshot-")
}

impl Database {
    fn db_dir(&self) -> Result<&crate::storage::DbDir> {
        self.dir()
            .ok_or_else(|| Error::invalid("an in-memory database has no snapshots"))
    }

    /// Writes a snapshot of the whole storage: every collection (each checkpointed and
    /// archived as by [`Database::create_snapshot`], one after another), the aliases and the
    /// catalog documents, in one archive `full-snapshot-<time>.snapshot`.
    pub fn create_full_snapshot(&self) -> Result<SnapshotInfo> {
        use crate::storage::full_snapshot::{self as full, Listing, Part};
        let dir = self.db_dir()?;
        let out_dir = dir.full_snapshots_dir()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let stamp = crate::filter::format_utc(now.as_secs() as i64, '-').replace(':', "-");
        let out = out_dir.join(format!(
            "full-snapshot-{stamp}-{:03}.snapshot",
            now.subsec_millis()
        ));
        let scratch = dir.full_scratch_dir()?;
        let result = (|| {
            let mut listing = Listing::default();
            let mut parts = std::collections::BTreeMap::new();
            for (i, name) in self.list_collections().into_iter().enumerate() {
                let Ok(c) = self.collection(&name) else {
                    continue; // deleted meanwhile
                };
                let entry = format!("collections/{i}.snapshot");
                let path = scratch.join(format!("c{i}.snapshot"));
                c.write_snapshot(&path)?;
                let (size, sha256) = full::describe(&path)?;
                listing.collections.push(Part {
                    name,
                    entry: entry.clone(),
                    size,
                    sha256,
                });
                parts.insert(entry, path);
            }
            for (i, name) in dir.catalog_names()?.into_iter().enumerate() {
                let Some(body) = dir.read_catalog(&name)? else {
                    continue;
                };
                let entry = format!("catalog/{i}.json");
                let path = scratch.join(format!("k{i}.json"));
                full::write_part(&path, &body)?;
                let (size, sha256) = full::describe(&path)?;
                listing.catalog.push(Part {
                    name,
                    entry: entry.clone(),
                    size,
                    sha256,
                });
                parts.insert(entry, path);
            }
            listing.aliases = self.list_aliases();
            full::write(&listing, &parts, &out)
        })();
        let cleaned = dir.remove_scratch(&scratch);
        let info = result?;
        cleaned?;
        Ok(info)
    }

    /// The full snapshots, oldest first.
    pub fn list_full_snapshots(&self) -> Result<Vec<SnapshotInfo>> {
        let dir = self.db_dir()?.full_snapshots_dir()?;
        let mut out = Vec::new();
        for name in crate::storage::files::list_names(&dir)? {
            let path = dir.join(&name);
            if valid_full_name(&name) && path.is_file() {
                out.push(snapshot::info(&path)?);
            }
        }
        out.sort_by(|a, b| {
            a.creation_time
                .cmp(&b.creation_time)
                .then(a.name.cmp(&b.name))
        });
        Ok(out)
    }

    fn full_snapshot_path(&self, name: &str) -> Result<PathBuf> {
        let path = self.db_dir()?.full_snapshots_dir()?.join(name);
        if !valid_full_name(name) || !path.is_file() {
            return Err(Error::not_found(format!(
                "full snapshot {name:?} does not exist"
            )));
        }
        Ok(path)
    }

    /// Opens a full snapshot for reading (download).
    pub fn open_full_snapshot(&self, name: &str) -> Result<(std::fs::File, SnapshotInfo)> {
        let path = self.full_snapshot_path(name)?;
        let f = crate::storage::full_snapshot::open_part(&path)?;
        Ok((f, snapshot::info(&path)?))
    }

    pub fn delete_full_snapshot(&self, name: &str) -> Result<()> {
        let path = self.full_snapshot_path(name)?;
        crate::storage::files::remove_file_if_exists(&snapshot::checksum_path(&path))?;
        crate::storage::files::remove_file_if_exists(&path)
    }

    /// Restores a full snapshot: every collection it holds replaces (or creates) the
    /// collection of that name, its aliases and catalog documents are put back; collections
    /// it does not hold are left alone. The archive is unpacked and checked whole before
    /// anything changes; then collections are recovered one by one. With `checksum`
    /// (SHA-256 hex of the archive), a mismatch is an error and changes nothing. Returns the
    /// names of the recovered collections.
    pub fn recover_full_snapshot(
        &self,
        archive: impl Read,
        checksum: Option<&str>,
    ) -> Result<Vec<String>> {
        use crate::storage::full_snapshot as full;
        let dir = self.db_dir()?;
        let scratch = dir.full_scratch_dir()?;
        let result = (|| {
            let (listing, files) =
                unpack_checked(archive, checksum, &scratch, |r| full::unpack(r, &scratch))?;
            for p in &listing.collections {
                crate::db::validate_name(&p.name)?;
            }
            let mut docs = Vec::new();
            for p in &listing.catalog {
                if !crate::storage::catalog::valid_name(&p.name) {
                    return Err(Error::invalid(format!(
                        "not a valid Azimuth full snapshot: catalog name {:?}",
                        p.name
                    )));
                }
                let body = full::read_part(part(&files, &p.entry)?)?;
                let doc: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
                    Error::invalid(format!(
                        "not a valid Azimuth full snapshot: catalog document {:?}: {e}",
                        p.name
                    ))
                })?;
                docs.push((p.name.clone(), doc));
            }
            let mut recovered = Vec::new();
            for p in &listing.collections {
                let f = full::open_part(part(&files, &p.entry)?)?;
                self.recover_snapshot(&p.name, std::io::BufReader::new(f), Some(&p.sha256))?;
                recovered.push(p.name.clone());
            }
            let actions: Vec<crate::db::AliasAction> = listing
                .aliases
                .iter()
                .filter(|(_, c)| self.collection_exists(c))
                .map(|(alias, collection)| crate::db::AliasAction::Create {
                    alias: alias.clone(),
                    collection: collection.clone(),
                })
                .collect();
            self.update_aliases(&actions)?;
            for (name, doc) in docs {
                self.put_catalog_document(&name, &doc)?;
            }
            Ok(recovered)
        })();
        let cleaned = dir.remove_scratch(&scratch);
        let recovered = result?;
        cleaned?;
        Ok(recovered)
    }
}

/// Runs `unpack` over `archive`, reads whatever it left, and checks the SHA-256 of the
/// whole stream against `checksum` (hex, any case) when one is given.
fn unpack_checked<R: Read, T>(
    archive: R,
    checksum: Option<&str>,
    at: &Path,
    unpack: impl FnOnce(&mut HashingReader<R>) -> Result<T>,
) -> Result<T> {
    let mut reader = HashingReader {
        inner: archive,
        hash: Sha256::new(),
    };
    let out = unpack(&mut reader)?;
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| Error::io(at, e))?;
    let got: String = reader
        .hash
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Some(want) = checksum {
        if !want.eq_ignore_ascii_case(got.trim()) {
            return Err(Error::invalid(format!(
                "snapshot checksum mismatch: expected {want}, got {got}"
            )));
        }
    }
    Ok(out)
}

struct HashingReader<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}
