/// Why an outbound call failed. Each variant has a stable `code()` that APIs, traces and tenants
/// see; messages never contain credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("invalid header {0}: header values cannot contain line breaks or control characters")]
    InvalidHeader(String),
    #[error("blocked: {0}")]
    SsrfBlocked(String),
    #[error("DNS lookup failed: {0}")]
    DnsFailed(String),
    #[error("could not connect: {0}")]
    ConnectFailed(String),
    #[error("no complete answer within {0} ms")]
    Timeout(u64),
    #[error("TLS failed: {0}")]
    TlsFailed(String),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("the response is larger than {0} bytes")]
    ResponseTooLarge(usize),
    #[error("the response could not be read: {0}")]
    InvalidResponse(String),
}

impl NetError {
    pub fn code(&self) -> &'static str {
        match self {
            NetError::InvalidUrl(_) => "invalid_url",
            NetError::InvalidHeader(_) => "invalid_header",
            NetError::SsrfBlocked(_) => "ssrf_blocked",
            NetError::DnsFailed(_) => "dns_failed",
            NetError::ConnectFailed(_) => "connect_failed",
            NetError::Timeout(_) => "timeout",
            NetError::TlsFailed(_) => "tls_failed",
            NetError::TooManyRedirects(_) => "too_many_redirects",
            NetError::ResponseTooLarge(_) => "response_too_large",
            NetError::InvalidResponse(_) => "invalid_response",
        }
    }

    /// Errors after which the request may not have reached the server at all, so a retry of an
    /// idempotent call is reasonable.
    pub fn is_connect_error(&self) -> bool {
        matches!(self, NetError::ConnectFailed(_) | NetError::DnsFailed(_))
    }
}
