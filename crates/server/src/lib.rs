//! The `switchboard` server as a library: `main` binds the configured address and calls
//! [`serve`]; tests bind port 0 and call the same function.

pub mod config;
pub mod demo;
mod listen;
mod mail;
pub mod telemetry;
pub mod test_cli;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sb_api::{ApiConfig, AppState};
use sb_connectors::Connector;
use sb_engine::ai::{Ai, AiConfig, ServerAi};
use sb_engine::kb::Knowledge;
use sb_engine::{Parts, Services};
use sb_net::{HttpClient, SsrfPolicy};
use sb_realtime::Hub;
use sb_secrets::{Keyring, MasterKey, MasterKeySource, Secret};
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
            let store = sb_store_sqlite::connect(url, &options).await.context("opening SQLite")?;
            if migrate {
                sb_store_sqlite::migrate(&store).await.context("migrating SQLite")?;
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
                sb_store_postgres::migrate(&store).await.context("migrating PostgreSQL")?;
            }
            Arc::new(store)
        }
    };
    Ok(store)
}

/// Copies the SQLite database to `target` while the server may be running.
pub async fn backup(config: &Config, target: &std::path::Path) -> anyhow::Result<()> {
    match config.backend()? {
        Backend::Sqlite { file } if !file.is_file() => {
            anyhow::bail!("there is no database at {}", file.display())
        }
        Backend::Sqlite { .. } => {
            let store = sb_store_sqlite::connect(&config.database.url, &Default::default())
                .await
                .context("opening SQLite")?;
            sb_store_sqlite::backup(&store, target).await.context("writing the backup")?;
            Ok(())
        }
        Backend::Postgres => anyhow::bail!(
            "back up PostgreSQL with its own tools, e.g. pg_dump --format=custom (see docs/operations.md)"
        ),
    }
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

/// The keyring: the current master key and any previous ones still sealing stored values.
pub fn load_keyring(config: &Config) -> anyhow::Result<Keyring> {
    let current = load_master_key(config)?;
    let previous = config
        .security
        .previous_master_key_files
        .iter()
        .map(|file| MasterKey::load(std::path::Path::new(file)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Keyring::new(current, previous))
}

/// The composition root: makes the keyring, the SSRF-safe outbound clients, the search index and
/// the model clients from the configuration, and the services from them.
pub fn build_services(
    config: &Config,
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
) -> anyhow::Result<Services> {
    // Loaded before accepting traffic, so a missing or malformed key stops the start.
    let keyring = Arc::new(load_keyring(config)?);
    let allow = config.ssrf_allow()?;
    if !allow.is_empty() {
        tracing::info!(entries = ?config.security.ssrf_allow, "operator SSRF exceptions in force");
    }
    let http = HttpClient::new(SsrfPolicy::new(allow.clone()), config.net_config())?;
    let connector = Arc::new(Connector::new(http));
    // Pages imported into the knowledge base may be larger than an API answer.
    let pages = sb_net::NetConfig { max_body_bytes: 4 * 1024 * 1024, ..config.net_config() };
    let index_dir = config.kb_index_dir()?;
    let knowledge_index = Knowledge::open(
        index_dir.as_deref(),
        HttpClient::new(SsrfPolicy::new(allow.clone()), pages)?,
    )?;
    Ok(Services::new(Parts {
        store,
        keyring,
        connector,
        // Conversation events reach the realtime hub, and through the webhooks' queue, webhooks.
        events: hub,
        ai: build_ai(config, allow)?,
        knowledge_index,
        outbound_calls_per_minute: config.outbound.calls_per_minute_per_tenant,
        action_lifetime: std::time::Duration::from_secs(config.outbound.action_lifetime_s.into()),
        scratch: Arc::new(ScratchFiles),
    }))
}

/// Test runs keep their sandbox conversations in a scratch SQLite file of their own, whatever
/// the main database: nothing of a run reaches it but the run's results.
pub struct ScratchFiles;

#[async_trait::async_trait]
impl sb_engine::suites::ScratchStores for ScratchFiles {
    async fn open(
        &self,
    ) -> Result<(Arc<dyn Store>, Box<dyn std::any::Any + Send>), sb_engine::StoreError> {
        let scratch = sb_store_sqlite::scratch().await?;
        let store: Arc<dyn Store> = scratch.store.clone();
        Ok((store, Box::new(scratch)))
    }
}

/// The AI service: the server-wide provider (if configured) and the clients providers use.
fn build_ai(config: &Config, allow: Vec<sb_net::AllowEntry>) -> anyhow::Result<Ai> {
    let timeout = Duration::from_millis(config.ai.timeout_ms);
    let net = sb_net::NetConfig {
        max_timeout: timeout,
        max_body_bytes: 4 * 1024 * 1024,
        ..config.net_config()
    };
    let server = if config.ai.provider.is_empty() {
        None
    } else {
        let key = config.ai.api_key.expose();
        Some(ServerAi {
            kind: config.ai.provider.parse().map_err(anyhow::Error::msg)?,
            base_url: config.ai.base_url.clone(),
            api_key: (!key.is_empty()).then(|| Secret::new(key.clone())),
            model: config.ai.model.clone(),
            embedding_model: config.ai.embedding_model.trim().to_owned(),
        })
    };
    match &server {
        Some(s) => {
            tracing::info!(provider = s.kind.as_str(), model = %s.model, "server-wide AI provider configured")
        }
        None => {
            tracing::info!("AI is off: no server-wide provider (tenants may configure their own)")
        }
    }
    Ok(Ai {
        config: AiConfig {
            server,
            timeout,
            max_tool_rounds: config.ai.max_tool_rounds,
            history_messages: config.ai.history_messages,
        },
        tenant_http: HttpClient::new(SsrfPolicy::new(allow), net.clone())?,
        operator_http: HttpClient::for_operator_endpoints(net)?,
    })
}

/// What `switchboard keys rotate` did.
#[derive(Debug, Default)]
pub struct RotationReport {
    pub resealed: usize,
    pub already_current: usize,
    /// Values no key of the keyring opens (their connections must be re-entered).
    pub unreadable: Vec<String>,
}

/// Re-seals every stored credential with the key in `new_key` (created if missing). Values are
/// replaced one by one, each only if unchanged meanwhile, so it is safe to run while serving.
pub async fn rotate_keys(
    config: &Config,
    new_key: &std::path::Path,
) -> anyhow::Result<RotationReport> {
    let store = open_store(config, false).await?;
    let (new_key, _) = MasterKey::load_or_generate(new_key)?;
    let old = load_keyring(config)?;
    let target = Keyring::new(new_key, Vec::new());
    let mut report = RotationReport::default();
    for value in store.list_sealed().await? {
        if !target.is_stale(&value.sealed) {
            report.already_current += 1;
            continue;
        }
        match old.open(value.tenant_id.as_str(), &value.sealed) {
            Ok(plaintext) => {
                let resealed = target.seal(value.tenant_id.as_str(), &plaintext);
                if store.replace_sealed(&value, &resealed).await? {
                    report.resealed += 1;
                }
            }
            Err(err) => report.unreadable.push(format!("{:?} {}: {err}", value.kind, value.id)),
        }
    }
    Ok(report)
}

fn api_config(config: &Config) -> anyhow::Result<ApiConfig> {
    let public_origin = config.public_origin()?;
    Ok(ApiConfig {
        secure_cookies: public_origin.as_deref().is_some_and(|o| o.starts_with("https://")),
        public_origin,
        session_ttl: Duration::from_secs(config.security.session_ttl_hours * 3600),
        max_body_bytes: config.server.max_body_bytes,
        login_attempts_per_minute_per_ip: config.security.login_attempts_per_minute_per_ip,
        login_attempts_per_minute_per_account: config
            .security
            .login_attempts_per_minute_per_account,
        visitor_conversations_per_minute_per_ip: config
            .security
            .visitor_conversations_per_minute_per_ip,
        visitor_messages_per_minute_per_conversation: config
            .security
            .visitor_messages_per_minute_per_conversation,
        visitor_conversations_per_minute_per_widget: config
            .security
            .visitor_conversations_per_minute_per_widget,
        visitor_messages_per_minute_per_widget: config
            .security
            .visitor_messages_per_minute_per_widget,
        realtime_connections_per_ip: config.realtime.max_connections_per_ip,
        realtime_connections_per_tenant: config.realtime.max_connections_per_tenant,
        realtime_heartbeat: Duration::from_secs(config.realtime.heartbeat_secs),
        trusted_proxies: config.trusted_proxies()?,
        mailer: match config.smtp.host.is_empty() {
            true => None,
            false => Some(Arc::new(mail::SmtpMailer::new(&config.smtp)?)),
        },
    })
}

/// Runs the server on `listener` until `shutdown` completes, then lets requests in flight finish
/// for up to `server.shutdown_grace_secs`.
pub async fn serve(
    mut config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let address = listener.local_addr()?;
    // Everything the server writes (database, master key, search index) is its user's alone,
    // also inside a data folder that already existed with looser permissions.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let demo_backend = match config.demo.enabled {
        true => Some(demo::backend::start().await.context("starting the demo backend")?),
        false => None,
    };
    if let Some((backend, _)) = &demo_backend {
        // Exactly the demo backend's own loopback port: it is reached like any tenant's backend,
        // through the operator's allowlist, and nothing of this server is opened to tenants.
        config.security.ssrf_allow.push(backend.to_string());
    }
    let store = open_store(&config, config.database.auto_migrate).await?;
    let hub = Hub::new();
    if !config.bus.url.is_empty() {
        sb_realtime::cluster::join(&config.bus.url, hub.clone())
            .await
            .with_context(|| format!("joining the realtime bus at {}", config.bus.url))?;
    }
    let services = build_services(&config, store.clone(), hub.clone())?;
    // Before anything can publish events (the demo, resumed messages), so none is missed.
    let webhooks = services.webhooks.start_webhooks(config.webhook_settings());
    let demo = match &demo_backend {
        Some((backend, _)) => {
            Some(demo::seed(&services, *backend).await.context("seeding the demo")?)
        }
        None => None,
    };
    let metrics = config.metrics.enabled.then(telemetry::metrics_handle);
    // The search index catches up with the database before the first search.
    services.knowledge.sync_index().await;
    services.knowledge.keep_index_in_sync(Duration::from_secs(2));
    let documents = services.knowledge.resume_documents().await?;
    if documents > 0 {
        tracing::info!(documents, "resuming knowledge-base documents left half processed");
    }
    let resumed = services.conversations.resume_unprocessed().await?;
    if resumed > 0 {
        tracing::info!(
            messages = resumed,
            "resuming visitor messages left unhandled by the last run"
        );
    }
    // Conversations waiting for their search words (from before search, or after `switchboard
    // search rebuild`) get them in the background: at start, then each minute.
    let backfill = services.conversations.clone();
    let searchable = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match backfill.backfill_search().await {
                Ok(0) => {}
                Ok(count) => tracing::info!(conversations = count, "made conversations searchable"),
                Err(err) => tracing::warn!(error = %err, "could not make conversations searchable"),
            }
        }
    });
    // MCP servers' tool lists, read again each quarter of an hour (tools added, changed or
    // dropped are seen without anyone pressing the button) — on a task of their own, so slow
    // servers never hold up housekeeping.
    let connections = services.connections.clone();
    let tool_lists = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(15 * 60));
        tick.tick().await;
        loop {
            tick.tick().await;
            match connections.refresh_all_tools().await {
                Ok(0) => {}
                Ok(read) => tracing::debug!(connections = read, "read MCP servers' tools"),
                Err(err) => tracing::warn!(error = %err, "could not read MCP servers' tools"),
            }
        }
    });
    // Replies to customers on channels (Telegram, …) go out from every node; a thread is
    // claimed before sending, so none goes out twice.
    let deliveries = tokio::spawn(services.channels.clone().run_deliveries());
    // E-mail channels' mailboxes and polling Telegram bots, each watched by one node at a time.
    let watchers = tokio::spawn(services.channels.clone().run_watchers());
    let services_channels = services.channels.clone();
    let state = AppState::new(services, hub, api_config(&config)?, metrics);
    let housekeeping = tokio::spawn(sb_api::housekeeping(state.clone()));
    let mut app = sb_api::router(state);
    tracing::info!(%address, store = store.backend(), "switchboard is listening on http://{address}");
    if let Some(demo) = demo {
        demo::announce(address, &demo.widget_id);
        app = app.merge(demo::page_router(demo.widget_id, demo.identity_secret));
    }

    let limits = listen::ConnectionLimits {
        header_read_timeout: Duration::from_secs(config.server.header_read_timeout_secs),
        body_read_timeout: Duration::from_secs(config.server.body_read_timeout_secs),
        max_per_ip: config.server.max_connections_per_ip,
        trusted_proxies: config.trusted_proxies()?,
        shutdown_grace: Duration::from_secs(config.server.shutdown_grace_secs),
    };
    listen::serve(listener, app, limits, shutdown).await;
    housekeeping.abort();
    searchable.abort();
    tool_lists.abort();
    deliveries.abort();
    watchers.abort();
    // Another node (or this one, restarted) takes over the mailboxes and bots at once.
    services_channels.stop_watching().await;
    if let Some((_, backend)) = demo_backend {
        backend.abort();
    }
    drop(webhooks);
    tracing::info!("stopped");
    Ok(())
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
