//! `azimuth serve`: settings from flags, `AZIMUTH_*` environment variables, or a JSON config
//! file (flags and environment win over the file).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use azimuth_server::ServerConfig;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "AZIMUTH_HOST")]
    pub host: Option<String>,
    /// REST port (Qdrant's default is 6333).
    #[arg(long, env = "AZIMUTH_PORT")]
    pub port: Option<u16>,
    /// Also listen on this port (same APIs), for Chroma clients that assume 8000.
    #[arg(long, env = "AZIMUTH_CHROMA_PORT")]
    pub chroma_port: Option<u16>,
    /// Port of Qdrant's gRPC API (default: the REST port + 1, i.e. 6334, used if free;
    /// 0 turns gRPC off).
    #[arg(long, env = "AZIMUTH_GRPC_PORT")]
    pub grpc_port: Option<u16>,
    /// Full-access API key (header `api-key` or `Authorization: Bearer`).
    #[arg(long, env = "AZIMUTH_API_KEY")]
    pub api_key: Option<String>,
    /// Read-only API key.
    #[arg(long, env = "AZIMUTH_READ_ONLY_API_KEY")]
    pub read_only_api_key: Option<String>,
    /// Largest request body in bytes.
    #[arg(long, env = "AZIMUTH_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// PEM certificate chain; with --tls-key, serve HTTPS.
    #[arg(long, env = "AZIMUTH_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "AZIMUTH_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Restore this full snapshot (from `POST /snapshots`) before serving: its collections
    /// replace those of the same name, its aliases and Chroma catalog are put back.
    #[arg(long, env = "AZIMUTH_STORAGE_SNAPSHOT")]
    pub storage_snapshot: Option<PathBuf>,
    /// JSON file with any of: host, port, chroma_port, grpc_port, api_key, read_only_api_key, max_body_bytes,
    /// max_batch, tls_cert, tls_key, data_dir.
    #[arg(long, env = "AZIMUTH_CONFIG")]
    pub config: Option<PathBuf>,
}

fn from_file(path: &Path, cfg: &mut ServerConfig) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let obj = v
        .as_object()
        .context("the config file must hold a JSON object")?;
    for (k, val) in obj {
        let bad = || anyhow::anyhow!("config {k}: unexpected value {val}");
        match k.as_str() {
            "host" => cfg.host = val.as_str().ok_or_else(bad)?.to_string(),
            "port" => {
                cfg.port = val
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(bad)?
            }
            "api_key" => cfg.api_key = Some(val.as_str().ok_or_else(bad)?.to_string()),
            "read_only_api_key" => {
                cfg.read_only_api_key = Some(val.as_str().ok_or_else(bad)?.to_string())
            }
            "max_body_bytes" => cfg.max_body_bytes = val.as_u64().ok_or_else(bad)? as usize,
            "max_batch" => cfg.max_batch = val.as_u64().ok_or_else(bad)? as usize,
            "tls_cert" => cfg.tls_cert = Some(PathBuf::from(val.as_str().ok_or_else(bad)?)),
            "tls_key" => cfg.tls_key = Some(PathBuf::from(val.as_str().ok_or_else(bad)?)),
            "data_dir" => cfg.data_dir = PathBuf::from(val.as_str().ok_or_else(bad)?),
            "chroma_port" => {
                cfg.chroma_port = Some(
                    val.as_u64()
                        .and_then(|p| u16::try_from(p).ok())
                        .ok_or_else(bad)?,
                )
            }
            "grpc_port" => {
                cfg.grpc_port = Some(
                    val.as_u64()
                        .and_then(|p| u16::try_from(p).ok())
                        .ok_or_else(bad)?,
                )
            }
            other => anyhow::bail!("config file: unknown setting {other:?}"),
        }
    }
    Ok(())
}

pub fn run(data_dir: &Path, data_dir_given: bool, a: &ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AZIMUTH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut cfg = ServerConfig {
        data_dir: data_dir.to_path_buf(),
        ..Default::default()
    };
    if let Some(path) = &a.config {
        from_file(path, &mut cfg)?;
        if data_dir_given {
            cfg.data_dir = data_dir.to_path_buf();
        }
    }
    if let Some(h) = &a.host {
        cfg.host = h.clone();
    }
    if let Some(p) = a.port {
        cfg.port = p;
    }
    if a.chroma_port.is_some() {
        cfg.chroma_port = a.chroma_port;
    }
    if a.grpc_port.is_some() {
        cfg.grpc_port = a.grpc_port;
    }
    if a.api_key.is_some() {
        cfg.api_key = a.api_key.clone();
    }
    if a.read_only_api_key.is_some() {
        cfg.read_only_api_key = a.read_only_api_key.clone();
    }
    if a.tls_cert.is_some() {
        cfg.tls_cert = a.tls_cert.clone();
        cfg.tls_key = a.tls_key.clone();
    }
    if let Some(m) = a.max_body_bytes {
        cfg.max_body_bytes = m;
    }
    cfg.storage_snapshot = a.storage_snapshot.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(azimuth_server::run(cfg))
        .map_err(|e| anyhow::anyhow!("{e}"))
}
