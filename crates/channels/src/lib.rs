//! The channels besides the widget, one module per provider: how its settings are checked, how
//! what it sends in becomes a customer's message, and how a reply becomes a request to it. No
//! I/O here: requests go out through the engine's SSRF-safe client, so every provider address
//! passes the same checks as a tenant's backend.

pub mod telegram;

/// A reply as a channel shows it: its text and, for an action waiting for the customer, the
/// buttons that confirm or cancel it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub text: String,
    pub buttons: Vec<Button>,
}

/// A button under a reply; pressing it sends `data` back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub data: String,
}
