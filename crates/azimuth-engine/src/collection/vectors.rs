//! Adding vectors to a collection and deleting them (Qdrant's "create / delete vector
//! name").
//!
//! A change runs under the write lock, after a checkpoint: every point written so far is in
//! a sealed segment with its file (the log is cut), and the new mutable segment gets the
//! next id. Sealed segments keep their files; in memory their columns are fitted to the new
//! vector list ([`SegmentData::fit_columns`]), and `config.vector_since` tells a later open
//! which segments predate an added vector, so a column of an earlier vector of the same name
//! in an old file is never read as the new one. Graph files are named by a dense vector's
//! position in the sorted list of names, which a change can shift: files whose position
//! changes are removed before the new CONFIG is written and written again from memory
//! afterwards (a crash in between leaves graphs to rebuild, never a graph under the wrong
//! name — each file also stores its vector's name, checked at open).
//!
//! [`SegmentData::fit_columns`]: crate::segment::SegmentData::fit_columns

use std::sync::Arc;

use super::Collection;
use crate::config::{CollectionConfig, SparseVectorParams, VectorParams};
use crate::error::{Error, Result};
use crate::UpdateResult;

/// A vector to add to a collection.
#[derive(Clone, Debug)]
pub enum NewVector {
    Dense(VectorParams),
    Sparse(SparseVectorParams),
}

impl Collection {
    /// Adds vector `name` to the collection. Existing points do not have it; writes may set
    /// it from now on. A collection created with one unnamed vector takes no other vectors.
    pub fn create_vector(&self, name: &str, vector: NewVector) -> Result<UpdateResult> {
        let _schema = self.graph_files.lock();
        self.check_alive()?;
        let old = self.config();
        if old.single_unnamed {
            return Err(Error::invalid(
                "this collection has a single unnamed vector; vectors can be added only to a \
                 collection created with named vectors",
            ));
        }
        if name.is_empty() {
            return Err(Error::invalid("a vector name must not be empty"));
        }
        if old.vectors.contains_key(name) || old.sparse_vectors.contains_key(name) {
            return Err(Error::invalid(format!(
                "vector {name:?} already exists in this collection"
            )));
        }
        let mut new = (*old).clone();
        match vector {
            NewVector::Dense(p) => {
                new.vectors.insert(name.to_string(), p);
            }
            NewVector::Sparse(p) => {
                new.sparse_vectors.insert(name.to_string(), p);
            }
        }
        self.change_vectors(&old, new, Some(name))
    }

    /// Deletes vector `name` and every point's value of it (points stay, with their other
    /// vectors and payload).
    pub fn delete_vector(&self, name: &str) -> Result<UpdateResult> {
        let _schema = self.graph_files.lock();
        self.check_alive()?;
        let old = self.config();
        if !old.vectors.contains_key(name) && !old.sparse_vectors.contains_key(name) {
            return Err(Error::not_found(format!(
                "vector {name:?} does not exist in this collection"
            )));
        }
        if old.single_unnamed {
            return Err(Error::invalid(
                "the unnamed vector of a collection cannot be deleted",
            ));
        }
        let mut new = (*old).clone();
        new.vectors.remove(name);
        new.sparse_vectors.remove(name);
        new.vector_since.remove(name);
        self.change_vectors(&old, new, None)
    }

    /// Switches from `old` to `new` (which differ in their vector lists; `added` names the
    /// vector added, if any). The caller holds `graph_files`. Durable when it returns.
    fn change_vectors(
        &self,
        old: &CollectionConfig,
        mut new: CollectionConfig,
        added: Option<&str>,
    ) -> Result<UpdateResult> {
        new.validate()?;
        self.cancel_indexing();
        let mut st = self.state.write();
        match &self.dir {
            Some(_) => self.checkpoint_locked(&mut st)?,
            None => self.seal_in_memory(&mut st),
        }
        // the (empty) mutable segment is replaced by one with the new columns, whose id
        // is the first that may hold an added vector
        let since = st.next_segment_id;
        if let Some(name) = added {
            new.vector_since.insert(name.to_string(), since);
        }
        // graph files are named by a dense vector's position, which this may shift
        let moved = |from: &CollectionConfig, to: &CollectionConfig| -> Vec<(usize, String)> {
            from.vectors
                .keys()
                .enumerate()
                .filter(|(no, name)| to.vectors.keys().nth(*no) != Some(*name))
                .map(|(no, name)| (no, name.clone()))
                .collect()
        };
        let (moved_from, moved_to) = (moved(old, &new), moved(&new, old));
        if let Some(dir) = &self.dir {
            for seg in st.segments.values() {
                for (no, _) in &moved_from {
                    dir.remove_graph(seg.id, *no)?;
                    // value graphs stay in memory; after a reopen the indexer rebuilds them
                    dir.remove_value_graphs(seg.id, *no)?;
                }
            }
        }
        self.persist_config(&new)?;
        let mutable = st.mutable_id;
        st.segments.remove(&mutable);
        st.new_mutable(&new);
        debug_assert_eq!(st.mutable_id, since);
        let deleted: Vec<&String> = old
            .vectors
            .keys()
            .chain(old.sparse_vectors.keys())
            .filter(|n| !new.vectors.contains_key(*n) && !new.sparse_vectors.contains_key(*n))
            .collect();
        for seg in st.segments.values_mut() {
            if seg.id == since {
                continue;
            }
            Arc::make_mut(&mut seg.data).fit_columns(seg.id, &new);
            seg.forget_filters();
            for name in &deleted {
                seg.forget_vector(name);
            }
        }
        *self.config.write() = Arc::new(new);
        // graphs whose position moved are written again under their new position; a failure
        // only means a rebuild after the next open
        if let Some(dir) = &self.dir {
            for seg in st.segments.values() {
                for (no, name) in &moved_to {
                    if let Some(g) = seg.graphs.get(name) {
                        let _ = dir.write_graph(seg.id, *no, name, g);
                    }
                }
            }
        }
        Ok(UpdateResult {
            operation_id: st.last_lsn,
            completed: true,
        })
    }
}
