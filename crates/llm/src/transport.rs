//! Sending a JSON request to a provider: one deadline, one retry on 429 and 5xx.

use std::time::{Duration, Instant};

use sb_net::{HttpClient, Method, OutboundRequest, StatusCode, header};
use sb_secrets::Secret;
use serde_json::Value;

use crate::LlmError;

pub(crate) struct Transport {
    pub http: HttpClient,
    pub base_url: String,
    pub api_key: Option<Secret<String>>,
    pub timeout: Duration,
}

fn backoff(status: StatusCode, headers: &sb_net::header::HeaderMap) -> Duration {
    let after = headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match (status, after) {
        (_, Some(secs)) => Duration::from_secs(secs),
        (StatusCode::TOO_MANY_REQUESTS, None) => Duration::from_secs(1),
        _ => Duration::from_millis(300),
    }
}

impl Transport {
    /// POSTs `body` to `path`. `headers` adds the provider's headers, the key (if any) among them.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: &Value,
        headers: impl Fn(OutboundRequest, Option<&str>) -> Result<OutboundRequest, sb_net::NetError>,
    ) -> Result<Value, LlmError> {
        let deadline = Instant::now() + self.timeout;
        let url = format!("{}{path}", self.base_url);
        let payload = body.to_string();
        for attempt in 0..2 {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break;
            }
            let request = OutboundRequest::new(Method::POST, &url)?
                .timeout(remaining)
                .body("application/json", payload.clone())?;
            let request = headers(request, self.api_key.as_ref().map(|k| k.expose().as_str()))?;
            let response = self.http.send(request).await?;
            let status = response.status;
            if status.is_success() {
                return serde_json::from_slice(&response.body).map_err(|e| {
                    LlmError::new(
                        "invalid_response",
                        format!("the provider's answer is not JSON: {e}"),
                    )
                });
            }
            let detail = serde_json::from_slice::<Value>(&response.body)
                .ok()
                .and_then(|v| {
                    v.pointer("/error/message").and_then(Value::as_str).map(str::to_owned)
                })
                .unwrap_or_default();
            let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            let wait = backoff(status, &response.headers);
            if attempt == 0 && retryable && Instant::now() + wait < deadline {
                tracing::debug!(status = status.as_u16(), "AI provider busy; retrying once");
                tokio::time::sleep(wait).await;
                continue;
            }
            let code = match status.as_u16() {
                401 | 403 => "auth_failed",
                429 => "rate_limited",
                _ => "provider_error",
            };
            return Err(LlmError::new(
                code,
                format!("the provider answered {status} {detail}").trim().to_owned(),
            ));
        }
        Err(LlmError::new("timeout", format!("no answer within {} ms", self.timeout.as_millis())))
    }
}
