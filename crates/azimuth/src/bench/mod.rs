//! `azimuth bench`: recall@k, QPS and latency of an index on .npy data, against a ground
//! truth given or computed by brute force; a table, JSON lines and a recall-vs-QPS plot.

mod plot;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use azimuth_index::distance::Metric;
use azimuth_index::{flat, npy};
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
    /// flat (exact) or hnsw (the index crate's graph, float vectors).
    #[arg(long, default_value = "flat")]
    pub index: String,
    #[arg(long, default_value_t = 16)]
    pub m: usize,
    #[arg(long, default_value_t = 200)]
    pub ef_construct: usize,
    /// Comma-separated ef values to sweep.
    #[arg(long, default_value = "16,32,64,128,256", value_delimiter = ',')]
    pub ef: Vec<usize>,
    /// Search threads (the build uses all cores).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write a recall-vs-QPS plot (PNG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// An index under test.
trait Searcher: Sync {
    fn search(&self, query: &[f32], k: usize, ef: usize) -> Vec<u32>;
    fn memory_bytes(&self) -> usize;
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
    index: azimuth_index::Hnsw,
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
    let truth = ground_truth(a, &base, &queries, metric)?;
    let build_start = Instant::now();
    let index: Box<dyn Searcher + '_> = match a.index.as_str() {
        "flat" => Box::new(Flat {
            data: &base.data,
            dim: base.cols,
            metric,
        }),
        "hnsw" => {
            let params = azimuth_index::HnswParams { m: a.m, ef_construct: a.ef_construct, seed: 0 };
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            eprintln!("building HNSW (m={}, ef_construct={}) with {threads} threads…", a.m, a.ef_construct);
            let index = azimuth_index::Hnsw::build(&base.data, base.cols, metric, params, threads);
            Box::new(Graph { data: &base.data, index })
        }
        other => bail!("unknown --index {other:?}; available: flat, hnsw (int8 and binary quantization are not built yet)"),
    };
    let build_s = build_start.elapsed().as_secs_f64();
    let efs: Vec<usize> = if a.index == "flat" {
        vec![0]
    } else {
        a.ef.clone()
    };
    if !a.json {
        println!(
            "index {} on {} × {} ({}), {} queries, k={}, {} search thread(s)",
            a.index, base.rows, base.cols, a.metric, queries.rows, a.k, a.threads
        );
        println!(
            "build {build_s:.2} s, memory {:.1} MiB",
            index.memory_bytes() as f64 / (1 << 20) as f64
        );
        println!(
            "{:>6} {:>8} {:>10} {:>9} {:>9}",
            "ef", "recall", "QPS", "mean ms", "p99 ms"
        );
    }
    let mut points = Vec::new();
    for &ef in &efs {
        let m = measure(index.as_ref(), &queries, &truth, a.k, ef, a.threads);
        points.push((m.recall, m.qps));
        if a.json {
            println!(
                "{}",
                json!({"index": a.index, "ef": ef, "k": a.k, "recall": m.recall, "qps": m.qps, "mean_ms": m.mean_ms,
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
    if let Some(path) = &a.plot {
        let chart = plot::Chart {
            title: format!("recall@{} vs QPS ({} threads)", a.k, a.threads),
            x_label: format!("recall@{}", a.k),
            y_label: "QPS".into(),
            log_y: true,
            series: vec![plot::Series {
                label: a.index.clone(),
                points,
            }],
        };
        plot::write_png(&chart, path)?;
        if !a.json {
            println!("plot written to {}", path.display());
        }
    }
    Ok(())
}
