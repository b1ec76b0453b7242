//! The client against real HTTP servers on 127.0.0.1, reached only through the operator
//! allowlist. Destinations that must be refused are refused before any connection, which the
//! servers' hit counters prove.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use sb_net::{
    AllowEntry, HttpClient, Lookup, Method, NetConfig, NetError, OutboundRequest, SsrfPolicy,
};

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A server that counts requests and answers "ok".
async fn counting_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().fallback(any(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { "ok" }
    }));
    (serve(router).await, hits)
}

fn client_allowing(entries: &[String]) -> HttpClient {
    client_with(entries, NetConfig::default())
}

fn client_with(entries: &[String], config: NetConfig) -> HttpClient {
    let allow = entries.iter().map(|e| e.parse::<AllowEntry>().unwrap()).collect();
    HttpClient::new(SsrfPolicy::new(allow), config).unwrap()
}

async fn fetch(client: &HttpClient, url: &str) -> Result<sb_net::OutboundResponse, NetError> {
    client.send(OutboundRequest::new(Method::GET, url)?).await
}

#[tokio::test]
async fn an_allowlisted_server_answers() {
    let (addr, hits) = counting_server().await;
    let client = client_allowing(&[addr.to_string()]);
    let response = fetch(&client, &format!("http://{addr}/hello")).await.unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(&response.body[..], b"ok");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn loopback_is_refused_without_connecting_unless_allowlisted() {
    let (addr, hits) = counting_server().await;
    let other_port = format!("127.0.0.1:{}", addr.port() + 1);
    let client = client_allowing(&[other_port]);
    let url = format!("http://{addr}/");
    let err = fetch(&client, &url).await.unwrap_err();
    assert_eq!(err.code(), "ssrf_blocked", "{err}");
    let err = fetch(&client, &format!("http://localhost:{}/", addr.port())).await.unwrap_err();
    assert_eq!(err.code(), "ssrf_blocked", "{err}");
    let err =
        fetch(&client, &format!("http://[::ffff:127.0.0.1]:{}/", addr.port())).await.unwrap_err();
    assert_eq!(err.code(), "ssrf_blocked", "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the server");
}

fn redirect_to(location: String, status: StatusCode) -> Router {
    Router::new().fallback(any(move || {
        let location = location.clone();
        async move { (status, [(header::LOCATION, location)]).into_response() }
    }))
}

#[tokio::test]
async fn every_redirect_hop_is_checked() {
    let (target, target_hits) = counting_server().await;
    let to_loopback =
        serve(redirect_to(format!("http://{target}/secret"), StatusCode::FOUND)).await;
    let to_metadata = serve(redirect_to(
        "http://169.254.169.254/latest/meta-data/".into(),
        StatusCode::MOVED_PERMANENTLY,
    ))
    .await;
    let to_localhost = serve(redirect_to(
        format!("http://localhost:{}/", target.port()),
        StatusCode::TEMPORARY_REDIRECT,
    ))
    .await;
    let to_file = serve(redirect_to("file:///etc/passwd".into(), StatusCode::FOUND)).await;
    let client = client_allowing(&[
        to_loopback.to_string(),
        to_metadata.to_string(),
        to_localhost.to_string(),
        to_file.to_string(),
    ]);
    for start in [to_loopback, to_metadata, to_localhost] {
        let err = fetch(&client, &format!("http://{start}/")).await.unwrap_err();
        assert_eq!(err.code(), "ssrf_blocked", "{start}: {err}");
    }
    let err = fetch(&client, &format!("http://{to_file}/")).await.unwrap_err();
    assert_eq!(err.code(), "invalid_url", "{err}");
    assert_eq!(target_hits.load(Ordering::SeqCst), 0, "the private target was never contacted");
}

#[tokio::test]
async fn redirects_are_followed_within_the_allowlist_up_to_five_hops() {
    let (target, hits) = counting_server().await;
    let hop = serve(redirect_to(format!("http://{target}/final"), StatusCode::FOUND)).await;
    let client = client_allowing(&[hop.to_string(), target.to_string()]);
    let response = fetch(&client, &format!("http://{hop}/")).await.unwrap();
    assert_eq!(response.redirects, 1);
    assert_eq!(response.url.path(), "/final");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let loop_hits = Arc::new(AtomicUsize::new(0));
    let counter = loop_hits.clone();
    let looping = Router::new().fallback(any(move |req: Request| {
        counter.fetch_add(1, Ordering::SeqCst);
        let next = format!("/again{}", req.uri().path().len());
        async move { (StatusCode::FOUND, [(header::LOCATION, next)]).into_response() }
    }));
    let looping = serve(looping).await;
    let client = client_allowing(&[looping.to_string()]);
    let err = fetch(&client, &format!("http://{looping}/")).await.unwrap_err();
    assert_eq!(err.code(), "too_many_redirects");
    assert_eq!(loop_hits.load(Ordering::SeqCst), 6, "the first request and five redirects");
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_origin() {
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let recorder = seen.clone();
    let other = serve(Router::new().fallback(any(move |headers: HeaderMap| {
        recorder.lock().unwrap().push(headers);
        async { "landed" }
    })))
    .await;
    let origin = serve(
        Router::new()
            .route(
                "/same",
                any(|| async {
                    (StatusCode::FOUND, [(header::LOCATION, "/here")]).into_response()
                }),
            )
            .route(
                "/here",
                get(|headers: HeaderMap| async move {
                    headers
                        .get("x-api-key")
                        .map_or("none".to_owned(), |v| v.to_str().unwrap().to_owned())
                }),
            )
            .route(
                "/away",
                any(move || async move {
                    (StatusCode::SEE_OTHER, [(header::LOCATION, format!("http://{other}/landing"))])
                        .into_response()
                }),
            ),
    )
    .await;
    let client = client_allowing(&[origin.to_string(), other.to_string()]);
    let request = |path: &str| {
        OutboundRequest::new(Method::POST, &format!("http://{origin}{path}"))
            .unwrap()
            .secret_header("x-api-key", "key-123")
            .unwrap()
            .secret_header("authorization", "Bearer token-456")
            .unwrap()
            .header("x-trace", "visible")
            .unwrap()
            .body("application/json", "{\"a\":1}")
            .unwrap()
    };
    let same = client.send(request("/same")).await.unwrap();
    assert_eq!(&same.body[..], b"key-123", "same-origin hops keep credentials");
    let away = client.send(request("/away")).await.unwrap();
    assert_eq!(&away.body[..], b"landed");
    let headers = seen.lock().unwrap().pop().unwrap();
    assert!(headers.get("x-api-key").is_none());
    assert!(headers.get("authorization").is_none());
    assert_eq!(headers["x-trace"], "visible");
    assert!(headers.get("content-type").is_none(), "303 turns the POST into a GET without body");
}

#[tokio::test]
async fn a_hanging_server_trips_the_deadline() {
    let slow = serve(Router::new().fallback(any(|| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        "late"
    })))
    .await;
    let client = client_allowing(&[slow.to_string()]);
    let started = Instant::now();
    let request = OutboundRequest::new(Method::GET, &format!("http://{slow}/"))
        .unwrap()
        .timeout(Duration::from_millis(300));
    let err = client.send(request).await.unwrap_err();
    assert_eq!(err.code(), "timeout");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

    // A request cannot ask for more than the ceiling (5 s in production, 400 ms here).
    let config = NetConfig { max_timeout: Duration::from_millis(400), ..NetConfig::default() };
    let client = client_with(&[slow.to_string()], config);
    let started = Instant::now();
    let request = OutboundRequest::new(Method::GET, &format!("http://{slow}/"))
        .unwrap()
        .timeout(Duration::from_secs(60));
    assert_eq!(client.send(request).await.unwrap_err().code(), "timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_slow_drip_of_bytes_still_ends_at_the_deadline() {
    let drip = serve(Router::new().fallback(any(|| async {
        let stream = futures_util::stream::unfold(0u32, |n| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Some((Ok::<_, io::Error>(bytes::Bytes::from_static(b"x")), n + 1))
        });
        Response::new(Body::from_stream(stream))
    })))
    .await;
    let config = NetConfig { max_timeout: Duration::from_millis(700), ..NetConfig::default() };
    let client = client_with(&[drip.to_string()], config);
    let started = Instant::now();
    assert_eq!(fetch(&client, &format!("http://{drip}/")).await.unwrap_err().code(), "timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn oversized_and_compressed_bomb_bodies_stop_at_the_cap() {
    let bomb = Arc::new(gzip(&vec![0u8; 64 * 1024 * 1024]));
    assert!(bomb.len() < 200 * 1024, "64 MiB of zeros compress to {} bytes", bomb.len());
    let small_gzip = Arc::new(gzip(b"{\"fine\":true}"));
    let server = serve(
        Router::new()
            .route(
                "/bomb",
                get(move || {
                    let bomb = bomb.clone();
                    async move { ([(header::CONTENT_ENCODING, "gzip")], (*bomb).clone()) }
                }),
            )
            .route(
                "/gzip",
                get(move || {
                    let body = small_gzip.clone();
                    async move { ([(header::CONTENT_ENCODING, "gzip")], (*body).clone()) }
                }),
            )
            .route("/huge", get(|| async { vec![b'a'; 3 * 1024 * 1024] }))
            .route(
                "/chunked",
                get(|| async {
                    let chunks =
                        futures_util::stream::iter((0..64).map(|_| {
                            Ok::<_, io::Error>(bytes::Bytes::from(vec![b'b'; 64 * 1024]))
                        }));
                    Response::new(Body::from_stream(chunks))
                }),
            ),
    )
    .await;
    let client = client_allowing(&[server.to_string()]);
    for path in ["/bomb", "/huge", "/chunked"] {
        let err = fetch(&client, &format!("http://{server}{path}")).await.unwrap_err();
        assert_eq!(err.code(), "response_too_large", "{path}: {err}");
    }
    let fine = fetch(&client, &format!("http://{server}/gzip")).await.unwrap();
    assert_eq!(&fine.body[..], b"{\"fine\":true}", "gzip is decoded transparently");
}

#[tokio::test]
async fn refused_connections_and_tls_failures_have_their_own_codes() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let (plain, _) = counting_server().await;
    let client = client_allowing(&[closed.to_string(), plain.to_string()]);
    let err = fetch(&client, &format!("http://{closed}/")).await.unwrap_err();
    assert_eq!(err.code(), "connect_failed", "{err}");
    let err = fetch(&client, &format!("https://{plain}/")).await.unwrap_err();
    assert_eq!(err.code(), "tls_failed", "{err}");
}

/// A DNS stand-in: names resolve to 127.0.0.1, as a hostile DNS record would make them.
struct PointsAtLoopback;

impl Lookup for PointsAtLoopback {
    fn lookup(
        &self,
        _host: &str,
    ) -> Pin<Box<dyn std::future::Future<Output = io::Result<Vec<IpAddr>>> + Send>> {
        Box::pin(async { Ok(vec!["127.0.0.1".parse().unwrap()]) })
    }
}

#[tokio::test]
async fn a_public_looking_name_pointing_at_loopback_is_blocked_unless_the_name_is_allowed() {
    let (addr, hits) = counting_server().await;
    let port = addr.port();
    let allow = vec![format!("backend.test:{port}").parse::<AllowEntry>().unwrap()];
    let client = HttpClient::with_lookup(
        SsrfPolicy::new(allow),
        NetConfig::default(),
        Arc::new(PointsAtLoopback),
    )
    .unwrap();
    let err = fetch(&client, &format!("http://api.shop-example.com:{port}/")).await.unwrap_err();
    assert_eq!(err.code(), "ssrf_blocked", "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    let response = fetch(&client, &format!("http://backend.test:{port}/")).await.unwrap();
    assert_eq!(&response.body[..], b"ok");
    let err = fetch(&client, &format!("http://backend.test:{}/", port.wrapping_add(1)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ssrf_blocked");
}

#[tokio::test]
async fn header_values_with_line_breaks_are_refused_before_sending() {
    let request = OutboundRequest::new(Method::GET, "http://example.com/").unwrap();
    for value in ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\0b"] {
        let err = request.clone().header("x-order", value).unwrap_err();
        assert_eq!(err.code(), "invalid_header", "{value:?}");
    }
    assert_eq!(request.clone().header("bad name", "v").unwrap_err().code(), "invalid_header");
    assert_eq!(OutboundRequest::new(Method::GET, "no url").unwrap_err().code(), "invalid_url");
}
