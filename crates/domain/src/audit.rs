//! The audit log: what the account's people did that an owner may need to answer for — who
//! signed in, changed settings, exported or erased a contact's data, approved an action.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ApiKeyId, AuditId, TenantId, Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditEntry {
    pub id: AuditId,
    pub tenant_id: TenantId,
    pub at: Timestamp,
    /// The person (for an API key, the one who made it), if any and still known.
    pub actor_user_id: Option<UserId>,
    /// Their e-mail, while they exist.
    pub actor_email: Option<String>,
    /// The API key used, when it was one.
    pub actor_api_key_id: Option<ApiKeyId>,
    /// `session.login`, `tenant.updated`, `contact.exported`, `contact.erased`, … (docs/privacy.md).
    pub action: String,
    /// The id of what was acted on.
    pub target: Option<String>,
    /// What changed — names of fields, counts — never the personal data itself.
    pub details: Value,
}
