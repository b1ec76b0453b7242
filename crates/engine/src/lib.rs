//! Use-cases shared by every entry point (HTTP API, command line): they validate input, enforce
//! permissions and call the store. Transport concerns (status codes, cookies) stay outside.

pub mod accounts;
mod actor;
pub mod connections;
mod error;

pub use actor::{Actor, Credential};
pub use error::EngineError;

use std::sync::Arc;

use sb_connectors::Connector;
use sb_secrets::Keyring;
use sb_store::Store;

/// The services every use-case needs, shared by the whole process.
pub struct Engine {
    pub store: Arc<dyn Store>,
    pub keyring: Arc<Keyring>,
    pub connector: Arc<Connector>,
}
