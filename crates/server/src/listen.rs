//! Accepting connections: each client address gets a bounded number of open connections, a
//! request's headers must arrive within a deadline (which also closes idle keep-alive
//! connections), and shutdown lets requests in flight finish for a grace period. A raw
//! connection that sends nothing, or sends headers a byte at a time, cannot hold a place forever.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How connections are admitted and timed.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Time a client has to send a request's headers; also how long an idle keep-alive
    /// connection is kept.
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body.
    pub body_read_timeout: Duration,
    /// Open connections per client address; 0: no cap.
    pub max_per_ip: usize,
    /// Reverse proxies carry many clients' connections, so the cap does not apply to them.
    pub trusted_proxies: Vec<IpNet>,
    /// Time requests in flight get to finish once shutdown begins.
    pub shutdown_grace: Duration,
}

/// Open connections per address; a place is given back when its guard drops.
#[derive(Default, Clone)]
struct OpenPerAddress(Arc<Mutex<HashMap<IpAddr, usize>>>);

struct Place {
    open: OpenPerAddress,
    ip: IpAddr,
}

impl OpenPerAddress {
    fn take(&self, ip: IpAddr, max: usize) -> Option<Place> {
        let mut open = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(ip).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Place { open: self.clone(), ip })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets requests in
/// flight finish for up to the grace period, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // HTTP/1.1 only: telling HTTP/2 from HTTP/1 waits for the first bytes with no deadline, so a
    // silent connection would never time out. Browsers speak HTTP/2 over TLS, which a proxy in
    // front ends anyway.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let open = OpenPerAddress::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let place = if limits.max_per_ip == 0
            || limits.trusted_proxies.iter().any(|net| net.contains(&peer.ip()))
        {
            None
        } else {
            match open.take(peer.ip(), limits.max_per_ip) {
                Some(place) => Some(place),
                None => {
                    metrics::counter!("connections_refused_total", "reason" => "per_ip_cap")
                        .increment(1);
                    tracing::debug!(%peer, "refused: too many open connections from this address");
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let service = connection_service(app.clone(), peer, limits.body_read_timeout);
        let connection =
            builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
            drop(place);
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing requests in flight");
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still running after the grace period were cut off");
    }
}

/// The app for one connection, with its peer address for handlers (`ConnectInfo`).
fn connection_service(
    app: Router,
    peer: SocketAddr,
    body_read_timeout: Duration,
) -> TowerToHyperService<
    impl tower::Service<
        axum::http::Request<hyper::body::Incoming>,
        Response = axum::response::Response,
        Error = Infallible,
        Future = impl Send,
    > + Clone,
> {
    let service = tower::service_fn(move |request: axum::http::Request<hyper::body::Incoming>| {
        // A body that does not arrive in time fails its reader instead of holding the request.
        let mut request =
            request.map(|body| axum::body::Body::new(DeadlineBody::new(body, body_read_timeout)));
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request)
    });
    TowerToHyperService::new(service)
}

/// A request body that must arrive in full within a time limit. (tower-http's body timeout
/// measures the gaps between pieces, so a body sent a byte at a time would never end.)
struct DeadlineBody {
    body: hyper::body::Incoming,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl DeadlineBody {
    fn new(body: hyper::body::Incoming, limit: Duration) -> Self {
        Self { body, deadline: Box::pin(tokio::time::sleep(limit)) }
    }
}

impl http_body::Body for DeadlineBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            let late = "the request body did not arrive in time".into();
            return std::task::Poll::Ready(Some(Err(late)));
        }
        std::pin::Pin::new(&mut self.body).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_per_address_are_capped_and_given_back() {
        let open = OpenPerAddress::default();
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        let first = open.take(a, 2).unwrap();
        let _second = open.take(a, 2).unwrap();
        assert!(open.take(a, 2).is_none());
        assert!(open.take(b, 2).is_some(), "another address has its own places");
        drop(first);
        assert!(open.take(a, 2).is_some());
    }
}
