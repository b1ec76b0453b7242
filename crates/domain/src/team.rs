use serde::Serialize;

use crate::account::display_name;
use crate::{TeamId, TenantId, Timestamp, UserId, ValidationError};
use schemars::JsonSchema;

/// A group of operators that conversations can be routed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Team {
    pub id: TeamId,
    pub tenant_id: TenantId,
    pub name: TeamName,
    pub member_ids: Vec<UserId>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct TeamName(String);

impl TeamName {
    /// Rebuilds a value read back from the store, where it was validated on the way in.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        display_name(raw, "name", 100).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
