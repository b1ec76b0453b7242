//! Outbound webhooks: managing them (secret shown once, SSRF rules at save), conversation events
//! delivered with Standard Webhooks signatures (checked here by an independent implementation of
//! the spec), retries with backoff and the delivery log, a hanging receiver that never slows a
//! conversation, secret rotation, giving up after the retry window, and several nodes sharing
//! one queue.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as Code};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::config::Config;

use crate::support::{Client, TestApp, assert_error};

/// What a receiver does with a request.
#[derive(Clone, Copy)]
enum Mode {
    Ok,
    /// Answers 500 to the first `n` attempts of each message, then 200.
    FailFirst(usize),
    /// Always this status.
    Status(u16),
    /// Never answers.
    Hang,
    /// 200 with this body.
    Body(&'static str),
}

#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    content_type: String,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook receiver on 127.0.0.1 that records every request, complete or not.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    /// Requests whose headers arrived (recorded before answering, so hanging ones count).
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(mode: Mode) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Default::default();
        let r = received.clone();
        let handler = move |headers: HeaderMap, body: Bytes| {
            let received = r.clone();
            async move {
                let header = |name: &str| {
                    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
                };
                let request = Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp"),
                    signature: header("webhook-signature"),
                    content_type: header("content-type"),
                    body,
                };
                let seen = {
                    let mut received = received.lock().unwrap();
                    received.push(request.clone());
                    received.iter().filter(|r| r.id == request.id).count()
                };
                match mode {
                    Mode::Ok => (Code::OK, "thanks".to_owned()),
                    Mode::FailFirst(n) if seen <= n => {
                        (Code::INTERNAL_SERVER_ERROR, format!("down for attempt {seen}"))
                    }
                    Mode::FailFirst(_) => (Code::OK, "finally".to_owned()),
                    Mode::Status(status) => (Code::from_u16(status).unwrap(), "nope".to_owned()),
                    Mode::Body(body) => (Code::OK, body.to_owned()),
                    Mode::Hang => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        (Code::OK, "too late".to_owned())
                    }
                }
            }
        };
        let router = axum::Router::new().fallback(handler);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { addr, received }
    }

    fn url(&self) -> String {
        format!("http://{}/hooks/switchboard", self.addr)
    }

    fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn of_type(&self, kind: &str) -> Vec<Received> {
        self.all().into_iter().filter(|r| r.json()["type"] == kind).collect()
    }
}

/// Standard Webhooks verification, written from the specification: HMAC-SHA256 under the
/// base64-decoded part of `whsec_…` over `{id}.{timestamp}.{body}`, compared with each
/// space-separated `v1,<base64>` signature; the timestamp within five minutes.
fn verify(secret: &str, r: &Received) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let sent: i64 = r.timestamp.parse().unwrap();
    let now = sb_domain::Timestamp::now().as_second();
    (now - sent).abs() <= 300 && r.signature.split(' ').any(|s| s == expected)
}

/// Waits up to 10 s for `check` to hold.
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Fast settings for tests: millisecond backoffs and timeouts.
fn quick(config: &mut Config, allow: &[SocketAddr]) {
    config.security.ssrf_allow = allow.iter().map(ToString::to_string).collect();
    config.webhooks.poll_interval_ms = 50;
    config.webhooks.retry_delays_ms = vec![50, 100];
    config.webhooks.timeout_ms = 500;
}

async fn apps(allow: &[SocketAddr], tweak: impl Fn(&mut Config)) -> Vec<TestApp> {
    TestApp::every_backend_with(|config| {
        quick(config, allow);
        tweak(config);
    })
    .await
}

const ALL: [&str; 5] = [
    "conversation.created",
    "message.created",
    "conversation.assigned",
    "conversation.closed",
    "conversation.reopened",
];

/// Creates a webhook; returns its id and secret.
async fn create_webhook(owner: &Client, url: &str, events: &[&str]) -> (String, String) {
    let (status, created) = owner
        .post("/api/v1/webhooks", json!({"url": url, "events": events, "description": "CRM"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let data = &created["data"];
    (data["id"].as_str().unwrap().to_owned(), data["secret"].as_str().unwrap().to_owned())
}

async fn deliveries(owner: &Client, webhook: &str) -> Vec<Value> {
    let (status, log) = owner.get(format!("/api/v1/webhooks/{webhook}/deliveries")).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    log["data"].as_array().unwrap().clone()
}

async fn delivery(owner: &Client, webhook: &str, id: &str) -> Value {
    deliveries(owner, webhook).await.into_iter().find(|d| d["id"] == id).unwrap()
}

async fn send_test(owner: &Client, webhook: &str) -> String {
    let (status, queued) = owner.post(format!("/api/v1/webhooks/{webhook}/test"), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{queued}");
    assert_eq!(queued["data"]["type"], "webhook.test");
    queued["data"]["delivery_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn admins_manage_webhooks_and_see_the_secret_only_once() {
    let receiver = Receiver::start(Mode::Ok).await;
    // Loopback, but not on the operator's allowlist.
    let refused = Receiver::start(Mode::Ok).await;
    for app in apps(&[receiver.addr], |_| {}).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let (status, created) = owner
            .post(
                "/api/v1/webhooks",
                json!({"url": receiver.url(), "events": ["message.created", "conversation.created", "message.created"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let webhook = &created["data"];
        let id = webhook["id"].as_str().unwrap().to_owned();
        let secret = webhook["secret"].as_str().unwrap().to_owned();
        assert!(id.starts_with("whk_"));
        let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(key.len(), 32, "whsec_ + base64 of 32 random bytes");
        assert_eq!(webhook["events"], json!(["conversation.created", "message.created"]));
        assert_eq!(
            (webhook["active"].clone(), webhook["description"].clone()),
            (json!(true), json!(""))
        );

        // Never shown again, never stored in the clear.
        let (_, shown) = owner.get(format!("/api/v1/webhooks/{id}")).await;
        let (_, listed) = owner.get("/api/v1/webhooks").await;
        assert_eq!(shown["data"]["url"], receiver.url());
        assert_eq!(listed["data"][0]["id"], id.as_str());
        for answer in [&shown, &listed] {
            assert!(!answer.to_string().contains(&secret), "{answer}");
            assert!(answer.to_string().find("\"secret\"").is_none(), "{answer}");
        }
        let stored = app.database_text().await;
        assert!(!stored.contains(&secret) && !stored.contains(secret.trim_start_matches("whsec_")));

        // Changes, and what is refused.
        let change = json!({"description": "Sync to the CRM", "events": ["conversation.closed"], "active": false});
        let (status, changed) = owner.patch(format!("/api/v1/webhooks/{id}"), change).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["data"]["events"], json!(["conversation.closed"]));
        assert_eq!(
            (changed["data"]["active"].clone(), changed["data"]["description"].clone()),
            (json!(false), json!("Sync to the CRM"))
        );
        let path = format!("/api/v1/webhooks/{id}");
        let (_, cleared) = owner.patch(&path, json!({"description": null})).await;
        assert_eq!(
            (cleared["data"]["description"].clone(), cleared["data"]["events"].clone()),
            (json!(""), json!(["conversation.closed"]))
        );
        assert_error(
            &owner.patch(&path, json!({"events": ["message.deleted"]})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_event",
            Some("events[0]"),
        );
        assert_error(
            &owner.patch(&path, json!({"events": ["webhook.test"]})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_event",
            Some("events[0]"),
        );
        assert_error(
            &owner.patch(&path, json!({"events": []})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "required",
            Some("events"),
        );
        assert_error(
            &owner.patch(&path, json!({"secret": "whsec_x"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            Some("secret"),
        );
        assert_error(
            &owner.post("/api/v1/webhooks", json!({"events": ["message.created"]})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
            Some("url"),
        );

        // Private and internal addresses are refused when saved, without connecting.
        for url in [
            "http://10.0.0.5/hook".to_owned(),
            "http://169.254.169.254/latest/meta-data".to_owned(),
            "http://[::1]:8080/".to_owned(),
            "http://localhost:9000/".to_owned(),
            "http://metadata.google.internal/".to_owned(),
            refused.url(),
        ] {
            let body = json!({"url": url, "events": ["message.created"]});
            assert_error(
                &owner.post("/api/v1/webhooks", body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "ssrf_blocked",
                Some("url"),
            );
            assert_error(
                &owner.patch(&path, json!({"url": url})).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "ssrf_blocked",
                Some("url"),
            );
        }
        assert!(refused.all().is_empty(), "nothing was sent to the refused address");
        let body = json!({"url": "ftp://files.example.com/", "events": ["message.created"]});
        assert_error(
            &owner.post("/api/v1/webhooks", body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_url",
            Some("url"),
        );

        // Operators cannot manage webhooks; another tenant cannot see them.
        owner.create_user("op@acme.test", "operator").await;
        let operator = app.login("op@acme.test", crate::support::PASSWORD).await;
        assert_eq!(operator.get("/api/v1/webhooks").await.0, StatusCode::FORBIDDEN);
        assert_eq!(operator.get(&path).await.0, StatusCode::FORBIDDEN);
        let body = json!({"url": receiver.url(), "events": ["message.created"]});
        assert_eq!(operator.post("/api/v1/webhooks", body).await.0, StatusCode::FORBIDDEN);
        let other = app.signup("Other", "owner@other.test").await;
        for (status, answer) in [
            other.get(&path).await,
            other.get(format!("{path}/deliveries")).await,
            other.post(format!("{path}/test"), json!({})).await,
            other.post(format!("{path}/rotate-secret"), json!({})).await,
            other.patch(&path, json!({"active": true})).await,
            other.delete(&path).await,
        ] {
            assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
        }
        assert!(other.get("/api/v1/webhooks").await.1["data"].as_array().unwrap().is_empty());

        let (status, _) = owner.delete(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert_error(&owner.get(&path).await, StatusCode::NOT_FOUND, "not_found", None);
    }
}

#[tokio::test]
async fn conversation_events_arrive_signed_per_the_standard() {
    let receiver = Receiver::start(Mode::Ok).await;
    for app in apps(&[receiver.addr], |_| {}).await {
        receiver.received.lock().unwrap().clear();
        let owner = app.signup("Acme", "owner@acme.test").await;
        let me = owner.me().await["user"]["id"].as_str().unwrap().to_owned();
        let widget = owner.create_widget("Shop").await;
        owner.create_rule(json!({"name": "Hi", "trigger": {"type": "any"}, "actions": [{"type": "REPLY_TEXT", "text": "Hello from the bot"}]})).await;
        let (webhook, secret) = create_webhook(&owner, &receiver.url(), &ALL).await;

        let visitor = app
            .start_conversation_as(&widget, json!({"name": "Ann", "email": "ann@example.com"}))
            .await;
        let conversation = visitor.conversation_id.clone();
        assert_eq!(visitor.say("where is my order?").await, ["Hello from the bot"]);
        let base = format!("/api/v1/conversations/{conversation}");
        assert_eq!(
            owner.post(format!("{base}/assign"), json!({"user_id": me})).await.0,
            StatusCode::OK
        );
        assert_eq!(owner.post(format!("{base}/close"), json!({})).await.0, StatusCode::OK);
        assert_eq!(owner.post(format!("{base}/reopen"), json!({})).await.0, StatusCode::OK);

        // created, the visitor's and the bot's messages, assigned, closed (and its system
        // message), reopened.
        let all = eventually("every event", async || {
            let all = receiver.all();
            (all.len() >= 7).then_some(all)
        })
        .await;
        let mut kinds: Vec<String> =
            all.iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
        kinds.sort();
        assert_eq!(
            kinds,
            [
                "conversation.assigned",
                "conversation.closed",
                "conversation.created",
                "conversation.reopened",
                "message.created",
                "message.created",
                "message.created"
            ],
            "{}",
            app.backend
        );
        for r in &all {
            assert!(r.id.starts_with("dlv_"), "{r:?}");
            assert_eq!(r.content_type, "application/json");
            assert!(verify(&secret, r), "{} signature does not verify: {r:?}", app.backend);
            let body = r.json();
            assert_eq!(body["data"]["conversation"]["id"], conversation.as_str());
            assert_eq!(body["data"]["conversation"]["widget_id"], widget.as_str());
            assert!(
                body["timestamp"].as_str().unwrap().parse::<sb_domain::Timestamp>().is_ok(),
                "{body}"
            );
            assert!(!String::from_utf8_lossy(&r.body).contains(&secret));
            assert!(body["data"]["conversation"].get("variables").is_none(), "no internal state");
        }
        // A tampered body does not verify.
        let mut forged = all[0].clone();
        forged.body = Bytes::from(
            String::from_utf8_lossy(&forged.body).replace("conversation", "c0nversation"),
        );
        assert!(!verify(&secret, &forged));
        let wrong = format!("whsec_{}", STANDARD.encode([7u8; 32]));
        assert!(!verify(&wrong, &all[0]));

        let created = &receiver.of_type("conversation.created")[0].json();
        assert_eq!(created["data"]["conversation"]["visitor"]["name"], "Ann");
        assert_eq!(created["data"]["conversation"]["status"], "open");
        let messages = receiver.of_type("message.created");
        let texts: Vec<Value> =
            messages.iter().map(|m| m.json()["data"]["message"]["text"].clone()).collect();
        assert!(
            texts.contains(&json!("where is my order?"))
                && texts.contains(&json!("Hello from the bot")),
            "{texts:?}"
        );
        let visitor_message = messages
            .iter()
            .map(Received::json)
            .find(|m| m["data"]["message"]["author"] == "visitor")
            .unwrap();
        assert_eq!(visitor_message["data"]["message"]["conversation_id"], conversation.as_str());
        let assigned = receiver.of_type("conversation.assigned")[0].json();
        assert_eq!(
            (
                assigned["data"]["conversation"]["assigned_to"].clone(),
                assigned["data"]["conversation"]["status"].clone()
            ),
            (json!(me), json!("pending"))
        );
        assert_eq!(
            receiver.of_type("conversation.closed")[0].json()["data"]["conversation"]["status"],
            "closed"
        );
        assert_eq!(
            receiver.of_type("conversation.reopened")[0].json()["data"]["conversation"]["status"],
            "pending"
        );

        // The log: each delivered on its first attempt, with status and latency; its id is the
        // webhook-id the receiver saw.
        let log = eventually("the log to settle", async || {
            let log = deliveries(&owner, &webhook).await;
            (log.len() == 7 && log.iter().all(|d| d["state"] == "delivered")).then_some(log)
        })
        .await;
        for d in &log {
            assert_eq!(d["attempt_count"], 1, "{d}");
            let attempt = &d["attempts"][0];
            assert_eq!(
                (attempt["attempt"].clone(), attempt["status"].clone(), attempt["error"].clone()),
                (json!(1), json!(200), Value::Null),
                "{d}"
            );
            assert!(
                attempt["latency_ms"].as_u64().is_some() && attempt["response_excerpt"] == "thanks"
            );
            assert!(d["finished_at"].is_string() && d["next_attempt_at"].is_null());
            let sent = all.iter().find(|r| r.id == d["id"]).unwrap();
            assert_eq!(d["payload"], sent.json());
            assert_eq!(d["type"], sent.json()["type"]);
        }
    }
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_backoff_until_it_answers() {
    let receiver = Receiver::start(Mode::FailFirst(2)).await;
    for app in apps(&[receiver.addr], |_| {}).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let (webhook, secret) = create_webhook(&owner, &receiver.url(), &["message.created"]).await;
        let id = send_test(&owner, &webhook).await;
        let delivered = eventually("delivery on the third attempt", async || {
            let d = delivery(&owner, &webhook, &id).await;
            (d["state"] == "delivered").then_some(d)
        })
        .await;
        assert_eq!(delivered["attempt_count"], 3, "{delivered}");
        let attempts = delivered["attempts"].as_array().unwrap();
        let statuses: Vec<Value> = attempts.iter().map(|a| a["status"].clone()).collect();
        assert_eq!(statuses, [json!(500), json!(500), json!(200)]);
        for (i, failed) in attempts[..2].iter().enumerate() {
            assert_eq!(failed["attempt"], i + 1);
            assert_eq!(failed["error"]["code"], "http_error");
            assert!(failed["error"]["message"].as_str().unwrap().contains("500"));
            assert_eq!(failed["response_excerpt"], format!("down for attempt {}", i + 1));
        }
        assert_eq!(delivered["payload"]["type"], "webhook.test");
        // The same message each time: one webhook-id, each attempt signed afresh.
        let sent: Vec<Received> = receiver.all().into_iter().filter(|r| r.id == id).collect();
        assert_eq!(sent.len(), 3);
        assert!(sent.iter().all(|r| r.body == sent[0].body && verify(&secret, r)));
    }
}

#[tokio::test]
async fn a_hanging_receiver_never_slows_a_conversation_or_other_webhooks() {
    let hanging = Receiver::start(Mode::Hang).await;
    let healthy = Receiver::start(Mode::Ok).await;
    let allow = [hanging.addr, healthy.addr];
    for app in apps(&allow, |config| config.webhooks.timeout_ms = 300).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        owner.create_rule(json!({"name": "Hi", "trigger": {"type": "any"}, "actions": [{"type": "REPLY_TEXT", "text": "Right away"}]})).await;
        let (stuck, _) = create_webhook(&owner, &hanging.url(), &ALL).await;
        let (fine, _) = create_webhook(&owner, &healthy.url(), &["message.created"]).await;

        let visitor = app.start_conversation(&widget).await;
        // The conversation.created delivery is hanging by now.
        eventually("the hanging receiver to be called", async || {
            (!hanging.all().is_empty()).then_some(())
        })
        .await;
        for n in 0..5 {
            let started = Instant::now();
            assert_eq!(visitor.say(&format!("question {n}")).await, ["Right away"]);
            assert!(
                started.elapsed() < Duration::from_millis(1500),
                "a reply took {:?}",
                started.elapsed()
            );
        }
        // Meanwhile the hanging receiver was sent (and held) one delivery after another.
        assert!(hanging.all().len() >= 2, "{}", hanging.all().len());
        // The healthy webhook got every message all the same.
        eventually("the healthy receiver's ten messages", async || {
            (healthy.of_type("message.created").len() >= 10).then_some(())
        })
        .await;
        // The hanging one's attempts time out and are retried.
        let timed_out = eventually("timed-out attempts in the log", async || {
            deliveries(&owner, &stuck)
                .await
                .into_iter()
                .find(|d| d["attempt_count"].as_u64() >= Some(2))
        })
        .await;
        assert_eq!(timed_out["state"], "pending");
        let first = &timed_out["attempts"][0];
        assert_eq!(first["error"]["code"], "timeout", "{timed_out}");
        assert!(first["status"].is_null());
        assert!(first["latency_ms"].as_u64().unwrap() >= 250, "{first}");
        assert!(deliveries(&owner, &fine).await.iter().all(|d| d["state"] == "delivered"));
    }
}

#[tokio::test]
async fn after_a_rotation_deliveries_are_signed_with_both_secrets() {
    let receiver = Receiver::start(Mode::Ok).await;
    for app in apps(&[receiver.addr], |_| {}).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let (webhook, old) = create_webhook(&owner, &receiver.url(), &["message.created"]).await;
        let before = send_test(&owner, &webhook).await;
        let sent = eventually("the first test", async || {
            receiver.all().into_iter().find(|r| r.id == before)
        })
        .await;
        assert_eq!(sent.signature.split(' ').count(), 1);
        assert!(verify(&old, &sent));

        let (status, rotated) =
            owner.post(format!("/api/v1/webhooks/{webhook}/rotate-secret"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{rotated}");
        let new = rotated["data"]["secret"].as_str().unwrap().to_owned();
        assert!(new.starts_with("whsec_") && new != old);
        let expires: sb_domain::Timestamp =
            rotated["data"]["previous_secret_expires_at"].as_str().unwrap().parse().unwrap();
        let grace = expires.duration_since(sb_domain::Timestamp::now()).as_secs();
        assert!((86_000..=86_400).contains(&grace), "24 hours of grace: {grace} s");
        let (_, shown) = owner.get(format!("/api/v1/webhooks/{webhook}")).await;
        assert!(
            !shown.to_string().contains(&new)
                && shown["data"]["previous_secret_expires_at"].is_string()
        );

        let after = send_test(&owner, &webhook).await;
        let sent = eventually("the second test", async || {
            receiver.all().into_iter().find(|r| r.id == after)
        })
        .await;
        assert_eq!(sent.signature.split(' ').count(), 2, "{}", sent.signature);
        assert!(verify(&new, &sent), "a receiver that switched verifies");
        assert!(verify(&old, &sent), "a receiver that has not switched yet verifies too");
        let stranger = format!("whsec_{}", STANDARD.encode([9u8; 32]));
        assert!(!verify(&stranger, &sent));
    }
}

#[tokio::test]
async fn deliveries_are_given_up_after_the_retry_window_and_410_switches_a_webhook_off() {
    let failing = Receiver::start(Mode::Status(503)).await;
    let gone = Receiver::start(Mode::Status(410)).await;
    let allow = [failing.addr, gone.addr];
    for app in apps(&allow, |config| config.webhooks.retry_window_secs = 1).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let (webhook, _) = create_webhook(&owner, &failing.url(), &["message.created"]).await;
        let id = send_test(&owner, &webhook).await;
        let started = Instant::now();
        let failed = eventually("the give-up", async || {
            let d = delivery(&owner, &webhook, &id).await;
            (d["state"] == "failed").then_some(d)
        })
        .await;
        assert!(started.elapsed() >= Duration::from_millis(500), "retried until the window closed");
        let attempts = failed["attempt_count"].as_u64().unwrap();
        assert!(attempts >= 3, "{failed}");
        assert!(failed["next_attempt_at"].is_null() && failed["finished_at"].is_string());
        assert!(failed["attempts"].as_array().unwrap().iter().all(|a| a["status"] == 503));
        let created: sb_domain::Timestamp = failed["created_at"].as_str().unwrap().parse().unwrap();
        let last: sb_domain::Timestamp =
            failed["attempts"][attempts as usize - 1]["at"].as_str().unwrap().parse().unwrap();
        assert!(
            last.duration_since(created).as_millis() <= 1200,
            "no attempt long after the window"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            failing.all().iter().filter(|r| r.id == id).count() as u64,
            attempts,
            "failed for good"
        );

        // 410 Gone: failed at once, and the webhook is switched off, saying why.
        let (webhook, _) = create_webhook(&owner, &gone.url(), &["message.created"]).await;
        let id = send_test(&owner, &webhook).await;
        let failed = eventually("the 410", async || {
            let d = delivery(&owner, &webhook, &id).await;
            (d["state"] == "failed").then_some(d)
        })
        .await;
        assert_eq!(failed["attempt_count"], 1);
        let (_, shown) = owner.get(format!("/api/v1/webhooks/{webhook}")).await;
        assert_eq!(shown["data"]["active"], false);
        assert!(shown["data"]["disabled_reason"].as_str().unwrap().contains("410"));
        let (_, resumed) =
            owner.patch(format!("/api/v1/webhooks/{webhook}"), json!({"active": true})).await;
        assert_eq!(
            (resumed["data"]["active"].clone(), resumed["data"]["disabled_reason"].clone()),
            (json!(true), Value::Null)
        );
    }
}

#[tokio::test]
async fn nodes_sharing_a_database_send_each_delivery_once() {
    let receiver = Receiver::start(Mode::Ok).await;
    for first in apps(&[receiver.addr], |_| {}).await {
        receiver.received.lock().unwrap().clear();
        let second = first.another_node().await;
        let owner = first.signup("Acme", "owner@acme.test").await;
        let on_second = second.login("owner@acme.test", crate::support::PASSWORD).await;
        let (webhook, secret) = create_webhook(&owner, &receiver.url(), &["message.created"]).await;
        let mut ids = Vec::new();
        for n in 0..20 {
            let node = if n % 2 == 0 { &owner } else { &on_second };
            ids.push(send_test(node, &webhook).await);
        }
        eventually("every test delivered", async || {
            let log = deliveries(&owner, &webhook).await;
            (log.len() == 20 && log.iter().all(|d| d["state"] == "delivered")).then_some(())
        })
        .await;
        let mut seen: HashMap<String, usize> = HashMap::new();
        for r in receiver.all() {
            assert!(verify(&secret, &r));
            *seen.entry(r.id).or_default() += 1;
        }
        assert_eq!(seen.len(), 20, "{}", first.backend);
        assert!(seen.values().all(|n| *n == 1), "each delivery sent once: {seen:?}");
        assert!(ids.iter().all(|id| seen.contains_key(id)));
    }
}

#[tokio::test]
async fn an_answer_with_a_nul_byte_is_logged_without_it() {
    let receiver = Receiver::start(Mode::Body("ok\u{0}fine\u{1b}[0m\n")).await;
    for app in apps(&[receiver.addr], |_| {}).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let (webhook, _) = create_webhook(&owner, &receiver.url(), &["message.created"]).await;
        let id = send_test(&owner, &webhook).await;
        let delivered = eventually("the delivery logged as delivered", async || {
            let d = delivery(&owner, &webhook, &id).await;
            (d["state"] == "delivered").then_some(d)
        })
        .await;
        assert_eq!(delivered["attempt_count"], 1, "{}: {delivered}", app.backend);
        assert_eq!(delivered["attempts"][0]["status"], 200);
        assert_eq!(delivered["attempts"][0]["response_excerpt"], "okfine[0m\n");
        // Sent once: the attempt was logged, so the delivery is not sent again.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.all().iter().filter(|r| r.id == id).count(), 1);
    }
}

#[tokio::test]
async fn a_2xx_answer_longer_than_the_read_limit_is_delivered_not_retried() {
    let long: &'static str = Box::leak("x".repeat(2 * 1024 * 1024).into_boxed_str());
    let receiver = Receiver::start(Mode::Body(long)).await;
    let app = TestApp::sqlite_with(|config| quick(config, &[receiver.addr])).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let (webhook, _) = create_webhook(&owner, &receiver.url(), &["message.created"]).await;
    let id = send_test(&owner, &webhook).await;
    let delivered = eventually("the delivery logged as delivered", async || {
        let d = delivery(&owner, &webhook, &id).await;
        (d["state"] != "pending").then_some(d)
    })
    .await;
    assert_eq!(
        (&delivered["state"], &delivered["attempt_count"]),
        (&json!("delivered"), &json!(1)),
        "{delivered}"
    );
    let excerpt = delivered["attempts"][0]["response_excerpt"].as_str().unwrap();
    assert!(excerpt.len() <= 1024 && excerpt.starts_with("xxx"), "{}", excerpt.len());
}

#[tokio::test]
async fn one_account_with_hanging_receivers_does_not_hold_up_another() {
    let hanging = Receiver::start(Mode::Hang).await;
    let healthy = Receiver::start(Mode::Ok).await;
    let allow = [hanging.addr, healthy.addr];
    for app in apps(&allow, |config| config.webhooks.timeout_ms = 4000).await {
        hanging.received.lock().unwrap().clear();
        let busy = app.signup("Busy", "owner@busy.test").await;
        let other = app.signup("Other", "owner@other.test").await;
        // Ten hanging deliveries over five webhooks: more than the node's 8 slots, all older
        // than the other account's.
        for _ in 0..5 {
            let (webhook, _) = create_webhook(&busy, &hanging.url(), &["message.created"]).await;
            send_test(&busy, &webhook).await;
            send_test(&busy, &webhook).await;
        }
        eventually("the hanging receiver to hold 4 deliveries", async || {
            (hanging.all().len() >= 4).then_some(())
        })
        .await;
        let (webhook, _) = create_webhook(&other, &healthy.url(), &["message.created"]).await;
        let started = Instant::now();
        let id = send_test(&other, &webhook).await;
        eventually("the other account's delivery", async || {
            healthy.all().iter().any(|r| r.id == id).then_some(())
        })
        .await;
        assert!(started.elapsed() < Duration::from_millis(2000), "took {:?}", started.elapsed());
        // This account's share of the node: 4 at once.
        assert_eq!(hanging.all().len(), 4, "{}", app.backend);
    }
}

#[tokio::test]
async fn test_events_are_rate_limited_per_webhook() {
    let receiver = Receiver::start(Mode::Ok).await;
    for app in apps(&[receiver.addr], |_| {}).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let (webhook, _) = create_webhook(&owner, &receiver.url(), &["message.created"]).await;
        let (another, _) = create_webhook(&owner, &receiver.url(), &["message.created"]).await;
        for _ in 0..10 {
            send_test(&owner, &webhook).await;
        }
        let refused = owner.post(format!("/api/v1/webhooks/{webhook}/test"), json!({})).await;
        assert_error(&refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited", None);
        // Another webhook has its own allowance.
        send_test(&owner, &another).await;
    }
}
