//! Azimuth's HTTP server, as a library: the Qdrant REST API and the Chroma HTTP API v2 over
//! one [`Database`], in one router.
//!
//! Layers: `api/qdrant/` and `api/chroma/` each own their wire types (serde DTOs) and convert
//! them to engine calls; engine types never appear on the wire. `reply.rs` builds Qdrant's
//! response envelope and maps engine errors to Qdrant's status codes; `api/chroma/error.rs`
//! does the same for Chroma's error body. Engine calls are synchronous and run on tokio's
//! blocking pool.

mod api;
mod auth;
mod config;
mod precheck;
mod reply;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
pub use azimuth_engine::Database;
pub use config::ServerConfig;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub db: Arc<Database>,
    pub config: Arc<ServerConfig>,
}

/// The complete router (all APIs, auth, limits) over an open database.
pub fn app(db: Arc<Database>, config: ServerConfig) -> Router {
    let state = AppState {
        db,
        config: Arc::new(config),
    };
    let chroma = Arc::new(api::chroma::Chroma::new(state.db.clone()));
    api::qdrant::router(state.clone())
        .merge(api::chroma::router(&state, chroma))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::check,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.max_body_bytes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            precheck::check,
        ))
        .layer(axum::middleware::from_fn(reply::timed))
}

/// Opens the database and serves until SIGINT or SIGTERM; then stops accepting, finishes
/// in-flight requests and flushes every collection.
pub async fn run(config: ServerConfig) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let data_dir = config.data_dir.clone();
    let snapshot = config.storage_snapshot.clone();
    let db = tokio::task::spawn_blocking(move || -> Result<Database, Box<dyn std::error::Error + Send + Sync>> {
        let db = Database::open(&data_dir)?;
        if let Some(path) = snapshot {
            let file = std::fs::File::open(&path)
                .map_err(|e| format!("cannot read the storage snapshot {}: {e}", path.display()))?;
            let names = db
                .recover_full_snapshot(std::io::BufReader::new(file), None)
                .map_err(|e| format!("restoring {}: {e}", path.display()))?;
            tracing::info!(snapshot = %path.display(), collections = ?names, "storage snapshot restored");
        }
        Ok(db)
    })
    .await??;
    let db = Arc::new(db);
    let addr: SocketAddr = format!("{}:{}", config.host, config.port).parse()?;
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        (None, None) => None,
        _ => return Err("TLS needs both a certificate and a private key".into()),
    };
    let second: Option<SocketAddr> = match config.chroma_port {
        Some(p) if p != config.port => Some(format!("{}:{}", config.host, p).parse()?),
        _ => None,
    };
    let router = app(db.clone(), config.clone());
    let mut servers = Vec::new();
    for addr in std::iter::once(addr).chain(second) {
        let what = "the Qdrant REST API and the Chroma API (/api/v2)";
        servers.push(serve_on(addr, router.clone(), tls.clone(), &config, what).await?);
    }
    let grpc = api::qdrant_grpc::router(router, config.max_body_bytes);
    let grpc_what = "Qdrant's gRPC API";
    match config.grpc_port {
        Some(0) => {}
        Some(p) => {
            let addr: SocketAddr = format!("{}:{}", config.host, p).parse()?;
            servers.push(
                serve_on(addr, grpc, tls, &config, grpc_what)
                    .await
                    .map_err(|e| format!("cannot serve gRPC on port {p}: {e}"))?,
            );
        }
        None => match config.port.checked_add(1) {
            Some(p) if Some(p) != config.chroma_port => {
                let addr: SocketAddr = format!("{}:{}", config.host, p).parse()?;
                match serve_on(addr, grpc, tls, &config, grpc_what).await {
                    Ok(s) => servers.push(s),
                    Err(e) => {
                        tracing::warn!(port = p, error = %e, "gRPC API not served (set --grpc-port to choose its port, 0 to turn it off)")
                    }
                }
            }
            _ => tracing::warn!(
                "gRPC API not served: no free default port next to the REST port; set --grpc-port"
            ),
        },
    }
    for s in servers {
        s.await??;
    }
    tracing::info!("shutting down: flushing collections");
    tokio::task::spawn_blocking(move || db.flush()).await??;
    Ok(())
}

type Served = tokio::task::JoinHandle<std::io::Result<()>>;

/// Binds `addr` and serves `router` there (HTTPS with `tls`) until SIGINT or SIGTERM.
async fn serve_on(
    addr: SocketAddr,
    router: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    config: &ServerConfig,
    what: &'static str,
) -> Result<Served, Box<dyn std::error::Error + Send + Sync>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(address = %listener.local_addr()?, scheme, data_dir = %config.data_dir.display(), "azimuth serving {what}");
    Ok(tokio::spawn(async move {
        match tls {
            Some(acceptor) => {
                let listener = tls::TlsListener {
                    tcp: listener,
                    acceptor,
                };
                axum::serve(listener, router)
                    .with_graceful_shutdown(shutdown_signal())
                    .await
            }
            None => {
                use axum::serve::ListenerExt;
                let listener = listener.tap_io(no_delay);
                axum::serve(listener, router)
                    .with_graceful_shutdown(shutdown_signal())
                    .await
            }
        }
    }))
}

/// Turns Nagle's algorithm off on an accepted connection: a reply written in more than one
/// piece (HTTP/2 headers, data and trailers; a gRPC reply is all three) would otherwise wait
/// for the client's delayed acknowledgement, tens of milliseconds per request.
pub(crate) fn no_delay(tcp: &mut tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
