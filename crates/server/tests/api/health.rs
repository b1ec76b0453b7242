use reqwest::StatusCode;

use crate::support::{TestApp, http};

#[tokio::test]
async fn health_metrics_and_request_ids() {
    for app in TestApp::every_backend().await {
        let response = http().get(format!("{}/healthz", app.base)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(request_id.starts_with("req_"), "{request_id}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["store"], app.backend);

        // A plain client-supplied id is kept for correlation across systems.
        let response = http()
            .get(format!("{}/api/v1/me", app.base))
            .header("x-request-id", "trace-42")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-request-id"], "trace-42");

        let metrics = http().get(format!("{}/metrics", app.base)).send().await.unwrap();
        assert_eq!(metrics.status(), StatusCode::OK);
        let text = metrics.text().await.unwrap();
        assert!(text.contains("http_requests_total"), "{text}");
        assert!(text.contains("route=\"/api/v1/me\""), "routes are labelled by template: {text}");
    }
}
