//! DNS resolution that drops every address the policy forbids. The connection is made only to
//! the addresses returned from here, so the name is resolved once and checked once: a DNS answer
//! that changes between a check and the connect (rebinding) has nothing to slip through.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::policy::SsrfPolicy;

/// Turns a host name into addresses. The system resolver in production; tests inject answers.
pub trait Lookup: Send + Sync + 'static {
    fn lookup(&self, host: &str) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;
}

/// The operating system's resolver (`getaddrinfo`, honouring `/etc/hosts`).
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> {
        let host = host.to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// Why resolution produced no usable address; found again when classifying reqwest errors.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResolveError {
    #[error("{0}")]
    Blocked(String),
    #[error("{0}")]
    Failed(String),
}

pub(crate) struct FilteringResolver {
    pub(crate) lookup: Arc<dyn Lookup>,
    pub(crate) policy: Arc<SsrfPolicy>,
}

impl FilteringResolver {
    /// The permitted addresses of `name`, or why there are none.
    pub(crate) async fn resolve_checked(&self, name: &str) -> Result<Vec<IpAddr>, ResolveError> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let addresses = self
            .lookup
            .lookup(&name)
            .await
            .map_err(|err| ResolveError::Failed(format!("{name}: {err}")))?;
        if addresses.is_empty() {
            return Err(ResolveError::Failed(format!("{name} has no addresses")));
        }
        let mut dropped = Vec::new();
        let allowed: Vec<IpAddr> = addresses
            .into_iter()
            .filter(|ip| match self.policy.check_resolved(&name, *ip) {
                Ok(()) => true,
                Err(why) => {
                    dropped.push(why);
                    false
                }
            })
            .collect();
        if allowed.is_empty() {
            return Err(ResolveError::Blocked(format!(
                "{name} resolves only to non-public addresses ({})",
                dropped.join("; ")
            )));
        }
        if !dropped.is_empty() {
            tracing::warn!(host = %name, dropped = %dropped.join("; "), "dropped non-public addresses from a DNS answer");
        }
        Ok(allowed)
    }
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver =
            FilteringResolver { lookup: self.lookup.clone(), policy: self.policy.clone() };
        Box::pin(async move {
            let ips = resolver.resolve_checked(name.as_str()).await?;
            // The port is filled in by the connector from the URL.
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::policy::AllowEntry;

    /// Answers from a table; nothing leaves the process.
    struct Table(HashMap<&'static str, Vec<IpAddr>>);

    impl Lookup for Table {
        fn lookup(
            &self,
            host: &str,
        ) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> {
            let answer = self.0.get(host).cloned().ok_or_else(|| io::Error::other("NXDOMAIN"));
            Box::pin(async move { answer })
        }
    }

    fn resolver(allow: &[&str]) -> FilteringResolver {
        let ips =
            |list: &[&str]| list.iter().map(|ip| ip.parse().unwrap()).collect::<Vec<IpAddr>>();
        let table = HashMap::from([
            ("public.example", ips(&["93.184.216.34", "2606:2800:220:1::1"])),
            ("rebind.example", ips(&["127.0.0.1"])),
            ("mixed.example", ips(&["10.0.0.5", "93.184.216.34", "::1", "169.254.169.254"])),
            ("metadata-alias.example", ips(&["::ffff:169.254.169.254", "fd00:ec2::254"])),
            ("backend.corp", ips(&["192.168.7.7"])),
            ("empty.example", vec![]),
        ]);
        let allow = allow.iter().map(|e| e.parse::<AllowEntry>().unwrap()).collect();
        FilteringResolver {
            lookup: Arc::new(Table(table)),
            policy: Arc::new(SsrfPolicy::new(allow)),
        }
    }

    #[tokio::test]
    async fn private_answers_are_dropped_and_only_public_ones_kept() {
        let r = resolver(&[]);
        assert_eq!(r.resolve_checked("public.example").await.unwrap().len(), 2);
        let kept = r.resolve_checked("MIXED.example.").await.unwrap();
        assert_eq!(kept, vec!["93.184.216.34".parse::<IpAddr>().unwrap()]);
    }

    #[tokio::test]
    async fn a_public_looking_name_with_only_private_addresses_is_blocked() {
        let r = resolver(&[]);
        for name in ["rebind.example", "metadata-alias.example", "backend.corp"] {
            match r.resolve_checked(name).await {
                Err(ResolveError::Blocked(why)) => assert!(why.contains(name), "{why}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn lookup_failures_are_dns_errors() {
        let r = resolver(&[]);
        assert!(matches!(
            r.resolve_checked("nxdomain.example").await,
            Err(ResolveError::Failed(_))
        ));
        assert!(matches!(r.resolve_checked("empty.example").await, Err(ResolveError::Failed(_))));
    }

    #[tokio::test]
    async fn the_operator_can_allow_a_name_or_a_range() {
        let by_name = resolver(&["backend.corp:8443"]);
        assert_eq!(by_name.resolve_checked("backend.corp").await.unwrap().len(), 1);
        assert!(by_name.resolve_checked("rebind.example").await.is_err());
        let by_range = resolver(&["127.0.0.0/8"]);
        assert_eq!(by_range.resolve_checked("rebind.example").await.unwrap().len(), 1);
        // An address entry with a port opens that address only where the URL names it literally.
        let by_address = resolver(&["127.0.0.1:9000"]);
        assert!(by_address.resolve_checked("rebind.example").await.is_err());
    }
}
