//! Privacy: a contact's data exports as one document (and a zip with her files), and erasure
//! leaves nothing of it — in any API answer, in the webhook delivery log, in search, or in the
//! database files (SQLite: the file's free pages, the write-ahead log and the attachments'
//! folder included). The audit log says who did it, without the data.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, TestApp};

/// Values only this contact ever wrote or was given (the last one only inside a file she sent).
const PLANTED: [&str; 6] = [
    "PLANTED-5f3a9e",
    "Zelda Quux-7731",
    "zelda.quux7731@example.com",
    "ATTR-PLANTED-81c2",
    "RATING-PLANTED-93aa",
    "FILE-PLANTED-c0ffee",
];

/// The words search keeps of them (lowercased, split): they must go too.
const SEARCH_WORDS: [&str; 3] = ["zelda", "quux7731", "5f3a9e"];

/// `text` as PostgreSQL shows a `bytea` holding it (hex), so a file's bytes are found too.
fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

async fn everything_visible(owner: &Client, paths: &[String]) -> String {
    let mut seen = String::new();
    for path in paths {
        seen.push_str(&owner.get(path).await.1.to_string());
    }
    seen
}

#[tokio::test]
async fn an_erased_contact_leaves_nothing_in_answers_deliveries_or_database_files() {
    let (hooks, received) = crate::support::webhook_receiver().await;
    let received = &*received;
    let allow = vec![hooks.to_string()];
    for app in TestApp::every_backend_with(|c| {
        c.security.ssrf_allow = allow.clone();
        c.webhooks.poll_interval_ms = 50;
    })
    .await
    {
        received.lock().unwrap().clear();
        erase_and_look_everywhere(&app, hooks, received).await;
    }
}

async fn erase_and_look_everywhere(
    app: &TestApp,
    hooks: std::net::SocketAddr,
    received: &std::sync::Mutex<Vec<Value>>,
) {
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    owner
        .create_rule(json!({"name": "Orders", "trigger": {"type": "keywords", "any": ["order"]},
            "actions": [{"type": "SET_VARIABLE", "name": "secret", "from_regex": {"pattern": "(PLANTED-\\w+)"}},
                {"type": "REPLY_TEXT", "text": "Noted {secret}."}]}))
        .await;
    let url = format!("http://{hooks}/hooks");
    let webhook =
        owner.create("/api/v1/webhooks", json!({"url": url, "events": ["message.created"]})).await;
    // Someone else, who must stay.
    let other = app.start_conversation_as(&widget, json!({"name": "Otto"})).await;
    other.say("order 1 please").await;

    let browser = "5a1e0c3d-zelda-browser-0001";
    let zelda = app
        .start_conversation_as(
            &widget,
            json!({"name": PLANTED[1], "email": PLANTED[2], "browser_id": browser}),
        )
        .await;
    assert_eq!(
        zelda.say(&format!("my order code is {}", PLANTED[0])).await,
        [format!("Noted {}.", PLANTED[0])]
    );
    let file = format!("my receipt: {}\n", PLANTED[5]);
    let (status, sent) = zelda.upload(&[("receipt.txt", file.as_bytes())], None).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let again = app.start_conversation_as(&widget, json!({"browser_id": browser})).await;
    again.say("hello again").await;
    let contact =
        owner.conversation(&zelda.conversation_id).await["contact_id"].as_str().unwrap().to_owned();
    let notes = format!("/api/v1/conversations/{}/messages", zelda.conversation_id);
    owner
        .post(&notes, json!({"text": format!("note about {}", PLANTED[0]), "private": true}))
        .await;
    owner
        .patch(format!("/api/v1/contacts/{contact}"), json!({"attributes": {"vault": PLANTED[3]}}))
        .await;
    // A rating of the closed second conversation.
    owner.post(&format!("/api/v1/conversations/{}/close", again.conversation_id), json!({})).await;
    let rating = format!("/api/v1/widget/conversations/{}/rating", again.conversation_id);
    let request = again
        .client
        .request(reqwest::Method::POST, &rating)
        .bearer_auth(&again.token)
        .json(&json!({"score": 2, "comment": PLANTED[4]}));
    assert_eq!(again.client.send(request).await.0, StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !received.lock().unwrap().iter().any(|b| b.to_string().contains(PLANTED[0])) {
        assert!(Instant::now() < deadline, "the webhook delivery of the planted message");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The export holds everything: profile, both conversations, messages, notes, variables.
    let (status, export) = owner.get(format!("/api/v1/contacts/{contact}/export")).await;
    assert_eq!(status, StatusCode::OK, "{export}");
    let export = &export["data"];
    assert_eq!(export["contact"]["name"], PLANTED[1]);
    assert_eq!(export["conversations"].as_array().unwrap().len(), 2);
    let text = export.to_string();
    // All but the file's content, which the zip below holds.
    for planted in &PLANTED[..5] {
        assert!(text.contains(planted), "the export holds {planted}");
    }
    assert!(text.contains("note about"), "notes are exported");
    let first = export["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["conversation"]["id"] == zelda.conversation_id.as_str())
        .unwrap();
    assert_eq!(first["conversation"]["variables"]["secret"], PLANTED[0]);

    // Her file is in the zipped export too.
    let zip =
        owner.request(reqwest::Method::GET, &format!("/api/v1/contacts/{contact}/export.zip"));
    let (status, headers, bytes) = owner.download(zip).await;
    assert_eq!(
        (status, &headers["content-type"]),
        (StatusCode::OK, &"application/zip".parse::<reqwest::header::HeaderValue>().unwrap())
    );
    assert!(
        bytes.windows(PLANTED[5].len()).any(|w| w == PLANTED[5].as_bytes()),
        "the file is zipped (stored)"
    );
    // Search finds her by her name and what she said.
    let (_, found) = owner.get("/api/v1/conversations?q=quux7731").await;
    assert_eq!(found["data"].as_array().unwrap().len(), 2, "{found}");

    // Before: the planted values are in the database (so the check below can fail).
    let before = app.database_text().await;
    let held = |text: &str, planted: &str| text.contains(planted) || text.contains(&hex(planted));
    assert!(PLANTED.iter().all(|p| held(&before, p)), "the database holds the contact's data");
    assert!(SEARCH_WORDS.iter().all(|w| before.contains(w)), "search holds her words");

    let (status, _) = owner.delete(format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = owner.delete(format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "erased once");

    // No API answer holds anything of hers; Otto's conversation is untouched.
    let hook = webhook["id"].as_str().unwrap();
    let paths = [
        format!("/api/v1/contacts/{contact}"),
        "/api/v1/contacts?q=zelda".to_owned(),
        "/api/v1/conversations?q=zelda".to_owned(),
        "/api/v1/conversations?q=quux7731".to_owned(),
        "/api/v1/conversations?limit=200".to_owned(),
        format!("/api/v1/conversations/{}", zelda.conversation_id),
        format!("/api/v1/conversations/{}/messages", zelda.conversation_id),
        format!("/api/v1/webhooks/{hook}/deliveries?limit=200"),
        "/api/v1/audit-log".to_owned(),
    ];
    let visible = everything_visible(&owner, &paths).await;
    // Only hers went: Otto's deliveries are still in the log.
    let (_, log) = owner.get(format!("/api/v1/webhooks/{hook}/deliveries?limit=200")).await;
    assert!(
        log.to_string().contains(other.conversation_id.as_str()),
        "Otto's deliveries stay: {log}"
    );
    for planted in PLANTED {
        assert!(!visible.contains(planted), "{planted} is still visible: {visible}");
    }
    let (status, _) = owner.get(format!("/api/v1/conversations/{}", other.conversation_id)).await;
    assert_eq!(status, StatusCode::OK, "another contact's conversation stays");
    let mine = format!("/api/v1/widget/conversations/{}/messages", zelda.conversation_id);
    let request = zelda.client.request(reqwest::Method::GET, &mine).bearer_auth(&zelda.token);
    let (status, _) = zelda.client.send(request).await;
    assert!(matches!(status, StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED), "{status}");

    // Nor does the database: on SQLite its files, free pages and write-ahead log included; on
    // PostgreSQL every table's rows.
    let after = app.database_text().await;
    for planted in PLANTED {
        assert!(!held(&after, planted), "{planted} is still in the {} database", app.backend);
    }
    for word in SEARCH_WORDS {
        assert!(!after.contains(word), "search still holds {word} ({})", app.backend);
    }

    // The audit log says who exported and erased, and how much.
    let (_, log) = owner.get("/api/v1/audit-log").await;
    let actions: Vec<&Value> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == contact.as_str())
        .collect();
    assert_eq!(actions[0]["action"], "contact.erased");
    assert_eq!(actions[0]["actor_email"], "owner@acme.test");
    assert_eq!(actions[0]["details"]["conversations"], 2);
    assert!(actions[0]["details"]["webhook_deliveries"].as_u64().unwrap() >= 2);
    assert_eq!(actions[1]["action"], "contact.exported");
}

#[tokio::test]
async fn owners_set_the_retention_period_and_read_the_audit_log() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        owner.create_user("admin@acme.test", "admin").await;
        let admin = app.login("admin@acme.test", crate::support::PASSWORD).await;
        let (status, tenant) = owner.patch("/api/v1/tenant", json!({"retention_days": 365})).await;
        assert_eq!((status, &tenant["data"]["retention_days"]), (StatusCode::OK, &json!(365)));
        let (status, _) = admin.patch("/api/v1/tenant", json!({"retention_days": null})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "only owners decide how long data is kept");
        let zero = owner.patch("/api/v1/tenant", json!({"retention_days": 0})).await;
        crate::support::assert_error(
            &zero,
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
            Some("retention_days"),
        );
        let (_, kept) = owner.patch("/api/v1/tenant", json!({"name": "Acme Lamps"})).await;
        assert_eq!(kept["data"]["retention_days"], 365, "absent keeps it");

        let (status, _) = admin.get("/api/v1/audit-log").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, log) = owner.get("/api/v1/audit-log?limit=3").await;
        let actions: Vec<&str> =
            log["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["tenant.updated", "tenant.updated", "session.login"], "{log}");
        assert_eq!(log["data"][0]["details"], json!({"changed": ["name"], "retention_days": 365}));
        let (_, rest) =
            owner.get(format!("/api/v1/audit-log?cursor={}", log["next"].as_str().unwrap())).await;
        let earlier: Vec<&str> = rest["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(earlier.contains(&"user.created"), "{rest}");
        let stranger = app.signup("Beta", "bob@beta.test").await;
        let (_, theirs) = stranger.get("/api/v1/audit-log").await;
        let their_actions: Vec<&str> = theirs["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(their_actions, ["session.login"], "each account its own log");
    }
}
