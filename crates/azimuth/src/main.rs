//! The `azimuth` command. Glue only: argument parsing and printing around the engine.

mod bench;
mod bench_scan;
mod commands;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: a request allocates and frees many small and
/// medium blocks, and in a profile of the server under single-client queries glibc's malloc
/// (with `malloc_consolidate` near the top) took about a fifth of the server's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "azimuth", version, about = "Azimuth vector database")]
struct Cli {
    /// Database directory.
    #[arg(
        long,
        global = true,
        default_value = "./azimuth_data",
        env = "AZIMUTH_DATA_DIR"
    )]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Qdrant REST API on the data directory (default 127.0.0.1:6333).
    Serve(serve::ServeArgs),
    /// Import vectors from a .npy file (and payloads from JSON lines) into a collection,
    /// creating it when missing. Point ids are row numbers.
    Import(commands::ImportArgs),
    /// Exact top-k search.
    Search(commands::SearchArgs),
    /// List collections.
    List,
    /// Show a collection's configuration and counts.
    Info { collection: String },
    /// Count points, optionally matching a filter (Qdrant filter JSON).
    Count {
        collection: String,
        #[arg(long)]
        filter: Option<String>,
    },
    /// Print points in id order as JSON lines.
    Scroll(commands::ScrollArgs),
    /// Create a payload index (keyword, integer, float, bool, datetime, uuid, geo, text).
    Index {
        collection: String,
        field: String,
        r#type: String,
    },
    /// Delete a collection and its files.
    Drop { collection: String },
    /// Recall@k, QPS and latency of an index on .npy data (table, --json lines, --plot PNG).
    Bench(bench::BenchArgs),
    /// Measure single-thread exact-scan throughput per SIMD level.
    BenchScan {
        #[arg(long, default_value_t = 384)]
        dim: usize,
        #[arg(long, default_value_t = 200_000)]
        rows: usize,
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
}

fn main() -> anyhow::Result<()> {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let data_dir_given =
        matches.value_source("data_dir") != Some(clap::parser::ValueSource::DefaultValue);
    let cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches)?;
    match cli.command {
        Command::Serve(a) => serve::run(&cli.data_dir, data_dir_given, &a),
        Command::Import(a) => commands::import(&cli.data_dir, &a),
        Command::Search(a) => commands::search(&cli.data_dir, &a),
        Command::List => commands::list(&cli.data_dir),
        Command::Info { collection } => commands::info(&cli.data_dir, &collection),
        Command::Count { collection, filter } => {
            commands::count(&cli.data_dir, &collection, filter.as_deref())
        }
        Command::Scroll(a) => commands::scroll(&cli.data_dir, &a),
        Command::Index {
            collection,
            field,
            r#type,
        } => commands::index(&cli.data_dir, &collection, &field, &r#type),
        Command::Drop { collection } => commands::drop_collection(&cli.data_dir, &collection),
        Command::Bench(a) => bench::run(&a),
        Command::BenchScan { dim, rows, seconds } => bench_scan::run(&bench_scan::Args {
            dim,
            rows,
            seconds,
            ..Default::default()
        }),
    }
}
