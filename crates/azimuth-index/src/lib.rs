//! Azimuth vector index kernels: SIMD distance functions, exact (flat) search and HNSW.
//!
//! This crate is the numeric core under `azimuth-engine`. It knows about slices of `f32` and
//! row numbers, nothing else:
//!
//! - **No files, no payloads.** Indexes take a borrowed row-major matrix and return
//!   `(row: u32, score: f32)` pairs. Mapping rows to point ids, storing vectors, filtering by
//!   payload and persistence all live in the engine; filters arrive here only as an
//!   `accept(row)` callback or an explicit candidate list.
//! - **Kernels apart from index logic.** [`distance`] holds the per-instruction-set kernels
//!   (`scalar`, `avx2`, `avx512`, one file each, same shape); [`flat`] holds selection logic
//!   ([`flat::TopK`]) and never touches intrinsics. A new index type reuses the kernels, and a
//!   new instruction set touches only `distance`.
//! - **Dispatch once.** [`distance::kernels`] detects the CPU on first use and caches a table
//!   of function pointers in a `OnceLock`; every later call is one indirect call, never a
//!   feature check. `AZIMUTH_SIMD=scalar|avx2|avx512` caps the level (for benchmarks and for
//!   ruling out a kernel bug); levels the CPU lacks are ignored.
//! - **Hot loops inside the kernel.** [`distance::Kernels::scores_into`] scans a whole matrix
//!   inside the instruction-set-specific function so the pairwise kernel inlines into the row
//!   loop; this is what exact search throughput rests on.
//! - **Graph indexes own links, not vectors.** [`hnsw::Hnsw`] stores only its graph; every
//!   call that needs distances borrows the caller's matrix again, so the engine keeps one copy
//!   of each vector. Its bytes (`to_bytes` / `from_bytes`) are checksummed and fully
//!   validated on load; the caller decides where they live.
//! - **Total on every input.** Mismatched lengths use the common prefix (and trip a
//!   `debug_assert!`), `dim == 0` means no rows, out-of-range candidate rows are skipped, NaN
//!   scores rank last. Nothing here panics on data.
//!
//! Invariant: `unsafe` appears only in `distance` (intrinsic loads, prefetch hints and the
//! calls through the dispatch tables), each block with a `// SAFETY:` comment.

mod bytes;
pub mod distance;
pub mod flat;
pub mod hnsw;
pub mod npy;
pub mod quant;

pub use distance::Metric;
pub use hnsw::{Hnsw, HnswError, HnswParams, ImageBytes, SharedBytes};
