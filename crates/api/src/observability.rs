//! Request ids, tracing spans named by route template, and Prometheus metrics per route.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use sb_domain::RequestId;
use tracing::Instrument;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client may pass its own id for correlation if it is short and plain; otherwise (and by
/// default) the server mints one. Either way it is echoed on the response.
fn accept_client_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let plain = text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    (plain && (1..=64).contains(&text.len())).then(|| text.to_owned())
}

/// Wraps each request in a span carrying method, route template, request id and (once known)
/// the tenant id, records metrics, and sets `x-request-id` on the response.
pub async fn observe(mut req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(accept_client_id)
        .unwrap_or_else(|| RequestId::new().to_string());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().clone();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        req.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    let span = tracing::info_span!(
        "request",
        %method,
        route = %route,
        request_id = %request_id,
        tenant_id = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.record("status", status);
    span.in_scope(|| {
        tracing::info!(latency_ms = elapsed.as_secs_f64() * 1000.0, status, "request finished");
    });
    let labels = [("method", method.to_string()), ("route", route), ("status", status.to_string())];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_client_request_ids_are_kept() {
        assert_eq!(accept_client_id(&HeaderValue::from_static("abc-123")), Some("abc-123".into()));
        assert_eq!(accept_client_id(&HeaderValue::from_static("a b")), None);
        assert_eq!(accept_client_id(&HeaderValue::from_str(&"x".repeat(65)).unwrap()), None);
    }
}
