//! The AI end to end, against the scripted model speaking the real wire formats: the three
//! patterns with the AI calling endpoints as tools, intents, extraction, failures, languages
//! and translation.

use std::time::Duration;

use reqwest::StatusCode;
use sb_llm::testing::{FakeModel, Reply, Seen};
use serde_json::{Value, json};

use crate::backend::{self, API_KEY, Backend};
use crate::support::{Client, PASSWORD, TestApp, api_connection, assert_error, kinds};

/// A server whose AI provider is `model`, speaking `api`, allowed to call `backend`.
async fn app_with_ai(model: &FakeModel, api: &str, backend: &Backend, timeout_ms: u64) -> TestApp {
    let (api, base) = (
        api.to_owned(),
        if api == "anthropic" { model.anthropic_url() } else { model.openai_url() },
    );
    let allow = vec![backend.addr().to_string()];
    TestApp::sqlite_with(move |c| {
        c.ai.provider = api.clone();
        c.ai.base_url = base.clone();
        c.ai.model = "fake-model".into();
        c.ai.timeout_ms = timeout_ms;
        c.ai.max_tool_rounds = 3;
        c.security.ssrf_allow = allow.clone();
    })
    .await
}

/// A server whose AI provider is `model`, speaking OpenAI's API with the default limits, allowed
/// to call `allow`.
pub(crate) async fn openai_app(model: &FakeModel, allow: Vec<String>) -> TestApp {
    let base = model.openai_url();
    TestApp::sqlite_with(move |c| {
        c.ai.provider = "openai".into();
        c.ai.base_url = base.clone();
        c.ai.model = "fake".into();
        c.security.ssrf_allow = allow.clone();
    })
    .await
}

/// An AI-enabled widget and the order endpoint offered to the AI as a tool.
async fn shop(app: &TestApp, backend: &Backend) -> (Client, String, String) {
    let owner = app.signup("Acme", "owner@acme.test").await;
    let auth = json!({"type": "api_key", "key": API_KEY});
    let connection = owner.create_connection(api_connection("Shop", &backend.url(), auth)).await;
    let endpoint = json!({
        "name": "get_order", "description": "Looks up an order: status, delivery date and carrier.",
        "method": "GET", "path": "/orders/{order_id}",
        "variables": [{"name": "order_id", "description": "The order number", "required": true, "pattern": "[0-9]{3,8}"}],
        "response_mapping": {"order_status": "data.status", "eta": "data.shipping.eta", "carrier": "data.shipping.carrier"},
        "ai_tool": true
    });
    let endpoint = owner.create_endpoint(&connection, endpoint).await;
    let widget = owner.create_widget_with(json!({"name": "Shop", "ai_enabled": true})).await;
    (owner, widget, endpoint)
}

fn order_number(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit()).find(|part| part.len() >= 3).map(str::to_owned)
}

/// A model that looks orders up when asked about one and answers from what the tool returned.
fn order_assistant(seen: &Seen) -> Reply {
    if let Some(result) = seen.tool_results.last() {
        let data: Value = serde_json::from_str(result).unwrap_or_default();
        return match data["ok"].as_bool() {
            Some(true) => Reply::Text(format!(
                "Your order is {} and arrives on {}.",
                data["data"]["order_status"].as_str().unwrap_or("?"),
                data["data"]["eta"].as_str().unwrap_or("?")
            )),
            _ => Reply::Text(format!(
                "I could not check your order right now ({}).",
                data["error"].as_str().unwrap_or("error")
            )),
        };
    }
    match order_number(&seen.last_user_text) {
        Some(number) if seen.tools.contains(&"get_order".to_owned()) => {
            Reply::ToolCalls(vec![("get_order".into(), json!({"order_id": number}).to_string())])
        }
        _ => Reply::Text("Could you tell me your order number?".into()),
    }
}

#[tokio::test]
async fn lookup_and_reply_with_the_ai_calling_the_endpoint_as_a_tool() {
    let backend = backend::start().await;
    let model = FakeModel::start(order_assistant).await;
    for api in ["openai", "anthropic"] {
        let app = app_with_ai(&model, api, &backend, 5000).await;
        let (owner, widget, endpoint) = shop(&app, &backend).await;
        let visitor =
            app.start_conversation_as(&widget, json!({"name": "Ann", "language": "en"})).await;
        let replies = visitor.say("Hi! Where is my order 4521?").await;
        assert_eq!(replies, ["Your order is shipped and arrives on 2026-12-01."], "{api}");
        let (_, stats) = owner.get(format!("/api/v1/endpoints/{endpoint}/stats")).await;
        let hour = &stats["data"]["windows"]["1h"];
        assert_eq!(
            (&hour["calls"], &hour["errors"]),
            (&json!(1), &json!(0)),
            "{api}: tool calls count"
        );
        let events = owner.trace(&visitor.conversation_id).await;
        let kinds = kinds(&events);
        assert!(
            kinds.starts_with(&["ai_call".into(), "variable_set".into(), "api_call".into()]),
            "{api}: {kinds:?}"
        );
        let call = events.iter().find(|e| e["kind"] == "api_call").unwrap();
        assert_eq!(
            (call["data"]["status"].clone(), call["data"]["endpoint"].clone()),
            (json!(200), json!("get_order"))
        );
        let conv = owner.conversation(&visitor.conversation_id).await;
        assert_eq!(
            conv["variables"]["order_id"], "4521",
            "tool arguments become session variables"
        );
        assert!(conv["ai_usage"]["calls"].as_i64().unwrap() >= 2);
        assert!(conv["ai_usage"]["input_tokens"].as_i64().unwrap() > 0);
    }
    // Live data reached the model only as the tool's result; the tool was described to it.
    let requests = model.requests();
    let with_result = requests.iter().find(|r| !r.tool_results.is_empty()).unwrap();
    assert!(with_result.tool_results[0].contains("shipped"), "{:?}", with_result.tool_results);
    let first = &requests[0];
    assert!(
        first.system.contains("Acme") && first.system.contains("Never invent"),
        "{}",
        first.system
    );
    assert!(
        first.body.to_string().contains("^(?:[0-9]{3,8})$"),
        "the variable's pattern is in the tool schema"
    );
}

#[tokio::test]
async fn lookup_and_route_with_an_extracted_account_number() {
    let backend = backend::start().await;
    let model = FakeModel::start(|seen| match seen.structured.as_deref() {
        Some("extraction") => match order_number(&seen.last_user_text) {
            Some(n) => Reply::Structured(json!({"found": true, "value": n})),
            None => Reply::Structured(json!({"found": false, "value": null})),
        },
        _ => Reply::Text("How can I help?".into()),
    })
    .await;
    let app = app_with_ai(&model, "openai", &backend, 5000).await;
    let (owner, widget, endpoint) = shop(&app, &backend).await;
    owner.patch(format!("/api/v1/widgets/{widget}"), json!({"ai_enabled": false})).await;
    owner.create_rule(json!({"name": "Find the account", "priority": 1, "trigger": {"type": "any"}, "actions": [
        {"type": "SET_VARIABLE", "name": "order_id", "from_ai": "the customer's order or account number"},
        {"type": "CALL_API", "endpoint_id": endpoint, "on_error": [{"type": "REPLY_TEXT", "text": "Which order is it about?"}]}
    ]})).await;
    owner.create_rule(json!({"name": "Shipped orders go to a person", "priority": 2, "trigger": {"type": "any"},
        "conditions": [{"variable": "order_status", "op": "eq", "value": "shipped"}],
        "actions": [{"type": "ASSIGN_TO_OPERATOR"}]})).await;
    let visitor = app.start_conversation(&widget).await;
    assert_eq!(visitor.say("hello there").await, ["Which order is it about?"]);
    visitor.say("it is about 4521").await;
    let conv = owner.conversation(&visitor.conversation_id).await;
    assert_eq!(
        (conv["variables"]["order_id"].clone(), conv["status"].clone()),
        (json!("4521"), json!("pending"))
    );
    let extraction = model
        .requests()
        .into_iter()
        .find(|r| r.structured.as_deref() == Some("extraction"))
        .unwrap();
    assert!(extraction.system.contains("order or account number"));
}

#[tokio::test]
async fn a_multi_step_flow_where_the_ai_keeps_the_context() {
    let backend = backend::start().await;
    let model = FakeModel::start(|seen| {
        if seen.last_user_text.contains("who delivers") {
            // Answer from the session data the earlier lookup left in the prompt.
            let carrier =
                if seen.system.contains("\"carrier\":\"DHL\"") { "DHL" } else { "unknown" };
            return Reply::Text(format!("{carrier} delivers it."));
        }
        order_assistant(seen)
    })
    .await;
    let app = app_with_ai(&model, "anthropic", &backend, 5000).await;
    let (_, widget, _) = shop(&app, &backend).await;
    let visitor = app.start_conversation_as(&widget, json!({"language": "en"})).await;
    assert_eq!(
        visitor.say("My parcel has not arrived yet").await,
        ["Could you tell me your order number?"]
    );
    assert_eq!(
        visitor.say("It is 4521").await,
        ["Your order is shipped and arrives on 2026-12-01."]
    );
    assert_eq!(visitor.say("And who delivers it?").await, ["DHL delivers it."]);
    let last = model.requests().pop().unwrap();
    let turns = last.body["messages"].as_array().unwrap().len();
    assert!(turns >= 5, "the history goes with every request: {turns}");
}

#[tokio::test]
async fn intents_route_messages_the_ai_recognises() {
    let backend = backend::start().await;
    let model = FakeModel::start(|seen| match seen.structured.as_deref() {
        Some("intents") => {
            let ids: Vec<String> = serde_json::from_value(
                seen.body
                    .pointer("/response_format/json_schema/schema/properties/matches/items/enum")
                    .cloned()
                    .unwrap_or_default(),
            )
            .unwrap_or_default();
            let wants_refund = seen.last_user_text.contains("money back");
            Reply::Structured(json!({"matches": if wants_refund { ids } else { vec![] }}))
        }
        _ => Reply::Text("Anything else?".into()),
    })
    .await;
    let app = app_with_ai(&model, "openai", &backend, 5000).await;
    let (owner, widget, _) = shop(&app, &backend).await;
    owner.create_rule(json!({"name": "Refunds", "trigger": {"type": "intent", "description": "the customer wants a refund"},
        "actions": [{"type": "REPLY_TEXT", "text": "I'll start a refund for you."}], "suppress_ai_reply": true})).await;
    let visitor = app.start_conversation(&widget).await;
    assert_eq!(visitor.say("I want my money back").await, ["I'll start a refund for you."]);
    assert_eq!(visitor.say("What are your opening hours?").await, ["Anything else?"]);
    let intents =
        model.requests().into_iter().find(|r| r.structured.as_deref() == Some("intents")).unwrap();
    assert!(intents.system.contains("the customer wants a refund"));
}

#[tokio::test]
async fn failures_end_in_a_fallback_and_the_trace_says_why() {
    let backend = backend::start().await;
    let mut calls = 0;
    let model = FakeModel::start(move |seen| {
        calls += 1;
        match seen.last_user_text.as_str() {
            t if t.contains("slow") => {
                Reply::After(Duration::from_secs(3), Box::new(Reply::Text("late".into())))
            }
            t if t.contains("garbled") && seen.tool_results.is_empty() => {
                Reply::ToolCalls(vec![("get_order".into(), "{order_id: 45".into())])
            }
            t if t.contains("garbled") => {
                Reply::Text(format!("Tool said: {}", seen.tool_results[0]))
            }
            t if t.contains("loop") => Reply::ToolCalls(vec![(
                "get_order".into(),
                json!({"order_id": format!("{calls}00")}).to_string(),
            )]),
            _ => Reply::Text("ok".into()),
        }
    })
    .await;
    let app = app_with_ai(&model, "openai", &backend, 1500).await;
    let (owner, widget, _) = shop(&app, &backend).await;
    let visitor = app.start_conversation(&widget).await;

    let replies = visitor.say("you are slow").await;
    assert_eq!(
        replies,
        [
            "Sorry, I can't answer that myself right now. I've passed your question to our team, and a person will reply here."
        ]
    );
    let events = owner.trace(&visitor.conversation_id).await;
    let error = events.iter().find(|e| e["kind"] == "ai_error").unwrap();
    assert_eq!(error["data"]["error"]["code"], "timeout");
    // The promise is kept: the conversation waits for people, and the trace says why.
    let assigned = events.iter().find(|e| e["kind"] == "assigned").unwrap();
    assert_eq!(assigned["data"]["note"], "the AI could not answer (timeout)");
    assert_eq!(owner.conversation(&visitor.conversation_id).await["status"], "pending");
    // In the visitor's language, from the built-in texts while the provider is down.
    let german = app.start_conversation_as(&widget, json!({"language": "de"})).await;
    assert_eq!(
        german.say("you are slow").await,
        [
            "Das kann ich gerade leider nicht selbst beantworten. Ich habe Ihre Frage an unser Team weitergegeben; eine Person antwortet Ihnen hier."
        ]
    );
    let visitor = app.start_conversation(&widget).await;

    let replies = visitor.say("garbled question").await;
    assert!(
        replies[0].starts_with("Tool said: ") && replies[0].contains("invalid_arguments"),
        "{replies:?}"
    );

    let replies = visitor.say("loop forever").await;
    assert_eq!(replies.len(), 1);
    assert!(
        owner.trace_kinds(&visitor.conversation_id).await.contains(&"ai_tool_limit".to_owned())
    );
}

#[tokio::test]
async fn a_failed_lookup_is_told_to_the_ai_which_says_it_could_not_check() {
    let hanging = crate::backend::hanging().await;
    let backend = backend::start().await;
    let model = FakeModel::start(|seen| {
        if seen.system.contains("the lookup \"slow_lookup\" failed (timeout)") {
            Reply::Text("I'm sorry, I could not check that right now.".into())
        } else {
            Reply::Text("Everything is fine!".into())
        }
    })
    .await;
    let app = openai_app(&model, vec![backend.addr().to_string(), hanging.to_string()]).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let slow = api_connection("Slow", &format!("http://{hanging}"), json!({"type": "none"}));
    let connection = owner.create_connection(slow).await;
    let endpoint = json!({"name": "slow_lookup", "method": "GET", "path": "/x", "timeout_ms": 500});
    let endpoint = owner.create_endpoint(&connection, endpoint).await;
    let widget = owner.create_widget("Shop").await;
    owner
        .create_rule(json!({"name": "Look up then answer", "trigger": {"type": "any"}, "actions": [
            {"type": "CALL_API", "endpoint_id": endpoint}, {"type": "REPLY_AI"}
        ]}))
        .await;
    let visitor = app.start_conversation(&widget).await;
    assert_eq!(
        visitor.say("is my stuff ok?").await,
        ["I'm sorry, I could not check that right now."]
    );
}

#[tokio::test]
async fn replies_follow_the_visitors_language_and_translation_bridges_operator_and_visitor() {
    let backend = backend::start().await;
    let model = FakeModel::start(|seen| match seen.structured.as_deref() {
        Some("translation") => {
            let to_german = seen.system.contains("German");
            let text = if to_german {
                format!("[de] {}", seen.last_user_text)
            } else {
                format!("[en] {}", seen.last_user_text)
            };
            Reply::Structured(json!({"translation": text}))
        }
        _ if seen.system.contains("in German (language code de)") => {
            Reply::Text("Gern helfe ich Ihnen!".into())
        }
        _ => Reply::Text("Happy to help!".into()),
    })
    .await;
    let app = app_with_ai(&model, "openai", &backend, 5000).await;
    let (owner, widget, _) = shop(&app, &backend).await;
    owner.patch(format!("/api/v1/widgets/{widget}"), json!({"translation_enabled": true})).await;
    let visitor = app.start_conversation_as(&widget, json!({"language": "en"})).await;
    let replies =
        visitor.say("Hallo, ich habe eine Frage zu meiner Bestellung von letzter Woche.").await;
    assert_eq!(replies, ["Gern helfe ich Ihnen!"]);
    let conv = owner.conversation(&visitor.conversation_id).await;
    assert_eq!(conv["visitor_language"], "de", "detected from the message");

    let operator_id = owner.create_user("op@acme.test", "operator").await;
    let operator = app.login("op@acme.test", PASSWORD).await;
    let (status, _) = operator.put("/api/v1/me/language", json!({"language": "en"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, reply) = operator
        .post(
            format!("/api/v1/conversations/{}/messages", visitor.conversation_id),
            json!({"text": "Hello, how can I help?"}),
        )
        .await;
    assert_eq!(reply["data"]["text"], "Hello, how can I help?");
    assert_eq!(
        reply["data"]["translation"],
        json!({"language": "de", "text": "[de] Hello, how can I help?"})
    );
    assert_eq!(
        owner.conversation(&visitor.conversation_id).await["assigned_to"],
        json!(operator_id)
    );

    visitor.say("Wo ist mein Paket? Es sollte schon längst angekommen sein.").await;
    let (_, messages) =
        operator.get(format!("/api/v1/conversations/{}/messages", visitor.conversation_id)).await;
    let last = messages["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["translation"]["language"], "en");
    assert!(last["translation"]["text"].as_str().unwrap().starts_with("[en] Wo ist mein Paket"));

    // Sharing a language, nothing goes to the provider.
    let before = model.requests().len();
    operator.put("/api/v1/me/language", json!({"language": "de"})).await;
    let (_, plain) = operator
        .post(
            format!("/api/v1/conversations/{}/messages", visitor.conversation_id),
            json!({"text": "Ich schaue nach."}),
        )
        .await;
    assert!(plain["data"].get("translation").is_none());
    visitor.say("Danke schön, ich warte gern auf Ihre Antwort.").await;
    assert_eq!(model.requests().len(), before, "no translation between speakers of one language");
}

/// The language the AI is told to write in, from its system prompt.
fn told_language(seen: &Seen) -> Reply {
    let code = seen
        .system
        .split("(language code ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or("none");
    Reply::Text(format!("reply in {code}"))
}

/// The conversation's language starts from the browser's and changes only on a confident
/// detection: an English sentence once taken for Danish stays English, and a German
/// conversation is not flipped by "ok thanks" or a product name.
#[tokio::test]
async fn the_ai_is_told_the_conversations_language_which_short_messages_do_not_flip() {
    let backend = backend::start().await;
    let model = FakeModel::start(told_language).await;
    let app = app_with_ai(&model, "openai", &backend, 5000).await;
    let (owner, widget, _) = shop(&app, &backend).await;

    let english = app.start_conversation_as(&widget, json!({"language": "en"})).await;
    assert_eq!(
        english.say("Hello, I would like some information about my delivery please.").await,
        ["reply in en"]
    );
    assert_eq!(english.say("What are your opening hours on Saturday?").await, ["reply in en"]);
    assert_eq!(owner.conversation(&english.conversation_id).await["visitor_language"], "en");

    let german = app.start_conversation_as(&widget, json!({"language": "de"})).await;
    assert_eq!(
        german.say("Hallo, ich möchte wissen, wann meine Bestellung ankommt.").await,
        ["reply in de"]
    );
    for short in ["ok thanks", "Thermomix TM6", "iPhone 15 Pro Max", "Super, merci"] {
        assert_eq!(german.say(short).await, ["reply in de"], "{short}");
    }
    assert_eq!(owner.conversation(&german.conversation_id).await["visitor_language"], "de");
    // A clear message in another language does switch it.
    assert_eq!(
        german
            .say("Sorry, I don't speak German. Could you help me with my order in English?")
            .await,
        ["reply in en"]
    );
    assert_eq!(owner.conversation(&german.conversation_id).await["visitor_language"], "en");
}

#[tokio::test]
async fn tenants_bring_their_own_provider_with_a_write_only_key() {
    let backend = backend::start().await;
    let server_model = FakeModel::start(|_| Reply::Text("from the server's model".into())).await;
    let tenant_model = FakeModel::start(|_| Reply::Text("from the tenant's model".into())).await;
    let app = app_with_ai(&server_model, "openai", &backend, 5000).await;
    let (owner, widget, _) = shop(&app, &backend).await;
    let (_, settings) = owner.get("/api/v1/ai-settings").await;
    assert_eq!(settings["data"]["source"], "server");

    // A tenant's base URL is held to the SSRF rules: loopback is refused...
    let body = json!({"provider": "openai", "base_url": tenant_model.openai_url(), "model": "m", "api_key": "sk-tenant-secret-key"});
    let answer = owner.put("/api/v1/ai-settings", body.clone()).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "ssrf_blocked", Some("base_url"));
    let bad = json!({"provider": "gpt", "model": "m"});
    assert_error(
        &owner.put("/api/v1/ai-settings", bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_provider",
        Some("provider"),
    );

    // ...unless the operator allows it.
    let allow = vec![backend.addr().to_string(), tenant_model.addr.to_string()];
    let app = openai_app(&server_model, allow).await;
    let (owner, widget_2, _) = shop(&app, &backend).await;
    let (status, saved) = owner.put("/api/v1/ai-settings", body).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        (saved["data"]["source"].clone(), saved["data"]["api_key_set"].clone()),
        (json!("tenant"), json!(true))
    );
    assert!(!saved.to_string().contains("sk-tenant-secret-key"));
    assert!(
        !app.database_text().await.contains("sk-tenant-secret-key"),
        "the key is sealed at rest"
    );
    let visitor = app.start_conversation(&widget_2).await;
    assert_eq!(visitor.say("hello").await, ["from the tenant's model"]);
    let sent = tenant_model.requests().pop().unwrap();
    assert_eq!(sent.body["model"], "m");
    let (_, usage) = owner.get("/api/v1/ai-usage").await;
    assert!(usage["data"]["calls"].as_i64().unwrap() >= 1);
    owner.delete("/api/v1/ai-settings").await;
    assert_eq!(
        app.start_conversation(&widget_2).await.say("hello").await,
        ["from the server's model"]
    );
    drop(widget);
}

#[tokio::test]
async fn the_hand_over_message_speaks_the_visitors_language() {
    let backend = backend::start().await;
    let model = FakeModel::start(|seen| match seen.structured.as_deref() {
        Some("translation") => {
            Reply::Structured(json!({"translation": "Đang kết nối bạn với nhân viên."}))
        }
        _ => Reply::Text("unused".into()),
    })
    .await;
    let app = app_with_ai(&model, "openai", &backend, 5000).await;
    let (owner, widget, _) = shop(&app, &backend).await;
    owner.create_rule(json!({"name": "People", "trigger": {"type": "keywords", "any": ["human", "mensch", "người"]},
        "actions": [{"type": "ASSIGN_TO_OPERATOR"}]}))
    .await;
    let german = app.start_conversation_as(&widget, json!({"language": "de"})).await;
    assert_eq!(
        german.say("Ich möchte mit einem Mensch sprechen").await,
        ["Wir verbinden Sie mit einem Mitglied unseres Teams. Es antwortet Ihnen gleich hier."]
    );
    // A language without a built-in text is translated through the provider, once.
    for _ in 0..2 {
        let visitor = app.start_conversation_as(&widget, json!({"language": "vi"})).await;
        assert_eq!(
            visitor.say("tôi muốn nói chuyện với người").await,
            ["Đang kết nối bạn với nhân viên."]
        );
    }
    let translations =
        model.requests().iter().filter(|r| r.structured.as_deref() == Some("translation")).count();
    assert_eq!(translations, 1, "the translation is kept");
}
