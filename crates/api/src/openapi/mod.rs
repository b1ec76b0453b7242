//! The OpenAPI 3.1 description of `/api/v1`, assembled while the routes are registered: every
//! route goes through [`ApiRouter`], which records an operation whose request body, path id,
//! query parameters, authentication and answers are read from the handler's own argument and
//! return types (see [`describe`]). What is routed is what is documented, by construction.

mod describe;
mod service;

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

pub(crate) use describe::DescribeHandler;

use crate::state::AppState;

/// One documented operation, filled in by the handler's types.
#[derive(Debug, Default)]
pub struct Operation {
    pub(crate) method: &'static str,
    pub(crate) path: String,
    summary: &'static str,
    tag: &'static str,
    parameters: Vec<Value>,
    request_body: Option<Value>,
    security: Vec<&'static str>,
    responses: BTreeMap<String, Value>,
}

impl Operation {
    pub(crate) fn add_parameter(&mut self, parameter: Value) {
        self.parameters.push(parameter);
    }

    pub(crate) fn set_request_body(&mut self, schema: Value, required: bool) {
        self.request_body = Some(json!({
            "required": required,
            "content": {"application/json": {"schema": schema}},
        }));
    }

    /// A required request body of another media type than JSON (file uploads).
    pub(crate) fn set_request_body_as(&mut self, media_type: &str, schema: Value) {
        self.request_body = Some(json!({
            "required": true,
            "content": {media_type: {"schema": schema}},
        }));
    }

    pub(crate) fn allow(&mut self, scheme: &'static str) {
        self.security.push(scheme);
    }

    /// Documents an answer; `schema` None: no JSON body.
    pub(crate) fn respond(&mut self, status: &str, description: &str, schema: Option<Value>) {
        let mut response = json!({ "description": description });
        if let Some(schema) = schema {
            response["content"] = json!({"application/json": {"schema": schema}});
        }
        self.responses.insert(status.to_owned(), response);
    }

    /// Documents an answer whose body is not the API's JSON (a file), as its media types.
    pub(crate) fn respond_with(&mut self, status: &str, description: &str, content: Value) {
        let response = json!({ "description": description, "content": content });
        self.responses.insert(status.to_owned(), response);
    }

    /// Documents an error answer (one of the named error responses), unless that status is
    /// already described.
    pub(crate) fn fail(&mut self, status: &str, name: &str) {
        debug_assert!(describe::is_error(status, name), "{status} {name} is not a known error");
        if !self.responses.contains_key(status) {
            let reference = json!({ "$ref": format!("#/components/responses/{name}") });
            self.responses.insert(status.to_owned(), reference);
        }
    }

    fn to_json(&self) -> Value {
        let mut operation = json!({
            "tags": [self.tag],
            "summary": self.summary,
            "operationId": operation_id(self.method, &self.path),
            "responses": self.responses,
        });
        if !self.parameters.is_empty() {
            operation["parameters"] = Value::from(self.parameters.clone());
        }
        if let Some(body) = &self.request_body {
            operation["requestBody"] = body.clone();
        }
        // No entry: public. Otherwise any one of the schemes authenticates.
        let security: Vec<Value> =
            self.security.iter().map(|scheme| json!({ *scheme: [] })).collect();
        operation["security"] = Value::from(security);
        operation
    }
}

/// `get /conversations/{id}/messages` -> `getConversationsIdMessages`, stable and unique.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for word in path.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    id
}

/// Generates the schemas of request bodies (as they are read) and answers (as they are written).
pub struct Schemas {
    pub(crate) requests: SchemaGenerator,
    pub(crate) responses: SchemaGenerator,
}

impl Schemas {
    fn new() -> Self {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        });
        Self {
            requests: settings.clone().for_deserialize().into_generator(),
            responses: settings.for_serialize().into_generator(),
        }
    }
}

type Describe = fn(&mut Operation, &mut Schemas);

/// An axum router for one resource that documents each route it registers.
pub(crate) struct ApiRouter {
    router: Router<AppState>,
    tag: &'static str,
    operations: Vec<(Operation, Describe)>,
}

macro_rules! method {
    ($name:ident, $routing:ident, $verb:literal) => {
        pub(crate) fn $name<H, T, D>(self, path: &str, summary: &'static str, handler: H) -> Self
        where
            H: Handler<T, AppState> + DescribeHandler<D>,
            T: 'static,
        {
            self.documented($verb, path, summary, $routing(handler), H::describe)
        }
    };
}

impl ApiRouter {
    /// Routes of one kind of resource, grouped under `tag` in the description.
    pub(crate) fn new(tag: &'static str) -> Self {
        Self { router: Router::new(), tag, operations: Vec::new() }
    }

    method!(get, get, "get");
    method!(post, post, "post");
    method!(put, put, "put");
    method!(patch, patch, "patch");
    method!(delete, delete, "delete");

    fn documented(
        mut self,
        method: &'static str,
        path: &str,
        summary: &'static str,
        route: MethodRouter<AppState>,
        describe: Describe,
    ) -> Self {
        self.router = self.router.route(path, route);
        let operation = Operation {
            method,
            path: path.to_owned(),
            summary,
            tag: self.tag,
            ..Default::default()
        };
        self.operations.push((operation, describe));
        self
    }

    /// A route that is not part of the described API (CORS preflights, for instance).
    pub(crate) fn undocumented(mut self, path: &str, route: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, route);
        self
    }

    pub(crate) fn merge(mut self, other: ApiRouter) -> Self {
        self.router = self.router.merge(other.router);
        self.operations.extend(other.operations);
        self
    }

    /// Applies `wrap` to the router (for layers); the description is unchanged.
    pub(crate) fn map_router(
        mut self,
        wrap: impl FnOnce(Router<AppState>) -> Router<AppState>,
    ) -> Self {
        self.router = wrap(self.router);
        self
    }

    /// The router, and the description of its routes served under `prefix`.
    pub(crate) fn finish(self, prefix: &str) -> (Router<AppState>, Value) {
        let mut schemas = Schemas::new();
        let mut operations = Vec::with_capacity(self.operations.len());
        for (mut operation, describe) in self.operations {
            describe(&mut operation, &mut schemas);
            operation.fail("default", "Error");
            operations.push(operation);
        }
        let (components, renamed) = components(schemas);
        let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        for mut operation in operations {
            // Request bodies and parameters were generated with the request-side names.
            for parameter in &mut operation.parameters {
                rename_refs(parameter, &renamed);
            }
            if let Some(body) = &mut operation.request_body {
                rename_refs(body, &renamed);
            }
            let path = format!("{prefix}{}", operation.path);
            paths.entry(path).or_default().insert(operation.method.into(), operation.to_json());
        }
        let mut paths: BTreeMap<String, Value> =
            paths.into_iter().map(|(path, ops)| (path, Value::Object(ops))).collect();
        paths.extend(service::paths(prefix));
        (self.router, document(paths, components))
    }
}

/// The named schemas of answers and of requests. A type read and written differently (a field
/// with a default is optional in a request but always present in an answer) gets a second,
/// request-side schema named `<Name>Input`; so does any request-side schema that refers to one.
fn components(mut schemas: Schemas) -> (Map<String, Value>, BTreeSet<String>) {
    let mut components = schemas.responses.take_definitions(true);
    let requests = schemas.requests.take_definitions(true);
    let mut renamed = BTreeSet::new();
    loop {
        let differing: Vec<String> = requests
            .iter()
            .filter(|(name, _)| !renamed.contains(*name))
            .filter(|(name, schema)| {
                let mut schema = (*schema).clone();
                rename_refs(&mut schema, &renamed);
                components.get(*name).is_some_and(|answer| *answer != schema)
            })
            .map(|(name, _)| name.clone())
            .collect();
        if differing.is_empty() {
            break;
        }
        renamed.extend(differing);
    }
    for (name, mut schema) in requests {
        rename_refs(&mut schema, &renamed);
        let name = if renamed.contains(&name) { input_name(&name) } else { name };
        if let Some(existing) = components.get(&name) {
            assert_eq!(*existing, schema, "two different schemas are both named {name}");
        }
        components.insert(name, schema);
    }
    components.insert("Error".into(), describe::error_schema());
    (components, renamed)
}

fn input_name(name: &str) -> String {
    format!("{name}Input")
}

/// Points `$ref`s to the request-side versions of the renamed schemas.
fn rename_refs(value: &mut Value, renamed: &BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get_mut("$ref")
                && let Some(name) = target.strip_prefix(SCHEMAS)
                && renamed.contains(name)
            {
                *target = format!("{SCHEMAS}{}", input_name(name));
            }
            map.values_mut().for_each(|v| rename_refs(v, renamed));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, renamed)),
        _ => {}
    }
}

const SCHEMAS: &str = "#/components/schemas/";

fn document(paths: BTreeMap<String, Value>, components: Map<String, Value>) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The HTTP API of Switchboard. Conventions (errors, paging, \
                authentication) are described in docs/api.md.",
            "license": {"name": env!("CARGO_PKG_LICENSE"), "identifier": env!("CARGO_PKG_LICENSE")},
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": describe::error_responses(),
            "securitySchemes": describe::security_schemes(),
        },
    })
}
