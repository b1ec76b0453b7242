//! execute() against a real backend on loopback: every static auth method, response mapping,
//! retries only where safe, and every failure path ending in its documented code.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::any;
use sb_connectors::{AuthSecrets, CallTarget, NoSink, Variables};
use sb_domain::{ApiKeyPlacement, AuthConfig, HttpMethod, VariableSpec};
use serde_json::json;
use support::{Recorder, connection, connector, endpoint, secrets, serve};

/// A backend that records every request and answers with an order document.
async fn order_backend() -> (std::net::SocketAddr, Recorder) {
    let recorder = Recorder::default();
    let rec = recorder.clone();
    let router = Router::new().fallback(any(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let rec = rec.clone();
        async move {
            rec.record(&method, &uri, &headers, &body);
            axum::Json(json!({"data": {"status": "shipped", "shipping": {"eta": "2026-12-01"}, "items": [{"sku": "A"}, {"sku": "B"}]}}))
        }
    }));
    (serve(router).await, recorder)
}

fn order_vars() -> Variables {
    Variables::from([("orderId".to_owned(), json!("4521"))])
}

#[tokio::test]
async fn every_static_auth_method_reaches_the_backend_and_never_the_shown_url() {
    let (addr, recorder) = order_backend().await;
    let connector = connector(&[addr]);
    let cases: Vec<(AuthConfig, AuthSecrets, &str, &str)> = vec![
        (AuthConfig::None, AuthSecrets::default(), "", ""),
        (
            AuthConfig::ApiKey { placement: ApiKeyPlacement::Header, name: "X-Api-Key".into() },
            secrets("key", "hk-secret-1"),
            "x-api-key",
            "hk-secret-1",
        ),
        (
            AuthConfig::Bearer,
            secrets("token", "bt-secret-2"),
            "authorization",
            "Bearer bt-secret-2",
        ),
        (
            AuthConfig::Basic { username: "shop".into() },
            secrets("password", "pw-secret-3"),
            "authorization",
            "Basic c2hvcDpwdy1zZWNyZXQtMw==",
        ),
    ];
    for (auth, creds, header_name, expected) in cases {
        let conn = connection(addr, auth.clone());
        let mut ep = endpoint(&conn, HttpMethod::Get, "/orders/{orderId}");
        ep.response_mapping = BTreeMap::from([
            ("order_status".into(), "data.status".into()),
            ("delivery_eta".into(), "data.shipping.eta".into()),
            ("skus".into(), "data.items[*].sku".into()),
            ("carrier".into(), "data.shipping.carrier".into()),
        ]);
        let target = CallTarget { connection: &conn, secrets: &creds };
        let outcome = connector.execute(target, &ep, &order_vars(), &NoSink).await;
        assert!(outcome.ok, "{auth:?}: {:?}", outcome.error);
        assert_eq!(outcome.status, Some(200));
        assert_eq!(outcome.mapped["order_status"], json!("shipped"));
        assert_eq!(outcome.mapped["delivery_eta"], json!("2026-12-01"));
        assert_eq!(outcome.mapped["skus"], json!(["A", "B"]));
        assert_eq!(outcome.missing, vec!["data.shipping.carrier".to_owned()]);
        let seen = recorder.last();
        assert_eq!(seen.uri, "/api/orders/4521");
        if !header_name.is_empty() {
            assert_eq!(seen.headers[header_name], expected, "{auth:?}");
        }
        let shown = serde_json::to_string(&outcome).unwrap();
        assert!(!shown.contains("secret"), "credentials leaked into the outcome: {shown}");
    }

    let conn = connection(
        addr,
        AuthConfig::ApiKey { placement: ApiKeyPlacement::Query, name: "api_key".into() },
    );
    let ep = endpoint(&conn, HttpMethod::Get, "/orders/{orderId}");
    let creds = secrets("key", "qk-secret-4");
    let outcome = connector
        .execute(CallTarget { connection: &conn, secrets: &creds }, &ep, &order_vars(), &NoSink)
        .await;
    assert!(outcome.ok);
    assert_eq!(recorder.last().uri, "/api/orders/4521?api_key=qk-secret-4");
    let shown = outcome.request.unwrap().url;
    assert!(shown.ends_with("/api/orders/4521?api_key=***"), "{shown}");
}

#[tokio::test]
async fn templates_fill_path_query_headers_and_body() {
    let (addr, recorder) = order_backend().await;
    let connector = connector(&[addr]);
    let mut conn = connection(addr, AuthConfig::None);
    conn.headers = BTreeMap::from([
        ("X-Shop".into(), "shop-{shop}".into()),
        ("X-Trace".into(), "default".into()),
    ]);
    let mut ep = endpoint(&conn, HttpMethod::Post, "/orders/{orderId}/notes");
    ep.request.query = BTreeMap::from([("lang".into(), "{visitor.language}".into())]);
    ep.request.headers = BTreeMap::from([("x-trace".into(), "conv-{conversation.id}".into())]);
    ep.request.body =
        Some(json!({"order": "{orderId}", "qty": "{qty}", "text": "Hi {visitor.name}"}));
    let vars = Variables::from([
        ("orderId".to_owned(), json!("45/21")),
        ("shop".to_owned(), json!("eu")),
        ("qty".to_owned(), json!(3)),
        ("visitor.language".to_owned(), json!("de & fr")),
        ("visitor.name".to_owned(), json!("Zoë \"Z\"")),
        ("conversation.id".to_owned(), json!("cnv_1")),
    ]);
    let outcome = connector
        .execute(
            CallTarget { connection: &conn, secrets: &AuthSecrets::default() },
            &ep,
            &vars,
            &NoSink,
        )
        .await;
    assert!(outcome.ok, "{:?}", outcome.error);
    let seen = recorder.last();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.uri, "/api/orders/45%2F21/notes?lang=de+%26+fr");
    assert_eq!(seen.headers["x-shop"], "shop-eu");
    assert_eq!(seen.headers["x-trace"], "conv-cnv_1", "endpoint headers override the connection's");
    assert_eq!(seen.headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(body, json!({"order": "45/21", "qty": 3, "text": "Hi Zoë \"Z\""}));
}

#[tokio::test]
async fn missing_or_invalid_variables_send_nothing() {
    let (addr, recorder) = order_backend().await;
    let connector = connector(&[addr]);
    let conn = connection(addr, AuthConfig::None);
    let mut ep = endpoint(&conn, HttpMethod::Get, "/orders/{orderId}");
    ep.request.variables = vec![VariableSpec {
        name: "orderId".into(),
        description: "".into(),
        required: true,
        pattern: Some("[0-9]{3,6}".into()),
    }];
    let target = CallTarget { connection: &conn, secrets: &AuthSecrets::default() };
    let missing = connector.execute(target, &ep, &Variables::new(), &NoSink).await;
    assert_eq!(missing.error.unwrap().code, "missing_variable");
    let bad = Variables::from([("orderId".to_owned(), json!("12; DROP TABLE"))]);
    assert_eq!(
        connector.execute(target, &ep, &bad, &NoSink).await.error.unwrap().code,
        "invalid_variable"
    );
    let partial = Variables::from([("orderId".to_owned(), json!("4521x"))]);
    assert_eq!(
        connector.execute(target, &ep, &partial, &NoSink).await.error.unwrap().code,
        "invalid_variable",
        "patterns match the whole value"
    );
    assert_eq!(recorder.count(), 0);
}

/// A backend whose first `failures` answers are `status` (with optional Retry-After).
async fn flaky(
    status: StatusCode,
    failures: usize,
    retry_after: Option<&'static str>,
) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().fallback(any(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < failures {
                let mut response = (status, "busy").into_response();
                if let Some(after) = retry_after {
                    response.headers_mut().insert(header::RETRY_AFTER, after.parse().unwrap());
                }
                response
            } else {
                axum::Json(json!({"ok": true})).into_response()
            }
        }
    }));
    (serve(router).await, hits)
}

#[tokio::test]
async fn retries_happen_once_and_only_when_safe() {
    let none = AuthSecrets::default();
    for (method, idempotent, status, retry_after, expect_ok, expect_hits) in [
        (HttpMethod::Get, false, StatusCode::SERVICE_UNAVAILABLE, None, true, 2),
        (HttpMethod::Put, false, StatusCode::BAD_GATEWAY, None, true, 2),
        (HttpMethod::Delete, false, StatusCode::GATEWAY_TIMEOUT, None, true, 2),
        (HttpMethod::Post, false, StatusCode::SERVICE_UNAVAILABLE, None, false, 1),
        (HttpMethod::Patch, false, StatusCode::SERVICE_UNAVAILABLE, None, false, 1),
        (HttpMethod::Post, true, StatusCode::SERVICE_UNAVAILABLE, None, true, 2),
        (HttpMethod::Get, false, StatusCode::INTERNAL_SERVER_ERROR, None, false, 1),
        (HttpMethod::Get, false, StatusCode::TOO_MANY_REQUESTS, Some("1"), true, 2),
        (HttpMethod::Get, false, StatusCode::TOO_MANY_REQUESTS, Some("30"), false, 1),
        (HttpMethod::Get, false, StatusCode::TOO_MANY_REQUESTS, None, false, 1),
    ] {
        let (addr, hits) = flaky(status, 1, retry_after).await;
        let connector = connector(&[addr]);
        let conn = connection(addr, AuthConfig::None);
        let mut ep = endpoint(&conn, method, "/x");
        ep.idempotent = idempotent;
        let outcome = connector
            .execute(
                CallTarget { connection: &conn, secrets: &none },
                &ep,
                &Variables::new(),
                &NoSink,
            )
            .await;
        let label =
            format!("{method:?} idempotent={idempotent} {status} retry-after={retry_after:?}");
        assert_eq!(outcome.ok, expect_ok, "{label}: {:?}", outcome.error);
        assert_eq!(hits.load(Ordering::SeqCst), expect_hits, "{label}");
        if !expect_ok {
            assert_eq!(outcome.error.unwrap().code, "http_error", "{label}");
        }
    }
    // Two failures in a row: the one retry is spent, the call fails.
    let (addr, hits) = flaky(StatusCode::SERVICE_UNAVAILABLE, 5, None).await;
    let connector = connector(&[addr]);
    let conn = connection(addr, AuthConfig::None);
    let ep = endpoint(&conn, HttpMethod::Get, "/x");
    let outcome = connector
        .execute(CallTarget { connection: &conn, secrets: &none }, &ep, &Variables::new(), &NoSink)
        .await;
    assert_eq!(outcome.error.unwrap().code, "http_error");
    assert_eq!((hits.load(Ordering::SeqCst), outcome.attempts), (2, 2));
}

#[tokio::test]
async fn failure_paths_end_in_their_codes() {
    let slow = serve(Router::new().fallback(any(|| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        "late"
    })))
    .await;
    let not_json = serve(
        Router::new().fallback(any(|| async { "<html>Service temporarily unavailable</html>" })),
    )
    .await;
    let unauthorized =
        serve(Router::new().fallback(any(|| async { (StatusCode::UNAUTHORIZED, "no") }))).await;
    let huge = serve(Router::new().fallback(any(|| async { vec![b'x'; 2 * 1024 * 1024] }))).await;
    let to_private = serve(Router::new().fallback(any(|| async {
        (StatusCode::FOUND, [(header::LOCATION, "http://10.0.0.1/steal")])
    })))
    .await;
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let connector = connector(&[slow, not_json, unauthorized, huge, to_private, refused]);
    let none = AuthSecrets::default();
    let run = |addr, timeout_ms: u32| {
        let mut conn = connection(addr, AuthConfig::None);
        conn.timeout_ms = timeout_ms;
        let mut ep = endpoint(&conn, HttpMethod::Get, "/x");
        ep.response_mapping = BTreeMap::from([("v".into(), "value".into())]);
        (conn, ep)
    };
    for (addr, timeout, code) in [
        (slow, 400, "timeout"),
        (not_json, 5000, "invalid_response"),
        (unauthorized, 5000, "auth_failed"),
        (huge, 5000, "response_too_large"),
        (to_private, 5000, "ssrf_blocked"),
        (refused, 5000, "connect_failed"),
    ] {
        let (conn, ep) = run(addr, timeout);
        let started = Instant::now();
        let outcome = connector
            .execute(
                CallTarget { connection: &conn, secrets: &none },
                &ep,
                &Variables::new(),
                &NoSink,
            )
            .await;
        assert_eq!(outcome.error.as_ref().map(|e| e.code), Some(code), "{:?}", outcome.error);
        assert!(started.elapsed() < Duration::from_secs(3), "{code} took {:?}", started.elapsed());
        if code == "invalid_response" {
            assert!(outcome.body_preview.starts_with("<html>"), "the preview shows what came back");
        }
    }
    let blocked_conn =
        connection(std::net::SocketAddr::from(([127, 0, 0, 1], 9)), AuthConfig::None);
    let ep = endpoint(&blocked_conn, HttpMethod::Get, "/x");
    let outcome = connector
        .execute(
            CallTarget { connection: &blocked_conn, secrets: &none },
            &ep,
            &Variables::new(),
            &NoSink,
        )
        .await;
    assert_eq!(outcome.error.unwrap().code, "ssrf_blocked", "a base URL outside the allowlist");
}

#[tokio::test]
async fn the_connection_test_accepts_any_answer_but_refused_credentials_and_server_errors() {
    let (addr, _) = order_backend().await;
    let unauthorized =
        serve(Router::new().fallback(any(|| async { (StatusCode::FORBIDDEN, "no") }))).await;
    let not_found =
        serve(Router::new().fallback(any(|| async { (StatusCode::NOT_FOUND, "no root here") })))
            .await;
    let broken = serve(
        Router::new().fallback(any(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") })),
    )
    .await;
    let connector = connector(&[addr, unauthorized, not_found, broken]);
    let none = AuthSecrets::default();
    for (target, ok, code) in [
        (addr, true, None),
        (not_found, true, None),
        (unauthorized, false, Some("auth_failed")),
        (broken, false, Some("http_error")),
    ] {
        let conn = connection(target, AuthConfig::None);
        let outcome = connector
            .test_connection(CallTarget { connection: &conn, secrets: &none }, &Default::default())
            .await;
        assert_eq!(outcome.ok, ok, "{target}: {:?}", outcome.error);
        assert_eq!(outcome.error.map(|e| e.code), code);
        assert!(outcome.status.is_some());
    }
}
