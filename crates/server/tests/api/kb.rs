//! The knowledge base over the API: documents, URL import through the safe client, search,
//! widget limits, tenant isolation, and the index rebuilt from the store.

use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode as AxumStatus, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, TestApp, assert_error};

pub const RETURNS: &str = "# Returns\nYou can return any unused item within 30 days of delivery. \
    Refunds reach your card within five business days.\n\n# Shipping\nOrders ship the next \
    business day; delivery in the EU takes three to five days.";

/// Waits until the document is no longer processing; returns it.
pub async fn settled(owner: &Client, id: &str) -> Value {
    for _ in 0..100 {
        let (status, body) = owner.get(format!("/api/v1/kb/documents/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["data"]["status"] != "processing" {
            return body["data"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("document {id} is still processing");
}

pub async fn add_document(owner: &Client, body: Value) -> Value {
    let (status, created) = owner.post("/api/v1/kb/documents", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    settled(owner, created["data"]["id"].as_str().unwrap()).await
}

async fn search(client: &Client, query: &str) -> Vec<Value> {
    let (status, body) = client.get(format!("/api/v1/kb/search?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

fn titles(hits: &[Value]) -> Vec<&str> {
    hits.iter().map(|h| h["title"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn documents_are_processed_searched_changed_and_deleted() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let document = add_document(&owner, json!({"title": "Help", "content": RETURNS})).await;
        assert_eq!(document["status"], "ready", "{}: {document}", app.backend);
        assert_eq!(
            (document["chunks"].as_u64(), document["language"].as_str()),
            (Some(2), Some("en"))
        );
        let id = document["id"].as_str().unwrap();

        let hits = search(&owner, "q=how%20long%20can%20I%20return%20an%20item").await;
        assert_eq!(hits[0]["headings"], json!(["Returns"]), "{hits:?}");
        assert!(hits[0]["snippet_html"].as_str().unwrap().contains("<b>return</b>"), "{hits:?}");
        assert!(hits[0]["coverage"].as_f64().unwrap() > 0.5);
        assert_eq!(hits[0]["text_rank"], 1);
        let hits = search(&owner, "q=delivery%20EU&limit=1").await;
        assert_eq!((hits.len(), hits[0]["headings"].clone()), (1, json!(["Shipping"])));

        let (status, shown) = owner.get(format!("/api/v1/kb/documents/{id}")).await;
        assert_eq!((status, shown["data"]["content"].as_str()), (StatusCode::OK, Some(RETURNS)));

        let changed = json!({"content": "Gift cards never expire.", "format": "text"});
        let (status, _) = owner.patch(format!("/api/v1/kb/documents/{id}"), changed).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(settled(&owner, id).await["chunks"], 1);
        assert!(search(&owner, "q=refund").await.is_empty(), "the old passages are gone");
        assert_eq!(titles(&search(&owner, "q=gift%20card").await), ["Help"]);
        let (status, _) =
            owner.patch(format!("/api/v1/kb/documents/{id}"), json!({"title": "Gifts"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            titles(&search(&owner, "q=gift%20card").await),
            ["Gifts"],
            "retitled in the index"
        );

        let (status, listed) = owner.get("/api/v1/kb/documents").await;
        assert_eq!((status, listed["data"].as_array().unwrap().len()), (StatusCode::OK, 1));
        assert!(listed["data"][0].get("content").is_none(), "lists leave the content out");
        let (status, _) = owner.delete(format!("/api/v1/kb/documents/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(search(&owner, "q=gift%20card").await.is_empty());
        let (status, _) = owner.get(format!("/api/v1/kb/documents/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn bad_documents_and_searches_are_refused_naming_the_field() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let post = |body: Value| owner.post("/api/v1/kb/documents", body);
    assert_error(
        &post(json!({"title": "Empty"})).await,
        unprocessable,
        "required",
        Some("content"),
    );
    assert_error(
        &post(json!({"content": "No title"})).await,
        unprocessable,
        "required",
        Some("title"),
    );
    let bad_format = json!({"title": "T", "content": "x", "format": "pdf"});
    assert_error(&post(bad_format).await, unprocessable, "invalid_format", Some("format"));
    let foreign_widget =
        json!({"title": "T", "content": "x", "widget_ids": ["wid_00000000000000000000000000"]});
    assert_error(
        &post(foreign_widget).await,
        unprocessable,
        "unknown_widget",
        Some("widget_ids[0]"),
    );
    for private in [
        "http://10.1.2.3/faq",
        "http://127.0.0.1:9/faq",
        "http://[::1]/",
        "http://metadata.google.internal/",
    ] {
        let body = json!({"title": "T", "url": private});
        assert_error(&post(body).await, unprocessable, "ssrf_blocked", Some("url"));
    }
    assert_error(
        &post(json!({"title": "T", "url": "file:///etc/passwd"})).await,
        unprocessable,
        "invalid_url",
        Some("url"),
    );
    let huge = json!({"title": "T", "content": "x".repeat(2_000_001)});
    let (status, _) = post(huge).await;
    assert!(status == StatusCode::PAYLOAD_TOO_LARGE || status == unprocessable);
    let (status, body) = owner.get("/api/v1/kb/search?q=%20").await;
    assert_error(&(status, body), unprocessable, "invalid_field", Some("q"));
    let (status, body) = owner.get("/api/v1/kb/search?q=x&limit=50").await;
    assert_error(&(status, body), unprocessable, "invalid_field", Some("limit"));
    let operator = {
        owner.create_user("ops@acme.test", "operator").await;
        app.login("ops@acme.test", crate::support::PASSWORD).await
    };
    let (status, _) =
        operator.post("/api/v1/kb/documents", json!({"title": "T", "content": "x"})).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "operators read the knowledge base, admins change it"
    );
    assert!(search(&operator, "q=x").await.is_empty());
}

/// A help site on loopback: an HTML page, a page that redirects to a private address, a
/// missing page and a binary file.
async fn help_site() -> std::net::SocketAddr {
    let page = r#"<html><head><title>Acme help: returns</title></head><body><nav>Home | Shop</nav>
        <main><h1>Returning an item</h1><p>Send unused items back within <b>30 days</b>.</p>
        <h2>Refunds</h2><p>Refunds take five business days.</p></main><footer>© Acme</footer></body></html>"#;
    let router = Router::new()
        .route(
            "/returns",
            get(
                move || async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page) },
            ),
        )
        .route("/moved", get(|| async { Redirect::temporary("http://10.0.0.7/secret") }))
        .route("/gone", get(|| async { AxumStatus::NOT_FOUND }))
        .route(
            "/image",
            get(|| async {
                ([(header::CONTENT_TYPE, "image/png")], vec![0_u8; 16]).into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

#[tokio::test]
async fn pages_are_imported_through_the_safe_client() {
    let site = help_site().await;
    let allow = vec![site.to_string()];
    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = allow.clone()).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let url = |path: &str| format!("http://{site}{path}");

    let imported = add_document(&owner, json!({"url": url("/returns")})).await;
    assert_eq!(imported["status"], "ready", "{imported}");
    assert_eq!(imported["title"], "Acme help: returns", "the page's title");
    assert_eq!(imported["format"], "html");
    let hits = search(&owner, "q=refund").await;
    assert_eq!(hits[0]["headings"], json!(["Returning an item", "Refunds"]));
    let id = imported["id"].as_str().unwrap();
    let (_, shown) = owner.get(format!("/api/v1/kb/documents/{id}")).await;
    assert!(
        shown["data"]["content"].as_str().unwrap().contains("<main>"),
        "the fetched page is kept"
    );
    let (status, refreshed) =
        owner.post(format!("/api/v1/kb/documents/{id}/refresh"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(settled(&owner, id).await["status"], "ready");

    for (path, error) in
        [("/moved", "ssrf_blocked"), ("/gone", "fetch_failed"), ("/image", "unsupported_content")]
    {
        let failed = add_document(&owner, json!({"title": path, "url": url(path)})).await;
        assert_eq!(failed["status"], "failed", "{failed}");
        assert!(failed["error"].as_str().unwrap().starts_with(error), "{path}: {failed}");
    }
    let (status, body) =
        owner.post("/api/v1/kb/documents/doc_00000000000000000000000000/refresh", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let typed = add_document(&owner, json!({"title": "Typed", "content": "No url here."})).await;
    let (status, body) = owner
        .post(format!("/api/v1/kb/documents/{}/refresh", typed["id"].as_str().unwrap()), json!({}))
        .await;
    assert_error(&(status, body), StatusCode::UNPROCESSABLE_ENTITY, "no_url", Some("url"));
}

#[tokio::test]
async fn widgets_see_their_documents_and_tenants_only_their_own() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let shop = owner.create_widget("Shop").await;
    let outlet = owner.create_widget("Outlet").await;
    add_document(&owner, json!({"title": "Everyone", "content": "Returns are free."})).await;
    add_document(&owner, json!({"title": "Outlet only", "content": "Outlet returns cost 5 EUR.", "widget_ids": [outlet]})).await;
    let mut both = titles(&search(&owner, "q=returns").await)
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    both.sort();
    assert_eq!(both, ["Everyone", "Outlet only"]);
    assert_eq!(titles(&search(&owner, &format!("q=returns&widget_id={shop}")).await), ["Everyone"]);
    assert_eq!(
        search(&owner, &format!("q=returns%20outlet&widget_id={outlet}")).await[0]["title"],
        "Outlet only"
    );

    let rival = app.signup("Rival", "owner@rival.test").await;
    assert!(search(&rival, "q=returns").await.is_empty());
    add_document(&rival, json!({"title": "Rival returns", "content": "Returns within 10 days."}))
        .await;
    assert!(!titles(&search(&owner, "q=returns").await).contains(&"Rival returns"));
    let (_, mine) = owner.get("/api/v1/kb/documents").await;
    let id = mine["data"][0]["id"].as_str().unwrap();
    for (status, _) in [
        rival.get(format!("/api/v1/kb/documents/{id}")).await,
        rival.patch(format!("/api/v1/kb/documents/{id}"), json!({"title": "Mine"})).await,
        rival.delete(format!("/api/v1/kb/documents/{id}")).await,
    ] {
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_missing_index_is_rebuilt_from_the_store() {
    let mut first = TestApp::sqlite().await;
    let owner = first.signup("Acme", "owner@acme.test").await;
    add_document(&owner, json!({"title": "Help", "content": RETURNS})).await;
    let database = first.config.database.url.clone();
    let key = first.config.security.master_key_file.clone();
    let index = first.config.kb_index_dir().unwrap().unwrap();
    let keep_dir = first.keep_dir();
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::remove_dir_all(&index).unwrap();
    let second = TestApp::sqlite_with(|c| {
        c.database.url = database.clone();
        c.security.master_key_file = key.clone();
    })
    .await;
    let owner = second.login("owner@acme.test", crate::support::PASSWORD).await;
    assert_eq!(titles(&search(&owner, "q=refunds").await), ["Help"]);
    assert!(index.is_dir(), "the index is back on disk");
    drop(keep_dir);
}

#[tokio::test]
async fn files_in_a_data_folder_that_already_existed_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let outer = tempfile::tempdir().unwrap();
    let data = outer.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let url = format!("sqlite://{}/switchboard.db", data.display());
    let app = TestApp::sqlite_with(|c| c.database.url = url.clone()).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    add_document(&owner, json!({"title": "Help", "content": RETURNS})).await;
    let mut pending = vec![data.clone()];
    let mut seen = 0;
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
            seen += 1;
            if path.is_dir() {
                pending.push(path);
            }
        }
    }
    assert!(
        data.join("kb-index").is_dir() && seen > 5,
        "the index is in the folder ({seen} files)"
    );
}
