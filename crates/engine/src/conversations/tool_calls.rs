//! `CALL_TOOL`: a tool of an MCP connection called from a rule. The tool is one of the
//! connection's endpoints (docs/mcp.md), found by its name when the rule runs — the tool list
//! may have been read again since the rule was saved — and called as `CALL_API` calls an
//! endpoint; the action's own mapping then reads the tool's result.

use std::collections::BTreeMap;

use sb_connectors::CallError;
use sb_domain::{ConnectionId, EndpointId};

use super::ConversationsService;
use super::process::Run;

impl ConversationsService {
    /// The endpoint of the connection's tool called `tool`.
    pub(crate) async fn tool_endpoint(
        &self,
        run: &Run<'_>,
        connection: &ConnectionId,
        tool: &str,
    ) -> Result<EndpointId, CallError> {
        let found = self.connections.tool_endpoint(&run.tenant.id, connection, tool).await;
        match found {
            Ok(Some(endpoint)) => Ok(endpoint.id),
            Ok(None) => Err(CallError::new(
                "unknown_tool",
                format!("the connection has no tool called {tool}: read its tools again"),
            )),
            Err(err) => Err(CallError::new("unknown_tool", err.to_string())),
        }
    }

    /// Maps the tool result the last call brought (`CALL_TOOL`'s `response_mapping`) into the
    /// session; nothing for an endpoint, or an empty mapping.
    pub(crate) async fn map_tool_result(
        &self,
        run: &mut Run<'_>,
        endpoint: &EndpointId,
        mapping: &BTreeMap<String, String>,
    ) {
        let Some(result) = run.tool_result.clone().filter(|_| !mapping.is_empty()) else {
            return;
        };
        let mapped = sb_connectors::mapping::apply(mapping, &result);
        for (name, value) in mapped.values {
            self.set_variable(run, &name, value, endpoint.as_str()).await;
        }
        if !mapped.missing.is_empty() {
            let data = serde_json::json!({"endpoint_id": endpoint, "missing": mapped.missing});
            self.note(run, "tool_mapping_missing", data).await;
        }
    }
}
