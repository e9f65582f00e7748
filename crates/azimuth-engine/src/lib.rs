//! Azimuth's database engine.
//!
//! A [`Database`] holds named collections; a collection holds points (id, dense and sparse
//! vectors, JSON payload) and answers exact top-k searches and filtered reads. Writes go to a
//! write-ahead log before they are applied; sealed segments and an atomically switched manifest
//! hold the rest. See `ARCHITECTURE.md` for the module map and `docs/format.md` for every byte
//! layout.

mod error;
pub mod filter;
mod types;

pub use error::{Error, ErrorKind, Result};
pub use types::{Distance, Payload, PointId};
