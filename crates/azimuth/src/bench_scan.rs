//! `azimuth bench-scan`: single-thread exact-scan throughput for each SIMD level.
//!
//! Fills a random matrix of unit rows, then for each level the CPU supports repeatedly scores
//! every row against one query (`Kernels::scores_into`, dot product) and selects the top 10,
//! for about `seconds` per level. Throughput counts the vector bytes read per scan.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use azimuth_engine::{CollectionConfig, Database, Distance, Payload, PointStruct, SearchRequest};
use azimuth_index::distance::{Kernels, Metric, SimdLevel};
use azimuth_index::flat::TopK;

const TOP_K: usize = 10;

/// Benchmark parameters.
#[derive(Clone, Debug)]
pub struct Args {
    /// Vector dimensions.
    pub dim: usize,
    /// Number of vectors scanned per pass.
    pub rows: usize,
    /// Approximate time spent per SIMD level.
    pub seconds: f64,
    /// Seed for the generated data.
    pub seed: u64,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            dim: 384,
            rows: 200_000,
            seconds: 3.0,
            seed: 1,
        }
    }
}

/// Runs the benchmark and prints a plain-text table to stdout.
pub fn run(args: &Args) -> Result<()> {
    ensure!(
        args.dim > 0 && args.rows > 0,
        "dim and rows must be positive"
    );
    ensure!(u32::try_from(args.rows).is_ok(), "rows must fit in u32");
    let floats = args.rows.checked_mul(args.dim).context("too large")?;
    let budget = Duration::try_from_secs_f64(args.seconds).context("invalid seconds")?;
    let scan_bytes = floats as f64 * 4.0;

    let mut rng = SplitMix64(args.seed);
    let data = unit_rows(&mut rng, args.rows, args.dim);
    let query = unit_rows(&mut rng, 1, args.dim);

    println!(
        "{:<8} {:>6} {:>10} {:>7} {:>8} {:>9}",
        "level", "dims", "rows", "scans", "GB/s", "ns/vec"
    );
    for level in SimdLevel::ALL {
        let Some(kernels) = Kernels::for_level(level) else {
            println!("{:<8} (not supported by this CPU)", level.name());
            continue;
        };
        let (scans, elapsed) = time_scans(&kernels, &query, &data, args.dim, budget);
        let secs = elapsed.as_secs_f64();
        println!(
            "{:<8} {:>6} {:>10} {:>7} {:>8.2} {:>9.2}",
            level.name(),
            args.dim,
            args.rows,
            scans,
            scan_bytes * scans as f64 / secs / 1e9,
            secs * 1e9 / (scans as f64 * args.rows as f64),
        );
    }
    let (scans, elapsed) = time_engine(&query, &data, args.dim, budget)?;
    let secs = elapsed.as_secs_f64();
    println!(
        "{:<8} {:>6} {:>10} {:>7} {:>8.2} {:>9.2}",
        "engine",
        args.dim,
        args.rows,
        scans,
        scan_bytes * scans as f64 / secs / 1e9,
        secs * 1e9 / (scans as f64 * args.rows as f64),
    );
    println!("{}", cache_note(scan_bytes));
    println!(
        "engine = Collection::search (Cosine, k=10) on an in-memory collection, best SIMD level"
    );
    Ok(())
}

/// The same scan through the engine: a Cosine collection searched with `Collection::search`.
fn time_engine(
    query: &[f32],
    data: &[f32],
    dim: usize,
    budget: Duration,
) -> Result<(u64, Duration)> {
    let db = Database::in_memory();
    let col = db.create_collection("bench", CollectionConfig::single(dim, Distance::Cosine))?;
    for (start, chunk) in data.chunks(dim * 10_000).enumerate() {
        let points = (0u64..)
            .zip(chunk.chunks_exact(dim))
            .map(|(i, v)| PointStruct::new(start as u64 * 10_000 + i, v.to_vec(), Payload::new()))
            .collect();
        col.upsert(points, false)?;
    }
    let req = SearchRequest::dense(query.to_vec(), TOP_K);
    let start = Instant::now();
    let mut scans = 0u64;
    loop {
        black_box(col.search(&req)?);
        scans += 1;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return Ok((scans, elapsed));
        }
    }
}

/// Scans until `budget` has passed (at least once); returns the scan count and time taken.
fn time_scans(
    kernels: &Kernels,
    query: &[f32],
    data: &[f32],
    dim: usize,
    budget: Duration,
) -> (u64, Duration) {
    let mut scores = vec![0.0f32; data.len() / dim];
    let start = Instant::now();
    let mut scans = 0u64;
    loop {
        kernels.scores_into(query, data, dim, Metric::Dot, &mut scores);
        let mut top = TopK::new(TOP_K, Metric::Dot.higher_is_better());
        for (row, &score) in (0u32..).zip(&scores) {
            top.push(row, score);
        }
        black_box(top.into_sorted_vec());
        scans += 1;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return (scans, elapsed);
        }
    }
}

/// `rows` random vectors of length `dim`, each scaled to unit length.
fn unit_rows(rng: &mut SplitMix64, rows: usize, dim: usize) -> Vec<f32> {
    let mut data: Vec<f32> = (0..rows * dim).map(|_| rng.next_f32() - 0.5).collect();
    for row in data.chunks_exact_mut(dim) {
        let norm = azimuth_index::distance::norm(row);
        if norm > 0.0 {
            row.iter_mut().for_each(|x| *x /= norm);
        }
    }
    data
}

/// One line comparing the matrix size with the largest CPU cache.
fn cache_note(scan_bytes: f64) -> String {
    let mib = |bytes: f64| format!("{:.1} MiB", bytes / f64::from(1 << 20));
    let data = mib(scan_bytes);
    match largest_cache_bytes() {
        Some(cache) if scan_bytes > cache => {
            format!(
                "data set {data} > largest CPU cache {}: streams from memory",
                mib(cache)
            )
        }
        Some(cache) => format!("data set {data} fits in largest CPU cache {}", mib(cache)),
        None => format!("data set {data}; CPU cache size unknown"),
    }
}

/// Largest cache reported by Linux sysfs for CPU 0, in bytes.
fn largest_cache_bytes() -> Option<f64> {
    (0..8)
        .filter_map(|i| {
            let path = format!("/sys/devices/system/cpu/cpu0/cache/index{i}/size");
            let text = std::fs::read_to_string(path).ok()?;
            let kib: u64 = text.trim().strip_suffix('K')?.parse().ok()?;
            Some(kib as f64 * 1024.0)
        })
        .reduce(f64::max)
}

/// Tiny deterministic PRNG (SplitMix64); quality is ample for benchmark data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE5_E4B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}
