//! `POST /connections/{id}/import-openapi`: endpoints from an OpenAPI document given in the
//! request (object or JSON/YAML text) or fetched from a URL the SSRF rules allow; a dry run
//! stores nothing; re-importing skips what exists; errors name the field.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, PASSWORD, TestApp, assert_error};

const SPEC_YAML: &str = r#"
openapi: 3.0.3
info: {title: Pets, version: "1"}
servers:
  - url: https://pets.example.com/v1
paths:
  /pets/{petId}:
    get:
      operationId: getPet
      summary: Find a pet by its id
      parameters:
        - name: petId
          in: path
          required: true
          description: The pet's id
          schema: {type: integer}
  /pets:
    post:
      operationId: addPet
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
    options:
      operationId: petsOptions
  /pets/{petId}/photo:
    put:
      operationId: uploadPhoto
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: {type: object}
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string, description: The pet's name}
        kind: {type: string, enum: [cat, dog]}
"#;

fn spec() -> Value {
    yaml_to_json(SPEC_YAML)
}

/// The YAML above as JSON, through the same parser the server uses.
fn yaml_to_json(text: &str) -> Value {
    sb_connectors::openapi::parse_text(text).unwrap()
}

async fn connection(owner: &Client, base_url: &str) -> String {
    let (status, created) =
        owner.post("/api/v1/connections", json!({"name": base_url, "base_url": base_url})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["data"]["id"].as_str().unwrap().to_owned()
}

fn import_path(connection: &str) -> String {
    format!("/api/v1/connections/{connection}/import-openapi")
}

fn operations(list: &Value) -> Vec<String> {
    let mut found: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap().to_owned())
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn imports_create_endpoints_report_skips_and_are_idempotent() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let pets = connection(&owner, "https://pets.example.com/v1").await;
    let endpoints = format!("/api/v1/connections/{pets}/endpoints");

    // A dry run shows what would be created, and creates nothing.
    let (status, preview) =
        owner.post(import_path(&pets), json!({"spec": spec(), "dry_run": true})).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let preview = &preview["data"];
    assert_eq!(preview["dry_run"], true);
    assert_eq!(preview["openapi"], "3.0");
    assert_eq!(preview["title"], "Pets");
    assert_eq!(preview["servers"], json!(["https://pets.example.com/v1"]));
    assert_eq!(operations(&preview["created"]), ["GET /pets/{petId}", "POST /pets"]);
    assert!(preview["created"].as_array().unwrap().iter().all(|e| e["id"].is_null()));
    assert_eq!(operations(&preview["skipped"]), ["OPTIONS /pets", "PUT /pets/{petId}/photo"]);
    assert!(owner.get(&endpoints).await.1["data"].as_array().unwrap().is_empty());

    // The real import, from YAML text, for the AI to use.
    let (status, imported) =
        owner.post(import_path(&pets), json!({"spec": SPEC_YAML, "ai_tool": true})).await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    let imported = &imported["data"];
    assert_eq!(imported["dry_run"], false);
    assert_eq!(imported["created"].as_array().unwrap().len(), 2, "{imported}");
    let skipped = imported["skipped"].as_array().unwrap();
    let reason = |op: &str| {
        skipped.iter().find(|s| s["operation"] == op).unwrap()["reason"].as_str().unwrap()
    };
    assert!(reason("OPTIONS /pets").contains("not a method"));
    assert!(reason("PUT /pets/{petId}/photo").contains("multipart/form-data"));

    let get_pet = imported["created"].as_array().unwrap().iter().find(|e| e["name"] == "getPet");
    let id = get_pet.unwrap()["id"].as_str().unwrap();
    let (status, stored) = owner.get(format!("/api/v1/endpoints/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["data"]["method"], "GET");
    assert_eq!(stored["data"]["path"], "/pets/{petId}");
    assert_eq!(stored["data"]["description"], "Find a pet by its id");
    assert_eq!(stored["data"]["ai_tool"], true);
    assert_eq!(
        stored["data"]["variables"],
        json!([{"name": "petId", "description": "The pet's id", "required": true, "pattern": "-?[0-9]+"}])
    );
    let (_, listed) = owner.get(&endpoints).await;
    let add_pet = listed["data"].as_array().unwrap().iter().find(|e| e["name"] == "addPet");
    let add_pet = add_pet.unwrap();
    assert_eq!(add_pet["method"], "POST");
    assert_eq!(add_pet["body"], json!({"name": "{name}", "kind": "{kind}"}));
    assert_eq!(add_pet["variables"][1]["pattern"], "cat|dog");

    // Again: everything exists already.
    let (status, again) = owner.post(import_path(&pets), json!({"spec": spec()})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert!(again["data"]["created"].as_array().unwrap().is_empty(), "{again}");
    let skipped = again["data"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 4);
    assert!(
        skipped.iter().any(|s| s["reason"] == "an endpoint named getPet already exists"),
        "{again}"
    );
    assert_eq!(owner.get(&endpoints).await.1["data"].as_array().unwrap().len(), 2);

    // Another host than the connection's: nothing to create.
    let other = connection(&owner, "https://elsewhere.example.com").await;
    let (_, elsewhere) =
        owner.post(import_path(&other), json!({"spec": spec(), "dry_run": true})).await;
    assert!(elsewhere["data"]["created"].as_array().unwrap().is_empty());
    assert!(
        elsewhere["data"]["skipped"][0]["reason"].as_str().unwrap().contains("pets.example.com")
    );
}

#[tokio::test]
async fn large_documents_fit_the_routes_own_body_limit() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let pets = connection(&owner, "https://pets.example.com/v1").await;
    // Over the server's default 1 MiB body limit.
    let mut paths = serde_json::Map::new();
    for i in 0..300 {
        paths.insert(
            format!("/things/{i}"),
            json!({"get": {"operationId": format!("thing{i}"), "description": "x".repeat(5000)}}),
        );
    }
    let spec =
        json!({"swagger": "2.0", "host": "pets.example.com", "basePath": "/v1", "paths": paths});
    assert!(spec.to_string().len() > 1024 * 1024);
    let (status, imported) = owner.post(import_path(&pets), json!({"spec": spec})).await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(imported["data"]["created"].as_array().unwrap().len(), 300);
    // Other routes keep the server's limit.
    let big = json!({"name": "x", "base_url": "https://a.example", "headers": {"X-Big": "x".repeat(2 << 20)}});
    let answer = owner.post("/api/v1/connections", big).await;
    assert_error(&answer, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None);
}

/// Serves the YAML document at `/openapi.yaml` on a loopback port.
async fn spec_server() -> SocketAddr {
    let router = Router::new().route("/openapi.yaml", get(|| async { SPEC_YAML }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

#[tokio::test]
async fn url_imports_follow_the_ssrf_rules() {
    let server = spec_server().await;
    let url = format!("http://{server}/openapi.yaml");

    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let pets = connection(&owner, "https://pets.example.com/v1").await;
    let refused = owner.post(import_path(&pets), json!({"url": url})).await;
    assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, "ssrf_blocked", Some("url"));
    let metadata = json!({"url": "http://169.254.169.254/latest/meta-data"});
    let refused = owner.post(import_path(&pets), metadata).await;
    assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, "ssrf_blocked", Some("url"));

    let app = TestApp::sqlite_with(|c| c.security.ssrf_allow = vec![server.to_string()]).await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let pets = connection(&owner, "https://pets.example.com/v1").await;
    let (status, imported) = owner.post(import_path(&pets), json!({"url": url})).await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(operations(&imported["data"]["created"]), ["GET /pets/{petId}", "POST /pets"]);
    let missing =
        owner.post(import_path(&pets), json!({"url": format!("http://{server}/nope")})).await;
    assert_error(&missing, StatusCode::UNPROCESSABLE_ENTITY, "fetch_failed", Some("url"));
}

#[tokio::test]
async fn only_admins_of_the_connections_account_may_import() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let pets = connection(&owner, "https://pets.example.com/v1").await;
    let other = app.signup("Other", "owner@other.test").await;
    let answer = other.post(import_path(&pets), json!({"spec": spec()})).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);

    owner.create_user("ops@acme.test", "operator").await;
    let operator = app.login("ops@acme.test", PASSWORD).await;
    let answer = operator.post(import_path(&pets), json!({"spec": spec()})).await;
    assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.1);
    assert!(
        owner.get(format!("/api/v1/connections/{pets}/endpoints")).await.1["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn documents_that_cannot_be_read_are_refused_with_the_field() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let pets = connection(&owner, "https://pets.example.com/v1").await;
    let path = import_path(&pets);
    let cases = [
        (json!({"spec": "openapi: [unclosed"}), "invalid_spec", "spec"),
        (json!({"spec": "{\"openapi\": "}), "invalid_spec", "spec"),
        (json!({"spec": "title: just some YAML\n"}), "not_openapi", "spec"),
        (json!({"spec": {"openapi": "2.5.0", "paths": {}}}), "not_openapi", "spec"),
        (json!({"spec": {"swagger": "1.2"}}), "not_openapi", "spec"),
        (json!({"spec": 42}), "invalid_spec", "spec"),
        (json!({}), "missing_field", "spec"),
        (json!({"spec": {}, "url": "https://a.example/o.json"}), "invalid_field", "url"),
        (json!({"url": "not a url"}), "invalid_url", "url"),
    ];
    for (body, code, field) in cases {
        let answer = owner.post(&path, body.clone()).await;
        assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, code, Some(field));
    }
    let answer = owner.post(&path, json!({"spec": {}, "surprise": 1})).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "unknown_field", Some("surprise"));
}

#[tokio::test]
async fn operations_the_endpoint_validation_refuses_are_skipped_not_fatal() {
    let app = TestApp::sqlite().await;
    let owner = app.signup("Acme", "owner@acme.test").await;
    let pets = connection(&owner, "https://pets.example.com/v1").await;
    let spec = json!({"swagger": "2.0", "host": "pets.example.com", "basePath": "/v1", "paths": {
        "/files/../secret": {"get": {"operationId": "climb"}},
        "/files": {"get": {"operationId": "list_files"}}}});
    let (status, imported) = owner.post(import_path(&pets), json!({"spec": spec})).await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(operations(&imported["data"]["created"]), ["GET /files"]);
    assert_eq!(imported["data"]["skipped"][0]["operation"], "GET /files/../secret");
    let reason = imported["data"]["skipped"][0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("the endpoint would not be valid: path:"), "{reason}");
}
