//! API connections at run time: request templates with context-aware encoding, the five
//! authentication methods, the OAuth2 token cache, response mapping, and [`Connector::execute`]
//! — the one path every call to a tenant's backend takes.

pub mod agreed;
mod auth;
mod cache;
mod error;
mod execute;
pub mod mapping;
mod mcp;
mod mcp_calls;
mod oauth;
pub mod openapi;
mod request;
mod scrub;
mod shown;
pub mod template;

pub use auth::AuthSecrets;
pub use cache::CacheSlot;
pub use error::CallError;
pub use execute::{
    BODY_JSON_BYTES, CallOutcome, CallSink, CallTarget, Connector, NoSink, RequestLine,
    made_up_answer,
};
pub use mcp_calls::ToolList;
pub use oauth::{DEFAULT_TOKEN_LIFETIME, TokenCache};
pub use request::{check_declared, connection_variables};
pub use shown::would_send;
pub use template::{Template, Variables};
