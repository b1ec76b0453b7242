//! Reports against hand-counted fixtures, on both stores: five conversations over two widgets,
//! each figure counted by hand below (docs/analytics.md defines them).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Client, TestApp, Visitor, assert_error};

/// The id of the assistant's first reply to `text`.
async fn ask(visitor: &Visitor, text: &str) -> Option<String> {
    let (status, handled) = visitor.say_raw(text, 10_000).await;
    assert_eq!(status, StatusCode::OK, "{handled}");
    handled["data"]["replies"][0]["id"].as_str().map(str::to_owned)
}

async fn mark(visitor: &Visitor, reply: &str, helpful: bool) {
    let path = format!("/messages/{reply}/feedback");
    let request = visitor.request(Method::POST, &path).json(&json!({"helpful": helpful}));
    assert_eq!(visitor.client.send(request).await.0, StatusCode::OK);
}

async fn rate(visitor: &Visitor, score: u8) {
    let request = visitor.request(Method::POST, "/rating").json(&json!({"score": score}));
    assert_eq!(visitor.client.send(request).await.0, StatusCode::OK);
}

async fn post(owner: &Client, visitor: &Visitor, what: &str, body: Value) {
    let path = format!("/api/v1/conversations/{}/{what}", visitor.conversation_id);
    let (status, answer) = owner.post(&path, body).await;
    assert!(status.is_success(), "{what}: {answer}");
}

/// `from`/`to` a day either side of today (UTC, the account's zone), so midnight cannot split
/// the fixtures.
fn around_today() -> String {
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    format!("from={}&to={}", today.yesterday().unwrap(), today.tomorrow().unwrap())
}

/// A backend that answers every call with 500.
async fn failing_backend() -> std::net::SocketAddr {
    let router = axum::Router::new().fallback(|| async { StatusCode::INTERNAL_SERVER_ERROR });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

#[tokio::test]
async fn every_figure_matches_the_hand_count() {
    let (backend, _) = crate::test_runs::watched_backend().await;
    let failing = failing_backend().await;
    // Taken once: a run over midnight keeps today where it was.
    let days = around_today();
    for app in TestApp::every_backend_allowing(&[backend, failing]).await {
        let (owner, shop, endpoint) = crate::test_runs::shop(&app, backend).await;
        let help = owner.create_widget("Help").await;
        let hours = owner
            .create_rule(json!({"name": "Hours", "trigger": {"type": "keywords", "any": ["hours"]},
                "actions": [{"type": "REPLY_TEXT", "text": "We open at 9."}]}))
            .await;
        let ops = owner.create_user("ops@acme.test", "operator").await;

        // 1. A rule answers; helpful; closed; rated 5: assistant_resolved.
        let c1 = app.start_conversation(&shop).await;
        let reply = ask(&c1, "your hours?").await.unwrap();
        mark(&c1, &reply, true).await;
        post(&owner, &c1, "close", json!({})).await;
        rate(&c1, 5).await;
        // 2. An endpoint's answer; not helpful; closed; rated 2: abandoned.
        let c2 = app.start_conversation(&shop).await;
        let reply = ask(&c2, "where is order 4521").await.unwrap();
        mark(&c2, &reply, false).await;
        post(&owner, &c2, "close", json!({})).await;
        rate(&c2, 2).await;
        // 3. Nothing answers; closed: abandoned.
        let c3 = app.start_conversation(&shop).await;
        assert_eq!(ask(&c3, "hello?").await, None);
        post(&owner, &c3, "close", json!({})).await;
        // 4. A rule, then a person; closed, reopened, closed: resolved_with_person.
        let c4 = app.start_conversation(&shop).await;
        ask(&c4, "your hours?").await.unwrap();
        post(&owner, &c4, "messages", json!({"text": "And on Sundays too."})).await;
        post(&owner, &c4, "close", json!({})).await;
        post(&owner, &c4, "reopen", json!({})).await;
        post(&owner, &c4, "close", json!({})).await;
        // 5. On the other widget: a rule, then handed to a person who never wrote.
        let c5 = app.start_conversation(&help).await;
        ask(&c5, "your hours?").await.unwrap();
        post(&owner, &c5, "assign", json!({"user_id": ops})).await;
        post(&owner, &c5, "close", json!({})).await;

        let (status, summary) = owner.get(format!("/api/v1/analytics/summary?{}", days)).await;
        assert_eq!(status, StatusCode::OK, "{summary}");
        let s = &summary["data"];
        let expected = json!({
            "conversations": 5, "visitor_messages": 5, "closed": 5,
            "involvement_rate": 0.8, "assistant_resolution_rate": 0.2,
            "handover_rate": 0.4, "reopen_rate": 0.2,
            "outcomes": {"assistant_resolved": 1, "resolved_with_person": 1, "handed_over": 1, "abandoned": 2},
            "replies": {"rule": 3, "api": 1, "kb": 0, "ai": 0, "fallback": 0},
            "rating": {"average": 3.5, "count": 2, "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}},
            "ai": {"requests": 0, "input_tokens": 0, "output_tokens": 0},
        });
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&s[key], value, "{key} on {}: {s}", app.backend);
        }
        assert_eq!(s["helpful"]["by_source"]["rule"], json!({"helpful": 1, "not_helpful": 0}));
        assert_eq!(s["helpful"]["by_source"]["api"], json!({"helpful": 0, "not_helpful": 1}));
        assert_eq!(
            s["endpoints"],
            json!([{"endpoint_id": endpoint, "calls": 1, "failures": 0, "failure_rate": 0.0}])
        );
        let rules: Vec<(&str, i64)> = s["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["rule_id"].as_str().unwrap(), r["fired"].as_i64().unwrap()))
            .collect();
        assert_eq!(rules[0], (hours.as_str(), 3));
        assert_eq!(rules[1].1, 1, "Orders fired once");
        assert_eq!(rules[2].1, 0, "Person never fired");
        assert_eq!(s["first_response_ms"]["assistant"]["count"], 4, "{s}");
        assert_eq!(s["first_response_ms"]["people"]["count"], 1);
        assert!(s["first_response_ms"]["assistant"]["p90"].as_i64().unwrap() >= 0);

        // One widget: the conversation handed over.
        let (_, one) =
            owner.get(format!("/api/v1/analytics/summary?{}&widget_id={help}", days)).await;
        assert_eq!(
            (one["data"]["conversations"].as_i64(), one["data"]["handover_rate"].as_f64()),
            (Some(1), Some(1.0))
        );
        // Per day: all five today, none either side.
        let (_, series) =
            owner.get(format!("/api/v1/analytics/timeseries?metric=conversations&{}", days)).await;
        let values: Vec<f64> = series["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["value"].as_f64().unwrap())
            .collect();
        assert_eq!(values, [0.0, 5.0, 0.0], "{series}");
        let (_, rates) =
            owner.get(format!("/api/v1/analytics/timeseries?metric=reopen_rate&{}", days)).await;
        assert_eq!(rates["data"][0]["value"], Value::Null, "no whole, no rate");
        let request = owner.request(Method::GET, &format!("/api/v1/analytics/export.csv?{}", days));
        let (status, headers, csv) = owner.download(request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        let csv = String::from_utf8(csv).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(
            lines[0].starts_with("start,conversations,visitor_messages,assistant_involved,closed,")
        );
        assert!(lines[2].contains(",5,5,4,5,1,1,1,2,1,3,1,0,0,0,0,1,0,0,1,"), "{csv}");

        // A call that fails counts as one.
        let base = format!("http://{failing}");
        let down = crate::support::api_connection("Down", &base, json!({"type": "none"}));
        let blocked = owner.create_connection(down).await;
        let broken = owner
            .create_endpoint(&blocked, json!({"name": "stock", "method": "GET", "path": "/stock"}))
            .await;
        owner
            .create_rule(json!({"name": "Stock", "trigger": {"type": "keywords", "any": ["stock"]},
                "actions": [{"type": "CALL_API", "endpoint_id": broken, "on_error": [{"type": "REPLY_TEXT", "text": "Cannot check."}]}]}))
            .await;
        let side = owner.create_widget("Side").await;
        let c6 = app.start_conversation(&side).await;
        ask(&c6, "anything in stock?").await.unwrap();
        let (_, one) =
            owner.get(format!("/api/v1/analytics/summary?{}&widget_id={side}", days)).await;
        assert_eq!(
            one["data"]["endpoints"],
            json!([{"endpoint_id": broken, "calls": 1, "failures": 1, "failure_rate": 1.0}]),
            "{one}"
        );

        // Rated again and marked again: the earlier rating and mark leave the counts.
        rate(&c1, 4).await;
        let first_reply = c1.messages().await.into_iter().find(|m| m["author"] == "bot").unwrap();
        mark(&c1, first_reply["id"].as_str().unwrap(), false).await;
        let (_, again) = owner.get(format!("/api/v1/analytics/summary?{days}")).await;
        let again = &again["data"];
        assert_eq!(
            again["rating"]["distribution"],
            json!({"1": 0, "2": 1, "3": 0, "4": 1, "5": 0})
        );
        assert_eq!(
            (again["rating"]["count"].as_i64(), again["rating"]["average"].as_f64()),
            (Some(2), Some(3.0))
        );
        assert_eq!(again["helpful"]["by_source"]["rule"], json!({"helpful": 0, "not_helpful": 1}));
        assert_eq!(again["closed"], 5, "a rating changes how, not whether, it closed");

        // Another account counts nothing of these.
        let rival = app.signup("Rival", "owner@rival.test").await;
        let (_, theirs) = rival.get(format!("/api/v1/analytics/summary?{}", days)).await;
        assert_eq!(theirs["data"]["conversations"], 0);
    }
}

#[tokio::test]
async fn bad_ranges_and_metrics_name_their_field() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let get = |query: &str| owner.get(format!("/api/v1/analytics/summary?{query}"));
    assert_error(
        &get("from=2026-02-30&to=2026-03-01").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_date",
        Some("from"),
    );
    assert_error(
        &get("from=2025-01-01&to=2026-02-05").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "range_too_long",
        Some("to"),
    );
    assert_error(
        &get("from=2026-03-02&to=2026-03-01").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_range",
        Some("to"),
    );
    assert_eq!(get("from=2025-01-01&to=2026-02-04").await.0, StatusCode::OK, "400 days are fine");
    let series = owner.get("/api/v1/analytics/timeseries?metric=bogus").await;
    assert_error(&series, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("metric"));
    let weekly = owner.get("/api/v1/analytics/timeseries?interval=month").await;
    assert_error(&weekly, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("interval"));
    let (status, weeks) =
        owner.get("/api/v1/analytics/timeseries?interval=week&from=2026-11-30&to=2026-12-13").await;
    assert_eq!(status, StatusCode::OK);
    let starts: Vec<&str> =
        weeks["data"].as_array().unwrap().iter().map(|p| p["start"].as_str().unwrap()).collect();
    assert_eq!(starts, ["2026-11-30", "2026-12-07"], "weeks start on Monday");
}

#[tokio::test]
async fn unanswered_questions_group_into_gaps_until_covered() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        owner
            .create_rule(json!({"name": "Hours", "trigger": {"type": "keywords", "any": ["hours"]},
                "actions": [{"type": "REPLY_TEXT", "text": "We open at 9."}]}))
            .await;
        owner
            .create_rule(
                json!({"name": "Warranty", "trigger": {"type": "keywords", "any": ["warranty"]},
                "actions": [{"type": "REPLY_KB", "fallback": "Please ask the team about that."}]}),
            )
            .await;
        for (n, text) in
            ["Do you ship to Norway?", "Can you ship to norway please?", "do you ship to Norway"]
                .iter()
                .enumerate()
        {
            let visitor = app.start_conversation(&widget).await;
            assert_eq!(ask(&visitor, text).await, None, "{n}: nothing answers");
        }
        let fallback = app.start_conversation(&widget).await;
        ask(&fallback, "How long is the warranty?").await.unwrap();
        let unhappy = app.start_conversation(&widget).await;
        let reply = ask(&unhappy, "what are your hours on holidays").await.unwrap();
        mark(&unhappy, &reply, false).await;

        let gaps = || owner.get(format!("/api/v1/analytics/knowledge-gaps?{}", around_today()));
        let (status, found) = gaps().await;
        assert_eq!(status, StatusCode::OK, "{found}");
        let list = found["data"].as_array().unwrap();
        assert_eq!(list.len(), 3, "{found}");
        // The rule that gave the unhelpful answer still fires on it: that is no cover.
        let unhelpful = list.iter().find(|g| g["reasons"] == json!({"not_helpful": 1})).unwrap();
        assert_eq!(unhelpful["covered"], false, "{found}");
        assert_eq!(list[0]["questions"], 3, "shipping, asked in three conversations");
        assert_eq!(list[0]["examples"][0], "do you ship to Norway");
        assert_eq!(list[0]["covered"], false);
        assert!(list[0]["id"].as_str().unwrap().starts_with("gap_"));
        let reasons: Vec<&Value> = list.iter().map(|g| &g["reasons"]).collect();
        assert!(
            reasons.contains(&&json!({"fallback": 1}))
                && reasons.contains(&&json!({"not_helpful": 1})),
            "{found}"
        );

        // Marked helpful after all: not a gap. Answered in the knowledge base and by a rule:
        // covered.
        mark(&unhappy, &reply, true).await;
        crate::kb::add_document(&owner, json!({"title": "Shipping", "content": "# Shipping\nWe ship to Norway, Sweden and Denmark within five days."})).await;
        owner
            .create_rule(json!({"name": "Warranty answer", "priority": 0, "trigger": {"type": "keywords", "any": ["warranty"]},
                "actions": [{"type": "REPLY_TEXT", "text": "Two years."}]}))
            .await;
        let (_, after) = gaps().await;
        let list = after["data"].as_array().unwrap();
        assert_eq!(list.len(), 2, "{after}");
        assert!(list.iter().all(|g| g["covered"] == true), "{after}");
        // Another account has none.
        let rival = app.signup("Rival", "owner@rival.test").await;
        let (_, theirs) =
            rival.get(format!("/api/v1/analytics/knowledge-gaps?{}", around_today())).await;
        assert_eq!(theirs["data"], json!([]));
    }
}

/// With an embeddings model, questions close in meaning are one gap even without two words in
/// common; without one, they stay apart.
#[tokio::test]
async fn an_embeddings_model_groups_questions_by_meaning() {
    use sb_llm::testing::{FakeModel, Reply};
    let model = FakeModel::start(|_| Reply::Text("unused".into())).await;
    let allow = vec![model.addr.to_string()];
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = allow.clone()).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    for text in ["What is the price of the lamp", "What is the cost of the lamp"] {
        let visitor = app.start_conversation(&widget).await;
        assert_eq!(ask(&visitor, text).await, None);
    }
    let gaps = || owner.get(format!("/api/v1/analytics/knowledge-gaps?{}", around_today()));
    assert_eq!(gaps().await.1["data"].as_array().unwrap().len(), 2, "by words: two questions");
    let settings = json!({"provider": "openai", "base_url": model.openai_url(), "model": "chat", "embedding_model": "embed-small"});
    assert_eq!(owner.put("/api/v1/ai-settings", settings).await.0, StatusCode::OK);
    let (_, found) = gaps().await;
    assert_eq!(found["data"].as_array().unwrap().len(), 1, "by meaning: one: {found}");
    assert_eq!(found["data"][0]["questions"], 2);
    assert!(model.embedded().iter().any(|t| t == "What is the cost of the lamp"));
}
