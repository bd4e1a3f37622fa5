//! `litmus-server`: reads its settings from the environment, opens the store, serves until
//! Ctrl-C or SIGTERM, then finishes the requests in flight.
//!
//! - `LITMUS_LISTEN` (default `127.0.0.1:8080`): the address to listen on;
//! - `LITMUS_DATA` (default `./litmus-data`): the embedded store's directory;
//! - `LITMUS_ADMIN_KEY`: the admin API key (a random one is made and logged when unset);
//! - `RUST_LOG` (default `info`): the log filter.

use std::path::PathBuf;

use litmus_server::state::AppState;
use litmus_server::store::sqlite::SqliteStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let listen = std::env::var("LITMUS_LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let data = PathBuf::from(std::env::var("LITMUS_DATA").unwrap_or_else(|_| "litmus-data".into()));
    let admin_key = match std::env::var("LITMUS_ADMIN_KEY") {
        Ok(k) if !k.is_empty() => k,
        _ => {
            let k = litmus_server::keys::random_hex(24)?;
            tracing::warn!(admin_key = %k, "LITMUS_ADMIN_KEY is not set: using this key until restart");
            k
        }
    };
    let store = SqliteStore::open(&data.join("litmus.sqlite3"))?;
    let state = AppState::new(store, admin_key);
    litmus_server::state::watch_versions(&state, std::time::Duration::from_millis(500));
    let app = litmus_server::app(state);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    tracing::info!(address = %listener.local_addr()?, data = %data.display(), "litmus-server listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
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
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
