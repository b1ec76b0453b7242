//! `switchboard keys rotate`: stored credentials move to a new master key and keep working.

use reqwest::StatusCode;
use serde_json::json;

use crate::backend::{self, BEARER};
use crate::support::{TestApp, api_connection};

#[tokio::test]
async fn rotation_reseals_every_credential_under_the_new_key() {
    let backend = backend::start().await;
    let keys = tempfile::tempdir().unwrap();
    let old_key = keys.path().join("old.key");
    let new_key = keys.path().join("new.key");
    let allow = vec![backend.addr().to_string()];
    std::fs::write(&old_key, "22".repeat(32)).unwrap();
    let old_key_file = old_key.display().to_string();
    let app = TestApp::sqlite_with(|c| {
        c.security.ssrf_allow = allow.clone();
        c.security.master_key_file = old_key_file.clone();
    })
    .await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let auth = json!({"type": "bearer", "token": BEARER});
    let id = owner.create_connection(api_connection("Shop", &backend.url(), auth)).await;
    let before = app.database_text().await;

    let report = switchboard::rotate_keys(&app.config, &new_key).await.unwrap();
    assert_eq!((report.resealed, report.already_current, report.unreadable.len()), (1, 0, 0));
    let after = app.database_text().await;
    assert_ne!(before, after);
    let again = switchboard::rotate_keys(&app.config, &new_key).await.unwrap();
    assert_eq!((again.resealed, again.already_current), (0, 1), "rotating twice changes nothing");

    // A server with only the new key opens the credential; one with only the old key cannot.
    let db = app.config.database.url.clone();
    let new_key_file = new_key.display().to_string();
    let (rotated, stale) = (db.clone(), db);
    let with_new = TestApp::sqlite_with(|c| {
        c.database.url = rotated.clone();
        c.security.ssrf_allow = allow.clone();
        c.security.master_key_file = new_key_file.clone();
    })
    .await;
    let owner_new = with_new.login("owner@acme.test", crate::support::PASSWORD).await;
    let (status, tested) =
        owner_new.post(&format!("/api/v1/connections/{id}/test"), json!({})).await;
    assert_eq!((status, tested["data"]["ok"].clone()), (StatusCode::OK, json!(true)), "{tested}");

    let old_key_file = old_key.display().to_string();
    let with_old = TestApp::sqlite_with(|c| {
        c.database.url = stale.clone();
        c.security.master_key_file = old_key_file.clone();
    })
    .await;
    let owner_old = with_old.login("owner@acme.test", crate::support::PASSWORD).await;
    let (status, body) = owner_old.post(&format!("/api/v1/connections/{id}/test"), json!({})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(!body.to_string().contains(BEARER));
}
