//! Planted secrets must not come back in any API answer, nor sit in the database in plaintext.

use reqwest::StatusCode;
use serde_json::json;

use crate::backend;
use crate::support::{TestApp, api_connection};

#[tokio::test]
async fn planted_secrets_appear_in_no_answer_and_nowhere_in_the_database() {
    let backend = backend::start().await;
    for app in TestApp::every_backend_allowing(&[backend.addr()]).await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let planted = |field: &str| format!("PLANTED-{field}-{}", app.backend);
        let mut answers = Vec::new();
        for (i, auth) in backend::planted_auths(&backend.url(), planted).into_iter().enumerate() {
            let (status, created) = owner
                .post("/api/v1/connections", api_connection(&format!("c{i}"), &backend.url(), auth))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{created}");
            let id = created["data"]["id"].as_str().unwrap().to_owned();
            answers.push(created);
            answers.push(owner.get(&format!("/api/v1/connections/{id}")).await.1);
            answers.push(
                owner
                    .patch(
                        &format!("/api/v1/connections/{id}"),
                        json!({"name": format!("renamed {i}")}),
                    )
                    .await
                    .1,
            );
            answers.push(owner.post(&format!("/api/v1/connections/{id}/test"), json!({})).await.1);
            let endpoint =
                json!({"name": format!("ep{i}"), "method": "GET", "path": "/orders/{id}"});
            let (_, ep) =
                owner.post(&format!("/api/v1/connections/{id}/endpoints"), endpoint).await;
            answers.push(
                owner
                    .post(
                        &format!("/api/v1/endpoints/{}/test", ep["data"]["id"].as_str().unwrap()),
                        json!({"variables": {"id": "4521"}}),
                    )
                    .await
                    .1,
            );
            answers.push(ep);
        }
        answers.push(owner.get("/api/v1/connections").await.1);
        let everything = answers.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        let database = app.database_text().await;
        assert!(database.contains("sb1:"), "sealed values are stored ({})", app.backend);
        for field in ["header-key", "query-key", "token", "password", "client-secret"] {
            let secret = planted(field);
            assert!(!everything.contains(&secret), "{secret} came back in an API answer");
            assert!(
                !database.contains(&secret),
                "{secret} is in the {} database in plaintext",
                app.backend
            );
        }
    }
}
