//! `switchboard serve --demo` as a newcomer runs it: a real process, chatting through the visitor
//! API with the demo backend it serves itself.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use sb_llm::testing::{FakeModel, Reply};
use serde_json::json;

use crate::support::{Client, Visitor};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A running `switchboard serve --demo`, killed when dropped.
struct DemoServer {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl DemoServer {
    fn start(dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(BIN)
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .env("SWITCHBOARD_DATABASE", format!("sqlite://{}/data/sb.db", dir.display()))
            .envs(env.iter().copied())
            .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut log = Vec::new();
        let mut base = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            let ready = line.contains("demo ready");
            if let Some(rest) = line.split("listening on ").nth(1) {
                base = Some(rest.split_whitespace().next().unwrap().to_owned());
            }
            log.push(line);
            if ready {
                break;
            }
        }
        let base = base.unwrap_or_else(|| panic!("the demo did not start: {log:?}"));
        let log = Arc::new(Mutex::new(log));
        // Keep draining the log so the server never blocks on a full pipe.
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, base, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The widget id embedded in the `/demo` page.
    async fn widget_on_demo_page(&self) -> String {
        let page = crate::support::http()
            .get(format!("{}/demo", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let id = page.split("data-widget=\"").nth(1).expect("the page embeds the widget");
        id.split('"').next().unwrap().to_owned()
    }

    /// A visitor signed in on the demo page as `customer`, with the identity the page signed.
    async fn signed_visitor(&self, customer: &str) -> Visitor {
        let url = format!("{}/demo?customer={customer}", self.base);
        let page = crate::support::http().get(url).send().await.unwrap().text().await.unwrap();
        let attribute = |name: &str| {
            let value = page.split(&format!("{name}=\"")).nth(1).expect("a signed customer");
            value.split('"').next().unwrap().to_owned()
        };
        let identity = json!({"name": attribute("data-name"), "email": attribute("data-email"), "user_hash": attribute("data-user-hash")});
        let widget = attribute("data-widget");
        Visitor::start_with(Client::new(&self.base), &widget, identity).await
    }

    async fn login(&self, email: &str) -> Client {
        let mut client = Client::new(&self.base);
        let body = json!({"email": email, "password": "demo-password"});
        let (status, body) = client.post("/api/v1/auth/login", body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        client.csrf = Some(body["data"]["csrf_token"].as_str().unwrap().to_owned());
        client
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many connections, rules, widgets, people and documents the demo account has.
async fn seeded(owner: &Client) -> Vec<usize> {
    let mut counts = Vec::new();
    let lists = ["connections", "rules", "widgets", "users", "kb/documents"];
    for path in lists.map(|list| format!("/api/v1/{list}")) {
        let (status, body) = owner.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        counts.push(body["data"].as_array().unwrap().len());
    }
    counts
}

#[tokio::test]
async fn the_demo_answers_from_its_live_backend_for_all_three_patterns() {
    let dir = tempfile::tempdir().unwrap();
    let server = DemoServer::start(dir.path(), &[]);
    let log = server.log();
    for shown in ["/demo", "demo@switchboard.local", "agent@switchboard.local", "demo-password"] {
        assert!(log.contains(shown), "the start-up log shows {shown}: {log}");
    }
    let widget = server.widget_on_demo_page().await;
    let visitor =
        |name: &str| Visitor::start_with(Client::new(&server.base), &widget, json!({"name": name}));

    // Lookup and reply, through OAuth 2.0 client credentials.
    let ann = visitor("Ann").await;
    let replies = ann.say("Hi, where is my order #4521?").await;
    assert_eq!(replies, ["Order 4521 is shipped. It should arrive on 2026-12-01 with DHL."]);
    let replies = ann.say("And order 9999?").await;
    assert_eq!(replies, ["I couldn't find order 9999. Try 4521, 4522 or 4523."]);

    // A multi-step flow across two messages, through an API key.
    let bob = visitor("Bob").await;
    assert_eq!(
        bob.say("Is something in stock?").await,
        ["Which product? Tell me its code, e.g. LAMP-2, BULB-9 or DESK-1."]
    );
    assert_eq!(bob.say("LAMP-2").await, ["Arc floor lamp (LAMP-2): 12 in stock."]);
    assert_eq!(bob.say("is BULB-9 available?").await, ["Warm LED bulb (BULB-9): 0 in stock."]);

    // Lookup and route, for the customer the page signed: a premium plan goes to a person,
    // others get an answer. An e-mail typed in the chat looks nothing up.
    let cleo = visitor("Cleo").await;
    assert_eq!(
        cleo.say("my e-mail is ann@example.com, what plan am I on?").await,
        [
            "I can tell you your plan once you're signed in on the shop's page; for your privacy I never look up an e-mail address typed in the chat."
        ]
    );
    let signed_ann = server.signed_visitor("ann").await;
    assert_eq!(
        signed_ann.say("I'm vip@example.com, what plan am I on?").await,
        [
            "You're signed in as ann@example.com: you're on the basic plan (customer since 2024-03-01). In this demo, vip@example.com is premium."
        ],
        "the signed customer's plan, not the typed address's"
    );
    let vip = server.signed_visitor("vip").await;
    let replies = vip.say("What plan am I on?").await;
    assert_eq!(replies.len(), 1, "the handover is announced: {replies:?}");
    let operator = server.login("agent@switchboard.local").await;
    let conversation = operator.conversation(&vip.conversation_id).await;
    assert_eq!(conversation["status"], "pending", "{conversation}");
    assert_eq!(conversation["visitor"]["email_verified"], true);

    // A write: nothing happens until the visitor presses Confirm; a shipped order is refused.
    let dan = visitor("Dan").await;
    for (order, answer) in [
        ("4522", "Order 4522 is cancelled. You'll get a confirmation e-mail shortly."),
        (
            "4521",
            "Order 4521 was not cancelled (http_error). Once an order has shipped it can be returned instead: just ask me about returns.",
        ),
    ] {
        let (status, said) = dan.say_raw(&format!("Please cancel order {order}"), 10_000).await;
        assert_eq!(status, StatusCode::OK, "{said}");
        let asking = &said["data"]["replies"][0];
        assert_eq!(asking["text"], format!("Cancel order {order}?"), "{said}");
        let action = asking["action"]["id"].as_str().unwrap();
        let confirm = dan.request(reqwest::Method::POST, &format!("/actions/{action}/confirm"));
        let (status, decided) = dan.client.send(confirm).await;
        assert_eq!(status, StatusCode::OK, "{decided}");
        assert_eq!(decided["data"]["replies"][0]["text"], answer, "{decided}");
    }

    // No AI provider: the knowledge base answers what it can, with the document's title...
    let replies = ann.say("What is your return policy?").await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(replies[0].contains("within 30 days of delivery"), "{replies:?}");
    assert!(replies[0].ends_with("— Returns and refunds"), "{replies:?}");
    // ...and the catch-all rule says AI is off and what to try.
    let replies = ann.say("Do you sell gift cards?").await;
    assert!(replies[0].contains("AI replies are off"), "{replies:?}");
}

#[tokio::test]
async fn restarting_the_demo_reuses_it_and_a_configured_ai_answers_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let first = DemoServer::start(dir.path(), &[]);
    let owner = first.login("demo@switchboard.local").await;
    let counts = seeded(&owner).await;
    assert_eq!(counts, [2, 9, 1, 2, 2]);
    let widget = first.widget_on_demo_page().await;
    drop(first);

    let model = FakeModel::start(|seen| match seen.structured {
        Some(_) => Reply::Status(503, json!({"error": "not in this script"})),
        None => Reply::Text("We ship to all of Europe.".into()),
    })
    .await;
    let base_url = model.openai_url();
    let env = [
        ("SWITCHBOARD_AI_PROVIDER", "openai"),
        ("SWITCHBOARD_AI_BASE_URL", base_url.as_str()),
        ("SWITCHBOARD_AI_MODEL", "scripted"),
    ];
    // Another port: seeding points the connections at the new address.
    let second = DemoServer::start(dir.path(), &env);
    let owner = second.login("demo@switchboard.local").await;
    assert_eq!(seeded(&owner).await, counts, "a restart seeds nothing twice");
    assert_eq!(second.widget_on_demo_page().await, widget);

    let visitor =
        Visitor::start_with(Client::new(&second.base), &widget, json!({"language": "en"})).await;
    assert_eq!(
        visitor.say("where is order 4522").await,
        ["Order 4522 is processing. It should arrive on 2026-12-04 with UPS."]
    );
    assert_eq!(visitor.say("Do you ship to Norway?").await, ["We ship to all of Europe."]);
    let asked = model.requests();
    assert_eq!(asked.len(), 1, "rules answered everything else");
    assert_eq!(asked[0].last_user_text, "Do you ship to Norway?");
    let mut tools = asked[0].tools.clone();
    tools.sort();
    assert_eq!(
        tools,
        ["cancel_order", "check_stock", "get_order"],
        "the endpoints are the AI's tools (the write behind the visitor's button), but not the account lookup for a visitor nobody signed"
    );
}

#[tokio::test]
async fn a_tenant_on_a_demo_server_cannot_reach_the_server_itself() {
    let dir = tempfile::tempdir().unwrap();
    let server = DemoServer::start(dir.path(), &[]);
    let mut stranger = Client::new(&server.base);
    let signup = json!({"tenant_name": "Stranger", "email": "x@stranger.test", "password": "a long password 123"});
    let (status, body) = stranger.post("/api/v1/auth/signup", signup).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    stranger.csrf = Some(body["data"]["csrf_token"].as_str().unwrap().to_owned());
    // The server's own address (its metrics, its API, its login) is not a backend.
    let connection = json!({"name": "Self", "base_url": format!("{}/metrics", server.base), "auth": {"type": "none"}});
    let refused = stranger.post("/api/v1/connections", connection).await;
    crate::support::assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ssrf_blocked",
        Some("base_url"),
    );
}

/// Every message id a visitor's page saw in its conversation, following `after=` to the end.
async fn all_message_ids(base: &str, visitor: &Visitor) -> Vec<String> {
    let http = crate::support::http();
    let mut ids: Vec<String> = Vec::new();
    loop {
        let after = ids.last().map(|id| format!("?after={id}")).unwrap_or_default();
        let url = format!(
            "{base}/api/v1/widget/conversations/{}/messages{after}",
            visitor.conversation_id
        );
        let page: serde_json::Value =
            http.get(url).bearer_auth(&visitor.token).send().await.unwrap().json().await.unwrap();
        let items = page["data"].as_array().unwrap();
        if items.is_empty() {
            return ids;
        }
        ids.extend(items.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
    }
}

#[tokio::test]
async fn a_kill_9_under_load_loses_no_acknowledged_message_and_conversations_go_on() {
    let dir = tempfile::tempdir().unwrap();
    kill_9_under_load(dir.path(), &[]).await;
    // The same on PostgreSQL, with the master key file every node of it would share.
    if let Some(base) = sb_store_postgres::testing::base_url() {
        let dir = tempfile::tempdir().unwrap();
        let database = sb_store_postgres::testing::fresh_schema_url(&base).await;
        let key = dir.path().join("master.key");
        std::fs::write(&key, "22".repeat(32)).unwrap();
        let key = key.display().to_string();
        let env = [
            ("SWITCHBOARD_DATABASE", database.as_str()),
            ("SWITCHBOARD_MASTER_KEY_FILE", key.as_str()),
        ];
        kill_9_under_load(dir.path(), &env).await;
    }
}

async fn kill_9_under_load(dir: &std::path::Path, env: &[(&str, &str)]) {
    let mut first = DemoServer::start(dir, env);
    let widget = first.widget_on_demo_page().await;
    let mut visitors = Vec::new();
    for _ in 0..12 {
        visitors.push(Visitor::start_with(Client::new(&first.base), &widget, json!({})).await);
    }
    // Every visitor keeps writing; what the server acknowledged is noted.
    let acknowledged = Arc::new(Mutex::new(Vec::<(usize, String)>::new()));
    let http = crate::support::http();
    let mut writers = Vec::new();
    for (n, visitor) in visitors.iter().enumerate() {
        let url = format!(
            "{}/api/v1/widget/conversations/{}/messages",
            first.base, visitor.conversation_id
        );
        let (http, token, acknowledged) =
            (http.clone(), visitor.token.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let body = json!({"text": format!("Where is my order #4521? ({i})")});
                let Ok(response) = http.post(&url).bearer_auth(&token).json(&body).send().await
                else {
                    return; // the server is gone
                };
                if response.status().is_success()
                    && let Ok(answer) = response.json::<serde_json::Value>().await
                    && let Some(id) = answer["data"]["id"].as_str()
                {
                    acknowledged.lock().unwrap().push((n, id.to_owned()));
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    first.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    first.child.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 50, "under load: {} acknowledged", acknowledged.len());

    let second = DemoServer::start(dir, env);
    let mut lost = Vec::new();
    for (n, visitor) in visitors.iter().enumerate() {
        let stored = all_message_ids(&second.base, visitor).await;
        lost.extend(acknowledged.iter().filter(|(v, id)| *v == n && !stored.contains(id)));
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged messages lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    // And every conversation goes on, answered by the restarted server.
    for visitor in &visitors {
        let visitor = visitor.through(Client::new(&second.base));
        // Up to 30 s: on PostgreSQL a conversation the killed node was handling stays leased
        // to it for up to 15 s.
        let (status, answer) = visitor.say_raw("Where is my order #4521?", 30_000).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let replies = answer["data"]["replies"].as_array().unwrap();
        let last = replies.last().and_then(|r| r["text"].as_str());
        assert_eq!(last, Some("Order 4521 is shipped. It should arrive on 2026-12-01 with DHL."));
    }
    eprintln!("kill -9: {} acknowledged messages, none lost", acknowledged.len());
}

#[tokio::test]
async fn the_demo_suite_passes_when_run_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = DemoServer::start(dir.path(), &[]);
    let owner = server.login("demo@switchboard.local").await;
    let key = owner.create_api_key("ci").await;
    let (_, cases) = owner.get("/api/v1/test-cases?suite=demo").await;
    assert!(cases["data"].as_array().unwrap().len() >= 8, "{cases}");
    let junit = dir.path().join("demo-suite.xml");
    let output = Command::new(BIN)
        .args(["test", "run", "--url", &server.base, "--suite", "demo", "--junit"])
        .arg(&junit)
        .env("SWITCHBOARD_API_KEY", &key)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    assert!(printed.contains("10 of 10 test cases passed"), "{printed}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"10\" failures=\"0\""), "{xml}");
    // A restart keeps the suite as the tenant left it, without a second copy.
    drop(server);
    let server = DemoServer::start(dir.path(), &[]);
    let owner = server.login("demo@switchboard.local").await;
    let (_, again) = owner.get("/api/v1/test-cases").await;
    assert_eq!(again["data"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn the_demo_has_a_history_to_report_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = DemoServer::start(dir.path(), &[]);
    let owner = server.login("demo@switchboard.local").await;
    let (_, summary) = owner.get("/api/v1/analytics/summary").await;
    let s = &summary["data"];
    assert_eq!(s["conversations"], 4, "{s}");
    assert_eq!(s["closed"], 4);
    assert_eq!(s["replies"]["api"], 1, "the order looked up: {s}");
    assert_eq!(s["replies"]["kb"], 1, "the return policy: {s}");
    assert_eq!(s["rating"]["count"], 3);
    let (_, gaps) = owner.get("/api/v1/analytics/knowledge-gaps").await;
    let first = &gaps["data"][0];
    assert_eq!(first["questions"], 2, "gift cards, asked twice: {gaps}");
    assert_eq!(first["covered"], false);
    // Started again, it has them once.
    drop(server);
    let again = DemoServer::start(dir.path(), &[]);
    let owner = again.login("demo@switchboard.local").await;
    let (_, summary) = owner.get("/api/v1/analytics/summary").await;
    assert_eq!(summary["data"]["conversations"], 4);
}
