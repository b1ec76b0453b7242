//! How each extractor and answer type of the API documents itself. A handler is described by
//! its arguments (in order) and then its return type; a type used in a handler without an
//! implementation here does not compile, so nothing reaches the API undescribed.

use std::future::Future;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use schemars::JsonSchema;
use serde_json::{Value, json};

use super::{Operation, Schemas};
use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::cookies::WithCookies;
use crate::error::ApiError;
use crate::json::{Accepted, ApiJson, Created, Data, List, NoContent, OptionalJson, Paging};
use crate::path::{ActionPathId, PathId};
use crate::realtime::Upgraded;
use crate::visitor::{Handled, Sent, VisitorConversation};

/// An argument of a handler.
pub(crate) trait DescribeInput {
    fn describe(_operation: &mut Operation, _schemas: &mut Schemas) {}
}

/// The return type of a handler.
pub(crate) trait DescribeOutput {
    fn describe(operation: &mut Operation, schemas: &mut Schemas);
}

/// A handler, described through its argument and return types. `D` only tells the arities apart.
pub(crate) trait DescribeHandler<D> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas);
}

macro_rules! describe_handler {
    ($($arg:ident),*) => {
        impl<F, Fut, $($arg,)*> DescribeHandler<(Fut, $($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Fut,
            Fut: Future,
            Fut::Output: DescribeOutput,
            $($arg: DescribeInput,)*
        {
            fn describe(operation: &mut Operation, schemas: &mut Schemas) {
                $(<$arg as DescribeInput>::describe(operation, schemas);)*
                <Fut::Output as DescribeOutput>::describe(operation, schemas);
            }
        }
    };
}

describe_handler!();
describe_handler!(A1);
describe_handler!(A1, A2);
describe_handler!(A1, A2, A3);
describe_handler!(A1, A2, A3, A4);
describe_handler!(A1, A2, A3, A4, A5);
describe_handler!(A1, A2, A3, A4, A5, A6);
describe_handler!(A1, A2, A3, A4, A5, A6, A7);

impl<S> DescribeInput for State<S> {}
impl<T: DescribeInput, E> DescribeInput for Result<T, E> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        T::describe(operation, schemas);
    }
}
impl DescribeInput for HeaderMap {}
/// A provider's own JSON (a Telegram update), read by the engine as the provider writes it.
impl DescribeInput for axum::body::Bytes {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        let schema =
            json!({"type": "object", "description": "The provider's update, as it sends it"});
        operation.set_request_body_as("application/json", schema);
        operation.fail("400", "Malformed");
        operation.fail("401", "Unauthenticated");
        operation.fail("422", "Invalid");
    }
}
impl DescribeInput for ClientIp {}
impl DescribeInput for axum::extract::ws::WebSocketUpgrade {}

impl DescribeInput for VisitorConversation {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        path_id::<sb_domain::ConversationId>(operation, schemas);
        operation.allow("visitorToken");
        operation.fail("401", "Unauthenticated");
        operation.fail("403", "Forbidden");
    }
}

impl DescribeInput for Auth {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        operation.allow("apiKey");
        operation.allow("session");
        operation.fail("401", "Unauthenticated");
        operation.fail("403", "Forbidden");
    }
}

fn describe_body<T: JsonSchema>(operation: &mut Operation, schemas: &mut Schemas, required: bool) {
    let schema = schemas.requests.subschema_for::<T>().to_value();
    operation.set_request_body(schema, required);
    operation.fail("400", "Malformed");
    operation.fail("413", "TooLarge");
    operation.fail("415", "UnsupportedMediaType");
    operation.fail("422", "Invalid");
}

impl<T: JsonSchema> DescribeInput for ApiJson<T> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        describe_body::<T>(operation, schemas, true);
    }
}

impl<T: JsonSchema> DescribeInput for OptionalJson<T> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        describe_body::<T>(operation, schemas, false);
    }
}

impl<T: JsonSchema> DescribeInput for PathId<T> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        path_id::<T>(operation, schemas);
    }
}

impl<T: JsonSchema> DescribeInput for ActionPathId<T> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        path_segment::<T>(operation, schemas, "action_id");
    }
}

impl<T: JsonSchema> DescribeInput for crate::path::AttachmentPathId<T> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        path_segment::<T>(operation, schemas, "attachment_id");
    }
}

impl DescribeInput for crate::attachments::FileForm {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        let schema = json!({
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {
                    "type": "array",
                    "items": {"type": "string", "format": "binary"},
                    "description": "One to five files, each within the account's size and types",
                },
                "text": {"type": "string", "description": "An optional caption"},
            },
        });
        operation.set_request_body_as("multipart/form-data", schema);
        operation.fail("400", "Malformed");
        operation.fail("413", "TooLarge");
        operation.fail("415", "UnsupportedMediaType");
        operation.fail("422", "Invalid");
    }
}

/// A message a mail provider posts (raw, or in a form).
impl DescribeInput for crate::mail_hook::MailPost {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        let schema = json!({"type": "string", "format": "binary",
            "description": "The message as received (RFC 5322); or multipart/form-data with it in `email` or `body-mime`"});
        operation.set_request_body_as("message/rfc822", schema);
        operation.fail("401", "Unauthenticated");
        operation.fail("413", "TooLarge");
        operation.fail("422", "Invalid");
    }
}

impl DescribeInput for crate::path::NamePath {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        path_segment::<String>(operation, schemas, "name");
    }
}

impl<T: JsonSchema> DescribeInput for crate::path::MessagePathId<T> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        path_segment::<T>(operation, schemas, "message_id");
    }
}

pub(crate) fn path_id<T: JsonSchema>(operation: &mut Operation, schemas: &mut Schemas) {
    path_segment::<T>(operation, schemas, "id");
}

fn path_segment<T: JsonSchema>(operation: &mut Operation, schemas: &mut Schemas, name: &str) {
    let schema = schemas.requests.subschema_for::<T>().to_value();
    operation
        .add_parameter(json!({"name": name, "in": "path", "required": true, "schema": schema}));
    operation.fail("404", "NotFound");
}

impl DescribeInput for Paging {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        let max = sb_domain::PageRequest::MAX_LIMIT;
        let default = sb_domain::PageRequest::DEFAULT_LIMIT;
        operation.add_parameter(json!({
            "name": "limit", "in": "query", "required": false,
            "description": "Items per page.",
            "schema": {"type": "integer", "minimum": 1, "maximum": max, "default": default},
        }));
        operation.add_parameter(json!({
            "name": "cursor", "in": "query", "required": false,
            "description": "The `next` value of the previous page.",
            "schema": {"type": "string"},
        }));
        operation.fail("422", "Invalid");
    }
}

impl<T: JsonSchema> DescribeInput for Query<T> {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        // Query structs are flat: one parameter per property.
        let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        });
        let schema = settings.for_deserialize().into_generator().into_root_schema_for::<T>();
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, property) in properties.into_iter().flatten() {
            let mut property = property.clone();
            // A query parameter is absent or has a value; it is never null.
            if let Some(Value::Array(types)) = property.get_mut("type") {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    property["type"] = only.clone();
                }
            }
            let description = property.as_object_mut().and_then(|p| p.remove("description"));
            let mut parameter = json!({
                "name": name, "in": "query", "required": required.contains(&name.as_str()),
                "schema": property,
            });
            if let Some(description) = description {
                parameter["description"] = description;
            }
            operation.add_parameter(parameter);
        }
        operation.fail("400", "Malformed");
    }
}

fn envelope(data: Value) -> Value {
    json!({
        "type": "object",
        "required": ["data"],
        "properties": {"data": data},
    })
}

impl<T: JsonSchema> DescribeOutput for Data<T> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        let schema = envelope(schemas.responses.subschema_for::<T>().to_value());
        operation.respond("200", "OK", Some(schema));
    }
}

impl<T: JsonSchema> DescribeOutput for Created<T> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        let schema = envelope(schemas.responses.subschema_for::<T>().to_value());
        operation.respond("201", "Created", Some(schema));
    }
}

impl<T: JsonSchema> DescribeOutput for Accepted<T> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        let schema = envelope(schemas.responses.subschema_for::<T>().to_value());
        operation.respond("202", "Accepted: it goes on in the background", Some(schema));
    }
}

impl<T: JsonSchema> DescribeOutput for List<T> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        let item = schemas.responses.subschema_for::<T>().to_value();
        let mut schema = envelope(json!({"type": "array", "items": item}));
        schema["required"] = json!(["data", "next"]);
        schema["properties"]["next"] = json!({
            "type": ["string", "null"],
            "description": "Pass as `cursor` for the next page; null on the last page.",
        });
        operation.respond("200", "One page of the list", Some(schema));
    }
}

impl DescribeOutput for NoContent {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        operation.respond("204", "Done; the answer has no body", None);
    }
}

impl DescribeOutput for Upgraded {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        operation.respond(
            "101",
            "Switching to the WebSocket protocol (see docs/realtime.md)",
            None,
        );
        operation.fail("429", "TooMany");
    }
}

impl DescribeOutput for Sent {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        let handled = envelope(schemas.responses.subschema_for::<Handled>().to_value());
        let message =
            envelope(schemas.responses.subschema_for::<sb_domain::VisitorMessage>().to_value());
        operation.respond("200", "The engine has finished with the message", Some(handled.clone()));
        operation.respond(
            "202",
            "Taken: without `wait_ms` the message; with it, the replies so far",
            Some(json!({"anyOf": [message, handled]})),
        );
        operation.fail("429", "TooMany");
    }
}

impl DescribeOutput for crate::suite_files::SuiteDownload {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        let file = schemas.responses.subschema_for::<sb_domain::suite_file::SuiteFile>().to_value();
        let content = json!({
            "application/json": {"schema": file},
            "application/yaml": {"schema": {"type": "string", "description": "The same, as YAML"}},
        });
        operation.respond_with("200", "The suite file, as a download", content);
    }
}

/// A 200 whose body is a file of `media_type`, not the API's JSON.
fn binary(operation: &mut Operation, media_type: &str, description: &str) {
    let schema = json!({"schema": {"type": "string", "format": "binary"}});
    operation.respond_with("200", description, json!({ media_type: schema }));
}

impl DescribeOutput for crate::attachments::FileDownload {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        let description = "The file: pictures inline, anything else as a download";
        binary(operation, "application/octet-stream", description);
    }
}

impl DescribeOutput for crate::analytics::CsvDownload {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        let schema = json!({"schema": {"type": "string", "description": "A header line, then a line per day or week"}});
        let description = "The counts per day or week, as a CSV download";
        operation.respond_with("200", description, json!({ "text/csv": schema }));
    }
}

impl DescribeOutput for crate::channels::PlainText {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        let schema = json!({"schema": {"type": "string", "description": "The challenge, echoed"}});
        operation.respond_with(
            "200",
            "The webhook is the channel's",
            json!({ "text/plain": schema }),
        );
        operation.fail("403", "Forbidden");
    }
}

impl DescribeOutput for crate::contacts::ExportZip {
    fn describe(operation: &mut Operation, _: &mut Schemas) {
        let description = "A zip: contact.json (the export) and attachments/<id>/<name>";
        binary(operation, "application/zip", description);
    }
}

impl<R: DescribeOutput> DescribeOutput for WithCookies<R> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        R::describe(operation, schemas);
    }
}

impl<T: DescribeOutput> DescribeOutput for Result<T, ApiError> {
    fn describe(operation: &mut Operation, schemas: &mut Schemas) {
        T::describe(operation, schemas);
    }
}

/// `{"error": {"code", "message", "field"}}`, the body of every error answer.
pub(crate) fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string", "description": "Stable and machine-readable, e.g. `invalid_field`."},
                "message": {"type": "string", "description": "For people."},
                "field": {"type": ["string", "null"], "description": "The JSON path of the offending input."},
            },
        }},
    })
}

/// The error answers operations refer to by name: (name, status, description).
const ERRORS: [(&str, &str, &str); 9] = [
    ("Malformed", "400", "The body is not JSON, or a query parameter is malformed."),
    ("Unauthenticated", "401", "Not logged in, or the API key or visitor token is not valid."),
    (
        "Forbidden",
        "403",
        "The role may not do this, the CSRF check failed, or the origin is not allowed.",
    ),
    ("NotFound", "404", "No such resource in this account."),
    ("TooLarge", "413", "The body is larger than the server accepts."),
    ("UnsupportedMediaType", "415", "The body is not sent as `application/json`."),
    ("Invalid", "422", "A value is missing or invalid; `error.field` names it."),
    ("TooMany", "429", "Too many requests or connections; `Retry-After` says when to try again."),
    ("Error", "default", "Another error; `error.code` says which (see docs/api.md)."),
];

pub(crate) fn error_responses() -> Value {
    let responses: serde_json::Map<String, Value> = ERRORS
        .iter()
        .map(|(name, _, description)| {
            let response = json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            });
            ((*name).to_owned(), response)
        })
        .collect();
    Value::Object(responses)
}

/// Whether `name` is one of the error answers, and its status matches.
pub(crate) fn is_error(status: &str, name: &str) -> bool {
    ERRORS.iter().any(|(n, s, _)| *n == name && *s == status)
}

pub(crate) fn security_schemes() -> Value {
    json!({
        "apiKey": {
            "type": "apiKey", "in": "header", "name": "X-Api-Key",
            "description": "An API key (`sbk_…`) of the account; `Authorization: Bearer sbk_…` works too.",
        },
        "session": {
            "type": "apiKey", "in": "cookie", "name": "sb_session",
            "description": "A dashboard login. Requests other than GET must also send the `sb_csrf` \
                cookie's value in the `X-CSRF-Token` header, from the same origin.",
        },
        "visitorToken": {
            "type": "http", "scheme": "bearer",
            "description": "The `visitor_token` (`sbv_…`) given when the visitor's conversation started.",
        },
    })
}
