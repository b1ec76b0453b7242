use reqwest::StatusCode;
use serde_json::json;

use crate::support::{PASSWORD, TestApp, assert_error};

#[tokio::test]
async fn roles_decide_who_may_create_whom() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let admin_id = owner.create_user("admin@acme.test", "admin").await;
        owner.create_user("op@acme.test", "operator").await;
        owner.create_user("owner2@acme.test", "owner").await;

        let admin = app.login("admin@acme.test", PASSWORD).await;
        admin.create_user("op2@acme.test", "operator").await;
        let body = json!({ "email": "boss@acme.test", "password": PASSWORD, "role": "owner" });
        assert_error(
            &admin.post("/api/v1/users", body).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        );

        let operator = app.login("op@acme.test", PASSWORD).await;
        let body = json!({ "email": "x@acme.test", "password": PASSWORD, "role": "operator" });
        assert_error(
            &operator.post("/api/v1/users", body).await,
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        );
        let body = json!({ "email": "x@acme.test", "password": PASSWORD, "role": "root" });
        assert_error(
            &owner.post("/api/v1/users", body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("role"),
        );

        // Operators can still see their teammates.
        let (status, users) = operator.get("/api/v1/users?limit=2").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(users["data"].as_array().unwrap().len(), 2);
        let cursor = users["next"].as_str().expect("more users than one page").to_owned();
        let (_, rest) = operator.get(&format!("/api/v1/users?limit=2&cursor={cursor}")).await;
        let (_, all) = operator.get("/api/v1/users").await;
        assert_eq!(all["data"].as_array().unwrap().len(), 5);
        assert_eq!(rest["data"][0], all["data"][2], "pages continue where the last ended");
        let (_, shown) = operator.get(&format!("/api/v1/users/{admin_id}")).await;
        assert_eq!(shown["data"]["email"], "admin@acme.test");
    }
}

#[tokio::test]
async fn teams_can_be_created_renamed_restaffed_and_deleted() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let ann = owner.create_user("ann@acme.test", "operator").await;
        let bob = owner.create_user("bob@acme.test", "operator").await;

        let (status, team) = owner
            .post("/api/v1/teams", json!({ "name": "Tier 1", "member_ids": [ann, ann] }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{team}");
        assert_eq!(team["data"]["member_ids"], json!([ann]), "repeated members are folded");
        let id = team["data"]["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("team_"));

        let path = format!("/api/v1/teams/{id}");
        let (status, patched) = owner.patch(&path, json!({ "member_ids": [bob, ann] })).await;
        assert_eq!(status, StatusCode::OK, "{patched}");
        let mut expected = vec![ann.clone(), bob.clone()];
        expected.sort();
        assert_eq!(patched["data"]["member_ids"], json!(expected));
        assert_eq!(patched["data"]["name"], "Tier 1");

        let (_, renamed) = owner.patch(&path, json!({ "name": "Tier 2" })).await;
        assert_eq!(renamed["data"]["name"], "Tier 2");
        assert_eq!(renamed["data"]["member_ids"], json!(expected), "members survive a rename");

        assert_error(
            &owner.post("/api/v1/teams", json!({ "name": "Tier 2" })).await,
            StatusCode::CONFLICT,
            "name_taken",
            Some("name"),
        );
        assert_error(
            &owner.patch(&path, json!({ "member_ids": [ann, "usr_nope"] })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("member_ids[1]"),
        );
        let operator = app.login("ann@acme.test", PASSWORD).await;
        assert_error(&operator.delete(&path).await, StatusCode::FORBIDDEN, "forbidden", None);
        assert_eq!(operator.get(&path).await.0, StatusCode::OK);

        assert_eq!(owner.delete(&path).await.0, StatusCode::OK);
        assert_error(&owner.get(&path).await, StatusCode::NOT_FOUND, "not_found", None);
    }
}
