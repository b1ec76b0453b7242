//! OAuth 2.0 client credentials: tokens fetched on first use, cached per tenant and connection
//! until shortly before they expire, with one fetch in flight per key however many calls wait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sb_domain::{ClientAuth, ConnectionId, TenantId};
use sb_net::{HttpClient, Method, OutboundRequest};
use sb_secrets::{Secret, sha256_hex};
use serde_json::Value;

use crate::CallError;

/// When the token endpoint does not say how long a token lives.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// A token is renewed this long before it expires (or halfway, for short-lived tokens).
const REFRESH_MARGIN: Duration = Duration::from_secs(30);
/// Callers that queued behind a failed fetch get its error instead of fetching again at once.
const FAILURE_REUSE: Duration = Duration::from_secs(2);

/// What the token endpoint needs.
pub struct TokenRequest<'a> {
    pub tenant_id: &'a TenantId,
    pub connection_id: &'a ConnectionId,
    pub token_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub scope: Option<&'a str>,
    pub audience: Option<&'a str>,
    pub client_auth: ClientAuth,
}

impl TokenRequest<'_> {
    /// Changed credentials make a different key, so an old token is never used with new ones.
    fn cache_key(&self) -> CacheKey {
        let fingerprint = sha256_hex(&format!(
            "{}\n{}\n{}\n{}\n{}\n{:?}",
            self.token_url,
            self.client_id,
            self.client_secret,
            self.scope.unwrap_or_default(),
            self.audience.unwrap_or_default(),
            self.client_auth
        ));
        CacheKey {
            tenant: self.tenant_id.clone(),
            connection: self.connection_id.clone(),
            fingerprint,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    tenant: TenantId,
    connection: ConnectionId,
    fingerprint: String,
}

/// A token handed to a caller; `fetched` tells whether this call caused a token request.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: Secret<String>,
    pub fetched: bool,
}

#[derive(Default)]
struct Slot {
    token: Option<(Secret<String>, Instant)>,
    failure: Option<(Instant, CallError)>,
}

#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<CacheKey, Arc<tokio::sync::Mutex<Slot>>>>,
}

impl TokenCache {
    fn slot(&self, key: CacheKey) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.entry(key).or_default().clone()
    }

    /// A valid token, fetching one if needed. Concurrent callers for the same key wait for the
    /// single fetch in flight and share its result.
    pub async fn token(
        &self,
        http: &HttpClient,
        request: &TokenRequest<'_>,
        timeout: Duration,
    ) -> Result<IssuedToken, CallError> {
        let slot = self.slot(request.cache_key());
        let mut slot = slot.lock().await;
        if let Some((token, renew_at)) = &slot.token
            && Instant::now() < *renew_at
        {
            return Ok(IssuedToken { access_token: token.clone(), fetched: false });
        }
        if let Some((at, err)) = &slot.failure
            && at.elapsed() < FAILURE_REUSE
        {
            return Err(err.clone());
        }
        match fetch(http, request, timeout).await {
            Ok((token, lifetime)) => {
                let margin = REFRESH_MARGIN.min(lifetime / 2);
                slot.token = Some((token.clone(), Instant::now() + lifetime - margin));
                slot.failure = None;
                Ok(IssuedToken { access_token: token, fetched: true })
            }
            Err(err) => {
                slot.token = None;
                slot.failure = Some((Instant::now(), err.clone()));
                Err(err)
            }
        }
    }

    /// Forgets `rejected` (the API said it expired), unless another caller already replaced it.
    pub async fn invalidate(&self, request: &TokenRequest<'_>, rejected: &Secret<String>) {
        let slot = self.slot(request.cache_key());
        let mut slot = slot.lock().await;
        if slot.token.as_ref().is_some_and(|(token, _)| token == rejected) {
            slot.token = None;
        }
    }

    /// Drops every token of a connection (its credentials changed or it was deleted).
    pub fn forget_connection(&self, tenant: &TenantId, connection: &ConnectionId) {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.retain(|key, _| !(key.tenant == *tenant && key.connection == *connection));
    }
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut url = sb_net::Url::parse("http://form.invalid/").expect("static URL");
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or_default().to_owned()
}

fn form_component(value: &str) -> String {
    form_encode(&[("x", value)])["x=".len()..].to_owned()
}

/// One token request (RFC 6749 §4.4), through the same SSRF-checked client as every call.
async fn fetch(
    http: &HttpClient,
    req: &TokenRequest<'_>,
    timeout: Duration,
) -> Result<(Secret<String>, Duration), CallError> {
    let failed = |message: String| {
        CallError::new("token_request_failed", message).scrubbed(&[req.client_secret])
    };
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = req.scope {
        form.push(("scope", scope));
    }
    if let Some(audience) = req.audience {
        form.push(("audience", audience));
    }
    let mut request = OutboundRequest::new(Method::POST, req.token_url)
        .map_err(|e| failed(e.to_string()))?
        .timeout(timeout);
    request = request.header("accept", "application/json")?;
    match req.client_auth {
        ClientAuth::Basic => {
            // RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
            let pair =
                format!("{}:{}", form_component(req.client_id), form_component(req.client_secret));
            request = request
                .secret_header("authorization", &format!("Basic {}", STANDARD.encode(pair)))?;
        }
        ClientAuth::Post => {
            form.push(("client_id", req.client_id));
            form.push(("client_secret", req.client_secret));
        }
    }
    let request = request
        .body("application/x-www-form-urlencoded", form_encode(&form))
        .map_err(|e| failed(e.to_string()))?;
    let response = http.send(request).await.map_err(|err| {
        let code = err.code();
        // Transport failures keep their own code (ssrf_blocked, timeout, …) so they can be fixed.
        CallError::new(code, format!("token request: {err}")).scrubbed(&[req.client_secret])
    })?;
    let body: Option<Value> = serde_json::from_slice(&response.body).ok();
    if !response.status.is_success() {
        let detail = body
            .as_ref()
            .and_then(|b| {
                b.get("error").and_then(Value::as_str).map(|e| {
                    match b.get("error_description").and_then(Value::as_str) {
                        Some(description) => format!("{e} ({description})"),
                        None => e.to_owned(),
                    }
                })
            })
            .unwrap_or_else(|| "no OAuth error in the answer".into());
        return Err(failed(format!(
            "the token endpoint answered {}: {detail}",
            response.status.as_u16()
        )));
    }
    let body = body.ok_or_else(|| failed("the token endpoint did not answer with JSON".into()))?;
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| failed("the token endpoint's answer has no access_token".into()))?;
    if let Some(kind) = body.get("token_type").and_then(Value::as_str)
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(failed(format!(
            "unsupported token_type {kind:?}; only bearer tokens are supported"
        )));
    }
    let lifetime = match body.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|secs| *secs > 0)
    .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
    Ok((Secret::new(token.to_owned()), lifetime))
}
