//! The `switchboard` server as a library: `main` binds the configured address and calls
//! [`serve`]; tests bind port 0 and call the same function.

pub mod config;
pub mod telemetry;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sb_api::{ApiConfig, AppState};
use sb_secrets::{MasterKey, MasterKeySource};
use sb_store::Store;
use tokio::net::TcpListener;

use crate::config::{Backend, Config};

/// Connects to the configured database, applying migrations first when `migrate` is set.
pub async fn open_store(config: &Config, migrate: bool) -> anyhow::Result<Arc<dyn Store>> {
    let url = &config.database.url;
    let store: Arc<dyn Store> = match config.backend()? {
        Backend::Sqlite { .. } => {
            let options = sb_store_sqlite::SqliteOptions {
                max_connections: config.database.max_connections,
                ..Default::default()
            };
            let store = sb_store_sqlite::connect(url, &options)
                .await
                .context("opening SQLite")?;
            if migrate {
                sb_store_sqlite::migrate(&store)
                    .await
                    .context("migrating SQLite")?;
            }
            Arc::new(store)
        }
        Backend::Postgres => {
            let options = sb_store_postgres::PostgresOptions {
                max_connections: config.database.max_connections,
                ..Default::default()
            };
            let store = sb_store_postgres::connect(url, &options)
                .await
                .context("connecting to PostgreSQL")?;
            if migrate {
                sb_store_postgres::migrate(&store)
                    .await
                    .context("migrating PostgreSQL")?;
            }
            Arc::new(store)
        }
    };
    Ok(store)
}

/// Loads the master key, generating it beside the SQLite file on first start.
pub fn load_master_key(config: &Config) -> anyhow::Result<MasterKey> {
    let path = config.master_key_path()?;
    let (key, source) = match config.backend()? {
        Backend::Sqlite { .. } if config.security.master_key_file.is_empty() => {
            MasterKey::load_or_generate(&path)?
        }
        _ => (MasterKey::load(&path)?, MasterKeySource::Loaded),
    };
    match source {
        MasterKeySource::Generated => tracing::warn!(
            path = %path.display(), key_id = key.id(),
            "generated a new master key; back it up: credentials cannot be decrypted without it"
        ),
        MasterKeySource::Loaded => tracing::info!(key_id = key.id(), "master key loaded"),
    }
    if MasterKey::is_readable_by_others(&path) {
        tracing::warn!(path = %path.display(), "the master key file is readable by other users; chmod 600 it");
    }
    Ok(key)
}

fn api_config(config: &Config) -> anyhow::Result<ApiConfig> {
    let public_origin = config.public_origin()?;
    Ok(ApiConfig {
        secure_cookies: public_origin
            .as_deref()
            .is_some_and(|o| o.starts_with("https://")),
        public_origin,
        session_ttl: Duration::from_secs(config.security.session_ttl_hours * 3600),
        max_body_bytes: config.server.max_body_bytes,
        login_attempts_per_minute_per_ip: config.security.login_attempts_per_minute_per_ip,
        login_attempts_per_minute_per_account: config
            .security
            .login_attempts_per_minute_per_account,
        trusted_proxies: config.trusted_proxies()?,
    })
}

/// Runs the server on `listener` until `shutdown` completes, then lets requests in flight finish
/// for up to `server.shutdown_grace_secs`.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = open_store(&config, config.database.auto_migrate).await?;
    // Loaded before accepting traffic, so a missing or malformed key stops the start.
    let _master_key = load_master_key(&config)?;
    let metrics = config.metrics.enabled.then(telemetry::metrics_handle);
    let state = AppState::new(store.clone(), api_config(&config)?, metrics);
    let housekeeping = tokio::spawn(sb_api::housekeeping(state.clone()));
    let app = sb_api::router(state);

    let ssrf_allow = config.ssrf_allow()?;
    if !ssrf_allow.is_empty() {
        tracing::info!(entries = ?config.security.ssrf_allow, "operator SSRF exceptions in force");
    }
    let address = listener.local_addr()?;
    tracing::info!(%address, store = store.backend(), "switchboard is listening on http://{address}");

    let stopping = Arc::new(tokio::sync::Notify::new());
    let stopping_signal = stopping.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing requests in flight");
        stopping_signal.notify_one();
    });
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let result = tokio::select! {
        result = server => result.context("server failed"),
        () = async { stopping.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!("requests still running after the grace period were cut off");
            Ok(())
        }
    };
    housekeeping.abort();
    tracing::info!("stopped");
    result
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => drop(signal.recv().await),
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
}
