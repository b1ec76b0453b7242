//! Use-cases shared by every entry point (HTTP API, command line): they validate input, enforce
//! permissions and call the store. Transport concerns (status codes, cookies) stay outside.
//!
//! One service per aggregate, each holding only the storage traits and clients it uses:
//! [`AccountsService`], [`ConnectionsService`], [`ConversationsService`] (widgets, visitors,
//! messages, rules, routing), [`KnowledgeService`], [`AiService`] and [`WebhooksService`]. The
//! server's composition root builds them; [`Services`] hands them to the API together.

/// Declares a service's share of the store: one field per storage trait it may use, each taken
/// from the whole store when the service is built. What a service may touch is read here.
macro_rules! stores {
    ($(#[$meta:meta])* $name:ident { $($field:ident: $store_trait:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub(crate) struct $name {
            $(pub(crate) $field: std::sync::Arc<dyn sb_store::$store_trait>,)*
        }

        impl $name {
            pub(crate) fn of(store: &std::sync::Arc<dyn sb_store::Store>) -> Self {
                Self { $($field: store.clone(),)* }
            }
        }
    };
}

pub mod accounts;
mod actor;

pub mod ai;
mod budget;
pub mod channels;
pub mod connections;
pub mod conversations;
mod error;
pub mod fair_slots;
mod health;
mod identity;
pub mod kb;
pub mod suites;
#[cfg(test)]
mod testing;
pub mod webhooks;

pub use accounts::AccountsService;
pub use actor::{Actor, Credential};
pub use ai::AiService;
pub use connections::ConnectionsService;
pub use conversations::ConversationsService;
pub use error::EngineError;
pub use health::HealthService;
pub use identity::user_hash;
pub use kb::KnowledgeService;
/// What a store failure looks like to callers (inside [`EngineError::Store`]).
pub use sb_store::{Constraint, StoreError};
pub use suites::SuitesService;
pub use webhooks::WebhooksService;

use std::sync::Arc;

/// Every service of the application.
#[derive(Clone)]
pub struct Services {
    pub accounts: Arc<AccountsService>,
    pub connections: Arc<ConnectionsService>,
    pub conversations: Arc<ConversationsService>,
    pub knowledge: Arc<KnowledgeService>,
    pub ai: Arc<AiService>,
    pub webhooks: Arc<WebhooksService>,
    pub health: Arc<HealthService>,
    pub suites: Arc<SuitesService>,
    pub channels: Arc<channels::ChannelsService>,
}

/// What the services are built from. The server's composition root makes these from its
/// configuration (which database, which keys, which outbound policy, which model).
pub struct Parts {
    pub store: Arc<dyn sb_store::Store>,
    pub keyring: Arc<sb_secrets::Keyring>,
    /// The SSRF-safe client for tenants' backends and webhooks.
    pub connector: Arc<sb_connectors::Connector>,
    /// Where conversation events go (the realtime hub); the webhooks' queue gets a copy.
    pub events: Arc<dyn sb_domain::events::EventSink>,
    pub ai: ai::Ai,
    pub knowledge_index: kb::Knowledge,
    /// Backend calls per tenant and minute.
    pub outbound_calls_per_minute: u32,
    /// How long a proposed action may be agreed to.
    pub action_lifetime: std::time::Duration,
    /// Where test runs keep their sandbox conversations.
    pub scratch: Arc<dyn suites::ScratchStores>,
}

impl Services {
    /// Builds each service from the parts it uses, and hands the services that call other
    /// aggregates those aggregates' services.
    pub fn new(parts: Parts) -> Self {
        let Parts { store, keyring, connector, events, ai, knowledge_index, scratch, .. } = parts;
        let accounts = AccountsService::new(&store);
        let ai = AiService::new(&store, keyring.clone(), ai);
        let knowledge = KnowledgeService::new(&store, knowledge_index, ai.clone());
        let connections = ConnectionsService::new(&store, keyring.clone(), connector.clone());
        let (webhooks, events) =
            WebhooksService::new(&store, keyring.clone(), connector.clone(), events);
        let conversations = ConversationsService::new(conversations::ConversationsParts {
            store: store.clone(),
            keyring: keyring.clone(),
            connector: connector.clone(),
            events,
            accounts: accounts.clone(),
            ai: ai.clone(),
            knowledge: knowledge.clone(),
            connections: connections.clone(),
            outbound_calls_per_minute: parts.outbound_calls_per_minute,
            action_lifetime: parts.action_lifetime,
        });
        let channels =
            channels::ChannelsService::new(&store, keyring, connector, conversations.clone());
        Self {
            accounts,
            channels,
            health: HealthService::new(&store),
            suites: SuitesService::new(&store, conversations.clone(), scratch),
            connections,
            conversations,
            knowledge,
            ai,
            webhooks,
        }
    }
}
