//! The write path: validate, resolve filters to ids, log, apply, wait for durability.

use super::state::State;
use super::Collection;
use crate::config::DEFAULT_VECTOR;
use crate::error::{Error, Result};
use crate::filter::{validate_payload, FieldSchema, Filter, JsonPath};
use crate::ops::Op;
use crate::point::{prepare_vectors, NamedVectors, PointSelector, PointStruct, UpdateResult};
use crate::types::{Payload, PointId};

/// How an upsert treats ids that exist or don't.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UpsertMode {
    /// Insert new points, replace existing ones.
    #[default]
    Upsert,
    /// Leave existing ids untouched.
    InsertOnly,
    /// Skip ids that don't exist.
    UpdateOnly,
}

/// Options of [`Collection::upsert_with`].
#[derive(Clone, Debug, Default)]
pub struct UpsertOptions {
    pub mode: UpsertMode,
    /// Existing points are replaced only when they match this filter; new points are always
    /// inserted.
    pub update_filter: Option<Filter>,
}

impl Collection {
    /// Logs and applies the operation `build` derives from the current state (None = no-op),
    /// then, with `wait`, blocks until it is durable.
    fn commit(
        &self,
        wait: bool,
        build: impl FnOnce(&State) -> Result<Option<Op>>,
    ) -> Result<UpdateResult> {
        let config = self.config();
        self.check_alive()?;
        let mut st = self.state.write();
        let Some(op) = build(&st)? else {
            return Ok(UpdateResult {
                operation_id: st.last_lsn,
                completed: true,
            });
        };
        let lsn = match &self.wal {
            Some(wal) => wal.append(&op.encode())?,
            None => st.last_lsn + 1,
        };
        let wal_path = self.dir.as_ref().map(|d| d.wal_dir()).unwrap_or_default();
        st.apply(&op, lsn, &wal_path)?;
        *self.last_write.lock() = std::time::Instant::now();
        let over = st.mutable().bytes >= config.optimizer.flush_threshold_bytes;
        drop(st);
        if let (true, Some(wal)) = (wait, &self.wal) {
            wal.wait_durable(lsn)?;
        }
        if over {
            if self.dir.is_some() {
                self.check_alive()?;
                self.checkpoint_staged(config.optimizer.flush_threshold_bytes)?;
            } else {
                self.seal_in_memory(&mut self.state.write());
            }
        }
        Ok(UpdateResult {
            operation_id: lsn,
            completed: wait || self.wal.is_none(),
        })
    }

    /// Commits an edit of the selected points. Listed ids that do not exist are an error
    /// (`NotFound`, as Qdrant answers), reported after the existing ones were edited.
    fn commit_edit(
        &self,
        sel: &PointSelector,
        wait: bool,
        make: impl FnOnce(Vec<PointId>) -> Op,
    ) -> Result<UpdateResult> {
        let mut missing = None;
        let result = self.commit(wait, |st| {
            if let PointSelector::Ids(ids) = sel {
                missing = ids.iter().find(|id| !st.id_map.contains_key(id)).cloned();
            }
            Ok(non_empty(resolve(st, sel)?).map(make))
        })?;
        match missing {
            Some(id) => Err(Error::not_found(format!("No point with id {id} found"))),
            None => Ok(result),
        }
    }

    fn check_payload(&self, p: &Payload) -> Result<()> {
        validate_payload(
            p,
            self.limits.max_payload_bytes,
            self.limits.max_payload_depth,
        )
    }

    /// Inserts or replaces whole points (all vectors and the payload).
    pub fn upsert(&self, points: Vec<PointStruct>, wait: bool) -> Result<UpdateResult> {
        self.upsert_with(points, &UpsertOptions::default(), wait)
    }

    pub fn upsert_with(
        &self,
        points: Vec<PointStruct>,
        opts: &UpsertOptions,
        wait: bool,
    ) -> Result<UpdateResult> {
        let config = self.config();
        let mut prepared = Vec::with_capacity(points.len());
        for p in points {
            p.id.validate()?;
            self.check_payload(&p.payload)?;
            if config.single_unnamed && !p.vectors.contains_key(DEFAULT_VECTOR) {
                return Err(Error::invalid(format!(
                    "point {}: the unnamed vector is missing",
                    p.id
                )));
            }
            let vectors = prepare_vectors(p.vectors, &config)
                .map_err(|e| Error::invalid(format!("point {}: {}", p.id, strip_prefix(&e))))?;
            prepared.push(PointStruct {
                id: p.id,
                vectors,
                payload: p.payload,
            });
        }
        self.commit(wait, |st| {
            let keep = |p: &PointStruct| match st.locate(&p.id) {
                None => opts.mode != UpsertMode::UpdateOnly,
                Some((seg, row)) => {
                    opts.mode != UpsertMode::InsertOnly
                        && opts
                            .update_filter
                            .as_ref()
                            .is_none_or(|f| f.matches(&seg.view(row)))
                }
            };
            prepared.retain(keep);
            Ok((!prepared.is_empty()).then_some(Op::Upsert(prepared)))
        })
    }

    /// Deletes the selected points; unknown ids are ignored.
    pub fn delete(&self, sel: &PointSelector, wait: bool) -> Result<UpdateResult> {
        self.commit(wait, |st| Ok(non_empty(resolve(st, sel)?).map(Op::Delete)))
    }

    /// Merges `payload` into the selected points' payloads (at `key` when given).
    pub fn set_payload(
        &self,
        sel: &PointSelector,
        payload: Payload,
        key: Option<&str>,
        wait: bool,
    ) -> Result<UpdateResult> {
        self.check_payload(&payload)?;
        let key = key
            .map(|k| JsonPath::parse(k).map(|_| k.to_string()))
            .transpose()?;
        self.commit_edit(sel, wait, |ids| Op::SetPayload { ids, payload, key })
    }

    /// Replaces the selected points' payloads.
    pub fn overwrite_payload(
        &self,
        sel: &PointSelector,
        payload: Payload,
        wait: bool,
    ) -> Result<UpdateResult> {
        self.check_payload(&payload)?;
        self.commit_edit(sel, wait, |ids| Op::OverwritePayload { ids, payload })
    }

    /// Removes keys (key paths) from the selected points' payloads.
    pub fn delete_payload(
        &self,
        sel: &PointSelector,
        keys: &[String],
        wait: bool,
    ) -> Result<UpdateResult> {
        for k in keys {
            JsonPath::parse(k)?;
        }
        let keys = keys.to_vec();
        self.commit_edit(sel, wait, |ids| Op::DeletePayload { ids, keys })
    }

    /// Empties the selected points' payloads.
    pub fn clear_payload(&self, sel: &PointSelector, wait: bool) -> Result<UpdateResult> {
        self.commit_edit(sel, wait, |ids| Op::ClearPayload { ids })
    }

    /// Sets the given vectors of existing points, keeping their other vectors.
    pub fn update_vectors(
        &self,
        points: Vec<(PointId, NamedVectors)>,
        update_filter: Option<&Filter>,
        wait: bool,
    ) -> Result<UpdateResult> {
        let config = self.config();
        let mut prepared = Vec::with_capacity(points.len());
        for (id, v) in points {
            if v.is_empty() {
                return Err(Error::invalid(format!(
                    "point {id}: no vectors given to update"
                )));
            }
            let v = prepare_vectors(v, &config)
                .map_err(|e| Error::invalid(format!("point {id}: {}", strip_prefix(&e))))?;
            prepared.push((id, v));
        }
        let mut missing = None;
        let result = self.commit(wait, |st| {
            missing = prepared
                .iter()
                .map(|p| &p.0)
                .find(|id| !st.id_map.contains_key(id))
                .cloned();
            prepared.retain(|(id, _)| match st.locate(id) {
                None => false,
                Some((seg, row)) => update_filter.is_none_or(|f| f.matches(&seg.view(row))),
            });
            Ok((!prepared.is_empty()).then_some(Op::UpdateVectors(prepared)))
        })?;
        match missing {
            Some(id) => Err(Error::not_found(format!("No point with id {id} found"))),
            None => Ok(result),
        }
    }

    /// Removes the named vectors (`""` = unnamed) from the selected points.
    pub fn delete_vectors(
        &self,
        sel: &PointSelector,
        names: &[String],
        wait: bool,
    ) -> Result<UpdateResult> {
        let config = self.config();
        for n in names {
            if !config.vectors.contains_key(n) && !config.sparse_vectors.contains_key(n) {
                return Err(crate::point::unknown_vector(n, &config));
            }
        }
        let names = names.to_vec();
        self.commit_edit(sel, wait, |ids| Op::DeleteVectors { ids, names })
    }

    /// Creates (or replaces) a payload index on a key path.
    pub fn create_payload_index(
        &self,
        key: &str,
        schema: FieldSchema,
        wait: bool,
    ) -> Result<UpdateResult> {
        self.create_payload_index_spec(key, &serde_json::Value::from(schema.name()), wait)
    }

    /// Creates (or replaces) a payload index from a Qdrant `field_schema`: a type string or an
    /// object with `type` and options; the spec is kept and reported back.
    pub fn create_payload_index_spec(
        &self,
        key: &str,
        spec: &serde_json::Value,
        wait: bool,
    ) -> Result<UpdateResult> {
        JsonPath::parse(key)?;
        FieldSchema::from_json(spec)?;
        let op = Op::CreateIndex {
            key: key.to_string(),
            schema: spec.to_string(),
        };
        self.commit(wait, |_| Ok(Some(op)))
    }

    /// Drops a payload index; a no-op when there is none.
    pub fn delete_payload_index(&self, key: &str, wait: bool) -> Result<UpdateResult> {
        let path = JsonPath::parse(key)?;
        self.commit(wait, |st| {
            Ok(st.schema.contains_key(&path).then(|| Op::DropIndex {
                key: key.to_string(),
            }))
        })
    }
}

/// Ids of existing points the selector names, in a stable order.
fn resolve(st: &State, sel: &PointSelector) -> Result<Vec<PointId>> {
    Ok(match sel {
        PointSelector::Ids(ids) => {
            let mut seen = std::collections::HashSet::new();
            ids.iter()
                .filter(|id| st.id_map.contains_key(id) && seen.insert(*id))
                .cloned()
                .collect()
        }
        PointSelector::Filter(f) => {
            let mut out = Vec::new();
            for seg in st.segments.values() {
                out.extend(
                    seg.matching_rows(Some(f))
                        .into_iter()
                        .map(|r| seg.data.ids[r as usize].clone()),
                );
            }
            out.sort();
            out
        }
    })
}

fn non_empty(ids: Vec<PointId>) -> Option<Vec<PointId>> {
    (!ids.is_empty()).then_some(ids)
}

fn strip_prefix(e: &Error) -> String {
    match e {
        Error::InvalidArgument(m) => m.clone(),
        other => other.to_string(),
    }
}
