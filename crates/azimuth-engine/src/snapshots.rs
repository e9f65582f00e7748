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
        let stamp = snapshot::format_utc(now.as_secs() as i64, '-').replace(':', "-");
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
            let mut reader = HashingReader {
                inner: archive,
                hash: Sha256::new(),
            };
            snapshot::unpack(&mut reader, &staged)?;
            std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| Error::io(&staged, e))?;
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
