//! What other services read of connections while handling a conversation or checking a rule
//! (no caller to check: the tenant is already established). Errors are the store's, as a
//! direct read's.

use sb_domain::{ConnectionId, Endpoint, EndpointId, TenantId};
use sb_store::{StoreResult, StoredConnection};

use super::ConnectionsService;

impl ConnectionsService {
    pub(crate) async fn endpoint(
        &self,
        tenant: &TenantId,
        id: &EndpointId,
    ) -> StoreResult<Endpoint> {
        self.store.connections.get_endpoint(tenant, id).await
    }

    /// The connection with its sealed credentials (opened with [`Self::open_secrets`]).
    pub(crate) async fn connection(
        &self,
        tenant: &TenantId,
        id: &ConnectionId,
    ) -> StoreResult<StoredConnection> {
        self.store.connections.get_connection(tenant, id).await
    }

    /// The endpoints the AI may call as tools.
    pub(crate) async fn ai_tool_endpoints(&self, tenant: &TenantId) -> StoreResult<Vec<Endpoint>> {
        self.store.connections.list_ai_tool_endpoints(tenant).await
    }

    /// The connection's endpoint that calls the MCP tool `tool`, if it has one.
    pub(crate) async fn tool_endpoint(
        &self,
        tenant: &TenantId,
        connection: &ConnectionId,
        tool: &str,
    ) -> StoreResult<Option<Endpoint>> {
        let endpoints = self.store.connections.connection_endpoints(tenant, connection).await?;
        Ok(endpoints.into_iter().find(|e| e.tool.as_ref().is_some_and(|t| t.name == tool)))
    }
}
