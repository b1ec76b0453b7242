//! Another tenant's objects are simply not found, whichever credential asks.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_error};

#[tokio::test]
async fn another_tenants_objects_answer_404_by_session_and_by_api_key() {
    for app in TestApp::every_backend().await {
        let alice = app.signup("Alpha", "alice@alpha.test").await;
        let operator = alice.create_user("op@alpha.test", "operator").await;
        let (_, team) = alice
            .post("/api/v1/teams", json!({ "name": "Support", "member_ids": [operator] }))
            .await;
        let team = team["data"]["id"].as_str().unwrap().to_owned();
        alice.create_api_key("alpha-ci").await;
        let (_, keys) = alice.get("/api/v1/api-keys").await;
        let key_id = keys["data"][0]["id"].as_str().unwrap().to_owned();

        let bob_session = app.signup("Beta", "bob@beta.test").await;
        let bob_key = bob_session.create_api_key("beta-ci").await;
        let bob_by_key = app.with_api_key(&bob_key);

        for bob in [&bob_session, &bob_by_key] {
            let not_found =
                |answer| assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
            not_found(bob.get(&format!("/api/v1/users/{operator}")).await);
            not_found(bob.get(&format!("/api/v1/teams/{team}")).await);
            not_found(bob.patch(&format!("/api/v1/teams/{team}"), json!({ "name": "Mine" })).await);
            not_found(bob.delete(&format!("/api/v1/teams/{team}")).await);
            not_found(bob.delete(&format!("/api/v1/api-keys/{key_id}")).await);

            // Lists show only the caller's tenant.
            let (_, users) = bob.get("/api/v1/users").await;
            assert!(!users.to_string().contains("alpha.test"), "{users}");
            let (_, teams) = bob.get("/api/v1/teams").await;
            assert!(!teams.to_string().contains(&team), "{teams}");

            // Referencing another tenant's user is refused like an unknown one.
            let answer = bob
                .post("/api/v1/teams", json!({ "name": "Steal", "member_ids": [operator] }))
                .await;
            assert_error(
                &answer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_user",
                Some("member_ids[0]"),
            );
        }

        // Nothing of Alpha's changed.
        let (status, still) = alice.get(&format!("/api/v1/teams/{team}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(still["data"]["name"], "Support");
        assert_eq!(alice.get("/api/v1/api-keys").await.1["data"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn malformed_ids_are_not_found() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    for path in [
        "/api/v1/teams/nonsense",
        "/api/v1/teams/usr_01jd00000000000000000000000",
        "/api/v1/users/ten_x",
    ] {
        assert_error(&owner.get(path).await, StatusCode::NOT_FOUND, "not_found", None);
    }
}
