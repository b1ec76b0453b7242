//! Fault injection, through whole conversations: a backend (and a token endpoint) failing in
//! every way we know ends each lookup in its documented code, the rule's `on_error` answer and a
//! trace entry — and the conversation goes on answering. Nothing leaves loopback.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode as Status, header};
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::support::{Client, TestApp};

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Promises 1,000 bytes, sends ten, and hangs up.
async fn cut_mid_body() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 2048];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"data\":";
            let _ = socket.write_all(head.as_bytes()).await;
            drop(socket);
        }
    });
    addr
}

/// One failure per route of one backend, and token endpoints that misbehave.
async fn faulty_backend() -> SocketAddr {
    let gzip_bomb = {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b'{'; 20 * 1024 * 1024]).unwrap();
        encoder.finish().unwrap()
    };
    let router = Router::new()
        .route("/api/ok", get(|| async { axum::Json(json!({"value": "fine"})) }))
        .route(
            "/api/hang",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        )
        .route(
            "/api/drip",
            get(|| async {
                let chunks = futures_util::stream::unfold(0, |n| async move {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    (n < 100)
                        .then(|| (Ok::<_, std::io::Error>(bytes::Bytes::from_static(b" ")), n + 1))
                });
                axum::body::Body::from_stream(chunks)
            }),
        )
        .route("/api/e500", get(|| async { (Status::INTERNAL_SERVER_ERROR, "boom") }))
        .route("/api/e502", get(|| async { (Status::BAD_GATEWAY, "bad gateway") }))
        .route(
            "/api/e503",
            get(|| async { (Status::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")], "later") }),
        )
        .route(
            "/api/e429",
            get(|| async {
                (Status::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")], "slow down")
            }),
        )
        .route(
            "/api/e429-long",
            get(|| async {
                (Status::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "3600")], "much later")
            }),
        )
        .route("/api/not-json", get(|| async { "{\"value\": " }))
        .route(
            "/api/html",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/html")], "<html><body>Maintenance</body></html>")
            }),
        )
        .route("/api/huge", get(|| async { vec![b' '; 2 * 1024 * 1024] }))
        .route(
            "/api/bomb",
            get(move || {
                let body = gzip_bomb.clone();
                async move { ([(header::CONTENT_ENCODING, "gzip")], body) }
            }),
        )
        .route("/api/loop", get(|| async { (Status::FOUND, [(header::LOCATION, "/api/loop")]) }))
        .route(
            "/api/to-private",
            get(|| async {
                (Status::FOUND, [(header::LOCATION, "http://169.254.169.254/latest/meta-data")])
            }),
        )
        .route("/token/garbage", post(|| async { "not json at all" }))
        .route(
            "/token/refused",
            post(|| async {
                (Status::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client"})))
            }),
        )
        .route(
            "/token/expired",
            post(|| async {
                axum::Json(
                    json!({"access_token": "stale", "token_type": "Bearer", "expires_in": 0}),
                )
            }),
        )
        .route(
            "/api/needs-token",
            any(|headers: axum::http::HeaderMap| async move {
                // Accepts no token at all: an expired one is refused even after a refresh.
                let _ = headers;
                (Status::UNAUTHORIZED, "token expired").into_response()
            }),
        );
    serve(router).await
}

/// A connection, an endpoint `faults` with the fault's path in a variable, and a rule that
/// looks it up with an `on_error` answer naming the code.
async fn lookup_rule(
    owner: &Client,
    widget: &str,
    word: &str,
    base: &str,
    auth: serde_json::Value,
) {
    let body =
        json!({"name": format!("Faulty {word}"), "base_url": format!("{base}/api"), "auth": auth});
    let connection = owner.create_connection(body).await;
    let endpoint = json!({"name": format!("faults_{word}"), "method": "GET", "path": "/{fault}",
        "variables": [{"name": "fault", "required": true, "pattern": "[a-z0-9-]+"}],
        "response_mapping": {"value": "value"}});
    let endpoint = owner.create_endpoint(&connection, endpoint).await;
    owner.create_rule(json!({"name": format!("Fault {word}"), "widget_id": widget,
        "trigger": {"type": "regex", "pattern": format!("^{word} ([a-z0-9-]+)$")},
        "actions": [
            {"type": "SET_VARIABLE", "name": "fault", "from_regex": {"pattern": format!("^{word} ([a-z0-9-]+)$")}},
            {"type": "CALL_API", "endpoint_id": endpoint, "on_error": [
                {"type": "REPLY_TEXT", "text": format!("failed {{api.faults_{word}.error}}")}
            ]},
            {"type": "REPLY_TEXT", "text": "value {value}"}
        ], "stop": true})).await;
}

#[tokio::test]
async fn every_injected_fault_ends_in_its_code_its_on_error_answer_and_the_trace() {
    let backend = faulty_backend().await;
    let cut = cut_mid_body().await;
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let allow: Vec<String> = [backend, cut, refused].iter().map(ToString::to_string).collect();
    let app = TestApp::sqlite_with(|c| {
        c.security.ssrf_allow = allow;
        c.outbound.timeout_ms = 1500;
    })
    .await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    let none = json!({"type": "none"});
    let oauth = |token: &str| {
        json!({"type": "oauth2_client_credentials",
        "token_url": format!("http://{backend}/token/{token}"), "client_id": "c", "client_secret": "s"})
    };
    lookup_rule(&owner, &widget, "plain", &format!("http://{backend}"), none.clone()).await;
    lookup_rule(&owner, &widget, "cut", &format!("http://{cut}"), none.clone()).await;
    lookup_rule(&owner, &widget, "refused", &format!("http://{refused}"), none.clone()).await;
    lookup_rule(&owner, &widget, "tls", &format!("https://{backend}"), none).await;
    lookup_rule(&owner, &widget, "garbage", &format!("http://{backend}"), oauth("garbage")).await;
    lookup_rule(&owner, &widget, "badclient", &format!("http://{backend}"), oauth("refused")).await;
    lookup_rule(&owner, &widget, "expired", &format!("http://{backend}"), oauth("expired")).await;

    let cases = [
        ("plain hang", "timeout"),
        ("plain drip", "timeout"),
        ("plain e500", "http_error"),
        ("plain e502", "http_error"),
        ("plain e503", "http_error"),
        ("plain e429", "http_error"),
        ("plain e429-long", "http_error"),
        ("plain not-json", "invalid_response"),
        ("plain html", "invalid_response"),
        ("plain huge", "response_too_large"),
        ("plain bomb", "response_too_large"),
        ("plain loop", "too_many_redirects"),
        ("plain to-private", "ssrf_blocked"),
        ("cut anything", "invalid_response"),
        ("refused anything", "connect_failed"),
        ("tls ok", "tls_failed"),
        ("garbage ok", "token_request_failed"),
        ("badclient ok", "token_request_failed"),
        ("expired needs-token", "auth_failed"),
    ];
    let visitor = app.start_conversation(&widget).await;
    for (message, code) in cases {
        let replies = visitor.say(message).await;
        if replies != [format!("failed {code}")] {
            let events = owner.trace(&visitor.conversation_id).await;
            let call = events.iter().rev().find(|e| e["kind"] == "api_call").unwrap();
            panic!("{message}: {replies:?}\n{call:#}");
        }
    }
    // The conversation is not stuck: a healthy lookup still answers.
    assert_eq!(visitor.say("plain ok").await, ["value fine"]);
    let events = owner.trace(&visitor.conversation_id).await;
    let failed: Vec<&str> = events
        .iter()
        .filter(|e| e["kind"] == "api_call" && e["data"]["ok"] == false)
        .filter_map(|e| e["data"]["error"]["code"].as_str())
        .collect();
    assert_eq!(failed, cases.map(|(_, code)| code), "one trace entry per fault, with its code");
}
