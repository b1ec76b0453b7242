//! Storage traits, one per aggregate, and the error they share.
//!
//! Every method that reads or writes tenant data takes the tenant id, so a handler cannot reach
//! another tenant's rows by forgetting a filter: an id from another tenant is simply not found.
//! The few global lookups (login by e-mail, session and API-key by hash) exist because they are
//! how a request *finds* its tenant; they are named for that purpose.

mod accounts;
mod ai;
mod call_stats;
mod connections;
mod conversations;
mod credentials;
mod error;
mod kb;
mod page;
#[cfg(feature = "story")]
pub mod story;
mod webhooks;

pub use accounts::{
    AccountStore, ApiKeyStore, NewSession, SessionStore, SessionWithUser, TeamStore, TeamUpdate,
    UserCredentials,
};
pub use ai::{AiStore, UsageTotals};
pub use call_stats::{CallStatsStore, StatsScope};
pub use connections::{
    ConnectionStore, SealedKind, SealedSecretStore, SealedValue, StoredConnection,
};
pub use conversations::{
    ConversationFilter, ConversationState, ConversationStore, NewMessage, NewTrace, RuleStore,
    StoredWidget, WidgetStore,
};
pub use credentials::{CredentialStore, Invitation};
pub use error::{Constraint, StoreError, StoreResult};
pub use kb::{EmbeddedChunk, KbChange, KbPassage, KbStore, ProcessedDocument};
pub use page::{Page, PageRequest};
pub use webhooks::{
    AttemptOutcome, AttemptRecord, Claim, ClaimedDelivery, NewDelivery, StoredWebhook, WebhookStore,
};

/// Everything the server needs from a storage backend.
#[async_trait::async_trait]
pub trait Store:
    AccountStore
    + SessionStore
    + CredentialStore
    + ApiKeyStore
    + TeamStore
    + ConnectionStore
    + CallStatsStore
    + WidgetStore
    + ConversationStore
    + RuleStore
    + AiStore
    + KbStore
    + WebhookStore
    + SealedSecretStore
    + Send
    + Sync
    + 'static
{
    /// Which backend this is (`sqlite`, `postgres`), for logs and health output.
    fn backend(&self) -> &'static str;

    /// Cheap round trip proving the database answers.
    async fn ping(&self) -> StoreResult<()>;
}
