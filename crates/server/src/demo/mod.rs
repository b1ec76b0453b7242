//! `switchboard serve --demo`: a ready-to-try tenant with a widget, two connections to a demo
//! backend (OAuth 2.0 and an API key), endpoints, and rules for the three patterns —
//! lookup-and-reply, lookup-and-route, and a multi-step flow. Seeding is idempotent: a restart
//! reuses what exists, points the connections at the backend's current address and brings the
//! demo's endpoints back to the seed. The backend listens on a loopback port of its own, so the
//! allowlist entry it needs opens nothing of the server itself to tenants.

pub mod backend;
mod history;
mod page;

use std::net::SocketAddr;

use anyhow::Context;
use sb_domain::PageRequest;
use sb_domain::{ConnectionId, EndpointId, Role, WidgetId};
use sb_engine::accounts::{CreateUser, SignUp};
use sb_engine::connections::{AuthInput, ConnectionDraft, EndpointDraft};
use sb_engine::conversations::rules::RuleDraft;
use sb_engine::conversations::widgets::WidgetDraft;
use sb_engine::kb::DocumentDraft;
use sb_engine::{Actor, Credential, Services};
use sb_secrets::Secret;
use serde_json::{Value, json};

pub use page::page_router;

pub const OWNER_EMAIL: &str = "demo@switchboard.local";
pub const OPERATOR_EMAIL: &str = "agent@switchboard.local";
pub const PASSWORD: &str = "demo-password";
/// The demo's test cases: its three patterns, the knowledge base and the cancel flow.
const SUITE: &str = include_str!("suite.yaml");

/// The widget, endpoints and rules, as data: the rules read like the ones a tenant writes.
const SEED: &str = include_str!("seed.json");

/// What seeding produced.
pub struct Demo {
    pub widget_id: WidgetId,
    /// The widget's identity secret, for the demo page to sign its pretend customer.
    pub identity_secret: Secret<String>,
}

async fn owner(services: &Services) -> anyhow::Result<Actor> {
    let accounts = &services.accounts;
    let user = match accounts.find_user_by_email(OWNER_EMAIL).await? {
        Some(user) => user,
        None => {
            let input = SignUp {
                tenant_name: "Demo Lamps".into(),
                email: OWNER_EMAIL.into(),
                password: Secret::new(PASSWORD.into()),
            };
            let (_, user) = accounts.sign_up(input).await?;
            user
        }
    };
    let actor = Actor {
        tenant_id: user.tenant_id.clone(),
        user_id: Some(user.id),
        role: Role::Owner,
        credential: Credential::CommandLine,
    };
    if accounts.find_user_by_email(OPERATOR_EMAIL).await?.is_none() {
        let input = CreateUser {
            email: OPERATOR_EMAIL.into(),
            password: Secret::new(PASSWORD.into()),
            role: Role::Operator,
        };
        accounts.create_user(&actor, input).await?;
    }
    Ok(actor)
}

/// Tells the person starting the demo where to go and how to log in.
pub fn announce(listen: SocketAddr, widget: &WidgetId) {
    let ip = if listen.ip().is_unspecified() { [127, 0, 0, 1].into() } else { listen.ip() };
    let address = SocketAddr::new(ip, listen.port());
    tracing::info!(
        widget = %widget,
        "demo ready: open http://{address}/demo to chat with the widget, and http://{address}/ \
         for the dashboard (owner {OWNER_EMAIL}, operator {OPERATOR_EMAIL}, password {PASSWORD})"
    );
}

/// Creates the connection, or points an existing one at `base`.
async fn connection(
    services: &Services,
    actor: &Actor,
    name: &str,
    base: &str,
    auth: Value,
) -> anyhow::Result<ConnectionId> {
    let draft = ConnectionDraft {
        name: Some(name.into()),
        base_url: Some(format!("{base}/api")),
        auth: Some(serde_json::from_value::<AuthInput>(auth)?),
        timeout_ms: Some(3000),
        ..ConnectionDraft::default()
    };
    let page = services.connections.list_connections(actor, &PageRequest::first(200)).await?;
    let view = match page.items.into_iter().find(|c| c.connection.name == name) {
        Some(found) => {
            services.connections.update_connection(actor, &found.connection.id, draft).await?
        }
        None => services.connections.create_connection(actor, draft).await?,
    };
    Ok(view.connection.id)
}

/// Creates the endpoint described by `spec`, or brings an existing one of that name back to the
/// seed's definition: the demo's endpoints are the demo's, and an older demo's must not keep a
/// lookup that a newer one made safe.
async fn endpoint(
    services: &Services,
    actor: &Actor,
    connection: &ConnectionId,
    spec: &Value,
) -> anyhow::Result<EndpointId> {
    let name = spec["name"].as_str().context("an endpoint without a name")?;
    let draft = EndpointDraft {
        name: Some(name.to_owned()),
        description: spec["description"].as_str().map(str::to_owned),
        method: Some(spec["method"].as_str().unwrap_or("GET").to_owned()),
        path: spec["path"].as_str().map(str::to_owned),
        approval_summary: spec["approval_summary"].as_str().map(str::to_owned),
        variables: Some(serde_json::from_value(spec["variables"].clone())?),
        response_mapping: Some(serde_json::from_value(spec["response_mapping"].clone())?),
        ai_tool: Some(true),
        requires_verified_visitor: Some(spec["requires_verified_visitor"] == true),
        ..EndpointDraft::default()
    };
    let page =
        services.connections.list_endpoints(actor, connection, &PageRequest::first(200)).await?;
    if let Some(found) = page.items.into_iter().find(|e| e.endpoint.name == name) {
        return Ok(services
            .connections
            .update_endpoint(actor, &found.endpoint.id, draft)
            .await?
            .endpoint
            .id);
    }
    Ok(services.connections.create_endpoint(actor, connection, draft).await?.endpoint.id)
}

/// Creates the widget, or finds it, and gives it a fresh identity secret: the demo page signs its
/// pretend signed-in customer with it, as a real shop's server would.
async fn widget(
    services: &Services,
    actor: &Actor,
    spec: &Value,
    identity_secret: &Secret<String>,
) -> anyhow::Result<WidgetId> {
    let name = spec["name"].as_str().context("the widget needs a name")?;
    let secret = Some(Some(identity_secret.clone()));
    let page = services.conversations.list_widgets(actor, &PageRequest::first(200)).await?;
    if let Some(found) = page.items.into_iter().find(|w| w.widget.name == name) {
        let draft = WidgetDraft { identity_secret: secret, ..WidgetDraft::default() };
        return Ok(services
            .conversations
            .update_widget(actor, &found.widget.id, draft)
            .await?
            .widget
            .id);
    }
    let text = |key: &str| spec[key].as_str().map(str::to_owned);
    let draft = WidgetDraft {
        name: Some(name.to_owned()),
        greeting: Some(text("greeting")),
        primary_color: text("primary_color"),
        ai_enabled: spec["ai_enabled"].as_bool(),
        translation_enabled: spec["translation_enabled"].as_bool(),
        identity_secret: secret,
        ..WidgetDraft::default()
    };
    Ok(services.conversations.create_widget(actor, draft).await?.widget.id)
}

/// Seeds (or refreshes) the demo tenant. `backend` is where the demo backend answers.
pub async fn seed(services: &Services, backend: SocketAddr) -> anyhow::Result<Demo> {
    let data: Value = serde_json::from_str(SEED)?;
    let actor = owner(services).await.context("creating the demo tenant")?;
    let base = format!("http://{backend}/demo-backend");
    let oauth = json!({"type": "oauth2_client_credentials",
        "token_url": format!("{base}/oauth/token"), "scope": "orders:read",
        "client_id": backend::CLIENT_ID, "client_secret": backend::CLIENT_SECRET});
    let api_key = json!({"type": "api_key", "key": backend::API_KEY});
    let connections = [
        ("shop", connection(services, &actor, "Demo shop (OAuth 2.0)", &base, oauth).await?),
        ("crm", connection(services, &actor, "Demo CRM (API key)", &base, api_key).await?),
    ];
    let mut endpoints = Vec::new();
    for spec in data["endpoints"].as_array().into_iter().flatten() {
        let (_, connection) = connections
            .iter()
            .find(|(key, _)| spec["connection"] == *key)
            .context("an endpoint of an unknown demo connection")?;
        let id = endpoint(services, &actor, connection, spec).await?;
        endpoints.push((spec["name"].as_str().unwrap_or_default().to_owned(), id));
    }
    let identity_secret = Secret::new(sb_domain::random_token(32));
    let widget_id = widget(services, &actor, &data["widget"], &identity_secret).await?;
    // Rules are only created into an empty rule list, so a tenant's own changes survive restarts.
    if services.conversations.list_rules(&actor).await?.is_empty() {
        for mut rule in data["rules"].as_array().cloned().unwrap_or_default() {
            name_endpoints(&mut rule, &endpoints);
            let name = rule["name"].as_str().unwrap_or_default().to_owned();
            let draft = rule_draft(rule).with_context(|| format!("demo rule {name}"))?;
            services
                .conversations
                .create_rule(&actor, draft)
                .await
                .with_context(|| format!("demo rule {name}"))?;
        }
    }
    knowledge(services, &actor, &data["knowledge"]).await.context("demo knowledge base")?;
    suite(services, &actor).await.context("demo test suite")?;
    history::seed(services, &actor, &widget_id).await.context("demo conversations")?;
    Ok(Demo { widget_id, identity_secret })
}

/// The demo's test suite (`demo`, a suite file), into an account without test cases.
async fn suite(services: &Services, actor: &Actor) -> anyhow::Result<()> {
    if !services.suites.list_test_cases(actor, None).await?.is_empty() {
        return Ok(());
    }
    let document = sb_connectors::openapi::parse_text(SUITE).map_err(|e| anyhow::anyhow!(e))?;
    let file = serde_json::from_value(document)?;
    services.suites.import_suite(actor, file, false).await?;
    Ok(())
}

/// Adds the seed's documents to an empty knowledge base (a tenant's own edits survive restarts).
async fn knowledge(services: &Services, actor: &Actor, documents: &Value) -> anyhow::Result<()> {
    if !services.knowledge.list_documents(actor, &PageRequest::first(1)).await?.items.is_empty() {
        return Ok(());
    }
    for document in documents.as_array().into_iter().flatten() {
        let text = |key: &str| document[key].as_str().map(str::to_owned);
        let draft =
            DocumentDraft { title: text("title"), content: text("content"), ..Default::default() };
        services.knowledge.create_document(actor, draft).await?;
    }
    Ok(())
}

/// The seed names endpoints (`"endpoint": "get_order"`); rules refer to them by id.
fn name_endpoints(value: &mut Value, endpoints: &[(String, EndpointId)]) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(name)) = map.remove("endpoint") {
                let id = endpoints.iter().find(|(n, _)| *n == name).map(|(_, id)| id.to_string());
                map.insert("endpoint_id".into(), id.unwrap_or(name).into());
            }
            map.values_mut().for_each(|v| name_endpoints(v, endpoints));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| name_endpoints(v, endpoints)),
        _ => {}
    }
}

fn rule_draft(rule: Value) -> anyhow::Result<RuleDraft> {
    let field = |key: &str| rule.get(key).cloned();
    Ok(RuleDraft {
        name: rule["name"].as_str().map(str::to_owned),
        priority: rule["priority"].as_i64().and_then(|p| i32::try_from(p).ok()),
        trigger: field("trigger").map(serde_json::from_value).transpose()?,
        conditions: field("conditions").map(serde_json::from_value).transpose()?,
        match_mode: field("match").map(serde_json::from_value).transpose()?,
        actions: field("actions").map(serde_json::from_value).transpose()?,
        stop: rule["stop"].as_bool(),
        ..RuleDraft::default()
    })
}
