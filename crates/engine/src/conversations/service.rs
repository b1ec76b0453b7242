//! The conversations aggregate's service: what it holds and how it is built.

use std::sync::Arc;

use sb_connectors::Connector;
use sb_domain::events::EventSink;
use sb_secrets::Keyring;

use super::config_cache::ConfigCache;
use super::ordering::Ordering;
use super::trace::TraceWriter;
use super::worker::Workers;
use crate::budget::OutboundBudget;
use crate::{AccountsService, AiService, ConnectionsService, KnowledgeService};

stores!(ConversationStores {
    widgets: WidgetStore,
    conversations: ConversationStore,
    rules: RuleStore,
    actions: ActionStore,
    notes: NoteStore,
    labels: LabelStore,
    canned: CannedReplyStore,
    contacts: ContactStore,
    privacy: PrivacyStore,
    ratings: RatingStore,
    attachments: AttachmentStore,
    search: SearchStore,
    analytics: AnalyticsStore
});

/// Widgets, visitors, messages, rules and routing: everything from a visitor's first message
/// to an operator's reply. Calls out to the other aggregates only through their services.
pub struct ConversationsService {
    pub(super) store: ConversationStores,
    pub(super) keyring: Arc<Keyring>,
    pub(super) connector: Arc<Connector>,
    pub(super) events: Arc<dyn EventSink>,
    pub(super) accounts: Arc<AccountsService>,
    pub(super) ai: Arc<AiService>,
    pub(super) knowledge: Arc<KnowledgeService>,
    pub(super) connections: Arc<ConnectionsService>,
    pub(super) workers: Workers,
    pub(super) traces: TraceWriter,
    pub(super) config_cache: ConfigCache,
    pub(super) ordering: Ordering,
    pub(super) outbound_budget: OutboundBudget,
    /// How long a proposed action may be agreed to.
    pub(super) action_lifetime: std::time::Duration,
    /// In a test run's sandbox: what answers instead of the tenant's backends.
    pub(super) fakes: Option<Arc<dyn FakeCalls>>,
}

/// What answers endpoint calls in a test run's sandbox, instead of the tenant's backends.
#[async_trait::async_trait]
pub trait FakeCalls: Send + Sync {
    /// The answer to a call to `endpoint` with `vars`, made in `conversation`.
    async fn answer(
        &self,
        target: sb_connectors::CallTarget<'_>,
        endpoint: &sb_domain::Endpoint,
        vars: &sb_domain::template::Variables,
        conversation: &sb_domain::ConversationId,
    ) -> sb_connectors::CallOutcome;
}

/// What the conversations service is built from.
pub(crate) struct ConversationsParts {
    pub(crate) store: Arc<dyn sb_store::Store>,
    pub(crate) keyring: Arc<Keyring>,
    pub(crate) connector: Arc<Connector>,
    /// Where conversation events go (the realtime hub, through the webhooks' queue).
    pub(crate) events: Arc<dyn EventSink>,
    pub(crate) accounts: Arc<AccountsService>,
    pub(crate) ai: Arc<AiService>,
    pub(crate) knowledge: Arc<KnowledgeService>,
    pub(crate) connections: Arc<ConnectionsService>,
    /// Backend calls per tenant and minute.
    pub(crate) outbound_calls_per_minute: u32,
    pub(crate) action_lifetime: std::time::Duration,
}

impl ConversationsService {
    pub(crate) fn new(parts: ConversationsParts) -> Arc<Self> {
        // Language detection's model is read now, not on a visitor's first message.
        sb_llm::language::warm_up();
        Arc::new(Self {
            store: ConversationStores::of(&parts.store),
            traces: TraceWriter::start(parts.store.clone()),
            ordering: Ordering::new(parts.store.shared_across_nodes()),
            keyring: parts.keyring,
            connector: parts.connector,
            events: parts.events,
            accounts: parts.accounts,
            ai: parts.ai,
            knowledge: parts.knowledge,
            connections: parts.connections,
            workers: Workers::default(),
            config_cache: ConfigCache::default(),
            outbound_budget: OutboundBudget::per_minute(parts.outbound_calls_per_minute),
            action_lifetime: parts.action_lifetime,
            fakes: None,
        })
    }

    /// The AI service the conversations use (a test case's judge asks it too).
    pub(crate) fn ai(&self) -> &Arc<AiService> {
        &self.ai
    }

    /// This service as a test run's sandbox: conversations, messages, traces and actions in
    /// `scratch` (the tenant's configuration is read where it lives), every endpoint call
    /// answered by `fakes`, and no events (no operator, realtime client or webhook hears of it).
    pub(crate) fn sandboxed(
        &self,
        scratch: &Arc<dyn sb_store::Store>,
        fakes: Arc<dyn FakeCalls>,
    ) -> Arc<Self> {
        let store = ConversationStores {
            widgets: self.store.widgets.clone(),
            rules: self.store.rules.clone(),
            conversations: scratch.clone(),
            actions: scratch.clone(),
            notes: scratch.clone(),
            // The account's label definitions; the conversation's labels are the scratch's.
            labels: self.store.labels.clone(),
            canned: self.store.canned.clone(),
            contacts: scratch.clone(),
            privacy: scratch.clone(),
            ratings: scratch.clone(),
            attachments: scratch.clone(),
            search: scratch.clone(),
            analytics: scratch.clone(),
        };
        Arc::new(Self {
            store,
            traces: TraceWriter::start(scratch.clone()),
            ordering: Ordering::new(false),
            keyring: self.keyring.clone(),
            connector: self.connector.clone(),
            events: Arc::new(sb_domain::events::NoEvents),
            accounts: self.accounts.clone(),
            ai: self.ai.clone(),
            knowledge: self.knowledge.clone(),
            connections: self.connections.clone(),
            workers: Workers::default(),
            config_cache: ConfigCache::default(),
            outbound_budget: OutboundBudget::per_minute(u32::MAX),
            action_lifetime: self.action_lifetime,
            fakes: Some(fakes),
        })
    }
}
