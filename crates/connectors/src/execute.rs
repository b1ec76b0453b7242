//! The one path every call to a tenant's backend takes — from rules, from the AI's tools and
//! from the test buttons: build, authenticate, send under one deadline, retry only where safe,
//! refresh an expired OAuth token once, map the answer, and record the call.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sb_domain::{AuthConfig, Connection, Endpoint, MAX_TIMEOUT_MS};
use sb_net::{HttpClient, OutboundRequest, OutboundResponse, StatusCode, header};
use serde::Serialize;
use serde_json::Value;

use crate::agreed::Agreement;
use crate::auth::AuthSecrets;
use crate::cache::{self, CacheSlot, ResponseCache};
use crate::mapping::{self, JsonPath};
use crate::oauth::{TokenCache, TokenRequest};
use crate::scrub::scrub_outcome;
pub use crate::shown::RequestLine;
use crate::template::{Variables, value_text};
use crate::{CallError, request};

/// Bytes of the answer shown in test results.
pub const BODY_PREVIEW_BYTES: usize = 2048;
/// Largest answer that test results also carry parsed, as `body_json`.
pub const BODY_JSON_BYTES: usize = 64 * 1024;

/// A connection with its opened credentials.
#[derive(Clone, Copy)]
pub struct CallTarget<'a> {
    pub connection: &'a Connection,
    pub secrets: &'a AuthSecrets,
}

impl CallTarget<'_> {
    /// An OAuth access token is added to each attempt (and so shown as sent).
    pub(crate) fn uses_oauth(&self) -> bool {
        matches!(self.connection.auth, AuthConfig::Oauth2ClientCredentials { .. })
    }
}

/// What one call did, as endpoint tests and the trace show it.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct CallOutcome {
    pub ok: bool,
    pub request: Option<RequestLine>,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub attempts: u32,
    pub token_refreshed: bool,
    pub mapped: BTreeMap<String, Value>,
    pub missing: Vec<String>,
    pub notes: Vec<String>,
    pub body_preview: String,
    /// The whole answer, parsed, when it is JSON of at most 64 KiB — so the dashboard can
    /// preview a response mapping against it. Secrets are scrubbed as in `body_preview`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_json: Option<Value>,
    pub error: Option<CallError>,
    /// Whether the answer holds what was asked for: false for a status the endpoint expects
    /// besides 2xx (`expected_statuses`, such as 404 for "no such order"), a normal answer
    /// that found nothing; null when nothing answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<bool>,
    /// Answered from the cache (`cache_ttl_s`) without calling the backend.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
}

/// Where every call is recorded (conversation trace, endpoint statistics).
#[async_trait]
pub trait CallSink: Send + Sync {
    async fn record(&self, connection: &Connection, endpoint: &Endpoint, outcome: &CallOutcome);
}

/// A sink that records nothing.
pub struct NoSink;

#[async_trait]
impl CallSink for NoSink {
    async fn record(&self, _: &Connection, _: &Endpoint, _: &CallOutcome) {}
}

/// The outbound client and the OAuth token cache, shared by the whole process.
pub struct Connector {
    http: HttpClient,
    tokens: TokenCache,
    answers: ResponseCache,
    sessions: crate::mcp::Sessions,
}

pub(crate) struct Exchange {
    pub response: Result<OutboundResponse, CallError>,
    pub attempts: u32,
    pub token_refreshed: bool,
    /// The OAuth access tokens sent: a backend echoing one must not show it either.
    pub tokens_sent: Vec<String>,
}

fn token_request<'a>(target: CallTarget<'a>) -> Option<Result<TokenRequest<'a>, CallError>> {
    let AuthConfig::Oauth2ClientCredentials {
        token_url,
        client_id,
        scope,
        audience,
        client_auth,
        ..
    } = &target.connection.auth
    else {
        return None;
    };
    let Some(secret) = target.secrets.client_secret.as_ref() else {
        return Some(Err(CallError::new(
            "auth_failed",
            "the connection has no client_secret configured",
        )));
    };
    Some(Ok(TokenRequest {
        tenant_id: &target.connection.tenant_id,
        connection_id: &target.connection.id,
        token_url,
        client_id,
        client_secret: secret.expose(),
        scope: scope.as_deref(),
        audience: audience.as_deref(),
        client_auth: *client_auth,
    }))
}

/// Whether the API's answer says the access token expired (per the connection's `refresh_on`).
fn token_expired(auth: &AuthConfig, response: &OutboundResponse) -> bool {
    let AuthConfig::Oauth2ClientCredentials { refresh_on, .. } = auth else { return false };
    if refresh_on.statuses.contains(&response.status.as_u16()) {
        return true;
    }
    let Some(path) = refresh_on.body_path.as_deref().and_then(|p| JsonPath::parse(p).ok()) else {
        return false;
    };
    let Ok(body) = serde_json::from_slice::<Value>(&response.body) else { return false };
    path.extract(&body)
        .and_then(|v| value_text(&v))
        .is_some_and(|found| refresh_on.body_values.contains(&found))
}

/// How long to wait before the one retry, if a retry is allowed at all.
fn retry_delay(
    response: &Result<OutboundResponse, CallError>,
    remaining: Duration,
) -> Option<Duration> {
    let delay = match response {
        Err(err) if matches!(err.code, "connect_failed" | "dns_failed") => {
            Duration::from_millis(100)
        }
        Ok(r) if matches!(r.status.as_u16(), 502..=504) => Duration::from_millis(200),
        Ok(r) if r.status == StatusCode::TOO_MANY_REQUESTS => {
            let seconds =
                r.headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok()?;
            Duration::from_secs(seconds)
        }
        _ => return None,
    };
    // Only if the retry still has time for an answer after the wait.
    (delay + Duration::from_millis(100) < remaining).then_some(delay)
}

impl Connector {
    pub fn new(http: HttpClient) -> Self {
        Self {
            http,
            tokens: TokenCache::default(),
            answers: ResponseCache::default(),
            sessions: Default::default(),
        }
    }

    /// Forgets the answers kept for `tenant` on this node.
    pub fn forget_answers(&self, tenant: &sb_domain::TenantId) {
        self.answers.forget_tenant(tenant.as_str());
    }

    /// A cached answer to this call, when the endpoint caches and one is still fresh.
    pub fn cached(&self, slot: &CacheSlot) -> Option<CallOutcome> {
        self.answers.get(&slot.key)
    }

    /// Where this call's answer is cached, when the endpoint caches: worked out once per call
    /// for both the lookup and the keeping.
    pub fn cache_slot(
        &self,
        target: CallTarget<'_>,
        endpoint: &Endpoint,
        vars: &Variables,
    ) -> Option<CacheSlot> {
        let ttl = cache::cacheable(endpoint)?;
        let request = request::build(target.connection, target.secrets, endpoint, vars).ok()?;
        let key = cache::key(target.connection, endpoint, &request);
        Some(CacheSlot { key, ttl, tenant: endpoint.tenant_id.to_string() })
    }

    /// Keeps a successful answer in its slot for the endpoint's time to live.
    pub fn remember(&self, slot: CacheSlot, outcome: &CallOutcome) {
        self.answers.put(slot.key, &slot.tenant, slot.ttl, outcome);
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    pub(crate) fn sessions(&self) -> &crate::mcp::Sessions {
        &self.sessions
    }

    pub(crate) fn deadline(
        &self,
        connection: &Connection,
        endpoint: Option<&Endpoint>,
    ) -> Duration {
        let ms = [
            Some(connection.timeout_ms),
            endpoint.and_then(|e| e.timeout_ms),
            Some(MAX_TIMEOUT_MS),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(MAX_TIMEOUT_MS);
        Duration::from_millis(u64::from(ms)).min(self.http.config().max_timeout)
    }

    /// Sends `request`, adding an OAuth token if the connection uses one, refreshing it once if
    /// the API reports it expired, and retrying once when `retry_safe` and the failure allows.
    pub(crate) async fn exchange(
        &self,
        target: CallTarget<'_>,
        request: OutboundRequest,
        retry_safe: bool,
        deadline: Instant,
    ) -> Exchange {
        let oauth = token_request(target);
        let mut exchange = Exchange {
            response: Err(CallError::new("timeout", "no time left")),
            attempts: 0,
            token_refreshed: false,
            tokens_sent: Vec::new(),
        };
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                exchange.response = Err(CallError::new("timeout", "the call ran out of time"));
                return exchange;
            }
            let mut attempt = request.clone().timeout(remaining);
            let mut used_token = None;
            if let Some(oauth) = &oauth {
                let token = match oauth {
                    Ok(req) => self.tokens.token(&self.http, req, remaining).await,
                    Err(err) => Err(err.clone()),
                };
                match token.and_then(|t| {
                    Ok((
                        attempt.clone().secret_header(
                            "authorization",
                            &format!("Bearer {}", t.access_token.expose()),
                        )?,
                        t,
                    ))
                }) {
                    Ok((with_token, token)) => {
                        attempt = with_token;
                        exchange.tokens_sent.push(token.access_token.expose().to_string());
                        used_token = Some(token.access_token);
                    }
                    Err(err) => {
                        exchange.response = Err(err);
                        return exchange;
                    }
                }
            }
            exchange.attempts += 1;
            let response = self.http.send(attempt).await.map_err(CallError::from);
            if let (Ok(answer), Some(Ok(req)), Some(token)) = (&response, &oauth, &used_token)
                && token_expired(&target.connection.auth, answer)
            {
                if exchange.token_refreshed {
                    exchange.response = Err(CallError::new(
                        "auth_failed",
                        "the API still rejects a freshly fetched token",
                    ));
                    return exchange;
                }
                self.tokens.invalidate(req, token).await;
                exchange.token_refreshed = true;
                continue;
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            match retry_delay(&response, remaining) {
                Some(delay) if retry_safe && exchange.attempts < 2 => {
                    tokio::time::sleep(delay).await
                }
                _ => {
                    exchange.response = response;
                    return exchange;
                }
            }
        }
    }

    /// Calls `endpoint` with `vars`, maps the answer and records the call in `sink`.
    pub async fn execute(
        &self,
        target: CallTarget<'_>,
        endpoint: &Endpoint,
        vars: &Variables,
        sink: &dyn CallSink,
    ) -> CallOutcome {
        self.execute_as(target, endpoint, vars, sink, None).await
    }

    /// Calls `endpoint` as agreed to (safe actions): only if the request is still the one that
    /// was agreed to, and with its `Idempotency-Key`; otherwise nothing is sent and the outcome's
    /// error is `stale`.
    pub async fn execute_agreed(
        &self,
        target: CallTarget<'_>,
        endpoint: &Endpoint,
        vars: &Variables,
        sink: &dyn CallSink,
        agreement: Agreement<'_>,
    ) -> CallOutcome {
        self.execute_as(target, endpoint, vars, sink, Some(agreement)).await
    }

    async fn execute_as(
        &self,
        target: CallTarget<'_>,
        endpoint: &Endpoint,
        vars: &Variables,
        sink: &dyn CallSink,
        agreement: Option<Agreement<'_>>,
    ) -> CallOutcome {
        let started = Instant::now();
        let deadline = started + self.deadline(target.connection, Some(endpoint));
        let mut outcome = CallOutcome::default();
        let mut sent = Vec::new();
        let built = request::build(target.connection, target.secrets, endpoint, vars);
        let built = match agreement {
            Some(agreement) => built.and_then(|request| {
                crate::agreed::check(&agreement, target.connection, endpoint, request)
            }),
            None => built,
        };
        let retry_safe = endpoint.is_retry_safe();
        outcome.error = match built {
            Err(err) => Some(err),
            Ok(request) if endpoint.tool.is_some() => {
                outcome.request = Some(RequestLine::of(&request, target.uses_oauth()));
                let mut trail = crate::mcp_calls::Trail::default();
                let id = crate::mcp::CALL_ID;
                let answer =
                    self.in_session(target, request, id, retry_safe, deadline, &mut trail).await;
                (outcome.attempts, outcome.token_refreshed) =
                    (trail.attempts, trail.token_refreshed);
                outcome.status = trail.status;
                sent = trail.tokens_sent;
                answer
                    .and_then(|result| crate::mcp_calls::interpret(&result, endpoint, &mut outcome))
                    .err()
            }
            Ok(request) => {
                outcome.request = Some(RequestLine::of(&request, target.uses_oauth()));
                let exchange = self.exchange(target, request, retry_safe, deadline).await;
                outcome.attempts = exchange.attempts;
                outcome.token_refreshed = exchange.token_refreshed;
                sent = exchange.tokens_sent;
                match exchange.response {
                    Err(err) => Some(err),
                    Ok(response) => interpret(&response, endpoint, &mut outcome).err(),
                }
            }
        };
        sent.extend(target.secrets.sent_forms(&target.connection.auth));
        scrub_outcome(&mut outcome, &sent);
        outcome.ok = outcome.error.is_none();
        outcome.latency_ms = started.elapsed().as_millis() as u64;
        let code = outcome.error.as_ref().map_or("ok", |e| e.code);
        metrics::counter!("backend_calls_total", "outcome" => code).increment(1);
        metrics::histogram!("backend_call_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        sink.record(target.connection, endpoint, &outcome).await;
        outcome
    }

    /// Checks reachability and credentials: GET on the base URL with the connection's headers
    /// (filled from `vars`), with a freshly fetched token for OAuth2. Any answer but 401/403 and
    /// 5xx counts as reachable.
    pub async fn test_connection(&self, target: CallTarget<'_>, vars: &Variables) -> CallOutcome {
        if target.connection.kind == sb_domain::ConnectionKind::Mcp {
            return self.test_mcp(target).await;
        }
        let started = Instant::now();
        let deadline = started + self.deadline(target.connection, None);
        self.tokens.forget_connection(&target.connection.tenant_id, &target.connection.id);
        let mut outcome = CallOutcome::default();
        let mut sent = Vec::new();
        let result = match request::probe(target.connection, target.secrets, vars) {
            Err(err) => Err(err),
            Ok(request) => {
                outcome.request = Some(RequestLine::of(&request, target.uses_oauth()));
                let exchange = self.exchange(target, request, true, deadline).await;
                outcome.attempts = exchange.attempts;
                sent = exchange.tokens_sent;
                exchange.response
            }
        };
        outcome.error = match result {
            Err(err) => Some(err),
            Ok(response) => {
                outcome.status = Some(response.status.as_u16());
                outcome.body_preview = preview(&response.body);
                let refused = matches!(response.status.as_u16(), 401 | 403);
                if !response.status.is_success() && !response.status.is_server_error() && !refused {
                    outcome.notes.push(reachable_but(response.status));
                }
                status_error(response.status)
                    .filter(|e| e.code != "http_error" || response.status.is_server_error())
            }
        };
        sent.extend(target.secrets.sent_forms(&target.connection.auth));
        scrub_outcome(&mut outcome, &sent);
        outcome.ok = outcome.error.is_none();
        outcome.latency_ms = started.elapsed().as_millis() as u64;
        outcome
    }
}

/// Why a connection test that got a non-2xx answer still counts as connected, and what to do.
fn reachable_but(status: StatusCode) -> String {
    format!(
        "The server is reachable and answered {status} at the base URL. Many APIs answer nothing at their root, so this is not a failure of the connection; test an endpoint to check a real path."
    )
}

pub(crate) fn preview(body: &[u8]) -> String {
    let cut = &body[..body.len().min(BODY_PREVIEW_BYTES)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if body.len() > BODY_PREVIEW_BYTES {
        text.push('…');
    }
    text
}

fn status_error(status: StatusCode) -> Option<CallError> {
    match status.as_u16() {
        200..=299 => None,
        401 | 403 => Some(CallError::new(
            "auth_failed",
            format!("the API refused the credentials ({status})"),
        )),
        _ => Some(CallError::new("http_error", format!("the API answered {status}"))),
    }
}

/// The outcome of an answer made up rather than fetched (a test run's fakes): judged and mapped
/// exactly as a real answer with this status and body would be.
pub fn made_up_answer(
    endpoint: &Endpoint,
    request: RequestLine,
    status: u16,
    body: Vec<u8>,
    latency_ms: u64,
) -> CallOutcome {
    let mut outcome =
        CallOutcome { request: Some(request), attempts: 1, latency_ms, ..Default::default() };
    let response = OutboundResponse {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers: Default::default(),
        body: body.into(),
        url: "http://sandbox.invalid/".parse().expect("a valid URL"),
        redirects: 0,
        elapsed: std::time::Duration::from_millis(latency_ms),
    };
    outcome.error = interpret(&response, endpoint, &mut outcome).err();
    outcome.ok = outcome.error.is_none();
    outcome
}

/// Judges the answer and fills in status, preview, parsed body and mapped values.
fn interpret(
    response: &OutboundResponse,
    endpoint: &Endpoint,
    outcome: &mut CallOutcome,
) -> Result<(), CallError> {
    outcome.status = Some(response.status.as_u16());
    outcome.body_preview = preview(&response.body);
    // Parsed once, for both the mapping and `body_json`; large answers only when mapped.
    let small_json = (response.body.len() <= BODY_JSON_BYTES)
        .then(|| serde_json::from_slice::<Value>(&response.body).ok())
        .flatten();
    let judged = map_answer(response, endpoint, small_json.as_ref(), outcome);
    outcome.body_json = small_json;
    judged
}

fn map_answer(
    response: &OutboundResponse,
    endpoint: &Endpoint,
    parsed: Option<&Value>,
    outcome: &mut CallOutcome,
) -> Result<(), CallError> {
    let status = response.status.as_u16();
    let found = response.status.is_success();
    if !found && endpoint.expected_statuses.contains(&status) {
        outcome.found = Some(false);
        outcome.notes.push(format!(
            "{status} is one of this endpoint's expected answers: nothing was found, which is not a failure"
        ));
        // What such an answer says is mapped when it is JSON; when not, there is nothing to map.
        if let Some(body) = parsed.filter(|_| !endpoint.response_mapping.is_empty()) {
            let mapped = mapping::apply(&endpoint.response_mapping, body);
            outcome.mapped = mapped.values;
        }
        return Ok(());
    }
    if let Some(err) = status_error(response.status) {
        return Err(err);
    }
    outcome.found = Some(true);
    if endpoint.response_mapping.is_empty() {
        return Ok(());
    }
    let parsed_now;
    let body = match parsed {
        Some(body) => body,
        None => {
            parsed_now = serde_json::from_slice::<Value>(&response.body).map_err(|err| {
                CallError::new("invalid_response", format!("the answer is not JSON: {err}"))
            })?;
            &parsed_now
        }
    };
    let mapped = mapping::apply(&endpoint.response_mapping, body);
    outcome.mapped = mapped.values;
    outcome.missing = mapped.missing;
    outcome.notes = mapped.notes;
    Ok(())
}
