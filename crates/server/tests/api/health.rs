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
        // One account's answers are neither kept by caches nor type-sniffed.
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");

        let metrics = http().get(format!("{}/metrics", app.base)).send().await.unwrap();
        assert_eq!(metrics.status(), StatusCode::OK);
        let text = metrics.text().await.unwrap();
        assert!(text.contains("http_requests_total"), "{text}");
        assert!(text.contains("route=\"/api/v1/me\""), "routes are labelled by template: {text}");
    }
}

#[tokio::test]
async fn the_widget_and_dashboard_are_served_from_the_binary() {
    let app = TestApp::sqlite().await;
    let widget = http().get(format!("{}/widget.js", app.base)).send().await.unwrap();
    assert_eq!(widget.status(), StatusCode::OK);
    assert!(widget.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let etag = widget.headers()["etag"].to_str().unwrap().to_owned();
    assert!(widget.text().await.unwrap().contains("attachShadow"));
    let again = http()
        .get(format!("{}/widget.js", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let page = http().get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.text().await.unwrap().contains("/app/app.js"));
    assert_eq!(
        http().get(format!("{}/app/style.css", app.base)).send().await.unwrap().status(),
        StatusCode::OK
    );
    // Every module the dashboard imports, followed from app.js, is served as JavaScript.
    let mut pending = vec!["app.js".to_owned()];
    let mut served = std::collections::BTreeSet::new();
    while let Some(module) = pending.pop() {
        if !served.insert(module.clone()) {
            continue;
        }
        let answer = http().get(format!("{}/app/{module}", app.base)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{module}");
        assert!(answer.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
        let source = answer.text().await.unwrap();
        pending.extend(
            source
                .split("from \"./")
                .skip(1)
                .filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_owned())),
        );
    }
    assert!(served.len() >= 10, "{served:?}");
}
