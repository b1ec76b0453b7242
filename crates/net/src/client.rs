use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use sb_secrets::redact_url;
use url::Url;

use crate::NetError;
use crate::policy::SsrfPolicy;
use crate::resolver::{FilteringResolver, Lookup, ResolveError, SystemLookup};

#[derive(Debug, Clone)]
pub struct NetConfig {
    /// The ceiling for any call; a request may ask for less, never more.
    pub max_timeout: Duration,
    /// The largest decompressed response body accepted.
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    pub user_agent: String,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            max_timeout: Duration::from_secs(5),
            max_body_bytes: 1024 * 1024,
            max_redirects: 5,
            user_agent: format!("Switchboard/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// One request. Build it with [`OutboundRequest::new`] and the checked `header` method.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// Lower than the client's ceiling to cut a call shorter; `None` uses the ceiling.
    pub timeout: Option<Duration>,
    /// Headers that carry credentials: dropped when a redirect leaves the origin.
    pub sensitive_headers: Vec<HeaderName>,
    /// Query parameters that carry credentials: hidden in logs.
    pub sensitive_query: Vec<String>,
    /// Credentials written elsewhere in the URL (a bot token in the path): hidden in logs.
    pub sensitive_values: Vec<String>,
    pub follow_redirects: bool,
    /// Keep only the first bytes of an over-long answer instead of failing: for callers that
    /// need the status, not the body (a webhook receiver's 2xx is delivered, however long).
    pub truncate_body: bool,
}

impl OutboundRequest {
    pub fn new(method: Method, url: &str) -> Result<Self, NetError> {
        let url = Url::parse(url).map_err(|err| NetError::InvalidUrl(format!("{url:?}: {err}")))?;
        Ok(Self::from_url(method, url))
    }

    pub fn from_url(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            timeout: None,
            sensitive_headers: Vec::new(),
            sensitive_query: Vec::new(),
            sensitive_values: Vec::new(),
            follow_redirects: true,
            truncate_body: false,
        }
    }

    /// Adds a header, refusing names and values that could split the request (CR, LF, NUL).
    pub fn header(self, name: &str, value: &str) -> Result<Self, NetError> {
        self.add_header(name, value, false)
    }

    /// Adds a header whose value is a credential: hidden from debug output and dropped when a
    /// redirect leaves the origin.
    pub fn secret_header(self, name: &str, value: &str) -> Result<Self, NetError> {
        self.add_header(name, value, true)
    }

    fn add_header(mut self, name: &str, value: &str, secret: bool) -> Result<Self, NetError> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| NetError::InvalidHeader(format!("{name:?}")))?;
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| NetError::InvalidHeader(name.as_str().to_owned()))?;
        if secret {
            value.set_sensitive(true);
            self.sensitive_headers.push(name.clone());
        }
        self.headers.append(name, value);
        Ok(self)
    }

    pub fn body(mut self, content_type: &str, body: impl Into<Bytes>) -> Result<Self, NetError> {
        self = self.header(header::CONTENT_TYPE.as_str(), content_type)?;
        self.body = Some(body.into());
        Ok(self)
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

#[derive(Debug, Clone)]
pub struct OutboundResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Where the answer finally came from, after redirects.
    pub url: Url,
    pub redirects: usize,
    pub elapsed: Duration,
}

/// The outbound HTTP client. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    policy: Arc<SsrfPolicy>,
    config: Arc<NetConfig>,
    /// The same filtering resolver reqwest uses, for connections of other protocols.
    pub(crate) resolver: Arc<FilteringResolver>,
}

/// Installs the TLS crypto provider (ring) for the process. Called by every client
/// constructor; other code building its own `reqwest` clients (tests) calls it first.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl HttpClient {
    /// The client for everything a tenant can influence.
    pub fn new(policy: SsrfPolicy, config: NetConfig) -> Result<Self, NetError> {
        Self::with_lookup(policy, config, Arc::new(SystemLookup))
    }

    /// Like [`HttpClient::new`] with another DNS source (tests answer names themselves). The
    /// policy still applies to every answer.
    pub fn with_lookup(
        policy: SsrfPolicy,
        config: NetConfig,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, NetError> {
        install_crypto_provider();
        let policy = Arc::new(policy);
        let resolver = Arc::new(FilteringResolver { lookup, policy: policy.clone() });
        let inner = reqwest::Client::builder()
            .dns_resolver(resolver.clone())
            // Redirects are followed by hand so that every hop is checked.
            .redirect(reqwest::redirect::Policy::none())
            // Environment proxies would route around the resolver's checks.
            .no_proxy()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.max_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|err| NetError::TlsFailed(format!("cannot set up the HTTP client: {err}")))?;
        Ok(Self { inner, policy, config: Arc::new(config), resolver })
    }

    /// A client without SSRF filtering, for endpoints the server operator configured (the
    /// server-wide LLM provider). Never hand it a URL a tenant can influence.
    pub fn for_operator_endpoints(config: NetConfig) -> Result<Self, NetError> {
        Self::with_lookup(SsrfPolicy::unrestricted(), config, Arc::new(SystemLookup))
    }

    pub fn policy(&self) -> &SsrfPolicy {
        &self.policy
    }

    /// The same client — SSRF policy, resolver, connection pool — with other limits (a larger
    /// body cap and a longer deadline for fetching OpenAPI documents, for instance).
    pub fn with_config(&self, config: NetConfig) -> Self {
        Self {
            inner: self.inner.clone(),
            policy: self.policy.clone(),
            config: Arc::new(config),
            resolver: self.resolver.clone(),
        }
    }

    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// Sends the request under one deadline covering every hop and the whole body.
    pub async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, NetError> {
        let deadline =
            request.timeout.unwrap_or(self.config.max_timeout).min(self.config.max_timeout);
        let started = Instant::now();
        let method = request.method.clone();
        let mut shown_url = redact_url(&request.url, &request.sensitive_query);
        for value in request.sensitive_values.iter().filter(|v| !v.is_empty()) {
            shown_url = shown_url.replace(value.as_str(), "***");
        }
        let outcome = match tokio::time::timeout(deadline, self.follow(request, started)).await {
            Ok(Err(NetError::Timeout(_))) | Err(_) => {
                Err(NetError::Timeout(deadline.as_millis() as u64))
            }
            Ok(outcome) => outcome,
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            Ok(response) => {
                tracing::debug!(%method, url = %shown_url, status = response.status.as_u16(), latency_ms, "outbound call")
            }
            Err(err) => {
                tracing::debug!(%method, url = %shown_url, code = err.code(), error = %err, latency_ms, "outbound call failed")
            }
        }
        outcome
    }

    async fn follow(
        &self,
        mut request: OutboundRequest,
        started: Instant,
    ) -> Result<OutboundResponse, NetError> {
        let mut redirects = 0;
        loop {
            self.policy.check_url(&request.url)?;
            let response = self.exchange(&request).await?;
            let status = response.status();
            let location = response.headers().get(header::LOCATION).cloned();
            match location.filter(|_| request.follow_redirects && status.is_redirection()) {
                Some(location) => {
                    if redirects == self.config.max_redirects {
                        return Err(NetError::TooManyRedirects(self.config.max_redirects));
                    }
                    redirects += 1;
                    request = redirected(request, status, &location)?;
                }
                None => {
                    let headers = response.headers().clone();
                    let (cap, truncate) = (self.config.max_body_bytes, request.truncate_body);
                    let body = read_capped(response, cap, truncate).await?;
                    return Ok(OutboundResponse {
                        status,
                        headers,
                        body,
                        url: request.url,
                        redirects,
                        elapsed: started.elapsed(),
                    });
                }
            }
        }
    }

    async fn exchange(&self, request: &OutboundRequest) -> Result<reqwest::Response, NetError> {
        let mut builder = self
            .inner
            .request(request.method.clone(), request.url.clone())
            .headers(request.headers.clone());
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        builder.send().await.map_err(classify)
    }
}

/// The request for the next hop: RFC 9110 method rewriting, and no credentials for a new origin.
fn redirected(
    mut request: OutboundRequest,
    status: StatusCode,
    location: &HeaderValue,
) -> Result<OutboundRequest, NetError> {
    let location = location
        .to_str()
        .map_err(|_| NetError::InvalidResponse("the redirect location is not text".into()))?;
    let next = request
        .url
        .join(location)
        .map_err(|err| NetError::InvalidUrl(format!("redirect to {location:?}: {err}")))?;
    let keeps_method =
        matches!(status, StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT);
    if !keeps_method && request.method != Method::HEAD {
        request.method = Method::GET;
        request.body = None;
        request.headers.remove(header::CONTENT_TYPE);
        request.headers.remove(header::CONTENT_LENGTH);
    }
    if next.origin() != request.url.origin() {
        for name in request.sensitive_headers.drain(..) {
            request.headers.remove(name);
        }
        request.headers.remove(header::AUTHORIZATION);
        request.headers.remove(header::COOKIE);
        request.headers.remove(header::PROXY_AUTHORIZATION);
    }
    request.url = next;
    Ok(request)
}

/// Reads the body, after decompression, refusing to hold more than `cap` bytes — or, with
/// `truncate`, keeping the first `cap` bytes and dropping the rest unread.
async fn read_capped(
    response: reqwest::Response,
    cap: usize,
    truncate: bool,
) -> Result<Bytes, NetError> {
    if !truncate && response.content_length().is_some_and(|len| len > cap as u64) {
        return Err(NetError::ResponseTooLarge(cap));
    }
    let mut body = BytesMut::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| classify_body(&err))?;
        if body.len() + chunk.len() > cap {
            if truncate {
                body.extend_from_slice(&chunk[..cap - body.len()]);
                break;
            }
            return Err(NetError::ResponseTooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn sources<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
}

/// Maps a reqwest failure to a stable error, looking through its causes.
fn classify(err: reqwest::Error) -> NetError {
    for cause in sources(&err) {
        if let Some(resolve) = cause.downcast_ref::<ResolveError>() {
            return match resolve {
                ResolveError::Blocked(why) => NetError::SsrfBlocked(why.clone()),
                ResolveError::Failed(why) => NetError::DnsFailed(why.clone()),
            };
        }
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return NetError::TlsFailed(tls.to_string());
        }
    }
    if err.is_timeout() {
        return NetError::Timeout(0);
    }
    let detail = sources(&err).last().map(ToString::to_string).unwrap_or_default();
    // A non-TLS answer to a TLS hello surfaces as an I/O error inside the TLS layer.
    if detail.contains("InvalidContentType") || detail.contains("tls") || detail.contains("TLS") {
        return NetError::TlsFailed(detail);
    }
    NetError::ConnectFailed(detail)
}

fn classify_body(err: &reqwest::Error) -> NetError {
    if err.is_decode() {
        return NetError::InvalidResponse(format!("undecodable body: {err}"));
    }
    let detail = sources(err).last().map(ToString::to_string).unwrap_or_default();
    NetError::ConnectFailed(format!("the connection broke while reading the answer: {detail}"))
}
