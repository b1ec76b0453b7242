//! One operation of a document → one endpoint draft: its parameters as declared variables and
//! templates, its JSON body as a body template, its description for the AI.

use std::collections::{BTreeMap, HashMap, HashSet};

use sb_domain::{EndpointRequest, HttpMethod, VariableSpec};
use serde_json::Value;

use super::refs::{RefProblem, Schema};
use super::{
    Context, Draft, IGNORED_HEADERS, MAX_BODY_PROPERTIES, MAX_DESCRIPTION, MAX_PARAMETERS, Version,
    names, servers,
};

/// A parameter, resolved, with its schema flattened.
struct Param<'a> {
    name: &'a str,
    location: &'a str,
    required: bool,
    description: Option<&'a str>,
    schema: Schema<'a>,
    /// Swagger 2.0 `in: body`: the body's schema.
    body_schema: Option<&'a Value>,
}

/// The request body to template, if any.
struct Body<'a> {
    schema: Option<&'a Value>,
}

fn is_json(media_type: &str) -> bool {
    let mime = media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    mime == "application/json" || mime.ends_with("+json")
}

/// Declared variables, named uniquely within one endpoint.
#[derive(Default)]
struct Vars {
    specs: Vec<VariableSpec>,
    /// The names in `specs`.
    names: HashSet<String>,
    notes: Vec<String>,
}

impl Vars {
    fn taken(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Declares a variable for `raw` (a parameter or property name); `place` prefixes the name
    /// when another place already uses it. Returns the name.
    fn declare(
        &mut self,
        raw: &str,
        place: &str,
        required: bool,
        schema: &Schema<'_>,
        described: Option<&str>,
    ) -> String {
        let wanted = names::variable_name(raw);
        let name = if self.taken(&wanted) {
            let prefixed = names::variable_name(&format!("{place}_{wanted}"));
            names::unique(&prefixed, |n| self.taken(n))
        } else {
            wanted
        };
        let mut description =
            described.or(schema.description).unwrap_or_default().trim().to_owned();
        if let Some(format) = schema.format
            && !description.contains(format)
        {
            description = if description.is_empty() {
                format!("Format: {format}.")
            } else {
                format!("{description} (format: {format})")
            };
        }
        let pattern = match names::pattern(schema) {
            Ok(pattern) => pattern,
            Err(why) => {
                self.notes.push(format!("the pattern of {name} was left out: {why}"));
                None
            }
        };
        self.names.insert(name.clone());
        self.specs.push(VariableSpec {
            name: name.clone(),
            description: names::cap(&description, names::MAX_VARIABLE_DESCRIPTION),
            required,
            pattern,
        });
        name
    }
}

/// Rewrites an OpenAPI path template into the endpoint template syntax: `{petId}` becomes the
/// variable `var_for` names; other braces become literal (`{{`, `}}`).
pub(super) fn path_template(path: &str, mut var_for: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    let mut rest = path;
    while let Some(c) = rest.chars().next() {
        match c {
            '{' => {
                let after = &rest[1..];
                let end = after.find(['}', '{', '/']);
                match end {
                    Some(end) if after[end..].starts_with('}') && end > 0 => {
                        out.push('{');
                        out.push_str(&var_for(&after[..end]));
                        out.push('}');
                        rest = &after[end + 1..];
                        continue;
                    }
                    _ => out.push_str("{{"),
                }
            }
            '}' => out.push_str("}}"),
            other => out.push(other),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn literal(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

impl<'a> Context<'a, '_> {
    fn method(method: &str) -> Result<HttpMethod, String> {
        Ok(match method {
            "get" => HttpMethod::Get,
            "head" => HttpMethod::Head,
            "post" => HttpMethod::Post,
            "put" => HttpMethod::Put,
            "patch" => HttpMethod::Patch,
            "delete" => HttpMethod::Delete,
            other => {
                return Err(format!(
                    "{} is not a method endpoints support (GET, HEAD, POST, PUT, PATCH, DELETE)",
                    other.to_ascii_uppercase()
                ));
            }
        })
    }

    /// Where the endpoint path goes, from the operation's servers, its path's, or the
    /// document's: a prefix to put in front, and the rest of `path` (see [`servers::place`]).
    fn prefix<'p>(
        &self,
        path: &'p str,
        item: &'a Value,
        operation: &'a Value,
    ) -> Result<(String, &'p str), String> {
        if self.version == Version::Swagger2 {
            return servers::choose(&self.base, &self.servers, path);
        }
        let own = operation.get("servers").or_else(|| item.get("servers"));
        match own.map(|list| servers::from_list(Some(list))) {
            Some(list) if !list.is_empty() => servers::choose(&self.base, &list, path),
            _ => servers::choose(&self.base, &self.servers, path),
        }
    }

    /// Path-level and operation-level parameters, the operation's winning by name and place;
    /// at most [`MAX_PARAMETERS`] are read (a note says how many were not).
    fn parameters(
        &self,
        item: &'a Value,
        operation: &'a Value,
        notes: &mut Vec<String>,
    ) -> Result<Vec<Param<'a>>, String> {
        let mut params: Vec<Option<Param<'a>>> = Vec::new();
        let mut at: HashMap<(&'a str, &'a str), usize> = HashMap::new();
        let sources = [item.get("parameters"), operation.get("parameters")];
        let total: usize =
            sources.iter().flatten().filter_map(|s| s.as_array()).map(Vec::len).sum();
        if total > MAX_PARAMETERS {
            notes.push(format!(
                "only the first {MAX_PARAMETERS} of the operation's {total} parameters are read"
            ));
        }
        let raws = sources.into_iter().flat_map(|s| s.and_then(Value::as_array)).flatten();
        for raw in raws.take(MAX_PARAMETERS) {
            let p = self
                .doc
                .resolve(raw)
                .map_err(|problem| format!("a parameter could not be read: {problem}"))?;
            let (Some(name), Some(location)) =
                (p.get("name").and_then(Value::as_str), p.get("in").and_then(Value::as_str))
            else {
                continue;
            };
            let param = self.param(p, name, location)?;
            // A later one (the operation's) replaces an earlier one of the same name and
            // place, and takes its place at the end.
            if let Some(earlier) = at.insert((name, location), params.len()) {
                params[earlier] = None;
            }
            params.push(Some(param));
        }
        Ok(params.into_iter().flatten().collect())
    }

    fn param(&self, p: &'a Value, name: &'a str, location: &'a str) -> Result<Param<'a>, String> {
        let unreadable =
            |problem: RefProblem| format!("the parameter {name} could not be read: {problem}");
        let mut body_schema = None;
        let schema = if self.version == Version::Swagger2 {
            if location == "body" {
                body_schema = p.get("schema");
                Schema::default()
            } else {
                self.doc.flatten(p).map_err(unreadable)?
            }
        } else {
            let schema = p.get("schema").or_else(|| {
                p.get("content")
                    .and_then(Value::as_object)
                    .and_then(|content| content.values().next())
                    .and_then(|media| media.get("schema"))
            });
            match schema {
                Some(schema) => self.doc.flatten(schema).map_err(unreadable)?,
                None => Schema::default(),
            }
        };
        Ok(Param {
            name,
            location,
            required: location == "path"
                || p.get("required").and_then(Value::as_bool).unwrap_or(false),
            description: p
                .get("description")
                .and_then(Value::as_str)
                .filter(|d| !d.trim().is_empty()),
            schema,
            body_schema,
        })
    }

    /// The JSON request body, if the operation has one this import can template; Swagger 2.0's
    /// `in: body` and `in: formData` parameters are read from `params`.
    fn body(
        &self,
        operation: &'a Value,
        params: &[Param<'a>],
        notes: &mut Vec<String>,
    ) -> Result<Option<Body<'a>>, String> {
        if self.version == Version::Swagger2 {
            for form in params.iter().filter(|p| p.location == "formData") {
                if form.required {
                    return Err(format!(
                        "it needs a form body (the field {}), which endpoints cannot send: only JSON bodies are supported",
                        form.name
                    ));
                }
                notes.push(format!("the optional form field {} is not sent", form.name));
            }
            let Some(body) = params.iter().find(|p| p.location == "body") else {
                return Ok(None);
            };
            let consumes = operation
                .get("consumes")
                .or_else(|| self.doc.root.get("consumes"))
                .and_then(Value::as_array)
                .map(|types| types.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                .unwrap_or_default();
            if !consumes.is_empty() && !consumes.iter().any(|t| is_json(t)) {
                let types = consumes.join(", ");
                if body.required {
                    return Err(format!(
                        "its request body must be {types}, which endpoints cannot send: only JSON bodies are supported"
                    ));
                }
                notes.push(format!("the optional {types} request body is not sent"));
                return Ok(None);
            }
            return Ok(Some(Body { schema: body.body_schema }));
        }
        let Some(raw) = operation.get("requestBody") else { return Ok(None) };
        let body = self
            .doc
            .resolve(raw)
            .map_err(|problem| format!("the request body could not be read: {problem}"))?;
        let required = body.get("required").and_then(Value::as_bool).unwrap_or(false);
        let Some(content) =
            body.get("content").and_then(Value::as_object).filter(|c| !c.is_empty())
        else {
            return Ok(None);
        };
        let json = content
            .iter()
            .find(|(media, _)| is_json(media))
            .or_else(|| content.iter().find(|(media, _)| media.as_str() == "*/*"));
        match json {
            Some((_, media)) => Ok(Some(Body { schema: media.get("schema") })),
            None => {
                let types: Vec<&str> = content.keys().map(String::as_str).collect();
                let types = types.join(", ");
                if required {
                    return Err(format!(
                        "its request body must be {types}, which endpoints cannot send: only JSON bodies are supported"
                    ));
                }
                notes.push(format!("the optional {types} request body is not sent"));
                Ok(None)
            }
        }
    }

    /// A JSON body template of the schema's top-level properties, declaring their variables.
    fn body_template(
        &self,
        schema: Option<&'a Value>,
        vars: &mut Vars,
        notes: &mut Vec<String>,
    ) -> Result<Option<Value>, String> {
        let by_hand = "add a body template by hand";
        let Some(schema) = schema else {
            notes.push(format!("the JSON request body has no schema: {by_hand}"));
            return Ok(None);
        };
        let flat = match self.doc.flatten(schema) {
            Ok(flat) => flat,
            Err(problem @ RefProblem::External(_)) => {
                return Err(format!("the request body schema could not be read: {problem}"));
            }
            Err(problem) => {
                notes.push(format!(
                    "the request body schema could not be read ({problem}): {by_hand}"
                ));
                return Ok(None);
            }
        };
        if flat.composite && flat.properties.is_empty() {
            notes.push(format!(
                "the JSON request body is one of several shapes (oneOf/anyOf): {by_hand}"
            ));
            return Ok(None);
        }
        if !flat.is_object() {
            let kind =
                flat.types.iter().find(|t| **t != "null").copied().unwrap_or("of no fixed shape");
            notes.push(format!(
                "the JSON request body is {} {kind}, not an object: {by_hand}",
                if kind.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
            ));
            return Ok(None);
        }
        if flat.composite {
            notes.push("the request body may also take other shapes (oneOf/anyOf): only its common properties are templated".into());
        }
        let mut body = serde_json::Map::new();
        for (i, (property, property_schema)) in flat.properties.iter().enumerate() {
            if i == MAX_BODY_PROPERTIES {
                notes.push(format!(
                    "only the first {MAX_BODY_PROPERTIES} of the body's {} properties are templated",
                    flat.properties.len()
                ));
                break;
            }
            let property_flat = match self.doc.flatten(property_schema) {
                Ok(flat) => flat,
                Err(problem @ RefProblem::External(_)) => {
                    return Err(format!(
                        "the body property {property} could not be read: {problem}"
                    ));
                }
                // A recursive or overly nested property is still a value to send.
                Err(_) => Schema::default(),
            };
            if property_flat.read_only {
                continue;
            }
            let required = flat.required.contains(property);
            let name = vars.declare(property, "body", required, &property_flat, None);
            body.insert((*property).to_owned(), Value::String(format!("{{{name}}}")));
        }
        Ok(Some(Value::Object(body)))
    }

    pub(super) fn operation(
        &self,
        path: &str,
        method: &str,
        item: &'a Value,
        operation: &'a Value,
    ) -> Result<Draft, String> {
        let http_method = Self::method(method)?;
        if !operation.is_object() {
            return Err("the operation is not an object".into());
        }
        if path.contains(['?', '#']) {
            return Err(
                "the path has a query string or fragment, which endpoint paths cannot hold".into(),
            );
        }
        let (prefix, rest) = self.prefix(path, item, operation)?;
        let mut notes = Vec::new();
        let params = self.parameters(item, operation, &mut notes)?;
        let mut vars = Vars::default();

        if let Some(cookie) = params.iter().find(|p| p.location == "cookie" && p.required) {
            return Err(format!(
                "it needs the cookie {}, which endpoints cannot send",
                cookie.name
            ));
        }
        for cookie in params.iter().filter(|p| p.location == "cookie") {
            notes.push(format!("the optional cookie {} is not sent", cookie.name));
        }
        let body = self.body(operation, &params, &mut notes)?;

        // Path parameters, in the order the path uses them; one used twice is one variable.
        let mut declared: HashMap<String, String> = HashMap::new();
        let template = path_template(rest, |raw| {
            if let Some(name) = declared.get(raw) {
                return name.clone();
            }
            let param = params.iter().find(|p| p.location == "path" && p.name == raw);
            let schema = param.map(|p| p.schema.clone()).unwrap_or_default();
            let name = vars.declare(raw, "path", true, &schema, param.and_then(|p| p.description));
            declared.insert(raw.to_owned(), name.clone());
            name
        });
        let mut full = literal(&prefix);
        if !template.starts_with('/') {
            full.push('/');
        }
        full.push_str(&template);

        let mut query = BTreeMap::new();
        for param in params.iter().filter(|p| p.location == "query") {
            if self.options.provided_query.iter().any(|q| q == param.name) {
                notes.push(format!("the query parameter {} comes from the connection", param.name));
                continue;
            }
            let name =
                vars.declare(param.name, "query", param.required, &param.schema, param.description);
            query.insert(param.name.to_owned(), format!("{{{name}}}"));
        }

        let mut headers = BTreeMap::new();
        for param in params.iter().filter(|p| p.location == "header") {
            let lower = param.name.to_ascii_lowercase();
            if IGNORED_HEADERS.contains(&lower.as_str())
                || self.options.provided_headers.iter().any(|h| h.eq_ignore_ascii_case(param.name))
            {
                notes.push(format!("the header {} comes from the connection", param.name));
                continue;
            }
            let valid = !param.name.is_empty()
                && param
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid {
                notes.push(format!(
                    "the header {:?} is not a valid header name and is not sent",
                    param.name
                ));
                continue;
            }
            if !param.required {
                notes.push(format!(
                    "the optional header {} is left out (endpoint headers are always sent)",
                    param.name
                ));
                continue;
            }
            let name = vars.declare(param.name, "header", true, &param.schema, param.description);
            headers.insert(param.name.to_owned(), format!("{{{name}}}"));
        }

        let body = match body {
            Some(_) if matches!(http_method, HttpMethod::Get | HttpMethod::Head) => {
                notes.push(format!(
                    "{} requests send no body: the request body is left out",
                    http_method.as_str()
                ));
                None
            }
            Some(body) => self.body_template(body.schema, &mut vars, &mut notes)?,
            None => None,
        };

        let text = |key: &str| {
            operation.get(key).and_then(Value::as_str).map(str::trim).unwrap_or_default()
        };
        let (summary, description) = (text("summary"), text("description"));
        let mut about = match (summary.is_empty(), description.is_empty()) {
            (false, false) if description.starts_with(summary) => description.to_owned(),
            (false, false) => format!("{summary}\n\n{description}"),
            (false, true) => summary.to_owned(),
            (true, false) => description.to_owned(),
            (true, true) => format!("{} {path}", method.to_ascii_uppercase()),
        };
        if operation.get("deprecated").and_then(Value::as_bool) == Some(true) {
            about = format!("Deprecated. {about}");
            notes.push("the operation is deprecated".into());
        }
        let name = operation
            .get("operationId")
            .and_then(Value::as_str)
            .and_then(names::endpoint_name)
            .unwrap_or_else(|| names::name_from_path(method, path));

        notes.append(&mut vars.notes);
        Ok(Draft {
            operation: format!("{} {path}", method.to_ascii_uppercase()),
            name,
            description: names::cap(&about, MAX_DESCRIPTION),
            request: EndpointRequest {
                method: http_method,
                path: full,
                query,
                headers,
                body,
                variables: vars.specs,
            },
            notes,
        })
    }
}
