//! The engine's one integration-test binary.

mod ann;
mod common;
mod concurrency;
mod corruption;
mod crash;
mod crud;
mod exact_search;
mod filter_prop;
mod snapshots;
mod vectors;
