//! The OpenAPI description: committed, served, well formed, complete, and true to the answers
//! the API really gives.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend::{self, API_KEY};
use crate::conformance::Spec;
use crate::support::Visitor;
use crate::support::{Client, TestApp};

const COMMITTED: &str = "../../docs/openapi.json";

fn generated() -> String {
    serde_json::to_string_pretty(&sb_api::openapi()).unwrap() + "\n"
}

#[test]
fn the_committed_description_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED);
    let generated = generated();
    if std::env::var_os("SWITCHBOARD_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date: run `cargo run -- openapi > docs/openapi.json` \
         (or the tests with SWITCHBOARD_UPDATE_OPENAPI=1) and commit it"
    );
}

/// Every `(method, path)` pair of the description.
fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let paths = spec["paths"].as_object().unwrap();
    paths
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object().unwrap().iter().map(|(m, op)| (m.clone(), path.clone(), op.clone()))
        })
        .collect()
}

fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target);
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_description_is_served_and_well_formed() {
    let app = TestApp::sqlite().await;
    let (status, served) = app.anonymous().get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served, sb_api::openapi());
    assert_eq!(served["openapi"], "3.1.0");

    let mut targets = Vec::new();
    refs(&served, &mut targets);
    for target in targets {
        assert!(served.pointer(&target[1..]).is_some(), "{target} does not resolve");
    }
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&served) {
        assert!(ids.insert(op["operationId"].as_str().unwrap().to_owned()), "{method} {path}");
        let answers: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
        assert!(
            answers.iter().any(|s| s.starts_with('2') || *s == "101"),
            "{method} {path} documents no success: {answers:?}"
        );
        if path.contains("{id}") {
            let has_id =
                op["parameters"].as_array().into_iter().flatten().any(|p| p["name"] == "id");
            assert!(has_id, "{method} {path} does not describe its id");
        }
        let schemes: Vec<&str> = op["security"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s.as_object().unwrap().keys().map(String::as_str))
            .collect();
        let expected: &[&str] = match path.as_str() {
            "/api/v1/auth/signup"
            | "/api/v1/auth/login"
            | "/api/v1/auth/password-reset"
            | "/api/v1/auth/password-reset/confirm"
            | "/api/v1/auth/accept-invitation" => &[],
            "/healthz" | "/metrics" | "/api/v1/openapi.json" => &[],
            // The widget's settings, starting a conversation, and the visitor's WebSocket
            // (whose token comes as a query parameter) need no header.
            p if p.starts_with("/api/v1/widget/{id}")
                || p.ends_with("/ws") && p.contains("widget") =>
            {
                &[]
            }
            p if p.starts_with("/api/v1/widget/") => &["visitorToken"],
            // A provider's webhook proves itself with the channel's secret, not a user's.
            p if p.starts_with("/api/v1/hooks/") => &[],
            _ => &["apiKey", "session"],
        };
        assert_eq!(schemes, expected, "{method} {path}");
    }
}

#[tokio::test]
async fn the_routes_beside_the_api_are_described_too() {
    let app = TestApp::sqlite().await;
    let spec = sb_api::openapi();
    for path in ["/healthz", "/metrics", "/api/v1/openapi.json"] {
        assert!(spec["paths"][path]["get"]["responses"]["200"].is_object(), "{path}");
    }
    let (status, health) = app.anonymous().get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let schema = &spec["paths"]["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    let spec = Spec(spec.clone());
    assert_eq!(spec.violations(schema, &health), Vec::<String>::new(), "{health}");
}

/// A valid-looking id for each path: routing must recognise the route whatever the id.
fn concrete(path: &str) -> String {
    path.replace("{id}", "x_00000000000000000000000000")
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::sqlite().await;
    let client = app.anonymous();
    for (method, path, _) in operations(&sb_api::openapi()) {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let request = client.request(method.clone(), &concrete(&path)).json(&json!({}));
        let (status, body) = client.send(request).await;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            status != StatusCode::METHOD_NOT_ALLOWED && !message.starts_with("no route"),
            "{method} {path} is documented but not routed: {status} {body}"
        );
    }
}

/// Sends requests and checks every answer against the description, remembering which
/// operations were exercised.
struct Checked<'a> {
    spec: &'a Spec,
    seen: BTreeSet<(String, String)>,
}

impl Checked<'_> {
    /// Sends `request` (made for `method template`) and checks the answer.
    async fn send(
        &mut self,
        client: &Client,
        method: Method,
        template: &str,
        request: reqwest::RequestBuilder,
    ) -> (StatusCode, Value) {
        let (status, answer) = client.send(request).await;
        let template = template.split('?').next().unwrap_or(template);
        let verb = method.as_str().to_lowercase();
        if status == StatusCode::NO_CONTENT {
            // Documented as an answer without a body, and sent without one.
            let path = format!("/api/v1{template}");
            let documented = &self.spec.0["paths"][&path][&verb]["responses"]["204"];
            assert!(documented.is_object(), "{method} {template} answered 204, undocumented");
            assert!(documented.get("content").is_none(), "{method} {template}: 204 with content");
            assert_eq!(answer, Value::String(String::new()), "{method} {template}");
            self.seen.insert((verb, template.to_owned()));
            return (status, answer);
        }
        let schema = self
            .spec
            .response_schema(&verb, template, status.as_u16())
            .unwrap_or_else(|| panic!("{method} {template} answered {status}, undocumented"));
        let violations = self.spec.violations(schema, &answer);
        assert!(violations.is_empty(), "{method} {template} {status}: {violations:#?}\n{answer}");
        self.seen.insert((verb, template.to_owned()));
        (status, answer)
    }

    /// Calls `template` with its `{id}`s replaced by `ids`, in order.
    async fn call(
        &mut self,
        client: &Client,
        method: Method,
        template: &str,
        ids: &[&str],
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let path = ids.iter().fold(template.to_owned(), |p, id| p.replacen("{id}", id, 1));
        let mut request = client.request(method.clone(), &format!("/api/v1{path}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(client, method, template, request).await
    }

    /// Calls a visitor route of the visitor's conversation, with their token.
    async fn visitor(
        &mut self,
        visitor: &Visitor,
        method: Method,
        template: &str,
        query: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let path = template.replacen("{id}", &visitor.conversation_id, 1);
        let url = format!("/api/v1{path}{query}");
        let mut request = visitor.client.request(method.clone(), &url).bearer_auth(&visitor.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(&visitor.client, method, template, request).await
    }
}

impl Checked<'_> {
    /// Downloads a file (no JSON answer): documented with a body of another type.
    async fn binary(&mut self, template: &str, request: reqwest::RequestBuilder) {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {template}");
        let documented = &self.spec.0["paths"][format!("/api/v1{template}")]["get"]["responses"]["200"]
            ["content"];
        let kinds: Vec<&String> =
            documented.as_object().expect("documented content").keys().collect();
        assert!(
            !kinds.is_empty() && !kinds.contains(&&"application/json".to_owned()),
            "{template}: {kinds:?}"
        );
        self.seen.insert(("get".to_owned(), template.to_owned()));
    }

    /// Sends files as a multipart form through `request`, and checks the JSON answer.
    async fn upload(
        &mut self,
        client: &Client,
        template: &str,
        request: reqwest::RequestBuilder,
    ) -> Value {
        let (content_type, body) =
            crate::support::form(&[("p.png", crate::attachments::PIXEL)], Some("a photo"));
        let request = request.header("content-type", content_type).body(body);
        let (status, answer) = self.send(client, Method::POST, template, request).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer
    }

    /// The visitor says `text` and gets an action to decide on; its id.
    async fn proposed(&mut self, visitor: &Visitor, text: &str) -> String {
        let messages = "/widget/conversations/{id}/messages";
        let said = json!({"text": text});
        let (_, handled) =
            self.visitor(visitor, Method::POST, messages, "?wait_ms=5000", Some(said)).await;
        let replies = handled["data"]["replies"].as_array().unwrap();
        let asking = replies.iter().find(|r| r["action"].is_object());
        asking.unwrap_or_else(|| panic!("no action in {handled}"))["action"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The visitor marks the reply `message` helpful.
    async fn visitor_feedback(&mut self, visitor: &Visitor, message: &str) {
        let template = "/widget/conversations/{id}/messages/{message_id}/feedback";
        let path = template.replacen("{id}", &visitor.conversation_id, 1).replacen(
            "{message_id}",
            message,
            1,
        );
        let request = visitor
            .client
            .request(Method::POST, &format!("/api/v1{path}"))
            .bearer_auth(&visitor.token)
            .json(&json!({"helpful": true}));
        let (status, answer) = self.send(&visitor.client, Method::POST, template, request).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }

    /// The visitor decides on `action` (`confirm` or `cancel`).
    async fn visitor_decides(&mut self, visitor: &Visitor, action: &str, verb: &str) -> Value {
        let template = format!("/widget/conversations/{{id}}/actions/{{action_id}}/{verb}");
        let path = template.replacen("{id}", &visitor.conversation_id, 1).replacen(
            "{action_id}",
            action,
            1,
        );
        let request = visitor
            .client
            .request(Method::POST, &format!("/api/v1{path}"))
            .bearer_auth(&visitor.token);
        let (status, answer) = self.send(&visitor.client, Method::POST, &template, request).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }
}

fn id(answer: &Value) -> String {
    answer["data"]["id"].as_str().unwrap_or_else(|| panic!("no id in {answer}")).to_owned()
}

#[tokio::test]
async fn real_answers_match_the_description() {
    let backend = backend::start().await;
    let mcp = crate::mcp_fake::start().await;
    let (telegram, fake) = crate::telegram::Telegram::start().await;
    let (graph, _) = crate::whatsapp::Graph::start().await;
    let allow: Vec<String> =
        [backend.addr(), mcp.addr, telegram, graph].iter().map(ToString::to_string).collect();
    for app in TestApp::every_backend_with(|c| {
        c.security.ssrf_allow = allow.clone();
        c.server.public_url = "https://support.example.com".into();
    })
    .await
    {
        let spec = Spec(sb_api::openapi());
        let mut api = Checked { spec: &spec, seen: BTreeSet::new() };
        exercise(&mut api, &app, &backend.url()).await;
        exercise_mcp(&mut api, &app, &mcp.url()).await;
        exercise_channels(&mut api, &app, &format!("http://{telegram}"), &fake).await;
        exercise_whatsapp(&mut api, &app, &format!("http://{graph}/v21.0")).await;
        exercise_email(&mut api, &app, telegram).await;
        let missing: Vec<_> = operations(&spec.0)
            .into_iter()
            .map(|(m, p, _)| (m, p.trim_start_matches("/api/v1").to_owned()))
            .filter(|(_, p)| !p.ends_with("ws"))
            // Not JSON resources: checked by the_routes_beside_the_api_are_described_too.
            .filter(|(_, p)| !matches!(p.as_str(), "/healthz" | "/metrics" | "/openapi.json"))
            .filter(|op| !api.seen.contains(op))
            .collect();
        assert!(missing.is_empty(), "operations not exercised: {missing:?}");
    }
}

/// The MCP tools of a connection to the fake MCP server.
async fn exercise_mcp(api: &mut Checked<'_>, app: &TestApp, server: &str) {
    let owner = app.signup("Tools", "owner@tools.test").await;
    let body = json!({"name": "Tools", "kind": "mcp", "base_url": server});
    let (_, connection) = api.call(&owner, Method::POST, "/connections", &[], Some(body)).await;
    let connection = id(&connection);
    let ids = [connection.as_str()];
    api.call(&owner, Method::POST, "/connections/{id}/tools/refresh", &ids, None).await;
    api.call(&owner, Method::GET, "/connections/{id}/tools", &ids, None).await;
    let template = "/connections/{id}/tools/{name}";
    let path = format!("/api/v1/connections/{connection}/tools/lookup");
    let request = owner.request(Method::PATCH, &path).json(&json!({"enabled": true}));
    let (status, answer) = api.send(&owner, Method::PATCH, template, request).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// A Telegram channel against the fake Bot API: made, listed, changed, tested (which connects
/// its webhook), sent an update, deleted.
async fn exercise_channels(
    api: &mut Checked<'_>,
    app: &TestApp,
    telegram: &str,
    fake: &crate::telegram::Telegram,
) {
    use Method as M;
    let owner = app.signup("Channels", "owner@channels.test").await;
    let (_, widget) =
        api.call(&owner, M::POST, "/widgets", &[], Some(json!({"name": "Chat"}))).await;
    let body = json!({"kind": "telegram", "name": "Bot", "widget_id": id(&widget),
        "settings": {"api_base_url": telegram}, "secrets": {"bot_token": crate::telegram::TOKEN}});
    let (_, channel) = api.call(&owner, M::POST, "/channels", &[], Some(body)).await;
    let channel = id(&channel);
    let ids = [channel.as_str()];
    api.call(&owner, M::GET, "/channels", &[], None).await;
    api.call(&owner, M::GET, "/channels/{id}", &ids, None).await;
    api.call(&owner, M::PATCH, "/channels/{id}", &ids, Some(json!({"name": "Shop bot"}))).await;
    api.call(&owner, M::POST, "/channels/{id}/test", &ids, None).await;
    let hooked = fake.calls("setWebhook");
    let secret = hooked.last().and_then(|h| h["secret_token"].as_str()).unwrap().to_owned();
    let update = crate::telegram::text_update(1, 5, "hello");
    let request = app
        .anonymous()
        .request(M::POST, &format!("/api/v1/hooks/telegram/{channel}"))
        .header("X-Telegram-Bot-Api-Secret-Token", secret)
        .json(&update);
    let (status, answer) =
        api.send(&app.anonymous(), M::POST, "/hooks/telegram/{id}", request).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    api.call(&owner, M::DELETE, "/channels/{id}", &ids, None).await;
}

/// A WhatsApp channel's webhook: Meta's check (answered in plain text) and a signed message.
async fn exercise_whatsapp(api: &mut Checked<'_>, app: &TestApp, graph: &str) {
    use crate::whatsapp::{APP_SECRET, VERIFY_TOKEN};
    let owner = app.signup("WhatsApp", "owner@whatsapp.test").await;
    let (_, widget) = owner.post("/api/v1/widgets", json!({"name": "Chat"})).await;
    let body = json!({"kind": "whatsapp", "name": "Number", "widget_id": id(&widget),
        "settings": {"phone_number_id": "1055", "api_base_url": graph},
        "secrets": {"access_token": crate::whatsapp::ACCESS_TOKEN, "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN}});
    let (_, channel) = owner.post("/api/v1/channels", body).await;
    let channel = id(&channel);
    let query = format!("hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=7");
    let path = format!("{}/api/v1/hooks/whatsapp/{channel}?{query}", app.base);
    let answer = reqwest::get(&path).await.unwrap();
    let documented = &api.spec.0["paths"]["/api/v1/hooks/whatsapp/{id}"]["get"]["responses"]["200"];
    assert!(documented["content"]["text/plain"].is_object(), "{documented}");
    assert_eq!(answer.text().await.unwrap(), "7");
    api.seen.insert(("get".into(), "/hooks/whatsapp/{id}".into()));
    let message = crate::whatsapp::notification("wamid.1", "hello").to_string();
    let client = app.anonymous();
    let request = client
        .request(Method::POST, &format!("/api/v1/hooks/whatsapp/{channel}"))
        .header("X-Hub-Signature-256", crate::whatsapp::signature(APP_SECRET, message.as_bytes()))
        .header("content-type", "application/json")
        .body(message);
    let (status, answer) = api.send(&client, Method::POST, "/hooks/whatsapp/{id}", request).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// An e-mail channel's inbound webhook: a provider posting a raw message with the secret.
/// (Its SMTP server is an allowlisted loopback address that speaks no SMTP: the reply waits.)
async fn exercise_email(api: &mut Checked<'_>, app: &TestApp, smtp: std::net::SocketAddr) {
    let owner = app.signup("Mail", "owner@mail.test").await;
    let (_, widget) = owner.post("/api/v1/widgets", json!({"name": "Chat"})).await;
    let body = json!({"kind": "email", "name": "Mail", "widget_id": id(&widget),
        "settings": {"address": "help@mail.test",
            "smtp": {"host": smtp.ip().to_string(), "port": smtp.port(), "tls": "none"}},
        "secrets": {"webhook_secret": "hook-secret-9-for-the-openapi-test"}});
    let (status, channel) = owner.post("/api/v1/channels", body).await;
    assert_eq!(status, StatusCode::CREATED, "{channel}");
    let channel = id(&channel);
    let message = "From: Ann <ann@example.org>\r\nSubject: Hello\r\nMessage-ID: <m1@example.org>\r\n\r\nHi\r\n";
    let client = app.anonymous();
    let request = client
        .request(Method::POST, &format!("/api/v1/hooks/email/{channel}"))
        .bearer_auth("hook-secret-9-for-the-openapi-test")
        .header("content-type", "message/rfc822")
        .body(message);
    let (status, answer) = api.send(&client, Method::POST, "/hooks/email/{id}", request).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn exercise(api: &mut Checked<'_>, app: &TestApp, backend: &str) {
    use Method as M;
    let anonymous = app.anonymous();
    let signup = json!({"tenant_name": "Acme", "email": "owner@acme.test", "password": "correct horse battery"});
    let mut owner = app.anonymous();
    let (_, session) = api.call(&owner, M::POST, "/auth/signup", &[], Some(signup)).await;
    owner.csrf = Some(session["data"]["csrf_token"].as_str().unwrap().to_owned());
    api.call(&owner, M::GET, "/me", &[], None).await;
    api.call(&owner, M::GET, "/tenant", &[], None).await;
    api.call(&owner, M::PATCH, "/tenant", &[], Some(json!({"time_zone": "Europe/Berlin"}))).await;
    api.call(&owner, M::PUT, "/me/availability", &[], Some(json!({"available": true}))).await;
    api.call(&owner, M::PUT, "/me/language", &[], Some(json!({"language": "en"}))).await;
    let change = json!({"current_password": "correct horse battery", "new_password": "another horse battery"});
    api.call(&owner, M::PUT, "/me/password", &[], Some(change)).await;
    let person =
        json!({"email": "ops@acme.test", "password": "correct horse battery", "role": "operator"});
    let (_, user) = api.call(&owner, M::POST, "/users", &[], Some(person)).await;
    let user = id(&user);
    api.call(&owner, M::GET, "/users", &[], None).await;
    api.call(&owner, M::GET, "/users/{id}", &[&user], None).await;
    let new_password = json!({"password": "set by the owner"});
    api.call(&owner, M::PUT, "/users/{id}/password", &[&user], Some(new_password)).await;
    let (_, invited) = api
        .call(
            &owner,
            M::POST,
            "/invitations",
            &[],
            Some(json!({"email": "new@acme.test", "role": "admin"})),
        )
        .await;
    api.call(&owner, M::GET, "/invitations", &[], None).await;
    let joining = app.anonymous();
    let token = invited["data"]["token"].as_str().unwrap();
    let accepted = json!({"token": token, "password": "chosen on joining"});
    api.call(&joining, M::POST, "/auth/accept-invitation", &[], Some(accepted)).await;
    let (_, again) = api
        .call(
            &owner,
            M::POST,
            "/invitations",
            &[],
            Some(json!({"email": "late@acme.test", "role": "operator"})),
        )
        .await;
    api.call(&owner, M::DELETE, "/invitations/{id}", &[&id(&again)], None).await;
    let forgot = json!({"email": "ops@acme.test"});
    api.call(&joining, M::POST, "/auth/password-reset", &[], Some(forgot)).await;
    let bogus = json!({"token": "not-a-token", "password": "whatever it is"});
    api.call(&joining, M::POST, "/auth/password-reset/confirm", &[], Some(bogus)).await;
    let (_, key) = api.call(&owner, M::POST, "/api-keys", &[], Some(json!({"name": "ci"}))).await;
    api.call(&owner, M::GET, "/api-keys", &[], None).await;
    api.call(&owner, M::DELETE, "/api-keys/{id}", &[&id(&key)], None).await;
    let (_, team) = api
        .call(
            &owner,
            M::POST,
            "/teams",
            &[],
            Some(json!({"name": "Support", "member_ids": [user]})),
        )
        .await;
    let team = id(&team);
    api.call(&owner, M::GET, "/teams", &[], None).await;
    api.call(&owner, M::GET, "/teams/{id}", &[&team], None).await;
    api.call(&owner, M::PATCH, "/teams/{id}", &[&team], Some(json!({"name": "Care"}))).await;

    let connection = json!({"name": "Shop", "base_url": format!("{backend}/api"), "auth": {"type": "api_key", "key": API_KEY}});
    let (_, connection) = api.call(&owner, M::POST, "/connections", &[], Some(connection)).await;
    let connection = id(&connection);
    api.call(&owner, M::GET, "/connections", &[], None).await;
    api.call(&owner, M::GET, "/connections/{id}", &[&connection], None).await;
    api.call(
        &owner,
        M::PATCH,
        "/connections/{id}",
        &[&connection],
        Some(json!({"timeout_ms": 3000})),
    )
    .await;
    api.call(&owner, M::POST, "/connections/{id}/test", &[&connection], None).await;
    let endpoint = json!({"name": "get_order", "method": "GET", "path": "/orders/{order_id}",
        "variables": [{"name": "order_id", "required": true}],
        "response_mapping": {"order_status": "data.status"}});
    let (_, endpoint) = api
        .call(&owner, M::POST, "/connections/{id}/endpoints", &[&connection], Some(endpoint))
        .await;
    let endpoint = id(&endpoint);
    api.call(&owner, M::GET, "/connections/{id}/endpoints", &[&connection], None).await;
    api.call(&owner, M::GET, "/endpoints/{id}", &[&endpoint], None).await;
    api.call(&owner, M::PATCH, "/endpoints/{id}", &[&endpoint], Some(json!({"timeout_ms": null})))
        .await;
    let sample = json!({"variables": {"order_id": "4521"}});
    let (_, tested) =
        api.call(&owner, M::POST, "/endpoints/{id}/test", &[&endpoint], Some(sample)).await;
    assert_eq!(tested["data"]["mapped"]["order_status"], "shipped");
    let spec = json!({"openapi": "3.0.0", "servers": [{"url": "/api"}],
        "paths": {"/orders": {"get": {"operationId": "list_orders", "parameters": [
            {"name": "page", "in": "query", "schema": {"type": "integer"}}]}}}});
    let import = "/connections/{id}/import-openapi";
    let (_, imported) =
        api.call(&owner, M::POST, import, &[&connection], Some(json!({"spec": spec}))).await;
    assert_eq!(imported["data"]["created"][0]["query"]["page"], "{page}", "{imported}");

    let widget =
        json!({"name": "Shop", "greeting": "Hello!", "identity_secret": "a-long-shared-secret"});
    let (_, widget) = api.call(&owner, M::POST, "/widgets", &[], Some(widget)).await;
    let widget = id(&widget);
    api.call(&owner, M::GET, "/widgets", &[], None).await;
    api.call(&owner, M::GET, "/widgets/{id}", &[&widget], None).await;
    api.call(&owner, M::PATCH, "/widgets/{id}", &[&widget], Some(json!({"greeting": null}))).await;
    let rule = json!({"name": "Orders", "trigger": {"type": "regex", "pattern": "\\d{4}"},
        "conditions": {"variable": "message.text", "op": "contains", "value": "order"},
        "actions": [{"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "(\\d{4})"}},
            {"type": "CALL_API", "endpoint_id": endpoint},
            {"type": "REPLY_TEXT", "text": "Order {order_id} is {order_status}."}], "stop": true});
    let (_, rule) = api.call(&owner, M::POST, "/rules", &[], Some(rule)).await;
    let rule = id(&rule);
    api.call(&owner, M::GET, "/rules", &[], None).await;
    api.call(&owner, M::GET, "/rules/{id}", &[&rule], None).await;
    api.call(&owner, M::PATCH, "/rules/{id}", &[&rule], Some(json!({"priority": 5}))).await;
    let case = json!({"name": "Order status", "suite": "smoke", "widget_id": widget,
        "turns": [{"text": "Where is order 4521?", "expect": [{"reply_contains": "shipped"}]}],
        "fakes": [{"endpoint": "get_order", "body": {"data": {"status": "shipped"}}}],
        "expect": [{"called": "get_order", "with": {"order_id": "4521"}}, {"handed_over": false}]});
    let (_, case) = api.call(&owner, M::POST, "/test-cases", &[], Some(case)).await;
    let case = id(&case);
    api.call(&owner, M::GET, "/test-cases?suite=smoke", &[], None).await;
    api.call(&owner, M::GET, "/test-cases/{id}", &[&case], None).await;
    let renamed = json!({"name": "Order status, shipped", "suite": null});
    api.call(&owner, M::PATCH, "/test-cases/{id}", &[&case], Some(renamed)).await;
    let (_, started) =
        api.call(&owner, M::POST, "/test-runs", &[], Some(json!({"case_ids": [case]}))).await;
    let run = id(&started);
    for _ in 0..400 {
        let (_, shown) = api.call(&owner, M::GET, "/test-runs/{id}", &[&run], None).await;
        if shown["data"]["state"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let (_, file) = api.call(&owner, M::GET, "/test-cases/export", &[], None).await;
    let import = json!({"file": file, "dry_run": true});
    api.call(&owner, M::POST, "/test-cases/import", &[], Some(import)).await;
    api.call(&owner, M::DELETE, "/test-cases/{id}", &[&case], None).await;
    let dry_run = json!({"widget_id": widget, "message": "order 4521?"});
    api.call(&owner, M::POST, "/rules/dry-run", &[], Some(dry_run)).await;

    // The visitor's side.
    api.call(&anonymous, M::GET, "/widget/{id}/config", &[&widget], None).await;
    let (_, started) =
        api.call(&anonymous, M::POST, "/widget/{id}/conversations", &[&widget], None).await;
    let visitor = Visitor {
        client: app.anonymous(),
        conversation_id: started["data"]["conversation_id"].as_str().unwrap().to_owned(),
        token: started["data"]["visitor_token"].as_str().unwrap().to_owned(),
    };
    let conversation = visitor.conversation_id.clone();
    let messages = "/widget/conversations/{id}/messages";
    let say = json!({"text": "Where is order 4521?"});
    let (status, handled) =
        api.visitor(&visitor, M::POST, messages, "?wait_ms=5000", Some(say)).await;
    assert_eq!(status, StatusCode::OK, "{handled}");
    assert_eq!(handled["data"]["replies"][0]["text"], "Order 4521 is shipped.");
    let reply = handled["data"]["replies"][0]["id"].as_str().unwrap().to_owned();
    api.visitor_feedback(&visitor, &reply).await;
    let (status, _) =
        api.visitor(&visitor, M::POST, messages, "", Some(json!({"text": "thanks"}))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    api.visitor(&visitor, M::GET, messages, "", None).await;
    api.visitor(&visitor, M::GET, "/widget/conversations/{id}", "", None).await;
    let upload = "/widget/conversations/{id}/attachments";
    let request = visitor.request(M::POST, "/attachments");
    let sent = api.upload(&visitor.client, upload, request).await;
    let url = sent["data"]["attachments"][0]["url"].as_str().unwrap();
    let request = visitor.client.request(M::GET, url).bearer_auth(&visitor.token);
    api.binary("/widget/conversations/{id}/attachments/{attachment_id}", request).await;

    // The operator's side.
    api.call(&owner, M::GET, "/conversations", &[], None).await;
    api.call(&owner, M::GET, "/conversations/{id}", &[&conversation], None).await;
    api.call(&owner, M::GET, "/conversations/{id}/messages", &[&conversation], None).await;
    api.call(&owner, M::GET, "/conversations/{id}/trace", &[&conversation], None).await;
    let (_, saved) =
        api.call(&owner, M::POST, "/conversations/{id}/save-as-test", &[&conversation], None).await;
    api.call(&owner, M::DELETE, "/test-cases/{id}", &[&id(&saved)], None).await;
    let (status, _) =
        api.call(&owner, M::POST, "/conversations/{id}/read", &[&conversation], None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let reply = json!({"text": "Anything else?"});
    api.call(&owner, M::POST, "/conversations/{id}/messages", &[&conversation], Some(reply)).await;
    let request =
        owner.request(M::POST, &format!("/api/v1/conversations/{conversation}/attachments"));
    let sent = api.upload(&owner, "/conversations/{id}/attachments", request).await;
    let request = owner.request(M::GET, sent["data"]["attachments"][0]["url"].as_str().unwrap());
    api.binary("/conversations/{id}/attachments/{attachment_id}", request).await;
    let (_, found) =
        api.call(&owner, M::GET, "/conversations?q=order%204521&from=2020-01-01", &[], None).await;
    assert_eq!(found["data"][0]["id"], conversation.as_str(), "{found}");
    let (_, label) = api
        .call(&owner, M::POST, "/labels", &[], Some(json!({"name": "vip", "color": "#7c3aed"})))
        .await;
    api.call(&owner, M::GET, "/labels", &[], None).await;
    let labels = json!({"labels": ["vip"]});
    api.call(&owner, M::PUT, "/conversations/{id}/labels", &[&conversation], Some(labels)).await;
    api.call(&owner, M::DELETE, "/labels/{id}", &[&id(&label)], None).await;
    let canned = json!({"shortcut": "thanks", "text": "Thanks, {visitor.name}!"});
    let (_, canned) = api.call(&owner, M::POST, "/canned-replies", &[], Some(canned)).await;
    api.call(&owner, M::GET, "/canned-replies", &[], None).await;
    let renamed = json!({"shortcut": "thank-you"});
    api.call(&owner, M::PATCH, "/canned-replies/{id}", &[&id(&canned)], Some(renamed)).await;
    api.call(&owner, M::GET, "/conversations/{id}/canned-replies", &[&conversation], None).await;
    api.call(&owner, M::DELETE, "/canned-replies/{id}", &[&id(&canned)], None).await;
    let (_, shown) = api.call(&owner, M::GET, "/conversations/{id}", &[&conversation], None).await;
    let contact = shown["data"]["contact_id"].as_str().expect("a contact").to_owned();
    api.call(&owner, M::GET, "/contacts?q=ann", &[], None).await;
    api.call(&owner, M::GET, "/contacts/{id}", &[&contact], None).await;
    let facts = json!({"attributes": {"plan": "gold"}, "name": "Ann"});
    api.call(&owner, M::PATCH, "/contacts/{id}", &[&contact], Some(facts)).await;
    api.call(&owner, M::GET, "/contacts/{id}/conversations", &[&contact], None).await;
    api.call(&owner, M::GET, "/contacts/{id}/export", &[&contact], None).await;
    let request = owner.request(M::GET, &format!("/api/v1/contacts/{contact}/export.zip"));
    api.binary("/contacts/{id}/export.zip", request).await;
    api.call(&owner, M::GET, "/audit-log?limit=5", &[], None).await;
    api.call(&owner, M::GET, "/analytics/summary", &[], None).await;
    api.call(
        &owner,
        M::GET,
        "/analytics/timeseries?metric=involvement_rate&interval=week",
        &[],
        None,
    )
    .await;
    let (status, _) =
        api.call(&owner, M::GET, "/analytics/summary?from=2020-01-01", &[], None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    api.binary("/analytics/export.csv", owner.request(M::GET, "/api/v1/analytics/export.csv"))
        .await;
    api.call(&owner, M::GET, "/analytics/knowledge-gaps", &[], None).await;
    let note = json!({"text": "Refund approved", "private": true});
    api.call(&owner, M::POST, "/conversations/{id}/messages", &[&conversation], Some(note)).await;
    api.call(&owner, M::GET, "/conversations/{id}/messages", &[&conversation], None).await;
    let to_team = json!({"team_id": team});
    api.call(&owner, M::POST, "/conversations/{id}/assign", &[&conversation], Some(to_team)).await;
    api.call(&owner, M::POST, "/conversations/{id}/close", &[&conversation], None).await;
    let rating = json!({"score": 5, "comment": "Quick"});
    api.visitor(&visitor, M::POST, "/widget/conversations/{id}/rating", "", Some(rating)).await;
    let email = json!({"email": "ann@example.com"});
    api.visitor(&visitor, M::POST, "/widget/conversations/{id}/email", "", Some(email)).await;
    let hours =
        json!({"office_hours": {"days": {"mon": [["09:00", "17:00"]]}, "ask_email_offline": true}});
    api.call(&owner, M::PATCH, "/widgets/{id}", &[&widget], Some(hours)).await;
    api.call(&anonymous, M::GET, "/widget/{id}/config", &[&widget], None).await;
    api.call(&owner, M::GET, "/conversations/{id}", &[&conversation], None).await;
    api.call(&owner, M::POST, "/conversations/{id}/reopen", &[&conversation], None).await;

    // Call health, after the conversation's lookup, and the mapping preview.
    let (_, stats) = api.call(&owner, M::GET, "/endpoints/{id}/stats", &[&endpoint], None).await;
    assert_eq!(stats["data"]["windows"]["24h"]["calls"], 1, "{stats}");
    api.call(&owner, M::GET, "/connections/{id}/stats", &[&connection], None).await;
    let (_, listed) = api.call(&owner, M::GET, "/connections", &[], None).await;
    assert_eq!(listed["data"][0]["health"]["calls_24h"], 1, "{listed}");
    api.call(&owner, M::GET, "/endpoints/{id}", &[&endpoint], None).await;
    let preview = json!({"response_mapping": {"order_status": "data.status"}, "sample": tested["data"]["body_json"]});
    let (_, previewed) =
        api.call(&owner, M::POST, "/endpoints/preview-mapping", &[], Some(preview)).await;
    assert_eq!(previewed["data"]["mapped"]["order_status"], "shipped", "{previewed}");

    // Safe actions: a write waits for the visitor's button, or for a person's approval.
    let cancel = json!({"name": "cancel_order", "method": "POST", "path": "/orders/{order_id}/cancel",
        "approval_summary": "Cancel order {order_id}?"});
    let (_, cancel) = api
        .call(&owner, M::POST, "/connections/{id}/endpoints", &[&connection], Some(cancel))
        .await;
    let cancel = id(&cancel);
    let asks = json!({"name": "Cancel", "priority": 1, "trigger": {"type": "regex", "pattern": "cancel (\\d{4})"},
        "actions": [{"type": "SET_VARIABLE", "name": "order_id", "from_regex": {"pattern": "(\\d{4})"}},
            {"type": "CALL_API", "endpoint_id": cancel}], "stop": true});
    api.call(&owner, M::POST, "/rules", &[], Some(asks)).await;
    // A conversation of its own: the one above is with a person now, and the bot keeps quiet.
    let (_, started) =
        api.call(&anonymous, M::POST, "/widget/{id}/conversations", &[&widget], None).await;
    let visitor = Visitor {
        client: app.anonymous(),
        conversation_id: started["data"]["conversation_id"].as_str().unwrap().to_owned(),
        token: started["data"]["visitor_token"].as_str().unwrap().to_owned(),
    };
    let action = api.proposed(&visitor, "cancel 4521").await;
    let decided = api.visitor_decides(&visitor, &action, "confirm").await;
    assert_eq!(decided["data"]["action"]["state"], "executed", "{decided}");
    let action = api.proposed(&visitor, "cancel 4522").await;
    api.visitor_decides(&visitor, &action, "cancel").await;
    let by_a_person = json!({"approval": "operator"});
    api.call(&owner, M::PATCH, "/endpoints/{id}", &[&cancel], Some(by_a_person)).await;
    let action = api.proposed(&visitor, "cancel 4523").await;
    api.call(&owner, M::GET, "/actions?state=pending", &[], None).await;
    api.call(&owner, M::GET, "/actions/{id}", &[&action], None).await;
    let (_, approved) = api
        .call(&owner, M::POST, "/actions/{id}/approve", &[&action], Some(json!({"note": "fine"})))
        .await;
    assert_eq!(approved["data"]["action"]["state"], "executed", "{approved}");
    let action = api.proposed(&visitor, "cancel 4524").await;
    api.call(&owner, M::POST, "/actions/{id}/deny", &[&action], None).await;

    api.call(&owner, M::GET, "/ai-settings", &[], None).await;
    let ai = json!({"provider": "openai", "base_url": backend, "model": "m", "api_key": "sk-1"});
    api.call(&owner, M::PUT, "/ai-settings", &[], Some(ai)).await;
    api.call(&owner, M::DELETE, "/ai-settings", &[], None).await;
    api.call(&owner, M::GET, "/ai-usage", &[], None).await;

    let document = json!({"title": "Returns", "content": "# Returns\nYou can return items within 30 days.", "widget_ids": [widget]});
    let (_, document) = api.call(&owner, M::POST, "/kb/documents", &[], Some(document)).await;
    let document = id(&document);
    api.call(&owner, M::GET, "/kb/documents", &[], None).await;
    api.call(&owner, M::GET, "/kb/documents/{id}", &[&document], None).await;
    api.call(
        &owner,
        M::PATCH,
        "/kb/documents/{id}",
        &[&document],
        Some(json!({"title": "Returns policy"})),
    )
    .await;
    let (_, found) = api.call(&owner, M::GET, "/kb/search?q=return%20items", &[], None).await;
    assert_eq!(found["data"][0]["title"], "Returns policy", "{found}");
    let imported = json!({"url": format!("{backend}/api")});
    let (_, imported) = api.call(&owner, M::POST, "/kb/documents", &[], Some(imported)).await;
    api.call(&owner, M::POST, "/kb/documents/{id}/refresh", &[&id(&imported)], None).await;

    let hook = json!({"url": format!("{backend}/hooks"), "events": ["message.created", "conversation.closed"], "description": "CRM"});
    let (_, hook) = api.call(&owner, M::POST, "/webhooks", &[], Some(hook)).await;
    let hook = id(&hook);
    api.call(&owner, M::GET, "/webhooks", &[], None).await;
    api.call(&owner, M::GET, "/webhooks/{id}", &[&hook], None).await;
    api.call(&owner, M::PATCH, "/webhooks/{id}", &[&hook], Some(json!({"active": true}))).await;
    api.call(&owner, M::POST, "/webhooks/{id}/rotate-secret", &[&hook], None).await;
    api.call(&owner, M::POST, "/webhooks/{id}/test", &[&hook], None).await;
    for _ in 0..200 {
        let (_, log) = api.call(&owner, M::GET, "/webhooks/{id}/deliveries", &[&hook], None).await;
        if log["data"][0]["attempts"].as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }

    // Errors are described too.
    let (status, _) =
        api.call(&owner, M::GET, "/rules/{id}", &["rul_00000000000000000000000000"], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.call(&owner, M::POST, "/teams", &[], Some(json!({"name": 7}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    api.call(&owner, M::DELETE, "/contacts/{id}", &[&contact], None).await;
    for (template, target) in [
        ("/kb/documents/{id}", document),
        ("/rules/{id}", rule),
        ("/endpoints/{id}", endpoint),
        ("/connections/{id}", connection),
        ("/widgets/{id}", widget),
        ("/teams/{id}", team),
        ("/webhooks/{id}", hook),
    ] {
        api.call(&owner, M::DELETE, template, &[&target], None).await;
    }
    api.call(&owner, M::POST, "/auth/logout", &[], None).await;
    let login = json!({"email": "owner@acme.test", "password": "correct horse battery"});
    api.call(&anonymous, M::POST, "/auth/login", &[], Some(login)).await;
}
