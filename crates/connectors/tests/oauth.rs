//! OAuth 2.0 client credentials against a real token server on loopback that counts requests.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{any, post};
use sb_connectors::{AuthSecrets, CallTarget, Connector, NoSink, Variables};
use sb_domain::{AuthConfig, ClientAuth, Connection, HttpMethod, RefreshOn};
use serde_json::json;
use support::{connection, connector, endpoint, secrets, serve};

#[derive(Clone, Default)]
struct TokenServer {
    issued: Arc<AtomicUsize>,
    /// The token the API accepts; older ones are "expired".
    current: Arc<Mutex<String>>,
    last_form: Arc<Mutex<String>>,
    last_authorization: Arc<Mutex<Option<String>>>,
}

/// Token endpoint at /token and an API at /api/* that accepts only the newest token. With
/// `body_expiry`, a stale token gets `200 {"errcode": 40001}` instead of 401.
async fn oauth_world(
    expires_in: Option<u64>,
    body_expiry: bool,
) -> (std::net::SocketAddr, TokenServer) {
    let server = TokenServer::default();
    let tokens = server.clone();
    let api = server.clone();
    let router = Router::new()
        .route(
            "/token",
            post(move |headers: HeaderMap, body: Bytes| {
                let tokens = tokens.clone();
                async move {
                    // Slow enough that concurrent callers really overlap.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    *tokens.last_form.lock().unwrap() = String::from_utf8_lossy(&body).into_owned();
                    *tokens.last_authorization.lock().unwrap() =
                        headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
                    let n = tokens.issued.fetch_add(1, Ordering::SeqCst) + 1;
                    let token = format!("tok-{n}");
                    *tokens.current.lock().unwrap() = token.clone();
                    let mut answer = json!({"access_token": token, "token_type": "Bearer"});
                    if let Some(secs) = expires_in {
                        answer["expires_in"] = json!(secs);
                    }
                    axum::Json(answer)
                }
            }),
        )
        .route(
            "/api/{*rest}",
            any(move |headers: HeaderMap| {
                let api = api.clone();
                async move {
                    let current = format!("Bearer {}", api.current.lock().unwrap());
                    let sent = headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
                    match (sent == Some(current), body_expiry) {
                        (true, _) => {
                            axum::Json(json!({"data": {"status": "shipped"}})).into_response()
                        }
                        (false, true) => {
                            axum::Json(json!({"errcode": 40001, "errmsg": "access_token expired"}))
                                .into_response()
                        }
                        (false, false) => (StatusCode::UNAUTHORIZED, "expired").into_response(),
                    }
                }
            }),
        );
    (serve(router).await, server)
}

fn oauth_connection(
    addr: std::net::SocketAddr,
    client_auth: ClientAuth,
    refresh_on: RefreshOn,
) -> Connection {
    connection(
        addr,
        AuthConfig::Oauth2ClientCredentials {
            token_url: format!("http://{addr}/token"),
            client_id: "shop client".into(),
            scope: Some("orders:read".into()),
            audience: Some("https://api.example.com".into()),
            client_auth,
            refresh_on,
        },
    )
}

async fn call(
    connector: &Connector,
    conn: &Connection,
    creds: &AuthSecrets,
) -> sb_connectors::CallOutcome {
    let mut ep = endpoint(conn, HttpMethod::Get, "/orders/1");
    ep.response_mapping = BTreeMap::from([("status".into(), "data.status".into())]);
    connector
        .execute(CallTarget { connection: conn, secrets: creds }, &ep, &Variables::new(), &NoSink)
        .await
}

#[tokio::test]
async fn two_hundred_concurrent_calls_on_a_cold_cache_fetch_one_token() {
    let (addr, server) = oauth_world(Some(3600), false).await;
    let connector = Arc::new(connector(&[addr]));
    let conn = Arc::new(oauth_connection(addr, ClientAuth::Basic, RefreshOn::default()));
    let creds = Arc::new(secrets("client_secret", "cs-secret"));
    let calls: Vec<_> = (0..200)
        .map(|_| {
            let (connector, conn, creds) = (connector.clone(), conn.clone(), creds.clone());
            tokio::spawn(async move { call(&connector, &conn, &creds).await })
        })
        .collect();
    for handle in calls {
        let outcome = handle.await.unwrap();
        assert!(outcome.ok, "{:?}", outcome.error);
        assert_eq!(outcome.mapped["status"], json!("shipped"));
    }
    assert_eq!(server.issued.load(Ordering::SeqCst), 1, "one token request for 200 calls");
    // Reused while valid.
    assert!(call(&connector, &conn, &creds).await.ok);
    assert_eq!(server.issued.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn client_secret_basic_and_post_send_credentials_as_specified() {
    let (addr, server) = oauth_world(Some(3600), false).await;
    let connector = connector(&[addr]);
    let creds = secrets("client_secret", "s3cr:t&x");
    let basic = oauth_connection(addr, ClientAuth::Basic, RefreshOn::default());
    assert!(call(&connector, &basic, &creds).await.ok);
    let form = server.last_form.lock().unwrap().clone();
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(
        form.contains("scope=orders%3Aread")
            && form.contains("audience=https%3A%2F%2Fapi.example.com"),
        "{form}"
    );
    assert!(!form.contains("client_secret"), "basic auth keeps the secret out of the body: {form}");
    // base64("shop+client:s3cr%3At%26x"), both parts form-encoded first (RFC 6749 §2.3.1).
    assert_eq!(
        server.last_authorization.lock().unwrap().as_deref(),
        Some("Basic c2hvcCtjbGllbnQ6czNjciUzQXQlMjZ4")
    );

    let post = oauth_connection(addr, ClientAuth::Post, RefreshOn::default());
    assert!(call(&connector, &post, &creds).await.ok);
    let form = server.last_form.lock().unwrap().clone();
    assert!(
        form.contains("client_id=shop+client") && form.contains("client_secret=s3cr%3At%26x"),
        "{form}"
    );
    assert_eq!(*server.last_authorization.lock().unwrap(), None);
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire() {
    let (addr, server) = oauth_world(Some(2), false).await;
    let connector = connector(&[addr]);
    let conn = oauth_connection(addr, ClientAuth::Basic, RefreshOn::default());
    let creds = secrets("client_secret", "cs");
    assert!(call(&connector, &conn, &creds).await.ok);
    assert!(call(&connector, &conn, &creds).await.ok);
    assert_eq!(server.issued.load(Ordering::SeqCst), 1);
    // A 2-second token is renewed after half its life.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(call(&connector, &conn, &creds).await.ok);
    assert_eq!(server.issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_expired_token_is_refetched_and_the_call_retried_once() {
    for body_expiry in [false, true] {
        let (addr, server) = oauth_world(None, body_expiry).await;
        let connector = connector(&[addr]);
        let refresh_on = if body_expiry {
            RefreshOn {
                statuses: vec![401],
                body_path: Some("errcode".into()),
                body_values: vec!["40001".into()],
            }
        } else {
            RefreshOn::default()
        };
        let conn = oauth_connection(addr, ClientAuth::Basic, refresh_on);
        let creds = secrets("client_secret", "cs");
        assert!(call(&connector, &conn, &creds).await.ok);
        // The provider revokes the token behind our back.
        *server.current.lock().unwrap() = "rotated-elsewhere".into();
        // The next token the server issues is accepted again.
        let outcome = call(&connector, &conn, &creds).await;
        assert!(outcome.ok, "body_expiry={body_expiry}: {:?}", outcome.error);
        assert!(outcome.token_refreshed);
        assert_eq!(outcome.mapped["status"], json!("shipped"));
        assert_eq!(server.issued.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn a_failing_token_endpoint_reports_the_providers_error_but_never_the_secret() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let addr = serve(Router::new().route(
        "/token",
        post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async {
                (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client", "error_description": "bad secret wrong-secret-value"})))
            }
        }),
    ))
    .await;
    let garbage =
        serve(Router::new().route("/token", post(|| async { "<html>oops</html>" }))).await;
    let connector = connector(&[addr, garbage]);
    let creds = secrets("client_secret", "wrong-secret-value");
    let conn = oauth_connection(addr, ClientAuth::Post, RefreshOn::default());
    let outcome = call(&connector, &conn, &creds).await;
    let err = outcome.error.unwrap();
    assert_eq!(err.code, "token_request_failed");
    assert!(
        err.message.contains("invalid_client") && err.message.contains("401"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("wrong-secret-value"), "{}", err.message);
    // Callers right behind a failure share it instead of hammering the provider.
    call(&connector, &conn, &creds).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let mut conn = oauth_connection(addr, ClientAuth::Post, RefreshOn::default());
    if let AuthConfig::Oauth2ClientCredentials { token_url, .. } = &mut conn.auth {
        *token_url = format!("http://{garbage}/token");
    }
    let err = call(&connector, &conn, &creds).await.error.unwrap();
    assert_eq!(err.code, "token_request_failed");
    assert!(err.message.contains("JSON"), "{}", err.message);

    if let AuthConfig::Oauth2ClientCredentials { token_url, .. } = &mut conn.auth {
        *token_url = "http://169.254.169.254/token".into();
    }
    assert_eq!(call(&connector, &conn, &creds).await.error.unwrap().code, "ssrf_blocked");
}

#[tokio::test]
async fn new_credentials_never_reuse_an_old_token() {
    let (addr, server) = oauth_world(Some(3600), false).await;
    let connector = connector(&[addr]);
    let conn = oauth_connection(addr, ClientAuth::Basic, RefreshOn::default());
    assert!(call(&connector, &conn, &secrets("client_secret", "first")).await.ok);
    assert!(call(&connector, &conn, &secrets("client_secret", "second")).await.ok);
    assert_eq!(server.issued.load(Ordering::SeqCst), 2);
    connector.tokens().forget_connection(&conn.tenant_id, &conn.id);
    assert!(call(&connector, &conn, &secrets("client_secret", "second")).await.ok);
    assert_eq!(server.issued.load(Ordering::SeqCst), 3, "a forgotten connection fetches anew");

    // The connection test always proves the credentials with a fresh token.
    let outcome = connector
        .test_connection(
            CallTarget { connection: &conn, secrets: &secrets("client_secret", "second") },
            &Default::default(),
        )
        .await;
    assert_eq!(server.issued.load(Ordering::SeqCst), 4, "{:?}", outcome.error);
}
