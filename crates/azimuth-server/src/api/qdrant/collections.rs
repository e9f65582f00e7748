//! Collections, aliases, payload indexes and the cluster stubs.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use azimuth_engine::{
    AliasAction, CollectionConfig, CollectionInfo, Datatype, Distance, FieldSchema, HnswParams,
    NewVector, OptimizerParams, Quantization, SparseVectorParams, VectorParams,
};
use serde_json::{json, Map, Value};

use super::wire::{kind, object, only_keys, update_json, wait_param};
use crate::reply::{blocking, ApiError, ApiResult, Body, Reply};
use crate::AppState;

type Params = Query<BTreeMap<String, String>>;

fn distance(v: Option<&Value>) -> Result<Distance, ApiError> {
    match v.and_then(Value::as_str) {
        Some("Cosine") => Ok(Distance::Cosine),
        Some("Dot") => Ok(Distance::Dot),
        Some("Euclid") => Ok(Distance::Euclid),
        Some("Manhattan") => Ok(Distance::Manhattan),
        _ => Err(ApiError::bad_request(format!(
            "distance must be one of \"Cosine\", \"Dot\", \"Euclid\", \"Manhattan\", got {}",
            v.map_or("nothing".to_string(), Value::to_string)
        ))),
    }
}

fn distance_name(d: Distance) -> &'static str {
    match d {
        Distance::Cosine => "Cosine",
        Distance::Dot => "Dot",
        Distance::Euclid => "Euclid",
        Distance::Manhattan => "Manhattan",
    }
}

const VECTOR_KEYS: [&str; 8] = [
    "size",
    "distance",
    "hnsw_config",
    "quantization_config",
    "on_disk",
    "memory",
    "datatype",
    "multivector_config",
];

fn vector_params(v: &Value, what: &str) -> Result<VectorParams, ApiError> {
    let m = object(v, what)?;
    only_keys(m, &VECTOR_KEYS, what)?;
    if m.get("multivector_config").is_some_and(|x| !x.is_null()) {
        return Err(ApiError::bad_request(format!(
            "{what}: multivectors are not supported yet"
        )));
    }
    let size = m
        .get("size")
        .and_then(Value::as_u64)
        .filter(|&s| s >= 1)
        .ok_or_else(|| ApiError::unprocessable(format!("{what}: size must be an integer ≥ 1")))?;
    let mut p = VectorParams::new(size as usize, distance(m.get("distance"))?);
    p.on_disk = m.get("on_disk").and_then(Value::as_bool).unwrap_or(false);
    if let Some(d) = m.get("datatype").filter(|x| !x.is_null()) {
        p.datatype = d.as_str().and_then(Datatype::parse).ok_or_else(|| {
            ApiError::bad_request(format!(
                "{what}.datatype must be \"float32\", \"float16\" or \"uint8\", got {d}"
            ))
        })?;
    }
    if let Some(h) = m.get("hnsw_config").filter(|x| !x.is_null()) {
        p.hnsw = Some(hnsw(h, HnswParams::default())?);
    }
    p.quantization = quantization(m.get("quantization_config"))?;
    Ok(p)
}

fn sparse_params(v: &Value, what: &str) -> Result<SparseVectorParams, ApiError> {
    let o = object(v, what)?;
    only_keys(o, &["index", "modifier", "datatype"], what)?;
    Ok(SparseVectorParams {
        idf: o
            .get("modifier")
            .and_then(Value::as_str)
            .is_some_and(|m| m.eq_ignore_ascii_case("idf")),
    })
}

/// Rejects present, non-null fields that are not of the expected kind.
fn check_types(
    m: &Map<String, Value>,
    what: &str,
    uints: &[&str],
    bools: &[&str],
) -> Result<(), ApiError> {
    for (k, v) in m {
        let bad = (uints.contains(&k.as_str()) && !v.is_null() && v.as_u64().is_none())
            || (bools.contains(&k.as_str()) && !v.is_null() && !v.is_boolean());
        if bad {
            return Err(ApiError::bad_request(format!(
                "{what}.{k}: invalid value {v}"
            )));
        }
    }
    Ok(())
}

fn hnsw(v: &Value, mut p: HnswParams) -> Result<HnswParams, ApiError> {
    let m = object(v, "hnsw_config")?;
    check_types(
        m,
        "hnsw_config",
        &[
            "m",
            "ef_construct",
            "full_scan_threshold",
            "max_indexing_threads",
            "payload_m",
        ],
        &["on_disk", "inline_storage"],
    )?;
    let get = |k: &str| m.get(k).and_then(Value::as_u64).map(|x| x as usize);
    p.m = get("m").unwrap_or(p.m);
    p.ef_construct = get("ef_construct").unwrap_or(p.ef_construct);
    p.full_scan_threshold = get("full_scan_threshold").unwrap_or(p.full_scan_threshold);
    p.payload_m = get("payload_m").or(p.payload_m);
    p.on_disk = m
        .get("on_disk")
        .and_then(Value::as_bool)
        .unwrap_or(p.on_disk);
    Ok(p)
}

fn optimizer(v: &Value, mut p: OptimizerParams) -> Result<OptimizerParams, ApiError> {
    let m = object(v, "optimizers_config")?;
    let uints = [
        "vacuum_min_vector_number",
        "default_segment_number",
        "max_segment_size",
        "memmap_threshold",
        "indexing_threshold",
        "flush_interval_sec",
    ];
    check_types(m, "optimizers_config", &uints, &["prevent_unoptimized"])?;
    if let Some(t) = m.get("deleted_threshold").filter(|t| !t.is_null()) {
        if !t.as_f64().is_some_and(|x| (0.0..=1.0).contains(&x)) {
            return Err(ApiError::bad_request(format!(
                "optimizers_config.deleted_threshold: invalid value {t}"
            )));
        }
    }
    let get = |k: &str| m.get(k).and_then(Value::as_u64).map(|x| x as usize);
    p.deleted_threshold = m
        .get("deleted_threshold")
        .and_then(Value::as_f64)
        .unwrap_or(p.deleted_threshold);
    p.vacuum_min_vector_number =
        get("vacuum_min_vector_number").unwrap_or(p.vacuum_min_vector_number);
    p.default_segment_number = get("default_segment_number")
        .filter(|&n| n > 0)
        .unwrap_or(p.default_segment_number);
    p.indexing_threshold = get("indexing_threshold").unwrap_or(p.indexing_threshold);
    p.flush_interval_sec = get("flush_interval_sec").map_or(p.flush_interval_sec, |x| x as u64);
    Ok(p)
}

fn quantization(v: Option<&Value>) -> Result<Option<Quantization>, ApiError> {
    let Some(v) = v.filter(|x| !x.is_null() && x.as_str() != Some("Disabled")) else {
        return Ok(None);
    };
    let m = object(v, "quantization_config")?;
    let always_ram = |c: &Value| {
        c.get("always_ram")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    Ok(Some(if let Some(c) = m.get("scalar") {
        Quantization::Scalar {
            quantile: c.get("quantile").and_then(Value::as_f64).map(|q| q as f32),
            always_ram: always_ram(c),
        }
    } else if let Some(c) = m.get("product") {
        let compression = c
            .get("compression")
            .and_then(Value::as_str)
            .unwrap_or("x16")
            .to_string();
        Quantization::Product {
            compression,
            always_ram: always_ram(c),
        }
    } else if let Some(c) = m.get("binary") {
        Quantization::Binary {
            always_ram: always_ram(c),
        }
    } else {
        return Err(ApiError::bad_request(
            "quantization_config needs one of scalar, product, binary",
        ));
    }))
}

/// `CreateCollection` body → engine config.
fn create_config(body: &Value) -> Result<CollectionConfig, ApiError> {
    let m = object(body, "request body")?;
    let mut cfg = match m.get("vectors") {
        None | Some(Value::Null) => CollectionConfig::named(BTreeMap::new()),
        Some(v @ Value::Object(o)) if o.contains_key("size") || o.contains_key("distance") => {
            let p = vector_params(v, "vectors")?;
            // Keep the per-vector options (hnsw, quantization, on_disk) of the unnamed vector.
            let mut cfg = CollectionConfig::single(p.size, p.distance);
            cfg.vectors.insert(String::new(), p);
            cfg
        }
        Some(Value::Object(o)) => {
            let mut named = BTreeMap::new();
            for (name, v) in o {
                named.insert(name.clone(), vector_params(v, &format!("vectors.{name}"))?);
            }
            CollectionConfig::named(named)
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "vectors must be an object, got {}",
                kind(other)
            )))
        }
    };
    if let Some(Value::Object(sv)) = m.get("sparse_vectors") {
        for (name, v) in sv {
            cfg.sparse_vectors.insert(
                name.clone(),
                sparse_params(v, &format!("sparse_vectors.{name}"))?,
            );
        }
    }
    if let Some(h) = m.get("hnsw_config").filter(|x| !x.is_null()) {
        cfg.hnsw = hnsw(h, cfg.hnsw.clone())?;
    }
    if let Some(o) = m.get("optimizers_config").filter(|x| !x.is_null()) {
        cfg.optimizer = optimizer(o, cfg.optimizer.clone())?;
    }
    cfg.quantization = quantization(m.get("quantization_config"))?;
    cfg.on_disk_payload = m
        .get("on_disk_payload")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if let Some(Value::Object(meta)) = m.get("metadata") {
        cfg.metadata = meta.clone();
    }
    Ok(cfg)
}

pub async fn create(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult {
    let cfg = create_config(&body)?;
    blocking(move || {
        s.db.create_collection(&name, cfg)?;
        Ok(Reply(json!(true)))
    })
    .await
}

pub async fn delete(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    blocking(move || Ok(Reply(json!(s.db.delete_collection(&name)?)))).await
}

pub async fn list(State(s): State<AppState>) -> ApiResult {
    let names: Vec<Value> =
        s.db.list_collections()
            .into_iter()
            .map(|n| json!({ "name": n }))
            .collect();
    Ok(Reply(json!({ "collections": names })))
}

pub async fn exists(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    Ok(Reply(json!({"exists": s.db.collection_exists(&name)})))
}

/// `PATCH /collections/{name}`: accepted; metadata is merged, other settings are kept for
/// the ANN index issue.
pub async fn update(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult {
    let m = object(&body, "request body")?.clone();
    for k in [
        "vectors",
        "params",
        "sparse_vectors",
        "strict_mode_config",
        "metadata",
    ] {
        if m.get(k).is_some_and(|v| !v.is_null() && !v.is_object()) {
            return Err(ApiError::bad_request(format!("{k} must be an object")));
        }
    }
    blocking(move || {
        let c = s.db.collection(&name)?;
        let mut cfg = (*c.config()).clone();
        apply_update(&m, &mut cfg)?;
        c.update_config(cfg)?;
        Ok(Reply(json!(true)))
    })
    .await
}

fn present<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a Value> {
    m.get(k).filter(|v| !v.is_null())
}

/// Applies an `UpdateCollection` body to a copy of the config: given fields replace the
/// current values, the rest stay; `"Disabled"` turns quantization off; metadata keys merge
/// (a null value removes its key).
fn apply_update(m: &Map<String, Value>, cfg: &mut CollectionConfig) -> Result<(), ApiError> {
    if let Some(o) = present(m, "optimizers_config") {
        cfg.optimizer = optimizer(o, cfg.optimizer.clone())?;
    }
    if let Some(h) = present(m, "hnsw_config") {
        cfg.hnsw = hnsw(h, cfg.hnsw.clone())?;
    }
    if let Some(q) = present(m, "quantization_config") {
        cfg.quantization = quantization(Some(q))?;
    }
    if let Some(Value::Object(vs)) = present(m, "vectors") {
        let base = cfg.hnsw.clone();
        for (name, v) in vs {
            let p = cfg.vectors.get_mut(name).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Wrong input: Not existing vector name error: {name}"
                ))
            })?;
            let what = format!("vectors.{name:?}");
            let vm = object(v, &what)?;
            only_keys(
                vm,
                &["hnsw_config", "quantization_config", "on_disk", "memory"],
                &what,
            )?;
            if let Some(h) = present(vm, "hnsw_config") {
                p.hnsw = Some(hnsw(h, p.hnsw.clone().unwrap_or_else(|| base.clone()))?);
            }
            if let Some(q) = present(vm, "quantization_config") {
                p.quantization = quantization(Some(q))?;
            }
            if let Some(d) = present(vm, "on_disk") {
                p.on_disk = d.as_bool().ok_or_else(|| {
                    ApiError::bad_request(format!("{what}.on_disk must be a boolean"))
                })?;
            }
        }
    }
    if let Some(Value::Object(p)) = present(m, "params") {
        if let Some(d) = present(p, "on_disk_payload") {
            cfg.on_disk_payload = d
                .as_bool()
                .ok_or_else(|| ApiError::bad_request("params.on_disk_payload must be a boolean"))?;
        }
    }
    if let Some(Value::Object(sv)) = present(m, "sparse_vectors") {
        for (name, v) in sv {
            let p = cfg.sparse_vectors.get_mut(name).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Wrong input: Not existing vector name error: {name}"
                ))
            })?;
            let vm = object(v, &format!("sparse_vectors.{name:?}"))?;
            if let Some(modifier) = present(vm, "modifier") {
                p.idf = match modifier.as_str() {
                    Some("idf") => true,
                    Some("none") => false,
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "sparse_vectors.{name:?}.modifier must be \"idf\" or \"none\""
                        )))
                    }
                };
            }
        }
    }
    if let Some(Value::Object(md)) = present(m, "metadata") {
        for (k, v) in md {
            if v.is_null() {
                cfg.metadata.remove(k);
            } else {
                cfg.metadata.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(())
}

fn hnsw_json(h: &HnswParams) -> Value {
    json!({"m": h.m, "ef_construct": h.ef_construct, "full_scan_threshold": h.full_scan_threshold,
        "max_indexing_threads": 0, "on_disk": h.on_disk})
}

fn quantization_json(q: Option<&Quantization>) -> Value {
    match q {
        None => Value::Null,
        Some(Quantization::Scalar {
            quantile,
            always_ram,
        }) => {
            let mut c = json!({"type": "int8", "always_ram": always_ram});
            if let Some(q) = quantile {
                c["quantile"] = json!(q);
            }
            json!({ "scalar": c })
        }
        Some(Quantization::Product {
            compression,
            always_ram,
        }) => json!({"product": {"compression": compression, "always_ram": always_ram}}),
        Some(Quantization::Binary { always_ram }) => {
            json!({"binary": {"always_ram": always_ram}})
        }
    }
}

pub async fn info(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    blocking(move || Ok(Reply(info_json(&s.db.collection(&name)?.info())))).await
}

fn vector_params_json(p: &VectorParams) -> Value {
    let mut m = Map::new();
    m.insert("size".into(), json!(p.size));
    m.insert("distance".into(), json!(distance_name(p.distance)));
    if p.on_disk {
        m.insert("on_disk".into(), json!(true));
    }
    if p.datatype != Datatype::Float32 {
        m.insert("datatype".into(), json!(p.datatype.name()));
    }
    if let Some(h) = &p.hnsw {
        m.insert("hnsw_config".into(), hnsw_json(h));
    }
    if p.quantization.is_some() {
        m.insert(
            "quantization_config".into(),
            quantization_json(p.quantization.as_ref()),
        );
    }
    Value::Object(m)
}

fn info_json(info: &CollectionInfo) -> Value {
    let c = &info.config;
    let vectors = if c.single_unnamed {
        c.vectors
            .get("")
            .map(vector_params_json)
            .unwrap_or_else(|| json!({}))
    } else {
        Value::Object(
            c.vectors
                .iter()
                .map(|(n, p)| (n.clone(), vector_params_json(p)))
                .collect(),
        )
    };
    let mut params = json!({"vectors": vectors, "shard_number": 1, "replication_factor": 1,
        "write_consistency_factor": 1, "on_disk_payload": c.on_disk_payload});
    if !c.sparse_vectors.is_empty() {
        let sv: Map<String, Value> = c
            .sparse_vectors
            .iter()
            .map(|(n, p)| {
                (
                    n.clone(),
                    if p.idf {
                        json!({"modifier": "idf"})
                    } else {
                        json!({})
                    },
                )
            })
            .collect();
        params["sparse_vectors"] = Value::Object(sv);
    }
    let schema: Map<String, Value> = info
        .payload_schema
        .iter()
        .map(|i| {
            let mut e = json!({"data_type": i.schema.name(), "points": i.points});
            if let Some(p) = &i.params {
                e["params"] = p.clone();
            }
            (i.key.to_string(), e)
        })
        .collect();
    let mut config = json!({
        "params": params,
        "hnsw_config": hnsw_json(&c.hnsw),
        "optimizer_config": {"deleted_threshold": c.optimizer.deleted_threshold,
            "vacuum_min_vector_number": c.optimizer.vacuum_min_vector_number, "default_segment_number": 0,
            "max_segment_size": null, "memmap_threshold": null, "indexing_threshold": c.optimizer.indexing_threshold,
            "flush_interval_sec": c.optimizer.flush_interval_sec, "max_optimization_threads": null},
        "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0, "wal_retain_closed": 1},
        "quantization_config": quantization_json(c.quantization.as_ref()),
        "strict_mode_config": {"enabled": false},
    });
    if !c.metadata.is_empty() {
        config["metadata"] = Value::Object(c.metadata.clone());
    }
    let ix = &info.indexing;
    // Azimuth's own key (the client ignores unknown keys at this level): indexing progress
    // and each vector's measured ef → recall@10 table, which `params.target_recall` uses.
    let calibration: Map<String, Value> = ix
        .calibration
        .iter()
        .map(|(name, table)| {
            let rows: Vec<Value> = table
                .iter()
                .map(|(ef, r)| json!({"ef": ef, "recall_at_10": r}))
                .collect();
            (name.clone(), Value::Array(rows))
        })
        .collect();
    let progress = json!({
        "indexed_vectors": ix.indexed_vectors,
        "indexable_vectors": ix.indexable_vectors,
        "pending": ix.pending,
        "building": ix.building.map(|(done, rows)| json!({"linked": done, "rows": rows})),
        "calibration": calibration,
        "index_bytes": ix.index_bytes,
        "index_bytes_mapped": ix.index_bytes_mapped,
    });
    json!({"status": if ix.pending { "yellow" } else { "green" }, "optimizer_status": "ok",
        "indexed_vectors_count": ix.indexed_vectors,
        "points_count": info.points_count, "segments_count": info.segments_count,
        "config": config, "payload_schema": schema, "azimuth_indexing": progress})
}

pub async fn update_aliases(State(s): State<AppState>, Body(body): Body<Value>) -> ApiResult {
    let m = object(&body, "request body")?;
    let Some(Value::Array(actions)) = m.get("actions") else {
        return Err(ApiError::bad_request("body needs an \"actions\" list"));
    };
    let str_of = |a: &Value, k: &str| {
        a.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ApiError::bad_request(format!("alias action needs {k:?}")))
    };
    let mut parsed = Vec::new();
    for a in actions {
        parsed.push(if let Some(c) = a.get("create_alias") {
            AliasAction::Create {
                alias: str_of(c, "alias_name")?,
                collection: str_of(c, "collection_name")?,
            }
        } else if let Some(d) = a.get("delete_alias") {
            AliasAction::Delete {
                alias: str_of(d, "alias_name")?,
            }
        } else if let Some(r) = a.get("rename_alias") {
            AliasAction::Rename {
                old: str_of(r, "old_alias_name")?,
                new: str_of(r, "new_alias_name")?,
            }
        } else {
            return Err(ApiError::bad_request(format!("unknown alias action {a}")));
        });
    }
    blocking(move || {
        s.db.update_aliases(&parsed)?;
        Ok(Reply(json!(true)))
    })
    .await
}

fn aliases_json(list: impl Iterator<Item = (String, String)>) -> Value {
    let a: Vec<Value> = list
        .map(|(a, c)| json!({"alias_name": a, "collection_name": c}))
        .collect();
    json!({ "aliases": a })
}

pub async fn list_aliases(State(s): State<AppState>) -> ApiResult {
    Ok(Reply(aliases_json(s.db.list_aliases().into_iter())))
}

pub async fn collection_aliases(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let real = s.db.collection(&name)?.name().to_string();
    Ok(Reply(aliases_json(
        s.db.list_aliases().into_iter().filter(|(_, c)| *c == real),
    )))
}

/// `PUT /collections/{name}/vectors/{vector}`: adds a dense vector (`{"dense": {"size",
/// "distance", ...}}`) or a sparse one (`{"sparse": {"modifier"?}}`) to a collection of named
/// vectors; the same objects unwrapped are accepted too. Existing points do not have it.
pub async fn create_vector(
    State(s): State<AppState>,
    Path((name, vector)): Path<(String, String)>,
    q: Params,
    Body(body): Body<Value>,
) -> ApiResult {
    wait_param(&q)?;
    let m = object(&body, "request body")?;
    let spec = match (m.get("dense"), m.get("sparse")) {
        (Some(d), None) => NewVector::Dense(vector_params(d, "dense")?),
        (None, Some(sp)) => NewVector::Sparse(sparse_params(sp, "sparse")?),
        (None, None) if m.contains_key("size") || m.contains_key("distance") => {
            NewVector::Dense(vector_params(&body, "request body")?)
        }
        (None, None) => NewVector::Sparse(sparse_params(&body, "request body")?),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give either dense or sparse vector settings, not both",
            ))
        }
    };
    blocking(move || {
        let c = s.db.collection(&name)?;
        Ok(Reply(update_json(c.create_vector(&vector, spec)?)))
    })
    .await
}

/// `DELETE /collections/{name}/vectors/{vector}`: deletes a vector and every point's value
/// of it.
pub async fn delete_vector(
    State(s): State<AppState>,
    Path((name, vector)): Path<(String, String)>,
    q: Params,
) -> ApiResult {
    wait_param(&q)?;
    blocking(move || {
        let c = s.db.collection(&name)?;
        Ok(Reply(update_json(c.delete_vector(&vector)?)))
    })
    .await
}

pub async fn create_index(
    State(s): State<AppState>,
    Path(name): Path<String>,
    q: Params,
    Body(body): Body<Value>,
) -> ApiResult {
    let wait = wait_param(&q)?;
    let m = object(&body, "request body")?;
    let field = m
        .get("field_name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("field_name is required"))?
        .to_string();
    let spec = match m.get("field_schema") {
        Some(v) => {
            FieldSchema::from_json(v)?;
            v.clone()
        }
        None => return Err(ApiError::bad_request(
            "field_schema is required (keyword, integer, float, bool, datetime, uuid, geo, text)",
        )),
    };
    blocking(move || {
        let c = s.db.collection(&name)?;
        Ok(Reply(update_json(
            c.create_payload_index_spec(&field, &spec, wait)?,
        )))
    })
    .await
}

pub async fn delete_index(
    State(s): State<AppState>,
    Path((name, field)): Path<(String, String)>,
    q: Params,
) -> ApiResult {
    let wait = wait_param(&q)?;
    blocking(move || {
        Ok(Reply(update_json(
            s.db.collection(&name)?.delete_payload_index(&field, wait)?,
        )))
    })
    .await
}

pub async fn collection_cluster(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let n = s.db.collection(&name)?.len();
    Ok(Reply(json!({"peer_id": 1, "shard_count": 1,
        "local_shards": [{"shard_id": 0, "points_count": n, "state": "Active"}],
        "remote_shards": [], "shard_transfers": []})))
}
