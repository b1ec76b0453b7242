//! API connections (a tenant's backend: base URL and authentication) and their endpoints
//! (request templates whose answers map into session variables).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ConnectionId, EndpointId, TenantId, Timestamp, ValidationError};

/// The ceiling for any backend call, and the default.
pub const MAX_TIMEOUT_MS: u32 = 5000;

/// A configured backend. Secret values live elsewhere, sealed; this is what may be shown.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Connection {
    pub id: ConnectionId,
    pub tenant_id: TenantId,
    pub name: String,
    pub base_url: String,
    pub auth: AuthConfig,
    /// Sent with every call; values may use `{variable}` placeholders.
    pub headers: BTreeMap<String, String>,
    pub timeout_ms: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_test: Option<TestSummary>,
    /// What the connection speaks: HTTP endpoints the account describes, or an MCP server
    /// whose tools are listed from it (each tool an endpoint of the connection).
    #[serde(default)]
    pub kind: ConnectionKind,
    /// MCP: the header that carries a verified visitor's `user_id` to the server, so it can
    /// answer for that customer only; null sends no identity.
    #[serde(default)]
    pub identity_header: Option<String>,
}

/// What a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    /// A REST/JSON API: endpoints are request templates the account writes or imports.
    #[default]
    Http,
    /// A Model Context Protocol server over streamable HTTP at the base URL: its tools are
    /// listed from it and called with `tools/call`.
    Mcp,
}

impl ConnectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionKind::Http => "http",
            ConnectionKind::Mcp => "mcp",
        }
    }
}

impl std::str::FromStr for ConnectionKind {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "http" => Ok(ConnectionKind::Http),
            "mcp" => Ok(ConnectionKind::Mcp),
            _ => Err(ValidationError::new("kind", "invalid_field", "use http or mcp")),
        }
    }
}

/// A tool of an MCP server, as the server lists it. The endpoint that calls it keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct McpTool {
    /// The server's name for it (the endpoint's name is this, made a valid AI tool name).
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// JSON Schema of its arguments.
    pub input_schema: serde_json::Value,
    /// JSON Schema of its structured result, when the server declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<serde_json::Value>,
    /// The server says it changes nothing (`readOnlyHint`).
    #[serde(default)]
    pub read_only: bool,
}

/// The non-secret half of an authentication method. The secret half (`key`, `token`,
/// `password`, `client_secret`) is sealed separately and never serialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuthConfig {
    None,
    ApiKey {
        placement: ApiKeyPlacement,
        name: String,
    },
    Bearer,
    Basic {
        username: String,
    },
    Oauth2ClientCredentials {
        token_url: String,
        client_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
        client_auth: ClientAuth,
        refresh_on: RefreshOn,
    },
}

impl AuthConfig {
    /// The secret fields this method needs, by name.
    pub fn secret_fields(&self) -> &'static [&'static str] {
        Self::secret_fields_of(self.type_name())
    }

    /// The secret fields of the method called `type_name` (see [`AuthConfig::type_name`]).
    pub fn secret_fields_of(type_name: &str) -> &'static [&'static str] {
        match type_name {
            "api_key" => &["key"],
            "bearer" => &["token"],
            "basic" => &["password"],
            "oauth2_client_credentials" => &["client_secret"],
            _ => &[],
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            AuthConfig::None => "none",
            AuthConfig::ApiKey { .. } => "api_key",
            AuthConfig::Bearer => "bearer",
            AuthConfig::Basic { .. } => "basic",
            AuthConfig::Oauth2ClientCredentials { .. } => "oauth2_client_credentials",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyPlacement {
    Header,
    Query,
}

/// How the OAuth client proves itself to the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the client id and secret.
    #[default]
    Basic,
    /// `client_secret_post`: id and secret in the form body.
    Post,
}

/// How the API says an access token has expired: by status code, or by a value in the JSON
/// body (some APIs answer 200 with `{"errcode": 40001}`). Then the token is fetched again and the
/// call retried once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshOn {
    #[serde(default = "default_refresh_statuses")]
    pub statuses: Vec<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_path: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub body_values: Vec<String>,
}

fn default_refresh_statuses() -> Vec<u16> {
    vec![401]
}

impl Default for RefreshOn {
    fn default() -> Self {
        Self { statuses: default_refresh_statuses(), body_path: None, body_values: Vec::new() }
    }
}

/// A call in brief: the last test of a connection or endpoint, or an endpoint's last real call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestSummary {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// Methods that change data on the backend: testing them needs confirmation.
    pub fn changes_data(self) -> bool {
        matches!(self, HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch | HttpMethod::Delete)
    }

    /// Methods that may be repeated without a different effect (RFC 9110 §9.2.2).
    pub fn is_idempotent(self) -> bool {
        !matches!(self, HttpMethod::Post | HttpMethod::Patch)
    }
}

impl std::str::FromStr for HttpMethod {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_ascii_uppercase())).map_err(|_| {
            ValidationError::new(
                "method",
                "invalid_method",
                "must be GET, HEAD, POST, PUT, PATCH or DELETE",
            )
        })
    }
}

/// A value an endpoint needs, declared so it can be validated and described to the AI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariableSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required: bool,
    /// A regular expression the whole value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Endpoint {
    pub id: EndpointId,
    pub tenant_id: TenantId,
    pub connection_id: ConnectionId,
    pub name: String,
    pub description: String,
    #[serde(flatten)]
    pub request: EndpointRequest,
    /// Session variable name → dot path into the JSON response.
    pub response_mapping: BTreeMap<String, String>,
    pub timeout_ms: Option<u32>,
    pub ai_tool: bool,
    /// Safe to retry even though the method is not idempotent by definition.
    pub idempotent: bool,
    pub requires_verified_visitor: bool,
    /// Who must agree before a call is sent (safe actions); defaults by method.
    pub approval: crate::action::Approval,
    /// What the visitor is asked, a template such as `Cancel order {orderId}?`; empty: a
    /// sentence made from the endpoint's name.
    pub approval_summary: String,
    /// Statuses besides 2xx that are normal answers, such as 404 for "no such order": the call
    /// found nothing (`api.<endpoint>.found` is false), which is no failure of the endpoint.
    /// Defaults to `[404]` for GET and HEAD, none for methods that change data.
    pub expected_statuses: Vec<u16>,
    /// Seconds a successful answer is reused for the same request (GET only, never for
    /// verified-visitor endpoints); null: every call goes to the backend.
    pub cache_ttl_s: Option<u32>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_test: Option<TestSummary>,
    /// The MCP tool this endpoint calls (endpoints of MCP connections only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<McpTool>,
}

/// What an endpoint sends, with the variables it takes: the part of an endpoint that an OpenAPI
/// operation describes and an import reports.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EndpointRequest {
    pub method: HttpMethod,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub body: Option<serde_json::Value>,
    pub variables: Vec<VariableSpec>,
}

impl Default for EndpointRequest {
    /// `GET /` without parameters.
    fn default() -> Self {
        Self {
            method: HttpMethod::Get,
            path: "/".into(),
            query: BTreeMap::new(),
            headers: BTreeMap::new(),
            body: None,
            variables: Vec::new(),
        }
    }
}

/// What a new endpoint expects besides 2xx: lookups expect "not found".
pub fn default_expected_statuses(method: HttpMethod) -> Vec<u16> {
    if method.changes_data() { Vec::new() } else { vec![404] }
}

/// The longest an answer may be cached: a day.
pub const MAX_CACHE_TTL_S: u32 = 86_400;

impl Endpoint {
    /// A new endpoint `name` of `connection` that sends `request`, every other setting at its
    /// default.
    pub fn new(
        tenant: &TenantId,
        connection: &ConnectionId,
        name: String,
        request: EndpointRequest,
    ) -> Self {
        let now = Timestamp::now();
        let approval = crate::action::Approval::default_for(request.method);
        let expected_statuses = default_expected_statuses(request.method);
        Self {
            id: EndpointId::new(),
            tenant_id: tenant.clone(),
            connection_id: connection.clone(),
            name,
            description: String::new(),
            request,
            response_mapping: BTreeMap::new(),
            timeout_ms: None,
            ai_tool: false,
            idempotent: false,
            requires_verified_visitor: false,
            approval,
            approval_summary: String::new(),
            expected_statuses,
            cache_ttl_s: None,
            created_at: now,
            updated_at: now,
            last_test: None,
            tool: None,
        }
    }

    /// The values a call needs, each once: the declared variables, then the others its
    /// templates use (Switchboard's own, such as `visitor.user_id`, left out).
    pub fn inputs(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.request.variables.iter().map(|spec| spec.name.clone()).collect();
        for (_, name) in crate::verified_calls::endpoint_template_uses(self) {
            if !crate::is_built_in(&name) && !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Whether a failed call may be retried without risking a repeated side effect.
    pub fn is_retry_safe(&self) -> bool {
        self.request.method.is_idempotent() || self.idempotent
    }
}

/// Names of endpoints double as AI tool names, so they follow the strictest tool-name rules
/// (OpenAI: `^[a-zA-Z0-9_-]{1,64}$`).
pub fn validate_endpoint_name(name: &str) -> Result<(), ValidationError> {
    let valid = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(ValidationError::new(
            "name",
            "invalid_name",
            "use 1–64 letters, digits, _ or - (e.g. get_order_status); the name is also the AI tool name",
        ))
    }
}

/// Session variable names: letters, digits, `_` and `.`, starting with a letter or `_`.
pub fn validate_variable_name(field: impl Into<String>, name: &str) -> Result<(), ValidationError> {
    let mut chars = name.chars();
    let valid = name.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if valid {
        Ok(())
    } else {
        Err(ValidationError::new(
            field.into(),
            "invalid_variable_name",
            format!(
                "\"{name}\" is not a variable name: use letters, digits, _ and ., starting with a letter"
            ),
        ))
    }
}
