//! `/webhooks`: outbound webhooks for conversation events, signed per the Standard Webhooks
//! specification (docs/webhooks.md). The signing secret is shown once, when it is made.

use axum::extract::State;
use sb_domain::WebhookId;
use sb_domain::webhook::{Delivery, Webhook, WebhookEvent};
use sb_engine::webhooks::{TestQueued, WebhookDraft, WebhookWithSecret};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::json::{ApiJson, Created, Data, Deleted, List, Paging, present};
use crate::openapi::ApiRouter;
use crate::path::PathId;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Webhooks")
        .get("/webhooks", "List the webhooks", list)
        .post(
            "/webhooks",
            "Send conversation events to a URL; answers with the signing secret, shown once",
            create,
        )
        .get("/webhooks/{id}", "Show a webhook (never its secret)", show)
        .patch("/webhooks/{id}", "Change a webhook's URL, events, description or `active`", update)
        .delete("/webhooks/{id}", "Delete a webhook and its delivery log", remove)
        .post(
            "/webhooks/{id}/test",
            "Send a `webhook.test` event (at most 10 a minute per webhook); its outcome appears in the delivery log",
            test,
        )
        .post(
            "/webhooks/{id}/rotate-secret",
            "A new signing secret, shown once; the old one also signs for 24 hours",
            rotate,
        )
        .get(
            "/webhooks/{id}/deliveries",
            "The delivery log: newest first, each delivery with its attempts",
            deliveries,
        )
}

/// The subscribable event names.
fn subscribable(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = WebhookEvent::SUBSCRIBABLE.iter().map(|e| e.as_str()).collect();
    schemars::json_schema!({
        "type": "array",
        "items": {"type": "string", "enum": names},
        "minItems": 1,
        "description": "The events to send (see docs/webhooks.md).",
    })
}

/// A webhook to create.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "WebhookInput")]
struct CreateBody {
    /// `http(s)://…`, held to the same SSRF rules as connections.
    url: String,
    #[schemars(schema_with = "subscribable")]
    events: Vec<String>,
    description: Option<String>,
    /// Default true.
    active: Option<bool>,
}

/// The fields of a webhook to change.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "WebhookUpdate")]
struct UpdateBody {
    url: Option<String>,
    #[schemars(schema_with = "subscribable")]
    events: Option<Vec<String>>,
    /// `null` (or `""`) clears it.
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    /// False pauses deliveries; true resumes them (and clears `disabled_reason`).
    active: Option<bool>,
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateBody>,
) -> ApiResult<Created<WebhookWithSecret>> {
    let draft = WebhookDraft {
        url: Some(body.url),
        events: Some(body.events),
        description: body.description,
        active: body.active,
    };
    Ok(Created(state.webhooks.create_webhook(&actor, draft).await?))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Paging(page): Paging,
) -> ApiResult<List<Webhook>> {
    Ok(List(state.webhooks.list_webhooks(&actor, &page).await?))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WebhookId>,
) -> ApiResult<Data<Webhook>> {
    Ok(Data(state.webhooks.get_webhook(&actor, &id).await?))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WebhookId>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<Data<Webhook>> {
    let draft = WebhookDraft {
        url: body.url,
        events: body.events,
        description: body.description.map(Option::unwrap_or_default),
        active: body.active,
    };
    Ok(Data(state.webhooks.update_webhook(&actor, &id, draft).await?))
}

async fn remove(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WebhookId>,
) -> ApiResult<Data<Deleted>> {
    state.webhooks.delete_webhook(&actor, &id).await?;
    Ok(Deleted::id(id))
}

async fn test(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WebhookId>,
) -> ApiResult<Created<TestQueued>> {
    Ok(Created(state.webhooks.test_webhook(&actor, &id).await?))
}

async fn rotate(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WebhookId>,
) -> ApiResult<Data<WebhookWithSecret>> {
    Ok(Data(state.webhooks.rotate_webhook_secret(&actor, &id).await?))
}

async fn deliveries(
    State(state): State<AppState>,
    Auth(actor): Auth,
    PathId(id): PathId<WebhookId>,
    Paging(page): Paging,
) -> ApiResult<List<Delivery>> {
    Ok(List(state.webhooks.webhook_deliveries(&actor, &id, &page).await?))
}
