use async_trait::async_trait;
use sb_domain::template::Variables;
use sb_domain::{
    Author, Conversation, ConversationId, ConversationStatus, ListedConversation, Message,
    MessageId, Rule, RuleId, TeamId, TenantId, Timestamp, TraceEvent, UserId, Widget, WidgetId,
};
use serde_json::Value;

use crate::{Page, PageRequest, StoreResult};

/// A widget with its sealed identity secret (opaque to the store).
#[derive(Debug, Clone)]
pub struct StoredWidget {
    pub widget: Widget,
    pub identity_secret_sealed: Option<String>,
}

#[async_trait]
pub trait WidgetStore: Send + Sync {
    async fn create_widget(
        &self,
        widget: &Widget,
        identity_secret_sealed: Option<&str>,
    ) -> StoreResult<()>;
    async fn get_widget(&self, tenant: &TenantId, id: &WidgetId) -> StoreResult<StoredWidget>;
    /// Global lookup: how a visitor's browser, knowing only the widget id, finds its tenant.
    async fn find_widget(&self, id: &WidgetId) -> StoreResult<Option<StoredWidget>>;
    async fn list_widgets(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredWidget>>;
    async fn update_widget(
        &self,
        widget: &Widget,
        identity_secret_sealed: Option<&str>,
    ) -> StoreResult<()>;
    /// Deletes the widget and its conversations.
    async fn delete_widget(&self, tenant: &TenantId, id: &WidgetId) -> StoreResult<()>;
}

/// Which conversations an operator wants to see.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub widget_id: Option<WidgetId>,
    /// `Some(Some(user))`: assigned to that user; `Some(None)`: assigned to nobody.
    pub assigned_to: Option<Option<UserId>>,
    /// Only conversations carrying this label (by name).
    pub label: Option<String>,
    /// Only conversations holding every one of these words (at most [`SEARCH_WORDS`]).
    pub words: Vec<SearchWord>,
    /// Only conversations started at or after this.
    pub from: Option<Timestamp>,
    /// Only conversations started before this.
    pub to: Option<Timestamp>,
}

/// How many words a search looks for, at most.
pub const SEARCH_WORDS: usize = 6;
/// How many analysed forms of one word a search tries, at most.
pub const SEARCH_TERMS_PER_WORD: usize = 8;

/// One word of a search: its analysed forms (any of which a conversation may hold, see
/// [`NewMessage::search_terms`]), and the word itself, lowercased, which may also be part of
/// a label's name or of the contact's name or e-mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchWord {
    pub terms: Vec<String>,
    pub text: String,
}

/// Where a page of conversations in activity order continues: the activity time and id of the
/// last conversation seen, written `<milliseconds>.<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityCursor {
    pub activity: Timestamp,
    pub id: ConversationId,
}

impl ActivityCursor {
    /// The cursor `text` holds, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        let (millis, id) = text.split_once('.')?;
        let activity = Timestamp::from_millisecond(millis.parse().ok()?).ok()?;
        Some(Self { activity, id: id.parse().ok()? })
    }
}

impl std::fmt::Display for ActivityCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.activity.as_millisecond(), self.id)
    }
}

/// Who owns a conversation after an assignment or status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationState {
    pub status: ConversationStatus,
    pub assigned_to: Option<UserId>,
    pub assigned_team: Option<TeamId>,
}

#[async_trait]
pub trait ConversationStore: Send + Sync {
    async fn create_conversation(
        &self,
        conversation: &Conversation,
        visitor_token_hash: &str,
    ) -> StoreResult<()>;
    async fn get_conversation(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
    ) -> StoreResult<Conversation>;
    /// Global lookup by visitor token (hash): the visitor's only credential.
    async fn find_conversation_by_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<Conversation>>;
    /// Latest activity first (the newest message, or the creation when there is none), each
    /// with its newest message and whether `reader` has visitor messages in it that they have
    /// not read (never, without a reader). `page.after` is an [`ActivityCursor`] as text; the
    /// `next` of a page is one too.
    async fn list_conversations(
        &self,
        tenant: &TenantId,
        filter: &ConversationFilter,
        reader: Option<&UserId>,
        page: &PageRequest,
    ) -> StoreResult<Page<ListedConversation>>;
    /// Marks everything in the conversation so far as read by `user`. A conversation of another
    /// tenant is not found; a user of another tenant is a missing reference.
    async fn mark_read(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        user: &UserId,
    ) -> StoreResult<()>;
    /// Saves who owns the conversation now and, in the same unit, what that does to how it
    /// ended.
    async fn set_conversation_state(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        state: &ConversationState,
        outcome: crate::OutcomeChange,
    ) -> StoreResult<()>;
    /// Saves what is known about the visitor (e.g. a detected language).
    async fn update_visitor(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        visitor: &sb_domain::Visitor,
    ) -> StoreResult<()>;
    /// Replaces the conversation's labels (names, as given); NotFound when the conversation is
    /// not the tenant's. The labels' definitions are the `LabelStore`'s.
    async fn set_conversation_labels(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        labels: &[String],
    ) -> StoreResult<()>;
    /// Appends a message with the next sequence number of its conversation.
    async fn append_message(
        &self,
        tenant: &TenantId,
        message: NewMessage<'_>,
    ) -> StoreResult<Message>;
    /// Messages with a sequence number above `after_seq`, oldest first.
    async fn list_messages(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    async fn get_message(&self, tenant: &TenantId, id: &MessageId) -> StoreResult<Message>;
    /// Writes what handling a visitor message left, in one unit: its replies (each with the
    /// conversation's next number, in order), its trace entries, its endpoints' call
    /// statistics, the conversation's variables, and the handled mark. Returns the replies as
    /// stored.
    async fn finish_message(&self, finished: &FinishedMessage<'_>) -> StoreResult<Vec<Message>>;
    /// Visitor messages accepted but not yet handled (after a crash), oldest first.
    async fn unprocessed_messages(
        &self,
        since: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(TenantId, Message)>>;
    /// The conversation's oldest visitor message not handled yet.
    async fn next_unprocessed(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Option<Message>>;
    /// Takes (or extends) the lease on handling a conversation until `until`, if nobody else
    /// holds one that is still valid at `now`. True when `holder` has it.
    async fn take_lease(
        &self,
        conversation: &ConversationId,
        holder: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Lets go of a lease `holder` has (nothing happens if it has none).
    async fn release_lease(&self, conversation: &ConversationId, holder: &str) -> StoreResult<()>;
    /// Lets go of `holder`'s lease only if none of the conversation's messages waits for the
    /// engine; returns whether it did. One statement where the holder would otherwise ask for
    /// the next waiting message, find none, and then let go.
    async fn release_lease_when_idle(
        &self,
        conversation: &ConversationId,
        holder: &str,
    ) -> StoreResult<bool>;
    /// Appends trace entries, in order.
    async fn append_traces(&self, entries: &[NewTrace]) -> StoreResult<()>;
    async fn list_trace(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Vec<TraceEvent>>;
    /// Conversations waiting for each given user (status pending), for least-busy routing.
    async fn pending_counts(
        &self,
        tenant: &TenantId,
        users: &[UserId],
    ) -> StoreResult<Vec<(UserId, i64)>>;

    async fn set_translation(
        &self,
        tenant: &TenantId,
        message: &MessageId,
        translation: &sb_domain::Translation,
    ) -> StoreResult<()>;
}

#[derive(Debug)]
pub struct NewMessage<'a> {
    pub id: &'a MessageId,
    pub conversation_id: &'a ConversationId,
    pub author: Author,
    pub author_user_id: Option<&'a UserId>,
    pub text: &'a str,
    pub translation: Option<&'a sb_domain::Translation>,
    pub created_at: Timestamp,
    /// The action the message asks to agree to; stored with it (see `FinishedMessage`).
    pub action: Option<&'a sb_domain::action::PendingAction>,
    /// The files it lists (stored by [`crate::AttachmentStore::append_message_with_files`]).
    pub attachments: &'a [sb_domain::attachment::AttachmentRef],
    /// The words conversation search finds it by, analysed (`sb_kb`'s analysers), separated
    /// by spaces; empty adds none.
    pub search_terms: &'a str,
    /// What an assistant's reply came from.
    pub source: Option<sb_domain::analytics::ReplySource>,
}

/// What handling one visitor message leaves to write, together (see
/// [`ConversationStore::finish_message`]).
#[derive(Debug, Clone, Copy)]
pub struct FinishedMessage<'a> {
    pub tenant: &'a TenantId,
    pub message: &'a MessageId,
    /// The messages the handling sends, oldest first.
    pub replies: &'a [NewMessage<'a>],
    /// The conversation's variables as the handling left them (`None`: unchanged).
    pub variables: Option<(&'a ConversationId, &'a Variables)>,
    /// The words search finds the changed variables' values by (as
    /// [`NewMessage::search_terms`]).
    pub variable_terms: &'a str,
    /// Why the message is a knowledge gap (`no_answer`, `fallback`), if it is one.
    pub gap: Option<&'a str>,
    pub traces: &'a [NewTrace],
    /// The calls the handling made, one delta each (see `CallStatsStore::add_call_stats`).
    pub call_stats: &'a [sb_domain::call_stats::HourlyStats],
    /// Actions the handling proposed (each also the `action` of one of `replies`).
    pub proposed: &'a [sb_domain::action::PendingAction],
    /// An agreed action the handling ran, with how it ended.
    pub settled:
        Option<(&'a sb_domain::ActionId, sb_domain::action::ActionState, &'a serde_json::Value)>,
}

/// A trace entry to append.
#[derive(Debug, Clone)]
pub struct NewTrace {
    pub tenant: TenantId,
    pub conversation: ConversationId,
    pub message: Option<MessageId>,
    pub kind: String,
    pub data: Value,
    pub at: Timestamp,
}

#[async_trait]
pub trait RuleStore: Send + Sync {
    async fn create_rule(&self, rule: &Rule) -> StoreResult<()>;
    async fn get_rule(&self, tenant: &TenantId, id: &RuleId) -> StoreResult<Rule>;
    /// Every rule of the tenant, ordered by priority, then creation.
    async fn list_rules(&self, tenant: &TenantId) -> StoreResult<Vec<Rule>>;
    /// The enabled rules that apply to a widget (its own and the tenant-wide ones), in order.
    async fn rules_for_widget(
        &self,
        tenant: &TenantId,
        widget: &WidgetId,
    ) -> StoreResult<Vec<Rule>>;
    async fn update_rule(&self, rule: &Rule) -> StoreResult<()>;
    async fn delete_rule(&self, tenant: &TenantId, id: &RuleId) -> StoreResult<()>;
    /// A number that changes whenever the tenant's configuration changes on any node: its
    /// settings, widgets, rules, connections, endpoints or AI settings. What a node's cached
    /// configuration is checked against.
    async fn config_revision(&self, tenant: &TenantId) -> StoreResult<i64>;
}
