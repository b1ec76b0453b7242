//! What the client logs: URLs with credentials redacted, never a credential. A test binary of its
//! own, with one process-wide subscriber: a subscriber set per thread misses events whenever
//! tests on other threads touch the same log statements first (tracing caches, per statement,
//! whether anyone listens), which made this check flaky beside the other client tests.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::any;
use sb_net::{AllowEntry, HttpClient, Method, NetConfig, OutboundRequest, SsrfPolicy};

/// Captures log output so the test can look for leaked secrets.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_show_redacted_urls_and_no_credentials() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, Router::new().fallback(any(|| async { "ok" }))).await.unwrap()
    });
    let allow = vec![addr.to_string().parse::<AllowEntry>().unwrap()];
    let client = HttpClient::new(SsrfPolicy::new(allow), NetConfig::default()).unwrap();
    let mut request = OutboundRequest::new(
        Method::GET,
        &format!("http://{addr}/orders?id=7&apikey=SECRET-QUERY&sig=SECRET-SIG"),
    )
    .unwrap()
    .secret_header("authorization", "Bearer SECRET-BEARER")
    .unwrap();
    request.sensitive_query.push("apikey".into());
    client.send(request).await.unwrap();
    let blocked = OutboundRequest::new(Method::GET, "http://10.0.0.1/?token=SECRET-TOKEN").unwrap();
    client.send(blocked).await.unwrap_err();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("outbound call"), "{logs}");
    assert!(logs.contains("id=7"), "{logs}");
    assert!(logs.contains("outbound call failed"), "the refused call is logged too: {logs}");
    assert!(!logs.contains("SECRET"), "a credential reached the logs:\n{logs}");
}
