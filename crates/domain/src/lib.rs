//! Switchboard's domain: typed ids, entities and values that are valid by construction.
//!
//! Nothing here performs I/O; the store, engine and API crates all speak these types.

mod account;
pub mod action;
pub mod analytics;
mod api_key;
pub mod attachment;
mod audit;
pub mod call_stats;
mod canned;
pub mod channel;
mod connection;
mod contact;
mod conversation;
mod error;
pub mod events;
mod id;
mod kb;
mod label;
mod office_hours;
mod page;
pub mod pattern;
mod rating;
mod rule;
pub mod suite_file;
mod team;
pub mod template;
pub mod test_case;
pub mod test_run;
pub mod verified_calls;
pub mod webhook;
mod widget;

pub use account::{
    Email, NewUser, Role, Tenant, TenantName, User, display_name, validate_password,
    validate_time_zone,
};
pub use api_key::{ApiKey, ApiKeyScope};
pub use audit::AuditEntry;
pub use canned::{CannedReply, canned_shortcut, canned_text};
pub use channel::{Channel, ChannelKind, ChannelRef};
pub use connection::{
    ApiKeyPlacement, AuthConfig, ClientAuth, Connection, ConnectionKind, Endpoint, EndpointRequest,
    HttpMethod, MAX_CACHE_TTL_S, MAX_TIMEOUT_MS, McpTool, RefreshOn, TestSummary, VariableSpec,
    default_expected_statuses, validate_endpoint_name, validate_variable_name,
};
pub use contact::{Contact, MAX_ATTRIBUTES_BYTES};
pub use conversation::{
    AiSettings, AiUsage, Author, Conversation, ConversationStatus, Exchange, LastMessage,
    ListedConversation, MAX_MESSAGE_CHARS, MAX_VARIABLE_BYTES, MAX_VARIABLES_BYTES, Message, Note,
    PREVIEW_CHARS, StaffMessage, TraceEvent, Translation, Visitor, VisitorMessage, exchanges,
};
pub use error::ValidationError;
pub use id::{
    ActionId, ApiKeyId, AttachmentId, AuditId, CannedReplyId, ChannelId, ChunkId, ConnectionId,
    ContactId, ConversationId, DeliveryId, DocumentId, EndpointId, IdParseError, InvitationId,
    LabelId, MessageId, RequestId, RuleId, SessionId, TeamId, TenantId, TestCaseId, TestRunId,
    UserId, WebhookId, WidgetId, random_token,
};
pub use kb::{KbChunk, KbDocument, KbStatus};
pub use label::{Label, MAX_LABELS, label_name};
pub use office_hours::{Availability, Day, OfficeHours};
pub use page::{Page, PageRequest};
pub use rating::{Feedback, Rating};
pub use rule::{
    Action, Argument, ArgumentInput, Condition, FromRegex, MatchMode, Op, Rule, RuleDefinition,
    Trigger, conditions_schema, deserialize_conditions, is_built_in,
};
pub use team::{Team, TeamName};
pub use test_case::{TestCase, TestCaseDefinition};
pub use widget::{DEFAULT_COLOR, Widget, WidgetPosition, validate_color, validate_origin};

/// Wall-clock instant used on every entity (serialised as RFC 3339).
pub type Timestamp = jiff::Timestamp;
