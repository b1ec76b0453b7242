//! Passwords after sign-up: changing one's own, an owner setting a team member's, resetting a
//! forgotten one through an e-mailed single-use link (a real SMTP conversation with a recorder on
//! loopback), and invitations where new members choose their own password.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::support::{Client, PASSWORD, TestApp, assert_error};

const PUBLIC_URL: &str = "http://support.example.test";

/// An SMTP server that accepts every message and keeps it (recipient, text).
async fn mail_recorder() -> (u16, Arc<Mutex<Vec<(String, String)>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let kept = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 recorder ESMTP\r\n").await;
                let (mut to, mut data, mut in_data) = (String::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            kept.lock().unwrap().push((to.clone(), std::mem::take(&mut data)));
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let answer: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 recorder\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to = line[8..].trim().trim_matches(['<', '>']).to_owned();
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = write.write_all(answer).await;
                }
            });
        }
    });
    (port, received)
}

async fn with_mail() -> (TestApp, Arc<Mutex<Vec<(String, String)>>>) {
    let (port, received) = mail_recorder().await;
    let app = TestApp::sqlite_with(move |c| {
        c.server.public_url = PUBLIC_URL.into();
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = port;
        c.smtp.tls = "none".into();
        c.smtp.from = "Acme support <support@acme.test>".into();
    })
    .await;
    (app, received)
}

async fn me(client: &Client) -> StatusCode {
    client.get("/api/v1/me").await.0
}

/// The token of the link `kind` (`reset`, `invite`) in a message.
fn link_token(message: &str, kind: &str) -> String {
    // The body is quoted-printable: long lines are wrapped with a trailing `=`.
    let message = message.replace("=\n", "").replace("=3D", "=");
    let start = message.find(&format!("{PUBLIC_URL}/#{kind}/")).expect("a link")
        + PUBLIC_URL.len()
        + kind.len()
        + 3;
    message[start..].split_whitespace().next().unwrap().to_owned()
}

async fn set_password(client: &Client, user: &str) -> (StatusCode, Value) {
    let path = format!("/api/v1/users/{user}/password");
    client.put(&path, json!({"password": "set by someone else"})).await
}

async fn accept(client: &Client, token: &str) -> (StatusCode, Value) {
    let body = json!({"token": token, "password": "my own choice"});
    client.post("/api/v1/auth/accept-invitation", body).await
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_other_sessions() {
    let app = TestApp::sqlite().await;
    let here = app.signup("Acme", "owner@acme.test").await;
    let elsewhere = app.login("owner@acme.test", PASSWORD).await;
    let change = |current: &str, new: &str| {
        here.put("/api/v1/me/password", json!({"current_password": current, "new_password": new}))
    };
    let wrong = change("not it at all", "a brand new password").await;
    assert_error(
        &wrong,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_credentials",
        Some("current_password"),
    );
    let short = change(PASSWORD, "short").await;
    assert_error(
        &short,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_too_short",
        Some("new_password"),
    );
    let (status, _) = change(PASSWORD, "a brand new password").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me(&here).await, StatusCode::OK, "the session that changed it goes on");
    assert_eq!(me(&elsewhere).await, StatusCode::UNAUTHORIZED, "every other session ended");
    let (status, _) = app
        .anonymous()
        .post("/api/v1/auth/login", json!({"email": "owner@acme.test", "password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.login("owner@acme.test", "a brand new password").await;
}

#[tokio::test]
async fn owners_set_team_members_passwords_within_their_rights() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let owner_id = owner.me().await["user"]["id"].as_str().unwrap().to_owned();
    let agent_id = owner.create_user("agent@acme.test", "operator").await;
    let admin_id = owner.create_user("admin@acme.test", "admin").await;
    let agent = app.login("agent@acme.test", PASSWORD).await;
    let admin = app.login("admin@acme.test", PASSWORD).await;
    assert_eq!(
        set_password(&agent, &owner_id).await.0,
        StatusCode::FORBIDDEN,
        "operators set no one's"
    );
    assert_eq!(
        set_password(&admin, &owner_id).await.0,
        StatusCode::FORBIDDEN,
        "admins do not set owners'"
    );
    assert_eq!(
        set_password(&owner, &owner_id).await.0,
        StatusCode::FORBIDDEN,
        "one's own takes the current one"
    );
    assert_eq!(set_password(&admin, &agent_id).await.0, StatusCode::OK);
    assert_eq!(me(&agent).await, StatusCode::UNAUTHORIZED, "the member's sessions ended");
    app.login("agent@acme.test", "set by someone else").await;
    assert_eq!(set_password(&owner, &admin_id).await.0, StatusCode::OK);
    // Another tenant's member is not found.
    let rival = app.signup("Rival", "owner@rival.test").await;
    assert_eq!(set_password(&rival, &agent_id).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_forgotten_password_is_reset_once_through_an_emailed_link() {
    let (app, mail) = with_mail().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let anonymous = app.anonymous();
    let ask = |email: &str| anonymous.post("/api/v1/auth/password-reset", json!({"email": email}));
    let unknown = ask("nobody@acme.test").await;
    let known = ask("owner@acme.test").await;
    assert_eq!(known, unknown, "the answer does not tell who has an account");
    assert_eq!(known.1["data"], json!({"requested": true, "email_configured": true}));
    // The message is sent after the answer, so the answer's timing tells nothing either.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while mail.lock().unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no reset message was sent");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let sent = mail.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "one message, to the account's address: {sent:?}");
    assert_eq!(sent[0].0, "owner@acme.test");
    let token = link_token(&sent[0].1, "reset");

    let confirm = |token: String, password: &str| {
        anonymous.post(
            "/api/v1/auth/password-reset/confirm",
            json!({"token": token, "password": password}),
        )
    };
    assert_error(
        &confirm(token.clone(), "short").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_too_short",
        Some("password"),
    );
    assert_eq!(confirm(token.clone(), "chosen after forgetting").await.0, StatusCode::OK);
    assert_error(
        &confirm(token, "once more please").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_token",
        Some("token"),
    );
    assert_eq!(me(&owner).await, StatusCode::UNAUTHORIZED, "sessions end with a reset");
    app.login("owner@acme.test", "chosen after forgetting").await;

    // Asking again and again for one address is limited like logins.
    let mut limited = false;
    for _ in 0..20 {
        if ask("owner@acme.test").await.0 == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "reset requests are rate limited");
}

#[tokio::test]
async fn without_email_a_reset_request_says_so_and_sends_nothing() {
    let app = TestApp::sqlite().await;
    app.signup("Acme", "owner@acme.test").await;
    let (status, answer) = app
        .anonymous()
        .post("/api/v1/auth/password-reset", json!({"email": "owner@acme.test"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["data"]["email_configured"], false);
}

#[tokio::test]
async fn an_invited_member_chooses_their_password_and_joins_once() {
    let (app, mail) = with_mail().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let (status, invited) = owner
        .post("/api/v1/invitations", json!({"email": "new@acme.test", "role": "operator"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    let token = invited["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(invited["data"]["link"], format!("{PUBLIC_URL}/#invite/{token}"));
    assert_eq!(invited["data"]["emailed"], true);
    assert_eq!(link_token(&mail.lock().unwrap()[0].1, "invite"), token);
    let (_, pending) = owner.get("/api/v1/invitations").await;
    assert_eq!(pending["data"][0]["email"], "new@acme.test");
    assert!(pending.to_string().find(&token).is_none(), "the token is shown once");

    let mut joining = app.anonymous();
    let (status, session) = accept(&joining, &token).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    joining.csrf = Some(session["data"]["csrf_token"].as_str().unwrap().to_owned());
    let me = joining.me().await;
    assert_eq!((&me["role"], &me["tenant"]["name"]), (&json!("operator"), &json!("Acme")));
    assert_error(
        &accept(&app.anonymous(), &token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_token",
        Some("token"),
    );
    assert_eq!(owner.get("/api/v1/invitations").await.1["data"], json!([]));

    // Someone with an account already cannot be invited; operators invite no one; a withdrawn
    // invitation does not open.
    let again = owner
        .post("/api/v1/invitations", json!({"email": "new@acme.test", "role": "operator"}))
        .await;
    assert_eq!(again.0, StatusCode::CONFLICT, "{}", again.1);
    let refused = joining
        .post("/api/v1/invitations", json!({"email": "x@acme.test", "role": "operator"}))
        .await;
    assert_eq!(refused.0, StatusCode::FORBIDDEN);
    let (_, withdrawn) = owner
        .post("/api/v1/invitations", json!({"email": "late@acme.test", "role": "admin"}))
        .await;
    let id = withdrawn["data"]["id"].as_str().unwrap();
    assert_eq!(owner.delete(format!("/api/v1/invitations/{id}")).await.0, StatusCode::OK);
    let token = withdrawn["data"]["token"].as_str().unwrap();
    assert_error(
        &accept(&app.anonymous(), token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_token",
        Some("token"),
    );
}
