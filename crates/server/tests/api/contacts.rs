//! Contacts: a visitor seen again — the same signed user, or the same browser — is one contact
//! with a profile and a history; another person on that browser is not; the account's people
//! correct the profile and keep attributes; every contact is its account's alone.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, TestApp, assert_error};

const SECRET: &str = "a-widget-identity-secret-of-enough-length";
const BROWSER: &str = "0f6b5c1e-2f5a-4d8e-9c3b-7a1d2e3f4a5b";

async fn contact_of(owner: &Client, conversation: &str) -> Value {
    let id = owner.conversation(conversation).await["contact_id"].as_str().unwrap().to_owned();
    let (status, contact) = owner.get(format!("/api/v1/contacts/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{contact}");
    contact["data"].clone()
}

#[tokio::test]
async fn a_returning_visitor_is_one_contact_with_a_history() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let widget =
            owner.create_widget_with(json!({"name": "Shop", "identity_secret": SECRET})).await;
        let signed = |user: &str, name: &str| json!({"user_id": user, "user_hash": sb_engine::user_hash(SECRET, user), "name": name});

        // The same browser, twice, anonymous: one contact, with both conversations.
        let first =
            app.start_conversation_as(&widget, json!({"browser_id": BROWSER, "name": "Ann"})).await;
        first.say("hello").await;
        let again = app
            .start_conversation_as(&widget, json!({"browser_id": BROWSER, "language": "de"}))
            .await;
        let ann = contact_of(&owner, &first.conversation_id).await;
        assert_eq!(contact_of(&owner, &again.conversation_id).await["id"], ann["id"]);
        assert_eq!(
            (&ann["name"], &ann["language"], &ann["verified"]),
            (&json!("Ann"), &json!("de"), &json!(false))
        );
        let (_, history) = owner
            .get(format!("/api/v1/contacts/{}/conversations", ann["id"].as_str().unwrap()))
            .await;
        let ids: Vec<&str> =
            history["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [again.conversation_id.as_str(), first.conversation_id.as_str()]);

        // She signs in on that browser: the same contact, now verified; signed again elsewhere,
        // still her.
        let signed_in = app.start_conversation_as(&widget, json!({"browser_id": BROWSER, "user_id": "cust-9", "user_hash": sb_engine::user_hash(SECRET, "cust-9"), "name": "Ann Smith"})).await;
        let verified = contact_of(&owner, &signed_in.conversation_id).await;
        assert_eq!(verified["id"], ann["id"]);
        assert_eq!(
            (&verified["user_id"], &verified["verified"], &verified["name"]),
            (&json!("cust-9"), &json!(true), &json!("Ann Smith"))
        );
        let elsewhere = app.start_conversation_as(&widget, signed("cust-9", "Ann S.")).await;
        assert_eq!(contact_of(&owner, &elsewhere.conversation_id).await["id"], ann["id"]);
        // Unsigned on that browser now (a shared computer): not her, and her profile stays.
        let typed = app
            .start_conversation_as(&widget, json!({"browser_id": BROWSER, "name": "Mallory"}))
            .await;
        let unsigned = contact_of(&owner, &typed.conversation_id).await;
        assert_ne!(unsigned["id"], ann["id"]);
        assert_eq!((&unsigned["name"], &unsigned["verified"]), (&json!("Mallory"), &json!(false)));
        let path = format!("/api/v1/contacts/{}", ann["id"].as_str().unwrap());
        assert_eq!(owner.get(&path).await.1["data"]["name"], "Ann S.");

        // Someone else signs in on the same browser: another contact. Strangers without a
        // browser id are new every time.
        let bob = app.start_conversation_as(&widget, json!({"browser_id": BROWSER, "user_id": "cust-10", "user_hash": sb_engine::user_hash(SECRET, "cust-10")})).await;
        assert_ne!(contact_of(&owner, &bob.conversation_id).await["id"], ann["id"]);
        let (x, y) = (app.start_conversation(&widget).await, app.start_conversation(&widget).await);
        assert_ne!(
            contact_of(&owner, &x.conversation_id).await["id"],
            contact_of(&owner, &y.conversation_id).await["id"]
        );
        let (status, body) = app
            .anonymous()
            .post(
                format!("/api/v1/widget/{widget}/conversations"),
                json!({"visitor": {"browser_id": "short"}}),
            )
            .await;
        assert_error(
            &(status, body),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_browser_id",
            Some("visitor.browser_id"),
        );

        // Search, correct, keep attributes.
        let (_, found) = owner.get("/api/v1/contacts?q=CUST-9").await;
        assert_eq!(found["data"].as_array().unwrap().len(), 1, "{found}");
        assert_eq!(found["data"][0]["id"], ann["id"]);
        let path = format!("/api/v1/contacts/{}", ann["id"].as_str().unwrap());
        let (status, patched) = owner
            .patch(
                &path,
                json!({"attributes": {"plan": "gold", "orders": 3}, "email": "ann@example.com"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{patched}");
        let (_, patched) =
            owner.patch(&path, json!({"attributes": {"orders": null}, "language": null})).await;
        assert_eq!(patched["data"]["attributes"], json!({"plan": "gold"}));
        assert_eq!(
            (&patched["data"]["email"], &patched["data"]["language"]),
            (&json!("ann@example.com"), &Value::Null)
        );
        // Her next visit brings her details up to date and leaves the attributes alone.
        let visit = app.start_conversation_as(&widget, signed("cust-9", "Ann Smith-Jones")).await;
        let visited = contact_of(&owner, &visit.conversation_id).await;
        assert_eq!(
            (&visited["name"], &visited["attributes"]),
            (&json!("Ann Smith-Jones"), &json!({"plan": "gold"}))
        );
        let bad = owner.patch(&path, json!({"email": "not an address"})).await;
        assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_email", Some("email"));
        let big = owner.patch(&path, json!({"attributes": {"notes": "x".repeat(17 * 1024)}})).await;
        assert_error(&big, StatusCode::UNPROCESSABLE_ENTITY, "too_large", Some("attributes"));
        let signed_fields = owner.patch(&path, json!({"verified": false})).await;
        assert_error(
            &signed_fields,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            Some("verified"),
        );

        let stranger = app.signup("Beta", "bob@beta.test").await;
        let (status, _) = stranger.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = stranger.get(format!("{path}/conversations")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, theirs) = stranger.get("/api/v1/contacts").await;
        assert_eq!(theirs["data"], json!([]));
    }
}
