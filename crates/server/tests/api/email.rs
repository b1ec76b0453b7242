//! An e-mail channel against real mail servers on loopback (`mail_peers`): Dovecot holds the
//! support mailbox, watched over IMAP with IDLE; replies go out over SMTP with a login. A
//! customer's question gets the live answer in the same thread, a flow goes on across
//! replies (their quoted history cut off), a person replies from the inbox, machine mail
//! (auto-replies, bounces) is never answered, a mail provider can post messages to the
//! webhook instead, an action is confirmed by answering CONFIRM, and transport security is
//! never silently dropped (docs/channels.md#e-mail).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::lookup_inputs::{order_backend, order_flow_rule, order_rule, shop};
use crate::mail_peers::{Dovecot, PASSWORD, SmtpSink, TestCa, available};
use crate::support::{Client, TestApp, assert_error};

const SUPPORT: &str = "help@shop.example";
const HOOK_SECRET: &str = "inbound-hook-secret-1";

/// The operator's allowlist: the mail servers' loopback ports and, given, the order backend.
fn allowlist(backend: Option<std::net::SocketAddr>, ports: &[u16]) -> Vec<String> {
    let servers = ports.iter().map(|port| format!("127.0.0.1:{port}"));
    backend.map(|b| b.to_string()).into_iter().chain(servers).collect()
}

fn settings(dovecot: &Dovecot, smtp: &SmtpSink) -> Value {
    json!({"address": SUPPORT, "from_name": "Shop Support",
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "tls": "none"},
        "imap": {"host": "127.0.0.1", "port": dovecot.port, "tls": "none"}})
}

async fn email_channel(owner: &Client, widget: &str, settings: Value) -> String {
    let created = owner
        .create("/api/v1/channels", json!({"kind": "email", "name": "Shop mail", "widget_id": widget,
            "settings": settings,
            "secrets": {"smtp_password": PASSWORD, "imap_password": PASSWORD, "webhook_secret": HOOK_SECRET}}))
        .await;
    assert_eq!(created["kind"], "email", "{created}");
    assert!(!created.to_string().contains(PASSWORD), "no password is shown: {created}");
    created["id"].as_str().unwrap().to_owned()
}

/// Waits until the channel's mailbox watcher has been in (so mail from now on is taken).
async fn watched(owner: &Client, channel: &str) -> Value {
    for _ in 0..400 {
        let (_, shown) = owner.get(format!("/api/v1/channels/{channel}")).await;
        if shown["data"]["inbound"]["reached_at"].is_string() {
            return shown["data"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the mailbox of {channel} was never reached");
}

fn mail(from: &str, id: &str, subject: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: Shop Support <{SUPPORT}>\nSubject: {subject}\nMessage-ID: <{id}>\n{extra}Date: Sun, 6 Dec 2026 10:00:00 +0000\n\n{body}\n"
    )
}

/// The Message-ID a reply carries, without brackets.
fn id_of(sent: &crate::mail_peers::Sent) -> String {
    sent.header("Message-ID").unwrap().trim_matches(['<', '>']).to_owned()
}

#[tokio::test]
async fn an_email_customer_gets_live_answers_in_the_thread_and_people_reply_from_the_inbox() {
    if !available() {
        return;
    }
    let (backend, seen) = order_backend().await;
    for round in ["sqlite", "postgres"] {
        let dovecot = Dovecot::start(SUPPORT).await;
        let smtp = SmtpSink::start(SUPPORT).await;
        let allow = allowlist(Some(backend), &[dovecot.port, smtp.port]);
        let tweak = |c: &mut switchboard::config::Config| c.security.ssrf_allow = allow.clone();
        let app = match round {
            "sqlite" => TestApp::sqlite_with(tweak).await,
            _ => match TestApp::postgres_with(tweak).await {
                Some(app) => app,
                None => break,
            },
        };
        seen.lock().unwrap().clear();
        let (owner, widget, endpoint) = shop(&app, backend).await;
        owner.create_rule(order_flow_rule(&endpoint)).await;
        let channel = email_channel(&owner, &widget, settings(&dovecot, &smtp)).await;

        // The test button logs in to both servers and sends a test message.
        let test = format!("/api/v1/channels/{channel}/test");
        let (_, tested) = owner.post(&test, json!({"to": "me@shop.example"})).await;
        assert_eq!(tested["data"]["ok"], true, "{tested}");
        let probe = smtp.sent_to("me@shop.example", 1).await;
        assert!(probe[0].body().starts_with("A test message"), "{probe:?}");
        watched(&owner, &channel).await;

        // Lookup and reply: the answer lands in Ann's thread, marked as automatic.
        let ann = "ann@example.org";
        dovecot
            .deliver(
                SUPPORT,
                &mail(
                    "Ann Lee <ann@example.org>",
                    "ann-1@example.org",
                    "Where is my order #4521?",
                    "",
                    "Hello, it has not come yet.\n-- \nAnn",
                ),
            )
            .await;
        let answers = smtp.sent_to(ann, 1).await;
        let first = &answers[0];
        assert_eq!(first.body(), "Order 4521 is shipped.", "{first:?}");
        assert_eq!(first.header("Subject").as_deref(), Some("Re: Where is my order #4521?"));
        assert_eq!(first.header("In-Reply-To").as_deref(), Some("<ann-1@example.org>"));
        assert_eq!(first.header("Auto-Submitted").as_deref(), Some("auto-replied"));
        assert!(first.header("From").unwrap().contains(SUPPORT), "{first:?}");

        // A flow across replies: Ann answers our reply, her client quoting it below.
        let ours = id_of(first);
        let threaded = format!("In-Reply-To: <{ours}>\nReferences: <ann-1@example.org> <{ours}>\n");
        let quoted = format!(
            "and my other order?\n\nOn Sun, 6 Dec 2026, Shop Support <{SUPPORT}> wrote:\n> Order 4521 is shipped."
        );
        dovecot
            .deliver(
                SUPPORT,
                &mail(ann, "ann-2@example.org", "Re: Where is my order #4521?", &threaded, &quoted),
            )
            .await;
        assert_eq!(smtp.sent_to(ann, 2).await[1].body(), "Which order number?");
        // Her client dropped our reply from the thread: her own earlier message still finds it.
        let own = "In-Reply-To: <ann-2@example.org>\n";
        dovecot.deliver(SUPPORT, &mail(ann, "ann-3@example.org", "Re: order", own, "4522")).await;
        let answers = smtp.sent_to(ann, 3).await;
        assert_eq!(answers[2].body(), "Order 4522 is packed.");
        assert!(
            answers[2].header("References").unwrap().contains("<ann-1@example.org>"),
            "{:?}",
            answers[2]
        );

        let (_, inbox) = owner.get("/api/v1/conversations").await;
        assert_eq!(
            inbox["data"].as_array().unwrap().len(),
            1,
            "one thread, one conversation: {inbox}"
        );
        let conversation = &inbox["data"][0];
        assert_eq!(conversation["channel"], json!({"kind": "email", "id": channel}));
        assert_eq!(
            (&conversation["visitor"]["name"], &conversation["visitor"]["email"]),
            (&json!("Ann Lee"), &json!(ann))
        );
        assert_eq!(conversation["visitor"]["verified"], false, "a From header proves nothing");
        let id = conversation["id"].as_str().unwrap().to_owned();
        let (_, messages) = owner.get(format!("/api/v1/conversations/{id}/messages")).await;
        let texts: Vec<&str> = messages["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            texts[0], "Where is my order #4521?\n\nHello, it has not come yet.",
            "the signature is cut: {texts:?}"
        );
        assert_eq!(texts[2], "and my other order?", "the quoted history is cut: {texts:?}");
        assert_eq!(*seen.lock().unwrap(), ["4521", "4522"]);

        // A person replies from the inbox: a plain reply in the thread, not marked automatic.
        let (status, _) = owner
            .post(
                format!("/api/v1/conversations/{id}/messages"),
                json!({"text": "Hi Ann, I am on it."}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let by_person = &smtp.sent_to(ann, 4).await[3];
        assert_eq!(by_person.body(), "Hi Ann, I am on it.");
        assert_eq!(by_person.header("Auto-Submitted"), None);
        assert_eq!(by_person.header("In-Reply-To").as_deref(), Some("<ann-3@example.org>"));

        // Machine mail is taken and never answered: Ann's vacation notice, a bounce, mail
        // from the support address itself. Bob's question, after them, is.
        dovecot
            .deliver(
                SUPPORT,
                &mail(
                    ann,
                    "ann-ooo@example.org",
                    "Out of office",
                    "Auto-Submitted: auto-replied\n",
                    "I am away.",
                ),
            )
            .await;
        dovecot
            .deliver(
                SUPPORT,
                &mail(
                    "MAILER-DAEMON@mx.example.org",
                    "bounce-1@mx.example.org",
                    "Undelivered",
                    "",
                    "order 4521 failed",
                ),
            )
            .await;
        dovecot
            .deliver(SUPPORT, &mail(SUPPORT, "loop-1@shop.example", "order 4521", "", "order 4521"))
            .await;
        let bob = "bob@example.net";
        dovecot
            .deliver(SUPPORT, &mail(bob, "bob-1@example.net", "order 4522", "", "Where is it?"))
            .await;
        assert_eq!(smtp.sent_to(bob, 1).await[0].body(), "Order 4522 is packed.");
        assert_eq!(smtp.sent_to(ann, 4).await.len(), 4, "nothing answered the machines");
        let (_, inbox) = owner.get("/api/v1/conversations").await;
        assert_eq!(inbox["data"].as_array().unwrap().len(), 2, "Ann's and Bob's: {inbox}");

        // Someone answering Ann's thread is not Ann: a conversation of their own.
        let forwarded = format!("In-Reply-To: <{ours}>\n");
        dovecot
            .deliver(
                SUPPORT,
                &mail(
                    "eve@example.com",
                    "eve-1@example.com",
                    "Re: order",
                    &forwarded,
                    "order 4521?",
                ),
            )
            .await;
        smtp.sent_to("eve@example.com", 1).await;
        let (_, inbox) = owner.get("/api/v1/conversations").await;
        assert_eq!(inbox["data"].as_array().unwrap().len(), 3, "{inbox}");

        // A file from the inbox goes attached to the reply.
        let pdf: &[u8] = b"%PDF-1.4\n% the receipt\n";
        let (status, body) =
            owner.upload(&id, &[("receipt.pdf", pdf)], Some("Your receipt.")).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let with_file = &smtp.sent_to(ann, 5).await[4];
        assert!(
            with_file.header("Content-Type").unwrap().starts_with("multipart/mixed"),
            "{with_file:?}"
        );
        assert!(with_file.raw.contains("filename=\"receipt.pdf\""), "{with_file:?}");
        assert!(with_file.raw.contains("Your receipt."), "{with_file:?}");

        // A provider posts a message to the webhook, authenticated by the channel's secret.
        let hook = format!("{}/api/v1/hooks/email/{channel}", app.base);
        let carol = mail("carol@example.com", "carol-1@example.com", "order 4521", "", "Hi");
        let http = reqwest::Client::new();
        let posted =
            http.post(&hook).bearer_auth(HOOK_SECRET).body(carol.clone()).send().await.unwrap();
        assert_eq!(posted.status(), StatusCode::OK);
        assert_eq!(smtp.sent_to("carol@example.com", 1).await[0].body(), "Order 4521 is shipped.");
        // Again (the provider retrying), as SendGrid's form with basic authentication: once.
        let boundary = "mail-form-1";
        let form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n{carol}\r\n--{boundary}--\r\n"
        );
        let again = http
            .post(&hook)
            .basic_auth("any", Some(HOOK_SECRET))
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::OK);
        let wrong = http
            .post(&hook)
            .bearer_auth("guess")
            .body("From: x@y.example\n\nhi")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let not_mail = http.post(&hook).bearer_auth(HOOK_SECRET).body("").send().await.unwrap();
        assert_eq!(not_mail.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // What a webhook takes is stored before it answers: Carol's one message, once.
        let (_, inbox) = owner.get("/api/v1/conversations").await;
        let carols: Vec<&Value> = inbox["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["visitor"]["email"] == "carol@example.com")
            .collect();
        assert_eq!(carols.len(), 1, "{inbox}");
        let carol_id = carols[0]["id"].as_str().unwrap();
        let (_, messages) = owner.get(format!("/api/v1/conversations/{carol_id}/messages")).await;
        let from_carol = messages["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["author"] == "visitor")
            .count();
        assert_eq!(from_carol, 1, "taken once: {messages}");

        let text = app.database_text().await;
        assert!(
            !text.contains(PASSWORD) && !text.contains(HOOK_SECRET),
            "secrets are sealed at rest (round {round})"
        );
    }
}

#[tokio::test]
async fn an_action_is_confirmed_by_answering_confirm() {
    if !available() {
        return;
    }
    let (backend, seen) = order_backend().await;
    let dovecot = Dovecot::start(SUPPORT).await;
    let smtp = SmtpSink::start(SUPPORT).await;
    let allow = allowlist(Some(backend), &[dovecot.port, smtp.port]);
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = allow.clone()).await;
    let (owner, widget, endpoint) = shop(&app, backend).await;
    let approval = json!({"approval": "visitor", "approval_summary": "Look up order {orderId}?"});
    owner.patch(format!("/api/v1/endpoints/{endpoint}"), approval).await;
    owner.create_rule(order_rule(&endpoint)).await;
    let channel = email_channel(&owner, &widget, settings(&dovecot, &smtp)).await;
    watched(&owner, &channel).await;

    let ann = "ann@example.org";
    dovecot.deliver(SUPPORT, &mail(ann, "a1@example.org", "order 4521", "", "Please check.")).await;
    let asked = smtp.sent_to(ann, 1).await;
    assert!(asked[0].body().starts_with("Look up order 4521?"), "{:?}", asked[0]);
    assert!(asked[0].body().contains("Reply CONFIRM"), "{:?}", asked[0]);
    assert!(seen.lock().unwrap().is_empty(), "nothing runs before the answer");

    let ours = id_of(&asked[0]);
    let answer = format!("In-Reply-To: <{ours}>\nReferences: <a1@example.org> <{ours}>\n");
    let body = format!("Confirm\n\nOn Sun, Shop <{SUPPORT}> wrote:\n> Reply CONFIRM to go ahead");
    dovecot.deliver(SUPPORT, &mail(ann, "a2@example.org", "Re: order 4521", &answer, &body)).await;
    assert_eq!(smtp.sent_to(ann, 2).await[1].body(), "Order 4521 is shipped.");
    assert_eq!(*seen.lock().unwrap(), ["4521"], "confirmed once, called once");
}

#[tokio::test]
async fn transport_security_is_never_dropped_and_settings_name_their_field() {
    if !available() {
        return;
    }
    let dovecot = Dovecot::start(SUPPORT).await;
    let smtp = SmtpSink::start(SUPPORT).await;
    let allow = allowlist(None, &[dovecot.port, smtp.port]);
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = allow.clone()).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    let create = |settings: Value| {
        json!({"kind": "email", "name": "Mail", "widget_id": widget, "settings": settings,
            "secrets": {"imap_password": PASSWORD, "smtp_password": PASSWORD}})
    };

    // Refused when made: a private server, plain text to a server on the internet, a mailbox
    // without its password.
    let private = json!({"address": SUPPORT, "smtp": {"host": "10.0.0.5", "port": 587}});
    let refused = owner.post("/api/v1/channels", create(private)).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ssrf_blocked",
        Some("settings.smtp.host"),
    );
    let plain = json!({"address": SUPPORT, "smtp": {"host": "smtp.example.com", "port": 25, "tls": "none"}});
    let refused = owner.post("/api/v1/channels", create(plain)).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "insecure_transport",
        Some("settings.smtp.tls"),
    );
    let body = json!({"kind": "email", "name": "Mail", "widget_id": widget,
        "settings": {"address": SUPPORT, "smtp": {"host": "127.0.0.1", "port": smtp.port, "tls": "none"},
            "imap": {"host": "127.0.0.1", "port": dovecot.port, "tls": "none"}}});
    let refused = owner.post("/api/v1/channels", body).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing_field",
        Some("secrets.imap_password"),
    );

    // STARTTLS asked of servers that do not offer it: the test says so for each, and nothing
    // goes on in plain text (no login, no test message).
    let smtp_starttls = json!({"address": SUPPORT,
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "tls": "starttls"}});
    let created = owner.create("/api/v1/channels", create(smtp_starttls)).await;
    let id = created["id"].as_str().unwrap();
    let (_, tested) =
        owner.post(format!("/api/v1/channels/{id}/test"), json!({"to": "me@shop.example"})).await;
    let notes = tested["data"]["notes"].as_array().unwrap();
    assert_eq!(tested["data"]["ok"], false, "{tested}");
    assert!(notes[0].as_str().unwrap().starts_with("replies cannot go out: STARTTLS"), "{tested}");
    assert!(!tested.to_string().contains("test message"), "no test message is tried: {tested}");
    assert!(smtp.taken().is_empty(), "nothing was sent");
    owner.delete(format!("/api/v1/channels/{id}")).await;
    let imap_starttls = json!({"address": SUPPORT,
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "tls": "none"},
        "imap": {"host": "127.0.0.1", "port": dovecot.port, "tls": "starttls"}});
    let created = owner.create("/api/v1/channels", create(imap_starttls)).await;
    let id = created["id"].as_str().unwrap();
    let (_, tested) = owner.post(format!("/api/v1/channels/{id}/test"), json!({})).await;
    let notes = tested["data"]["notes"].as_array().unwrap();
    assert_eq!(tested["data"]["ok"], false, "{tested}");
    assert!(
        notes[0].as_str().unwrap().contains("takes replies"),
        "the SMTP side is fine: {tested}"
    );
    assert!(
        notes[1].as_str().unwrap().starts_with("the mailbox cannot be read: STARTTLS"),
        "{tested}"
    );
    owner.delete(format!("/api/v1/channels/{id}")).await;

    // A wrong IMAP password: the test says so, and the mailbox's state shows the error.
    let wrong = json!({"kind": "email", "name": "Wrong", "widget_id": widget,
        "settings": {"address": SUPPORT, "smtp": {"host": "127.0.0.1", "port": smtp.port, "tls": "none"},
            "imap": {"host": "127.0.0.1", "port": dovecot.port, "tls": "none", "username": "nobody-here"}},
        "secrets": {"imap_password": "not-it", "smtp_password": "not-it"}});
    let created = owner.create("/api/v1/channels", wrong).await;
    let id = created["id"].as_str().unwrap();
    let (_, tested) = owner.post(format!("/api/v1/channels/{id}/test"), json!({})).await;
    let notes = tested["data"]["notes"].to_string();
    assert!(notes.contains("SMTP login") && notes.contains("IMAP login"), "{notes}");
    let mut error = Value::Null;
    for _ in 0..200 {
        let (_, shown) = owner.get(format!("/api/v1/channels/{id}")).await;
        error = shown["data"]["inbound"]["error"].clone();
        if error.is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(error.as_str().is_some_and(|e| e.contains("IMAP login")), "{error}");
}

#[tokio::test]
async fn mail_servers_of_a_private_ca_are_reached_over_tls_and_others_refused() {
    if !available() {
        return;
    }
    let (backend, _) = order_backend().await;
    let ca = TestCa::new();
    let dovecot = Dovecot::start_tls(SUPPORT, &ca).await;
    let smtp = SmtpSink::start_tls(SUPPORT, &ca).await;
    let allow = allowlist(Some(backend), &[dovecot.tls_port, smtp.port]);
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = allow.clone()).await;
    let (owner, widget, endpoint) = shop(&app, backend).await;
    owner.create_rule(order_rule(&endpoint)).await;
    let secure = |ca_pem: Option<&str>| {
        json!({"address": SUPPORT,
            "smtp": {"host": "127.0.0.1", "port": smtp.port, "tls": "starttls", "ca_certificate": ca_pem},
            "imap": {"host": "127.0.0.1", "port": dovecot.tls_port, "tls": "tls", "ca_certificate": ca_pem}})
    };

    // Without the company's CA, neither server's certificate is trusted: nothing is sent.
    let untrusted = email_channel(&owner, &widget, secure(None)).await;
    let (_, tested) = owner
        .post(format!("/api/v1/channels/{untrusted}/test"), json!({"to": "me@shop.example"}))
        .await;
    let notes = tested["data"]["notes"].to_string();
    assert_eq!(tested["data"]["ok"], false, "{tested}");
    assert!(
        notes.contains("replies cannot go out: STARTTLS")
            && notes.contains("the mailbox cannot be read: TLS with 127.0.0.1 failed"),
        "{notes}"
    );
    assert!(notes.contains("UnknownIssuer"), "{notes}");
    assert!(smtp.taken().is_empty());
    owner.delete(format!("/api/v1/channels/{untrusted}")).await;

    // A CA certificate that is none is refused where it is given.
    let mut broken = secure(None);
    broken["smtp"]["ca_certificate"] =
        json!("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----");
    let body = json!({"kind": "email", "name": "Broken", "widget_id": widget, "settings": broken,
        "secrets": {"imap_password": PASSWORD}});
    let refused = owner.post("/api/v1/channels", body).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_certificate",
        Some("settings.smtp.ca_certificate"),
    );

    // With it: the mailbox over IMAPS, replies over STARTTLS (the server takes nothing before).
    let channel = email_channel(&owner, &widget, secure(Some(&ca.pem))).await;
    let (_, tested) = owner
        .post(format!("/api/v1/channels/{channel}/test"), json!({"to": "me@shop.example"}))
        .await;
    assert_eq!(tested["data"]["ok"], true, "{tested}");
    assert!(smtp.sent_to("me@shop.example", 1).await[0].body().starts_with("A test message"));
    watched(&owner, &channel).await;
    dovecot
        .deliver(SUPPORT, &mail("ann@example.org", "tls-1@example.org", "order 4521", "", "Hi"))
        .await;
    assert_eq!(smtp.sent_to("ann@example.org", 1).await[0].body(), "Order 4521 is shipped.");
}
