//! Secrets in the logs: a test binary of its own, so that nothing else runs while it captures
//! every log line, at every level, of the servers it starts (a thread-scoped subscriber on a
//! single-threaded runtime sees everything they do).

#[path = "api/backend.rs"]
#[allow(dead_code)]
mod backend;
#[path = "api/support/mod.rs"]
#[allow(dead_code, unused_imports)]
mod support;

use serde_json::json;

use crate::support::{TestApp, api_connection};

/// Log lines written by the servers polled on this thread.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A backend that echoes its credentials, every log line at every level, the trace, the
/// replies and the test results: the planted secrets (and Basic auth's Base64) are in none.
#[tokio::test(flavor = "current_thread")]
async fn planted_secrets_stay_out_of_echoes_traces_replies_and_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _capturing = tracing::subscriber::set_default(subscriber);

    let backend = backend::start().await;
    let allow = vec![backend.addr().to_string()];
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = allow).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let planted = |field: &str| format!("PLANTED-{field}-7f3a");
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("u:{}", planted("password")))
    };
    let auths = backend::planted_auths(&backend.url(), planted);
    let widget = owner
        .create_widget_with(json!({"name": "Shop", "identity_secret": planted("identity-secret")}))
        .await;
    let ai = json!({"provider": "openai", "base_url": format!("{}/v1", backend.url()),
        "model": "m", "api_key": planted("ai-key")});
    let mut answers = vec![owner.put("/api/v1/ai-settings", ai).await.1];
    for (i, auth) in auths.iter().enumerate() {
        let body = api_connection(&format!("c{i}"), &backend.url(), auth.clone());
        let connection = owner.create_connection(body).await;
        let endpoint = json!({"name": format!("echo{i}"), "method": "GET", "path": "/echo",
            "response_mapping": {"echoed": "headers", "asked": "query"}});
        let endpoint = owner.create_endpoint(&connection, endpoint).await;
        answers.push(
            owner
                .post(format!("/api/v1/endpoints/{endpoint}/test"), json!({"variables": {}}))
                .await
                .1,
        );
        answers
            .push(owner.post(format!("/api/v1/connections/{connection}/test"), json!({})).await.1);
        owner.create_rule(json!({"name": format!("r{i}"), "trigger": {"type": "keywords", "any": [format!("echo{i}")]}, "actions": [
            {"type": "CALL_API", "endpoint_id": endpoint},
            {"type": "REPLY_TEXT", "text": "{echoed} {asked}"}
        ], "stop": true})).await;
    }
    // A webhook: its signing secret is shown once, in this answer, and nowhere after.
    let hook = json!({"url": format!("{}/api", backend.url()), "events": ["message.created"]});
    let (_, hook) = owner.post("/api/v1/webhooks", hook).await;
    let hook_id = hook["data"]["id"].as_str().unwrap().to_owned();
    let hook_secret = hook["data"]["secret"].as_str().unwrap().to_owned();
    let visitor = app.start_conversation(&widget).await;
    let mut replies = Vec::new();
    for i in 0..auths.len() {
        replies.extend(visitor.say(&format!("echo{i}")).await);
    }
    // Every message of the conversation was sent to the webhook (and refused: 401, retried).
    let messages = format!("/api/v1/conversations/{}/messages", visitor.conversation_id);
    let messages = owner.get(&messages).await.1["data"].as_array().unwrap().len();
    let deliveries = format!("/api/v1/webhooks/{hook_id}/deliveries");
    for _ in 0..400 {
        let (_, log) = owner.get(&deliveries).await;
        let log = log["data"].as_array().unwrap();
        if log.len() == messages && log.iter().all(|d| d["attempt_count"] != 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    answers.push(owner.get(&deliveries).await.1);
    answers.push(owner.get(format!("/api/v1/webhooks/{hook_id}")).await.1);
    let conversation = format!("/api/v1/conversations/{}", visitor.conversation_id);
    answers.push(owner.get(&conversation).await.1);
    answers.push(owner.get(format!("{conversation}/trace")).await.1);
    answers.push(owner.get(format!("{conversation}/messages")).await.1);
    answers.push(owner.get("/api/v1/ai-settings").await.1);
    answers.push(owner.get(format!("/api/v1/widgets/{widget}")).await.1);

    assert!(replies.iter().any(|r| r.contains("***")), "the echo came back, scrubbed: {replies:?}");
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(logs.len() > 10_000, "the servers' logs were captured ({} bytes)", logs.len());
    let everything = format!(
        "{}\n{}",
        answers.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
        replies.join("\n")
    );
    let fields = [
        "header-key",
        "query-key",
        "token",
        "password",
        "client-secret",
        "identity-secret",
        "ai-key",
    ];
    let hook_key = hook_secret.trim_start_matches("whsec_").to_owned();
    for secret in fields.map(planted).into_iter().chain([basic, hook_secret, hook_key]) {
        assert!(!everything.contains(&secret), "{secret} came back in an answer, trace or reply");
        assert!(!logs.contains(&secret), "{secret} is in the logs");
    }
}
