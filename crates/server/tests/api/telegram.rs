//! A Telegram channel against a fake of the Bot API on loopback (built from its published
//! request and answer formats): the test button connects the bot, a customer's updates become
//! the conversation's messages, the live answer and the people's replies go back with
//! `sendMessage`, an action is confirmed with the reply's button, a failed send is sent again,
//! an update sent twice counts once, and nothing works without the webhook's secret
//! (docs/channels.md).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode as FakeStatus;
use axum::routing::post;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::lookup_inputs::{order_backend, order_flow_rule, order_rule, shop};
use crate::support::{Client, TestApp, assert_error};

pub(crate) const TOKEN: &str = "123456:secret-bot-token";
const PUBLIC_URL: &str = "https://support.example.com";

/// What the fake Bot API received: `(method, body)`, and how many `sendMessage` calls to fail.
#[derive(Clone, Default)]
pub(crate) struct Telegram {
    calls: Arc<Mutex<Vec<(String, Value)>>>,
    failures: Arc<Mutex<u32>>,
    /// Updates waiting for `getUpdates`, as Telegram keeps them until confirmed.
    queued: Arc<Mutex<Vec<Value>>>,
    /// Refuse files (as Telegram does a picture of extreme dimensions).
    refuse_files: Arc<Mutex<bool>>,
}

impl Telegram {
    pub(crate) async fn start() -> (std::net::SocketAddr, Self) {
        let fake = Self::default();
        let state = fake.clone();
        let router = Router::new().route(
            "/{bot}/{method}",
            post(move |Path((bot, method)): Path<(String, String)>, body: String| {
                let state = state.clone();
                async move {
                    if bot != format!("bot{TOKEN}") {
                        let refused = json!({"ok": false, "error_code": 401, "description": "Unauthorized"});
                        return (FakeStatus::UNAUTHORIZED, axum::Json(refused));
                    }
                    // Files come as a multipart form: kept as it came.
                    let body: Value = serde_json::from_str(&body).unwrap_or_else(|_| json!({"form": body}));
                    if method == "sendDocument" && *state.refuse_files.lock().unwrap() {
                        let refused = json!({"ok": false, "error_code": 400, "description": "Bad Request: file is too big"});
                        return (FakeStatus::BAD_REQUEST, axum::Json(refused));
                    }
                    if method == "sendMessage" {
                        let mut failures = state.failures.lock().unwrap();
                        if *failures > 0 {
                            *failures -= 1;
                            let down = json!({"ok": false, "error_code": 502, "description": "Bad Gateway"});
                            return (FakeStatus::BAD_GATEWAY, axum::Json(down));
                        }
                    }
                    state.calls.lock().unwrap().push((method.clone(), body.clone()));
                    if method == "getUpdates" {
                        return (FakeStatus::OK, axum::Json(state.updates_from(&body).await));
                    }
                    let result = match method.as_str() {
                        "getMe" => json!({"id": 1, "is_bot": true, "username": "acme_shop_bot"}),
                        "sendMessage" => json!({"message_id": 1}),
                        _ => json!(true),
                    };
                    (FakeStatus::OK, axum::Json(json!({"ok": true, "result": result})))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (addr, fake)
    }

    /// `getUpdates` as Telegram answers it: the updates from `offset` on (those before it are
    /// confirmed and forgotten), waiting up to `timeout` seconds for one to come.
    async fn updates_from(&self, body: &Value) -> Value {
        let offset = body["offset"].as_i64().unwrap_or(0);
        let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0));
        let started = std::time::Instant::now();
        loop {
            let ready: Vec<Value> = {
                let mut queued = self.queued.lock().unwrap();
                queued.retain(|u| u["update_id"].as_i64().unwrap() >= offset);
                queued.clone()
            };
            if !ready.is_empty() || started.elapsed() >= wait {
                return json!({"ok": true, "result": ready});
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) fn calls(&self, method: &str) -> Vec<Value> {
        let calls = self.calls.lock().unwrap();
        calls.iter().filter(|(m, _)| m == method).map(|(_, b)| b.clone()).collect()
    }

    /// The texts sent to `chat`, once there are `count` of them (waiting up to 15 s).
    async fn sent(&self, chat: i64, count: usize) -> Vec<Value> {
        for _ in 0..300 {
            let sent: Vec<Value> =
                self.calls("sendMessage").into_iter().filter(|b| b["chat_id"] == chat).collect();
            if sent.len() >= count {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {count} messages reached chat {chat}: {:?}", self.calls("sendMessage"));
    }
}

pub(crate) fn text_update(update_id: i64, chat: i64, text: &str) -> Value {
    json!({"update_id": update_id, "message": {"message_id": update_id, "date": 1,
        "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": false, "first_name": "Ann", "language_code": "en"},
        "text": text}})
}

/// Posts an update to the channel's webhook as Telegram would.
async fn deliver(
    app: &TestApp,
    channel: &str,
    secret: &str,
    update: &Value,
) -> (StatusCode, Value) {
    let client = app.anonymous();
    let path = format!("/api/v1/hooks/telegram/{channel}");
    let request = client
        .request(reqwest::Method::POST, &path)
        .header("X-Telegram-Bot-Api-Secret-Token", secret)
        .json(update);
    client.send(request).await
}

async fn telegram_channel(owner: &Client, widget: &str, api: std::net::SocketAddr) -> String {
    let created = owner
        .create("/api/v1/channels", json!({"kind": "telegram", "name": "Shop bot", "widget_id": widget,
            "settings": {"api_base_url": format!("http://{api}")}, "secrets": {"bot_token": TOKEN}}))
        .await;
    assert_eq!((&created["secrets_set"], &created["kind"]), (&json!(true), &json!("telegram")));
    assert!(!created.to_string().contains(TOKEN), "the token is never shown: {created}");
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_telegram_customer_gets_live_answers_and_people_reply_from_the_inbox() {
    let (backend, seen) = order_backend().await;
    let (api, telegram) = Telegram::start().await;
    let allow = vec![backend.to_string(), api.to_string()];
    for app in TestApp::every_backend_with(|c| {
        c.security.ssrf_allow = allow.clone();
        c.server.public_url = PUBLIC_URL.into();
    })
    .await
    {
        telegram.calls.lock().unwrap().clear();
        seen.lock().unwrap().clear();
        let (owner, widget, endpoint) = shop(&app, backend).await;
        owner.create_rule(order_flow_rule(&endpoint)).await;
        let channel = telegram_channel(&owner, &widget, api).await;

        // The test button finds the bot, points its updates at the channel's webhook and
        // sends a test message where it is told.
        let test = format!("/api/v1/channels/{channel}/test");
        let (_, tested) = owner.post(&test, json!({"to": "1001"})).await;
        assert_eq!(tested["data"]["ok"], true, "{tested}");
        let probe = telegram.sent(1001, 1).await;
        assert!(probe[0]["text"].as_str().unwrap().starts_with("A test message"), "{probe:?}");
        let hooked = telegram.calls("setWebhook");
        let hook = format!("{PUBLIC_URL}/api/v1/hooks/telegram/{channel}");
        assert_eq!(hooked[0]["url"], hook.as_str(), "{hooked:?}");
        let secret = hooked[0]["secret_token"].as_str().unwrap().to_owned();

        // Lookup and reply, and a flow across messages.
        let (status, body) =
            deliver(&app, &channel, &secret, &text_update(1, 42, "where is my order #4521?")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(telegram.sent(42, 1).await[0]["text"], "Order 4521 is shipped.");
        deliver(&app, &channel, &secret, &text_update(2, 42, "and my other order?")).await;
        assert_eq!(telegram.sent(42, 2).await[1]["text"], "Which order number?");
        deliver(&app, &channel, &secret, &text_update(3, 42, "4522")).await;
        assert_eq!(telegram.sent(42, 3).await[2]["text"], "Order 4522 is packed.");

        // Telegram sending an update again changes nothing.
        deliver(&app, &channel, &secret, &text_update(3, 42, "4522")).await;
        let (_, inbox) = owner.get("/api/v1/conversations").await;
        let conversation = inbox["data"][0].clone();
        assert_eq!(inbox["data"].as_array().unwrap().len(), 1, "one chat, one conversation");
        assert_eq!(conversation["channel"], json!({"kind": "telegram", "id": channel}));
        assert_eq!(conversation["visitor"]["name"], "Ann");
        let id = conversation["id"].as_str().unwrap();
        let (_, messages) = owner.get(format!("/api/v1/conversations/{id}/messages")).await;
        assert_eq!(messages["data"].as_array().unwrap().len(), 6, "{messages}");
        assert_eq!(*seen.lock().unwrap(), ["4521", "4522"]);

        // A person replies from the inbox; the customer gets it on Telegram.
        let (status, _) = owner
            .post(
                format!("/api/v1/conversations/{id}/messages"),
                json!({"text": "Hi Ann, I am looking into it."}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(telegram.sent(42, 4).await[3]["text"], "Hi Ann, I am looking into it.");

        // A group is not a customer: its messages are answered and dropped.
        let mut group = text_update(4, -100, "where is my order #4521?");
        group["message"]["chat"] = json!({"id": -100, "type": "group"});
        assert_eq!(deliver(&app, &channel, &secret, &group).await.0, StatusCode::OK);

        // Paused: what customers send still comes in (a person has the conversation now, so
        // the bot stays quiet); the person's reply waits for the resume (claims skip paused
        // channels: the store story shows it).
        let path = format!("/api/v1/channels/{channel}");
        owner.patch(&path, json!({"active": false})).await;
        let (status, _) =
            deliver(&app, &channel, &secret, &text_update(5, 42, "order 4522?")).await;
        assert_eq!(status, StatusCode::OK, "a paused channel still takes messages");
        let (_, messages) = owner.get(format!("/api/v1/conversations/{id}/messages")).await;
        assert_eq!(messages["data"].as_array().unwrap().len(), 8, "{messages}");
        owner
            .post(format!("/api/v1/conversations/{id}/messages"), json!({"text": "Still packed."}))
            .await;
        let to_ann = telegram.calls("sendMessage").iter().filter(|b| b["chat_id"] == 42).count();
        assert_eq!(to_ann, 4, "nothing sent while paused");
        owner.patch(&path, json!({"active": true})).await;
        assert_eq!(telegram.sent(42, 5).await[4]["text"], "Still packed.");
        let (_, inbox) = owner.get("/api/v1/conversations").await;
        assert_eq!(inbox["data"].as_array().unwrap().len(), 1, "the group started nothing");

        // A file from the inbox goes as a document.
        let pdf: &[u8] = b"%PDF-1.4\n% the receipt\n";
        let (status, body) = owner.upload(id, &[("receipt.pdf", pdf)], None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let mut documents = Vec::new();
        for _ in 0..300 {
            documents = telegram.calls("sendDocument");
            if !documents.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let form =
            documents.first().and_then(|d| d["form"].as_str()).unwrap_or_default().to_owned();
        assert!(
            form.contains("filename=\"receipt.pdf\"") && form.contains("% the receipt"),
            "{documents:?}"
        );
        assert!(form.contains("name=\"chat_id\"\r\n\r\n42\r\n"), "{form}");

        // Without the secret, or for no channel, nothing is taken.
        let wrong = deliver(&app, &channel, "guess", &text_update(9, 42, "hello")).await;
        assert_error(&wrong, StatusCode::UNAUTHORIZED, "unauthenticated", None);
        let unknown =
            deliver(&app, "chn_01m95gjxbpp4gd36824ayge9b0", &secret, &text_update(9, 42, "x"))
                .await;
        assert_eq!(unknown.0, StatusCode::NOT_FOUND);
        assert!(!app.database_text().await.contains(TOKEN), "the token is sealed at rest");
    }
}

#[tokio::test]
async fn an_action_is_confirmed_with_the_buttons_and_failed_sends_go_again() {
    let (backend, seen) = order_backend().await;
    let (api, telegram) = Telegram::start().await;
    let allow = vec![backend.to_string(), api.to_string()];
    let app = TestApp::sqlite_with(|c| {
        c.security.ssrf_allow = allow;
        c.server.public_url = PUBLIC_URL.into();
    })
    .await;
    let (owner, widget, endpoint) = shop(&app, backend).await;
    let (status, body) = owner
        .patch(
            format!("/api/v1/endpoints/{endpoint}"),
            json!({"approval": "visitor", "approval_summary": "Look up order {orderId}?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    owner.create_rule(order_rule(&endpoint)).await;
    let channel = telegram_channel(&owner, &widget, api).await;
    owner.post(&format!("/api/v1/channels/{channel}/test"), json!({})).await;
    let secret = telegram.calls("setWebhook")[0]["secret_token"].as_str().unwrap().to_owned();

    // The first send fails (Telegram answers 502): the reply goes out on the next try.
    *telegram.failures.lock().unwrap() = 1;
    deliver(&app, &channel, &secret, &text_update(1, 7, "order 4521")).await;
    let asked = telegram.sent(7, 1).await;
    assert_eq!(asked[0]["text"], "Look up order 4521?", "{asked:?}");
    let buttons = &asked[0]["reply_markup"]["inline_keyboard"][0];
    assert_eq!((&buttons[0]["text"], &buttons[1]["text"]), (&json!("Confirm"), &json!("Cancel")));
    assert!(seen.lock().unwrap().is_empty(), "nothing runs before the button");

    let press = json!({"update_id": 2, "callback_query": {"id": "cb-1", "from": {"id": 7},
        "message": {"message_id": 5, "chat": {"id": 7, "type": "private"}}, "data": buttons[0]["callback_data"]}});
    let (status, body) = deliver(&app, &channel, &secret, &press).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answered = telegram.sent(7, 2).await;
    assert_eq!(answered[1]["text"], "Order 4521 is shipped.", "{answered:?}");
    assert_eq!(*seen.lock().unwrap(), ["4521"], "confirmed once, called once");
    assert_eq!(telegram.calls("answerCallbackQuery")[0]["text"], "Confirmed");
    let (_, again) = deliver(&app, &channel, &secret, &press).await;
    assert_eq!(again["data"]["ok"], true, "a press sent again is taken and ignored");
    assert_eq!(seen.lock().unwrap().len(), 1);

    // Another account sees nothing of the channel.
    let other = app.signup("Other", "owner@other.test").await;
    let (status, _) = other.get(format!("/api/v1/channels/{channel}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_bot_without_a_public_address_fetches_its_updates_by_long_polling() {
    let (backend, _) = order_backend().await;
    let (api, telegram) = Telegram::start().await;
    let allow = vec![backend.to_string(), api.to_string()];
    // No public address: Telegram could not reach a webhook.
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = allow).await;
    let (owner, widget, endpoint) = shop(&app, backend).await;
    owner.create_rule(order_rule(&endpoint)).await;
    let created = owner
        .create(
            "/api/v1/channels",
            json!({"kind": "telegram", "name": "Shop bot", "widget_id": widget,
            "settings": {"api_base_url": format!("http://{api}"), "updates": "polling"},
            "secrets": {"bot_token": TOKEN}}),
        )
        .await;
    let channel = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["settings"]["updates"], "polling");

    // The test button takes the bot's webhook away (a bot with one cannot be polled).
    let (_, tested) = owner.post(format!("/api/v1/channels/{channel}/test"), json!({})).await;
    assert_eq!(tested["data"]["ok"], true, "{tested}");
    assert!(tested.to_string().contains("long polling"), "{tested}");
    assert_eq!(telegram.calls("deleteWebhook").len(), 1);
    assert!(telegram.calls("setWebhook").is_empty());

    // Updates queued at Telegram come in, are answered, and are confirmed by the next offset.
    telegram.queued.lock().unwrap().push(text_update(501, 42, "where is my order #4521?"));
    assert_eq!(telegram.sent(42, 1).await[0]["text"], "Order 4521 is shipped.");
    telegram.queued.lock().unwrap().push(text_update(502, 42, "and 4522?"));
    assert_eq!(telegram.sent(42, 2).await[1]["text"], "Order 4522 is packed.");
    for _ in 0..200 {
        if telegram.calls("getUpdates").iter().any(|b| b["offset"] == 503) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let offsets: Vec<i64> =
        telegram.calls("getUpdates").iter().filter_map(|b| b["offset"].as_i64()).collect();
    assert!(offsets.contains(&503), "both updates confirmed: {offsets:?}");
    let (_, shown) = owner.get(format!("/api/v1/channels/{channel}")).await;
    assert!(shown["data"]["inbound"]["reached_at"].is_string(), "{shown}");
    assert_eq!(shown["data"]["inbound"]["offset"], 503, "{shown}");
    let (_, inbox) = owner.get("/api/v1/conversations").await;
    assert_eq!(inbox["data"].as_array().unwrap().len(), 1, "one chat, one conversation");

    // A file Telegram refuses is named in a note, and the replies after it go on.
    *telegram.refuse_files.lock().unwrap() = true;
    let id = inbox["data"][0]["id"].as_str().unwrap();
    let (status, _) = owner.upload(id, &[("big.pdf", b"%PDF-1.4\n% big\n")], None).await;
    assert_eq!(status, StatusCode::CREATED);
    owner
        .post(format!("/api/v1/conversations/{id}/messages"), json!({"text": "Anything else?"}))
        .await;
    let sent = telegram.sent(42, 4).await;
    assert_eq!(
        (&sent[2]["text"], &sent[3]["text"]),
        (&json!("[file not sent: big.pdf]"), &json!("Anything else?"))
    );

    // A file gone before it went out (erased meanwhile): named, and the replies go on.
    let path = format!("/api/v1/channels/{channel}");
    owner.patch(&path, json!({"active": false})).await;
    owner.upload(id, &[("gone.pdf", b"%PDF-1.4\n% gone\n")], Some("Here it is.")).await;
    app.sqlite_execute("DELETE FROM attachments WHERE name = 'gone.pdf'");
    owner.patch(&path, json!({"active": true})).await;
    assert_eq!(
        telegram.sent(42, 5).await[4]["text"],
        "Here it is.\n[file not available: gone.pdf]"
    );
}
