//! Tenants, databases and Chroma collections, and how they map onto engine collections.
//!
//! The catalog is one JSON document stored by the engine beside the collections
//! (`Database::put_catalog_document("chroma", …)`): tenants, databases (with their UUIDs) and
//! one record per Chroma collection (UUID, tenant, database, name, metadata, resolved
//! configuration, and the name of its engine collection once it has one). The document is
//! this module's storage format, not a wire type; it is rewritten whole on every change to
//! tenants, databases or collections (never on record writes).
//!
//! Mapping (also in ARCHITECTURE.md):
//! - A Chroma collection is an engine collection with one unnamed dense vector. Its dimension
//!   is known only at the first write, so the engine collection is created then
//!   ("materialized"); until then the collection exists only in the catalog (`engine: None`).
//! - Engine name: the Chroma name for `default_tenant`/`default_database`, otherwise
//!   `tenant:database:name`; `chroma-<uuid>` when that is taken or not a valid engine name.
//!   The engine collection's metadata carries `{"chroma": {"id", "tenant", "database"}}`,
//!   which also lets a crash between creating it and saving the catalog be repaired on load.
//!   A Chroma rename changes the Chroma name only; the engine (Qdrant) name stays.
//! - Engine collections no record claims (made through the Qdrant API) appear in
//!   `default_tenant`/`default_database` under their own name, with a UUID derived from the
//!   name. Modifying one through Chroma adds a record for it ("adopts" it).
//! - A record whose engine collection was deleted (through the Qdrant API) is gone; it is
//!   pruned at the next save.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use azimuth_engine::{Collection, CollectionConfig, Database, DEFAULT_VECTOR};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::config::{self, Space};
use super::error::{ChromaError, ChromaResult};

pub const DEFAULT_TENANT: &str = "default_tenant";
pub const DEFAULT_DATABASE: &str = "default_database";
pub const DEFAULT_DATABASE_ID: &str = "00000000-0000-0000-0000-000000000000";
const DOCUMENT_NAME: &str = "chroma";
const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DatabaseRecord {
    pub id: String,
    pub tenant: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CollectionRecord {
    pub id: String,
    pub tenant: String,
    pub database: String,
    pub name: String,
    pub metadata: Option<Map<String, Value>>,
    /// The resolved `configuration_json`.
    pub configuration: Value,
    /// The engine collection, once created.
    pub engine: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Stored {
    version: u32,
    tenants: BTreeSet<String>,
    databases: Vec<DatabaseRecord>,
    collections: Vec<CollectionRecord>,
}

impl Stored {
    fn fresh() -> Stored {
        Stored {
            version: FORMAT_VERSION,
            tenants: [DEFAULT_TENANT.to_string()].into(),
            databases: vec![DatabaseRecord {
                id: DEFAULT_DATABASE_ID.into(),
                tenant: DEFAULT_TENANT.into(),
                name: DEFAULT_DATABASE.into(),
            }],
            collections: Vec::new(),
        }
    }
}

/// A Chroma collection as the API sees it.
#[derive(Clone)]
pub struct View {
    pub record: CollectionRecord,
    pub engine: Option<Arc<Collection>>,
}

impl View {
    /// The fixed dimension, once known.
    pub fn dimension(&self) -> Option<usize> {
        self.engine
            .as_ref()
            .and_then(|c| c.config().vectors.get(DEFAULT_VECTOR).map(|p| p.size))
    }

    /// The collection object of the wire protocol.
    pub fn to_json(&self) -> Value {
        let r = &self.record;
        json!({
            "id": r.id,
            "name": r.name,
            "configuration_json": r.configuration,
            "schema": config::schema(&r.configuration),
            "metadata": r.metadata,
            "dimension": self.dimension(),
            "tenant": r.tenant,
            "database": r.database,
            "log_position": 0,
            "version": 0,
        })
    }
}

/// A random version-4 UUID (std's randomly keyed hasher as the entropy source).
pub fn random_uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write_usize(i);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// A stable UUID for an engine collection no record claims (FNV-1a over the name, twice).
fn derived_uuid(name: &str) -> String {
    let fnv = |seed: u64| {
        name.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_le_bytes());
    bytes[8..].copy_from_slice(&fnv(0x6c62_272e_07bb_0142).to_le_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// A valid engine collection name (the engine's rules).
fn engine_name_ok(name: &str) -> bool {
    let n = name.chars().count();
    (1..=azimuth_engine::MAX_NAME_LEN).contains(&n)
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
}

/// Per engine collection: the lock that serialises Chroma writes, and the next insertion
/// sequence number (found by a scan on first use).
pub struct Writer {
    pub target: Weak<Collection>,
    pub next_seq: Option<u64>,
}

/// The Chroma API's shared state.
pub struct Chroma {
    db: Arc<Database>,
    catalog: Mutex<Option<Stored>>,
    writers: Mutex<HashMap<String, Arc<Mutex<Writer>>>>,
}

/// The catalog while its lock is held.
pub struct Catalog<'a> {
    db: &'a Database,
    stored: &'a mut Stored,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Chroma {
    pub fn new(db: Arc<Database>) -> Chroma {
        Chroma {
            db,
            catalog: Mutex::new(None),
            writers: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `f` with the catalog locked (loading it on first use).
    pub fn with<R>(&self, f: impl FnOnce(&mut Catalog) -> ChromaResult<R>) -> ChromaResult<R> {
        let mut guard = lock(&self.catalog);
        if guard.is_none() {
            *guard = Some(load(&self.db)?);
        }
        let stored = guard
            .as_mut()
            .ok_or_else(|| ChromaError::internal("catalog"))?;
        f(&mut Catalog {
            db: &self.db,
            stored,
        })
    }

    /// The write lock and sequence state of an engine collection.
    pub fn writer(&self, c: &Arc<Collection>) -> Arc<Mutex<Writer>> {
        let mut map = lock(&self.writers);
        let w = map
            .entry(c.name().to_string())
            .or_insert_with(|| {
                Arc::new(Mutex::new(Writer {
                    target: Arc::downgrade(c),
                    next_seq: None,
                }))
            })
            .clone();
        drop(map);
        {
            let mut g = lock(&w);
            if !g.target.upgrade().is_some_and(|t| Arc::ptr_eq(&t, c)) {
                g.target = Arc::downgrade(c);
                g.next_seq = None;
            }
        }
        w
    }
}

pub fn lock_writer(w: &Mutex<Writer>) -> MutexGuard<'_, Writer> {
    lock(w)
}

fn load(db: &Database) -> ChromaResult<Stored> {
    let mut stored = match db.catalog_document(DOCUMENT_NAME)? {
        None => Stored::fresh(),
        Some(v) => serde_json::from_value::<Stored>(v)
            .map_err(|e| ChromaError::internal(format!("the Chroma catalog is unreadable: {e}")))?,
    };
    // Repair a crash between creating an engine collection and saving the catalog.
    let mut repaired = false;
    for name in db.list_collections() {
        let Ok(c) = db.collection(&name) else {
            continue;
        };
        let config = c.config();
        let Some(id) = config.metadata.get("chroma").and_then(|m| m["id"].as_str()) else {
            continue;
        };
        if let Some(r) = stored
            .collections
            .iter_mut()
            .find(|r| r.id == id && r.engine.is_none())
        {
            r.engine = Some(name.clone());
            repaired = true;
        }
    }
    if repaired {
        db.put_catalog_document(DOCUMENT_NAME, &to_value(&stored)?)?;
    }
    Ok(stored)
}

fn to_value(s: &Stored) -> ChromaResult<Value> {
    serde_json::to_value(s).map_err(|e| ChromaError::internal(e.to_string()))
}

impl Catalog<'_> {
    fn save(&mut self) -> ChromaResult<()> {
        let existing: BTreeSet<String> = self.db.list_collections().into_iter().collect();
        self.stored
            .collections
            .retain(|r| r.engine.as_ref().is_none_or(|e| existing.contains(e)));
        self.db
            .put_catalog_document(DOCUMENT_NAME, &to_value(self.stored)?)?;
        Ok(())
    }

    // ---- tenants and databases ------------------------------------------------------------

    pub fn tenant_exists(&self, name: &str) -> bool {
        self.stored.tenants.contains(name)
    }

    pub fn create_tenant(&mut self, name: &str) -> ChromaResult<()> {
        if self.tenant_exists(name) {
            return Err(ChromaError::already_exists(format!(
                "Tenant [{name}] already exists"
            )));
        }
        self.stored.tenants.insert(name.to_string());
        self.save()
    }

    pub fn require_tenant(&self, name: &str) -> ChromaResult<()> {
        if self.tenant_exists(name) {
            Ok(())
        } else {
            Err(ChromaError::not_found(format!("Tenant [{name}] not found")))
        }
    }

    pub fn database(&self, tenant: &str, name: &str) -> Option<&DatabaseRecord> {
        self.stored
            .databases
            .iter()
            .find(|d| d.tenant == tenant && d.name == name)
    }

    pub fn require_database(&self, tenant: &str, name: &str) -> ChromaResult<&DatabaseRecord> {
        self.database(tenant, name).ok_or_else(|| {
            ChromaError::not_found(format!(
                "Database [{name}] not found. Are you sure it exists?"
            ))
        })
    }

    pub fn create_database(&mut self, tenant: &str, name: &str) -> ChromaResult<()> {
        self.require_tenant(tenant)?;
        if self.database(tenant, name).is_some() {
            return Err(ChromaError::already_exists(format!(
                "Database [{name}] already exists"
            )));
        }
        self.stored.databases.push(DatabaseRecord {
            id: random_uuid(),
            tenant: tenant.to_string(),
            name: name.to_string(),
        });
        self.save()
    }

    pub fn databases(&self, tenant: &str) -> Vec<DatabaseRecord> {
        self.stored
            .databases
            .iter()
            .filter(|d| d.tenant == tenant)
            .cloned()
            .collect()
    }

    /// Deletes a database and the collections made in it through Chroma.
    pub fn delete_database(&mut self, tenant: &str, name: &str) -> ChromaResult<()> {
        self.require_database(tenant, name)?;
        let doomed: Vec<CollectionRecord> = self
            .stored
            .collections
            .iter()
            .filter(|r| r.tenant == tenant && r.database == name)
            .cloned()
            .collect();
        for r in &doomed {
            if let Some(e) = &r.engine {
                self.db.delete_collection(e)?;
            }
        }
        self.stored
            .collections
            .retain(|r| !(r.tenant == tenant && r.database == name));
        self.stored
            .databases
            .retain(|d| !(d.tenant == tenant && d.name == name));
        self.save()
    }

    // ---- collections ----------------------------------------------------------------------

    fn engine_collection(&self, name: &str) -> Option<Arc<Collection>> {
        // Exact names only: an alias is not a collection of its own.
        self.db
            .list_collections()
            .iter()
            .any(|n| n == name)
            .then(|| self.db.collection(name).ok())
            .flatten()
    }

    fn record_view(&self, r: &CollectionRecord) -> Option<View> {
        let engine = match &r.engine {
            None => None,
            Some(e) => Some(self.engine_collection(e)?),
        };
        Some(View {
            record: r.clone(),
            engine,
        })
    }

    /// Engine collections no record claims, as views in the default database.
    fn unmapped(&self) -> Vec<View> {
        if self.database(DEFAULT_TENANT, DEFAULT_DATABASE).is_none() {
            return Vec::new();
        }
        let claimed: BTreeSet<&str> = self
            .stored
            .collections
            .iter()
            .filter_map(|r| r.engine.as_deref())
            .collect();
        let shadowed: BTreeSet<&str> = self
            .stored
            .collections
            .iter()
            .filter(|r| r.tenant == DEFAULT_TENANT && r.database == DEFAULT_DATABASE)
            .map(|r| r.name.as_str())
            .collect();
        self.db
            .list_collections()
            .into_iter()
            .filter(|n| !claimed.contains(n.as_str()) && !shadowed.contains(n.as_str()))
            .filter_map(|n| {
                let c = self.db.collection(&n).ok()?;
                Some(adopted_view(&n, c))
            })
            .collect()
    }

    /// Every live collection of a database.
    pub fn list(&self, tenant: &str, database: &str) -> Vec<View> {
        let mut out: Vec<View> = self
            .stored
            .collections
            .iter()
            .filter(|r| r.tenant == tenant && r.database == database)
            .filter_map(|r| self.record_view(r))
            .collect();
        if tenant == DEFAULT_TENANT && database == DEFAULT_DATABASE {
            out.extend(self.unmapped());
        }
        out
    }

    pub fn by_name(&self, tenant: &str, database: &str, name: &str) -> Option<View> {
        self.list(tenant, database)
            .into_iter()
            .find(|v| v.record.name == name)
    }

    pub fn by_id(&self, tenant: &str, database: &str, id: &str) -> Option<View> {
        self.list(tenant, database)
            .into_iter()
            .find(|v| v.record.id == id)
    }

    pub fn create(
        &mut self,
        tenant: &str,
        database: &str,
        name: &str,
        metadata: Option<Map<String, Value>>,
        configuration: Value,
    ) -> ChromaResult<View> {
        let record = CollectionRecord {
            id: random_uuid(),
            tenant: tenant.to_string(),
            database: database.to_string(),
            name: name.to_string(),
            metadata,
            configuration,
            engine: None,
        };
        self.stored.collections.push(record.clone());
        self.save()?;
        Ok(View {
            record,
            engine: None,
        })
    }

    /// Makes sure a record exists for this view (adopting an unmapped engine collection).
    fn record_mut(&mut self, view: &View) -> &mut CollectionRecord {
        let pos = self
            .stored
            .collections
            .iter()
            .position(|r| r.id == view.record.id);
        let pos = match pos {
            Some(p) => p,
            None => {
                self.stored.collections.push(view.record.clone());
                self.stored.collections.len() - 1
            }
        };
        &mut self.stored.collections[pos]
    }

    pub fn modify(
        &mut self,
        view: &View,
        new_name: Option<String>,
        new_metadata: Option<Map<String, Value>>,
        new_configuration: Option<Value>,
    ) -> ChromaResult<()> {
        if let Some(n) = &new_name {
            let clash = self
                .list(&view.record.tenant, &view.record.database)
                .iter()
                .any(|v| v.record.name == *n && v.record.id != view.record.id);
            if clash {
                return Err(ChromaError::already_exists(format!(
                    "Collection [{n}] already exists"
                )));
            }
        }
        let r = self.record_mut(view);
        if let Some(n) = new_name {
            r.name = n;
        }
        if let Some(m) = new_metadata {
            r.metadata = Some(m);
        }
        if let Some(c) = new_configuration {
            r.configuration = c;
        }
        self.save()
    }

    pub fn delete(&mut self, view: &View) -> ChromaResult<()> {
        if let Some(c) = &view.engine {
            self.db.delete_collection(c.name())?;
        }
        self.stored.collections.retain(|r| r.id != view.record.id);
        self.save()
    }

    /// The engine collection of `view`, creating it with `dim` when it has none yet.
    pub fn materialize(&mut self, view: &View, dim: usize) -> ChromaResult<Arc<Collection>> {
        let Some(current) = self.by_id(&view.record.tenant, &view.record.database, &view.record.id)
        else {
            return Err(ChromaError::not_found(format!(
                "Collection [{}] does not exist.",
                view.record.id
            )));
        };
        if let Some(c) = current.engine {
            return Ok(c);
        }
        let r = &current.record;
        let candidates = [
            (r.tenant == DEFAULT_TENANT && r.database == DEFAULT_DATABASE).then(|| r.name.clone()),
            Some(format!("{}:{}:{}", r.tenant, r.database, r.name)),
            Some(format!("chroma-{}", r.id)),
        ];
        let name = candidates
            .into_iter()
            .flatten()
            .find(|n| engine_name_ok(n) && !self.db.collection_exists(n))
            .ok_or_else(|| ChromaError::internal("no free engine collection name"))?;
        let h = config::hnsw_of(&r.configuration);
        let mut cfg = CollectionConfig::single(dim, h.space.distance());
        cfg.hnsw.m = (h.max_neighbors as usize).clamp(2, 1024);
        cfg.hnsw.ef_construct = (h.ef_construction as usize).max(1);
        cfg.metadata.insert(
            "chroma".into(),
            json!({"id": r.id, "tenant": r.tenant, "database": r.database}),
        );
        let c = self.db.create_collection(&name, cfg)?;
        let id = r.id.clone();
        if let Some(rec) = self.stored.collections.iter_mut().find(|x| x.id == id) {
            rec.engine = Some(name);
        }
        self.save()?;
        Ok(c)
    }
}

/// How an engine collection that no record claims looks from Chroma.
fn adopted_view(name: &str, c: Arc<Collection>) -> View {
    let config = c.config();
    let params = config.vectors.get(DEFAULT_VECTOR);
    let h = config::Hnsw {
        space: params.map_or(Space::L2, |p| Space::of_distance(p.distance)),
        ef_construction: c.config().hnsw.ef_construct as u64,
        max_neighbors: c.config().hnsw.m as u64,
        ..config::Hnsw::default()
    };
    View {
        record: CollectionRecord {
            id: derived_uuid(name),
            tenant: DEFAULT_TENANT.into(),
            database: DEFAULT_DATABASE.into(),
            name: name.to_string(),
            metadata: None,
            configuration: config::configuration_json(&h, Value::Null),
            engine: Some(name.to_string()),
        },
        engine: Some(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_well_formed_and_derived_ones_stable() {
        let a = random_uuid();
        assert_ne!(a, random_uuid());
        assert!(uuid::Uuid::parse_str(&a).is_ok());
        assert_eq!(derived_uuid("docs"), derived_uuid("docs"));
        assert_ne!(derived_uuid("docs"), derived_uuid("docs2"));
    }

    #[test]
    fn lazy_engine_collections_and_the_qdrant_view() {
        let db = Arc::new(Database::in_memory());
        let ch = Chroma::new(db.clone());
        let cfg = config::resolve(None, None).unwrap();
        let v = ch
            .with(|c| c.create(DEFAULT_TENANT, DEFAULT_DATABASE, "docs", None, cfg.clone()))
            .unwrap();
        assert!(db.list_collections().is_empty(), "no dimension yet");
        let e = ch.with(|c| c.materialize(&v, 3)).unwrap();
        assert_eq!(e.name(), "docs");
        // A Qdrant-made collection shows up in the default database.
        db.create_collection(
            "q1",
            CollectionConfig::single(2, azimuth_engine::Distance::Dot),
        )
        .unwrap();
        let names: Vec<String> = ch
            .with(|c| Ok(c.list(DEFAULT_TENANT, DEFAULT_DATABASE)))
            .unwrap()
            .into_iter()
            .map(|v| v.record.name)
            .collect();
        assert_eq!(names, ["docs", "q1"]);
        // Another tenant gets a prefixed engine name.
        ch.with(|c| c.create_tenant("t1")).unwrap();
        ch.with(|c| c.create_database("t1", "db1")).unwrap();
        let v2 = ch
            .with(|c| c.create("t1", "db1", "docs", None, cfg.clone()))
            .unwrap();
        let e2 = ch.with(|c| c.materialize(&v2, 2)).unwrap();
        assert_eq!(e2.name(), "t1:db1:docs");
        // Deleting the engine collection (Qdrant API) deletes the Chroma collection.
        db.delete_collection("t1:db1:docs").unwrap();
        assert!(ch
            .with(|c| Ok(c.by_name("t1", "db1", "docs")))
            .unwrap()
            .is_none());
    }
}
