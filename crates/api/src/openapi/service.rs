//! The routes outside the resource API, served beside it and described by hand: health for load
//! balancers, metrics for Prometheus, and this description itself. None needs credentials.

use serde_json::{Value, json};

/// `paths` entries for `/healthz`, `/metrics` and `{prefix}/openapi.json`.
pub(super) fn paths(prefix: &str) -> Vec<(String, Value)> {
    let health = json!({
        "type": "object",
        "required": ["status", "store"],
        "additionalProperties": false,
        "properties": {
            "status": {"enum": ["ok", "unavailable"]},
            "store": {"enum": ["sqlite", "postgres"], "description": "The database this node uses."},
            "bus": {
                "enum": ["connected", "disconnected"],
                "description": "Only on a node joined to a realtime bus (NATS)."
            }
        }
    });
    let json_answer = |description: &str, schema: Value| json!({"description": description, "content": {"application/json": {"schema": schema}}});
    let operation = |id: &str, summary: &str, responses: Value| {
        json!({"get": {"operationId": id, "summary": summary, "tags": ["Service"], "security": [],
            "responses": responses}})
    };
    vec![
        (
            "/healthz".to_owned(),
            operation(
                "get_healthz",
                "Health: whether this node reaches its database (and its realtime bus)",
                json!({
                    "200": json_answer("The node serves", health.clone()),
                    "503": json_answer("The database is unreachable", health),
                }),
            ),
        ),
        (
            "/metrics".to_owned(),
            operation(
                "get_metrics",
                "Prometheus metrics of this node (when `metrics.enabled`)",
                json!({
                    "200": {"description": "Prometheus text exposition format 0.0.4",
                        "content": {"text/plain": {"schema": {"type": "string"}}}},
                    "404": {"description": "Metrics are disabled",
                        "content": {"text/plain": {"schema": {"type": "string"}}}},
                }),
            ),
        ),
        (
            format!("{prefix}/openapi.json"),
            operation(
                "get_openapi",
                "This OpenAPI 3.1 description",
                json!({"200": json_answer("The description", json!({"type": "object"}))}),
            ),
        ),
    ]
}
