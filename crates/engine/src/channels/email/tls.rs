//! TLS for mail connections: rustls (ring) with the Mozilla roots, the server's name checked
//! against its certificate — the same trust as every HTTPS call. One stream type serves IMAP
//! (`async-imap`) and SMTP (`lettre`, which takes a connection made here).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

fn config(roots: RootCertStore) -> Arc<ClientConfig> {
    sb_net::install_crypto_provider();
    Arc::new(ClientConfig::builder().with_root_certificates(roots).with_no_client_auth())
}

fn mozilla_roots() -> RootCertStore {
    RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}

/// The Mozilla roots, and the channel's own CA (`ca_pem`) when it has one.
fn connector(ca_pem: Option<&str>) -> Result<TlsConnector, String> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    let Some(pem) = ca_pem else {
        return Ok(TlsConnector::from(CONFIG.get_or_init(|| config(mozilla_roots())).clone()));
    };
    let mut roots = mozilla_roots();
    for certificate in private_ca(pem)? {
        roots.add(certificate).map_err(|e| format!("the CA certificate cannot be used: {e}"))?;
    }
    Ok(TlsConnector::from(config(roots)))
}

/// The certificates of a PEM text, or why there are none.
pub(in crate::channels) fn private_ca(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem.as_bytes()).collect();
    let certificates = certificates.map_err(|e| format!("the CA certificate is not PEM: {e}"))?;
    if certificates.is_empty() {
        return Err("the CA certificate holds no certificate".into());
    }
    Ok(certificates)
}

/// A mail server connection: plain until (or unless) it is encrypted.
pub(super) enum MailStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl MailStream {
    /// `tcp` encrypted for `host` (its certificate must name it, issued by a Mozilla root or
    /// by `ca_pem`).
    pub(super) async fn encrypt(
        tcp: TcpStream,
        host: &str,
        ca_pem: Option<&str>,
    ) -> Result<Self, String> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| format!("{host} is not a name a certificate can carry"))?;
        let tls = connector(ca_pem)?
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host} failed: {e}"))?;
        Ok(Self::Tls(Box::new(tls)))
    }

    /// The plain connection, for a STARTTLS upgrade.
    pub(super) fn into_plain(self) -> Option<TcpStream> {
        match self {
            Self::Plain(tcp) => Some(tcp),
            Self::Tls(_) => None,
        }
    }
}

impl fmt::Debug for MailStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "MailStream::Plain",
            Self::Tls(_) => "MailStream::Tls",
        })
    }
}

impl AsyncRead for MailStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

impl lettre::transport::smtp::client::AsyncTokioStream for MailStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Self::Plain(s) => s.peer_addr(),
            Self::Tls(s) => s.get_ref().0.peer_addr(),
        }
    }
}
