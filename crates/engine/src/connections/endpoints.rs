//! Managing endpoints (request templates on a connection) and the endpoint test.

use std::collections::{BTreeMap, BTreeSet};

use sb_connectors::mapping::JsonPath;
use sb_connectors::template::parse_body;
use sb_connectors::{CallOutcome, CallTarget, NoSink, Template, Variables};
use sb_domain::action::Approval;
use sb_domain::pattern;
use sb_domain::{
    ConnectionId, Endpoint, EndpointId, EndpointRequest, HttpMethod, MAX_CACHE_TTL_S, Role,
    TestSummary, Timestamp, ValidationError, VariableSpec, default_expected_statuses,
    validate_endpoint_name, validate_variable_name,
};
use sb_store::{Page, PageRequest};

use super::{summary, validate};
use crate::{Actor, ConnectionsService, EngineError};

/// An endpoint as submitted; on update, absent fields keep their value.
#[derive(Debug, Default)]
pub struct EndpointDraft {
    pub name: Option<String>,
    pub description: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub query: Option<BTreeMap<String, String>>,
    pub headers: Option<BTreeMap<String, String>>,
    /// `Some(None)` removes the body.
    pub body: Option<Option<serde_json::Value>>,
    pub variables: Option<Vec<VariableSpec>>,
    pub response_mapping: Option<BTreeMap<String, String>>,
    /// `Some(None)` returns to the connection's timeout.
    pub timeout_ms: Option<Option<u32>>,
    pub ai_tool: Option<bool>,
    pub idempotent: Option<bool>,
    pub requires_verified_visitor: Option<bool>,
    /// `Some(None)` turns caching off.
    pub cache_ttl_s: Option<Option<u32>>,
    /// `none`, `visitor`, `operator`, `visitor_and_operator`; absent: the method's default.
    pub approval: Option<String>,
    pub approval_summary: Option<String>,
    /// Statuses besides 2xx that are normal answers; absent: the method's default.
    pub expected_statuses: Option<Vec<u16>>,
}

/// An endpoint as shown: its definition and its last real call.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct EndpointView {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// The endpoint's last call from a conversation (tests are not counted); null if none.
    pub last_call: Option<TestSummary>,
    /// The values a call needs, each once: the declared variables, then the others its
    /// templates use (a rule's `CALL_API` fills them through `arguments`).
    pub inputs: Vec<String>,
}

impl EndpointView {
    fn new(endpoint: Endpoint, last_call: Option<TestSummary>) -> Self {
        Self { inputs: endpoint.inputs(), endpoint, last_call }
    }
}

pub struct EndpointTest {
    pub variables: Variables,
    pub confirm: bool,
}

fn path_template(path: &str) -> Result<String, ValidationError> {
    let invalid = |message: &str| ValidationError::new("path", "invalid_path", message);
    if !path.starts_with('/') {
        return Err(invalid("must start with /"));
    }
    if path.contains(['?', '#']) {
        return Err(invalid("put query parameters in query, not in the path"));
    }
    if path.split('/').any(|segment| segment == "." || segment == "..") {
        return Err(invalid("cannot contain . or .. segments"));
    }
    validate::text("path", path, 2000)?;
    Template::parse("path", path)?;
    Ok(path.to_owned())
}

fn variables(specs: &[VariableSpec]) -> Result<(), ValidationError> {
    let mut seen = BTreeSet::new();
    for (i, spec) in specs.iter().enumerate() {
        validate_variable_name(format!("variables[{i}].name"), &spec.name)?;
        if !seen.insert(spec.name.as_str()) {
            return Err(ValidationError::new(
                format!("variables[{i}].name"),
                "duplicate_variable",
                format!("{} is declared twice", spec.name),
            ));
        }
        validate::text(&format!("variables[{i}].description"), &spec.description, 1000)?;
        if let Some(p) = &spec.pattern {
            pattern::compile(p).map_err(|why| {
                ValidationError::new(format!("variables[{i}].pattern"), "invalid_pattern", why)
            })?;
        }
    }
    Ok(())
}

pub(crate) fn response_mapping(mapping: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    for (variable, path) in mapping {
        let field = format!("response_mapping.{variable}");
        validate_variable_name(field.clone(), variable)?;
        // Switchboard's own values (who the visitor is, above all) come from the conversation,
        // never from a backend's answer.
        if sb_domain::is_built_in(variable) {
            let message =
                format!("{variable} is one of Switchboard's own values: map into another name");
            return Err(ValidationError::new(field, "built_in_variable", message));
        }
        JsonPath::parse(path).map_err(|why| ValidationError::new(field, "invalid_path", why))?;
    }
    Ok(())
}

fn query(templates: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    for (name, value) in templates {
        let field = format!("query.{name}");
        if name.trim().is_empty() {
            return Err(ValidationError::new(
                field,
                "invalid_field",
                "parameter names cannot be empty",
            ));
        }
        Template::parse(&field, value)?;
    }
    Ok(())
}

/// Applies a draft to an endpoint (new or stored) and validates the result as a whole.
fn apply(endpoint: &mut Endpoint, draft: EndpointDraft) -> Result<(), ValidationError> {
    if let Some(name) = draft.name {
        validate_endpoint_name(&name)?;
        endpoint.name = name;
    }
    if let Some(description) = draft.description {
        endpoint.description = validate::text("description", &description, 2000)?;
    }
    if let Some(method) = draft.method {
        let method: HttpMethod = method.parse()?;
        // Made to change data without a word on approval: it waits for the visitor, as new
        // endpoints that change data do.
        if method.changes_data()
            && !endpoint.request.method.changes_data()
            && endpoint.approval == Approval::None
        {
            endpoint.approval = Approval::default_for(method);
        }
        // Statuses left at the old method's default follow the method.
        if endpoint.expected_statuses == default_expected_statuses(endpoint.request.method) {
            endpoint.expected_statuses = default_expected_statuses(method);
        }
        endpoint.request.method = method;
    }
    if let Some(path) = draft.path {
        endpoint.request.path = path_template(&path)?;
    }
    if let Some(q) = draft.query {
        query(&q)?;
        endpoint.request.query = q;
    }
    if let Some(headers) = draft.headers {
        validate::headers("headers", &headers)?;
        endpoint.request.headers = headers;
    }
    if let Some(body) = draft.body {
        if let Some(body) = &body {
            parse_body("body", body)?;
        }
        endpoint.request.body = body;
    }
    if let Some(specs) = draft.variables {
        variables(&specs)?;
        endpoint.request.variables = specs;
    }
    if let Some(mapping) = draft.response_mapping {
        response_mapping(&mapping)?;
        endpoint.response_mapping = mapping;
    }
    if let Some(timeout) = draft.timeout_ms {
        endpoint.timeout_ms = timeout.map(|t| validate::timeout_ms("timeout_ms", t)).transpose()?;
    }
    if let Some(approval) = draft.approval {
        endpoint.approval = approval.parse()?;
    }
    if let Some(summary) = draft.approval_summary {
        let summary = validate::text("approval_summary", &summary, 500)?;
        Template::parse("approval_summary", &summary)?;
        endpoint.approval_summary = summary;
    }
    if let Some(statuses) = draft.expected_statuses {
        endpoint.expected_statuses = expected_statuses(statuses)?;
    }
    endpoint.ai_tool = draft.ai_tool.unwrap_or(endpoint.ai_tool);
    endpoint.idempotent = draft.idempotent.unwrap_or(endpoint.idempotent);
    endpoint.requires_verified_visitor =
        draft.requires_verified_visitor.unwrap_or(endpoint.requires_verified_visitor);
    if let Some(ttl) = draft.cache_ttl_s {
        endpoint.cache_ttl_s = ttl;
    }
    cache_ttl(endpoint)?;
    sb_domain::verified_calls::check_verified_endpoint(endpoint)?;
    if endpoint.request.body.is_some()
        && matches!(endpoint.request.method, HttpMethod::Get | HttpMethod::Head)
    {
        return Err(ValidationError::new(
            "body",
            "invalid_field",
            format!("{} requests cannot have a body", endpoint.request.method.as_str()),
        ));
    }
    Ok(())
}

/// Statuses a backend may answer normally: real statuses, each once, sorted. 2xx always are
/// (listing them, as in `[200, 404]`, changes nothing).
fn expected_statuses(mut statuses: Vec<u16>) -> Result<Vec<u16>, ValidationError> {
    let field = "expected_statuses";
    if statuses.len() > 20 {
        return Err(ValidationError::new(field, "too_many", "list at most 20 statuses"));
    }
    if let Some(i) = statuses.iter().position(|s| !(100..=599).contains(s)) {
        let message = "a status is a number from 100 to 599";
        return Err(ValidationError::new(format!("{field}[{i}]"), "invalid_status", message));
    }
    statuses.sort_unstable();
    statuses.dedup();
    Ok(statuses)
}

/// Caching is for lookups: GET only, and never for answers about one verified visitor (another
/// visitor's identical request must not be served their data).
fn cache_ttl(endpoint: &Endpoint) -> Result<(), ValidationError> {
    let Some(ttl) = endpoint.cache_ttl_s else { return Ok(()) };
    let refuse = |code, message: String| Err(ValidationError::new("cache_ttl_s", code, message));
    if !(1..=MAX_CACHE_TTL_S).contains(&ttl) {
        return refuse(
            "out_of_range",
            format!("cache_ttl_s must be 1–{MAX_CACHE_TTL_S} seconds, or null"),
        );
    }
    if endpoint.request.method != HttpMethod::Get {
        return refuse(
            "cache_not_allowed",
            format!("only GET answers are cached, not {}", endpoint.request.method.as_str()),
        );
    }
    if endpoint.requires_verified_visitor {
        return refuse(
            "cache_not_allowed",
            "endpoints for verified visitors are never cached: their answers belong to one visitor"
                .into(),
        );
    }
    Ok(())
}

/// An OpenAPI operation's endpoint, as if submitted.
impl From<EndpointRequest> for EndpointDraft {
    fn from(request: EndpointRequest) -> Self {
        EndpointDraft {
            method: Some(request.method.as_str().to_owned()),
            path: Some(request.path),
            query: Some(request.query),
            headers: Some(request.headers),
            body: Some(request.body),
            variables: Some(request.variables),
            ..EndpointDraft::default()
        }
    }
}

/// A new endpoint of `connection` from a draft that names at least its name, method and path,
/// validated as a whole (creation and OpenAPI imports).
pub(super) fn new_endpoint(
    tenant: &sb_domain::TenantId,
    connection: &ConnectionId,
    draft: EndpointDraft,
) -> Result<Endpoint, ValidationError> {
    for (field, present) in [
        ("name", draft.name.is_some()),
        ("method", draft.method.is_some()),
        ("path", draft.path.is_some()),
    ] {
        if !present {
            return Err(ValidationError::new(
                field,
                "missing_field",
                format!("missing field `{field}`"),
            ));
        }
    }
    let mut endpoint = Endpoint::new(tenant, connection, String::new(), EndpointRequest::default());
    apply(&mut endpoint, draft)?;
    Ok(endpoint)
}

impl ConnectionsService {
    pub async fn create_endpoint(
        &self,
        actor: &Actor,
        connection: &ConnectionId,
        draft: EndpointDraft,
    ) -> Result<EndpointView, EngineError> {
        actor.require(Role::Admin)?;
        // The connection must be the tenant's own; another tenant's is simply not found.
        let stored = self.store.connections.get_connection(&actor.tenant_id, connection).await?;
        if stored.connection.kind == sb_domain::ConnectionKind::Mcp {
            return Err(EngineError::Conflict {
                code: "mcp_connection",
                message: "an MCP connection's endpoints are its server's tools: read them with POST /connections/{id}/tools/refresh",
            });
        }
        let endpoint = new_endpoint(&actor.tenant_id, connection, draft)?;
        self.store.connections.create_endpoint(&endpoint).await?;
        Ok(EndpointView::new(endpoint, None))
    }

    /// Endpoints with their last calls, found in one query.
    async fn endpoint_views(
        &self,
        tenant: &sb_domain::TenantId,
        endpoints: Vec<Endpoint>,
    ) -> Result<Vec<EndpointView>, EngineError> {
        let ids: Vec<EndpointId> = endpoints.iter().map(|e| e.id.clone()).collect();
        let mut last = self.last_calls(tenant, &ids).await?;
        Ok(endpoints
            .into_iter()
            .map(|endpoint| {
                let last_call = last.remove(&endpoint.id);
                EndpointView::new(endpoint, last_call)
            })
            .collect())
    }

    async fn endpoint_view(&self, endpoint: Endpoint) -> Result<EndpointView, EngineError> {
        let tenant = endpoint.tenant_id.clone();
        let mut views = self.endpoint_views(&tenant, vec![endpoint]).await?;
        views.pop().ok_or_else(|| EngineError::Internal("an endpoint went missing".into()))
    }

    pub async fn update_endpoint(
        &self,
        actor: &Actor,
        id: &EndpointId,
        draft: EndpointDraft,
    ) -> Result<EndpointView, EngineError> {
        actor.require(Role::Admin)?;
        let mut endpoint = self.store.connections.get_endpoint(&actor.tenant_id, id).await?;
        let before = (endpoint.name.clone(), endpoint.request.clone());
        apply(&mut endpoint, draft)?;
        if endpoint.tool.is_some() && (endpoint.name.clone(), endpoint.request.clone()) != before {
            let message = "an MCP tool's name and request are its server's: change its settings, not what it sends";
            return Err(ValidationError::new("request", "tool_request_fixed", message).into());
        }
        endpoint.updated_at = Timestamp::now();
        self.store.connections.update_endpoint(&endpoint).await?;
        self.endpoint_view(endpoint).await
    }

    pub async fn get_endpoint(
        &self,
        actor: &Actor,
        id: &EndpointId,
    ) -> Result<EndpointView, EngineError> {
        actor.require(Role::Admin)?;
        self.endpoint_view(self.store.connections.get_endpoint(&actor.tenant_id, id).await?).await
    }

    pub async fn list_endpoints(
        &self,
        actor: &Actor,
        connection: &ConnectionId,
        page: &PageRequest,
    ) -> Result<Page<EndpointView>, EngineError> {
        actor.require(Role::Admin)?;
        self.store.connections.get_connection(&actor.tenant_id, connection).await?;
        let page =
            self.store.connections.list_endpoints(&actor.tenant_id, connection, page).await?;
        Ok(Page {
            items: self.endpoint_views(&actor.tenant_id, page.items).await?,
            next: page.next,
        })
    }

    pub async fn delete_endpoint(&self, actor: &Actor, id: &EndpointId) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.connections.delete_endpoint(&actor.tenant_id, id).await?)
    }

    /// Calls the endpoint with sample variables. Endpoints that change data are only called with
    /// explicit confirmation; without it nothing is sent.
    pub async fn test_endpoint(
        &self,
        actor: &Actor,
        id: &EndpointId,
        test: EndpointTest,
    ) -> Result<CallOutcome, EngineError> {
        actor.require(Role::Admin)?;
        let endpoint = self.store.connections.get_endpoint(&actor.tenant_id, id).await?;
        if endpoint.request.method.changes_data() && !test.confirm {
            return Err(EngineError::ConfirmationRequired(format!(
                "{} may change data on the backend; send \"confirm\": true to call it",
                endpoint.request.method.as_str()
            )));
        }
        let stored = self
            .store
            .connections
            .get_connection(&actor.tenant_id, &endpoint.connection_id)
            .await?;
        let secrets = self.open_secrets(&stored)?;
        let target = CallTarget { connection: &stored.connection, secrets: &secrets };
        let outcome = self.connector.execute(target, &endpoint, &test.variables, &NoSink).await;
        self.store
            .connections
            .record_endpoint_test(&actor.tenant_id, id, &summary(&outcome))
            .await?;
        Ok(outcome)
    }
}
