//! Core value types shared by every engine module: point ids, payloads, distances.

use std::cmp::Ordering;
use std::fmt;

use crate::error::{Error, Result};

/// A point's JSON payload: always a JSON object.
pub type Payload = serde_json::Map<String, serde_json::Value>;

/// A point id. Qdrant ids are unsigned integers or UUIDs; Chroma ids are arbitrary strings.
///
/// Ordering (used by scroll): all integers ascending, then UUIDs by their bytes, then strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PointId {
    Num(u64),
    Uuid(uuid::Uuid),
    Str(String),
}

impl PointId {
    fn rank(&self) -> u8 {
        match self {
            PointId::Num(_) => 0,
            PointId::Uuid(_) => 1,
            PointId::Str(_) => 2,
        }
    }

    /// Parses a UUID in any spelling Qdrant accepts (hyphenated, simple, braced, urn, any case).
    pub fn parse_uuid(s: &str) -> Result<PointId> {
        uuid::Uuid::try_parse(s).map(PointId::Uuid).map_err(|_| {
            Error::invalid(format!(
                "point id {s:?} is neither an unsigned integer nor a UUID"
            ))
        })
    }

    /// Largest accepted string id, in bytes.
    pub const MAX_STR_LEN: usize = 4096;

    /// Validates an id supplied by a caller.
    pub fn validate(&self) -> Result<()> {
        if let PointId::Str(s) = self {
            if s.is_empty() {
                return Err(Error::invalid("point id must not be an empty string"));
            }
            if s.len() > Self::MAX_STR_LEN {
                return Err(Error::invalid(format!(
                    "point id is {} bytes long; at most {} are allowed",
                    s.len(),
                    Self::MAX_STR_LEN
                )));
            }
        }
        Ok(())
    }
}

impl Ord for PointId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PointId::Num(a), PointId::Num(b)) => a.cmp(b),
            (PointId::Uuid(a), PointId::Uuid(b)) => a.cmp(b),
            (PointId::Str(a), PointId::Str(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PointId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PointId::Num(n) => write!(f, "{n}"),
            PointId::Uuid(u) => write!(f, "{}", u.hyphenated()),
            PointId::Str(s) => f.write_str(s),
        }
    }
}

impl From<u64> for PointId {
    fn from(n: u64) -> Self {
        PointId::Num(n)
    }
}

impl From<uuid::Uuid> for PointId {
    fn from(u: uuid::Uuid) -> Self {
        PointId::Uuid(u)
    }
}

/// How two dense vectors are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Distance {
    /// Cosine similarity; vectors are normalised on write and scored by dot product.
    Cosine,
    /// Raw dot product.
    Dot,
    /// Euclidean (L2) distance; smaller is closer.
    Euclid,
    /// Manhattan (L1) distance; smaller is closer.
    Manhattan,
}

impl Distance {
    /// True when a larger score means closer (Cosine, Dot).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Distance::Cosine | Distance::Dot)
    }
}
