//! The only way Switchboard sends HTTP on a tenant's behalf.
//!
//! Every tenant-influenced request (API connections, OAuth token requests, tenant LLM base URLs,
//! knowledge-base imports, webhooks) goes through [`HttpClient::send`], which:
//! - checks the URL literal against the SSRF policy (scheme, credentials, host spelling),
//! - resolves names through a resolver that drops non-public addresses, so the connection is made
//!   only to addresses that were checked,
//! - follows redirects itself, checking every hop and dropping credentials when the origin
//!   changes,
//! - enforces one deadline over the whole exchange (at most 5 s) and a cap on the decompressed
//!   body,
//! - logs only redacted URLs.

mod client;
mod error;
mod ip;
mod policy;
mod resolver;
mod tcp;

pub use client::{
    HttpClient, NetConfig, OutboundRequest, OutboundResponse, install_crypto_provider,
};
pub use error::NetError;
pub use ip::blocked_reason;
pub use policy::{AllowEntry, CheckedHost, SsrfPolicy};
pub use reqwest::{Method, StatusCode, header};
pub use resolver::{Lookup, SystemLookup};
pub use url::Url;
