//! Filters (placeholder; see filter/README in the brief).
