//! Link storage: one contiguous level-0 array with a fixed stride, an arena for the upper
//! levels, and each node's level.
//!
//! A neighbour list is `1 + capacity` `u32` slots: the count, then the ids. Level 0 has
//! capacity `2·m`, upper levels `m`. Slots are `AtomicU32` so that parallel construction can
//! read lists without locks while writers (holding the node's lock) replace them: a reader
//! may see a list half old, half new, but every slot always holds some valid node id, which
//! is all a graph walk needs. Relaxed atomic loads compile to plain loads on x86-64, so the
//! finished index pays nothing for this.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

/// Bytes a graph loaded from them may keep reading in place (say, a memory map of the file
/// that holds the graph's image) instead of copying its level-0 lists.
///
/// # Safety
///
/// The slice `bytes` returns stays valid, at the same address and unchanged for as long as
/// the value lives (a graph reads it through a pointer taken once).
pub unsafe trait ImageBytes: Send + Sync {
    fn bytes(&self) -> &[u8];
    /// Lets the resident copy of the bytes go where that means something (a memory map's
    /// pages, which later reads fault back in); a hint that must not change the bytes.
    fn release(&self) {}

    /// [`ImageBytes::release`] for `len` bytes from byte `start` only (by default, all).
    fn release_range(&self, start: usize, len: usize) {
        let _ = (start, len);
        self.release();
    }
}

// SAFETY: a `Vec` behind a shared `Arc` is never mutated, so its buffer stays put.
unsafe impl ImageBytes for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// Shared [`ImageBytes`].
pub type SharedBytes = Arc<dyn ImageBytes>;

/// The level-0 slots: owned, or read in place from an image's bytes.
enum Level0 {
    Owned(Vec<AtomicU32>),
    /// `len` little-endian `u32` slots at `words`, inside `bytes`. Only ever read (as plain
    /// `u32`): writers see no slots here, and `Hnsw::insert` copies them into `Owned` first.
    Shared {
        bytes: SharedBytes,
        words: *const u32,
        len: usize,
    },
}

// SAFETY: `words` points into the bytes that the `Arc` (itself `Send + Sync`) keeps alive
// and that nothing writes (see `ImageBytes`); the slots are only read.
unsafe impl Send for Level0 {}
// SAFETY: as above: shared reads of immutable memory.
unsafe impl Sync for Level0 {}

impl std::fmt::Debug for Level0 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Level0::Owned(v) => write!(f, "Owned({} slots)", v.len()),
            Level0::Shared { len, .. } => write!(f, "Shared({len} slots)"),
        }
    }
}

impl Level0 {
    /// Slots `start..start + len` of `bytes`, if they lie inside, are aligned for `u32` and
    /// the machine is little-endian (the image's byte order).
    fn shared(bytes: SharedBytes, start: usize, len: usize) -> Option<Level0> {
        let slice = bytes.bytes();
        let end = len.checked_mul(4)?.checked_add(start)?;
        let region = slice.get(start..end)?;
        let aligned = region.as_ptr().cast::<u32>().is_aligned();
        let words = region.as_ptr().cast::<u32>();
        (aligned && cfg!(target_endian = "little")).then_some(Level0::Shared { bytes, words, len })
    }

    /// The slots held in memory; none while they are read in place.
    fn owned(&self) -> &[AtomicU32] {
        match self {
            Level0::Owned(v) => v,
            Level0::Shared { .. } => &[],
        }
    }

    /// The slots read in place, if they are.
    fn shared_words(&self) -> Option<&[u32]> {
        match self {
            Level0::Owned(_) => None,
            // SAFETY: `shared` checked that the `len` words lie inside the bytes and are
            // aligned for `u32` (every bit pattern is valid); `ImageBytes` keeps them at that
            // address, unchanged, while `bytes` lives, which is at least as long as `self`.
            Level0::Shared { words, len, .. } => {
                Some(unsafe { std::slice::from_raw_parts(*words, *len) })
            }
        }
    }

    /// The slots as an owned vector (copied out of shared bytes).
    fn make_owned(&mut self) -> &mut Vec<AtomicU32> {
        if let Some(words) = self.shared_words() {
            let copy = words.iter().map(|&w| AtomicU32::new(w)).collect();
            *self = Level0::Owned(copy);
        }
        match self {
            Level0::Owned(v) => v,
            Level0::Shared { .. } => unreachable!("made owned above"),
        }
    }
}

/// Level of a row that is not in the graph.
pub(super) const ABSENT: u8 = u8::MAX;
/// Highest level a node may have (levels are capped here when drawn).
pub(super) const MAX_LEVEL: u8 = 30;
/// No upper-level block for this node.
const NO_BLOCK: usize = usize::MAX;

/// Level for `row`: `floor(-ln(U) / ln(m))` with `U` in (0, 1] drawn from a hash of
/// `(seed, row)`, so a row's level does not depend on insertion order or thread timing.
pub(super) fn level_for(seed: u64, row: u32, m: usize) -> u8 {
    let bits = splitmix64(seed ^ splitmix64(u64::from(row)));
    let unit = ((bits >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let level = -unit.ln() / (m.max(2) as f64).ln();
    level.min(f64::from(MAX_LEVEL)) as u8
}

/// SplitMix64 finaliser: a cheap, well-mixed 64-bit hash.
pub(super) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The links of every node. Node ids are row numbers; rows never inserted are [`ABSENT`].
#[derive(Debug)]
pub(super) struct Graph {
    m: usize,
    levels: Vec<u8>,
    /// `levels.len() * stride0()` slots.
    level0: Level0,
    /// Start in `upper` of each node's level-1 list (levels 2, 3, … follow), or `NO_BLOCK`.
    upper_start: Vec<usize>,
    upper: Vec<AtomicU32>,
}

impl Graph {
    /// A graph with room for nodes `0..levels.len()` at the given levels (all unlinked).
    pub(super) fn with_levels(m: usize, levels: Vec<u8>) -> Graph {
        let slots = levels.len() * (1 + 2 * m);
        let level0 = Level0::Owned((0..slots).map(|_| AtomicU32::new(0)).collect());
        Graph::with_level0(m, levels, level0)
    }

    /// A graph of nodes at `levels` whose level-0 lists are read in place at byte `start`
    /// of `bytes` (checked by the caller to hold valid lists for these nodes); the upper
    /// levels are unlinked. `Err(levels)` when the lists cannot be read in place (outside
    /// the bytes, misaligned, or a big-endian machine).
    pub(super) fn with_shared_level0(
        m: usize,
        levels: Vec<u8>,
        bytes: SharedBytes,
        start: usize,
    ) -> Result<Graph, Vec<u8>> {
        match Level0::shared(bytes, start, levels.len() * (1 + 2 * m)) {
            Some(level0) => Ok(Graph::with_level0(m, levels, level0)),
            None => Err(levels),
        }
    }

    fn with_level0(m: usize, levels: Vec<u8>, level0: Level0) -> Graph {
        let n = levels.len();
        let mut graph = Graph {
            m,
            levels: vec![ABSENT; n],
            level0,
            upper_start: vec![NO_BLOCK; n],
            upper: Vec::new(),
        };
        let upper_slots = levels
            .iter()
            .filter(|&&l| l != ABSENT)
            .map(|&l| usize::from(l) * graph.stride_upper())
            .sum();
        graph.upper.reserve_exact(upper_slots);
        for (row, level) in (0u32..).zip(levels) {
            if level != ABSENT {
                graph.add_node(row, level);
            }
        }
        graph
    }

    /// Neighbours per upper-level list; level 0 holds twice as many.
    pub(super) fn m(&self) -> usize {
        self.m
    }

    /// Number of node slots (one past the largest row ever inserted).
    pub(super) fn len(&self) -> usize {
        self.levels.len()
    }

    /// Slots per level-0 list (count + `2·m` ids).
    pub(super) fn stride0(&self) -> usize {
        1 + 2 * self.m
    }

    /// Slots per upper-level list (count + `m` ids).
    pub(super) fn stride_upper(&self) -> usize {
        1 + self.m
    }

    /// How many neighbours a list at `level` may hold.
    pub(super) fn capacity(&self, level: u8) -> usize {
        if level == 0 {
            2 * self.m
        } else {
            self.m
        }
    }

    /// The node's level, or `None` if the row is not in the graph.
    pub(super) fn level(&self, node: u32) -> Option<u8> {
        match self.levels.get(node as usize) {
            Some(&level) if level != ABSENT => Some(level),
            _ => None,
        }
    }

    /// Every node slot's level ([`ABSENT`] for rows not in the graph).
    pub(super) fn levels(&self) -> &[u8] {
        &self.levels
    }

    /// Grows the node arrays to cover rows `0..count` (new rows absent).
    pub(super) fn reserve_nodes(&mut self, count: usize) {
        if count <= self.len() {
            return;
        }
        let stride0 = self.stride0();
        self.levels.resize(count, ABSENT);
        self.upper_start.resize(count, NO_BLOCK);
        self.level0
            .make_owned()
            .resize_with(count * stride0, || AtomicU32::new(0));
    }

    /// Makes `node` present at `level` with empty lists. The node must be absent.
    pub(super) fn add_node(&mut self, node: u32, level: u8) {
        let index = node as usize;
        self.reserve_nodes(index + 1);
        debug_assert_eq!(self.levels[index], ABSENT, "node added twice");
        self.levels[index] = level;
        if level > 0 {
            self.upper_start[index] = self.upper.len();
            let slots = usize::from(level) * self.stride_upper();
            self.upper
                .resize_with(self.upper.len() + slots, || AtomicU32::new(0));
        }
    }

    /// The raw list (count slot first) of `node` at `level` as the graph holds it; empty if
    /// it has no such level, and on level 0 while the lists are read in place (see
    /// [`Graph::neighbors_into`]), so writers never reach those.
    fn slots(&self, node: u32, level: u8) -> &[AtomicU32] {
        let index = node as usize;
        let slots = match self.levels.get(index) {
            Some(&l) if l != ABSENT && l >= level => {
                if level == 0 {
                    self.level0.owned().get(self.level0_range(index))
                } else {
                    let stride = self.stride_upper();
                    let start = self
                        .upper_start
                        .get(index)
                        .and_then(|&block| block.checked_add((usize::from(level) - 1) * stride));
                    let end = start.and_then(|start| start.checked_add(stride));
                    start
                        .zip(end)
                        .and_then(|(start, end)| self.upper.get(start..end))
                }
            }
            _ => None,
        };
        slots.unwrap_or(&[])
    }

    fn level0_range(&self, index: usize) -> std::ops::Range<usize> {
        let stride = self.stride0();
        index * stride..(index + 1) * stride
    }

    /// The level-0 list of `node` when the lists are read in place (empty past the last
    /// node; an absent node's list is empty, which loading checked); `None` when the graph
    /// holds them itself.
    #[inline]
    fn shared_list(&self, node: u32) -> Option<&[u32]> {
        let words = self.level0.shared_words()?;
        Some(words.get(self.level0_range(node as usize)).unwrap_or(&[]))
    }

    /// Starts loading the list of `node` at `level`.
    #[inline]
    pub(super) fn prefetch_list(&self, node: u32, level: u8) {
        match self.shared_list(node).filter(|_| level == 0) {
            Some(list) => crate::distance::prefetch(list),
            None => crate::distance::prefetch(self.slots(node, level)),
        }
    }

    /// Replaces `out` with the neighbours of `node` at `level`.
    #[inline]
    pub(super) fn neighbors_into(&self, node: u32, level: u8, out: &mut Vec<u32>) {
        out.clear();
        if level == 0 {
            if let Some(list) = self.shared_list(node) {
                if let Some((&count, ids)) = list.split_first() {
                    out.extend_from_slice(&ids[..(count as usize).min(ids.len())]);
                }
                return;
            }
        }
        if let Some((count, ids)) = self.slots(node, level).split_first() {
            let count = (count.load(Relaxed) as usize).min(ids.len());
            out.extend(ids[..count].iter().map(|id| id.load(Relaxed)));
        }
    }

    /// Replaces the neighbours of `node` at `level` (truncated to the list's capacity).
    /// Concurrent writers of one list must be serialised by the caller.
    pub(super) fn set_neighbors(&self, node: u32, level: u8, ids: &[u32]) {
        debug_assert!(
            level > 0 || matches!(self.level0, Level0::Owned(_)),
            "write to level-0 lists read in place"
        );
        if let Some((count, slots)) = self.slots(node, level).split_first() {
            let len = ids.len().min(slots.len());
            for (slot, &id) in slots.iter().zip(&ids[..len]) {
                slot.store(id, Relaxed);
            }
            for slot in &slots[len..] {
                slot.store(0, Relaxed);
            }
            count.store(len as u32, Relaxed);
        }
    }

    /// Heap bytes held by the link arrays and per-node tables (level-0 lists read in place
    /// are not counted: see [`Graph::shared_bytes`]).
    pub(super) fn memory_bytes(&self) -> usize {
        let level0 = match &self.level0 {
            Level0::Owned(v) => v.capacity(),
            Level0::Shared { .. } => 0,
        };
        self.levels.capacity()
            + self.upper_start.capacity() * std::mem::size_of::<usize>()
            + (level0 + self.upper.capacity()) * std::mem::size_of::<AtomicU32>()
    }

    /// Bytes of level-0 lists read in place from an image's bytes.
    pub(super) fn shared_bytes(&self) -> usize {
        match &self.level0 {
            Level0::Owned(_) => 0,
            Level0::Shared { len, .. } => len * 4,
        }
    }

    /// Releases the resident copy of level-0 lists read in place ([`ImageBytes::release`]).
    pub(super) fn release_shared(&self) {
        if let Level0::Shared { bytes, .. } = &self.level0 {
            bytes.release();
        }
    }

    /// Copies level-0 lists read in place into memory the graph owns (before a write).
    pub(super) fn own_level0(&mut self) {
        self.level0.make_owned();
    }
}
