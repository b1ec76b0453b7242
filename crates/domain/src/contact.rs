//! Contacts: a visitor seen again is one person. A contact is found by the verified `user_id`
//! the site signed, or else by the browser it writes from (a random id the widget keeps), and
//! gathers that person's profile and conversations.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ContactId, TenantId, Timestamp};

/// The most JSON a contact's custom attributes may take.
pub const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Contact {
    pub id: ContactId,
    pub tenant_id: TenantId,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The site's own id for the person, when a signature proved it.
    pub user_id: Option<String>,
    /// Whether the site signed who this is.
    pub verified: bool,
    pub language: Option<String>,
    /// The account's own facts about the person (`{"plan": "gold"}`), set through the API.
    pub attributes: BTreeMap<String, Value>,
    pub first_seen_at: Timestamp,
    pub last_seen_at: Timestamp,
}
