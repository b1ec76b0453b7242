//! Turning an endpoint, its connection and the session variables into an outbound request.

use sb_domain::{Connection, Endpoint};
use sb_net::{Method, OutboundRequest, Url};

use crate::CallError;
use crate::auth::{AuthSecrets, apply_static};
use crate::template::{
    Template, Variables, render_body, render_headers, render_path, render_query, value_text,
};

fn parse_all(
    field: &str,
    map: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<(String, Template)>, CallError> {
    map.iter()
        .map(|(name, text)| {
            Template::parse(&format!("{field}.{name}"), text)
                .map(|t| (name.clone(), t))
                .map_err(|err| CallError::new("invalid_template", err.to_string()))
        })
        .collect()
}

/// Checks declared variables: required ones are present, and values match their patterns.
pub fn check_declared(endpoint: &Endpoint, vars: &Variables) -> Result<(), CallError> {
    let mut missing = Vec::new();
    for spec in &endpoint.request.variables {
        match vars.get(&spec.name).and_then(value_text) {
            None if spec.required => missing.push(spec.name.clone()),
            None => {}
            Some(value) => {
                if let Some(pattern) = &spec.pattern {
                    let regex = sb_domain::pattern::compile(pattern)
                        .map_err(|err| CallError::new("invalid_variable", err))?;
                    if !regex.is_match(&value) {
                        return Err(CallError::new(
                            "invalid_variable",
                            format!("{} does not match the pattern {pattern}", spec.name),
                        ));
                    }
                }
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CallError::new("missing_variable", format!("no value for {}", missing.join(", "))))
    }
}

/// Builds the request with static credentials applied (OAuth tokens are added per attempt).
pub fn build(
    connection: &Connection,
    secrets: &AuthSecrets,
    endpoint: &Endpoint,
    vars: &Variables,
) -> Result<OutboundRequest, CallError> {
    if let Some(tool) = &endpoint.tool {
        return crate::mcp::tool_request(connection, secrets, endpoint, tool, vars);
    }
    check_declared(endpoint, vars)?;
    let optional =
        |name: &str| endpoint.request.variables.iter().any(|v| v.name == name && !v.required);
    let path_template = Template::parse("path", &endpoint.request.path)
        .map_err(|e| CallError::new("invalid_template", e.to_string()))?;
    let path = render_path(&path_template, vars)?;
    let mut url = Url::parse(&connection.base_url)
        .map_err(|e| CallError::new("invalid_url", format!("base URL: {e}")))?;
    let joined = format!("{}{}", url.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    let query = render_query(&parse_all("query", &endpoint.request.query)?, vars, &optional)?;
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    let method = Method::from_bytes(endpoint.request.method.as_str().as_bytes())
        .map_err(|_| CallError::new("invalid_method", "unknown method"))?;
    let mut request = OutboundRequest::from_url(method, url);
    // Endpoint headers override the connection's defaults of the same name.
    let mut header_templates = parse_all("headers", &connection.headers)?;
    header_templates
        .retain(|(name, _)| !endpoint.request.headers.keys().any(|k| k.eq_ignore_ascii_case(name)));
    header_templates.extend(parse_all("headers", &endpoint.request.headers)?);
    for (name, value) in render_headers(&header_templates, vars)? {
        request = request.header(&name, &value)?;
    }
    if let Some(body) = &endpoint.request.body {
        let rendered = render_body(body, vars, &optional)?;
        let has_type = request.headers.contains_key("content-type");
        request.body = Some(rendered.to_string().into());
        if !has_type {
            request = request.header("content-type", "application/json")?;
        }
    }
    request = request.header("accept", "application/json")?;
    apply_static(&connection.auth, secrets, request)
}

/// The variables the connection's own header templates use, in order, each once.
pub fn connection_variables(connection: &Connection) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, name) in sb_domain::verified_calls::connection_template_uses(connection) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The request a connection test sends: GET on the base URL with the connection's headers,
/// rendered from `vars` (sample values), and credentials. A header whose placeholder has no value
/// fails the test: every real call would fail the same way.
pub fn probe(
    connection: &Connection,
    secrets: &AuthSecrets,
    vars: &Variables,
) -> Result<OutboundRequest, CallError> {
    let mut request = OutboundRequest::new(Method::GET, &connection.base_url)?;
    let missing: Vec<String> = connection_variables(connection)
        .into_iter()
        .filter(|name| vars.get(name).and_then(value_text).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(CallError::new(
            "missing_variable",
            format!(
                "the connection's headers use {}: give sample values to test with",
                missing.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    for (name, value) in render_headers(&parse_all("headers", &connection.headers)?, vars)? {
        request = request.header(&name, &value)?;
    }
    apply_static(&connection.auth, secrets, request)
}
