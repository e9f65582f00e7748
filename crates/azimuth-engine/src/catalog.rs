//! Catalog documents: a durable JSON document per name, kept at the database level for API
//! layers that need state beyond collections — the Chroma API stores its tenants, databases
//! and collection records in one. The engine gives no meaning to the contents.
//!
//! A document is replaced whole and atomically (`storage::catalog`); callers serialise their
//! own updates. An in-memory database keeps no documents: reads find none and writes are
//! accepted and dropped, so the caller's in-memory copy is the only one.

use crate::db::Database;
use crate::error::{Error, Result};
use crate::storage::catalog::valid_name;

fn check_name(name: &str) -> Result<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "catalog name {name:?} must be 1 to 64 characters from [a-z0-9_-]"
        )))
    }
}

impl Database {
    /// The catalog document `name`, or `None` when none was stored.
    pub fn catalog_document(&self, name: &str) -> Result<Option<serde_json::Value>> {
        check_name(name)?;
        let Some(dir) = self.dir() else {
            return Ok(None);
        };
        let Some(body) = dir.read_catalog(name)? else {
            return Ok(None);
        };
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| Error::Corruption {
                path: dir.root.join(format!("CATALOG-{name}")),
                detail: format!("not JSON: {e}"),
            })
    }

    /// Replaces the catalog document `name`; durable when this returns.
    pub fn put_catalog_document(&self, name: &str, doc: &serde_json::Value) -> Result<()> {
        check_name(name)?;
        let Some(dir) = self.dir() else {
            return Ok(());
        };
        let body = serde_json::to_vec(doc).map_err(|e| Error::Internal(e.to_string()))?;
        dir.write_catalog(name, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_survive_reopen_and_names_are_checked() {
        let tmp = tempfile::tempdir().unwrap();
        {
            let db = Database::open(tmp.path()).unwrap();
            assert_eq!(db.catalog_document("chroma").unwrap(), None);
            db.put_catalog_document("chroma", &json!({"a": [1, 2.5]}))
                .unwrap();
            assert!(db.put_catalog_document("../x", &json!({})).is_err());
            assert!(db.catalog_document("").is_err());
        }
        let db = Database::open(tmp.path()).unwrap();
        assert_eq!(
            db.catalog_document("chroma").unwrap(),
            Some(json!({"a": [1, 2.5]}))
        );
        let mem = Database::in_memory();
        mem.put_catalog_document("chroma", &json!({})).unwrap();
        assert_eq!(mem.catalog_document("chroma").unwrap(), None);
    }

    #[test]
    fn a_damaged_document_is_corruption() {
        let tmp = tempfile::tempdir().unwrap();
        let db = Database::open(tmp.path()).unwrap();
        db.put_catalog_document("chroma", &json!({"k": "v"}))
            .unwrap();
        let path = tmp.path().join("CATALOG-chroma");
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n / 2] ^= 0x20;
        std::fs::write(&path, bytes).unwrap();
        let err = db.catalog_document("chroma").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Corruption);
    }
}
