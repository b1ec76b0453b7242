//! The SSRF policy: which URLs and resolved addresses a tenant-driven request may reach.
//!
//! A URL passes when its scheme is http(s), it carries no credentials, and its host is either a
//! public IP literal, or a name that is not internal-only (its resolved addresses are then checked
//! one by one by the resolver). The operator's allowlist — never the tenant — can open exceptions.

use std::net::IpAddr;

use ipnet::IpNet;
use url::{Host, Url};

use crate::NetError;
use crate::ip::blocked_reason;

/// One operator exception, from `--ssrf-allow`: `HOST_OR_CIDR[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    /// An address range (a single address is a /32 or /128), optionally on one port only.
    Net { net: IpNet, port: Option<u16> },
    /// A host name, optionally on one port only. Any address it resolves to is accepted.
    Name { name: String, port: Option<u16> },
}

impl std::str::FromStr for AllowEntry {
    type Err = String;

    /// Accepts `10.1.0.0/16`, `127.0.0.1:9000`, `[::1]:9000`, `fd00::/8`, `backend.corp:8443`.
    fn from_str(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let bad = || format!("\"{raw}\" is not HOST_OR_CIDR[:PORT]");
        let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or_else(bad)?;
            match after {
                "" => (inside, None),
                _ => (inside, Some(after.strip_prefix(':').ok_or_else(bad)?)),
            }
        } else if raw.matches(':').count() > 1 {
            (raw, None) // a bare IPv6 address or range cannot carry a port
        } else {
            match raw.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (raw, None),
            }
        };
        let port = port.map(|p| p.parse::<u16>().map_err(|_| bad())).transpose()?;
        if let Ok(net) = host.parse::<IpNet>() {
            return Ok(AllowEntry::Net { net: net.trunc(), port });
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(AllowEntry::Net { net: IpNet::from(ip), port });
        }
        let name = normalise_name(host);
        let valid = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if valid { Ok(AllowEntry::Name { name, port }) } else { Err(bad()) }
    }
}

fn normalise_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn port_matches(allowed: Option<u16>, port: u16) -> bool {
    allowed.is_none_or(|p| p == port)
}

/// Names that only mean something inside a network: never sent to DNS.
fn internal_name_reason(name: &str) -> Option<&'static str> {
    const SUFFIXES: &[(&str, &str)] = &[
        ("localhost", "localhost names point at this machine"),
        ("local", "mDNS .local names are local-network only"),
        ("internal", ".internal names are internal-only (e.g. cloud metadata)"),
        ("localdomain", ".localdomain names are local-network only"),
        ("home.arpa", ".home.arpa names are home-network only"),
        ("arpa", ".arpa names are infrastructure, not web hosts"),
    ];
    for (suffix, why) in SUFFIXES {
        if name == *suffix || name.ends_with(&format!(".{suffix}")) {
            return Some(why);
        }
    }
    if !name.contains('.') {
        return Some("single-label names resolve through local search domains");
    }
    None
}

/// What a URL's host turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedHost {
    /// A public address, or one the operator allowed: connect directly.
    Address(IpAddr),
    /// A name whose resolved addresses the resolver must still check.
    Name(String),
    /// A name the operator allowed: its addresses are accepted as resolved.
    AllowedName(String),
}

#[derive(Debug, Clone, Default)]
pub struct SsrfPolicy {
    allow: Vec<AllowEntry>,
    /// Off only for operator-configured endpoints (see `HttpClient::for_operator_endpoints`).
    unrestricted: bool,
}

impl SsrfPolicy {
    pub fn new(allow: Vec<AllowEntry>) -> Self {
        Self { allow, unrestricted: false }
    }

    pub(crate) fn unrestricted() -> Self {
        Self { allow: Vec::new(), unrestricted: true }
    }

    /// Whether the operator allowed `ip`. URL literals come with their port; addresses from DNS
    /// come without, and then only entries without a port apply.
    fn allowed_address(&self, ip: IpAddr, port: Option<u16>) -> bool {
        self.allow.iter().any(|entry| match (entry, port) {
            (AllowEntry::Net { net, port: None }, _) => net.contains(&ip),
            (AllowEntry::Net { net, port: Some(allowed) }, Some(port)) => {
                net.contains(&ip) && *allowed == port
            }
            _ => false,
        })
    }

    /// `None` when the operator did not list `name`; otherwise whether `port` is allowed for it.
    fn allowed_name(&self, name: &str, port: u16) -> Option<bool> {
        let ports: Vec<Option<u16>> = self
            .allow
            .iter()
            .filter_map(|entry| match entry {
                AllowEntry::Name { name: allowed, port } if allowed == name => Some(*port),
                _ => None,
            })
            .collect();
        (!ports.is_empty()).then(|| ports.iter().any(|allowed| port_matches(*allowed, port)))
    }

    /// Checks a URL before anything is sent to it (and again at every redirect hop).
    pub fn check_url(&self, url: &Url) -> Result<CheckedHost, NetError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(NetError::InvalidUrl(format!(
                "only http and https URLs can be called, not {}:",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(NetError::InvalidUrl(
                "credentials in the URL are not allowed; configure authentication instead".into(),
            ));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let host = url.host().ok_or_else(|| NetError::InvalidUrl("the URL has no host".into()))?;
        let ip = match host {
            Host::Ipv4(ip) => IpAddr::V4(ip),
            Host::Ipv6(ip) => IpAddr::V6(ip),
            Host::Domain(domain) => return self.check_name(&normalise_name(domain), port),
        };
        if self.unrestricted || self.allowed_address(ip, Some(port)) {
            return Ok(CheckedHost::Address(ip));
        }
        match blocked_reason(ip) {
            Some(why) => Err(NetError::SsrfBlocked(format!("{ip} is not a public address: {why}"))),
            None => Ok(CheckedHost::Address(ip)),
        }
    }

    /// Checks the host of a connection that is not HTTP (SMTP, IMAP) as a URL's would be.
    pub fn check_host(&self, host: &str, port: u16) -> Result<CheckedHost, NetError> {
        let host = host.trim();
        let spelled = match host.parse::<IpAddr>() {
            Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
            _ => host.to_owned(),
        };
        let url = Url::parse(&format!("http://{spelled}:{port}/"))
            .ok()
            .filter(|u| u.host_str().is_some() && !spelled.contains(['/', '@', '?', '#']))
            .ok_or_else(|| NetError::InvalidUrl(format!("{host} is not a host name")))?;
        self.check_url(&url)
    }

    /// Whether the operator allowlisted `host:port` itself (not merely a public address):
    /// what an unencrypted mail connection needs.
    pub fn allowlisted(&self, host: &str, port: u16) -> bool {
        match self.check_host(host, port) {
            Ok(CheckedHost::AllowedName(_)) => true,
            Ok(CheckedHost::Address(ip)) => {
                self.unrestricted || self.allowed_address(ip, Some(port))
            }
            _ => false,
        }
    }

    fn check_name(&self, name: &str, port: u16) -> Result<CheckedHost, NetError> {
        if name.is_empty() {
            return Err(NetError::InvalidUrl("the URL has no host".into()));
        }
        if self.unrestricted {
            return Ok(CheckedHost::AllowedName(name.to_owned()));
        }
        match self.allowed_name(name, port) {
            Some(true) => return Ok(CheckedHost::AllowedName(name.to_owned())),
            Some(false) => {
                return Err(NetError::SsrfBlocked(format!(
                    "{name} is allowed by the operator on another port only, not {port}"
                )));
            }
            None => {}
        }
        match internal_name_reason(name) {
            Some(why) => Err(NetError::SsrfBlocked(format!("{name} is an internal name: {why}"))),
            None => Ok(CheckedHost::Name(name.to_owned())),
        }
    }

    /// Checks one address a name resolved to. `Err` carries the reason it was dropped.
    pub fn check_resolved(&self, name: &str, ip: IpAddr) -> Result<(), String> {
        if self.unrestricted
            || self.allow.iter().any(|e| matches!(e, AllowEntry::Name { name: n, .. } if n == name))
            || self.allowed_address(ip, None)
        {
            return Ok(());
        }
        match blocked_reason(ip) {
            Some(why) => Err(format!("{ip}: {why}")),
            None => Ok(()),
        }
    }
}
