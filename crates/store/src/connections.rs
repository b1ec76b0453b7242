use async_trait::async_trait;
use sb_domain::{Connection, ConnectionId, Endpoint, EndpointId, TenantId, TestSummary};

use crate::{Page, PageRequest, StoreResult};

/// A connection with its sealed credentials (opaque to the store).
#[derive(Debug, Clone)]
pub struct StoredConnection {
    pub connection: Connection,
    pub sealed_secrets: Option<String>,
}

#[async_trait]
pub trait ConnectionStore: Send + Sync {
    async fn create_connection(
        &self,
        connection: &Connection,
        sealed: Option<&str>,
    ) -> StoreResult<()>;
    async fn get_connection(
        &self,
        tenant: &TenantId,
        id: &ConnectionId,
    ) -> StoreResult<StoredConnection>;
    async fn list_connections(
        &self,
        tenant: &TenantId,
        page: &PageRequest,
    ) -> StoreResult<Page<Connection>>;
    /// Replaces every mutable field (name, URL, auth, secrets, headers, timeout).
    async fn update_connection(
        &self,
        connection: &Connection,
        sealed: Option<&str>,
    ) -> StoreResult<()>;
    /// Deletes the connection and its endpoints.
    async fn delete_connection(&self, tenant: &TenantId, id: &ConnectionId) -> StoreResult<()>;
    /// Every account's MCP connections (for their tool lists' periodic refresh), at most
    /// `limit`, by account then id.
    async fn mcp_connections(&self, limit: u32) -> StoreResult<Vec<(TenantId, ConnectionId)>>;
    async fn record_connection_test(
        &self,
        tenant: &TenantId,
        id: &ConnectionId,
        summary: &TestSummary,
    ) -> StoreResult<()>;

    /// The endpoint's connection must belong to the same tenant, else `MissingReference`.
    async fn create_endpoint(&self, endpoint: &Endpoint) -> StoreResult<()>;
    /// Creates several endpoints in one transaction (an OpenAPI import). An endpoint whose name
    /// the tenant already uses is left out; the answer says, in order, which were created.
    async fn create_endpoints(&self, endpoints: &[Endpoint]) -> StoreResult<Vec<bool>>;
    /// The names of all the tenant's endpoints.
    async fn endpoint_names(&self, tenant: &TenantId) -> StoreResult<Vec<String>>;
    async fn get_endpoint(&self, tenant: &TenantId, id: &EndpointId) -> StoreResult<Endpoint>;
    async fn list_endpoints(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        page: &PageRequest,
    ) -> StoreResult<Page<Endpoint>>;
    /// Every endpoint of the connection (an MCP server's tools included), by id.
    async fn connection_endpoints(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
    ) -> StoreResult<Vec<Endpoint>>;
    /// Endpoints the AI may call as tools, across the tenant's connections.
    async fn list_ai_tool_endpoints(&self, tenant: &TenantId) -> StoreResult<Vec<Endpoint>>;
    async fn update_endpoint(&self, endpoint: &Endpoint) -> StoreResult<()>;
    async fn delete_endpoint(&self, tenant: &TenantId, id: &EndpointId) -> StoreResult<()>;
    async fn record_endpoint_test(
        &self,
        tenant: &TenantId,
        id: &EndpointId,
        summary: &TestSummary,
    ) -> StoreResult<()>;
}

/// Which kind of row a sealed value lives in (for master-key rotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedKind {
    ConnectionSecrets,
    WidgetIdentitySecret,
    AiApiKey,
    WebhookSecret,
    /// A webhook's secret before its last rotation, kept for the grace period.
    WebhookPreviousSecret,
}

/// One sealed value somewhere in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub kind: SealedKind,
    pub tenant_id: TenantId,
    pub id: String,
    pub sealed: String,
}

#[async_trait]
pub trait SealedSecretStore: Send + Sync {
    /// Every sealed value, of every kind and tenant.
    async fn list_sealed(&self) -> StoreResult<Vec<SealedValue>>;
    /// Replaces one sealed value, only if it is still `value.sealed` (a concurrent change wins).
    /// Returns whether it was replaced.
    async fn replace_sealed(&self, value: &SealedValue, resealed: &str) -> StoreResult<bool>;
}
