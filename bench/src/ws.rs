//! Scenario 4, idle WebSocket connections: the resident memory each costs a Switchboard node,
//! against a bare axum WebSocket server (with the same buffer sizes) holding the same number of
//! idle connections. Each
//! Switchboard connection is a visitor's live feed of their own conversation.

use std::time::Duration;

use axum::Router;
use axum::extract::WebSocketUpgrade;
use axum::routing::get;
use futures_util::StreamExt;

use crate::child::{Rig, Server};
use crate::report::{Verdict, out};
use crate::setup::{Admin, conversations};

/// Connections opened at a time.
const OPENING: usize = 64;

pub struct Held {
    pub connections: usize,
    pub kib_per_connection: f64,
    pub failed: usize,
}

pub struct Result {
    pub switchboard: Held,
    pub baseline: Held,
}

/// The baseline: accept WebSockets and read until they close.
pub async fn serve_baseline() -> anyhow::Result<()> {
    let app = Router::new().route(
        "/ws",
        get(|upgrade: WebSocketUpgrade| async move {
            // The buffer sizes Switchboard uses, so the difference is Switchboard's own.
            let upgrade = upgrade.read_buffer_size(4 * 1024).max_message_size(16 * 1024);
            upgrade.on_upgrade(|mut socket| async move {
                while let Some(Ok(_)) = socket.recv().await {}
            })
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    crate::child::announce(&listener)?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// Opens a connection to every URL, holds them all, and measures the server's growth.
async fn hold(server: &Server, urls: Vec<String>) -> anyhow::Result<Held> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_kib()?;
    let opened: Vec<_> = futures_util::stream::iter(urls)
        .map(|url| async move { tokio_tungstenite::connect_async(url).await.ok() })
        .buffer_unordered(OPENING)
        .collect()
        .await;
    let failed = opened.iter().filter(|o| o.is_none()).count();
    // Read each connection so pings are answered, as a browser would.
    let readers: Vec<_> = opened
        .into_iter()
        .flatten()
        .map(|(mut socket, _)| {
            tokio::spawn(async move { while let Some(Ok(_)) = socket.next().await {} })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.rss_kib()?;
    let connections = readers.len();
    for reader in readers {
        reader.abort();
    }
    Ok(Held {
        connections,
        kib_per_connection: after.saturating_sub(before) as f64 / connections.max(1) as f64,
        failed,
    })
}

pub async fn measure(count: usize) -> anyhow::Result<Result> {
    let Rig { server, backend: _backend, dir } = Rig::start().await?;
    let base = server.url("");
    let widget = Admin::sign_up(&base, "sockets").await?.widget("Shop").await?;
    let visitors = conversations(&reqwest::Client::new(), &base, &widget, count, 16).await?;
    let ws_base = format!("ws://{}", server.address);
    let urls = visitors
        .iter()
        .map(|c| format!("{ws_base}/api/v1/widget/conversations/{}/ws?token={}", c.id, c.token))
        .collect();
    let switchboard = hold(&server, urls).await?;
    drop(server);

    let baseline = Server::start(&["websockets"], &dir.path().join("websockets.log"))?;
    let url = format!("ws://{}/ws", baseline.address);
    let baseline = hold(&baseline, vec![url; count]).await?;
    Ok(Result { switchboard, baseline })
}

pub fn print(result: &Result, verdicts: &mut Vec<Verdict>, out: &mut String) {
    let (s, b) = (&result.switchboard, &result.baseline);
    out!(out, "## 4. Idle WebSocket connections\n");
    out!(
        out,
        "Visitors' live feeds held open and idle (each on its own conversation, answering \
         pings), against a bare axum WebSocket server with the same buffer sizes holding as many. Memory is the growth of \
         the server process's resident size while they are open.\n"
    );
    out!(out, "| server | connections | failed | resident memory per connection |");
    out!(out, "|---|---:|---:|---:|");
    out!(
        out,
        "| Switchboard | {} | {} | {:.1} KiB |",
        s.connections,
        s.failed,
        s.kib_per_connection
    );
    out!(out, "| bare axum | {} | {} | {:.1} KiB |", b.connections, b.failed, b.kib_per_connection);
    let ratio = s.kib_per_connection / b.kib_per_connection.max(0.01);
    out!(out, "\nSwitchboard / bare: {ratio:.1}x\n");
    verdicts.push(Verdict::new(
        format!("4. under 32 KiB per idle connection at {}", s.connections),
        format!("{:.1} KiB", s.kib_per_connection),
        s.kib_per_connection < 32.0 && s.failed == 0,
    ));
}
