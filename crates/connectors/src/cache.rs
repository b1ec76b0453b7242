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

/// Entries kept at most on a node, and per tenant, so one tenant caching many distinct
/// requests for a day cannot crowd out everyone else. Past either, expired entries go first,
/// then the one closest to expiring (of that tenant, when it is the tenant's share that is full).
const CAPACITY: usize = 10_000;
const PER_TENANT: usize = 1_000;
/// Larger answers (by their mapped values) are not kept: the cache is for small lookups.
const MAX_ENTRY_BYTES: usize = 64 * 1024;

struct Entry {
    tenant: String,
    expires: Instant,
    outcome: CallOutcome,
}

#[derive(Default)]
struct Entries {
    by_key: HashMap<String, Entry>,
    per_tenant: HashMap<String, usize>,
}

impl Entries {
    fn remove(&mut self, key: &str) {
        if let Some(entry) = self.by_key.remove(key)
            && let Some(count) = self.per_tenant.get_mut(&entry.tenant)
        {
            *count -= 1;
            if *count == 0 {
                self.per_tenant.remove(&entry.tenant);
            }
        }
    }

    fn drop_expired(&mut self, now: Instant) {
        let expired: Vec<String> =
            self.by_key.iter().filter(|(_, e)| e.expires <= now).map(|(k, _)| k.clone()).collect();
        expired.iter().for_each(|key| self.remove(key));
    }

    /// Removes the entry closest to expiring, of `tenant` only when given.
    fn evict_one(&mut self, tenant: Option<&str>) {
        let victim = self
            .by_key
            .iter()
            .filter(|(_, e)| tenant.is_none_or(|t| e.tenant == t))
            .min_by_key(|(_, e)| e.expires)
            .map(|(k, _)| k.clone());
        if let Some(key) = victim {
            self.remove(&key);
        }
    }
}

#[derive(Default)]
pub struct ResponseCache {
    entries: Mutex<Entries>,
}

/// Where one call's answer is cached: its key, for how long, and whose share it counts against.
pub struct CacheSlot {
    pub(crate) key: String,
    pub(crate) ttl: Duration,
    pub(crate) tenant: String,
}

/// The endpoint's time to live, if its answers may be cached at all.
pub fn cacheable(endpoint: &Endpoint) -> Option<Duration> {
    let ttl = endpoint.cache_ttl_s.filter(|&s| s > 0)?;
    (endpoint.request.method == HttpMethod::Get && !endpoint.requires_verified_visitor)
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
        let entry = entries.by_key.get(key).filter(|e| e.expires > Instant::now())?;
        let mut outcome = entry.outcome.clone();
        outcome.cached = true;
        outcome.latency_ms = 0;
        outcome.attempts = 0;
        outcome.token_refreshed = false;
        Some(outcome)
    }

    /// Forgets every answer kept for `tenant` (its data was erased, or its configuration
    /// changed on some node).
    pub fn forget_tenant(&self, tenant: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let keys: Vec<String> = entries
            .by_key
            .iter()
            .filter(|(_, e)| e.tenant == tenant)
            .map(|(k, _)| k.clone())
            .collect();
        keys.iter().for_each(|key| entries.remove(key));
    }

    /// Keeps a successful answer of `tenant` for `ttl`; failures are never cached.
    pub fn put(&self, key: String, tenant: &str, ttl: Duration, outcome: &CallOutcome) {
        // "Nothing found" is not kept: the thing may exist a moment later.
        if !outcome.ok
            || outcome.found == Some(false)
            || serde_json::to_vec(&outcome.mapped).map_or(true, |b| b.len() > MAX_ENTRY_BYTES)
        {
            return;
        }
        // Only what a cache hit uses: the mapped values, the request line, the notes.
        let mut kept = outcome.clone();
        kept.body_json = None;
        kept.body_preview = String::new();
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.remove(&key);
        let tenant_full = entries.per_tenant.get(tenant).copied().unwrap_or(0) >= PER_TENANT;
        if tenant_full || entries.by_key.len() >= CAPACITY {
            entries.drop_expired(now);
        }
        if entries.per_tenant.get(tenant).copied().unwrap_or(0) >= PER_TENANT {
            entries.evict_one(Some(tenant));
        } else if entries.by_key.len() >= CAPACITY {
            entries.evict_one(None);
        }
        *entries.per_tenant.entry(tenant.to_owned()).or_default() += 1;
        entries
            .by_key
            .insert(key, Entry { tenant: tenant.to_owned(), expires: now + ttl, outcome: kept });
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
        cache.put("a".into(), "t1", Duration::from_secs(60), &ok("shipped"));
        let hit = cache.get("a").expect("a fresh entry");
        assert!(hit.cached && hit.latency_ms == 0 && hit.attempts == 0);
        assert_eq!(hit.mapped["status"], "shipped");
        cache.put("b".into(), "t1", Duration::ZERO, &ok("old"));
        assert!(cache.get("b").is_none(), "expired at once");
        cache.put("c".into(), "t1", Duration::from_secs(60), &CallOutcome::default());
        assert!(cache.get("c").is_none(), "a failure is not cached");
    }

    #[test]
    fn a_tenant_past_its_share_displaces_its_own_entries_not_others() {
        let cache = ResponseCache::default();
        cache.put("other".into(), "t2", Duration::from_secs(3600), &ok("theirs"));
        for i in 0..PER_TENANT + 5 {
            // Later entries live longer, so the earliest are the ones displaced.
            cache.put(format!("k{i}"), "t1", Duration::from_secs(60 + i as u64), &ok("mine"));
        }
        let entries = cache.entries.lock().unwrap();
        assert_eq!(entries.per_tenant["t1"], PER_TENANT);
        assert_eq!(entries.by_key.len(), PER_TENANT + 1);
        assert!(entries.by_key.contains_key("other"), "another tenant's entry stays");
        assert!(
            !entries.by_key.contains_key("k0")
                && entries.by_key.contains_key(&format!("k{}", PER_TENANT + 4))
        );
    }
}
