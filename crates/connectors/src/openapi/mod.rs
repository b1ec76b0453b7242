//! Endpoints from an OpenAPI document (3.0, 3.1, or Swagger 2.0; JSON or YAML): each operation
//! becomes an endpoint draft — method, path template, query and header templates, a JSON body
//! template of the request body's top-level properties, and declared variables with
//! descriptions and patterns — or a `Skipped` entry saying why it cannot be one. Pure: a
//! document in, drafts out; storing them (and checking names against the account) is the
//! engine's part.
//!
//! Bounds: see [`document`] for parsing; `$ref` chains, `allOf` nesting and schema visits are
//! limited in [`refs`]; at most [`MAX_OPERATIONS`] operations are converted per document, with
//! at most [`MAX_PARAMETERS`] parameters each; and the whole conversion shares one work budget
//! ([`MAX_WORK`] units: schemas visited, properties merged, parameters read). When the budget
//! runs out, the operation being converted and all after it are skipped with one entry saying
//! so; the operations converted before are kept.

mod document;
mod names;
mod operation;
mod refs;
mod servers;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use sb_domain::EndpointRequest;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

pub use document::{MAX_DEPTH, Unparsable, parse_text};
pub use names::{MAX_DESCRIPTION, MAX_NAME};
pub use refs::MAX_WORK;

use refs::{Doc, Work};
use servers::{Base, Server};

/// Most operations converted from one document; the rest are reported as skipped.
pub const MAX_OPERATIONS: usize = 2000;
/// Most request-body properties templated; the others are noted.
pub const MAX_BODY_PROPERTIES: usize = 100;
/// Most parameters read for one operation (path-level and operation-level together); the
/// others are noted.
pub const MAX_PARAMETERS: usize = 100;

/// The path-item keys that are HTTP methods in OpenAPI.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Header parameters never templated: OpenAPI says to ignore `Accept`, `Content-Type` and
/// `Authorization`; credentials and `Host` come from the connection.
const IGNORED_HEADERS: [&str; 6] =
    ["accept", "content-type", "authorization", "proxy-authorization", "cookie", "host"];

/// Which specification a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Swagger2 => "2.0",
            Version::OpenApi30 => "3.0",
            Version::OpenApi31 => "3.1",
        }
    }
}

/// The document is not one this import reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotOpenApi(pub String);

/// What the connection provides, so that the document's parameters for it are left out.
#[derive(Debug, Clone, Default)]
pub struct Options<'a> {
    /// The connection's base URL: endpoint paths are placed relative to it.
    pub base_url: &'a str,
    /// Headers the connection sends itself (its headers, an API key header).
    pub provided_headers: Vec<String>,
    /// Query parameters the connection adds itself (an API key in the query).
    pub provided_query: Vec<String>,
}

/// An endpoint as an operation describes it, before validation and storing.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// `GET /pets/{petId}`, as the document writes it.
    pub operation: String,
    pub name: String,
    pub description: String,
    /// What the endpoint it becomes sends.
    pub request: EndpointRequest,
    /// What could not be carried over, for whoever reviews the import.
    pub notes: Vec<String>,
}

/// An operation that did not become an endpoint, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Skipped {
    /// `METHOD /path` as the document writes it.
    pub operation: String,
    pub reason: String,
}

/// Everything a document yields.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub version: Version,
    pub title: Option<String>,
    /// The document's server URLs (variables replaced by their defaults).
    pub servers: Vec<String>,
    pub drafts: Vec<Draft>,
    pub skipped: Vec<Skipped>,
}

fn version(root: &Value) -> Result<Version, NotOpenApi> {
    let Some(map) = root.as_object() else {
        return Err(NotOpenApi("the document is not an object".into()));
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    };
    if let Some(v) = map.get("swagger") {
        let v = text(v);
        return if v == "2" || v.starts_with("2.") {
            Ok(Version::Swagger2)
        } else {
            Err(NotOpenApi(format!("Swagger {v} is not supported: only 2.0")))
        };
    }
    if let Some(v) = map.get("openapi") {
        let v = text(v);
        return if v.starts_with("3.0") {
            Ok(Version::OpenApi30)
        } else if v.starts_with("3.1") {
            Ok(Version::OpenApi31)
        } else {
            Err(NotOpenApi(format!(
                "OpenAPI {v} is not supported: use OpenAPI 3.0 or 3.1, or Swagger 2.0"
            )))
        };
    }
    Err(NotOpenApi(
        "this is not an OpenAPI or Swagger document: it has no `openapi` or `swagger` field".into(),
    ))
}

/// Converts every operation of the document.
pub fn convert(root: &Value, options: &Options<'_>) -> Result<Conversion, NotOpenApi> {
    convert_within(root, options, MAX_WORK)
}

/// [`convert`] with a given work budget.
fn convert_within(
    root: &Value,
    options: &Options<'_>,
    work: usize,
) -> Result<Conversion, NotOpenApi> {
    let work = Work::new(work);
    let version = version(root)?;
    if let Some(paths) = root.get("paths")
        && !paths.is_object()
    {
        return Err(NotOpenApi("`paths` is not an object".into()));
    }
    let servers = match version {
        Version::Swagger2 => servers::from_swagger(root),
        _ => servers::from_list(root.get("servers")),
    };
    let context = Context {
        doc: Doc { root, work: &work },
        version,
        base: Base::parse(options.base_url),
        servers: servers.clone(),
        options,
    };
    let mut conversion = Conversion {
        version,
        title: root.pointer("/info/title").and_then(Value::as_str).map(str::to_owned),
        servers: servers.into_iter().map(|s| s.url).collect(),
        drafts: Vec::new(),
        skipped: Vec::new(),
    };

    // Every operation first (cheap: references), so that the limit can be reported.
    let mut operations = Vec::new();
    for (path, item) in root.get("paths").and_then(Value::as_object).into_iter().flatten() {
        let item = match context.doc.resolve(item) {
            Ok(item) => item,
            Err(problem) => {
                conversion.skipped.push(Skipped {
                    operation: format!("* {path}"),
                    reason: format!("the path item could not be read: {problem}"),
                });
                continue;
            }
        };
        for (key, operation) in item.as_object().into_iter().flatten() {
            let method = key.to_ascii_lowercase();
            if METHODS.contains(&method.as_str()) {
                operations.push((path.as_str(), method, item, operation));
            }
        }
    }

    let mut names: HashSet<String> = HashSet::new();
    for (i, (path, method, item, operation)) in operations.iter().enumerate() {
        let label = format!("{} {path}", method.to_ascii_uppercase());
        if i == MAX_OPERATIONS {
            conversion.skipped.push(Skipped {
                operation: label,
                reason: format!(
                    "only {MAX_OPERATIONS} operations are imported from one document: this one \
                     and the {} after it were not; import them from a smaller document",
                    operations.len() - MAX_OPERATIONS - 1
                ),
            });
            break;
        }
        let converted = context.operation(path, method, item, operation);
        if work.exhausted() {
            // What was converted since the budget ran out may be incomplete: left out.
            conversion.skipped.push(Skipped {
                operation: label,
                reason: format!(
                    "the document needs more work to convert than one import allows (its \
                     schemas are too large or referenced too often): this operation and the {} \
                     after it were not imported; import them from a smaller document",
                    operations.len() - i - 1
                ),
            });
            break;
        }
        match converted {
            Ok(mut draft) => {
                draft.name = names::unique(&draft.name, |n| names.contains(n));
                names.insert(draft.name.clone());
                conversion.drafts.push(draft);
            }
            Err(reason) => conversion.skipped.push(Skipped { operation: label, reason }),
        }
    }
    Ok(conversion)
}

struct Context<'a, 'o> {
    doc: Doc<'a>,
    version: Version,
    base: Base,
    servers: Vec<Server>,
    options: &'o Options<'o>,
}
