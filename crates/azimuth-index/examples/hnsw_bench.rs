//! HNSW build time, recall@10 and single-thread QPS on the debian-minilm set (cosine).
//!
//! ```text
//! cargo run -p azimuth-index --release --example hnsw_bench -- [DATA_DIR] [THREADS] [GRAPH]
//! ```
//!
//! With `GRAPH`, the built graph is saved there (`Hnsw::to_bytes`) and later runs load it
//! instead of building, to measure search alone.
//!
//! `DATA_DIR` holds `base.f16.npy`, `queries.f32.npy` and `gt_cosine_top100.i32.npy`
//! (default: `shared/data/debian-minilm` beside the repository). Vectors are normalised so
//! that `Metric::Dot` is cosine similarity. Parameters: M=16, ef_construct=200.

use std::path::PathBuf;
use std::time::Instant;

use azimuth_index::npy::{self, Matrix};
use azimuth_index::{distance, flat, Hnsw, HnswParams, Metric};

const K: usize = 10;
const EFS: [usize; 5] = [16, 32, 64, 128, 256];

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let default_dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/debian-minilm"
    );
    let dir = PathBuf::from(args.next().unwrap_or_else(|| default_dir.to_owned()));
    let threads: usize = args.next().map_or(Ok(2), |t| t.parse())?;
    let graph = args.next().map(PathBuf::from);

    let base = normalised(npy::parse_f32(&std::fs::read(dir.join("base.f16.npy"))?)?);
    let queries = normalised(npy::parse_f32(&std::fs::read(
        dir.join("queries.f32.npy"),
    )?)?);
    let (_, gt_cols, gt) = npy::parse_i64(&std::fs::read(dir.join("gt_cosine_top100.i32.npy"))?)?;
    println!(
        "{} base × {}, {} queries, SIMD {}",
        base.rows,
        base.cols,
        queries.rows,
        distance::simd_level()
    );

    let index = match graph.as_deref().map(std::fs::read) {
        Some(Ok(bytes)) => Hnsw::from_bytes(&bytes)?,
        _ => {
            let index = build(&base, threads);
            if let Some(path) = &graph {
                std::fs::write(path, index.to_bytes())?;
            }
            index
        }
    };
    println!(
        "{:>5} {:>10} {:>10} {:>9}",
        "ef", "recall@10", "QPS", "µs/query"
    );
    unfiltered(&index, &base, &queries, (gt_cols, &gt));
    filtered(&index, &base, &queries);
    Ok(())
}

/// Recall against the shipped cosine ground truth and QPS for each ef.
fn unfiltered(index: &Hnsw, base: &Matrix, queries: &Matrix, (gt_cols, gt): (usize, &[i64])) {
    for ef in EFS {
        let started = Instant::now();
        let results: Vec<Vec<(u32, f32)>> = (0..queries.rows)
            .map(|q| index.search(&base.data, queries.row(q), K, ef, None))
            .collect();
        let seconds = started.elapsed().as_secs_f64();
        let hits: usize = results
            .iter()
            .enumerate()
            .map(|(q, got)| {
                let truth = &gt[q * gt_cols..q * gt_cols + K];
                got.iter()
                    .filter(|(row, _)| truth.contains(&i64::from(*row)))
                    .count()
            })
            .sum();
        let recall = hits as f64 / (queries.rows * K) as f64;
        let qps = queries.rows as f64 / seconds;
        println!("{ef:>5} {recall:>10.4} {qps:>10.0} {:>9.1}", 1e6 / qps);
    }
}

/// Recall against exact filtered search and QPS with `row % modulus == 0` filters.
fn filtered(index: &Hnsw, base: &Matrix, queries: &Matrix) {
    let queries: Vec<&[f32]> = (0..queries.rows.min(200)).map(|q| queries.row(q)).collect();
    for modulus in [2u32, 10, 100] {
        let accept = |row: u32| row.is_multiple_of(modulus);
        let truth: Vec<Vec<(u32, f32)>> = queries
            .iter()
            .map(|q| flat::search(q, &base.data, base.cols, Metric::Dot, K, accept))
            .collect();
        for ef in [64, 128, 256] {
            let started = Instant::now();
            let results: Vec<Vec<(u32, f32)>> = queries
                .iter()
                .map(|q| index.search(&base.data, q, K, ef, Some(&accept)))
                .collect();
            let qps = queries.len() as f64 / started.elapsed().as_secs_f64();
            let hits: usize = results
                .iter()
                .zip(&truth)
                .map(|(got, want)| {
                    got.iter()
                        .filter(|g| want.iter().any(|w| w.0 == g.0))
                        .count()
                })
                .sum();
            let recall = hits as f64 / (queries.len() * K) as f64;
            println!("filter 1/{modulus:<3} ef {ef:>3}: recall@10 {recall:.4}, {qps:.0} QPS");
        }
    }
}

/// The index with M=16, ef_construct=200, timed.
fn build(base: &Matrix, threads: usize) -> Hnsw {
    let params = HnswParams {
        m: 16,
        ef_construct: 200,
        seed: 1,
    };
    let started = Instant::now();
    let index = Hnsw::build(&base.data, base.cols, Metric::Dot, params, threads);
    println!(
        "build: {:.1} s with {threads} threads, graph {:.1} MiB",
        started.elapsed().as_secs_f64(),
        index.memory_bytes() as f64 / (1 << 20) as f64
    );
    index
}

/// Scales every row to unit length (zero rows stay zero).
fn normalised(mut m: Matrix) -> Matrix {
    if m.cols > 0 {
        for row in m.data.chunks_exact_mut(m.cols) {
            let norm = distance::norm(row);
            if norm > 0.0 {
                row.iter_mut().for_each(|x| *x /= norm);
            }
        }
    }
    m
}
