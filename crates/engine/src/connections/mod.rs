//! Managing API connections: validation, sealing credentials, and the connection test.

mod auth_input;
mod endpoints;
mod health;
mod import;
mod lookups;
mod preview;
#[cfg(test)]
mod tests;
mod tools;
pub(crate) mod validate;

use std::collections::BTreeMap;

use sb_connectors::{AuthSecrets, CallOutcome, CallTarget, Variables};
use sb_domain::call_stats::ConnectionHealth;
use sb_domain::{
    AuthConfig, Connection, ConnectionId, MAX_TIMEOUT_MS, Role, TenantId, TestSummary, Timestamp,
    display_name,
};
use sb_store::{Page, PageRequest, StoredConnection};
use serde_json::{Value, json};

pub use auth_input::AuthInput;
pub(crate) use endpoints::response_mapping;
pub use endpoints::{EndpointDraft, EndpointTest, EndpointView};
pub use health::{ConnectionStats, EndpointStats};
pub use import::{
    IMPORT_FETCH_TIMEOUT, IMPORT_MAX_BYTES, ImportResult, ImportedEndpoint, OpenApiImport,
};
pub use preview::MappingPreview;
pub use tools::{ToolPatch, ToolView};
pub(crate) use validate::check_public_url;

use std::sync::Arc;

use sb_connectors::Connector;
use sb_secrets::Keyring;

use crate::{Actor, EngineError};

stores!(ConnectionStores { connections: ConnectionStore, call_stats: CallStatsStore });

/// The connections aggregate: API connections, their endpoints, OpenAPI import, test buttons
/// and call statistics.
pub struct ConnectionsService {
    store: ConnectionStores,
    keyring: Arc<Keyring>,
    connector: Arc<Connector>,
}

impl ConnectionsService {
    pub fn new(
        store: &Arc<dyn sb_store::Store>,
        keyring: Arc<Keyring>,
        connector: Arc<Connector>,
    ) -> Arc<Self> {
        Arc::new(Self { store: ConnectionStores::of(store), keyring, connector })
    }
}

/// A connection as submitted; on update, absent fields keep their value.
#[derive(Debug, Default)]
pub struct ConnectionDraft {
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub auth: Option<AuthInput>,
    pub headers: Option<BTreeMap<String, String>>,
    pub timeout_ms: Option<u32>,
    /// Set when the connection is made; `http` unless given.
    pub kind: Option<sb_domain::ConnectionKind>,
    /// MCP connections: the header naming a verified visitor (`""` clears it).
    pub identity_header: Option<String>,
}

/// What may be shown of a connection: everything but secret values, with `<field>_set` flags,
/// and the health of its endpoints' calls.
#[derive(Debug, Clone)]
pub struct ConnectionView {
    pub connection: Connection,
    pub secrets_set: bool,
    pub health: ConnectionHealth,
}

impl serde::Serialize for ConnectionView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// The connection's own schema, plus the flags that stand in for its secrets.
impl schemars::JsonSchema for ConnectionView {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ConnectionView".into()
    }

    /// The connection's schema with each authentication method's `<secret>_set` flags added.
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut auth = AuthConfig::json_schema(generator).to_value();
        for method in auth.get_mut("oneOf").and_then(Value::as_array_mut).into_iter().flatten() {
            let kind = method.pointer("/properties/type/const").and_then(Value::as_str);
            for field in AuthConfig::secret_fields_of(kind.unwrap_or_default()) {
                let flag = format!("{field}_set");
                method["properties"][&flag] = json!({
                    "type": "boolean",
                    "description": "Whether the credential is stored; it is never shown.",
                });
                if let Some(required) = method["required"].as_array_mut() {
                    required.push(flag.into());
                }
            }
        }
        let health = generator.subschema_for::<ConnectionHealth>().to_value();
        let mut schema = Connection::json_schema(generator);
        schema.ensure_object().insert("description".into(), "A connection as shown.".into());
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            properties.insert("auth".into(), auth);
            properties.insert("health".into(), health);
        }
        if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
            required.push("health".into());
        }
        schema
    }
}

impl ConnectionView {
    fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(&self.connection).unwrap_or(Value::Null);
        if let Some(auth) = value.get_mut("auth").and_then(Value::as_object_mut) {
            for field in self.connection.auth.secret_fields() {
                auth.insert(format!("{field}_set"), json!(self.secrets_set));
            }
        }
        if let Some(object) = value.as_object_mut() {
            object.insert("health".into(), json!(self.health));
        }
        value
    }
}

impl ConnectionsService {
    /// The connection as shown, with its health.
    async fn connection_view(
        &self,
        stored: StoredConnection,
    ) -> Result<ConnectionView, EngineError> {
        let connection = stored.connection;
        let mut health = self
            .connections_health(&connection.tenant_id, std::slice::from_ref(&connection.id))
            .await?;
        Ok(ConnectionView {
            secrets_set: stored.sealed_secrets.is_some(),
            health: health.remove(&connection.id).unwrap_or_default(),
            connection,
        })
    }

    fn seal(&self, tenant: &TenantId, secrets: &AuthSecrets) -> Option<String> {
        (!secrets.is_empty())
            .then(|| self.keyring.seal(tenant.as_str(), secrets.to_sealable().expose().as_bytes()))
    }

    /// Opens a connection's sealed credentials.
    pub(crate) fn open_secrets(
        &self,
        stored: &StoredConnection,
    ) -> Result<AuthSecrets, EngineError> {
        let Some(sealed) = &stored.sealed_secrets else { return Ok(AuthSecrets::default()) };
        let connection = &stored.connection;
        let plaintext =
            self.keyring.open(connection.tenant_id.as_str(), sealed).map_err(|err| {
                EngineError::Internal(format!(
                    "credentials of connection {} cannot be opened: {err}",
                    connection.id
                ))
            })?;
        let text = String::from_utf8(plaintext)
            .map_err(|_| EngineError::Internal("sealed credentials are not text".into()))?;
        AuthSecrets::from_sealable(&text).map_err(EngineError::Internal)
    }

    pub async fn create_connection(
        &self,
        actor: &Actor,
        draft: ConnectionDraft,
    ) -> Result<ConnectionView, EngineError> {
        actor.require(Role::Admin)?;
        let policy = self.connector.http().policy();
        let missing = |field: &str| {
            sb_domain::ValidationError::new(
                field.to_owned(),
                "missing_field",
                format!("missing field `{field}`"),
            )
        };
        let name =
            display_name(draft.name.as_deref().ok_or_else(|| missing("name"))?, "name", 100)?;
        let base_url = validate::base_url(
            draft.base_url.as_deref().ok_or_else(|| missing("base_url"))?,
            policy,
        )?;
        let (auth, sent) = draft.auth.unwrap_or(AuthInput::None).into_parts(policy)?;
        let secrets = auth_input::merge_secrets(&auth, sent, None)?;
        let headers = draft.headers.unwrap_or_default();
        validate::headers("headers", &headers)?;
        let kind = draft.kind.unwrap_or_default();
        let identity_header = validate::identity_header(kind, draft.identity_header.as_deref())?;
        validate::mcp_headers(kind, &headers)?;
        let now = Timestamp::now();
        let connection = Connection {
            id: ConnectionId::new(),
            tenant_id: actor.tenant_id.clone(),
            name,
            base_url,
            auth,
            headers,
            timeout_ms: validate::timeout_ms(
                "timeout_ms",
                draft.timeout_ms.unwrap_or(MAX_TIMEOUT_MS),
            )?,
            created_at: now,
            updated_at: now,
            last_test: None,
            kind,
            identity_header,
        };
        let sealed = self.seal(&actor.tenant_id, &secrets);
        self.store.connections.create_connection(&connection, sealed.as_deref()).await?;
        // A new connection has made no calls.
        let health = ConnectionHealth::default();
        Ok(ConnectionView { connection, secrets_set: sealed.is_some(), health })
    }

    pub async fn update_connection(
        &self,
        actor: &Actor,
        id: &ConnectionId,
        draft: ConnectionDraft,
    ) -> Result<ConnectionView, EngineError> {
        actor.require(Role::Admin)?;
        let stored = self.store.connections.get_connection(&actor.tenant_id, id).await?;
        let policy = self.connector.http().policy();
        let mut connection = stored.connection.clone();
        if let Some(name) = draft.name {
            connection.name = display_name(&name, "name", 100)?;
        }
        if let Some(base_url) = draft.base_url {
            connection.base_url = validate::base_url(&base_url, policy)?;
        }
        if let Some(headers) = draft.headers {
            validate::headers("headers", &headers)?;
            connection.headers = headers;
        }
        if let Some(timeout) = draft.timeout_ms {
            connection.timeout_ms = validate::timeout_ms("timeout_ms", timeout)?;
        }
        if draft.kind.is_some_and(|kind| kind != connection.kind) {
            let message = "a connection keeps what it speaks: make a new connection instead";
            return Err(sb_domain::ValidationError::new("kind", "immutable_field", message).into());
        }
        if let Some(header) = draft.identity_header.as_deref() {
            connection.identity_header = validate::identity_header(connection.kind, Some(header))?;
        }
        validate::mcp_headers(connection.kind, &connection.headers)?;
        let old_secrets = self.open_secrets(&stored)?;
        let secrets = match draft.auth {
            Some(mut input) => {
                input.keep_unsent(&stored.connection.auth);
                let (auth, sent) = input.into_parts(policy)?;
                let secrets = auth_input::merge_secrets(
                    &auth,
                    sent,
                    Some((&stored.connection.auth, old_secrets.clone())),
                )?;
                connection.auth = auth;
                secrets
            }
            None => old_secrets.clone(),
        };
        connection.updated_at = Timestamp::now();
        // Re-seal only when something changed, so an unrelated edit keeps the ciphertext.
        let sealed = if secrets == old_secrets {
            stored.sealed_secrets.clone()
        } else {
            self.seal(&actor.tenant_id, &secrets)
        };
        self.store.connections.update_connection(&connection, sealed.as_deref()).await?;
        if connection.auth != stored.connection.auth
            || secrets != old_secrets
            || connection.base_url != stored.connection.base_url
        {
            self.connector.tokens().forget_connection(&actor.tenant_id, id);
        }
        // An MCP session belongs to the old address and credentials.
        self.connector.forget_mcp_session(&actor.tenant_id, id);
        self.connection_view(StoredConnection { connection, sealed_secrets: sealed }).await
    }

    pub async fn get_connection(
        &self,
        actor: &Actor,
        id: &ConnectionId,
    ) -> Result<ConnectionView, EngineError> {
        actor.require(Role::Admin)?;
        self.connection_view(self.store.connections.get_connection(&actor.tenant_id, id).await?)
            .await
    }

    pub async fn list_connections(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<ConnectionView>, EngineError> {
        actor.require(Role::Admin)?;
        let page = self.store.connections.list_connections(&actor.tenant_id, page).await?;
        let ids: Vec<ConnectionId> = page.items.iter().map(|c| c.id.clone()).collect();
        let mut health = self.connections_health(&actor.tenant_id, &ids).await?;
        // Listing does not open credentials; every saved connection has the secrets its method needs.
        let items = page
            .items
            .into_iter()
            .map(|connection| ConnectionView {
                secrets_set: !connection.auth.secret_fields().is_empty(),
                health: health.remove(&connection.id).unwrap_or_default(),
                connection,
            })
            .collect();
        Ok(Page { items, next: page.next })
    }

    pub async fn delete_connection(
        &self,
        actor: &Actor,
        id: &ConnectionId,
    ) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        self.store.connections.delete_connection(&actor.tenant_id, id).await?;
        self.connector.tokens().forget_connection(&actor.tenant_id, id);
        self.connector.forget_mcp_session(&actor.tenant_id, id);
        Ok(())
    }

    /// Checks reachability and credentials with sample values for the connection's header
    /// templates, and remembers the result for the dashboard; also says which variables those
    /// templates need, so a caller can ask for them.
    pub async fn test_connection(
        &self,
        actor: &Actor,
        id: &ConnectionId,
        variables: &Variables,
    ) -> Result<(CallOutcome, Vec<String>), EngineError> {
        actor.require(Role::Admin)?;
        let stored = self.store.connections.get_connection(&actor.tenant_id, id).await?;
        let secrets = self.open_secrets(&stored)?;
        let target = CallTarget { connection: &stored.connection, secrets: &secrets };
        let outcome = self.connector.test_connection(target, variables).await;
        self.store
            .connections
            .record_connection_test(&actor.tenant_id, id, &summary(&outcome))
            .await?;
        Ok((outcome, sb_connectors::connection_variables(&stored.connection)))
    }
}

pub(crate) fn summary(outcome: &CallOutcome) -> TestSummary {
    TestSummary {
        ok: outcome.ok,
        status: outcome.status,
        latency_ms: outcome.latency_ms,
        error_code: outcome.error.as_ref().map(|e| e.code.to_owned()),
        at: Timestamp::now(),
    }
}
