//! TCP connections for protocols other than HTTP (SMTP and IMAP for e-mail channels), under the
//! same rules as every request: the host is checked like a URL's, a name is resolved once
//! through the filtering resolver, and the connection goes only to an address that passed —
//! all within the client's deadline.

use std::net::{IpAddr, SocketAddr};

use tokio::net::TcpStream;

use crate::policy::CheckedHost;
use crate::resolver::ResolveError;
use crate::{HttpClient, NetError};

impl HttpClient {
    /// A connection to `host:port`, or why there is none (`SsrfBlocked` for an address the
    /// policy forbids). The addresses a name resolves to are tried in turn.
    pub async fn connect_tcp(&self, host: &str, port: u16) -> Result<TcpStream, NetError> {
        let deadline = self.config().max_timeout;
        tokio::time::timeout(deadline, self.connect_checked(host, port))
            .await
            .unwrap_or(Err(NetError::Timeout(deadline.as_millis() as u64)))
    }

    async fn connect_checked(&self, host: &str, port: u16) -> Result<TcpStream, NetError> {
        let addresses: Vec<IpAddr> = match self.policy().check_host(host, port)? {
            CheckedHost::Address(ip) => vec![ip],
            CheckedHost::Name(name) | CheckedHost::AllowedName(name) => {
                self.resolver.resolve_checked(&name).await.map_err(|err| match err {
                    ResolveError::Blocked(why) => NetError::SsrfBlocked(why),
                    ResolveError::Failed(why) => NetError::DnsFailed(why),
                })?
            }
        };
        let mut last = None;
        for ip in addresses {
            let address = SocketAddr::new(ip, port);
            match TcpStream::connect(address).await {
                Ok(stream) => return Ok(stream),
                Err(err) => last = Some(NetError::ConnectFailed(format!("{address}: {err}"))),
            }
        }
        Err(last.unwrap_or_else(|| NetError::DnsFailed(format!("{host} has no addresses"))))
    }
}

#[cfg(test)]
mod tests {
    use crate::{AllowEntry, HttpClient, NetConfig, NetError, SsrfPolicy};

    fn client(allow: &[&str]) -> HttpClient {
        let allow = allow.iter().map(|e| e.parse::<AllowEntry>().unwrap()).collect();
        HttpClient::new(SsrfPolicy::new(allow), NetConfig::default()).unwrap()
    }

    #[tokio::test]
    async fn private_hosts_are_refused_before_any_connection() {
        let strict = client(&[]);
        for host in ["127.0.0.1", "::1", "10.1.2.3", "169.254.169.254", "localhost", "mail"] {
            let refused = strict.connect_tcp(host, 25).await.unwrap_err();
            assert!(matches!(refused, NetError::SsrfBlocked(_)), "{host}: {refused:?}");
        }
        assert!(matches!(strict.connect_tcp("bad host", 25).await, Err(NetError::InvalidUrl(_))));
    }

    #[tokio::test]
    async fn an_allowlisted_address_is_reached() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = client(&["127.0.0.1"]);
        assert!(open.connect_tcp("127.0.0.1", port).await.is_ok());
        drop(listener);
        let refused = open.connect_tcp("127.0.0.1", port).await.unwrap_err();
        assert!(matches!(refused, NetError::ConnectFailed(_)), "{refused:?}");
        let other_port = client(&["127.0.0.1:1"]);
        assert!(matches!(
            other_port.connect_tcp("127.0.0.1", port).await,
            Err(NetError::SsrfBlocked(_))
        ));
    }
}
