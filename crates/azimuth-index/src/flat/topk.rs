//! Bounded best-k selection.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Upper bound on the capacity reserved up front, so a huge `k` cannot abort on allocation.
const MAX_PREALLOCATED: usize = 4096;

/// A kept candidate. `key` is the score mapped so that smaller is always better, so the
/// max-heap keeps the worst candidate on top.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: f32,
    row: u32,
}

impl Ord for Entry {
    /// Worse sorts greater: larger key, then (on ties) larger row.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .total_cmp(&other.key)
            .then(self.row.cmp(&other.row))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

/// Keeps the best `k` `(row, score)` pairs pushed into it.
///
/// Order: better score first; equal scores go to the smaller row, so results do not depend
/// on push order. NaN scores rank below every number, and `-0.0` equals `0.0`.
#[derive(Clone, Debug)]
pub struct TopK {
    k: usize,
    higher_is_better: bool,
    heap: BinaryHeap<Entry>,
}

impl TopK {
    /// An empty selection of at most `k` items; `higher_is_better` as in
    /// [`Metric::higher_is_better`](crate::distance::Metric::higher_is_better).
    pub fn new(k: usize, higher_is_better: bool) -> TopK {
        TopK {
            k,
            higher_is_better,
            heap: BinaryHeap::with_capacity(k.min(MAX_PREALLOCATED)),
        }
    }

    /// Offers a candidate; it is kept if there is room or it beats the current worst.
    #[inline]
    pub fn push(&mut self, row: u32, score: f32) {
        let entry = Entry {
            key: self.key(score),
            row,
        };
        if self.heap.len() < self.k {
            self.heap.push(entry);
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if entry < *worst {
                *worst = entry;
            }
        }
    }

    /// Once full, the score of the worst kept item: a candidate scoring strictly worse can be
    /// skipped without calling [`push`](TopK::push). `None` while there is still room.
    pub fn worst(&self) -> Option<f32> {
        if !self.is_full() {
            return None;
        }
        self.heap.peek().map(|entry| self.score(entry.key))
    }

    /// Number of items kept so far.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is kept (always true for `k == 0`).
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Whether `k` items are kept, so new candidates must beat [`worst`](TopK::worst).
    pub fn is_full(&self) -> bool {
        self.heap.len() >= self.k
    }

    /// The kept `(row, score)` pairs, best first.
    pub fn into_sorted_vec(self) -> Vec<(u32, f32)> {
        let higher_is_better = self.higher_is_better;
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|entry| (entry.row, to_score(entry.key, higher_is_better)))
            .collect()
    }

    fn key(&self, score: f32) -> f32 {
        if score.is_nan() {
            // A positive NaN sorts above +inf under `total_cmp`: worst of all.
            return score.abs();
        }
        let key = if self.higher_is_better { -score } else { score };
        key + 0.0 // Folds -0.0 into 0.0 so the two tie.
    }

    fn score(&self, key: f32) -> f32 {
        to_score(key, self.higher_is_better)
    }
}

fn to_score(key: f32, higher_is_better: bool) -> f32 {
    if higher_is_better {
        -key
    } else {
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_best_k_with_row_tie_break() {
        let mut top = TopK::new(3, true);
        for (row, score) in [(5, 1.0), (1, 3.0), (9, 2.0), (2, 2.0), (0, -1.0), (7, 3.0)] {
            top.push(row, score);
        }
        assert!(top.is_full());
        assert_eq!(top.worst(), Some(2.0));
        assert_eq!(top.into_sorted_vec(), vec![(1, 3.0), (7, 3.0), (2, 2.0)]);
    }

    #[test]
    fn lower_is_better_keeps_smallest() {
        let mut top = TopK::new(2, false);
        for (row, score) in [(0, 4.0), (1, 0.5), (2, f32::NAN), (3, 2.0), (4, -0.0)] {
            top.push(row, score);
        }
        assert_eq!(top.into_sorted_vec(), vec![(4, 0.0), (1, 0.5)]);
    }

    #[test]
    fn nan_ranks_last_for_both_directions() {
        for higher_is_better in [true, false] {
            let mut top = TopK::new(3, higher_is_better);
            top.push(0, f32::NAN);
            top.push(1, f32::INFINITY);
            top.push(2, f32::NEG_INFINITY);
            let rows: Vec<u32> = top.into_sorted_vec().iter().map(|r| r.0).collect();
            let want = if higher_is_better {
                [1, 2, 0]
            } else {
                [2, 1, 0]
            };
            assert_eq!(rows, want);
        }
    }

    #[test]
    fn worst_is_none_until_full_and_k_zero_keeps_nothing() {
        let mut top = TopK::new(2, false);
        top.push(0, 1.0);
        assert_eq!((top.len(), top.worst(), top.is_full()), (1, None, false));
        let mut none = TopK::new(0, true);
        none.push(0, 1.0);
        assert!(none.is_empty() && none.is_full());
        assert_eq!(none.worst(), None);
        assert!(none.into_sorted_vec().is_empty());
        let mut huge = TopK::new(usize::MAX, true);
        huge.push(3, 1.0);
        assert_eq!(huge.into_sorted_vec(), vec![(3, 1.0)]);
    }
}
