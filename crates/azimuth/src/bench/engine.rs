//! `azimuth bench --engine`: the same measurements through the database engine (an
//! in-memory collection, indexed as the background indexer would), so filters, payload
//! indexes and the exact-vs-graph planner are measured too. `--on-disk DIR` stores the
//! collection in a directory with its vectors and graphs `on_disk` (read through memory maps).

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use azimuth_engine::{
    Collection, CollectionConfig, Database, Datatype, DbOptions, Distance, FieldSchema, Filter,
    Payload, PointId, PointStruct, Quantization, SearchRequest,
};
use azimuth_index::npy;
use indicatif::ProgressBar;

use super::{BenchArgs, Searcher};

/// An engine collection under test.
pub(super) struct EngineIndex {
    collection: Arc<Collection>,
    filter: Option<Filter>,
    exact: bool,
    _db: Database,
    /// Dropped last: removes an `--on-disk` collection's directory.
    _dir: Option<RemoveOnDrop>,
}

/// A directory removed when dropped.
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// This process's resident memory from `/proc/self/status` (Linux): anonymous and
/// file-backed (mapped files) parts.
pub(super) fn resident_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some(format!(
        "{:.0} MiB anonymous, {:.0} MiB of mapped files",
        field("RssAnon:")?,
        field("RssFile:")?
    ))
}

impl Searcher for EngineIndex {
    fn search(&self, query: &[f32], k: usize, ef: usize) -> Vec<u32> {
        let mut req = SearchRequest::dense(query.to_vec(), k);
        req.filter = self.filter.clone();
        req.params.exact = self.exact;
        req.params.hnsw_ef = Some(ef.max(1));
        match self.collection.search(&req) {
            Ok(hits) => hits
                .into_iter()
                .filter_map(|h| match h.id {
                    PointId::Num(n) => u32::try_from(n).ok(),
                    _ => None,
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn release_cached(&self) {
        self.collection.release_mapped_memory();
    }

    fn memory_bytes(&self) -> usize {
        let info = self.collection.info();
        let vectors = info.dense_bytes.in_memory;
        // Quantized: codes + graph in RAM; the f32 rows are only read to rescore.
        if self.collection.config().quantization.is_some() {
            info.indexing.index_bytes
        } else {
            vectors + info.indexing.index_bytes
        }
    }
}

impl EngineIndex {
    /// Searches every query once with the filter (as a workload repeating it would), then
    /// runs the indexer so what the repeats earned gets built; reports how long that took.
    pub(super) fn learn_filter(
        &self,
        queries: &npy::Matrix,
        k: usize,
        efs: &[usize],
    ) -> Result<()> {
        for q in 0..queries.rows {
            self.search(queries.row(q), k, 64);
        }
        let start = Instant::now();
        self.collection.build_indexes()?;
        eprintln!(
            "after {} filtered searches the indexer worked {:.2} s more (filter graphs: {:?})",
            queries.rows,
            start.elapsed().as_secs_f64(),
            self.collection.info().indexing.filter_graphs
        );
        // what the engine expects of these searches (a filter graph's own calibration)
        if queries.rows > 0 {
            let estimates: Vec<String> = efs
                .iter()
                .map(|&ef| {
                    let mut req = SearchRequest::dense(queries.row(0).to_vec(), k);
                    req.filter = self.filter.clone();
                    req.params.hnsw_ef = Some(ef.max(1));
                    match self.collection.estimated_recall(&req) {
                        Some(r) => format!("ef {ef}: {r:.3}"),
                        None => format!("ef {ef}: -"),
                    }
                })
                .collect();
            eprintln!("estimated recall@10: {}", estimates.join(", "));
        }
        Ok(())
    }
}

/// Payloads from a JSON-lines file (optionally gzip-compressed), one object per base row.
pub(super) fn payloads(path: &Path) -> Result<Vec<Payload>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(std::io::BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    reader
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let line = line.with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&line)
                .with_context(|| format!("{} line {}: not a JSON object", path.display(), i + 1))
        })
        .collect()
}

/// Loads `base` into a fresh in-memory collection configured for index `name` and indexes it.
pub(super) fn build(
    a: &BenchArgs,
    name: &str,
    distance: Distance,
    base: &npy::Matrix,
    payloads: &[Payload],
) -> Result<(EngineIndex, f64)> {
    let mut config = CollectionConfig::single(base.cols, distance);
    config.hnsw.m = a.m;
    config.hnsw.ef_construct = a.ef_construct;
    config.optimizer.indexing_threshold = 1;
    config.optimizer.flush_threshold_bytes = usize::MAX;
    config.quantization = match name {
        "hnsw-int8" => Some(Quantization::Scalar {
            quantile: Some(0.99),
            always_ram: true,
        }),
        "hnsw-binary" => Some(Quantization::Binary { always_ram: true }),
        _ => None,
    };
    let options = DbOptions {
        background: false,
        ..Default::default()
    };
    if name == "hnsw-f16" {
        config
            .vectors
            .entry(String::new())
            .and_modify(|v| v.datatype = Datatype::Float16);
    }
    let (db, dir) = match &a.on_disk {
        Some(root) => {
            config
                .vectors
                .entry(String::new())
                .and_modify(|v| v.on_disk = true);
            config.hnsw.on_disk = true;
            let dir = root.join(format!("azimuth-bench-{name}-{}", std::process::id()));
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("removing {}", dir.display()))?;
            }
            let db = Database::open_with(&dir, options)
                .with_context(|| format!("opening a database in {}", dir.display()))?;
            (db, Some(RemoveOnDrop(dir)))
        }
        None => (Database::in_memory_with(options), None),
    };
    let c = db.create_collection("bench", config)?;
    let bar = ProgressBar::new(base.rows as u64).with_message(format!("loading {name}"));
    for start in (0..base.rows).step_by(10_000) {
        let end = (start + 10_000).min(base.rows);
        let points = (start..end)
            .map(|i| {
                let payload = payloads.get(i).cloned().unwrap_or_default();
                PointStruct::new(i as u64, base.row(i).to_vec(), payload)
            })
            .collect();
        c.upsert(points, false)?;
        bar.inc((end - start) as u64);
    }
    bar.finish_and_clear();
    if dir.is_some() {
        c.flush()?; // the rows go to a segment file, whose vectors are then mapped
    }
    for spec in &a.payload_index {
        let (key, kind) = spec
            .split_once(':')
            .with_context(|| format!("--payload-index {spec:?}: use key:type"))?;
        let schema = FieldSchema::from_json(&serde_json::json!(kind))
            .map_err(|e| anyhow::anyhow!("--payload-index {spec:?}: {e}"))?;
        c.create_payload_index(key, schema, true)?;
    }
    let start = Instant::now();
    if name != "flat" {
        eprintln!("indexing {name} in the engine…");
        c.build_indexes()?;
    }
    let build_s = start.elapsed().as_secs_f64();
    let filter = match &a.filter {
        Some(text) => {
            let v: serde_json::Value =
                serde_json::from_str(text).context("--filter is not valid JSON")?;
            Some(Filter::from_json(&v).map_err(|e| anyhow::anyhow!("--filter: {e}"))?)
        }
        None => None,
    };
    if let Some(f) = &filter {
        let n = c.count(Some(f))?;
        if n == 0 {
            bail!("--filter matches no point");
        }
        eprintln!(
            "filter selects {n} of {} points ({:.1} %)",
            base.rows,
            100.0 * n as f64 / base.rows as f64
        );
    }
    Ok((
        EngineIndex {
            collection: c,
            filter,
            exact: name == "flat",
            _db: db,
            _dir: dir,
        },
        build_s,
    ))
}
