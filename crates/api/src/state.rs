use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use metrics_exporter_prometheus::PrometheusHandle;
use sb_realtime::{ConnectionCaps, Hub};

use crate::rate_limit::{LoginLimits, VisitorLimits, VisitorQuotas};

/// The API's share of the server configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The origin browsers see (`https://support.example.com`); when unset, the `Host` header
    /// stands in for it in the CSRF origin check.
    pub public_origin: Option<String>,
    /// Adds `Secure` to cookies. Defaults to true when the public origin is https.
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    pub max_body_bytes: usize,
    pub login_attempts_per_minute_per_ip: u32,
    pub login_attempts_per_minute_per_account: u32,
    pub visitor_conversations_per_minute_per_ip: u32,
    pub visitor_messages_per_minute_per_conversation: u32,
    pub visitor_conversations_per_minute_per_widget: u32,
    pub visitor_messages_per_minute_per_widget: u32,
    pub realtime_connections_per_ip: usize,
    pub realtime_connections_per_tenant: usize,
    /// Seconds between pings on realtime connections; a connection silent for three is closed.
    pub realtime_heartbeat: Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Sends password-reset and invitation links; `None`: this server sends no e-mail.
    pub mailer: Option<Arc<dyn sb_engine::accounts::Mailer>>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            public_origin: None,
            secure_cookies: false,
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            max_body_bytes: 1024 * 1024,
            login_attempts_per_minute_per_ip: 20,
            login_attempts_per_minute_per_account: 10,
            visitor_conversations_per_minute_per_ip: 20,
            visitor_messages_per_minute_per_conversation: 30,
            visitor_conversations_per_minute_per_widget: 600,
            visitor_messages_per_minute_per_widget: 6000,
            realtime_connections_per_ip: 50,
            realtime_connections_per_tenant: 5000,
            realtime_heartbeat: Duration::from_secs(20),
            trusted_proxies: Vec::new(),
            mailer: None,
        }
    }
}

/// What every handler shares: the application's services and the API's own machinery.
pub struct Shared {
    pub services: sb_engine::Services,
    pub hub: Arc<Hub>,
    pub connection_caps: ConnectionCaps,
    pub config: ApiConfig,
    pub login_limits: LoginLimits,
    pub visitor_limits: VisitorLimits,
    /// Renders `/metrics`; absent when metrics are disabled.
    pub metrics: Option<PrometheusHandle>,
}

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(
        services: sb_engine::Services,
        hub: Arc<Hub>,
        config: ApiConfig,
        metrics: Option<PrometheusHandle>,
    ) -> Self {
        let connection_caps = ConnectionCaps::new(
            config.realtime_connections_per_ip,
            config.realtime_connections_per_tenant,
        );
        let login_limits = LoginLimits::new(
            config.login_attempts_per_minute_per_ip,
            config.login_attempts_per_minute_per_account,
        );
        let visitor_limits = VisitorLimits::new(&VisitorQuotas {
            starts_per_ip: config.visitor_conversations_per_minute_per_ip,
            messages_per_conversation: config.visitor_messages_per_minute_per_conversation,
            starts_per_widget: config.visitor_conversations_per_minute_per_widget,
            messages_per_widget: config.visitor_messages_per_minute_per_widget,
        });
        Self(Arc::new(Shared {
            services,
            hub,
            connection_caps,
            config,
            login_limits,
            visitor_limits,
            metrics,
        }))
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Handlers name the service they use: `state.conversations.close(…)`.
impl Deref for Shared {
    type Target = sb_engine::Services;
    fn deref(&self) -> &sb_engine::Services {
        &self.services
    }
}
