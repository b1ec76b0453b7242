//! Each node keeps the configuration it reads on every message (tenant, widget, rules, endpoint,
//! connection) and checks it against the tenant's configuration revision: a change made on one
//! node is seen by the very next message on another. Two nodes on one PostgreSQL database; runs
//! when `TEST_POSTGRES_URL` is set (CI requires it).

use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn a_configuration_change_on_one_node_is_seen_by_the_next_message_on_another() {
    let backend = crate::backend::start().await;
    let allow = vec![backend.addr().to_string()];
    let Some(a) = TestApp::postgres_with(|c| c.security.ssrf_allow = allow).await else { return };
    let b = a.another_node().await;
    let owner = a.signup("Acme", "owner@acme.test").await;
    let connection = owner
        .create_connection(json!({
            "name": "Echo", "base_url": format!("{}/api", backend.url()), "auth": {"type": "none"},
            "headers": {"x-flavour": "plain"}
        }))
        .await;
    let mapping = json!({"echoed": "query.v", "flavour": "headers[\"x-flavour\"]"});
    let echo = json!({"name": "echo", "method": "GET", "path": "/echo", "query": {"v": "one"}, "response_mapping": mapping});
    let endpoint = owner.create_endpoint(&connection, echo).await;
    let widget = owner.create_widget("Shop").await;
    let reply = |version: &str| {
        json!([{"type": "CALL_API", "endpoint_id": endpoint},
               {"type": "REPLY_TEXT", "text": format!("{{widget.name}} {{now.time_zone}} {{echoed}} {{flavour}} {version}")}])
    };
    let trigger = json!({"type": "keywords", "any": ["status"]});
    let rule = owner
        .create_rule(json!({"name": "status", "trigger": trigger, "actions": reply("v1")}))
        .await;
    // The visitor writes to the other node, which caches what it reads.
    let visitor = b.start_conversation(&widget).await;
    assert_eq!(visitor.say("status").await, ["Shop UTC one plain v1"]);
    assert_eq!(visitor.say("status").await, ["Shop UTC one plain v1"], "from the cache");

    let changes = [
        (
            "/api/v1/tenant".to_owned(),
            json!({"time_zone": "Europe/Berlin"}),
            "Shop Europe/Berlin one plain v1",
        ),
        (
            format!("/api/v1/widgets/{widget}"),
            json!({"name": "Store"}),
            "Store Europe/Berlin one plain v1",
        ),
        (
            format!("/api/v1/rules/{rule}"),
            json!({"actions": reply("v2")}),
            "Store Europe/Berlin one plain v2",
        ),
        (
            format!("/api/v1/endpoints/{endpoint}"),
            json!({"query": {"v": "two"}}),
            "Store Europe/Berlin two plain v2",
        ),
        (
            format!("/api/v1/connections/{connection}"),
            json!({"headers": {"x-flavour": "spicy"}}),
            "Store Europe/Berlin two spicy v2",
        ),
    ];
    for (path, change, expected) in changes {
        let (status, body) = owner.patch(&path, change).await;
        assert_eq!(status, 200, "PATCH {path}: {body}");
        assert_eq!(visitor.say("status").await, [expected], "after PATCH {path}");
    }
}
