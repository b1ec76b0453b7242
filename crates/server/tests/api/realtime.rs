//! The WebSocket feeds: visitors see their conversation live and resume without loss; operators
//! see their tenant's conversations live; typing crosses over; caps and origins hold.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::TestApp;

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(
    app: &TestApp,
    path: &str,
    headers: &[(&str, String)],
) -> Result<Socket, StatusCode> {
    let url = format!("{}{path}", app.base.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        let name =
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(StatusCode::from_u16(response.status().as_u16()).unwrap())
        }
        Err(other) => panic!("{other}"),
    }
}

/// The next JSON event, skipping pings; panics after five seconds of silence.
pub(crate) async fn next(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .unwrap();
        if let Frame::Text(text) = frame {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Events until one of `kind` arrives (which is returned).
pub(crate) async fn until(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let event = next(socket).await;
        if event["type"] == kind {
            return event;
        }
    }
}

pub(crate) async fn operator_socket(app: &TestApp, key: &str) -> Socket {
    let mut socket = connect(app, "/api/v1/ws", &[("x-api-key", key.to_owned())]).await.unwrap();
    assert_eq!(next(&mut socket).await["type"], "ready");
    socket
}

#[tokio::test]
async fn visitors_and_operators_see_each_other_live_and_resume_without_loss() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let key = owner.create_api_key("ws").await;
        let widget = owner.create_widget("Shop").await;
        owner.create_rule(json!({"name": "echo", "trigger": {"type": "keywords", "any": ["ping"]}, "actions": [{"type": "REPLY_TEXT", "text": "pong"}]})).await;
        let mut operators = operator_socket(&app, &key).await;

        let visitor = app.start_conversation_as(&widget, json!({"name": "Ann"})).await;
        let created = until(&mut operators, "conversation_created").await;
        assert_eq!(created["conversation_id"], visitor.conversation_id.as_str(), "{}", app.backend);
        let path = format!(
            "/api/v1/widget/conversations/{}/ws?token={}",
            visitor.conversation_id, visitor.token
        );
        let mut feed = connect(&app, &path, &[]).await.unwrap();

        visitor.say("ping").await;
        let mine = until(&mut feed, "message").await;
        assert_eq!(
            (mine["message"]["author"].clone(), mine["message"]["text"].clone()),
            (json!("visitor"), json!("ping"))
        );
        let reply = until(&mut feed, "message").await;
        assert_eq!(reply["message"]["text"], "pong");
        let seen_by_operator = until(&mut operators, "message_created").await;
        assert_eq!(seen_by_operator["message"]["text"], "ping");

        // Typing crosses over, each side hearing only the other.
        feed.send(Frame::Text(json!({"type": "typing", "typing": true}).to_string().into()))
            .await
            .unwrap();
        let typing = until(&mut operators, "typing").await;
        assert_eq!(
            (typing["author"].clone(), typing["typing"].clone()),
            (json!("visitor"), json!(true))
        );
        operators.send(Frame::Text(json!({"type": "typing", "conversation_id": visitor.conversation_id, "typing": true}).to_string().into())).await.unwrap();
        assert_eq!(until(&mut feed, "typing").await["typing"], true);

        // The visitor drops; meanwhile the operator replies twice; the reconnect carries on.
        let last_seen = reply["message"]["id"].as_str().unwrap().to_owned();
        drop(feed);
        for text in ["First while you were away", "Second while you were away"] {
            let (status, _) = owner
                .post(
                    format!("/api/v1/conversations/{}/messages", visitor.conversation_id),
                    json!({"text": text}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let mut resumed = connect(&app, &format!("{path}&after={last_seen}"), &[]).await.unwrap();
        let first = until(&mut resumed, "message").await;
        let second = until(&mut resumed, "message").await;
        assert_eq!(
            (first["message"]["text"].clone(), second["message"]["text"].clone()),
            (json!("First while you were away"), json!("Second while you were away"))
        );
        assert!(
            first["message"].get("author_user_id").is_none(),
            "visitors are not shown the operator's internal id: {first}"
        );
        let update = until(&mut operators, "conversation_updated").await;
        assert_eq!(update["status"], "pending");
        owner
            .post(format!("/api/v1/conversations/{}/close", visitor.conversation_id), json!({}))
            .await;
        let closed = until(&mut resumed, "conversation_updated").await;
        assert_eq!(closed["status"], "closed");
        assert!(
            closed.get("assigned_to").is_none(),
            "visitors are not shown internal ids: {closed}"
        );
    }
}

#[tokio::test]
async fn feeds_are_held_to_tokens_tenants_origins_and_caps() {
    let app = TestApp::sqlite_with(|c| c.realtime.max_connections_per_ip = 3).await;
    let alpha = app.signup("Alpha", "owner@alpha.test").await;
    let alpha_key = alpha.create_api_key("ws").await;
    let widget = alpha
        .create_widget_with(json!({"name": "W", "allowed_origins": ["https://shop.example.com"]}))
        .await;
    let beta = app.signup("Beta", "owner@beta.test").await;
    let beta_key = beta.create_api_key("ws").await;
    let mut beta_feed = operator_socket(&app, &beta_key).await;

    let visitor = app.start_conversation(&widget).await;
    let other = app.start_conversation(&widget).await;
    let wrong_token = format!(
        "/api/v1/widget/conversations/{}/ws?token={}",
        visitor.conversation_id, other.token
    );
    assert_eq!(connect(&app, &wrong_token, &[]).await.err(), Some(StatusCode::NOT_FOUND));
    let forged =
        format!("/api/v1/widget/conversations/{}/ws?token=sbv_nope", visitor.conversation_id);
    assert_eq!(connect(&app, &forged, &[]).await.err(), Some(StatusCode::UNAUTHORIZED));
    let path = format!(
        "/api/v1/widget/conversations/{}/ws?token={}",
        visitor.conversation_id, visitor.token
    );
    assert_eq!(
        connect(&app, &path, &[("origin", "https://evil.example".into())]).await.err(),
        Some(StatusCode::FORBIDDEN)
    );
    assert_eq!(connect(&app, "/api/v1/ws", &[]).await.err(), Some(StatusCode::UNAUTHORIZED));
    let session_from_elsewhere = connect(
        &app,
        "/api/v1/ws",
        &[("x-api-key", alpha_key.clone()), ("origin", "https://evil.example".into())],
    )
    .await;
    assert_eq!(
        session_from_elsewhere.err(),
        Some(StatusCode::FORBIDDEN),
        "cross-site WebSocket hijacking is refused"
    );

    // Beta hears nothing of Alpha's conversations.
    visitor.say("hello").await;
    let text = async {
        loop {
            if let Some(Ok(Frame::Text(text))) = beta_feed.next().await {
                return text;
            }
        }
    };
    let quiet = tokio::time::timeout(Duration::from_millis(500), text).await;
    assert!(quiet.is_err(), "another tenant's event leaked: {quiet:?}");

    // Three connections from one address (Beta's feed is one); the fourth is refused.
    let _a = connect(&app, &path, &[("origin", "https://shop.example.com".into())]).await.unwrap();
    let _b = operator_socket(&app, &alpha_key).await;
    assert_eq!(connect(&app, &path, &[]).await.err(), Some(StatusCode::TOO_MANY_REQUESTS));
    drop(_a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(connect(&app, &path, &[]).await.is_ok(), "a closed connection frees its place");
}

#[tokio::test]
async fn a_silent_half_open_connection_is_closed_and_frees_its_place() {
    let app = TestApp::sqlite_with(|c| {
        c.realtime.max_connections_per_ip = 1;
        c.realtime.heartbeat_secs = 1;
    })
    .await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let key = owner.create_api_key("ws").await;
    // Never read: pings go unanswered, as with a peer that vanished without closing.
    let silent = connect(&app, "/api/v1/ws", &[("x-api-key", key.clone())]).await.unwrap();
    assert_eq!(
        connect(&app, "/api/v1/ws", &[("x-api-key", key.clone())]).await.err(),
        Some(StatusCode::TOO_MANY_REQUESTS)
    );
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert!(
        connect(&app, "/api/v1/ws", &[("x-api-key", key)]).await.is_ok(),
        "the silent connection was dropped"
    );
    drop(silent);
}

#[tokio::test]
async fn an_oversized_frame_closes_the_connection() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Alpha", "owner@alpha.test").await;
    let key = owner.create_api_key("ws").await;
    let mut feed = operator_socket(&app, &key).await;
    // A typing indicator is tiny and keeps the connection open...
    let typing = json!({"type": "typing", "typing": true}).to_string();
    feed.send(Frame::Text(typing.into())).await.unwrap();
    // ...but the server does not buffer 32 KiB from a client (the limit is 16 KiB).
    let huge = format!("{{\"type\":\"typing\",\"pad\":\"{}\"}}", "x".repeat(32 * 1024));
    let _ = feed.send(Frame::Text(huge.into())).await;
    let closed = async {
        loop {
            match feed.next().await {
                None | Some(Err(_)) | Some(Ok(Frame::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), closed).await.expect("the server closes it");
}

#[tokio::test]
async fn a_typing_flood_is_coalesced_and_its_socket_closed() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let key = owner.create_api_key("ws").await;
    let widget = owner.create_widget("Shop").await;
    let mut operators = operator_socket(&app, &key).await;
    let visitor = app.start_conversation(&widget).await;
    until(&mut operators, "conversation_created").await;
    let path = format!(
        "/api/v1/widget/conversations/{}/ws?token={}",
        visitor.conversation_id, visitor.token
    );
    let mut feed = connect(&app, &path, &[]).await.unwrap();

    // Up to 20,000 typing frames as fast as the socket takes them, until the server hangs up.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut sent = 0;
    while sent < 20_000 && tokio::time::Instant::now() < deadline {
        let frame = json!({"type": "typing", "typing": sent % 2 == 0}).to_string();
        if feed.send(Frame::Text(frame.into())).await.is_err() {
            break;
        }
        sent += 1;
    }
    let closed = tokio::time::timeout_at(deadline, async {
        loop {
            match feed.next().await {
                Some(Ok(Frame::Close(close))) => return close.map(|c| u16::from(c.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the server closes a flooding socket");
    assert!(closed.is_none() || closed == Some(1008), "closed with {closed:?}");

    // The operator heard a handful of typing events at most, and no resync; a message sent
    // afterwards marks the end of what the flood could have caused.
    owner
        .post(
            format!("/api/v1/conversations/{}/messages", visitor.conversation_id),
            json!({"text": "hi"}),
        )
        .await;
    let mut typing = 0;
    loop {
        let event = next(&mut operators).await;
        assert_ne!(event["type"], "resync");
        match event["type"].as_str() {
            Some("typing") => typing += 1,
            Some("message_created") => break,
            _ => {}
        }
    }
    assert!((1..=3).contains(&typing), "{typing} typing events from {sent} frames");
}
