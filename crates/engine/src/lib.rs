//! Use-cases shared by every entry point (HTTP API, command line): they validate input, enforce
//! permissions and call the store. Transport concerns (status codes, cookies) stay outside.

pub mod accounts;
mod actor;
mod error;

pub use actor::{Actor, Credential};
pub use error::EngineError;
