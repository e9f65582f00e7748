//! A collection's in-memory state and the deterministic application of logged operations.
//!
//! Invariant: every live point id maps to exactly one live row of one segment (`id_map`).
//! Invariant: applying the same operations in the same order to the same manifest state gives
//! the same state — WAL replay relies on it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::CollectionConfig;
use crate::error::{Error, Result};
use crate::filter::{delete_keys, set_payload, FieldSchema, JsonPath};
use crate::ops::Op;
use crate::point::NamedVectors;
use crate::segment::{Segment, SegmentData};
use crate::types::{Payload, PointId};

pub(crate) struct State {
    pub segments: BTreeMap<u64, Segment>,
    /// The segment taking new rows.
    pub mutable_id: u64,
    pub next_segment_id: u64,
    pub id_map: BTreeMap<PointId, (u64, u32)>,
    pub schema: BTreeMap<JsonPath, FieldSchema>,
    /// The `field_schema` each index was created with (a type string or an object with options).
    pub index_specs: BTreeMap<JsonPath, serde_json::Value>,
    pub last_lsn: u64,
    /// `last_lsn` when the manifest was last written (a checkpoint with nothing new is skipped).
    pub last_lsn_at_manifest: u64,
    pub manifest_generation: u64,
    /// Sealed segments not yet in a manifest, whose files a staged checkpoint writes outside
    /// the lock (see `checkpoint::checkpoint_staged`); the indexer leaves them alone.
    pub unwritten: std::collections::BTreeSet<u64>,
}

impl State {
    pub fn new(config: &CollectionConfig) -> State {
        let mut st = State {
            segments: BTreeMap::new(),
            mutable_id: 0,
            next_segment_id: 0,
            id_map: BTreeMap::new(),
            schema: BTreeMap::new(),
            index_specs: BTreeMap::new(),
            last_lsn: 0,
            last_lsn_at_manifest: 0,
            manifest_generation: 0,
            unwritten: Default::default(),
        };
        st.new_mutable(config); // segment 0
        st
    }

    pub fn mutable(&self) -> &Segment {
        &self.segments[&self.mutable_id]
    }

    pub fn mutable_mut(&mut self) -> &mut Segment {
        self.segments
            .get_mut(&self.mutable_id)
            .expect("the mutable segment always exists")
    }

    pub fn locate(&self, id: &PointId) -> Option<(&Segment, u32)> {
        let (s, r) = self.id_map.get(id)?;
        Some((&self.segments[s], *r))
    }

    /// Installs a sealed segment and points the id map at its rows.
    pub fn install(&mut self, seg: Segment) {
        for (row, id) in seg.data.ids.iter().enumerate() {
            if seg.is_live(row as u32) {
                self.id_map.insert(id.clone(), (seg.id, row as u32));
            }
        }
        self.segments.insert(seg.id, seg);
    }

    /// Replaces the mutable segment with a fresh empty one.
    pub fn new_mutable(&mut self, config: &CollectionConfig) {
        let id = self.next_segment_id;
        self.next_segment_id += 1;
        let mut seg = Segment::new(id, SegmentData::empty(config), &self.schema);
        seg.seal_at_bytes = config.optimizer.flush_threshold_bytes;
        self.segments.insert(id, seg);
        self.mutable_id = id;
    }

    pub fn live_points(&self) -> usize {
        self.id_map.len()
    }

    /// Applies one operation. Operations are validated before they are logged, so on the live
    /// path this cannot fail; on replay a failure means the log holds bytes we never wrote.
    pub fn apply(&mut self, op: &Op, lsn: u64, wal: &Path) -> Result<()> {
        match op {
            Op::Upsert(points) => {
                for p in points {
                    self.remove(&p.id);
                    let row =
                        self.mutable_mut()
                            .push(p.id.clone(), lsn, &p.vectors, p.payload.clone());
                    self.id_map.insert(p.id.clone(), (self.mutable_id, row));
                }
            }
            Op::Delete(ids) => ids.iter().for_each(|id| self.remove(id)),
            Op::SetPayload { ids, payload, key } => {
                let key = key
                    .as_deref()
                    .map(|k| parse_logged_path(k, wal))
                    .transpose()?;
                self.edit_payloads(ids, lsn, |p| set_payload(p, payload, key.as_ref()));
            }
            Op::OverwritePayload { ids, payload } => {
                self.edit_payloads(ids, lsn, |p| *p = payload.clone())
            }
            Op::DeletePayload { ids, keys } => {
                let keys = keys
                    .iter()
                    .map(|k| parse_logged_path(k, wal))
                    .collect::<Result<Vec<_>>>()?;
                self.edit_payloads(ids, lsn, |p| delete_keys(p, &keys));
            }
            Op::ClearPayload { ids } => self.edit_payloads(ids, lsn, |p| p.clear()),
            Op::UpdateVectors(points) => {
                for (id, vectors) in points {
                    self.edit_vectors(id, lsn, |v| {
                        v.extend(vectors.iter().map(|(n, x)| (n.clone(), x.clone())))
                    });
                }
            }
            Op::DeleteVectors { ids, names } => {
                for id in ids {
                    self.edit_vectors(id, lsn, |v| v.retain(|n, _| !names.contains(n)));
                }
            }
            Op::CreateIndex { key, schema } => {
                let path = parse_logged_path(key, wal)?;
                let (schema, spec) = parse_index_spec(schema).ok_or_else(|| {
                    Error::corruption(wal, format!("unknown payload index type {schema:?} in log"))
                })?;
                self.schema.insert(path.clone(), schema);
                self.index_specs.insert(path.clone(), spec);
                for seg in self.segments.values_mut() {
                    seg.indexes.drop_field(&path);
                    seg.forget_value_graphs(&path);
                    seg.create_index(&path, schema);
                }
            }
            Op::DropIndex { key } => {
                let path = parse_logged_path(key, wal)?;
                self.schema.remove(&path);
                self.index_specs.remove(&path);
                for seg in self.segments.values_mut() {
                    seg.indexes.drop_field(&path);
                    seg.forget_value_graphs(&path);
                }
            }
        }
        self.last_lsn = lsn;
        Ok(())
    }

    fn remove(&mut self, id: &PointId) {
        if let Some((s, r)) = self.id_map.remove(id) {
            if let Some(seg) = self.segments.get_mut(&s) {
                seg.delete(r);
            }
        }
    }

    fn edit_payloads(&mut self, ids: &[PointId], lsn: u64, mut edit: impl FnMut(&mut Payload)) {
        for id in ids {
            let Some(&(s, r)) = self.id_map.get(id) else {
                continue;
            };
            let mut payload = self.segments[&s].data.payloads[r as usize].clone();
            edit(&mut payload);
            if s == self.mutable_id {
                self.mutable_mut().replace_payload(r, payload, lsn);
            } else {
                let vectors = self.segments[&s].vectors(r);
                self.rewrite(id, vectors, payload, lsn);
            }
        }
    }

    fn edit_vectors(&mut self, id: &PointId, lsn: u64, edit: impl FnOnce(&mut NamedVectors)) {
        let Some(&(s, r)) = self.id_map.get(id) else {
            return;
        };
        let mut vectors = self.segments[&s].vectors(r);
        edit(&mut vectors);
        if s == self.mutable_id {
            self.mutable_mut().replace_vectors(r, &vectors, lsn);
        } else {
            let payload = self.segments[&s].data.payloads[r as usize].clone();
            self.rewrite(id, vectors, payload, lsn);
        }
    }

    /// Moves a point out of a sealed segment into the mutable one with new content.
    fn rewrite(&mut self, id: &PointId, vectors: NamedVectors, payload: Payload, lsn: u64) {
        self.remove(id);
        let row = self.mutable_mut().push(id.clone(), lsn, &vectors, payload);
        self.id_map.insert(id.clone(), (self.mutable_id, row));
    }
}

fn parse_logged_path(key: &str, wal: &Path) -> Result<JsonPath> {
    JsonPath::parse(key)
        .map_err(|_| Error::corruption(wal, format!("invalid key path {key:?} in log")))
}

/// Reads a stored index spec: JSON text (a type string or an object with options), or a bare
/// type name.
pub(crate) fn parse_index_spec(text: &str) -> Option<(FieldSchema, serde_json::Value)> {
    let spec =
        serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_string()));
    Some((FieldSchema::from_json(&spec).ok()?, spec))
}
