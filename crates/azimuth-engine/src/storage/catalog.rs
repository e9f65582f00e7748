//! Catalog documents: small JSON documents an API layer keeps beside the collections (the
//! Chroma API's tenants, databases and collection records). One framed file per document,
//! `<root>/CATALOG-<name>`, replaced atomically.

use super::files;
use super::DbDir;
use crate::error::Result;

const CATALOG_MAGIC: &[u8; 8] = b"AZCATLOG";
const CATALOG_VERSION: u32 = 1;

/// True for names made of `[a-z0-9_-]`, 1 to 64 characters (they become file names).
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl DbDir {
    fn catalog_path(&self, name: &str) -> std::path::PathBuf {
        self.root.join(format!("CATALOG-{name}"))
    }

    /// The body of catalog document `name`, or `None` when it was never written.
    pub fn read_catalog(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.catalog_path(name);
        let Some(data) = files::read_file_if_exists(&path)? else {
            return Ok(None);
        };
        let body = files::unframe(&path, &data, CATALOG_MAGIC, CATALOG_VERSION)?;
        Ok(Some(body.to_vec()))
    }

    /// Replaces catalog document `name` atomically and durably.
    pub fn write_catalog(&self, name: &str, body: &[u8]) -> Result<()> {
        let image = files::frame(CATALOG_MAGIC, CATALOG_VERSION, body);
        files::write_atomic(&self.catalog_path(name), &image)
    }
}
