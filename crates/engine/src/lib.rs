//! Use-cases shared by every entry point (HTTP API, command line): they validate input, enforce
//! permissions and call the store. Transport concerns (status codes, cookies) stay outside.

pub mod accounts;
mod actor;
pub mod ai;
mod budget;
pub mod connections;
pub mod conversations;
pub mod credentials;
mod error;
pub mod events;
pub mod fair_slots;
mod fixed_texts;
mod identity;
pub mod kb;
mod rule_cache;
pub mod rules;
pub mod webhooks;
pub mod widgets;

pub use actor::{Actor, Credential};
pub use error::EngineError;
pub use identity::user_hash;

use std::sync::Arc;

use sb_connectors::Connector;
use sb_secrets::Keyring;
use sb_store::Store;

/// The services every use-case needs, shared by the whole process.
pub struct Engine {
    pub store: Arc<dyn Store>,
    pub keyring: Arc<Keyring>,
    pub connector: Arc<Connector>,
    pub events: Arc<dyn events::EventSink>,
    pub ai: ai::Ai,
    pub knowledge: kb::Knowledge,
    workers: conversations::worker::Workers,
    traces: conversations::trace::TraceWriter,
    rule_cache: rule_cache::RuleCache,
    ordering: conversations::ordering::Ordering,
    outbound_budget: budget::OutboundBudget,
    webhooks: webhooks::Webhooks,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        connector: Arc<Connector>,
        events: Arc<dyn events::EventSink>,
        ai: ai::Ai,
        knowledge: kb::Knowledge,
        outbound_calls_per_minute: u32,
    ) -> Arc<Self> {
        // Language detection's model is read now, not on a visitor's first message.
        sb_llm::language::warm_up();
        let workers = Default::default();
        let traces = conversations::trace::TraceWriter::start(store.clone());
        let rule_cache = Default::default();
        let ordering = conversations::ordering::Ordering::new(store.backend());
        // Every event also goes to the outbound webhooks' queue, once their worker runs.
        let (webhooks, events) = webhooks::Webhooks::new(events);
        Arc::new(Self {
            store,
            keyring,
            connector,
            events,
            ai,
            knowledge,
            workers,
            traces,
            rule_cache,
            ordering,
            outbound_budget: budget::OutboundBudget::per_minute(outbound_calls_per_minute),
            webhooks,
        })
    }
}
