//! Graphs over a subset of an index's rows, derived from its links instead of built anew.
//!
//! A node of the subset keeps its level. On each level its candidates are the subset's nodes
//! among its neighbours there, and the subset's nodes among the neighbours of its neighbours
//! that are not in the subset (the links a walk of the subset loses); the closest of them go
//! through the same neighbour heuristic as a build. No beam search runs, so deriving costs
//! a small part of a build: one pass over the lists and a few hundred distances per node.

use super::build::{in_chunks, link_orphans, write_diverse};
use super::graph::Graph;
use super::search::{Scored, Space};
use super::{rows_in, BuildControl, Hnsw, HnswError};

/// Candidates per list handed to the heuristic, in multiples of the list's capacity.
const CANDIDATES_PER_SLOT: usize = 3;

/// Marks rows of the parent that are not in the subset.
const OUTSIDE: u32 = u32::MAX;

/// Buffers reused across the lists one worker derives.
#[derive(Default)]
struct Buffers {
    links: Vec<u32>,
    hop: Vec<u32>,
    ids: Vec<u32>,
    scored: Vec<Scored>,
    kept: Vec<Scored>,
    skipped: Vec<Scored>,
}

impl Hnsw {
    /// A graph over `rows` of this index (ascending, every one in the graph), node `i` being
    /// `rows[i]`, whose vectors are the rows of `data` in that order (row `i` of `data` is
    /// the vector of `rows[i]`). Links are derived from this graph's (see the module docs),
    /// on `threads` workers. `None` when `control` cancelled it.
    pub fn derive_subset(
        &self,
        rows: &[u32],
        data: &[f32],
        threads: usize,
        control: &BuildControl,
    ) -> Result<Option<Hnsw>, HnswError> {
        if rows_in(data, self.dim) < rows.len() {
            let why = format!(
                "{} subset rows but data for {}",
                rows.len(),
                rows_in(data, self.dim)
            );
            return Err(HnswError::InvalidArgument(why));
        }
        if !rows.windows(2).all(|w| w[0] < w[1]) {
            let why = "subset rows are not ascending".to_string();
            return Err(HnswError::InvalidArgument(why));
        }
        let mut local = vec![OUTSIDE; self.graph.len()];
        let mut levels = Vec::with_capacity(rows.len());
        for (i, &row) in (0u32..).zip(rows) {
            let (Some(level), Some(slot)) = (self.graph.level(row), local.get_mut(row as usize))
            else {
                let why = format!("subset row {row} is not in the graph");
                return Err(HnswError::InvalidArgument(why));
            };
            *slot = i;
            levels.push(level);
        }
        let mut index = Hnsw::new(self.dim, self.metric, self.params);
        index.entry = (0u32..)
            .zip(&levels)
            .max_by_key(|&(i, &level)| (level, u32::MAX - i))
            .map(|(i, _)| i);
        index.graph = Graph::with_levels(self.params.m, levels);
        index.count = rows.len();
        index.deleted = vec![false; rows.len()];
        let deriving = Deriving {
            parent: &self.graph,
            graph: &index.graph,
            rows,
            local: &local,
            space: Space::new(data, self.dim, self.metric),
        };
        in_chunks(
            rows.len(),
            threads,
            control,
            Buffers::default,
            |buf, node| {
                for lev in 0..=index.graph.level(node).unwrap_or(0) {
                    deriving.derive_list(node, lev, buf);
                }
            },
        );
        if control.is_cancelled() {
            return Ok(None);
        }
        link_orphans(&index.graph, deriving.space);
        Ok(Some(index))
    }
}

/// What deriving one list reads.
struct Deriving<'a> {
    parent: &'a Graph,
    graph: &'a Graph,
    rows: &'a [u32],
    /// Subset node of each parent row, or [`OUTSIDE`].
    local: &'a [u32],
    space: Space<'a>,
}

impl Deriving<'_> {
    fn local(&self, row: u32) -> Option<u32> {
        self.local
            .get(row as usize)
            .copied()
            .filter(|&l| l != OUTSIDE)
    }

    /// Sets the list of subset node `node` on `lev`. Each node's lists are written by the
    /// one worker that derives them, so no locks are needed.
    fn derive_list(&self, node: u32, lev: u8, buf: &mut Buffers) {
        let Some(&row) = self.rows.get(node as usize) else {
            return;
        };
        self.parent.neighbors_into(row, lev, &mut buf.links);
        buf.ids.clear();
        for &next in &buf.links {
            match self.local(next) {
                Some(l) => buf.ids.push(l),
                None => {
                    self.parent.neighbors_into(next, lev, &mut buf.hop);
                    buf.ids.extend(
                        buf.hop
                            .iter()
                            .filter_map(|&far| self.local(far))
                            .filter(|&l| l != node),
                    );
                }
            }
        }
        buf.ids.sort_unstable();
        buf.ids.dedup();
        let scored = &mut buf.scored;
        scored.clear();
        self.space
            .for_each_distance(self.space.vector(node), &buf.ids, |id, dist| {
                scored.push(Scored { dist, id });
            });
        scored.sort_unstable();
        scored.truncate(CANDIDATES_PER_SLOT * self.graph.capacity(lev));
        let out = (&mut buf.kept, &mut buf.skipped, &mut buf.ids);
        write_diverse(self.graph, self.space, (node, lev), scored, out);
    }
}
