//! Running test cases: the real rules answer, every endpoint call goes to the case's fakes
//! (the shop's backend, on loopback, sees nothing), and nothing of a run reaches the inbox or
//! the endpoints' health. Each failed expectation says what was seen instead.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::routing::any;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, TestApp, api_connection, assert_error};

/// A backend that records every request; it must see none.
pub(crate) async fn watched_backend() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let router = Router::new().fallback(any(move |request: Request| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(request.uri().path().to_owned());
            axum::Json(json!({"data": {"status": "from the real backend"}}))
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, seen)
}

/// A shop whose order rule looks the order up and replies, and whose "human" rule hands over.
pub(crate) async fn shop(app: &TestApp, backend: std::net::SocketAddr) -> (Client, String, String) {
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    let base = format!("http://{backend}");
    let connection =
        owner.create_connection(api_connection("Shop", &base, json!({"type": "none"}))).await;
    let endpoint = owner
        .create_endpoint(
            &connection,
            json!({"name": "get_order", "method": "GET",
            "path": "/orders/{order_id}", "response_mapping": {"order_status": "data.status"}}),
        )
        .await;
    owner
        .create_rule(json!({"name": "Orders", "trigger": {"type": "keywords", "any": ["order"]}, "stop": true,
            "actions": [
                {"type": "CALL_API", "endpoint_id": endpoint, "arguments": {"order_id": {"from_message": "(\\d{4})", "ask": "Which order number?"}},
                 "on_error": [{"type": "REPLY_TEXT", "text": "Sorry, I couldn't find order {order_id}."}]},
                {"type": "REPLY_TEXT", "text": "Order {order_id} is {order_status}."}]}))
        .await;
    owner
        .create_rule(json!({"name": "Person", "trigger": {"type": "keywords", "any": ["human"]},
            "actions": [{"type": "ASSIGN_TO_OPERATOR"}]}))
        .await;
    (owner, widget, endpoint)
}

pub(crate) fn shipped(order: &str, status: &str) -> Value {
    json!({"endpoint": "get_order", "when": {"order_id": order}, "body": {"data": {"status": status}}})
}

/// Starts a run and waits (polling, 20 s at most) for its results.
pub(crate) async fn run(owner: &Client, body: Value) -> Value {
    let (status, started) = owner.post("/api/v1/test-runs", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    assert_eq!(started["data"]["state"], "running");
    let id = started["data"]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, run) = owner.get(format!("/api/v1/test-runs/{id}")).await;
        if run["data"]["state"] != "running" {
            return run["data"].clone();
        }
        assert!(Instant::now() < deadline, "the run did not finish: {run}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn case<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["cases"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()
}

#[tokio::test]
async fn cases_run_against_the_real_rules_with_fakes_and_say_why_they_fail() {
    let (backend, seen) = watched_backend().await;
    for app in TestApp::every_backend_allowing(&[backend]).await {
        let (owner, widget, _) = shop(&app, backend).await;
        let good = json!({"name": "good", "suite": "orders", "widget_id": widget,
            "turns": [
                {"text": "Where is order 4521?", "expect": [{"reply_contains": "shipped"},
                    {"called": "get_order", "with": {"order_id": "4521"}}]},
                {"text": "And my other order?", "expect": [{"reply_contains": "which order"}, {"not_called": "get_order"}]},
                {"text": "4522", "expect": [{"reply_matches": "^Order 4522 is packed\\.$"}]},
            ],
            "fakes": [shipped("4521", "shipped"), shipped("4522", "packed")],
            "expect": [{"handed_over": false}, {"variable": "order_status", "equals": "packed"},
                {"no_invented_values": true}, {"reply_language": "en"}]});
        let wrong = json!({"name": "wrong", "suite": "orders", "widget_id": widget,
            "turns": [{"text": "Where is order 4521?", "expect": [{"reply_contains": "delivered"}]},
                {"text": "I want a human"}],
            "fakes": [shipped("4521", "shipped")],
            "expect": [{"handed_over": false}, {"called": "get_order", "with": {"order_id": "4599"}}]});
        let unfaked = json!({"name": "unfaked", "widget_id": widget,
            "turns": [{"text": "order 7777"}], "fakes": [shipped("4521", "shipped")]});
        let missing = json!({"name": "not found", "widget_id": widget,
            "turns": [{"text": "order 9999", "expect": [{"reply_contains": "couldn't find order 9999"}]}],
            "fakes": [{"endpoint": "get_order", "status": 404, "body": {"error": "no such order"}}]});
        for body in [good, wrong, unfaked, missing] {
            owner.create("/api/v1/test-cases", body).await;
        }

        let suite = run(&owner, json!({"suite": "orders"})).await;
        assert_eq!(suite["state"], "failed", "{suite}");
        assert_eq!(suite["cases"].as_array().unwrap().len(), 2, "only the suite's cases");
        let good = case(&suite, "good");
        assert_eq!(good["passed"], true, "{good}");
        assert_eq!(good["transcript"].as_array().unwrap().len(), 6, "{good}");
        assert!(good["trace"].as_array().unwrap().iter().any(|e| e["kind"] == "input_asked"));
        let wrong = case(&suite, "wrong");
        let failures = wrong["failures"].as_array().unwrap();
        assert_eq!(failures.len(), 3, "{wrong}");
        assert_eq!(failures[0]["turn"], 0);
        assert_eq!(failures[0]["expectation"], json!({"reply_contains": "delivered"}));
        assert_eq!(failures[0]["observed"], "replies: “Order 4521 is shipped.”");
        assert!(failures[1]["observed"].as_str().unwrap().starts_with("handed to usr_"), "{wrong}");
        assert!(
            failures[2]["observed"]
                .as_str()
                .unwrap()
                .contains("get_order was called with {\"order_id\":\"4521\"}"),
            "{wrong}"
        );

        let all = run(&owner, json!({})).await;
        let unfaked = case(&all, "unfaked");
        assert_eq!(unfaked["passed"], false);
        assert!(
            unfaked["failures"][0]["observed"].as_str().unwrap().contains("no fake answers"),
            "{unfaked}"
        );
        assert_eq!(case(&all, "not found")["passed"], true, "{all}");

        // Nothing left the sandbox: no call to the backend, no conversation in the inbox, no
        // call counted in the endpoint's health.
        assert_eq!(*seen.lock().unwrap(), Vec::<String>::new());
        let (_, inbox) = owner.get("/api/v1/conversations").await;
        assert_eq!(inbox["data"], json!([]), "{inbox}");
        let (_, connections) = owner.get("/api/v1/connections").await;
        assert_eq!(connections["data"][0]["health"]["calls_24h"], 0, "{connections}");
    }
}

#[tokio::test]
async fn a_run_asks_for_cases_that_exist() {
    let (backend, _) = watched_backend().await;
    let allow = vec![backend.to_string()];
    let app = TestApp::sqlite_with(|config| config.security.ssrf_allow = allow).await;
    let (owner, _, _) = shop(&app, backend).await;
    let answer = owner.post("/api/v1/test-runs", json!({})).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "no_cases", Some("case_ids"));
    let answer = owner.post("/api/v1/test-runs", json!({"suite": "nope"})).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "no_cases", Some("suite"));
    let body = json!({"case_ids": ["tc_00000000000000000000000000"]});
    let answer = owner.post("/api/v1/test-runs", body).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "unknown_case", Some("case_ids[0]"));
    let (status, _) = owner.get("/api/v1/test-runs/tr_00000000000000000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn fakes_keep_state_between_calls_and_fail_the_ways_backends_do() {
    let (backend, seen) = watched_backend().await;
    let allow = vec![backend.to_string()];
    let app = TestApp::sqlite_with(|config| config.security.ssrf_allow = allow).await;
    let (owner, widget, endpoint) = shop(&app, backend).await;
    let (_, shown) = owner.get(format!("/api/v1/endpoints/{endpoint}")).await;
    let connection = shown["data"]["connection_id"].as_str().unwrap().to_owned();
    let cancel = owner
        .create_endpoint(
            &connection,
            json!({"name": "cancel_order", "method": "POST",
            "path": "/orders/{order_id}/cancel", "approval": "none"}),
        )
        .await;
    owner
        .create_rule(json!({"name": "Cancel", "priority": 1, "trigger": {"type": "keywords", "any": ["cancel"]}, "stop": true,
            "actions": [{"type": "CALL_API", "endpoint_id": cancel, "arguments": {"order_id": {"from_message": "(\\d{4})"}}},
                {"type": "REPLY_TEXT", "text": "Cancelled."}]}))
        .await;
    let read = |when_state: Value, status: &str| json!({"endpoint": "get_order", "when_state": when_state, "body": {"data": {"status": status}}});
    let stateful = json!({"name": "stateful", "widget_id": widget,
    "turns": [
        {"text": "order 4521", "expect": [{"reply_contains": "shipped"}]},
        {"text": "cancel 4521", "expect": [{"called": "cancel_order", "with": {"order_id": "4521"}}]},
        {"text": "order 4521", "expect": [{"reply_contains": "is cancelled"}]},
    ],
    "fakes": [
        {"endpoint": "cancel_order", "set_state": {"cancelled": true}},
        read(json!({"cancelled": true}), "cancelled"),
        read(json!({}), "shipped"),
    ]});
    owner.create("/api/v1/test-cases", stateful).await;
    for (name, fake) in [
        ("slow", json!({"endpoint": "get_order", "delay_ms": 10_000})),
        ("timeout", json!({"endpoint": "get_order", "fail": "timeout"})),
        ("refused", json!({"endpoint": "get_order", "fail": "connect"})),
        ("garbled", json!({"endpoint": "get_order", "fail": "invalid_json"})),
        ("broken", json!({"endpoint": "get_order", "status": 500})),
    ] {
        let failing = json!({"name": name, "widget_id": widget, "fakes": [fake],
            "turns": [{"text": "order 4521", "expect": [{"reply_contains": "couldn't find order 4521"}]}]});
        owner.create("/api/v1/test-cases", failing).await;
    }
    let all = run(&owner, json!({})).await;
    assert_eq!(all["state"], "passed", "{all}");
    let codes: Vec<Value> = all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] != "stateful")
        .map(|c| {
            let call =
                c["trace"].as_array().unwrap().iter().find(|e| e["kind"] == "api_call").unwrap();
            call["data"]["error"]["code"].clone()
        })
        .collect();
    assert_eq!(
        codes,
        [
            json!("timeout"),
            json!("timeout"),
            json!("connect_failed"),
            json!("invalid_response"),
            json!("http_error")
        ]
    );
    assert_eq!(*seen.lock().unwrap(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_runs_a_suite_for_ci_and_writes_junit() {
    let (backend, _) = watched_backend().await;
    let allow = vec![backend.to_string()];
    let app = TestApp::sqlite_with(|config| config.security.ssrf_allow = allow).await;
    let (owner, widget, _) = shop(&app, backend).await;
    let key = owner.create_api_key("ci").await;
    let case = |name: &str, suite: &str, expected: &str| {
        json!({"name": name, "suite": suite, "widget_id": widget, "fakes": [shipped("4521", "shipped")],
            "turns": [{"text": "order 4521", "expect": [{"reply_contains": expected}]}]})
    };
    owner.create("/api/v1/test-cases", case("ships", "green", "shipped")).await;
    owner.create("/api/v1/test-cases", case("ships too", "red", "shipped")).await;
    owner.create("/api/v1/test-cases", case("delivered", "red", "delivered")).await;
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("results.xml");
    let switchboard = |suite: &str| {
        let base = app.base.clone();
        let (key, junit, suite) = (key.clone(), junit.clone(), suite.to_owned());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
                .args(["test", "run", "--url", &base, "--suite", &suite, "--junit"])
                .arg(&junit)
                .env("SWITCHBOARD_API_KEY", key)
                .output()
                .unwrap()
        })
    };

    let green = switchboard("green").await.unwrap();
    assert_eq!(green.status.code(), Some(0), "{green:?}");
    let printed = String::from_utf8(green.stdout).unwrap();
    assert!(
        printed.contains("PASS ships") && printed.contains("1 of 1 test cases passed"),
        "{printed}"
    );

    let red = switchboard("red").await.unwrap();
    assert_eq!(red.status.code(), Some(1), "{red:?}");
    let printed = String::from_utf8(red.stdout).unwrap();
    assert!(printed.contains("FAIL delivered"), "{printed}");
    assert!(
        printed.contains(
            "turn 1: {\"reply_contains\":\"delivered\"} — replies: “Order 4521 is shipped.”"
        ),
        "{printed}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite name=\"red\" tests=\"2\" failures=\"1\""), "{xml}");
    assert!(xml.contains("<testcase classname=\"red\" name=\"ships too\""), "{xml}");
    assert!(
        xml.contains(
            "<failure message=\"turn 1: {&quot;reply_contains&quot;:&quot;delivered&quot;}"
        ),
        "{xml}"
    );

    let base = app.base.clone();
    let wrong_key = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(["test", "run", "--url", &base, "--api-key", "sbk_nope"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(wrong_key.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong_key.stderr).contains("401"), "{wrong_key:?}");
}

#[tokio::test]
async fn a_failed_case_shows_how_its_replies_changed_since_it_last_passed() {
    let (backend, _) = watched_backend().await;
    let allow = vec![backend.to_string()];
    let app = TestApp::sqlite_with(|config| config.security.ssrf_allow = allow).await;
    let (owner, widget, _) = shop(&app, backend).await;
    let case = owner
        .create("/api/v1/test-cases", json!({"name": "status", "widget_id": widget,
            "fakes": [shipped("4521", "shipped")],
            "turns": [{"text": "Where is order 4521?", "expect": [{"reply_contains": "shipped"}]}]}))
        .await;
    let id = case["id"].as_str().unwrap().to_owned();
    let passed = run(&owner, json!({"case_ids": [id]})).await;
    assert_eq!(passed["state"], "passed", "{passed}");
    assert!(passed["cases"][0].get("since_last_pass").is_none());

    // The backend starts answering differently; the case fails and says what changed.
    let changed = json!({"fakes": [shipped("4521", "delayed")]});
    let (status, _) = owner.patch(format!("/api/v1/test-cases/{id}"), changed).await;
    assert_eq!(status, StatusCode::OK);
    let failed = run(&owner, json!({"case_ids": [id]})).await;
    assert_eq!(failed["state"], "failed");
    assert_eq!(
        failed["cases"][0]["since_last_pass"],
        json!({"run_id": passed["id"], "changes": [
            {"turn": 0, "was": ["Order 4521 is shipped."], "now": ["Order 4521 is delayed."]}]})
    );
}

#[tokio::test]
async fn an_ai_judge_checks_free_text_criteria() {
    use sb_llm::testing::{FakeModel, Reply};
    // The scripted provider judges by what the conversation it is shown says.
    let model = FakeModel::start(|seen| match seen.structured.as_deref() {
        Some("verdict") if seen.last_user_text.contains("Criterion: apologises") => {
            let met = seen.last_user_text.contains("assistant: Sorry");
            Reply::Structured(json!({"met": met, "why": "the assistant says “Sorry”"}))
        }
        Some("verdict") => Reply::Structured(json!({"met": false, "why": "no refund is offered"})),
        _ => Reply::Text("How can I help?".into()),
    })
    .await;
    let (backend, _) = watched_backend().await;
    let app = crate::ai::openai_app(&model, vec![backend.to_string()]).await;
    let (owner, widget, _) = shop(&app, backend).await;
    let case = json!({"name": "judged", "widget_id": widget,
        "fakes": [{"endpoint": "get_order", "status": 404}],
        "turns": [{"text": "order 9999", "expect": [{"judge": "apologises when an order cannot be found"}]}],
        "expect": [{"judge": "offers a refund"}]});
    owner.create("/api/v1/test-cases", case).await;
    let judged = run(&owner, json!({})).await;
    let failures = judged["cases"][0]["failures"].as_array().unwrap().clone();
    assert_eq!(failures.len(), 1, "{judged}");
    assert_eq!(failures[0]["expectation"], json!({"judge": "offers a refund"}));
    assert_eq!(failures[0]["observed"], "the judge found it not met: no refund is offered");

    // Without an AI provider, a judged expectation fails and says why.
    let plain = TestApp::sqlite_with({
        let allow = vec![backend.to_string()];
        move |c| c.security.ssrf_allow = allow.clone()
    })
    .await;
    let (owner, widget, _) = shop(&plain, backend).await;
    let case = json!({"name": "unjudged", "widget_id": widget, "fakes": [{"endpoint": "get_order", "status": 404}],
        "turns": [{"text": "order 9999", "expect": [{"judge": "apologises"}]}]});
    owner.create("/api/v1/test-cases", case).await;
    let unjudged = run(&owner, json!({})).await;
    let observed = &unjudged["cases"][0]["failures"][0]["observed"];
    assert_eq!(
        observed, "the AI judge needs an AI provider, and this account has none",
        "{unjudged}"
    );
}

#[tokio::test]
async fn a_simulated_visitor_plays_a_persona_until_its_goal_is_met() {
    use sb_llm::testing::{FakeModel, Reply};
    // The scripted provider plays the visitor: it asks for order 4521, and is done once the
    // support has told it the status — or gives up when asked to reach something impossible.
    let model = FakeModel::start(|seen| match seen.structured.as_deref() {
        Some("visitor_turn") if seen.system.contains("Goal: get a discount") => {
            Reply::Structured(json!({"message": "", "done": true, "goal_met": false}))
        }
        Some("visitor_turn") if seen.last_user_text.contains("support: Order 4521 is shipped") => {
            Reply::Structured(json!({"message": "", "done": true, "goal_met": true}))
        }
        Some("visitor_turn") if seen.last_user_text.contains("support: Which order number?") => {
            Reply::Structured(json!({"message": "It's 4521", "done": false, "goal_met": false}))
        }
        Some("visitor_turn") => Reply::Structured(
            json!({"message": "Where is my order?", "done": false, "goal_met": false}),
        ),
        _ => Reply::Text("How can I help?".into()),
    })
    .await;
    let (backend, seen) = watched_backend().await;
    let app = crate::ai::openai_app(&model, vec![backend.to_string()]).await;
    let (owner, widget, _) = shop(&app, backend).await;
    let simulated = json!({"name": "simulated", "widget_id": widget, "turns": [],
        "simulate": {"persona": "a customer in a hurry", "goal": "find out where order 4521 is", "max_turns": 4},
        "fakes": [shipped("4521", "shipped")],
        "expect": [{"called": "get_order", "with": {"order_id": "4521"}}, {"reply_contains": "Order 4521 is shipped"}]});
    let impossible = json!({"name": "impossible", "widget_id": widget, "turns": [{"text": "hello there"}],
        "simulate": {"persona": "a haggler", "goal": "get a discount"}});
    owner.create("/api/v1/test-cases", simulated).await;
    owner.create("/api/v1/test-cases", impossible).await;
    let done = run(&owner, json!({})).await;
    let simulated = case(&done, "simulated");
    assert_eq!(simulated["passed"], true, "{simulated}");
    let said: Vec<&str> = simulated["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == "visitor")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(said, ["Where is my order?", "It's 4521"]);
    let impossible = case(&done, "impossible");
    assert_eq!(
        impossible["failures"][0]["observed"],
        "the simulated visitor gave up: the goal cannot be met"
    );
    assert_eq!(impossible["failures"][0]["turn"], 1, "after the scripted turn");
    assert_eq!(*seen.lock().unwrap(), Vec::<String>::new());

    let answer = owner
        .post(
            "/api/v1/test-cases",
            json!({"name": "x", "widget_id": widget, "turns": [],
            "simulate": {"persona": "", "goal": "g"}}),
        )
        .await;
    assert_error(
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        Some("simulate.persona"),
    );
    let answer = owner
        .post(
            "/api/v1/test-cases",
            json!({"name": "x", "widget_id": widget, "turns": [],
            "simulate": {"persona": "p", "goal": "g", "max_turns": 21}}),
        )
        .await;
    assert_error(
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
        Some("simulate.max_turns"),
    );
}
