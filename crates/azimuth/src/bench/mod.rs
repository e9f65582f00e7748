//! `azimuth bench`: recall@k, QPS and latency of an index on .npy data, against a ground
//! truth given or computed by brute force; a table, JSON lines and a recall-vs-QPS plot.

mod engine;
mod plot;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use azimuth_index::distance::Metric;
use azimuth_index::{flat, npy, quant};
use serde_json::json;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Base vectors (.npy, float32 or float16, one row per vector).
    #[arg(long)]
    pub base: PathBuf,
    /// Query vectors (.npy).
    #[arg(long)]
    pub queries: PathBuf,
    /// Ground-truth row indices (.npy int32/int64, best first); brute force when absent.
    #[arg(long)]
    pub ground_truth: Option<PathBuf>,
    /// cosine, dot or euclid.
    #[arg(long, default_value = "cosine")]
    pub metric: String,
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Comma-separated: flat (exact), hnsw (float vectors), hnsw-f16 (walk on half-precision
    /// rows), hnsw-int8 (walk on int8 codes), hnsw-binary (walk on 1-bit codes); the last
    /// three rescore from the f32 rows. The hnsw variants share one graph build. Through the
    /// engine, hnsw-f16 is a collection of datatype float16 (scores from the half-precision
    /// rows, no rescoring), stored in a temporary directory so its f32 rows can be mapped.
    #[arg(long, default_value = "flat", value_delimiter = ',')]
    pub index: Vec<String>,
    /// Quantized search: candidates rescored exactly = k × this (capped by ef). Default 1
    /// for f16, 4 for int8, 10 for binary.
    #[arg(long)]
    pub oversampling: Option<f32>,
    #[arg(long, default_value_t = 16)]
    pub m: usize,
    #[arg(long, default_value_t = 200)]
    pub ef_construct: usize,
    /// Comma-separated ef values to sweep.
    #[arg(long, default_value = "16,32,64,128,256", value_delimiter = ',')]
    pub ef: Vec<usize>,
    /// Passes over the queries per ef; each row reports the pass with the most QPS (a
    /// shared machine's hiccups only ever slow a pass down).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Search threads (the build uses all cores).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write a recall-vs-QPS plot (PNG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Run through the database engine (an in-memory collection) instead of the bare index.
    /// Implied by --filter.
    #[arg(long)]
    pub engine: bool,
    /// Payloads for the base rows: JSON lines (optionally .gz), one object per row.
    #[arg(long)]
    pub payload: Option<PathBuf>,
    /// A filter in Qdrant's JSON grammar applied to every query (ground truth, when not
    /// given, is computed by exact filtered search).
    #[arg(long)]
    pub filter: Option<String>,
    /// Payload indexes to create before searching, as key:type (e.g. section:keyword).
    #[arg(long)]
    pub payload_index: Vec<String>,
    /// Treat --filter as one the workload repeats: search every query once, let the indexer
    /// build what repeated filters earn (a graph of the filter's rows), then measure.
    #[arg(long, requires = "filter")]
    pub repeated_filter: bool,
    /// Run through the engine with each collection stored in a new directory under DIR
    /// (removed afterwards), its vectors and graphs `on_disk`: sealed vectors and the
    /// graphs' level-0 links are read through memory maps of their files. Implies --engine. (Engine runs print the
    /// process's resident memory, anonymous and file-backed, after each index's build and
    /// after its sweep.)
    #[arg(long, value_name = "DIR")]
    pub on_disk: Option<PathBuf>,
    /// With --on-disk: before each ef sweep, release the mapped rows and drop the operating
    /// system's page cache (Linux, as root: `sync`, then 1 into /proc/sys/vm/drop_caches),
    /// so the sweep starts with every row on the disk.
    #[arg(long, requires = "on_disk")]
    pub drop_caches: bool,
}

/// An index under test.
trait Searcher: Sync {
    fn search(&self, query: &[f32], k: usize, ef: usize) -> Vec<u32>;
    fn memory_bytes(&self) -> usize;
    /// Lets go of cached pages before a cold measurement (engine collections on disk).
    fn release_cached(&self) {}
}

struct Flat<'a> {
    data: &'a [f32],
    dim: usize,
    metric: Metric,
}

impl Searcher for Flat<'_> {
    fn search(&self, query: &[f32], k: usize, _ef: usize) -> Vec<u32> {
        flat::search(query, self.data, self.dim, self.metric, k, |_| true)
            .into_iter()
            .map(|(r, _)| r)
            .collect()
    }

    fn memory_bytes(&self) -> usize {
        self.data.len() * 4
    }
}

struct Graph<'a> {
    data: &'a [f32],
    index: &'a azimuth_index::Hnsw,
}

impl Searcher for Graph<'_> {
    fn search(&self, query: &[f32], k: usize, ef: usize) -> Vec<u32> {
        self.index
            .search(self.data, query, k, ef, None)
            .into_iter()
            .map(|(r, _)| r)
            .collect()
    }

    fn memory_bytes(&self) -> usize {
        self.data.len() * 4 + self.index.memory_bytes()
    }
}

/// A walk over quantized codes, rescored from the f32 rows. Its memory is the codes and the
/// graph: the f32 rows are read only for the rescored candidates and may stay on disk.
struct Quantized<'a> {
    data: &'a [f32],
    index: &'a azimuth_index::Hnsw,
    codes: quant::Codes,
    oversampling: f32,
}

impl Searcher for Quantized<'_> {
    fn search(&self, query: &[f32], k: usize, ef: usize) -> Vec<u32> {
        let params = quant::QuantSearch {
            ef,
            oversampling: self.oversampling,
        };
        let found = self
            .codes
            .search_rescored(self.index, self.data, query, k, params, None);
        found.into_iter().map(|(r, _)| r).collect()
    }

    fn memory_bytes(&self) -> usize {
        self.index.memory_bytes() + self.codes.memory_bytes()
    }
}

fn load(path: &Path) -> Result<npy::Matrix> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    npy::parse_f32(&bytes).with_context(|| format!("parsing {}", path.display()))
}

fn normalize(m: &mut npy::Matrix) {
    for row in m.data.chunks_exact_mut(m.cols.max(1)) {
        let n = azimuth_index::distance::norm(row);
        if n > 0.0 {
            row.iter_mut().for_each(|x| *x /= n);
        }
    }
}

fn ground_truth(
    a: &BenchArgs,
    base: &npy::Matrix,
    queries: &npy::Matrix,
    metric: Metric,
) -> Result<Vec<Vec<u32>>> {
    if let Some(path) = &a.ground_truth {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let (rows, cols, data) =
            npy::parse_i64(&bytes).with_context(|| format!("parsing {}", path.display()))?;
        if rows != queries.rows || cols < a.k {
            bail!(
                "ground truth is {rows}×{cols}; need {}×≥{}",
                queries.rows,
                a.k
            );
        }
        return Ok((0..rows)
            .map(|q| {
                data[q * cols..q * cols + a.k]
                    .iter()
                    .map(|&r| r as u32)
                    .collect()
            })
            .collect());
    }
    eprintln!("computing exact ground truth for {} queries…", queries.rows);
    Ok((0..queries.rows)
        .map(|q| {
            flat::search(queries.row(q), &base.data, base.cols, metric, a.k, |_| true)
                .into_iter()
                .map(|(r, _)| r)
                .collect()
        })
        .collect())
}

struct Measured {
    recall: f64,
    qps: f64,
    mean_ms: f64,
    p99_ms: f64,
}

fn measure(
    index: &dyn Searcher,
    queries: &npy::Matrix,
    truth: &[Vec<u32>],
    k: usize,
    ef: usize,
    threads: usize,
) -> Measured {
    let n = queries.rows;
    let threads = threads.clamp(1, n.max(1));
    let start = Instant::now();
    let per_thread: Vec<Vec<(f64, f64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t..n)
                        .step_by(threads)
                        .map(|q| {
                            let t0 = Instant::now();
                            let found = index.search(queries.row(q), k, ef);
                            let ms = t0.elapsed().as_secs_f64() * 1e3;
                            let want: HashSet<u32> = truth[q].iter().copied().collect();
                            let hit = found.iter().take(k).filter(|r| want.contains(r)).count();
                            (ms, hit as f64 / k.max(1) as f64)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let wall = start.elapsed().as_secs_f64();
    let mut lat: Vec<f64> = per_thread.iter().flatten().map(|p| p.0).collect();
    let recall = per_thread.iter().flatten().map(|p| p.1).sum::<f64>() / n.max(1) as f64;
    lat.sort_by(f64::total_cmp);
    let p99 = lat
        .get(((lat.len() as f64 * 0.99) as usize).min(lat.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0);
    Measured {
        recall,
        qps: n as f64 / wall,
        mean_ms: lat.iter().sum::<f64>() / lat.len().max(1) as f64,
        p99_ms: p99,
    }
}

pub fn run(a: &BenchArgs) -> Result<()> {
    let (metric, cosine) = match a.metric.as_str() {
        "cosine" => (Metric::Dot, true),
        "dot" => (Metric::Dot, false),
        "euclid" | "l2" => (Metric::L2Squared, false),
        other => bail!("unknown metric {other:?}; use cosine, dot or euclid"),
    };
    let (mut base, mut queries) = (load(&a.base)?, load(&a.queries)?);
    if base.cols != queries.cols {
        bail!(
            "base has {} dimensions, queries {}",
            base.cols,
            queries.cols
        );
    }
    if cosine {
        normalize(&mut base);
        normalize(&mut queries);
    }
    let through_engine = a.engine || a.filter.is_some() || a.on_disk.is_some();
    let payloads = match &a.payload {
        Some(p) => engine::payloads(p)?,
        None => Vec::new(),
    };
    let distance = match (a.metric.as_str(), metric) {
        ("cosine", _) => azimuth_engine::Distance::Cosine,
        (_, Metric::Dot) => azimuth_engine::Distance::Dot,
        _ => azimuth_engine::Distance::Euclid,
    };
    let truth = if a.filter.is_some() && a.ground_truth.is_none() {
        eprintln!("computing exact filtered ground truth…");
        let (exact, _) = engine::build(a, "flat", distance, &base, &payloads)?;
        (0..queries.rows)
            .map(|q| exact.search(queries.row(q), a.k, 0))
            .collect()
    } else {
        ground_truth(a, &base, &queries, metric)?
    };
    for name in &a.index {
        if !["flat", "hnsw", "hnsw-f16", "hnsw-int8", "hnsw-binary"].contains(&name.as_str()) {
            bail!(
                "unknown --index {name:?}; available: flat, hnsw, hnsw-f16, hnsw-int8, hnsw-binary"
            );
        }
    }
    if a.index.iter().any(|n| n == "hnsw-binary") && metric == Metric::L1 {
        bail!("hnsw-binary supports cosine, dot and euclid");
    }
    let mut graph = None;
    let mut graph_s = 0.0;
    if !through_engine && a.index.iter().any(|n| n.starts_with("hnsw")) {
        let params = azimuth_index::HnswParams {
            m: a.m,
            ef_construct: a.ef_construct,
            seed: 0,
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        eprintln!(
            "building HNSW (m={}, ef_construct={}) with {threads} threads…",
            a.m, a.ef_construct
        );
        let t = Instant::now();
        graph = Some(azimuth_index::Hnsw::build(
            &base.data, base.cols, metric, params, threads,
        ));
        graph_s = t.elapsed().as_secs_f64();
    }
    if !a.json {
        println!(
            "{} on {} × {} ({}), {} queries, k={}, {} search thread(s)",
            a.index.join(", "),
            base.rows,
            base.cols,
            a.metric,
            queries.rows,
            a.k,
            a.threads
        );
    }
    let mut series = Vec::new();
    for name in &a.index {
        let encode_start = Instant::now();
        let mut engine_build_s = None;
        let index: Box<dyn Searcher + '_> = match (name.as_str(), graph.as_ref()) {
            _ if through_engine => {
                let (index, s) = engine::build(a, name, distance, &base, &payloads)?;
                engine_build_s = Some(s);
                if a.repeated_filter && name != "flat" {
                    index.learn_filter(&queries, a.k, &a.ef)?;
                }
                Box::new(index)
            }
            ("hnsw", Some(g)) => Box::new(Graph {
                data: &base.data,
                index: g,
            }),
            ("hnsw-f16", Some(g)) => Box::new(Quantized {
                data: &base.data,
                index: g,
                codes: quant::Codes::F16(quant::F16Rows::encode(&base.data, base.cols, metric)),
                oversampling: a.oversampling.unwrap_or(1.0),
            }),
            ("hnsw-int8", Some(g)) => Box::new(Quantized {
                data: &base.data,
                index: g,
                codes: quant::Codes::Int8(quant::Int8Codes::encode(
                    &base.data, base.cols, metric, 0.99,
                )),
                oversampling: a.oversampling.unwrap_or(4.0),
            }),
            ("hnsw-binary", Some(g)) => Box::new(Quantized {
                data: &base.data,
                index: g,
                codes: quant::Codes::Binary(
                    quant::BinaryCodes::encode(&base.data, base.cols, metric)
                        .context("binary codes need cosine, dot or euclid")?,
                ),
                oversampling: a.oversampling.unwrap_or(10.0),
            }),
            _ => Box::new(Flat {
                data: &base.data,
                dim: base.cols,
                metric,
            }),
        };
        let build_s = match engine_build_s {
            Some(s) => s,
            None if name == "flat" => 0.0,
            None => graph_s + encode_start.elapsed().as_secs_f64(),
        };
        let efs: Vec<usize> = if name == "flat" {
            vec![0]
        } else {
            a.ef.clone()
        };
        if through_engine {
            if let Some(rss) = engine::resident_memory() {
                eprintln!("{name}: process resident memory after the build: {rss}");
            }
        }
        if !a.json {
            println!(
                "\n{name}{}: build {build_s:.2} s, memory {:.1} MiB",
                if through_engine { " (engine)" } else { "" },
                index.memory_bytes() as f64 / (1 << 20) as f64
            );
            println!(
                "{:>6} {:>8} {:>10} {:>9} {:>9}",
                "ef", "recall", "QPS", "mean ms", "p99 ms"
            );
        }
        let mut points = Vec::new();
        for &ef in &efs {
            if a.drop_caches {
                index.release_cached();
                drop_page_cache()?;
            }
            let m = (0..a.rounds)
                .map(|_| measure(index.as_ref(), &queries, &truth, a.k, ef, a.threads))
                .max_by(|x, y| x.qps.total_cmp(&y.qps))
                .context("at least one round")?;
            points.push((m.recall, m.qps));
            if a.json {
                println!(
                    "{}",
                    json!({"index": name, "engine": through_engine, "filter": a.filter, "ef": ef, "k": a.k, "recall": m.recall, "qps": m.qps, "mean_ms": m.mean_ms,
                    "p99_ms": m.p99_ms, "build_s": build_s, "memory_bytes": index.memory_bytes(), "threads": a.threads,
                    "n": base.rows, "dim": base.cols})
                );
            } else {
                println!(
                    "{:>6} {:>8.4} {:>10.1} {:>9.3} {:>9.3}",
                    ef, m.recall, m.qps, m.mean_ms, m.p99_ms
                );
            }
        }
        if through_engine {
            if let Some(rss) = engine::resident_memory() {
                eprintln!("{name}: process resident memory after the sweep: {rss}");
            }
        }
        series.push(plot::Series {
            label: name.clone(),
            points,
        });
    }
    if let Some(path) = &a.plot {
        let chart = plot::Chart {
            title: format!("recall@{} vs QPS ({} threads)", a.k, a.threads),
            x_label: format!("recall@{}", a.k),
            y_label: "QPS".into(),
            log_y: true,
            series,
        };
        plot::write_png(&chart, path)?;
        if !a.json {
            println!("plot written to {}", path.display());
        }
    }
    Ok(())
}

/// Empties the operating system's page cache (Linux, as root).
fn drop_page_cache() -> Result<()> {
    let synced = std::process::Command::new("sync").status();
    if !synced.is_ok_and(|s| s.success()) {
        bail!("--drop-caches: `sync` failed");
    }
    std::fs::write("/proc/sys/vm/drop_caches", "1")
        .context("--drop-caches: writing /proc/sys/vm/drop_caches needs Linux and root")
}
