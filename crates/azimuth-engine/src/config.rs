//! Collection configuration: vector spaces plus index, quantization and optimizer parameters.
//!
//! These are engine types. They derive serde only because the collection's config file stores
//! them as JSON (see `docs/format.md`); the wire protocols map to and from them in their own
//! DTOs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::types::Distance;

/// Largest dense vector dimension accepted.
pub const MAX_DIM: usize = 65536;

/// Name of the unnamed (default) vector.
pub const DEFAULT_VECTOR: &str = "";

/// One dense vector space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VectorParams {
    pub size: usize,
    #[serde(with = "distance_serde")]
    pub distance: Distance,
    /// Per-vector HNSW overrides, kept for the ANN index.
    #[serde(default)]
    pub hnsw: Option<HnswParams>,
    /// Per-vector quantization, kept for the ANN index.
    #[serde(default)]
    pub quantization: Option<Quantization>,
    #[serde(default)]
    pub on_disk: bool,
    /// How the vectors' components are kept (Qdrant's `datatype`).
    #[serde(default)]
    pub datatype: Datatype,
}

impl VectorParams {
    pub fn new(size: usize, distance: Distance) -> Self {
        VectorParams {
            size,
            distance,
            hnsw: None,
            quantization: None,
            on_disk: false,
            datatype: Datatype::Float32,
        }
    }
}

impl VectorParams {
    /// Whether sealed segments with files read this vector's rows through maps of them
    /// rather than holding them in memory (`on_disk`).
    pub fn rows_mapped(&self) -> bool {
        self.on_disk
    }

    /// Whether sealed segments hold this vector's rows in half precision (a `Float16`
    /// space: in memory and in their files).
    pub fn half_rows(&self) -> bool {
        self.datatype == Datatype::Float16
    }
}

/// The precision of a dense vector space's components.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Datatype {
    /// Components kept as given.
    #[default]
    Float32,
    /// Components rounded to half precision when written; indexed segments walk and score
    /// half-precision copies held in memory (half the bytes of f32) and read the f32 values
    /// (exactly the rounded ones) through maps of the segment files.
    Float16,
    /// Accepted for compatibility; components are kept as given, as for `Float32`.
    Uint8,
}

impl Datatype {
    /// The name the wire protocols use.
    pub fn name(self) -> &'static str {
        match self {
            Datatype::Float32 => "float32",
            Datatype::Float16 => "float16",
            Datatype::Uint8 => "uint8",
        }
    }

    /// The datatype called `name` (as [`Datatype::name`] spells it).
    pub fn parse(name: &str) -> Option<Datatype> {
        [Datatype::Float32, Datatype::Float16, Datatype::Uint8]
            .into_iter()
            .find(|d| d.name() == name)
    }
}

/// A sparse vector space.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SparseVectorParams {
    /// Multiply query weights by the inverse document frequency.
    #[serde(default)]
    pub idf: bool,
}

/// HNSW parameters (used by the ANN index).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HnswParams {
    pub m: usize,
    pub ef_construct: usize,
    pub full_scan_threshold: usize,
    #[serde(default)]
    pub payload_m: Option<usize>,
    #[serde(default)]
    pub on_disk: bool,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams {
            m: 16,
            ef_construct: 100,
            full_scan_threshold: 10_000,
            payload_m: None,
            on_disk: false,
        }
    }
}

/// Vector quantization settings (used by the ANN index).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Quantization {
    Scalar {
        quantile: Option<f32>,
        always_ram: bool,
    },
    Product {
        compression: String,
        always_ram: bool,
    },
    Binary {
        always_ram: bool,
    },
}

/// Background optimizer settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerParams {
    /// Fraction of deleted rows in a sealed segment that triggers its rewrite.
    pub deleted_threshold: f64,
    /// Minimum rows in a segment before deletions are vacuumed.
    pub vacuum_min_vector_number: usize,
    /// Target number of sealed segments; more are merged.
    pub default_segment_number: usize,
    /// Rows at which an ANN index is built for a segment (KB of vectors in Qdrant's terms).
    pub indexing_threshold: usize,
    /// Bytes of writes held in the mutable segment before it is sealed to a file.
    pub flush_threshold_bytes: usize,
    pub flush_interval_sec: u64,
}

impl Default for OptimizerParams {
    fn default() -> Self {
        OptimizerParams {
            deleted_threshold: 0.2,
            vacuum_min_vector_number: 1000,
            default_segment_number: 8,
            indexing_threshold: 10_000,
            flush_threshold_bytes: 32 << 20,
            flush_interval_sec: 5,
        }
    }
}

/// Everything fixed or tunable about a collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CollectionConfig {
    /// Dense vector spaces by name; the unnamed vector is [`DEFAULT_VECTOR`] (`""`).
    pub vectors: BTreeMap<String, VectorParams>,
    /// True when the collection was created with one unnamed vector (not a map of names).
    pub single_unnamed: bool,
    #[serde(default)]
    pub sparse_vectors: BTreeMap<String, SparseVectorParams>,
    #[serde(default)]
    pub hnsw: HnswParams,
    #[serde(default)]
    pub quantization: Option<Quantization>,
    #[serde(default)]
    pub optimizer: OptimizerParams,
    #[serde(default)]
    pub on_disk_payload: bool,
    /// Free-form metadata echoed back to clients.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Vectors (dense or sparse) added after the collection was created, with the first
    /// segment id that may hold them: a segment with a lower id predates the vector, and
    /// its file's column of that name, if any, belongs to an earlier vector of the same name
    /// (see [`crate::Collection::create_vector`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vector_since: BTreeMap<String, u64>,
}

impl CollectionConfig {
    /// A collection with one unnamed dense vector.
    pub fn single(size: usize, distance: Distance) -> Self {
        let mut vectors = BTreeMap::new();
        vectors.insert(
            DEFAULT_VECTOR.to_string(),
            VectorParams::new(size, distance),
        );
        CollectionConfig {
            single_unnamed: true,
            ..Self::named(vectors)
        }
    }

    /// A collection with named dense vectors (possibly none).
    pub fn named(vectors: BTreeMap<String, VectorParams>) -> Self {
        CollectionConfig {
            vectors,
            single_unnamed: false,
            sparse_vectors: BTreeMap::new(),
            hnsw: HnswParams::default(),
            quantization: None,
            optimizer: OptimizerParams::default(),
            on_disk_payload: false,
            metadata: Default::default(),
            vector_since: BTreeMap::new(),
        }
    }

    /// Checks sizes and names; called on create and on load.
    pub fn validate(&self) -> Result<()> {
        for (name, p) in &self.vectors {
            if p.size == 0 || p.size > MAX_DIM {
                return Err(Error::invalid(format!(
                    "vector {name:?}: size {} is out of range; it must be between 1 and {MAX_DIM}",
                    p.size
                )));
            }
        }
        if self.single_unnamed
            && (self.vectors.len() != 1 || !self.vectors.contains_key(DEFAULT_VECTOR))
        {
            return Err(Error::invalid(
                "a single unnamed vector config must have exactly the vector \"\"",
            ));
        }
        for name in self.sparse_vectors.keys() {
            if self.vectors.contains_key(name) {
                return Err(Error::invalid(format!(
                    "vector name {name:?} is used for both a dense and a sparse vector"
                )));
            }
        }
        if self.hnsw.m > 1024 || self.hnsw.ef_construct == 0 {
            return Err(Error::invalid(
                "hnsw: m must be ≤ 1024 and ef_construct ≥ 1",
            ));
        }
        Ok(())
    }
}

mod distance_serde {
    use super::Distance;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Distance, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match d {
            Distance::Cosine => "Cosine",
            Distance::Dot => "Dot",
            Distance::Euclid => "Euclid",
            Distance::Manhattan => "Manhattan",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Distance, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "Cosine" => Distance::Cosine,
            "Dot" => Distance::Dot,
            "Euclid" => Distance::Euclid,
            "Manhattan" => Distance::Manhattan,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "unknown distance {other}"
                )))
            }
        })
    }
}
