//! Small helpers shared by the integration tests.

use azimuth_engine::{CollectionConfig, Database, Distance, Payload, PointStruct};
use serde_json::{json, Value};

pub fn payload(v: Value) -> Payload {
    match v {
        Value::Object(m) => m,
        _ => panic!("payload must be an object"),
    }
}

/// A deterministic pseudo-random generator (splitmix64) so tests need no seeds from outside.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn f32(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }

    pub fn vector(&mut self, dim: usize) -> Vec<f32> {
        (0..dim).map(|_| self.f32()).collect()
    }
}

/// Points 0..n with 4-d vectors and a small payload.
pub fn points(rng: &mut Rng, range: std::ops::Range<u64>, dim: usize) -> Vec<PointStruct> {
    range
        .map(|i| {
            PointStruct::new(
                i,
                rng.vector(dim),
                payload(json!({"i": i, "even": i % 2 == 0, "tag": format!("t{}", i % 5)})),
            )
        })
        .collect()
}

pub fn small_db() -> (Database, std::sync::Arc<azimuth_engine::Collection>) {
    let db = Database::in_memory();
    let c = db
        .create_collection("c", CollectionConfig::single(4, Distance::Cosine))
        .unwrap();
    (db, c)
}

/// The shared data directory (`../shared/data` beside the repository).
pub fn shared_data() -> std::path::PathBuf {
    if let Ok(p) = std::env::var("AZIMUTH_SHARED_DATA") {
        return p.into();
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// The stored vectors of point `id` of `c` (none when it has none).
pub fn vectors_of(c: &azimuth_engine::Collection, id: u64) -> azimuth_engine::NamedVectors {
    use azimuth_engine::{PayloadSelector, PointId, VectorSelector};
    let got = c
        .get(
            &[PointId::Num(id)],
            &PayloadSelector::None,
            &VectorSelector::All,
        )
        .unwrap();
    got.into_iter()
        .next()
        .and_then(|r| r.vectors)
        .unwrap_or_default()
}
