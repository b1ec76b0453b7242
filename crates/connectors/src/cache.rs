//! Reuse of successful answers for endpoints with `cache_ttl_s` (GET lookups only, never for
//! verified-visitor endpoints — the engine's validation refuses both, and `cacheable` checks
//! again). Per node, in memory: a cache is an optimisation, and a miss only costs a call.
//!
//! The key is a SHA-256 of everything that decides the answer: the tenant, the endpoint and
//! connection as last changed (so an edit starts afresh), and the request as sent — URL and
//! headers. Two tenants never share an entry, even for the same URL, and no credential is kept
//! in readable form in a key.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sb_domain::{Connection, Endpoint, HttpMethod};
use sb_net::OutboundRequest;

use crate::CallOutcome;

/// Entries kept at most; past it, expired entries are dropped and, if still full, new answers
/// are simply not cached until room frees up.
const CAPACITY: usize = 10_000;

struct Entry {
    expires: Instant,
    outcome: CallOutcome,
}

#[derive(Default)]
pub struct ResponseCache {
    entries: Mutex<HashMap<String, Entry>>,
}

/// The endpoint's time to live, if its answers may be cached at all.
pub fn cacheable(endpoint: &Endpoint) -> Option<Duration> {
    let ttl = endpoint.cache_ttl_s.filter(|&s| s > 0)?;
    (endpoint.method == HttpMethod::Get && !endpoint.requires_verified_visitor)
        .then(|| Duration::from_secs(u64::from(ttl)))
}

pub fn key(connection: &Connection, endpoint: &Endpoint, request: &OutboundRequest) -> String {
    let mut text = format!(
        "{}\n{}\n{}\n{}\n{}\n",
        endpoint.tenant_id, endpoint.id, endpoint.updated_at, connection.updated_at, request.url
    );
    let mut headers: Vec<_> = request
        .headers
        .iter()
        .map(|(name, value)| format!("{name}:{}", String::from_utf8_lossy(value.as_bytes())))
        .collect();
    headers.sort();
    text.push_str(&headers.join("\n"));
    sb_secrets::sha256_hex(&text)
}

impl ResponseCache {
    /// A fresh answer for `key`, marked as served from the cache.
    pub fn get(&self, key: &str) -> Option<CallOutcome> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = entries.get(key).filter(|e| e.expires > Instant::now())?;
        let mut outcome = entry.outcome.clone();
        outcome.cached = true;
        outcome.latency_ms = 0;
        outcome.attempts = 0;
        outcome.token_refreshed = false;
        Some(outcome)
    }

    /// Keeps a successful answer for `ttl`; failures are never cached.
    pub fn put(&self, key: String, ttl: Duration, outcome: &CallOutcome) {
        if !outcome.ok {
            return;
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| e.expires > now);
            if entries.len() >= CAPACITY {
                return;
            }
        }
        // The test-only parts of an outcome are not needed to answer from the cache.
        let mut kept = outcome.clone();
        kept.body_json = None;
        entries.insert(key, Entry { expires: now + ttl, outcome: kept });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(value: &str) -> CallOutcome {
        let mut outcome =
            CallOutcome { ok: true, latency_ms: 40, attempts: 1, ..Default::default() };
        outcome.mapped.insert("status".into(), serde_json::json!(value));
        outcome
    }

    #[test]
    fn answers_are_kept_for_their_time_and_failures_not_at_all() {
        let cache = ResponseCache::default();
        cache.put("a".into(), Duration::from_secs(60), &ok("shipped"));
        let hit = cache.get("a").expect("a fresh entry");
        assert!(hit.cached && hit.latency_ms == 0 && hit.attempts == 0);
        assert_eq!(hit.mapped["status"], "shipped");
        cache.put("b".into(), Duration::ZERO, &ok("old"));
        assert!(cache.get("b").is_none(), "expired at once");
        cache.put("c".into(), Duration::from_secs(60), &CallOutcome::default());
        assert!(cache.get("c").is_none(), "a failure is not cached");
    }
}
