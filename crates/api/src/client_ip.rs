//! The client's address, for rate limiting only (it is never stored).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

pub struct ClientIp(pub IpAddr);

/// Walks `X-Forwarded-For` from the right, skipping trusted proxies: the first address not
/// added by our own proxies is the client. Without trusted proxies the header is ignored, since
/// anyone can send it.
pub(crate) fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_for.unwrap_or_default().split(',').rev();
    let mut client = peer;
    for hop in hops {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => break,
        }
    }
    client
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        Ok(ClientIp(client_ip(peer, forwarded, &state.config.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(client_ip(client, Some("198.51.100.1"), &trusted), client);
        assert_eq!(client_ip(proxy, Some("203.0.113.7"), &trusted), client);
        // A client-supplied first hop is ignored: only the hop our proxy appended counts.
        assert_eq!(client_ip(proxy, Some("1.2.3.4, 203.0.113.7, 10.0.0.9"), &trusted), client);
        assert_eq!(client_ip(proxy, None, &trusted), proxy);
        assert_eq!(client_ip(proxy, Some("203.0.113.7"), &[]), proxy);
    }
}
