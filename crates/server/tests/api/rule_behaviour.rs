//! Every trigger, condition and action, observed through the visitor API and the trace.

use serde_json::{Value, json};

use crate::support::{Client, TestApp, kinds};

async fn setup(app: &TestApp) -> (Client, String) {
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    (owner, widget)
}

fn reply(text: &str) -> Value {
    json!({"type": "REPLY_TEXT", "text": text})
}

#[tokio::test]
async fn each_trigger_fires_when_it_should() {
    for app in TestApp::every_backend().await {
        let (owner, widget) = setup(&app).await;
        owner.create_rule(json!({"name": "first", "priority": 1, "trigger": {"type": "first_message"}, "actions": [reply("welcome")]})).await;
        owner.create_rule(json!({"name": "keywords", "priority": 2, "trigger": {"type": "keywords", "any": ["refund", "Rückgabe"]}, "actions": [reply("keyword")]})).await;
        owner.create_rule(json!({"name": "regex", "priority": 3, "trigger": {"type": "regex", "pattern": "/\\bSKU-\\d+/i"}, "actions": [reply("regex")]})).await;
        owner.create_rule(json!({"name": "intent", "priority": 4, "trigger": {"type": "intent", "description": "the visitor is angry"}, "actions": [reply("intent")]})).await;
        owner.create_rule(json!({"name": "sets", "priority": 5, "trigger": {"type": "keywords", "any": ["topic"]}, "actions": [{"type": "SET_VARIABLE", "name": "topic", "value": "billing"}]})).await;
        owner.create_rule(json!({"name": "variable", "priority": 6, "trigger": {"type": "variable", "name": "topic"}, "actions": [reply("topic is {topic}")]})).await;
        owner.create_rule(json!({"name": "any", "priority": 7, "trigger": {"type": "any"}, "actions": [reply("any")]})).await;

        let visitor = app.start_conversation(&widget).await;
        assert_eq!(visitor.say("hi").await, ["welcome", "any"], "{}", app.backend);
        assert_eq!(visitor.say("I want a RÜCKGABE please").await, ["keyword", "any"]);
        assert_eq!(visitor.say("where is sku-42").await, ["regex", "any"]);
        assert_eq!(visitor.say("a new topic").await, ["topic is billing", "any"]);
        assert_eq!(
            visitor.say("same topic again").await,
            ["any"],
            "a variable trigger fires only when the value changes"
        );
        assert_eq!(visitor.say("I am furious").await, ["any"], "intent triggers need AI");
        let events = owner.trace(&visitor.conversation_id).await;
        assert!(kinds(&events).contains(&"ai_off".to_owned()));
    }
}

#[tokio::test]
async fn conditions_combine_with_all_or_any_and_see_earlier_rules_variables() {
    let app = TestApp::sqlite().await;
    let (owner, widget) = setup(&app).await;
    // Nobody online until the operator below signs in.
    owner.make_away().await;
    owner
        .create_rule(
            json!({"name": "extract", "priority": 1, "trigger": {"type": "any"}, "actions": [
                {"type": "SET_VARIABLE", "name": "amount", "from_regex": {"pattern": "(\\d+)"}},
                {"type": "SET_VARIABLE", "name": "tier", "value": "gold"},
            ]}),
        )
        .await;
    let cases = [
        ("big", json!([{"variable": "amount", "op": "gt", "value": 100}])),
        ("small", json!([{"variable": "amount", "op": "lt", "value": 100}])),
        ("no-amount", json!([{"variable": "amount", "op": "unset"}])),
        (
            "gold-and-big",
            json!([{"variable": "tier", "op": "eq", "value": "gold"}, {"variable": "amount", "op": "gt", "value": 100}]),
        ),
        ("vip-list", json!([{"variable": "tier", "op": "in", "value": ["gold", "platinum"]}])),
        ("not-silver", json!([{"variable": "tier", "op": "ne", "value": "silver"}])),
        ("text-contains", json!([{"variable": "message.text", "op": "contains", "value": "EURO"}])),
        ("text-matches", json!([{"variable": "message.text", "op": "matches", "value": "^pay"}])),
        ("nobody-online", json!({"operator_online": false})),
        ("somebody-online", json!({"operator_online": true})),
    ];
    for (i, (name, conditions)) in cases.iter().enumerate() {
        owner.create_rule(json!({"name": name, "priority": 10 + i, "trigger": {"type": "any"}, "conditions": conditions, "actions": [reply(name)]})).await;
    }
    owner.create_rule(json!({"name": "any-of", "priority": 50, "trigger": {"type": "any"}, "match": "any",
        "conditions": [{"variable": "amount", "op": "eq", "value": "7"}, {"variable": "tier", "op": "eq", "value": "bronze"}], "actions": [reply("any-of")]})).await;

    let visitor = app.start_conversation(&widget).await;
    assert_eq!(
        visitor.say("pay 250 euro").await,
        [
            "big",
            "gold-and-big",
            "vip-list",
            "not-silver",
            "text-contains",
            "text-matches",
            "nobody-online"
        ]
    );
    assert_eq!(
        visitor.say("only 7").await,
        ["small", "vip-list", "not-silver", "nobody-online", "any-of"]
    );

    app.available_operator(&owner, "agent@acme.test").await;
    let visitor = app.start_conversation(&widget).await;
    assert_eq!(
        visitor.say("hello").await,
        ["no-amount", "vip-list", "not-silver", "somebody-online"]
    );
}

#[tokio::test]
async fn priority_orders_rules_and_stop_ends_the_evaluation() {
    let app = TestApp::sqlite().await;
    let (owner, widget) = setup(&app).await;
    owner.create_rule(json!({"name": "third", "priority": 30, "trigger": {"type": "any"}, "actions": [reply("third")]})).await;
    owner.create_rule(json!({"name": "first", "priority": 10, "trigger": {"type": "any"}, "actions": [reply("first")]})).await;
    owner.create_rule(json!({"name": "stopper", "priority": 20, "trigger": {"type": "keywords", "any": ["stop"]}, "actions": [reply("stopping")], "stop": true})).await;
    owner.create_rule(json!({"name": "disabled", "priority": 15, "enabled": false, "trigger": {"type": "any"}, "actions": [reply("never")]})).await;
    let other = owner.create_widget("Other").await;
    owner.create_rule(json!({"name": "other widget", "priority": 16, "widget_id": other, "trigger": {"type": "any"}, "actions": [reply("elsewhere")]})).await;
    let visitor = app.start_conversation(&widget).await;
    assert_eq!(visitor.say("hello").await, ["first", "third"]);
    assert_eq!(visitor.say("please stop").await, ["first", "stopping"]);
    let elsewhere = app.start_conversation(&other).await;
    assert_eq!(elsewhere.say("hello").await, ["first", "elsewhere", "third"]);
}

#[tokio::test]
async fn set_variable_keeps_types_reads_built_ins_and_refuses_oversized_values() {
    let app = TestApp::sqlite().await;
    let (owner, widget) = setup(&app).await;
    owner.create_rule(json!({"name": "set", "trigger": {"type": "any"}, "actions": [
        {"type": "SET_VARIABLE", "name": "count", "value": 3},
        {"type": "SET_VARIABLE", "name": "copy", "value": "{count}"},
        {"type": "SET_VARIABLE", "name": "greeting", "value": "Hello {visitor.name} from {widget.name}"},
        {"type": "SET_VARIABLE", "name": "code", "from_regex": {"pattern": "code (?P<c>[A-Z]+)", "group": "c"}},
        {"type": "SET_VARIABLE", "name": "mood", "from_ai": "the visitor's mood"},
        {"type": "SET_VARIABLE", "name": "huge", "value": "{message.text}{message.text}{message.text}{message.text}{message.text}"},
        {"type": "REPLY_TEXT", "text": "{greeting}: {copy} {code} [{mood}] today is {now.weekday}"},
    ]})).await;
    let visitor = app.start_conversation_as(&widget, json!({"name": "Ann"})).await;
    let long = format!("code ABC {}", "x".repeat(3500));
    let replies = visitor.say(&long).await;
    assert!(replies[0].starts_with("Hello Ann from Shop: 3 ABC [] today is "), "{replies:?}");
    let conv = owner.conversation(&visitor.conversation_id).await;
    assert_eq!(conv["variables"]["count"], 3);
    assert_eq!(conv["variables"]["copy"], 3, "a sole placeholder copies the typed value");
    assert!(conv["variables"].get("huge").is_none());
    assert!(conv["variables"].get("visitor.name").is_none(), "built-ins are not stored");
    assert_eq!(conv["variables"]["conversation.visitor_messages"], 1);
    let kinds = owner.trace_kinds(&visitor.conversation_id).await;
    assert!(kinds.contains(&"variable_too_large".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"reply_missing_variables".to_owned()));
}

#[tokio::test]
async fn reply_ai_without_a_provider_sends_the_fallback_and_says_ai_is_off() {
    let app = TestApp::sqlite().await;
    let (owner, widget) = setup(&app).await;
    owner.create_rule(json!({"name": "ai", "widget_id": widget, "trigger": {"type": "any"}, "actions": [{"type": "REPLY_AI", "instructions": "be nice", "fallback": "Thanks {visitor.name}, a colleague will answer soon."}]})).await;
    let visitor = app.start_conversation_as(&widget, json!({"name": "Ann"})).await;
    assert_eq!(visitor.say("help me").await, ["Thanks Ann, a colleague will answer soon."]);
    let events = owner.trace(&visitor.conversation_id).await;
    let off = events.iter().find(|e| e["kind"] == "ai_off").unwrap();
    assert!(off["data"]["reason"].as_str().unwrap().contains("no AI provider"));

    // A widget with AI on but no provider: no invented reply, the trace says why.
    let ai_widget = owner.create_widget_with(json!({"name": "AI", "ai_enabled": true})).await;
    let visitor = app.start_conversation(&ai_widget).await;
    assert!(visitor.say("hello").await.is_empty());
    assert!(owner.trace_kinds(&visitor.conversation_id).await.contains(&"ai_off".to_owned()));
}

#[tokio::test]
async fn assignment_goes_to_a_named_operator_a_teams_least_busy_member_or_the_queue() {
    let app = TestApp::sqlite().await;
    let (owner, widget) = setup(&app).await;
    let (ann, _) = app.available_operator(&owner, "ann@acme.test").await;
    let (bob, _) = app.available_operator(&owner, "bob@acme.test").await;
    let carl = app.away_operator(&owner, "carl@acme.test").await;
    let team = owner.create_team(json!({"name": "Tier 2", "member_ids": [ann, bob, carl]})).await;
    owner.create_rule(json!({"name": "to carl", "priority": 1, "trigger": {"type": "keywords", "any": ["carl"]}, "actions": [{"type": "ASSIGN_TO_OPERATOR", "user_id": carl}]})).await;
    owner.create_rule(json!({"name": "to team", "priority": 2, "trigger": {"type": "keywords", "any": ["team"]}, "actions": [{"type": "ASSIGN_TO_OPERATOR", "team_id": team}, reply("a teammate is coming")]})).await;
    owner.create_rule(json!({"name": "after", "priority": 3, "trigger": {"type": "any"}, "actions": [reply("bot still here")]})).await;

    let to_carl = app.start_conversation(&widget).await;
    to_carl.say("ask carl").await;
    assert_eq!(
        owner.conversation(&to_carl.conversation_id).await["assigned_to"],
        json!(carl),
        "named operators get it even when away"
    );

    let mut owners = Vec::new();
    for _ in 0..4 {
        let visitor = app.start_conversation(&widget).await;
        let replies = visitor.say("the team please").await;
        assert_eq!(
            replies.len(),
            2,
            "handover message, then the rule's own reply; later rules do not run: {replies:?}"
        );
        let conv = owner.conversation(&visitor.conversation_id).await;
        assert_eq!(conv["status"], "pending");
        assert_eq!(conv["assigned_team"], json!(team));
        owners.push(conv["assigned_to"].as_str().unwrap().to_owned());
    }
    owners.sort();
    let mut expected = vec![ann.clone(), ann.clone(), bob.clone(), bob.clone()];
    expected.sort();
    assert_eq!(owners, expected, "available members take turns by load; carl is away");
}

#[tokio::test]
async fn rules_cannot_reference_another_tenants_objects() {
    let app = TestApp::sqlite().await;
    let (alpha, alpha_widget) = setup(&app).await;
    let alpha_user = alpha.create_user("op@alpha.test", "operator").await;
    let team = alpha.create_team(json!({"name": "T"})).await;
    let connection =
        alpha.create_connection(json!({"name": "C", "base_url": "https://api.example.com"})).await;
    let endpoint = alpha
        .create_endpoint(&connection, json!({"name": "e", "method": "GET", "path": "/"}))
        .await;
    let beta = app.signup("Beta", "owner@beta.test").await;
    let unprocessable = reqwest::StatusCode::UNPROCESSABLE_ENTITY;
    let cases = [
        (
            json!({"name": "x", "trigger": {"type": "any"}, "actions": [{"type": "CALL_API", "endpoint_id": endpoint}]}),
            "unknown_endpoint",
            "actions[0].endpoint_id",
        ),
        (
            json!({"name": "x", "trigger": {"type": "any"}, "actions": [{"type": "ASSIGN_TO_OPERATOR", "user_id": alpha_user}]}),
            "unknown_user",
            "actions[0].user_id",
        ),
        (
            json!({"name": "x", "trigger": {"type": "any"}, "actions": [{"type": "ASSIGN_TO_OPERATOR", "team_id": team}]}),
            "unknown_team",
            "actions[0].team_id",
        ),
        (
            json!({"name": "x", "widget_id": alpha_widget, "trigger": {"type": "any"}, "actions": [reply("x")]}),
            "unknown_widget",
            "widget_id",
        ),
        (
            json!({"name": "x", "trigger": {"type": "any"}, "actions": [{"type": "CALL_API", "endpoint_id": "ep_00000000000000000000000000", "on_error": [{"type": "CALL_API", "endpoint_id": endpoint}]}]}),
            "unknown_endpoint",
            "actions[0].endpoint_id",
        ),
    ];
    for (body, code, field) in cases {
        crate::support::assert_error(
            &beta.post("/api/v1/rules", body).await,
            unprocessable,
            code,
            Some(field),
        );
    }
}

#[tokio::test]
async fn lists_in_replies_read_like_language_and_formatters_apply() {
    let app = TestApp::sqlite().await;
    let (owner, widget) = setup(&app).await;
    owner
        .create_rule(json!({"name": "basket", "trigger": {"type": "any"}, "actions": [
            {"type": "SET_VARIABLE", "name": "items", "value": ["Brass desk lamp", "LED bulb E27"]},
            {"type": "SET_VARIABLE", "name": "total", "value": 1249.5},
            reply("{items} ({items|count}, {total|number} €, first: {items|first})"),
        ]}))
        .await;
    let english = app.start_conversation_as(&widget, json!({"language": "en"})).await;
    assert_eq!(
        english.say("my basket").await,
        ["Brass desk lamp and LED bulb E27 (2, 1,249.5 €, first: Brass desk lamp)"]
    );
    let german = app.start_conversation_as(&widget, json!({"language": "de"})).await;
    assert_eq!(
        german.say("mein Warenkorb").await,
        ["Brass desk lamp und LED bulb E27 (2, 1.249,5 €, first: Brass desk lamp)"]
    );
    let (status, refused) = owner
        .post(
            "/api/v1/rules",
            json!({"name": "bad", "trigger": {"type": "any"}, "actions": [reply("{items|shout}")]}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_template", "{refused}");
}
