//! Storage traits, one per aggregate, and the error they share.
//!
//! Every method that reads or writes tenant data takes the tenant id, so a handler cannot reach
//! another tenant's rows by forgetting a filter: an id from another tenant is simply not found.
//! The few global lookups (login by e-mail, session and API-key by hash) exist because they are
//! how a request *finds* its tenant; they are named for that purpose.

mod accounts;
mod actions;
mod ai;
mod analytics;
mod attachments;
mod audit;
mod call_stats;
mod channels;
mod connections;
mod contacts;
mod conversations;
mod credentials;
mod error;
mod kb;
mod labels;
mod notes;
mod search;
#[cfg(feature = "story")]
pub mod story;
mod test_cases;
mod webhooks;

pub use accounts::{
    AccountStore, ApiKeyStore, NewSession, SessionStore, SessionWithUser, TeamStore, TeamUpdate,
    UserCredentials,
};
pub use actions::{ActionDecision, ActionStore};
pub use ai::{AiStore, UsageTotals};
pub use analytics::{AnalyticsStore, MAX_METRICS, OutcomeChange};
pub use attachments::{AttachmentStore, NewAttachment};
pub use audit::{Erased, PrivacyStore, RatingStore};
pub use call_stats::{CallStatsStore, StatsScope};
pub use channels::{ChannelStore, ChannelThread, StoredChannel};
pub use connections::{
    ConnectionStore, SealedKind, SealedSecretStore, SealedValue, StoredConnection,
};
pub use contacts::{ContactKey, ContactStore};
pub use conversations::{
    ActivityCursor, ConversationFilter, ConversationState, ConversationStore, FinishedMessage,
    NewMessage, NewTrace, RuleStore, SEARCH_TERMS_PER_WORD, SEARCH_WORDS, SearchWord, StoredWidget,
    WidgetStore,
};
pub use credentials::{CredentialStore, Invitation};
pub use error::{Constraint, StoreError, StoreResult};
pub use kb::{EmbeddedChunk, KbChange, KbPassage, KbStore, ProcessedDocument};
pub use labels::{CannedReplyStore, LabelStore};
pub use notes::{NewNote, NoteStore};
pub use sb_domain::{Page, PageRequest};
pub use search::SearchStore;
pub use test_cases::TestCaseStore;
pub use webhooks::{
    AttemptOutcome, AttemptRecord, Claim, ClaimedDelivery, NewDelivery, StoredWebhook, WebhookStore,
};

/// The database itself: which one, whether nodes share it, whether it answers.
#[async_trait::async_trait]
pub trait Database: Send + Sync {
    /// Which backend this is (`sqlite`, `postgres`), for logs and health output.
    fn backend(&self) -> &'static str;

    /// Whether several nodes may serve the same tenants from this store at once. When they may,
    /// work that must happen once or in order (a conversation's messages) is coordinated through
    /// the store itself, not only inside this process.
    fn shared_across_nodes(&self) -> bool;

    /// Cheap round trip proving the database answers.
    async fn ping(&self) -> StoreResult<()>;
}

/// Everything the server needs from a storage backend. Each service of the engine holds only
/// the supertraits it uses.
pub trait Store:
    Database
    + AccountStore
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
    + ActionStore
    + SealedSecretStore
    + TestCaseStore
    + NoteStore
    + LabelStore
    + CannedReplyStore
    + ContactStore
    + PrivacyStore
    + RatingStore
    + AttachmentStore
    + SearchStore
    + AnalyticsStore
    + ChannelStore
    + Send
    + Sync
    + 'static
{
}
