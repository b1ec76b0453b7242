//! Importing endpoints from an OpenAPI document (given, or fetched from a URL through the
//! SSRF-safe client): converted by `sb_connectors::openapi`, each draft validated like a created
//! endpoint, names checked against the account, and all of them stored in one transaction.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use sb_connectors::openapi::{self, Options, Skipped};
use sb_domain::{
    ApiKeyPlacement, AuthConfig, ConnectionId, Endpoint, EndpointId, EndpointRequest, Role,
    ValidationError,
};
use sb_net::{Method, NetConfig, OutboundRequest, Url};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::endpoints::{EndpointDraft, new_endpoint};
use super::validate::check_public_url;
use crate::fair_slots::{FairSlots, Slot};
use crate::{Actor, ConnectionsService, EngineError};

/// The largest document imported: the request body limit of the import route, and the most a
/// URL fetch for an import reads (GitHub's REST description is 13 MB).
pub const IMPORT_MAX_BYTES: usize = 32 * 1024 * 1024;
/// The deadline for fetching a document from a URL.
pub const IMPORT_FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The import slots of this node: parsing and converting a large document takes a core and up
/// to a few hundred MB for a while, so at most [`OpenApiImport::MAX_CONCURRENT`] run at once —
/// one per tenant, so a tenant's slow imports never hold every slot.
static IMPORT_SLOTS: LazyLock<Arc<FairSlots>> =
    LazyLock::new(|| FairSlots::new(OpenApiImport::MAX_CONCURRENT, 1));

/// An import request: the document (`spec`: an object, or JSON or YAML text) or where to fetch
/// it (`url`) — one of the two.
#[derive(Debug, Default)]
pub struct OpenApiImport {
    pub spec: Option<Value>,
    pub url: Option<String>,
    /// Convert and check everything, store nothing.
    pub dry_run: bool,
    /// Let the AI call every imported endpoint as a tool (their descriptions come from the
    /// document's summaries).
    pub ai_tool: bool,
}

impl OpenApiImport {
    /// Imports this node runs at once, one per tenant; others wait a while for a slot, tenants
    /// taking turns, then are answered `busy`.
    pub const MAX_CONCURRENT: usize = 2;
    /// How long an import waits for a slot.
    pub const SLOT_WAIT: Duration = Duration::from_secs(20);
}

/// An endpoint an import created (or, in a dry run, would create).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ImportedEndpoint {
    /// The new endpoint's id; null in a dry run, where nothing is stored.
    pub id: Option<EndpointId>,
    pub connection_id: ConnectionId,
    pub name: String,
    pub description: String,
    #[serde(flatten)]
    pub request: EndpointRequest,
    /// The AI may call it as a tool (`ai_tool` of the import).
    pub ai_tool: bool,
    /// The operation it comes from, as the document writes it: `GET /pets/{petId}`.
    pub operation: String,
    /// What the import could not carry over (a body to add by hand, headers left out, …).
    pub notes: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ImportResult {
    /// True when nothing was stored.
    pub dry_run: bool,
    /// The document's version: `2.0` (Swagger), `3.0` or `3.1`.
    pub openapi: String,
    /// The document's `info.title`.
    pub title: Option<String>,
    /// The document's server URLs, variables replaced by their defaults.
    pub servers: Vec<String>,
    pub created: Vec<ImportedEndpoint>,
    /// Operations that did not become endpoints, each with the reason.
    pub skipped: Vec<Skipped>,
}

/// Parses text off the async threads (a large document takes a while), holding the slot.
async fn parse(
    text: String,
    field: &'static str,
    slot: Slot,
) -> Result<(Value, Slot), EngineError> {
    let (parsed, slot) =
        tokio::task::spawn_blocking(move || (openapi::parse_text(&text), slot)).await.map_err(
            |err| EngineError::Internal(format!("parsing an OpenAPI document failed: {err}")),
        )?;
    match parsed {
        Ok(value) => Ok((value, slot)),
        Err(err) => Err(ValidationError::new(field, "invalid_spec", err.0).into()),
    }
}

impl ConnectionsService {
    /// Creates an endpoint for every operation of an OpenAPI document that the connection can
    /// call, and says why the others were skipped.
    pub async fn import_openapi(
        &self,
        actor: &Actor,
        id: &ConnectionId,
        import: OpenApiImport,
    ) -> Result<ImportResult, EngineError> {
        actor.require(Role::Admin)?;
        // Another tenant's connection is not found, before anything is fetched.
        let connection =
            self.store.connections.get_connection(&actor.tenant_id, id).await?.connection;
        // Held until the import ends (also by the blocking parse and conversion, should the
        // caller go away meanwhile).
        let waiting = IMPORT_SLOTS.acquire(&actor.tenant_id);
        let Ok(slot) = tokio::time::timeout(OpenApiImport::SLOT_WAIT, waiting).await else {
            return Err(EngineError::Busy {
                code: "busy",
                message: "other OpenAPI imports are running on this server (or your account's import is still running); try again shortly",
                retry_after: Duration::from_secs(10),
            });
        };
        let (document, field, slot) = match (import.spec, import.url) {
            (Some(_), Some(_)) => {
                return Err(ValidationError::new(
                    "url",
                    "invalid_field",
                    "give the document as spec or a url to fetch it from, not both",
                )
                .into());
            }
            (Some(document @ Value::Object(_)), None) => (document, "spec", slot),
            (Some(Value::String(text)), None) => {
                let (document, slot) = parse(text, "spec", slot).await?;
                (document, "spec", slot)
            }
            (Some(_), None) => {
                return Err(ValidationError::new(
                    "spec",
                    "invalid_spec",
                    "spec must be the document: a JSON object, or its text (JSON or YAML)",
                )
                .into());
            }
            (None, Some(url)) => {
                let (document, slot) = parse(self.fetch_document(&url).await?, "url", slot).await?;
                (document, "url", slot)
            }
            (None, None) => {
                return Err(ValidationError::new(
                    "spec",
                    "missing_field",
                    "give the document as spec, or a url to fetch it from",
                )
                .into());
            }
        };

        let mut provided_headers: Vec<String> = connection.headers.keys().cloned().collect();
        let mut provided_query = Vec::new();
        if let AuthConfig::ApiKey { placement, name } = &connection.auth {
            match placement {
                ApiKeyPlacement::Header => provided_headers.push(name.clone()),
                ApiKeyPlacement::Query => provided_query.push(name.clone()),
            }
        }
        let base_url = connection.base_url.clone();
        let conversion = tokio::task::spawn_blocking(move || {
            let options = Options { base_url: &base_url, provided_headers, provided_query };
            let conversion = openapi::convert(&document, &options);
            // The document is freed before the slot is given back.
            drop(document);
            drop(slot);
            conversion
        })
        .await
        .map_err(|err| {
            EngineError::Internal(format!("converting an OpenAPI document failed: {err}"))
        })?
        .map_err(|err| ValidationError::new(field, "not_openapi", err.0))?;

        let taken: HashSet<String> =
            self.store.connections.endpoint_names(&actor.tenant_id).await?.into_iter().collect();
        let exists = |name: &str| format!("an endpoint named {name} already exists");
        let mut skipped = conversion.skipped;
        let mut endpoints: Vec<Endpoint> = Vec::new();
        let mut about: Vec<(String, Vec<String>)> = Vec::new();
        for draft in conversion.drafts {
            if taken.contains(&draft.name) {
                skipped.push(Skipped { operation: draft.operation, reason: exists(&draft.name) });
                continue;
            }
            let submitted = EndpointDraft {
                name: Some(draft.name),
                description: Some(draft.description),
                ai_tool: Some(import.ai_tool),
                ..draft.request.into()
            };
            match new_endpoint(&actor.tenant_id, &connection.id, submitted) {
                Ok(endpoint) => {
                    endpoints.push(endpoint);
                    about.push((draft.operation, draft.notes));
                }
                Err(err) => skipped.push(Skipped {
                    operation: draft.operation,
                    reason: format!(
                        "the endpoint would not be valid: {}: {}",
                        err.field, err.message
                    ),
                }),
            }
        }

        let stored = if import.dry_run {
            vec![false; endpoints.len()]
        } else {
            self.store.connections.create_endpoints(&endpoints).await?
        };
        let mut created = Vec::with_capacity(endpoints.len());
        for ((endpoint, (operation, notes)), stored) in endpoints.into_iter().zip(about).zip(stored)
        {
            if !import.dry_run && !stored {
                // Created meanwhile by someone else.
                skipped.push(Skipped { operation, reason: exists(&endpoint.name) });
                continue;
            }
            created.push(ImportedEndpoint {
                id: (!import.dry_run).then_some(endpoint.id),
                connection_id: endpoint.connection_id,
                name: endpoint.name,
                description: endpoint.description,
                request: endpoint.request,
                ai_tool: endpoint.ai_tool,
                operation,
                notes,
            });
        }
        if !import.dry_run {
            tracing::info!(
                connection_id = %connection.id,
                created = created.len(),
                skipped = skipped.len(),
                "endpoints imported from an OpenAPI document"
            );
        }
        Ok(ImportResult {
            dry_run: import.dry_run,
            openapi: conversion.version.as_str().to_owned(),
            title: conversion.title,
            servers: conversion.servers,
            created,
            skipped,
        })
    }

    /// Fetches a document through the SSRF-safe client, allowing [`IMPORT_MAX_BYTES`].
    async fn fetch_document(&self, url: &str) -> Result<String, EngineError> {
        let invalid =
            |code: &'static str, message: String| ValidationError::new("url", code, message);
        let parsed = Url::parse(url.trim())
            .map_err(|err| invalid("invalid_url", format!("not a URL: {err}")))?;
        let http = self.connector.http();
        check_public_url("url", &parsed, http.policy())?;
        let client = http.with_config(NetConfig {
            max_body_bytes: IMPORT_MAX_BYTES,
            max_timeout: IMPORT_FETCH_TIMEOUT,
            ..http.config().clone()
        });
        let request = OutboundRequest::from_url(Method::GET, parsed)
            .header("accept", "application/json, application/yaml, text/yaml;q=0.9, */*;q=0.5")
            .map_err(|err| invalid(err.code(), err.to_string()))?;
        let response = client.send(request).await.map_err(|err| {
            invalid(err.code(), format!("the document could not be fetched: {err}"))
        })?;
        if !response.status.is_success() {
            return Err(invalid(
                "fetch_failed",
                format!(
                    "the document could not be fetched: the server answered {}",
                    response.status
                ),
            )
            .into());
        }
        String::from_utf8(response.body.to_vec())
            .map_err(|_| invalid("invalid_spec", "the document is not UTF-8 text".into()).into())
    }
}
