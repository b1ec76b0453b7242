//! Clients that hold connections without finishing requests (slowloris): silent connections,
//! headers or bodies sent a byte at a time, idle keep-alive connections — each is closed after
//! its deadline, and one address cannot hold more than its share of connections.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use crate::support::TestApp;

async fn app(max_per_ip: usize, header_secs: u64) -> TestApp {
    TestApp::sqlite_with(move |c| {
        c.server.header_read_timeout_secs = header_secs;
        c.server.body_read_timeout_secs = 1;
        c.server.max_connections_per_ip = max_per_ip;
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap()
}

/// Reads until the server closes the connection; what it sent before, as text. Panics at the
/// deadline.
async fn until_closed(
    mut stream: impl tokio::io::AsyncRead + Unpin,
    deadline: Instant,
    what: &str,
) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    loop {
        match timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return String::from_utf8_lossy(&received).into_owned(),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => panic!("{what}: still open at the deadline"),
        }
    }
}

/// Sends `start`, then `rest` one byte every 200 ms (until the server hangs up), and waits for
/// the server to close the connection.
async fn slow_client(
    what: &str,
    stream: TcpStream,
    start: &'static [u8],
    rest: usize,
    deadline: Instant,
) -> String {
    let (read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        if write.write_all(start).await.is_err() {
            return;
        }
        for _ in 0..rest {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write.write_all(b"x").await.is_err() {
                return;
            }
        }
    });
    let received = until_closed(read, deadline, what).await;
    writer.abort();
    received
}

#[tokio::test]
async fn silent_and_slow_clients_are_disconnected_after_their_deadlines() {
    let app = app(100, 1).await;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(10);
    let mut clients = Vec::new();
    // 25 connections that say nothing, 25 that send their headers a byte at a time (100 bytes
    // would take 20 s).
    for n in 0..50 {
        let stream = connect(&app).await;
        clients.push(tokio::spawn(async move {
            let start: &[u8] = if n % 2 == 0 { b"" } else { b"GET /healthz HTTP/1.1\r\nX-Slow: " };
            let what = if n % 2 == 0 { "a silent client" } else { "slow headers" };
            slow_client(what, stream, start, 100, deadline).await
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
    assert!(started.elapsed() < Duration::from_secs(8), "took {:?}", started.elapsed());

    // A body sent a byte at a time: the request fails instead of waiting for the rest.
    let stream = connect(&app).await;
    let head = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";
    let deadline = Instant::now() + Duration::from_secs(8);
    let answer = slow_client("a slow body", stream, head, 1000, deadline).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "{answer}");

    // An idle keep-alive connection after a complete request is closed too.
    let mut stream = connect(&app).await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let answer = until_closed(stream, Instant::now() + Duration::from_secs(8), "keep-alive").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_connections() {
    let app = app(5, 30).await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(connect(&app).await);
    }
    // The sixth is closed at once, while the five still work.
    let sixth = connect(&app).await;
    until_closed(sixth, Instant::now() + Duration::from_secs(5), "the sixth connection").await;
    let mut first = held.remove(0);
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer =
        until_closed(first, Instant::now() + Duration::from_secs(5), "a held connection").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The place it held is free again once the server has seen it close.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut next = connect(&app).await;
        let _ =
            next.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        let answer = until_closed(next, deadline, "a new connection").await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "no place came free");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
