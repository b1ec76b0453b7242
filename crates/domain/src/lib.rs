//! Switchboard's domain: typed ids, entities and values that are valid by construction.
//!
//! Nothing here performs I/O; the store, engine and API crates all speak these types.

mod account;
mod connection;
mod error;
mod id;
mod team;

pub use account::{
    ApiKey, Email, NewUser, Role, Tenant, TenantName, User, display_name, validate_password,
};
pub use connection::{
    ApiKeyPlacement, AuthConfig, ClientAuth, Connection, Endpoint, HttpMethod, MAX_TIMEOUT_MS,
    RefreshOn, TestSummary, VariableSpec, validate_endpoint_name, validate_variable_name,
};
pub use error::ValidationError;
pub use id::{
    ApiKeyId, ConnectionId, ConversationId, DocumentId, EndpointId, IdParseError, MessageId,
    RequestId, RuleId, SessionId, TeamId, TenantId, UserId, WidgetId, random_token,
};
pub use team::{Team, TeamName};

/// Wall-clock instant used on every entity (serialised as RFC 3339).
pub type Timestamp = jiff::Timestamp;
