//! A WhatsApp channel against a fake of the Cloud API (Meta's Graph API) on loopback, built
//! from its published formats: the webhook check, signed notifications (an unsigned or
//! wrongly signed one is refused), the live answer and a person's reply sent back, and the
//! 24-hour customer-service window — outside it the channel's template goes out once and the
//! replies wait for the customer (docs/channels.md).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode as FakeStatus};
use axum::routing::{get, post};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::lookup_inputs::{order_backend, shop};
use crate::support::{Client, TestApp, assert_error};

pub(crate) const ACCESS_TOKEN: &str = "EAAG-whatsapp-access-token";
pub(crate) const APP_SECRET: &str = "meta-app-secret";
pub(crate) const VERIFY_TOKEN: &str = "verify-me";
const CUSTOMER: &str = "4915100000";

/// The fake Graph API: the messages it was asked to send.
#[derive(Clone, Default)]
pub(crate) struct Graph {
    sent: Arc<Mutex<Vec<Value>>>,
    /// Media uploaded (the forms, as they came).
    uploads: Arc<Mutex<Vec<String>>>,
    /// Sends refused for a wrong access token.
    refused: Arc<Mutex<u32>>,
    /// Refuse the next send as if the token were wrong.
    refuse_next: Arc<Mutex<bool>>,
}

impl Graph {
    pub(crate) async fn start() -> (std::net::SocketAddr, Self) {
        let fake = Self::default();
        let state = fake.clone();
        let uploads = fake.uploads.clone();
        let authorized =
            |headers: &HeaderMap| headers["authorization"] == format!("Bearer {ACCESS_TOKEN}");
        let router = Router::new()
            .route(
                "/v21.0/{phone}/media",
                post(move |headers: HeaderMap, body: String| {
                    let uploads = uploads.clone();
                    async move {
                        if !authorized(&headers) {
                            return (FakeStatus::UNAUTHORIZED, axum::Json(json!({"error": {"message": "Invalid OAuth access token"}})));
                        }
                        uploads.lock().unwrap().push(body);
                        (FakeStatus::OK, axum::Json(json!({"id": "media-1"})))
                    }
                }),
            )
            .route(
                "/v21.0/{phone}",
                get(move |Path(phone): Path<String>, headers: HeaderMap| async move {
                    if !authorized(&headers) {
                        return (FakeStatus::UNAUTHORIZED, axum::Json(json!({"error": {"message": "Invalid OAuth access token", "code": 190}})));
                    }
                    let number = json!({"id": phone, "display_phone_number": "+49 30 901820", "verified_name": "Acme"});
                    (FakeStatus::OK, axum::Json(number))
                }),
            )
            .route(
                "/v21.0/{phone}/messages",
                post(move |headers: HeaderMap, body: String| {
                    let state = state.clone();
                    async move {
                        let refuse = std::mem::take(&mut *state.refuse_next.lock().unwrap());
                        if refuse || !authorized(&headers) {
                            *state.refused.lock().unwrap() += 1;
                            // As the Graph API does: the refused token is named in the answer.
                            let given = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
                            let message = format!("Invalid OAuth access token - Cannot parse access token {}", given.trim_start_matches("Bearer "));
                            return (FakeStatus::UNAUTHORIZED, axum::Json(json!({"error": {"message": message}})));
                        }
                        let body: Value = serde_json::from_str(&body).unwrap_or_default();
                        let to = body["to"].clone();
                        state.sent.lock().unwrap().push(body);
                        let answer = json!({"messaging_product": "whatsapp",
                            "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": "wamid.out"}]});
                        (FakeStatus::OK, axum::Json(answer))
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (addr, fake)
    }

    /// What went to the customer, once there are `count` messages (waiting up to 30 s: a
    /// retry may be ten seconds away).
    async fn sent(&self, count: usize) -> Vec<Value> {
        for _ in 0..600 {
            let sent = self.sent.lock().unwrap().clone();
            if sent.len() >= count {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {count} messages sent: {:?}", self.sent.lock().unwrap());
    }
}

fn text(sent: &Value) -> &str {
    sent["text"]["body"].as_str().unwrap_or_else(|| panic!("not a text message: {sent}"))
}

pub(crate) fn notification(id: &str, body: &str) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "4930901820", "phone_number_id": "1055"},
            "contacts": [{"profile": {"name": "Ann"}, "wa_id": CUSTOMER}],
            "messages": [{"from": CUSTOMER, "id": id, "timestamp": "1700000000", "type": "text",
                "text": {"body": body}}]}}]}]})
}

pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Posts a notification to the channel's webhook as Meta would, signed with `secret`.
async fn notify(app: &TestApp, channel: &str, secret: &str, body: &Value) -> (StatusCode, Value) {
    let client = app.anonymous();
    let bytes = body.to_string();
    let request = client
        .request(reqwest::Method::POST, &format!("/api/v1/hooks/whatsapp/{channel}"))
        .header("X-Hub-Signature-256", signature(secret, bytes.as_bytes()))
        .header("content-type", "application/json")
        .body(bytes);
    client.send(request).await
}

async fn whatsapp_channel(owner: &Client, widget: &str, graph: std::net::SocketAddr) -> String {
    let settings = json!({"phone_number_id": "1055", "api_base_url": format!("http://{graph}/v21.0"),
        "template": {"name": "back_in_touch", "language": "en"}});
    let secrets = json!({"access_token": ACCESS_TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN});
    let created = owner
        .create(
            "/api/v1/channels",
            json!({"kind": "whatsapp", "name": "WhatsApp", "widget_id": widget,
            "settings": settings, "secrets": secrets}),
        )
        .await;
    for secret in [ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN] {
        assert!(!created.to_string().contains(secret), "secrets are never shown: {created}");
    }
    created["id"].as_str().unwrap().to_owned()
}

async fn order_rule(owner: &Client, endpoint: &str) {
    owner
        .create_rule(json!({"name": "Order", "stop": true,
            "trigger": {"type": "regex", "pattern": r"\border\b", "flags": "i"},
            "actions": [
                {"type": "CALL_API", "endpoint_id": endpoint, "arguments": {"orderId":
                    {"from_message": {"pattern": r"#?(\d{4})"}}}},
                {"type": "REPLY_TEXT", "text": "Order {orderId} is {order_status}."}]}))
        .await;
}

#[tokio::test]
async fn a_whatsapp_customer_gets_live_answers_through_a_checked_webhook() {
    let (backend, _) = order_backend().await;
    let (api, graph) = Graph::start().await;
    for app in TestApp::every_backend_allowing(&[backend, api]).await {
        graph.sent.lock().unwrap().clear();
        let (owner, widget, endpoint) = shop(&app, backend).await;
        order_rule(&owner, &endpoint).await;
        let channel = whatsapp_channel(&owner, &widget, api).await;
        let (_, tested) = owner.post(&format!("/api/v1/channels/{channel}/test"), json!({})).await;
        assert_eq!(tested["data"]["ok"], true, "{tested}");
        assert!(tested["data"]["notes"][0].as_str().unwrap().contains("+49 30 901820"), "{tested}");
        // A test message, refused by the provider: said, not hidden.
        *graph.refuse_next.lock().unwrap() = true;
        let (_, tested) =
            owner.post(&format!("/api/v1/channels/{channel}/test"), json!({"to": "4900"})).await;
        assert_eq!(tested["data"]["ok"], false, "{tested}");
        let said = tested["data"]["notes"].as_array().unwrap().last().unwrap().to_string();
        assert!(said.contains("was not sent") && said.contains("Invalid OAuth"), "{said}");
        assert!(!said.contains(ACCESS_TOKEN), "{said}");

        // Meta's check of the webhook: the challenge echoed for the verify token only.
        let check = |token: &str| {
            format!(
                "{}/api/v1/hooks/whatsapp/{channel}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444",
                app.base
            )
        };
        let answer = reqwest::get(check(VERIFY_TOKEN)).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.text().await.unwrap(), "1158201444");
        assert_eq!(reqwest::get(check("guess")).await.unwrap().status(), StatusCode::FORBIDDEN);

        let (status, body) =
            notify(&app, &channel, APP_SECRET, &notification("wamid.1", "where is order #4521?"))
                .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let sent = graph.sent(1).await;
        assert_eq!((text(&sent[0]), &sent[0]["to"]), ("Order 4521 is shipped.", &json!(CUSTOMER)));

        // Signed with another secret, or not at all: refused, and nothing is taken.
        let forged =
            notify(&app, &channel, "not the app secret", &notification("wamid.2", "order 4522"))
                .await;
        assert_error(&forged, StatusCode::UNAUTHORIZED, "unauthenticated", None);
        let client = app.anonymous();
        let unsigned = client
            .request(reqwest::Method::POST, &format!("/api/v1/hooks/whatsapp/{channel}"))
            .json(&notification("wamid.3", "order 4522"));
        assert_eq!(client.send(unsigned).await.0, StatusCode::UNAUTHORIZED);

        // A message for another number of the same Meta app is not this channel's.
        let mut elsewhere = notification("wamid.4", "order 4522");
        elsewhere["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("2077");
        assert_eq!(notify(&app, &channel, APP_SECRET, &elsewhere).await.0, StatusCode::OK);

        // A person replies from the inbox.
        let (_, inbox) = owner.get("/api/v1/conversations").await;
        let conversation = &inbox["data"][0];
        assert_eq!(conversation["channel"]["kind"], "whatsapp");
        assert_eq!(conversation["visitor"]["user_id"], format!("whatsapp:{CUSTOMER}"));
        let id = conversation["id"].as_str().unwrap();
        owner
            .post(format!("/api/v1/conversations/{id}/messages"), json!({"text": "Anything else?"}))
            .await;
        assert_eq!(text(&graph.sent(2).await[1]), "Anything else?");
        assert_eq!(graph.sent.lock().unwrap().len(), 2, "the refused ones were answered by nobody");

        // A file from the inbox is uploaded, then shown as a document.
        let pdf: &[u8] = b"%PDF-1.4\n% the receipt\n";
        let (status, body) = owner.upload(id, &[("receipt.pdf", pdf)], None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let document = &graph.sent(3).await[2];
        assert_eq!(
            document["document"],
            json!({"id": "media-1", "filename": "receipt.pdf"}),
            "{document}"
        );
        let uploads = graph.uploads.lock().unwrap().clone();
        assert!(
            uploads[0].contains("application/pdf") && uploads[0].contains("% the receipt"),
            "{uploads:?}"
        );
        let stored = app.database_text().await;
        assert!(!stored.contains(ACCESS_TOKEN) && !stored.contains(APP_SECRET), "sealed at rest");
    }
}

#[tokio::test]
async fn outside_the_24_hour_window_the_template_goes_once_and_replies_wait() {
    let (backend, _) = order_backend().await;
    let (api, graph) = Graph::start().await;
    let app = TestApp::sqlite_with(|c| {
        c.security.ssrf_allow = vec![backend.to_string(), api.to_string()]
    })
    .await;
    let (owner, widget, endpoint) = shop(&app, backend).await;
    order_rule(&owner, &endpoint).await;
    let channel = whatsapp_channel(&owner, &widget, api).await;
    notify(&app, &channel, APP_SECRET, &notification("wamid.1", "order 4521")).await;
    graph.sent(1).await;

    // The customer last wrote 25 hours ago.
    app.sqlite_execute("UPDATE channel_threads SET last_inbound_at = last_inbound_at - 90000000");
    let (_, inbox) = owner.get("/api/v1/conversations").await;
    let id = inbox["data"][0]["id"].as_str().unwrap().to_owned();
    for reply in ["Your refund is on its way.", "It takes five days."] {
        owner.post(format!("/api/v1/conversations/{id}/messages"), json!({"text": reply})).await;
    }
    let sent = graph.sent(2).await;
    assert_eq!(sent[1]["type"], "template", "only a template may go out: {sent:?}");
    assert_eq!(sent[1]["template"], json!({"name": "back_in_touch", "language": {"code": "en"}}));
    // Held until the customer writes (a day at most): no pass sends anything until then.
    let held =
        "SELECT count(*) FROM channel_threads WHERE next_attempt_at > last_inbound_at + 86000000";
    for _ in 0..300 {
        if app.sqlite_count(held) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.sqlite_count(held), 1, "the thread waits for the customer");
    assert_eq!(graph.sent.lock().unwrap().len(), 2, "one template, the replies wait");

    // The customer answers: the window opens, the waiting replies go out in order.
    notify(&app, &channel, APP_SECRET, &notification("wamid.2", "ok, thanks")).await;
    let sent = graph.sent(4).await;
    assert_eq!(
        (text(&sent[2]), text(&sent[3])),
        ("Your refund is on its way.", "It takes five days.")
    );
}

#[tokio::test]
async fn a_refused_send_waits_in_order_until_the_token_is_mended() {
    let (backend, _) = order_backend().await;
    let (api, graph) = Graph::start().await;
    let allow = vec![backend.to_string(), api.to_string()];
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = allow).await;
    let (owner, widget, endpoint) = shop(&app, backend).await;
    order_rule(&owner, &endpoint).await;
    let channel = whatsapp_channel(&owner, &widget, api).await;
    let path = format!("/api/v1/channels/{channel}");
    let revoked = json!({"secrets": {"access_token": "revoked"}});
    assert_eq!(owner.patch(&path, revoked).await.0, StatusCode::OK);

    notify(&app, &channel, APP_SECRET, &notification("wamid.1", "order 4521")).await;
    notify(&app, &channel, APP_SECRET, &notification("wamid.2", "order 4522")).await;
    for _ in 0..300 {
        if *graph.refused.lock().unwrap() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(*graph.refused.lock().unwrap() > 0, "the Graph API refused the revoked token");
    assert!(graph.sent.lock().unwrap().is_empty());
    // The channel says its replies wait, and why.
    let mut delivery = Value::Null;
    for _ in 0..300 {
        delivery = owner.get(&path).await.1["data"]["delivery"].clone();
        if delivery.is_object() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivery["waiting_conversations"], 1, "{delivery}");
    let why = delivery["last_error"].as_str().unwrap_or_default();
    assert!(why.contains("Invalid OAuth access token") && !why.contains("revoked"), "{why}");

    // The token is mended: the next try sends both replies, in order.
    let mended = json!({"secrets": {"access_token": ACCESS_TOKEN}});
    assert_eq!(owner.patch(&path, mended).await.0, StatusCode::OK);
    let sent = graph.sent(2).await;
    for _ in 0..300 {
        if owner.get(&path).await.1["data"]["delivery"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(owner.get(&path).await.1["data"]["delivery"].is_null(), "nothing waits any more");
    assert_eq!(
        (text(&sent[0]), text(&sent[1])),
        ("Order 4521 is shipped.", "Order 4522 is packed.")
    );
}
