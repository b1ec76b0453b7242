//! Requests agreed to before they are sent (safe actions). When a call needs the visitor's
//! confirmation or an operator's approval, the request is rendered and fingerprinted; the call
//! made after the agreement is rendered again and sent only if its fingerprint is the same. The
//! fingerprint covers the exact method, URL, headers and body (credentials excluded: a rotated
//! key does not void an agreement, and the fingerprint never holds a secret), and which endpoint
//! and connection, as last changed, the request came from: any edit voids the agreement.

use sb_domain::{Connection, Endpoint};
use sb_net::OutboundRequest;
use sha2::{Digest, Sha256};

use crate::shown::RequestLine;
use crate::{CallError, CallTarget, Variables, request};

/// A rendered request awaiting agreement.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// As shown to people: credentials as `***`.
    pub shown: RequestLine,
    pub fingerprint: String,
}

/// Renders the request `endpoint` would send with `vars`, without sending it.
pub fn propose(
    target: CallTarget<'_>,
    endpoint: &Endpoint,
    vars: &Variables,
) -> Result<Proposal, CallError> {
    let request = request::build(target.connection, target.secrets, endpoint, vars)?;
    Ok(Proposal {
        shown: RequestLine::of(&request, target.uses_oauth()),
        fingerprint: fingerprint(target.connection, endpoint, &request),
    })
}

/// The hash that binds an agreement to one request (see the module notes).
pub(crate) fn fingerprint(
    connection: &Connection,
    endpoint: &Endpoint,
    request: &OutboundRequest,
) -> String {
    let shown = RequestLine::of(request, false);
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        // Length-prefixed, so no two different requests hash the same bytes.
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(bytes);
    };
    field(endpoint.id.as_str().as_bytes());
    field(&endpoint.updated_at.as_millisecond().to_be_bytes());
    field(connection.id.as_str().as_bytes());
    field(&connection.updated_at.as_millisecond().to_be_bytes());
    field(shown.method.as_bytes());
    field(shown.url.as_bytes());
    for (name, value) in &shown.headers {
        field(name.as_bytes());
        field(value.as_bytes());
    }
    field(request.body.as_deref().unwrap_or_default());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What an agreed call must match, and the key the backend deduplicates it by.
#[derive(Debug, Clone, Copy)]
pub struct Agreement<'a> {
    pub fingerprint: &'a str,
    /// Sent as `Idempotency-Key`: a retried write is recognised as the same one.
    pub idempotency_key: &'a str,
}

/// Refuses a request that is not the agreed one.
pub(crate) fn check(
    agreement: &Agreement<'_>,
    connection: &Connection,
    endpoint: &Endpoint,
    request: OutboundRequest,
) -> Result<OutboundRequest, CallError> {
    if fingerprint(connection, endpoint, &request) != agreement.fingerprint {
        return Err(CallError::new(
            "stale",
            "the request changed since it was agreed to: a value, the endpoint or the connection",
        ));
    }
    Ok(request.header("idempotency-key", agreement.idempotency_key)?)
}
