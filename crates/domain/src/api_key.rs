//! Tenant API keys and what each may reach.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ApiKeyId, Role, TenantId, Timestamp, UserId, ValidationError, display_name};

/// A tenant API key's public face. The key itself is shown once and stored only as a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    /// The first characters of the key, so people can tell their keys apart.
    pub prefix: String,
    /// Keys act with the role their creator had when creating them.
    pub role: Role,
    /// What the key reaches: `api` is this HTTP API (with the key's role); the `mcp:` scopes
    /// are tools of the MCP server at `/mcp`. A key reaches nothing else.
    pub scopes: Vec<ApiKeyScope>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl ApiKey {
    pub fn parse_name(raw: &str) -> Result<String, ValidationError> {
        display_name(raw, "name", 100)
    }

    pub fn allows(&self, scope: ApiKeyScope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// One thing an API key may reach. A key given to an outside agent can so be limited to what
/// the agent needs (reading conversations, say) rather than everything its creator may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum ApiKeyScope {
    /// The HTTP API, with the key's role. Keys made without naming scopes have this one.
    #[serde(rename = "api")]
    Api,
    /// MCP: search the knowledge base, read conversations, ask the assistant in the sandbox.
    #[serde(rename = "mcp:read")]
    McpRead,
    /// MCP: reply to conversations and assign them.
    #[serde(rename = "mcp:write")]
    McpWrite,
    /// MCP: ask the assistant live (a real conversation, real backends).
    #[serde(rename = "mcp:assistant")]
    McpAssistant,
}

impl ApiKeyScope {
    pub const ALL: [ApiKeyScope; 4] =
        [ApiKeyScope::Api, ApiKeyScope::McpRead, ApiKeyScope::McpWrite, ApiKeyScope::McpAssistant];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyScope::Api => "api",
            ApiKeyScope::McpRead => "mcp:read",
            ApiKeyScope::McpWrite => "mcp:write",
            ApiKeyScope::McpAssistant => "mcp:assistant",
        }
    }

    /// Whether the scope opens the MCP server at all.
    pub fn is_mcp(self) -> bool {
        self != ApiKeyScope::Api
    }

    /// The scopes a new key asks for, sorted and each once; none named means `api`.
    pub fn parse_list(raw: Option<&[String]>) -> Result<Vec<ApiKeyScope>, ValidationError> {
        let Some(raw) = raw else { return Ok(vec![ApiKeyScope::Api]) };
        if raw.is_empty() {
            let message = "name at least one scope: api, mcp:read, mcp:write or mcp:assistant";
            return Err(ValidationError::new("scopes", "required", message));
        }
        let mut scopes = raw
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.parse().map_err(|e: ValidationError| {
                    ValidationError::new(format!("scopes[{i}]"), e.code, e.message)
                })
            })
            .collect::<Result<Vec<ApiKeyScope>, _>>()?;
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }

    /// Reads the stored form (`api mcp:read`); unknown words are skipped.
    pub fn from_stored(stored: &str) -> Vec<ApiKeyScope> {
        let mut scopes: Vec<ApiKeyScope> =
            stored.split_whitespace().filter_map(|s| s.parse().ok()).collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// The stored form: the scopes' names, separated by spaces.
    pub fn to_stored(scopes: &[ApiKeyScope]) -> String {
        scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Display for ApiKeyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApiKeyScope {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApiKeyScope::ALL.into_iter().find(|scope| scope.as_str() == s).ok_or_else(|| {
            ValidationError::new(
                "scopes",
                "invalid_scope",
                "must be one of api, mcp:read, mcp:write, mcp:assistant",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_default_to_the_api_and_are_kept_sorted_once() {
        assert_eq!(ApiKeyScope::parse_list(None).unwrap(), vec![ApiKeyScope::Api]);
        let asked = ["mcp:write".to_owned(), "mcp:read".to_owned(), "mcp:write".to_owned()];
        let scopes = ApiKeyScope::parse_list(Some(&asked)).unwrap();
        assert_eq!(scopes, vec![ApiKeyScope::McpRead, ApiKeyScope::McpWrite]);
        assert_eq!(ApiKeyScope::to_stored(&scopes), "mcp:read mcp:write");
        assert_eq!(ApiKeyScope::from_stored("mcp:write mcp:read gone"), scopes);
    }

    #[test]
    fn bad_scopes_name_their_place() {
        let err = ApiKeyScope::parse_list(Some(&[])).unwrap_err();
        assert_eq!((err.field.as_ref(), err.code), ("scopes", "required"));
        let asked = ["api".to_owned(), "mcp:admin".to_owned()];
        let err = ApiKeyScope::parse_list(Some(&asked)).unwrap_err();
        assert_eq!((err.field.as_ref(), err.code), ("scopes[1]", "invalid_scope"));
    }
}
