//! Where a document says its operations are served (OpenAPI `servers`, Swagger 2.0 `host`,
//! `basePath`, `schemes`), and the endpoint path prefix that follows for a connection.

use sb_net::Url;
use serde_json::Value;

/// A server URL with its variables replaced by their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub url: String,
    /// The host (lower-case, with a port if one is given), `None` for a relative URL.
    pub host: Option<String>,
    /// The URL's path without a trailing `/` (`""` for the root).
    pub path: String,
}

fn host_of(url: &Url) -> Option<String> {
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

impl Server {
    pub fn parse(raw: &str) -> Self {
        let raw = raw.trim();
        let absolute = if raw.starts_with("//") { format!("https:{raw}") } else { raw.to_owned() };
        match Url::parse(&absolute) {
            Ok(url) if url.has_host() => Server {
                url: raw.to_owned(),
                host: host_of(&url),
                path: url.path().trim_end_matches('/').to_owned(),
            },
            _ => {
                let path = raw.split(['?', '#']).next().unwrap_or_default();
                let path = path.trim_end_matches('/');
                let path = if path.is_empty() || path.starts_with('/') {
                    path.to_owned()
                } else {
                    format!("/{path}")
                };
                Server { url: raw.to_owned(), host: None, path }
            }
        }
    }
}

/// Replaces `{name}` in an OpenAPI 3 server URL by the variable's default (or first enum value).
fn substitute(url: &str, variables: Option<&Value>) -> String {
    let mut out = String::new();
    let mut rest = url;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        let variable = variables.and_then(|v| v.get(name));
        let value = variable
            .and_then(|v| v.get("default"))
            .or_else(|| variable.and_then(|v| v.get("enum")).and_then(|e| e.get(0)))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        match value {
            Some(value) => out.push_str(&value),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The servers an OpenAPI 3 `servers` array lists.
pub fn from_list(list: Option<&Value>) -> Vec<Server> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|server| {
            let url = server.get("url")?.as_str()?;
            Some(Server::parse(&substitute(url, server.get("variables"))))
        })
        .collect()
}

/// The servers of a Swagger 2.0 document: one per scheme, or one relative URL without a host.
pub fn from_swagger(root: &Value) -> Vec<Server> {
    let base = root.get("basePath").and_then(Value::as_str).unwrap_or("/");
    let base = if base.starts_with('/') { base.to_owned() } else { format!("/{base}") };
    let Some(host) = root.get("host").and_then(Value::as_str).filter(|h| !h.is_empty()) else {
        return vec![Server::parse(&base)];
    };
    let schemes: Vec<&str> = root
        .get("schemes")
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .filter(|s: &Vec<&str>| !s.is_empty())
        .unwrap_or_else(|| vec!["https"]);
    let mut servers: Vec<Server> = Vec::new();
    for scheme in schemes.iter().filter(|s| matches!(**s, "http" | "https")) {
        let server = Server::parse(&format!("{scheme}://{host}{base}"));
        if !servers.contains(&server) {
            servers.push(server);
        }
    }
    if servers.is_empty() {
        servers.push(Server::parse(&format!("https://{host}{base}")));
    }
    servers
}

/// The connection's base URL, as far as placing endpoints goes.
#[derive(Debug, Clone)]
pub struct Base {
    pub host: Option<String>,
    /// The base URL's path, without a trailing `/`.
    pub path: String,
}

impl Base {
    pub fn parse(base_url: &str) -> Self {
        let server = Server::parse(base_url);
        Base { host: server.host, path: server.path }
    }
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// `path` without the leading segments `wanted`, if it starts with them.
fn strip_segments<'p>(path: &'p str, wanted: &[&str]) -> Option<&'p str> {
    let mut rest = path;
    for segment in wanted {
        let after = rest.trim_start_matches('/').strip_prefix(segment)?;
        if !(after.is_empty() || after.starts_with('/')) {
            return None;
        }
        rest = after;
    }
    Some(rest)
}

fn joined(segments: &[&str]) -> String {
    segments.iter().map(|s| format!("/{s}")).collect()
}

/// Where the endpoint for the operation at `path`, served from `server`, goes: the prefix to
/// put in front of the endpoint path, and the part of `path` that follows it — or why the
/// connection cannot reach it.
///
/// A server with a host is where the operation really is: its full path (the server's path,
/// then the operation's) must start with the connection's base path, which is taken off
/// (server `https://api.example.com/`, path `/v1/customers`, base `https://api.example.com/v1`:
/// `/customers`). A relative server's path is put in front unless the base URL already ends
/// with it.
pub fn place<'p>(base: &Base, server: &Server, path: &'p str) -> Result<(String, &'p str), String> {
    if let (Some(host), Some(base_host)) = (&server.host, &base.host)
        && host != base_host
    {
        return Err(format!(
            "it is served from {host}, not from the connection's host {base_host}"
        ));
    }
    let base_path = segments(&base.path);
    let server_path = segments(&server.path);
    let base_shown = if base.path.is_empty() { "/" } else { &base.path };
    if server.host.is_some() && base.host.is_some() {
        if server_path.starts_with(&base_path) {
            return Ok((joined(&server_path[base_path.len()..]), path));
        }
        if base_path.starts_with(&server_path)
            && let Some(rest) = strip_segments(path, &base_path[server_path.len()..])
        {
            return Ok((String::new(), rest));
        }
        return Err(format!(
            "it is served at {}{}, outside the connection's base path {base_shown}",
            server.path,
            if path.starts_with('/') { path.to_owned() } else { format!("/{path}") }
        ));
    }
    // Already at the end of the base URL: nothing to add.
    if base_path.ends_with(&server_path) {
        return Ok((String::new(), path));
    }
    // Below the base URL's path: add the rest.
    if server_path.starts_with(&base_path) {
        return Ok((joined(&server_path[base_path.len()..]), path));
    }
    if server.host.is_some() {
        return Err(format!(
            "it is served under {}, outside the connection's base path {base_shown}",
            if server.path.is_empty() { "/" } else { &server.path },
        ));
    }
    Ok((joined(&server_path), path))
}

/// Of several servers, the first the connection reaches (with its placement), else the first
/// reason none does.
pub fn choose<'p>(
    base: &Base,
    servers: &[Server],
    path: &'p str,
) -> Result<(String, &'p str), String> {
    if servers.is_empty() {
        return Ok((String::new(), path));
    }
    let mut first_problem = None;
    for server in servers {
        match place(base, server, path) {
            Ok(placed) => return Ok(placed),
            Err(why) => {
                first_problem.get_or_insert(why);
            }
        }
    }
    Err(first_problem.unwrap_or_default())
}
