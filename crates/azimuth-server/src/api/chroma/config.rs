//! Collection configuration: the create/modify request forms, how the space and HNSW
//! parameters are resolved (configuration > legacy `hnsw:*` metadata > defaults, as on the
//! official server), and the `configuration_json` / `schema` objects echoed to clients.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::error::{ChromaError, ChromaResult};
use azimuth_engine::Distance;

/// A vector space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Space {
    L2,
    Cosine,
    Ip,
}

impl Space {
    pub fn name(self) -> &'static str {
        match self {
            Space::L2 => "l2",
            Space::Cosine => "cosine",
            Space::Ip => "ip",
        }
    }

    fn parse(s: &str) -> Option<Space> {
        match s {
            "l2" => Some(Space::L2),
            "cosine" => Some(Space::Cosine),
            "ip" => Some(Space::Ip),
            _ => None,
        }
    }

    pub fn distance(self) -> Distance {
        match self {
            Space::L2 => Distance::Euclid,
            Space::Cosine => Distance::Cosine,
            Space::Ip => Distance::Dot,
        }
    }

    /// How a collection made through the Qdrant API looks from Chroma (Manhattan has no
    /// Chroma space; it is shown as l2 and its distances are L1).
    pub fn of_distance(d: Distance) -> Space {
        match d {
            Distance::Cosine => Space::Cosine,
            Distance::Dot => Space::Ip,
            Distance::Euclid | Distance::Manhattan => Space::L2,
        }
    }
}

/// `configuration.hnsw` on create.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HnswCreate {
    #[serde(default)]
    pub space: Option<Space>,
    #[serde(default)]
    pub ef_construction: Option<u64>,
    #[serde(default)]
    pub ef_search: Option<u64>,
    #[serde(default)]
    pub max_neighbors: Option<u64>,
    /// Accepted; thread count and batch size are not tunable here.
    #[serde(default)]
    #[allow(dead_code)]
    pub num_threads: Option<u64>,
    #[serde(default)]
    pub resize_factor: Option<f64>,
    #[serde(default)]
    pub sync_threshold: Option<u64>,
    #[serde(default)]
    #[allow(dead_code)]
    pub batch_size: Option<u64>,
}

/// `configuration.spann` on create: only the space is kept (the local server turns SPANN
/// into HNSW with the same space).
#[derive(Debug, Default, Deserialize)]
pub struct SpannCreate {
    #[serde(default)]
    pub space: Option<Space>,
}

/// `configuration` on create.
#[derive(Debug, Default, Deserialize)]
pub struct CreateConfiguration {
    #[serde(default)]
    pub hnsw: Option<HnswCreate>,
    #[serde(default)]
    pub spann: Option<SpannCreate>,
    #[serde(default)]
    pub embedding_function: Option<Value>,
}

/// `new_configuration.hnsw` on modify (the space and build parameters are fixed).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HnswUpdate {
    #[serde(default)]
    pub ef_search: Option<u64>,
    #[serde(default)]
    pub max_neighbors: Option<u64>,
    /// Accepted; thread count and batch size are not tunable here.
    #[serde(default)]
    #[allow(dead_code)]
    pub num_threads: Option<u64>,
    #[serde(default)]
    pub resize_factor: Option<f64>,
    #[serde(default)]
    pub sync_threshold: Option<u64>,
    #[serde(default)]
    #[allow(dead_code)]
    pub batch_size: Option<u64>,
}

/// `new_configuration` on modify.
#[derive(Debug, Default, Deserialize)]
pub struct UpdateConfiguration {
    #[serde(default)]
    pub hnsw: Option<HnswUpdate>,
    /// Accepted and ignored (collections here are HNSW).
    #[serde(default)]
    #[allow(dead_code)]
    pub spann: Option<Value>,
    #[serde(default)]
    pub embedding_function: Option<Value>,
}

/// Resolved HNSW parameters as `configuration_json.hnsw` reports them.
#[derive(Clone, Debug, PartialEq)]
pub struct Hnsw {
    pub space: Space,
    pub ef_construction: u64,
    pub ef_search: u64,
    pub max_neighbors: u64,
    pub resize_factor: f64,
    pub sync_threshold: u64,
}

impl Default for Hnsw {
    fn default() -> Self {
        Hnsw {
            space: Space::L2,
            ef_construction: 100,
            ef_search: 100,
            max_neighbors: 16,
            resize_factor: 1.2,
            sync_threshold: 1000,
        }
    }
}

fn bad_metadata() -> ChromaError {
    ChromaError::invalid("Failed to parse hnsw parameters from segment metadata")
}

fn from_metadata(meta: &Map<String, Value>) -> ChromaResult<Hnsw> {
    let mut h = Hnsw::default();
    let int = |v: &Value| v.as_u64().ok_or_else(bad_metadata);
    for (k, v) in meta {
        match k.as_str() {
            "hnsw:space" => h.space = v.as_str().and_then(Space::parse).ok_or_else(bad_metadata)?,
            "hnsw:construction_ef" => h.ef_construction = int(v)?,
            "hnsw:M" => h.max_neighbors = int(v)?,
            "hnsw:search_ef" => h.ef_search = int(v)?,
            "hnsw:sync_threshold" => h.sync_threshold = int(v)?,
            "hnsw:resize_factor" => h.resize_factor = v.as_f64().ok_or_else(bad_metadata)?,
            "hnsw:num_threads" | "hnsw:batch_size" => {
                int(v)?;
            }
            _ => {}
        }
    }
    Ok(h)
}

/// The `configuration_json` of a new collection.
pub fn resolve(
    metadata: Option<&Map<String, Value>>,
    configuration: Option<&CreateConfiguration>,
) -> ChromaResult<Value> {
    let legacy = metadata.map(from_metadata).transpose()?.unwrap_or_default();
    let hnsw = match configuration {
        Some(CreateConfiguration { hnsw: Some(c), .. }) => {
            let d = Hnsw::default();
            Hnsw {
                space: c.space.unwrap_or(d.space),
                ef_construction: c.ef_construction.unwrap_or(d.ef_construction),
                ef_search: c.ef_search.unwrap_or(d.ef_search),
                max_neighbors: c.max_neighbors.unwrap_or(d.max_neighbors),
                resize_factor: c.resize_factor.unwrap_or(d.resize_factor),
                sync_threshold: c.sync_threshold.unwrap_or(d.sync_threshold),
            }
        }
        Some(CreateConfiguration { spann: Some(s), .. }) => Hnsw {
            space: s.space.unwrap_or(Space::L2),
            ..Hnsw::default()
        },
        _ => legacy,
    };
    let ef = configuration
        .and_then(|c| c.embedding_function.clone())
        .unwrap_or(Value::Null);
    Ok(configuration_json(&hnsw, ef))
}

pub fn configuration_json(h: &Hnsw, embedding_function: Value) -> Value {
    json!({
        "hnsw": {
            "space": h.space.name(),
            "ef_construction": h.ef_construction,
            "ef_search": h.ef_search,
            "max_neighbors": h.max_neighbors,
            "resize_factor": h.resize_factor,
            "sync_threshold": h.sync_threshold,
        },
        "spann": null,
        "embedding_function": embedding_function,
    })
}

/// Reads back a stored `configuration_json` (defaults for anything missing).
pub fn hnsw_of(configuration: &Value) -> Hnsw {
    let h = &configuration["hnsw"];
    let d = Hnsw::default();
    let int = |k: &str, dflt: u64| h[k].as_u64().unwrap_or(dflt);
    Hnsw {
        space: h["space"]
            .as_str()
            .and_then(Space::parse)
            .unwrap_or(d.space),
        ef_construction: int("ef_construction", d.ef_construction),
        ef_search: int("ef_search", d.ef_search),
        max_neighbors: int("max_neighbors", d.max_neighbors),
        resize_factor: h["resize_factor"].as_f64().unwrap_or(d.resize_factor),
        sync_threshold: int("sync_threshold", d.sync_threshold),
    }
}

/// Applies a modify request's `new_configuration` to a stored `configuration_json`.
pub fn apply_update(configuration: &Value, update: &UpdateConfiguration) -> Value {
    let mut h = hnsw_of(configuration);
    if let Some(u) = &update.hnsw {
        h.ef_search = u.ef_search.unwrap_or(h.ef_search);
        h.max_neighbors = u.max_neighbors.unwrap_or(h.max_neighbors);
        h.resize_factor = u.resize_factor.unwrap_or(h.resize_factor);
        h.sync_threshold = u.sync_threshold.unwrap_or(h.sync_threshold);
    }
    let ef = match &update.embedding_function {
        Some(ef) if !ef.is_null() => ef.clone(),
        _ => configuration["embedding_function"].clone(),
    };
    configuration_json(&h, ef)
}

/// The `schema` object the official server sends (the client needs its HNSW sections to
/// modify a configuration). The embedding function keys are left out when it is null.
pub fn schema(configuration: &Value) -> Value {
    let h = hnsw_of(configuration);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let hnsw = json!({
        "ef_construction": h.ef_construction,
        "max_neighbors": h.max_neighbors,
        "ef_search": h.ef_search,
        "num_threads": threads,
        "batch_size": 100,
        "sync_threshold": h.sync_threshold,
        "resize_factor": h.resize_factor,
    });
    let ef = &configuration["embedding_function"];
    let vector_config = |source_key: bool| {
        let mut c = Map::new();
        c.insert("space".into(), json!(h.space.name()));
        if !ef.is_null() {
            c.insert("embedding_function".into(), ef.clone());
        }
        if source_key {
            c.insert("source_key".into(), json!("#document"));
        }
        c.insert("hnsw".into(), hnsw.clone());
        Value::Object(c)
    };
    json!({
        "defaults": {
            "string": {"fts_index": {"enabled": false, "config": {}},
                       "string_inverted_index": {"enabled": true, "config": {}}},
            "float_list": {"vector_index": {"enabled": false, "config": vector_config(false)}},
            "sparse_vector": {"sparse_vector_index": {"enabled": false,
                "config": {"embedding_function": {"type": "unknown"}, "bm25": false}}},
            "int": {"int_inverted_index": {"enabled": true, "config": {}}},
            "float": {"float_inverted_index": {"enabled": true, "config": {}}},
            "bool": {"bool_inverted_index": {"enabled": true, "config": {}}},
        },
        "keys": {
            "#document": {"string": {"fts_index": {"enabled": true, "config": {}},
                                     "string_inverted_index": {"enabled": false, "config": {}}}},
            "#embedding": {"float_list": {"vector_index": {"enabled": true, "config": vector_config(true)}}},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn space_precedence_follows_the_official_server() {
        // Configuration hnsw present: metadata is ignored (space defaults to l2).
        let c: CreateConfiguration =
            serde_json::from_value(json!({"hnsw": {"ef_search": 50}})).unwrap();
        let m = meta(json!({"hnsw:space": "cosine"}));
        let r = resolve(Some(&m), Some(&c)).unwrap();
        assert_eq!(r["hnsw"]["space"], "l2");
        assert_eq!(r["hnsw"]["ef_search"], 50);
        // No hnsw in the configuration: the legacy metadata keys apply.
        let c: CreateConfiguration = serde_json::from_value(
            json!({"hnsw": null, "embedding_function": {"type": "known", "name": "default", "config": {}}}),
        )
        .unwrap();
        let m = meta(json!({"hnsw:space": "ip", "hnsw:search_ef": 20}));
        let r = resolve(Some(&m), Some(&c)).unwrap();
        assert_eq!(r["hnsw"]["space"], "ip");
        assert_eq!(r["hnsw"]["ef_search"], 20);
        assert_eq!(r["embedding_function"]["name"], "default");
        assert!(resolve(Some(&meta(json!({"hnsw:space": "foo"}))), None).is_err());
        assert!(
            serde_json::from_value::<CreateConfiguration>(json!({"hnsw": {"bogus": 1}})).is_err()
        );
        assert!(
            serde_json::from_value::<CreateConfiguration>(json!({"hnsw": {"space": "x"}})).is_err()
        );
        let r = resolve(None, None).unwrap();
        assert_eq!(r["embedding_function"], Value::Null);
        let s = schema(&r);
        assert!(
            s["keys"]["#embedding"]["float_list"]["vector_index"]["config"]
                .get("embedding_function")
                .is_none()
        );
        assert_eq!(
            s["defaults"]["float_list"]["vector_index"]["config"]["hnsw"]["ef_search"],
            100
        );
    }

    #[test]
    fn updates_change_only_the_updatable_keys() {
        let r = resolve(None, None).unwrap();
        let u: UpdateConfiguration =
            serde_json::from_value(json!({"hnsw": {"ef_search": 8, "max_neighbors": 8}})).unwrap();
        let r2 = apply_update(&r, &u);
        assert_eq!(r2["hnsw"]["ef_search"], 8);
        assert_eq!(r2["hnsw"]["max_neighbors"], 8);
        assert_eq!(r2["hnsw"]["space"], "l2");
        assert!(
            serde_json::from_value::<UpdateConfiguration>(json!({"hnsw": {"space": "ip"}}))
                .is_err()
        );
    }
}
