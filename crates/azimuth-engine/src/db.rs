//! [`Database`]: a directory (or memory) holding named collections, plus the background
//! worker that seals and merges segments.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};

use crate::collection::{Collection, IndexerOptions, WriteLimits};
use crate::config::CollectionConfig;
use crate::error::{Error, Result};
use crate::storage::{DbDir, StoredConfig};

/// Options for opening a database.
#[derive(Clone, Debug)]
pub struct DbOptions {
    pub limits: WriteLimits,
    /// Run the background worker (periodic flush of `wait=false` writes, checkpoints, merges).
    pub background: bool,
    /// How often the worker looks for work.
    pub background_interval: Duration,
    /// The background indexer (runs when `background` does).
    pub indexer: IndexerOptions,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            limits: WriteLimits::default(),
            background: true,
            background_interval: Duration::from_millis(500),
            indexer: IndexerOptions::default(),
        }
    }
}

struct Inner {
    dir: Option<DbDir>,
    collections: RwLock<BTreeMap<String, Arc<Collection>>>,
    /// alias → collection name. Lock order: `collections` before `aliases`.
    aliases: RwLock<BTreeMap<String, String>>,
    options: DbOptions,
    stop: Mutex<bool>,
    wake: Condvar,
}

/// A database. Dropping it stops the background worker; acknowledged writes are already in
/// the log, so no shutdown step is needed for durability.
pub struct Database {
    inner: Arc<Inner>,
    workers: Vec<JoinHandle<()>>,
}

/// One change to the alias table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AliasAction {
    /// Point `alias` at `collection` (re-pointing an existing alias).
    Create {
        alias: String,
        collection: String,
    },
    Delete {
        alias: String,
    },
    Rename {
        old: String,
        new: String,
    },
}

/// Longest collection name, in characters.
pub const MAX_NAME_LEN: usize = 255;

pub(crate) fn validate_name(name: &str) -> Result<()> {
    let n = name.chars().count();
    if n == 0 || n > MAX_NAME_LEN {
        return Err(Error::invalid(format!(
            "collection name must be 1 to {MAX_NAME_LEN} characters long"
        )));
    }
    if name == "." || name == ".." {
        return Err(Error::invalid(
            "collection name must not be \".\" or \"..\"",
        ));
    }
    if name.contains(['/', '\\', '\0']) {
        return Err(Error::invalid(format!(
            "collection name {name:?} must not contain '/', '\\' or NUL"
        )));
    }
    Ok(())
}

impl Database {
    /// Opens (creating if needed) the database in `path`, taking an exclusive lock on it.
    pub fn open(path: impl AsRef<Path>) -> Result<Database> {
        Self::open_with(path, DbOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, options: DbOptions) -> Result<Database> {
        let dir = DbDir::open(path.as_ref())?;
        let mut collections = BTreeMap::new();
        for cdir in dir.collection_dirs()? {
            let c = Collection::open(cdir, options.limits.clone())?;
            collections.insert(c.name().to_string(), Arc::new(c));
        }
        let aliases = dir.read_aliases()?;
        Ok(Self::start(Some(dir), collections, aliases, options))
    }

    /// A database that lives in memory only (the background indexer still runs).
    pub fn in_memory() -> Database {
        Self::in_memory_with(DbOptions::default())
    }

    pub fn in_memory_with(options: DbOptions) -> Database {
        Self::start(None, BTreeMap::new(), BTreeMap::new(), options)
    }

    fn start(
        dir: Option<DbDir>,
        collections: BTreeMap<String, Arc<Collection>>,
        aliases: BTreeMap<String, String>,
        options: DbOptions,
    ) -> Database {
        let background = options.background;
        let files = dir.is_some();
        let inner = Arc::new(Inner {
            dir,
            collections: RwLock::new(collections),
            aliases: RwLock::new(aliases),
            options,
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let mut workers = Vec::new();
        let mut spawn = |name: &str, run: fn(&Inner)| {
            let inner = inner.clone();
            let handle = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    background_priority();
                    run(&inner)
                });
            workers.extend(handle.ok());
        };
        if background && files {
            spawn("azimuth-optimizer", background_loop);
        }
        if background {
            spawn("azimuth-indexer", indexer_loop);
        }
        Database { inner, workers }
    }

    pub(crate) fn dir(&self) -> Option<&DbDir> {
        self.inner.dir.as_ref()
    }

    pub(crate) fn limits(&self) -> WriteLimits {
        self.inner.options.limits.clone()
    }

    /// Puts a recovered (staged and verified) collection in place of `name`.
    pub(crate) fn install_recovered(&self, name: &str, staged: &Path) -> Result<()> {
        let dir = self
            .dir()
            .ok_or_else(|| Error::invalid("an in-memory database has no snapshots"))?;
        let mut map = self.inner.collections.write();
        if self.inner.aliases.read().contains_key(name) {
            let _ = std::fs::remove_dir_all(staged);
            return Err(Error::AlreadyExists(format!(
                "{name:?} is an alias; recover into a collection name"
            )));
        }
        if let Some(old) = map.remove(name) {
            if let Some(cdir) = old.dir() {
                dir.delete_collection(cdir)?;
            }
            old.mark_dropped();
        }
        let cdir = dir.install_staged(staged)?;
        let c = Arc::new(Collection::open(cdir, self.limits())?);
        map.insert(name.to_string(), c);
        Ok(())
    }

    /// True when the database keeps nothing on disk.
    pub fn is_in_memory(&self) -> bool {
        self.inner.dir.is_none()
    }

    pub fn create_collection(
        &self,
        name: &str,
        config: CollectionConfig,
    ) -> Result<Arc<Collection>> {
        validate_name(name)?;
        config.validate()?;
        let mut map = self.inner.collections.write();
        if map.contains_key(name) || self.inner.aliases.read().contains_key(name) {
            return Err(Error::AlreadyExists(format!(
                "collection {name:?} already exists"
            )));
        }
        let limits = self.inner.options.limits.clone();
        let c = match &self.inner.dir {
            None => Collection::new_in_memory(name.to_string(), config, limits),
            Some(dir) => {
                let stored = StoredConfig {
                    name: name.to_string(),
                    config,
                };
                Collection::open(dir.create_collection(&stored)?, limits)?
            }
        };
        let c = Arc::new(c);
        map.insert(name.to_string(), c.clone());
        Ok(c)
    }

    /// The named collection (or the collection an alias of that name points at), or
    /// `NotFound`.
    pub fn collection(&self, name: &str) -> Result<Arc<Collection>> {
        let map = self.inner.collections.read();
        let found = map.get(name).or_else(|| {
            let aliases = self.inner.aliases.read();
            aliases.get(name).and_then(|target| map.get(target))
        });
        found
            .cloned()
            .ok_or_else(|| Error::not_found(format!("collection {name:?} does not exist")))
    }

    /// True when a collection (or an alias) of that name exists.
    pub fn collection_exists(&self, name: &str) -> bool {
        self.collection(name).is_ok()
    }

    /// Names of all collections, sorted.
    pub fn list_collections(&self) -> Vec<String> {
        self.inner.collections.read().keys().cloned().collect()
    }

    /// Deletes a collection (named directly or through an alias), its files and the aliases
    /// pointing at it; returns false when it did not exist.
    pub fn delete_collection(&self, name: &str) -> Result<bool> {
        let mut map = self.inner.collections.write();
        let Ok(c) = self.collection_in(&map, name) else {
            return Ok(false);
        };
        let real = c.name().to_string();
        let mut aliases = self.inner.aliases.write();
        if aliases.values().any(|t| *t == real) {
            let mut kept = aliases.clone();
            kept.retain(|_, t| *t != real);
            self.save_aliases(&kept)?;
            *aliases = kept;
        }
        if let (Some(dir), Some(cdir)) = (&self.inner.dir, c.dir()) {
            dir.delete_collection(cdir)?;
        }
        c.mark_dropped();
        map.remove(&real);
        Ok(true)
    }

    fn collection_in(
        &self,
        map: &BTreeMap<String, Arc<Collection>>,
        name: &str,
    ) -> Result<Arc<Collection>> {
        let target = self.inner.aliases.read().get(name).cloned();
        map.get(name)
            .or_else(|| target.and_then(|t| map.get(&t)))
            .cloned()
            .ok_or_else(|| Error::not_found(format!("collection {name:?} does not exist")))
    }

    fn save_aliases(&self, aliases: &BTreeMap<String, String>) -> Result<()> {
        match &self.inner.dir {
            Some(dir) => dir.write_aliases(aliases),
            None => Ok(()),
        }
    }

    /// Applies alias actions atomically, in order: all take effect or none.
    pub fn update_aliases(&self, actions: &[AliasAction]) -> Result<()> {
        let map = self.inner.collections.read();
        let mut aliases = self.inner.aliases.write();
        let mut next = aliases.clone();
        for action in actions {
            match action {
                AliasAction::Create { alias, collection } => {
                    validate_name(alias)?;
                    if !map.contains_key(collection) {
                        return Err(Error::not_found(format!(
                            "collection {collection:?} does not exist"
                        )));
                    }
                    if map.contains_key(alias) {
                        return Err(Error::AlreadyExists(format!(
                            "a collection named {alias:?} exists; an alias cannot shadow it"
                        )));
                    }
                    next.insert(alias.clone(), collection.clone());
                }
                AliasAction::Delete { alias } => {
                    if next.remove(alias).is_none() {
                        return Err(Error::not_found(format!("alias {alias:?} does not exist")));
                    }
                }
                AliasAction::Rename { old, new } => {
                    validate_name(new)?;
                    let Some(target) = next.remove(old) else {
                        return Err(Error::not_found(format!("alias {old:?} does not exist")));
                    };
                    next.insert(new.clone(), target);
                }
            }
        }
        self.save_aliases(&next)?;
        *aliases = next;
        Ok(())
    }

    /// All aliases as (alias, collection), sorted by alias.
    pub fn list_aliases(&self) -> Vec<(String, String)> {
        self.inner
            .aliases
            .read()
            .iter()
            .map(|(a, c)| (a.clone(), c.clone()))
            .collect()
    }

    /// Seals every collection's recent writes into segment files.
    pub fn flush(&self) -> Result<()> {
        let all: Vec<_> = self.inner.collections.read().values().cloned().collect();
        all.iter().try_for_each(|c| c.flush())
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        *self.inner.stop.lock() = true;
        self.inner.wake.notify_all();
        for c in self.inner.collections.read().values() {
            c.cancel_indexing();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Waits one interval; false when the database is closing.
fn wait_interval(inner: &Inner) -> bool {
    let mut stop = inner.stop.lock();
    if *stop {
        return false;
    }
    inner
        .wake
        .wait_for(&mut stop, inner.options.background_interval);
    !*stop
}

/// Every interval: one indexing step per collection that has work (see
/// `collection::indexing`), repeated while steps do something. Errors are left for the next
/// step (a failed build is retried).
fn indexer_loop(inner: &Inner) {
    while wait_interval(inner) {
        let all: Vec<_> = inner.collections.read().values().cloned().collect();
        for c in all {
            while !*inner.stop.lock() && c.index_step(&inner.options.indexer).unwrap_or(false) {}
        }
    }
}

/// Every interval: make `wait=false` writes durable, checkpoint collections idle for a while,
/// and merge segments. Errors are left for the next foreground call to report.
fn background_loop(inner: &Inner) {
    let interval = inner.options.background_interval;
    let mut last_flush = Instant::now();
    loop {
        {
            let mut stop = inner.stop.lock();
            if *stop {
                return;
            }
            inner.wake.wait_for(&mut stop, interval);
            if *stop {
                return;
            }
        }
        let all: Vec<_> = inner.collections.read().values().cloned().collect();
        let flush_due = last_flush.elapsed() >= Duration::from_secs(5);
        for c in all {
            let _ = c.sync_log();
            if flush_due {
                let _ = c.checkpoint_in_background();
            }
            let _ = c.optimize();
        }
        if flush_due {
            last_flush = Instant::now();
        }
    }
}

/// Lowers the calling thread's CPU priority (nice 10) so requests come before background
/// work (flushes, compaction, graph builds) on a busy machine; threads it starts (the
/// build pool) inherit it. Linux only: there `setpriority` with `who = 0` names the thread.
fn background_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority reads no memory of ours; a failure only leaves the priority as is.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}
