use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use sb_domain::TenantId;

#[derive(Default)]
struct Counts {
    per_ip: HashMap<IpAddr, usize>,
    per_tenant: HashMap<TenantId, usize>,
}

/// Limits on open realtime connections. Limits are per node (documented for multi-node use).
pub struct ConnectionCaps {
    per_ip: usize,
    per_tenant: usize,
    counts: Arc<Mutex<Counts>>,
}

/// Holds one connection's place; dropping it frees the place.
pub struct ConnectionPermit {
    ip: IpAddr,
    tenant: TenantId,
    counts: Arc<Mutex<Counts>>,
}

fn decrement<K: Eq + Hash>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            map.remove(key);
        }
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        decrement(&mut counts.per_ip, &self.ip);
        decrement(&mut counts.per_tenant, &self.tenant);
    }
}

impl ConnectionCaps {
    pub fn new(per_ip: usize, per_tenant: usize) -> Self {
        Self { per_ip, per_tenant, counts: Arc::default() }
    }

    /// A place for a new connection, or `None` when the address or the tenant is at its limit.
    pub fn admit(&self, ip: IpAddr, tenant: &TenantId) -> Option<ConnectionPermit> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let by_ip = counts.per_ip.get(&ip).copied().unwrap_or(0);
        let by_tenant = counts.per_tenant.get(tenant).copied().unwrap_or(0);
        if by_ip >= self.per_ip || by_tenant >= self.per_tenant {
            return None;
        }
        *counts.per_ip.entry(ip).or_default() += 1;
        *counts.per_tenant.entry(tenant.clone()).or_default() += 1;
        Some(ConnectionPermit { ip, tenant: tenant.clone(), counts: self.counts.clone() })
    }

    /// Open connections (for metrics).
    pub fn open(&self) -> usize {
        self.counts.lock().map(|c| c.per_tenant.values().sum()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_per_address_and_per_tenant_and_free_on_drop() {
        let caps = ConnectionCaps::new(2, 3);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let tenant = TenantId::new();
        let first = caps.admit(a, &tenant).unwrap();
        let _second = caps.admit(a, &tenant).unwrap();
        assert!(caps.admit(a, &tenant).is_none(), "third from one address");
        let _third = caps.admit(b, &tenant).unwrap();
        assert!(caps.admit(b, &tenant).is_none(), "fourth for one tenant");
        assert!(caps.admit(b, &TenantId::new()).is_some(), "other tenants are unaffected");
        drop(first);
        assert!(caps.admit(b, &tenant).is_some());
        assert_eq!(caps.open(), 2, "permits that were dropped freed their places");
    }
}
