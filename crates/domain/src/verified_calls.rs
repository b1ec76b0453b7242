//! What a call made only for verified visitors may be built from. Such an endpoint answers with
//! one customer's data, so the values that pick the customer must be ones the tenant's site
//! signed: a typed e-mail or name would let any signed-in customer read another's data.

use serde_json::Value;

use crate::template::Template;
use crate::{Connection, Endpoint, ValidationError};

/// Visitor values that no signature covers, with the verified value to use instead.
const UNVERIFIED_VISITOR_VALUES: [(&str, &str); 2] = [
    ("visitor.email", "visitor.verified_email"),
    ("visitor.name", "visitor.user_id or visitor.verified_email"),
];

/// `(field, variable)` for each variable `text` uses; nothing for a template that does not
/// parse (saving rejects those).
fn template_uses(field: String, text: &str) -> Vec<(String, String)> {
    Template::parse(&field, text)
        .map(|t| t.variables().map(|name| (field.clone(), name.to_owned())).collect())
        .unwrap_or_default()
}

/// Every `(field, variable)` the endpoint's templates use: path, query, headers and the string
/// values of the JSON body.
pub fn endpoint_template_uses(endpoint: &Endpoint) -> Vec<(String, String)> {
    let mut uses = template_uses("path".into(), &endpoint.request.path);
    let mut add = |field: String, text: &str| uses.extend(template_uses(field, text));
    for (name, value) in &endpoint.request.query {
        add(format!("query.{name}"), value);
    }
    for (name, value) in &endpoint.request.headers {
        add(format!("headers.{name}"), value);
    }
    if let Some(body) = &endpoint.request.body {
        body_strings("body", body, &mut add);
    }
    uses
}

/// Every `(field, variable)` the connection's own header templates use (fields named
/// `connection.headers.<name>`); they apply to every endpoint of the connection.
pub fn connection_template_uses(connection: &Connection) -> Vec<(String, String)> {
    connection
        .headers
        .iter()
        .flat_map(|(name, value)| template_uses(format!("connection.headers.{name}"), value))
        .collect()
}

fn body_strings(field: &str, value: &Value, add: &mut impl FnMut(String, &str)) {
    match value {
        Value::String(text) => add(field.to_owned(), text),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                body_strings(&format!("{field}[{i}]"), item, add);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                body_strings(&format!("{field}.{key}"), item, add);
            }
        }
        _ => {}
    }
}

/// The first unverified visitor value among `uses`, as the error to report.
fn first_unverified(
    uses: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ValidationError> {
    for (field, name) in uses {
        if let Some((_, instead)) = UNVERIFIED_VISITOR_VALUES.iter().find(|(n, _)| *n == name) {
            return Err(ValidationError::new(
                field,
                "unverified_variable",
                format!(
                    "{{{name}}} is what the visitor typed, not signed by your site; an endpoint \
                     for verified visitors may use only verified values such as {{{instead}}}"
                ),
            ));
        }
    }
    Ok(())
}

/// Checked when an endpoint for verified visitors is saved.
pub fn check_verified_endpoint(endpoint: &Endpoint) -> Result<(), ValidationError> {
    if !endpoint.requires_verified_visitor {
        return Ok(());
    }
    first_unverified(endpoint_template_uses(endpoint))
}

/// Checked again before each call for a verified visitor: endpoints saved before the check
/// existed, and the connection's own header templates, which apply to every endpoint.
pub fn check_verified_call(
    connection: &Connection,
    endpoint: &Endpoint,
) -> Result<(), ValidationError> {
    if !endpoint.requires_verified_visitor {
        return Ok(());
    }
    let uses = endpoint_template_uses(endpoint);
    first_unverified(uses.into_iter().chain(connection_template_uses(connection)))
}
