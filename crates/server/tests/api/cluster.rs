//! Two nodes on one PostgreSQL database: joined by NATS, a visitor on one node and an operator
//! on the other see each other live, and a visitor who reconnects to the other node resumes
//! without loss; losing NATS leaves each node serving its own clients until it returns; one
//! conversation's messages are handled in order whichever node receives them; each node fetches
//! one OAuth token. Runs when `TEST_POSTGRES_URL` (and, for the bus, `TEST_NATS_URL` or a
//! `nats-server` binary) are there; CI sets `SWITCHBOARD_REQUIRE_NATS=1`, so nothing skips.

use std::time::Duration;

use futures_util::SinkExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::realtime::{connect, next, operator_socket, until};
use crate::support::{TestApp, api_connection};

/// Two nodes joined by NATS, or `None` (with a note) when the services are not configured.
async fn two_nodes() -> Option<(TestApp, TestApp)> {
    let nats = std::env::var("TEST_NATS_URL").ok();
    let required = std::env::var("SWITCHBOARD_REQUIRE_NATS").is_ok_and(|v| v == "1");
    let Some(nats) = nats else {
        assert!(!required, "SWITCHBOARD_REQUIRE_NATS=1 but TEST_NATS_URL is not set");
        eprintln!("note: TEST_NATS_URL not set; the two-node tests are skipped");
        return None;
    };
    let Some(first) = TestApp::postgres_with(|c| c.bus.url = nats.clone()).await else {
        assert!(!required, "the two-node tests need TEST_POSTGRES_URL");
        eprintln!("note: TEST_POSTGRES_URL not set; the two-node tests are skipped");
        return None;
    };
    let second = first.another_node().await;
    for node in [&first, &second] {
        wait_for_bus(node).await;
    }
    Some((first, second))
}

/// Until the node says its bus is connected (its health answer).
async fn wait_for_bus(node: &TestApp) {
    for _ in 0..200 {
        let (_, health) = node.anonymous().get("/healthz").await;
        if health["bus"] == "connected" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the node at {} never joined the bus", node.base);
}

#[tokio::test]
async fn a_visitor_on_one_node_and_an_operator_on_another_see_each_other_live() {
    let Some((a, b)) = two_nodes().await else { return };
    let owner = a.signup("Acme", "owner@acme.test").await;
    let key = owner.create_api_key("nodes").await;
    let operator_on_b = b.with_api_key(&key);
    let widget = owner.create_widget("Shop").await;
    owner.create_rule(json!({"name": "echo", "trigger": {"type": "keywords", "any": ["ping"]}, "actions": [{"type": "REPLY_TEXT", "text": "pong"}]})).await;
    let mut operators = operator_socket(&b, &key).await;

    let visitor = a.start_conversation_as(&widget, json!({"name": "Ann"})).await;
    let created = until(&mut operators, "conversation_created").await;
    assert_eq!(created["conversation_id"], visitor.conversation_id.as_str());
    let path = format!(
        "/api/v1/widget/conversations/{}/ws?token={}",
        visitor.conversation_id, visitor.token
    );
    let mut feed = connect(&a, &path, &[]).await.unwrap();

    // The visitor writes on A; the operator on B sees the message and the bot's answer.
    assert_eq!(visitor.say("ping").await, ["pong"]);
    assert_eq!(until(&mut operators, "message_created").await["message"]["text"], "ping");
    assert_eq!(until(&mut operators, "message_created").await["message"]["text"], "pong");

    // The operator, on B, types and replies; the visitor, on A, sees both.
    let typing =
        json!({"type": "typing", "conversation_id": visitor.conversation_id, "typing": true});
    operators.send(Frame::Text(typing.to_string().into())).await.unwrap();
    assert_eq!(until(&mut feed, "typing").await["typing"], true);
    let reply = format!("/api/v1/conversations/{}/messages", visitor.conversation_id);
    let (status, sent) = operator_on_b.post(&reply, json!({"text": "Hello from B"})).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    // The reply and the assignment it made, in whichever order they come.
    let (mut replied, mut assigned) = (false, false);
    while !(replied && assigned) {
        let event: Value = next(&mut feed).await;
        replied |= event["type"] == "message" && event["message"]["text"] == "Hello from B";
        assigned |= event["type"] == "conversation_updated" && event["status"] == "pending";
    }

    // The visitor drops off A and comes back on B from the last message seen: nothing lost.
    let last_seen = sent["data"]["id"].as_str().unwrap().to_owned();
    drop(feed);
    for text in ["First while away", "Second while away"] {
        let (status, _) = operator_on_b.post(&reply, json!({"text": text})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut resumed = connect(&b, &format!("{path}&after={last_seen}"), &[]).await.unwrap();
    let first = until(&mut resumed, "message").await;
    let second = until(&mut resumed, "message").await;
    assert_eq!(
        (first["message"]["text"].clone(), second["message"]["text"].clone()),
        (json!("First while away"), json!("Second while away"))
    );
}

#[tokio::test]
async fn one_conversation_is_handled_in_order_even_when_its_messages_reach_two_nodes() {
    let Ok(_) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("note: TEST_POSTGRES_URL not set; the two-node ordering test is skipped");
        return;
    };
    let backend = crate::backend::delaying().await;
    let allow = vec![backend.to_string()];
    let a = TestApp::postgres_with(|c| c.security.ssrf_allow = allow).await.unwrap();
    let b = a.another_node().await;
    let owner = a.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    let connection = owner
        .create_connection(json!({"name": "Slow", "base_url": format!("http://{backend}")}))
        .await;
    let endpoint = owner
        .create_endpoint(
            &connection,
            json!({"name": "delay", "method": "GET", "path": "/delay/{ms}",
                   "variables": [{"name": "ms", "required": true, "pattern": "[0-9]{1,4}"}],
                   "response_mapping": {"waited": "ms"}}),
        )
        .await;
    owner
        .create_rule(json!({"name": "Wait", "trigger": {"type": "regex", "pattern": "wait (\\d+)"}, "actions": [
            {"type": "SET_VARIABLE", "name": "ms", "from_regex": {"pattern": "wait (\\d+)"}},
            {"type": "CALL_API", "endpoint_id": endpoint},
            {"type": "REPLY_TEXT", "text": "waited {waited}"}
        ]}))
        .await;

    // The first message is slow to answer and reaches A; the second, quick one reaches B while
    // A is still busy. B must not answer the second before A has answered the first.
    let on_a = a.start_conversation(&widget).await;
    let on_b = on_a.through(b.anonymous());
    let slow = tokio::spawn(async move { on_a.say("wait 400").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    on_b.say("wait 1").await;
    slow.await.unwrap();

    let path = format!("/api/v1/conversations/{}/messages", on_b.conversation_id);
    let (_, messages) = owner.get(&path).await;
    let transcript: Vec<&str> =
        messages["data"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(transcript, ["wait 400", "wait 1", "waited 400", "waited 1"]);
}

/// A NATS server of the test's own on a free port, so the test can stop and restart it.
struct OwnNats {
    port: u16,
    process: Option<std::process::Child>,
}

impl OwnNats {
    fn binary() -> Option<&'static str> {
        ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
    }

    fn start(port: u16) -> Self {
        let mut nats = Self { port, process: None };
        nats.resume();
        nats
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn resume(&mut self) {
        let binary = Self::binary().expect("nats-server");
        let port = self.port.to_string();
        let child = std::process::Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        self.process = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.process.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn bus_state(node: &TestApp, wanted: &str) {
    for _ in 0..400 {
        if node.anonymous().get("/healthz").await.1["bus"] == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the node at {} never reported its bus {wanted}", node.base);
}

#[tokio::test]
async fn losing_nats_keeps_each_node_serving_its_own_clients_until_it_returns() {
    let required = std::env::var("SWITCHBOARD_REQUIRE_NATS").is_ok_and(|v| v == "1");
    if OwnNats::binary().is_none() || std::env::var("TEST_POSTGRES_URL").is_err() {
        assert!(!required, "this test needs nats-server and TEST_POSTGRES_URL");
        eprintln!("note: nats-server or TEST_POSTGRES_URL missing; the bus-loss test is skipped");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut nats = OwnNats::start(port);
    let url = nats.url();
    let a = TestApp::postgres_with(|c| c.bus.url = url).await.unwrap();
    let b = a.another_node().await;
    bus_state(&a, "connected").await;
    bus_state(&b, "connected").await;
    let owner = a.signup("Acme", "owner@acme.test").await;
    let key = owner.create_api_key("nodes").await;
    let widget = owner.create_widget("Shop").await;

    nats.stop();
    bus_state(&a, "disconnected").await;
    // Each node still serves its own clients, live.
    let mut on_a = operator_socket(&a, &key).await;
    let visitor = a.start_conversation(&widget).await;
    visitor.say("hello while the bus is down").await;
    let seen = until(&mut on_a, "message_created").await;
    assert_eq!(seen["message"]["text"], "hello while the bus is down");

    nats.resume();
    bus_state(&a, "connected").await;
    bus_state(&b, "connected").await;
    // And events cross between nodes again.
    let mut on_b = operator_socket(&b, &key).await;
    visitor.say("hello again").await;
    let seen = until(&mut on_b, "message_created").await;
    assert_eq!(seen["message"]["text"], "hello again");
}

#[tokio::test]
async fn each_node_fetches_one_oauth_token_however_many_calls_it_makes() {
    let Ok(_) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("note: TEST_POSTGRES_URL not set; the two-node OAuth test is skipped");
        return;
    };
    use crate::backend::{CLIENT_ID, CLIENT_SECRET};
    let backend = crate::backend::start().await;
    let allow = vec![backend.addr().to_string()];
    let a = TestApp::postgres_with(|c| c.security.ssrf_allow = allow).await.unwrap();
    let b = a.another_node().await;
    let owner = a.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    let auth = json!({"type": "oauth2_client_credentials",
        "token_url": format!("{}/oauth/token", backend.url()),
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET});
    let connection = owner.create_connection(api_connection("Shop", &backend.url(), auth)).await;
    let endpoint = owner
        .create_endpoint(
            &connection,
            json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}",
                   "response_mapping": {"order_status": "data.status"}}),
        )
        .await;
    owner
        .create_rule(
            json!({"name": "Order", "trigger": {"type": "regex", "pattern": "#(\\d+)"}, "actions": [
                {"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "#(\\d+)"}},
                {"type": "CALL_API", "endpoint_id": endpoint},
                {"type": "REPLY_TEXT", "text": "{order_status}"}
            ]}),
        )
        .await;

    // Ten visitors on each node ask at once, on cold caches.
    let mut asks = Vec::new();
    for node in [&a, &b] {
        for _ in 0..10 {
            let visitor = node.start_conversation(&widget).await;
            asks.push(tokio::spawn(async move { visitor.say("where is #4521?").await }));
        }
    }
    for ask in asks {
        assert_eq!(ask.await.unwrap(), ["shipped"]);
    }
    assert_eq!(backend.tokens(), 2, "one token per node, not one per call");
}
