//! Server settings.

use std::path::PathBuf;

/// Everything `azimuth serve` can be told.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// A second port serving the same APIs (Chroma clients default to 8000).
    pub chroma_port: Option<u16>,
    /// Port of Qdrant's gRPC API: `None` = REST port + 1 (6334 by default, Qdrant's), taken
    /// if free (a warning otherwise); `Some(0)` = no gRPC; `Some(p)` = must bind `p`.
    pub grpc_port: Option<u16>,
    pub data_dir: PathBuf,
    /// Full-access key (header `api-key` or `Authorization: Bearer`); none = open server.
    pub api_key: Option<String>,
    /// Key that may only read.
    pub read_only_api_key: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most points in one upsert or retrieve, and most searches in one batch.
    pub max_batch: usize,
    /// PEM certificate chain and private key: serve HTTPS when both are given.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Version reported at `/` (qdrant-client warns unless major.minor is within one of its own).
    pub reported_version: String,
    /// A full snapshot archive to restore before serving (its collections replace those of
    /// the same name; its aliases and Chroma catalog are put back).
    pub storage_snapshot: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 6333,
            chroma_port: None,
            grpc_port: None,
            data_dir: PathBuf::from("./azimuth_data"),
            api_key: None,
            read_only_api_key: None,
            max_body_bytes: 64 << 20,
            max_batch: 100_000,
            tls_cert: None,
            tls_key: None,
            reported_version: "1.20.0".into(),
            storage_snapshot: None,
        }
    }
}
