//! The wire protocols. Each owns its DTOs and converts them to engine calls.

pub mod chroma;
pub mod qdrant;
pub mod qdrant_grpc;
