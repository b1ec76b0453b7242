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
pub mod connections;
pub mod conversations;
mod error;
pub mod fair_slots;
mod health;
mod identity;
pub mod kb;
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
pub use webhooks::WebhooksService;

use std::sync::Arc;

/// Every service of the application, as the composition root built them.
#[derive(Clone)]
pub struct Services {
    pub accounts: Arc<AccountsService>,
    pub connections: Arc<ConnectionsService>,
    pub conversations: Arc<ConversationsService>,
    pub knowledge: Arc<KnowledgeService>,
    pub ai: Arc<AiService>,
    pub webhooks: Arc<WebhooksService>,
    pub health: Arc<HealthService>,
}
