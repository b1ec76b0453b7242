//! Files in conversations: sent by visitors and operators, typed by their content, limited per
//! account, and served only to that conversation's visitor and the account's people — pictures
//! inline, anything else as a download that no browser runs.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Client, TestApp, assert_error};

/// The smallest valid PNG: a 1×1 transparent pixel.
pub const PIXEL: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\x01\0\x18\xdd\x8d\xb0\0\0\0\0IEND\xaeB`\x82";

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn files_reach_only_their_conversation_and_never_run_in_a_browser() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        let visitor = app.start_conversation(&widget).await;

        // The visitor's picture, with words: the message lists it at the visitor's address.
        let (status, sent) = visitor.upload(&[("../photo of it.png", PIXEL)], Some("broken")).await;
        assert_eq!(status, StatusCode::CREATED, "{sent}");
        let file = &sent["data"]["attachments"][0];
        assert_eq!(
            (file["name"].as_str(), file["content_type"].as_str()),
            (Some("photo of it.png"), Some("image/png"))
        );
        assert_eq!(file["size"], PIXEL.len());
        assert_eq!(sent["data"]["text"], "broken");
        let url = file["url"].as_str().unwrap();
        assert_eq!(url, visitor.path(&format!("/attachments/{}", file["id"].as_str().unwrap())));
        let (status, headers, bytes) = visitor.download(url).await;
        assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PIXEL));
        assert_eq!(header(&headers, "content-type"), "image/png");
        assert!(header(&headers, "content-disposition").starts_with("inline;"));
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");

        // The team reads it at its own address.
        let path = format!("/api/v1/conversations/{}/messages", visitor.conversation_id);
        let (_, messages) = owner.get(&path).await;
        let messages = messages["data"].as_array().unwrap();
        let listed =
            &messages.iter().find(|m| m["attachments"].is_array()).unwrap()["attachments"][0];
        let staff_url = listed["url"].as_str().unwrap();
        assert!(staff_url.starts_with(&format!(
            "/api/v1/conversations/{}/attachments/",
            visitor.conversation_id
        )));
        let (status, _, bytes) =
            owner.download(owner.request(reqwest::Method::GET, staff_url)).await;
        assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PIXEL));

        // An operator's text file: the visitor gets it as a download, never as a page.
        let (status, reply) =
            owner.upload(&visitor.conversation_id, &[("steps.txt", b"1. Unplug it\n")], None).await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        assert_eq!(reply["data"]["author"], "operator");
        let theirs = visitor.messages().await;
        let text_file = &theirs.last().unwrap()["attachments"][0];
        let (status, headers, _) = visitor.download(text_file["url"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-type"), "text/plain; charset=utf-8");
        assert_eq!(
            header(&headers, "content-disposition"),
            "attachment; filename=\"steps.txt\"; filename*=UTF-8''steps.txt"
        );
        assert!(header(&headers, "content-security-policy").contains("sandbox"));

        // Nobody else: another visitor (even naming the file through their own conversation),
        // another account.
        let stranger = app.start_conversation(&widget).await;
        let file_id = file["id"].as_str().unwrap();
        let (status, _, _) =
            stranger.download(&stranger.path(&format!("/attachments/{file_id}"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let request =
            stranger.client.request(reqwest::Method::GET, url).bearer_auth(&stranger.token);
        let (status, _, _) = stranger.client.download(request).await;
        assert!(matches!(status, StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND), "{status}");
        let rival = app.signup("Rival", "owner@rival.test").await;
        let (status, _, _) = rival.download(rival.request(reqwest::Method::GET, staff_url)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = rival.upload(&visitor.conversation_id, &[("a.txt", b"hi")], None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn files_are_limited_by_size_and_by_what_they_are() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget = owner.create_widget("Shop").await;
        let visitor = app.start_conversation(&widget).await;
        // A page named like a picture is refused for what it is.
        let disguised =
            visitor.upload(&[("cat.png", b"<html><script>alert(1)</script>")], None).await;
        assert_error(
            &disguised,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "type_not_allowed",
            Some("file"),
        );
        let binary = visitor.upload(&[("tool.exe", b"MZ\x90\0\x03\0\0\0")], None).await;
        assert_error(&binary, StatusCode::UNSUPPORTED_MEDIA_TYPE, "type_not_allowed", Some("file"));

        // The account's own limits.
        let policy =
            json!({"attachments": {"max_bytes": 1024, "types": ["image/png", "image/svg+xml"]}});
        let (status, tenant) = owner.patch("/api/v1/tenant", policy).await;
        assert_eq!(status, StatusCode::OK, "{tenant}");
        assert_eq!(tenant["data"]["attachments"]["max_bytes"], 1024);
        let big = [b'a'; 2048];
        assert_error(
            &visitor.upload(&[("big.txt", &big)], None).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            Some("file"),
        );
        let text = visitor.upload(&[("a.txt", b"plain words")], None).await;
        assert_error(&text, StatusCode::UNSUPPORTED_MEDIA_TYPE, "type_not_allowed", Some("file"));
        // An allowed SVG is still never shown inline: it can carry script.
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
        let (status, sent) = visitor.upload(&[("logo.svg", svg)], None).await;
        assert_eq!(status, StatusCode::CREATED, "{sent}");
        let (_, headers, _) =
            visitor.download(sent["data"]["attachments"][0]["url"].as_str().unwrap()).await;
        assert_eq!(header(&headers, "content-type"), "image/svg+xml");
        assert!(header(&headers, "content-disposition").starts_with("attachment;"));

        // Bad forms say what is wrong; none stores anything.
        let before = visitor.messages().await.len();
        let none = visitor.upload(&[], Some("only words")).await;
        assert_error(&none, StatusCode::UNPROCESSABLE_ENTITY, "required", Some("file"));
        let six: Vec<(&str, &[u8])> =
            (0..6).map(|_| ("p.png", crate::attachments::PIXEL)).collect();
        assert_error(
            &visitor.upload(&six, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many",
            Some("file"),
        );
        let request =
            visitor.request(reqwest::Method::POST, "/attachments").json(&json!({"file": "x"}));
        let as_json = visitor.client.send(request).await;
        assert_error(&as_json, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", None);
        assert_eq!(visitor.messages().await.len(), before, "refused uploads leave nothing");

        let unknown = json!({"attachments": {"max_bytes": 10, "types": ["application/x-sh"]}});
        let refused = owner.patch("/api/v1/tenant", unknown).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_type",
            Some("attachments.types[0]"),
        );
        let huge = json!({"attachments": {"max_bytes": 100_000_000, "types": []}});
        let refused = owner.patch("/api/v1/tenant", huge).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
            Some("attachments.max_bytes"),
        );
        owner.create_user("ops@acme.test", "operator").await;
        let ops = app.login("ops@acme.test", crate::support::PASSWORD).await;
        let (status, _) = ops
            .patch("/api/v1/tenant", json!({"attachments": {"max_bytes": 10, "types": []}}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "admins set what files are taken");
    }
}

/// A file alone waits for the team; a caption is handled like any message.
#[tokio::test]
async fn a_file_without_words_does_not_wake_the_assistant() {
    let app = TestApp::sqlite().await;
    let owner: Client = app.signup("Acme", "owner@acme.test").await;
    let widget = owner.create_widget("Shop").await;
    owner
        .create_rule(json!({"name": "Any", "trigger": {"type": "any"},
            "actions": [{"type": "REPLY_TEXT", "text": "Got it."}]}))
        .await;
    let visitor = app.start_conversation(&widget).await;
    visitor.upload(&[("p.png", PIXEL)], None).await;
    visitor.upload(&[("p.png", PIXEL)], Some("here it is")).await;
    // Handled in order: once the answer to a later message is there, any answer to the files
    // would be too.
    assert_eq!(visitor.say("and now?").await, ["Got it."]);
    let texts = |messages: Vec<serde_json::Value>| -> Vec<String> {
        messages.iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect()
    };
    let mut said = texts(visitor.messages().await);
    // The reply to the caption is stored when it is ready, maybe after the next message.
    said.sort();
    assert_eq!(
        said,
        ["", "Got it.", "Got it.", "and now?", "here it is"],
        "only words got an answer"
    );
    // A file into a closed conversation opens it again, as a message would.
    let close = format!("/api/v1/conversations/{}/close", visitor.conversation_id);
    assert_eq!(owner.post(&close, json!({})).await.0, StatusCode::OK);
    assert_eq!(visitor.upload(&[("p.png", PIXEL)], None).await.0, StatusCode::CREATED);
    assert_eq!(owner.conversation(&visitor.conversation_id).await["status"], "open");
    assert_eq!(visitor.say("still there?").await, ["Got it."], "one answer, to the words");
}
