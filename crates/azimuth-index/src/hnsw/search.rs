//! The graph walk shared by construction and queries: greedy descent through the upper
//! levels, then a best-first beam search of width `ef` on one level.
//!
//! Distances are normalised so that smaller is closer ([`Space::distance`]); per-search
//! buffers (visited set, heaps) live in a [`Scratch`] taken from a [`ScratchPool`] so a
//! search allocates nothing once the pool is warm.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::{Mutex, PoisonError};

use super::graph::Graph;
use crate::distance::{self, Kernels, Metric};

/// How many rows ahead of the one being scored a walk prefetches (measured on 384-d rows:
/// 4 beat 2, 8 and prefetching every neighbour at once).
pub(super) const LOOKAHEAD: usize = 4;

/// A node and its distance to the current target; orders by distance, then id.
#[derive(Clone, Copy, Debug)]
pub(super) struct Scored {
    pub(super) dist: f32,
    pub(super) id: u32,
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.dist
            .total_cmp(&other.dist)
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Scored {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scored {}

/// The caller's row-major matrix and a metric, as "smaller is closer" distances.
#[derive(Clone, Copy)]
pub(super) struct Space<'a> {
    kernels: &'static Kernels,
    metric: Metric,
    data: &'a [f32],
    dim: usize,
}

impl<'a> Space<'a> {
    pub(super) fn new(data: &'a [f32], dim: usize, metric: Metric) -> Space<'a> {
        Space {
            kernels: distance::kernels(),
            metric,
            data,
            dim,
        }
    }

    pub(super) fn metric(&self) -> Metric {
        self.metric
    }

    /// Row `row` of the matrix; empty if it lies outside (callers check the row count first).
    #[inline]
    pub(super) fn vector(&self, row: u32) -> &'a [f32] {
        let start = row as usize * self.dim;
        self.data.get(start..start + self.dim).unwrap_or(&[])
    }

    /// Distance between two vectors: the metric's score, negated for [`Metric::Dot`]. NaN
    /// becomes +inf so it ranks last and never breaks the heaps' order.
    #[inline]
    pub(super) fn distance(&self, a: &[f32], b: &[f32]) -> f32 {
        let score = self.kernels.score(self.metric, a, b);
        let dist = if self.metric == Metric::Dot {
            -score
        } else {
            score
        };
        if dist.is_nan() {
            f32::INFINITY
        } else {
            dist
        }
    }

    /// Calls `each(id, distance(query, row id))` for every id in order, prefetching the row
    /// [`LOOKAHEAD`] places ahead so memory latency overlaps the arithmetic.
    #[inline]
    pub(super) fn for_each_distance(
        &self,
        query: &[f32],
        ids: &[u32],
        mut each: impl FnMut(u32, f32),
    ) {
        for &id in ids.iter().take(LOOKAHEAD) {
            distance::prefetch(self.vector(id));
        }
        for (i, &id) in ids.iter().enumerate() {
            if let Some(&ahead) = ids.get(i + LOOKAHEAD) {
                distance::prefetch(self.vector(ahead));
            }
            each(id, self.distance(query, self.vector(id)));
        }
    }

    /// Converts a distance back into the metric's natural score.
    pub(super) fn score(&self, dist: f32) -> f32 {
        if self.metric == Metric::Dot {
            -dist
        } else {
            dist
        }
    }
}

/// A set of node ids as a bitmap, cleared in time proportional to what was set.
#[derive(Default, Debug)]
pub(super) struct Visited {
    bits: Vec<u64>,
    touched: Vec<u32>,
}

impl Visited {
    /// Empties the set and makes room for ids `0..nodes`.
    fn reset(&mut self, nodes: usize) {
        for &word in &self.touched {
            self.bits[word as usize] = 0;
        }
        self.touched.clear();
        let words = nodes.div_ceil(64);
        if self.bits.len() < words {
            self.bits.resize(words, 0);
        }
    }

    /// Adds `id`; true if it was not there yet. Ids past the reset size count as visited.
    #[inline]
    fn insert(&mut self, id: u32) -> bool {
        let word = (id / 64) as usize;
        let bit = 1u64 << (id % 64);
        let Some(slot) = self.bits.get_mut(word) else {
            return false;
        };
        if *slot & bit != 0 {
            return false;
        }
        if *slot == 0 {
            self.touched.push(word as u32);
        }
        *slot |= bit;
        true
    }
}

/// Buffers for one search, reused across searches.
#[derive(Default, Debug)]
pub(super) struct Scratch {
    visited: Visited,
    candidates: BinaryHeap<Reverse<Scored>>,
    /// The best `ef` accepted nodes so far, worst on top.
    pub(super) results: BinaryHeap<Scored>,
    neighbors: Vec<u32>,
    fresh: Vec<u32>,
}

/// Idle [`Scratch`] buffers; a search takes one and gives it back.
#[derive(Default, Debug)]
pub(super) struct ScratchPool(Mutex<Vec<Scratch>>);

impl ScratchPool {
    pub(super) fn take(&self) -> Scratch {
        let mut idle = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        idle.pop().unwrap_or_default()
    }

    pub(super) fn give(&self, scratch: Scratch) {
        let mut idle = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        idle.push(scratch);
    }
}

/// Distances from one query to graph nodes, smaller is closer: what a walk needs besides the
/// links. [`FloatQuery`] computes them from the f32 rows; quantized codes implement it too
/// (see `crate::quant`), so the same walk runs over either.
pub trait QueryDistance {
    /// Distance from the query to node `id` (finite, or +inf for "never").
    fn distance(&self, id: u32) -> f32;
    /// Starts loading what `distance(id)` will read.
    fn prefetch(&self, id: u32);
}

/// A query against the caller's f32 rows.
#[derive(Clone, Copy)]
pub(super) struct FloatQuery<'a> {
    pub(super) space: Space<'a>,
    pub(super) query: &'a [f32],
}

impl QueryDistance for FloatQuery<'_> {
    #[inline]
    fn distance(&self, id: u32) -> f32 {
        self.space.distance(self.query, self.space.vector(id))
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        distance::prefetch(self.space.vector(id));
    }
}

/// Calls `each(id, distance)` for every id in order, prefetching [`LOOKAHEAD`] places ahead
/// so memory latency overlaps the arithmetic.
#[inline]
fn for_each_distance(q: &impl QueryDistance, ids: &[u32], mut each: impl FnMut(u32, f32)) {
    for &id in ids.iter().take(LOOKAHEAD) {
        q.prefetch(id);
    }
    for (i, &id) in ids.iter().enumerate() {
        if let Some(&ahead) = ids.get(i + LOOKAHEAD) {
            q.prefetch(ahead);
        }
        each(id, q.distance(id));
    }
}

/// A graph to walk.
#[derive(Clone, Copy)]
pub(super) struct View<'a> {
    pub(super) graph: &'a Graph,
}

impl View<'_> {
    /// Walks `level` greedily from `start` towards the query until no neighbour is closer.
    fn greedy(
        &self,
        q: &impl QueryDistance,
        start: Scored,
        level: u8,
        neighbors: &mut Vec<u32>,
    ) -> Scored {
        let mut best = start;
        loop {
            let from = best.id;
            self.graph.neighbors_into(from, level, neighbors);
            for_each_distance(q, neighbors, |id, dist| {
                best = best.min(Scored { dist, id });
            });
            if best.id == from {
                return best;
            }
        }
    }

    /// Greedy descent from `entry` (at level `top`) down to `level + 1`; the closest node.
    pub(super) fn descend(
        &self,
        q: &impl QueryDistance,
        entry: u32,
        top: u8,
        level: u8,
        scratch: &mut Scratch,
    ) -> Scored {
        let dist = q.distance(entry);
        let mut best = Scored { dist, id: entry };
        for l in (level.saturating_add(1)..=top).rev() {
            best = self.greedy(q, best, l, &mut scratch.neighbors);
        }
        best
    }

    /// Beam search of width `ef` on `level` from `entries`. Every reached node is explored,
    /// but only nodes with `accept(id)` enter `scratch.results` (the best `ef`, worst on top).
    pub(super) fn search_layer(
        &self,
        q: &impl QueryDistance,
        entries: &[Scored],
        (ef, level): (usize, u8),
        accept: impl Fn(u32) -> bool,
        scratch: &mut Scratch,
    ) {
        let Scratch {
            visited,
            candidates,
            results,
            neighbors,
            fresh,
        } = scratch;
        visited.reset(self.graph.len());
        candidates.clear();
        results.clear();
        let ef = ef.max(1);
        for &entry in entries {
            if visited.insert(entry.id) {
                candidates.push(Reverse(entry));
                if accept(entry.id) {
                    offer(results, entry, ef);
                }
            }
        }
        while let Some(Reverse(current)) = candidates.pop() {
            let worst = results.peek().map_or(f32::INFINITY, |w| w.dist);
            if results.len() >= ef && current.dist > worst {
                break;
            }
            if let Some(Reverse(next)) = candidates.peek() {
                self.graph.prefetch_list(next.id, level);
            }
            self.graph.neighbors_into(current.id, level, neighbors);
            fresh.clear();
            fresh.extend(neighbors.iter().copied().filter(|&id| visited.insert(id)));
            for_each_distance(q, fresh, |id, dist| {
                let full = results.len() >= ef;
                if full && results.peek().is_some_and(|worst| dist >= worst.dist) {
                    return;
                }
                let node = Scored { dist, id };
                candidates.push(Reverse(node));
                if accept(id) {
                    offer(results, node, ef);
                }
            });
        }
    }
}

/// Adds `node` to the bounded max-heap `results`, evicting the worst beyond `ef`.
#[inline]
fn offer(results: &mut BinaryHeap<Scored>, node: Scored, ef: usize) {
    results.push(node);
    if results.len() > ef {
        results.pop();
    }
}
