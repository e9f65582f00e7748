//! Engine subcommands: import, search, list, info, count, scroll, index, drop.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use azimuth_engine::{
    CollectionConfig, Database, Distance, FieldSchema, Filter, Payload, PayloadSelector, PointId,
    PointStruct, ScrollRequest, SearchRequest, VectorSelector,
};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args)]
pub struct ImportArgs {
    pub collection: String,
    /// Vectors: .npy, float32 or float16, one row per point.
    #[arg(long)]
    pub vectors: PathBuf,
    /// Payloads: JSON lines (optionally .gz), line i belongs to row i.
    #[arg(long)]
    pub payload: Option<PathBuf>,
    /// Distance for a new collection: cosine, dot, euclid, manhattan.
    #[arg(long, default_value = "cosine")]
    pub metric: String,
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
}

#[derive(clap::Args)]
pub struct SearchArgs {
    pub collection: String,
    /// Query vector as a JSON array.
    #[arg(long, conflicts_with = "queries")]
    pub vector: Option<String>,
    /// Query vectors .npy; use row --row.
    #[arg(long)]
    pub queries: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub row: usize,
    #[arg(long, short, default_value_t = 10)]
    pub k: usize,
    /// Qdrant filter JSON, e.g. '{"must":[{"key":"section","match":{"value":"python"}}]}'.
    #[arg(long)]
    pub filter: Option<String>,
    /// Print payloads too.
    #[arg(long)]
    pub with_payload: bool,
}

#[derive(clap::Args)]
pub struct ScrollArgs {
    pub collection: String,
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[arg(long)]
    pub filter: Option<String>,
}

fn open(dir: &Path) -> Result<Database> {
    Database::open(dir).with_context(|| format!("opening the database in {}", dir.display()))
}

fn parse_filter(text: Option<&str>) -> Result<Option<Filter>> {
    let Some(text) = text else { return Ok(None) };
    let json: serde_json::Value =
        serde_json::from_str(text).context("--filter is not valid JSON")?;
    Ok(Some(Filter::from_json(&json)?))
}

pub fn parse_metric(s: &str) -> Result<Distance> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "cosine" => Distance::Cosine,
        "dot" => Distance::Dot,
        "euclid" | "l2" => Distance::Euclid,
        "manhattan" | "l1" => Distance::Manhattan,
        other => bail!("unknown metric {other:?}; use cosine, dot, euclid or manhattan"),
    })
}

fn read_npy(path: &Path) -> Result<azimuth_index::npy::Matrix> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    azimuth_index::npy::parse_f32(&bytes).with_context(|| format!("parsing {}", path.display()))
}

fn payload_lines(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    Ok(Box::new(BufReader::new(reader)))
}

pub fn import(dir: &Path, a: &ImportArgs) -> Result<()> {
    let m = read_npy(&a.vectors)?;
    let db = open(dir)?;
    let col = match db.collection(&a.collection) {
        Ok(c) => c,
        Err(_) => db.create_collection(
            &a.collection,
            CollectionConfig::single(m.cols, parse_metric(&a.metric)?),
        )?,
    };
    let mut lines = a.payload.as_deref().map(payload_lines).transpose()?;
    let bar = ProgressBar::new(m.rows as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} points  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let start = std::time::Instant::now();
    for chunk_start in (0..m.rows).step_by(a.batch.max(1)) {
        let end = (chunk_start + a.batch.max(1)).min(m.rows);
        let mut points = Vec::with_capacity(end - chunk_start);
        for i in chunk_start..end {
            let payload = match lines.as_mut() {
                Some(r) => next_payload(r.as_mut(), i)?,
                None => Payload::new(),
            };
            points.push(PointStruct::new(i as u64, m.row(i).to_vec(), payload));
        }
        col.upsert(points, true)?;
        bar.set_position(end as u64);
    }
    col.flush()?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "imported {} points into {:?} in {secs:.1} s ({:.0} points/s)",
        m.rows,
        a.collection,
        m.rows as f64 / secs
    );
    Ok(())
}

fn next_payload(r: &mut dyn BufRead, row: usize) -> Result<Payload> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        bail!("the payload file has fewer lines than the vector file (ran out at row {row})");
    }
    serde_json::from_str(&line)
        .with_context(|| format!("payload line {} is not a JSON object", row + 1))
}

pub fn search(dir: &Path, a: &SearchArgs) -> Result<()> {
    let query: Vec<f32> = match (&a.vector, &a.queries) {
        (Some(v), _) => {
            serde_json::from_str(v).context("--vector must be a JSON array of numbers")?
        }
        (None, Some(q)) => {
            let m = read_npy(q)?;
            if a.row >= m.rows {
                bail!(
                    "--row {} is out of range; {} has {} rows",
                    a.row,
                    q.display(),
                    m.rows
                );
            }
            m.row(a.row).to_vec()
        }
        (None, None) => bail!("give the query with --vector '[...]' or --queries FILE.npy --row N"),
    };
    let col = open(dir)?.collection(&a.collection)?;
    let mut req = SearchRequest::dense(query, a.k);
    req.filter = parse_filter(a.filter.as_deref())?;
    req.with_payload = if a.with_payload {
        PayloadSelector::All
    } else {
        PayloadSelector::None
    };
    let start = std::time::Instant::now();
    let hits = col.search(&req)?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    println!("{:>4}  {:>12}  {:>10}  payload", "rank", "id", "score");
    for (i, h) in hits.iter().enumerate() {
        let p = h
            .payload
            .as_ref()
            .map(|p| serde_json::Value::Object(p.clone()).to_string())
            .unwrap_or_default();
        println!(
            "{:>4}  {:>12}  {:>10.6}  {}",
            i + 1,
            h.id,
            h.score,
            truncate(&p, 100)
        );
    }
    println!("{} hits in {ms:.2} ms", hits.len());
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

pub fn list(dir: &Path) -> Result<()> {
    for name in open(dir)?.list_collections() {
        println!("{name}");
    }
    Ok(())
}

pub fn info(dir: &Path, name: &str) -> Result<()> {
    let info = open(dir)?.collection(name)?.info();
    println!("collection   {}", info.name);
    println!("points       {}", info.points_count);
    println!(
        "segments     {} ({} points not yet sealed)",
        info.segments_count, info.unsealed_points
    );
    for (vname, p) in &info.config.vectors {
        let label = if vname.is_empty() { "(unnamed)" } else { vname };
        println!("vector       {label}: {} dims, {:?}", p.size, p.distance);
    }
    for name in info.config.sparse_vectors.keys() {
        println!("sparse       {name}");
    }
    for idx in &info.payload_schema {
        println!(
            "index        {}: {} ({} points)",
            idx.key,
            idx.schema.name(),
            idx.points
        );
    }
    Ok(())
}

pub fn count(dir: &Path, name: &str, filter: Option<&str>) -> Result<()> {
    let col = open(dir)?.collection(name)?;
    println!("{}", col.count(parse_filter(filter)?.as_ref())?);
    Ok(())
}

pub fn scroll(dir: &Path, a: &ScrollArgs) -> Result<()> {
    let col = open(dir)?.collection(&a.collection)?;
    let req = ScrollRequest {
        limit: a.limit,
        filter: parse_filter(a.filter.as_deref())?,
        with_vectors: VectorSelector::None,
        ..Default::default()
    };
    for r in col.scroll(&req)?.points {
        let id = match &r.id {
            PointId::Num(n) => serde_json::json!(n),
            other => serde_json::json!(other.to_string()),
        };
        println!("{}", serde_json::json!({"id": id, "payload": r.payload}));
    }
    Ok(())
}

pub fn index(dir: &Path, name: &str, field: &str, kind: &str) -> Result<()> {
    let schema = FieldSchema::from_json(&serde_json::Value::String(kind.to_string()))?;
    open(dir)?
        .collection(name)?
        .create_payload_index(field, schema, true)?;
    println!("indexed {field} as {kind}");
    Ok(())
}

pub fn drop_collection(dir: &Path, name: &str) -> Result<()> {
    if !open(dir)?.delete_collection(name)? {
        bail!("collection {name:?} does not exist");
    }
    println!("deleted {name}");
    Ok(())
}
