//! Layered configuration: embedded defaults -> file -> environment -> flags, validated at start
//! so that a bad value is reported with its key before anything else happens.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use sb_net::{AllowEntry, NetConfig};
use sb_secrets::Secret;
use serde::{Deserialize, Serialize};

/// The commented defaults, printed by `switchboard default-config`.
pub const DEFAULT_CONFIG: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub bus: BusConfig,
    pub security: SecurityConfig,
    pub outbound: OutboundConfig,
    pub ai: AiConfig,
    pub kb: KbConfig,
    pub realtime: RealtimeConfig,
    pub webhooks: WebhooksConfig,
    pub smtp: SmtpConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub demo: DemoConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub public_url: String,
    pub trusted_proxies: Vec<String>,
    pub max_body_bytes: usize,
    pub shutdown_grace_secs: u64,
    pub header_read_timeout_secs: u64,
    pub body_read_timeout_secs: u64,
    pub max_connections_per_ip: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
    pub auto_migrate: bool,
}

/// Outgoing e-mail (password-reset and invitation links). Empty host: no e-mail.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// `starttls`, `tls` or `none`.
    pub tls: String,
    pub username: String,
    pub password: String,
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &"***")
            .field("from", &self.from)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusConfig {
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    pub master_key_file: String,
    pub previous_master_key_files: Vec<String>,
    pub ssrf_allow: Vec<String>,
    pub session_ttl_hours: u64,
    pub login_attempts_per_minute_per_ip: u32,
    pub login_attempts_per_minute_per_account: u32,
    pub visitor_conversations_per_minute_per_ip: u32,
    pub visitor_messages_per_minute_per_conversation: u32,
    pub visitor_conversations_per_minute_per_widget: u32,
    pub visitor_messages_per_minute_per_widget: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    pub timeout_ms: u64,
    /// Backend calls (`CALL_API`, AI tools) per tenant per minute on each node; 0: no limit.
    pub calls_per_minute_per_tenant: u32,
    /// Seconds a proposed action may be agreed to before it expires.
    pub action_lifetime_s: u32,
    pub max_response_bytes: usize,
    pub max_redirects: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiConfig {
    pub provider: String,
    pub base_url: String,
    pub api_key: Secret<String>,
    pub model: String,
    pub timeout_ms: u64,
    pub max_tool_rounds: usize,
    pub history_messages: u32,
    pub embedding_model: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbConfig {
    pub index_dir: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealtimeConfig {
    pub max_connections_per_ip: usize,
    pub max_connections_per_tenant: usize,
    pub heartbeat_secs: u64,
}

/// Outbound webhooks: how this node's worker delivers (see docs/webhooks.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    pub poll_interval_ms: u64,
    pub retry_delays_ms: Vec<u64>,
    pub retry_window_secs: u64,
    pub timeout_ms: u64,
    pub max_in_flight: usize,
    pub max_in_flight_per_webhook: usize,
    pub max_in_flight_per_tenant: usize,
}

/// The hard ceiling on any call to a tenant's backend.
pub const MAX_OUTBOUND_TIMEOUT_MS: u64 = 5000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    pub enabled: bool,
}

/// A configuration problem, naming the key at fault.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { key: key.to_owned(), message: message.into() }
}

/// Which storage backend a database URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite { file: PathBuf },
    Postgres,
}

/// Command-line values that override everything else. `None` leaves the lower layers alone.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database: Option<String>,
    pub bus: Option<String>,
    pub master_key_file: Option<String>,
    /// Replaces `security.ssrf_allow` when non-empty.
    pub ssrf_allow: Vec<String>,
    /// `--demo`: seeds and serves the demo (only ever switches it on).
    pub demo: bool,
}

impl Overrides {
    fn as_figment(&self) -> Figment {
        let mut figment = Figment::new();
        let pairs = [
            ("server.listen", &self.listen),
            ("database.url", &self.database),
            ("bus.url", &self.bus),
            ("security.master_key_file", &self.master_key_file),
        ];
        for (key, value) in pairs {
            if let Some(value) = value {
                figment = figment.merge(Serialized::default(key, value));
            }
        }
        if !self.ssrf_allow.is_empty() {
            figment = figment.merge(Serialized::default("security.ssrf_allow", &self.ssrf_allow));
        }
        if self.demo {
            figment = figment.merge(Serialized::default("demo.enabled", true));
        }
        figment
    }
}

impl Config {
    /// Loads and validates the configuration from all layers.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_CONFIG));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(invalid(
                    "--config",
                    format!("{} is not a readable file", file.display()),
                ));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        // SWITCHBOARD_SECTION__KEY for every setting. Single-underscore names belong to flags,
        // which clap reads itself, so they are left out here.
        let nested =
            Env::prefixed("SWITCHBOARD_").filter(|key| key.as_str().contains("__")).split("__");
        // The server-wide AI provider has short names of its own (SWITCHBOARD_AI_PROVIDER, …).
        let ai = Env::prefixed("SWITCHBOARD_AI_")
            // Keys keep the case of the environment here (they are lowercased later).
            .filter(|key| {
                ["provider", "base_url", "api_key", "model", "embedding_model"]
                    .iter()
                    .any(|k| key == *k)
            })
            .map(|key| format!("ai.{key}").into());
        let config: Config =
            figment.merge(nested).merge(ai).merge(overrides.as_figment()).extract().map_err(
                |err| {
                    let key = err.path.join(".");
                    let message = err.to_string();
                    invalid(if key.is_empty() { "config" } else { &key }, message)
                },
            )?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.backend()?;
        self.trusted_proxies()?;
        self.public_origin()?;
        self.ssrf_allow()?;
        let outbound = &self.outbound;
        if !(1..=MAX_OUTBOUND_TIMEOUT_MS).contains(&outbound.timeout_ms) {
            return Err(invalid("outbound.timeout_ms", "must be from 1 to 5000"));
        }
        if outbound.max_response_bytes < 1024 {
            return Err(invalid("outbound.max_response_bytes", "must be at least 1024"));
        }
        if outbound.max_redirects > 10 {
            return Err(invalid("outbound.max_redirects", "must be at most 10"));
        }
        for (key, secs) in [
            ("server.header_read_timeout_secs", self.server.header_read_timeout_secs),
            ("server.body_read_timeout_secs", self.server.body_read_timeout_secs),
        ] {
            if !(1..=3600).contains(&secs) {
                return Err(invalid(key, "must be from 1 to 3600 seconds"));
            }
        }
        self.validate_smtp()?;
        if self.server.max_body_bytes < 1024 {
            return Err(invalid("server.max_body_bytes", "must be at least 1024"));
        }
        if self.database.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        if self.security.session_ttl_hours == 0 {
            return Err(invalid("security.session_ttl_hours", "must be at least 1"));
        }
        if !self.bus.url.is_empty() && !self.bus.url.starts_with("nats://") {
            return Err(invalid(
                "bus.url",
                "must be a NATS server (nats://host:4222), or empty for the in-process bus",
            ));
        }
        if !self.ai.provider.is_empty() {
            self.ai
                .provider
                .parse::<sb_llm::ProviderKind>()
                .map_err(|why| invalid("ai.provider", why))?;
            if self.ai.model.trim().is_empty() {
                return Err(invalid("ai.model", "name the model the provider should use"));
            }
        }
        if !(1000..=120_000).contains(&self.ai.timeout_ms) {
            return Err(invalid("ai.timeout_ms", "must be from 1000 to 120000"));
        }
        if !(1..=300).contains(&self.realtime.heartbeat_secs) {
            return Err(invalid("realtime.heartbeat_secs", "must be from 1 to 300"));
        }
        if self.ai.max_tool_rounds > 10 {
            return Err(invalid("ai.max_tool_rounds", "must be at most 10"));
        }
        self.validate_webhooks()?;
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(invalid("log.level", "is not a valid level or filter"));
        }
        Ok(())
    }

    fn validate_smtp(&self) -> Result<(), ConfigError> {
        let smtp = &self.smtp;
        if smtp.host.is_empty() {
            return Ok(());
        }
        if !["starttls", "tls", "none"].contains(&smtp.tls.as_str()) {
            return Err(invalid("smtp.tls", "must be starttls, tls or none"));
        }
        if smtp.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "smtp.from",
                "must be an address such as \"Support <support@example.com>\"",
            ));
        }
        if self.public_origin()?.is_none() {
            return Err(invalid(
                "server.public_url",
                "must be set when smtp.host is: e-mailed links point there",
            ));
        }
        Ok(())
    }

    fn validate_webhooks(&self) -> Result<(), ConfigError> {
        let webhooks = &self.webhooks;
        if !(10..=60_000).contains(&webhooks.poll_interval_ms) {
            return Err(invalid("webhooks.poll_interval_ms", "must be from 10 to 60000"));
        }
        if webhooks.retry_delays_ms.is_empty() {
            return Err(invalid("webhooks.retry_delays_ms", "needs at least one delay"));
        }
        if let Some(i) =
            webhooks.retry_delays_ms.iter().position(|ms| !(1..=86_400_000).contains(ms))
        {
            return Err(invalid(
                &format!("webhooks.retry_delays_ms[{i}]"),
                "must be from 1 to 86400000 (24 hours)",
            ));
        }
        // Deliveries are kept 7 days: every retry must be over well before they are pruned.
        if !(1..=259_200).contains(&webhooks.retry_window_secs) {
            return Err(invalid("webhooks.retry_window_secs", "must be from 1 to 259200 (3 days)"));
        }
        if !(1..=MAX_OUTBOUND_TIMEOUT_MS).contains(&webhooks.timeout_ms) {
            return Err(invalid("webhooks.timeout_ms", "must be from 1 to 5000"));
        }
        if !(1..=256).contains(&webhooks.max_in_flight) {
            return Err(invalid("webhooks.max_in_flight", "must be from 1 to 256"));
        }
        if !(1..=webhooks.max_in_flight).contains(&webhooks.max_in_flight_per_webhook) {
            return Err(invalid(
                "webhooks.max_in_flight_per_webhook",
                "must be from 1 to webhooks.max_in_flight",
            ));
        }
        if !(1..=webhooks.max_in_flight).contains(&webhooks.max_in_flight_per_tenant) {
            return Err(invalid(
                "webhooks.max_in_flight_per_tenant",
                "must be from 1 to webhooks.max_in_flight",
            ));
        }
        Ok(())
    }

    /// How this node delivers webhooks.
    pub fn webhook_settings(&self) -> sb_engine::webhooks::WebhookSettings {
        let webhooks = &self.webhooks;
        sb_engine::webhooks::WebhookSettings {
            poll_interval: Duration::from_millis(webhooks.poll_interval_ms),
            retry_delays: webhooks
                .retry_delays_ms
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
            retry_window: Duration::from_secs(webhooks.retry_window_secs),
            // The outbound client's ceiling applies as well.
            timeout: Duration::from_millis(webhooks.timeout_ms.min(self.outbound.timeout_ms)),
            max_in_flight: webhooks.max_in_flight,
            max_in_flight_per_webhook: webhooks.max_in_flight_per_webhook,
            max_in_flight_per_tenant: webhooks.max_in_flight_per_tenant,
        }
    }

    /// The backend selected by `database.url`; any scheme other than sqlite or postgres is refused.
    pub fn backend(&self) -> Result<Backend, ConfigError> {
        let url = self.database.url.trim();
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let file = path.split('?').next().unwrap_or_default();
            if file.is_empty() {
                return Err(invalid(
                    "database.url",
                    "a sqlite URL needs a file path: sqlite://./data/switchboard.db",
                ));
            }
            return Ok(Backend::Sqlite { file: PathBuf::from(file) });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres);
        }
        let scheme = url.split("://").next().unwrap_or(url);
        Err(invalid(
            "database.url",
            format!("unsupported database \"{scheme}\": use sqlite://PATH or postgres://…"),
        ))
    }

    pub fn trusted_proxies(&self) -> Result<Vec<IpNet>, ConfigError> {
        self.server
            .trusted_proxies
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        invalid(
                            &format!("server.trusted_proxies[{i}]"),
                            format!("\"{entry}\" is not an IP address or CIDR range"),
                        )
                    })
            })
            .collect()
    }

    pub fn ssrf_allow(&self) -> Result<Vec<AllowEntry>, ConfigError> {
        self.security
            .ssrf_allow
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                entry.parse().map_err(|why| invalid(&format!("security.ssrf_allow[{i}]"), why))
            })
            .collect()
    }

    /// Settings for the outbound client that tenants' calls go through.
    pub fn net_config(&self) -> NetConfig {
        NetConfig {
            max_timeout: Duration::from_millis(self.outbound.timeout_ms),
            max_body_bytes: self.outbound.max_response_bytes,
            max_redirects: self.outbound.max_redirects,
            ..NetConfig::default()
        }
    }

    /// `scheme://host[:port]` of `server.public_url`, if set.
    pub fn public_origin(&self) -> Result<Option<String>, ConfigError> {
        let url = self.server.public_url.trim().trim_end_matches('/');
        if url.is_empty() {
            return Ok(None);
        }
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(scheme, rest)| matches!(*scheme, "http" | "https") && !rest.is_empty())
            .ok_or_else(|| invalid("server.public_url", "must be an http:// or https:// URL"))?;
        let authority = rest.split('/').next().unwrap_or(rest);
        Ok(Some(format!("{scheme}://{authority}").to_ascii_lowercase()))
    }

    /// Where the knowledge-base index lives; `None`: in memory.
    pub fn kb_index_dir(&self) -> Result<Option<PathBuf>, ConfigError> {
        if !self.kb.index_dir.is_empty() {
            return Ok(Some(PathBuf::from(&self.kb.index_dir)));
        }
        Ok(match self.backend()? {
            Backend::Sqlite { file } => {
                Some(file.parent().unwrap_or(Path::new(".")).join("kb-index"))
            }
            Backend::Postgres => None,
        })
    }

    /// Where the master key lives: the configured file, or `master.key` beside the SQLite file.
    pub fn master_key_path(&self) -> Result<PathBuf, ConfigError> {
        if !self.security.master_key_file.is_empty() {
            return Ok(PathBuf::from(&self.security.master_key_file));
        }
        match self.backend()? {
            Backend::Sqlite { file } => {
                Ok(file.parent().unwrap_or(Path::new(".")).join("master.key"))
            }
            Backend::Postgres => Err(invalid(
                "security.master_key_file",
                "is required with PostgreSQL: every node must use the same key file",
            )),
        }
    }
}
