//! Checks real answers against the OpenAPI description: the subset of JSON Schema the
//! description uses (`$ref`, `allOf`, `anyOf`/`oneOf`, `type`, `enum`, `const`, `properties`,
//! `required`, `additionalProperties`, `items`, `pattern`), enough to catch a renamed, missing,
//! extra or retyped field. Objects are closed unless `additionalProperties` opens them, so the
//! check also fails on fields the description does not mention.

use serde_json::Value;

pub struct Spec(pub Value);

impl Spec {
    /// The schema of the JSON answer `status` of `method template`, following a response `$ref`.
    pub fn response_schema(&self, method: &str, template: &str, status: u16) -> Option<&Value> {
        let responses = &self.0["paths"][format!("/api/v1{template}")][method]["responses"];
        let mut response =
            responses.get(status.to_string()).or_else(|| responses.get("default"))?;
        if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
            response = self.resolve(reference);
        }
        response.pointer("/content/application~1json/schema")
    }

    fn resolve(&self, reference: &str) -> &Value {
        let pointer = reference.strip_prefix('#').expect("local reference");
        self.0.pointer(pointer).unwrap_or_else(|| panic!("unresolved {reference}"))
    }

    /// Every way `value` breaks `schema`, as `path: problem`.
    pub fn violations(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut found = Vec::new();
        self.check(schema, value, "$", &mut found);
        found
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
        let Some(schema) = schema.as_object() else { return };
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            self.check(self.resolve(reference), value, at, found);
        }
        for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            self.check(part, value, at, found);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(options) = schema.get(key).and_then(Value::as_array) {
                let fits = options.iter().any(|option| self.violations(option, value).is_empty());
                if !fits {
                    found.push(format!("{at}: matches none of {key}: {value}"));
                }
            }
        }
        if let Some(types) = schema.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !allowed.iter().any(|t| type_fits(t, value)) {
                found.push(format!("{at}: {value} is not {allowed:?}"));
                return;
            }
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array)
            && !options.contains(value)
        {
            found.push(format!("{at}: {value} is not one of {options:?}"));
        }
        if let Some(constant) = schema.get("const")
            && constant != value
        {
            found.push(format!("{at}: {value} is not {constant}"));
        }
        if let (Some(pattern), Some(text)) =
            (schema.get("pattern").and_then(Value::as_str), value.as_str())
            && !regex::Regex::new(pattern).unwrap().is_match(text)
        {
            found.push(format!("{at}: {text:?} does not match {pattern}"));
        }
        if let Some(object) = value.as_object() {
            let properties = schema.get("properties").and_then(Value::as_object);
            for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                if !object.contains_key(name) {
                    found.push(format!("{at}: missing {name}"));
                }
            }
            for (name, field) in object {
                match properties.and_then(|p| p.get(name)) {
                    Some(property) => self.check(property, field, &format!("{at}.{name}"), found),
                    // Stricter than JSON Schema: a field the description does not mention is
                    // drift, unless the schema says any field may come.
                    None if properties.is_some() && !open(schema) => {
                        found.push(format!("{at}: {name} is not documented"))
                    }
                    None => {}
                }
            }
        }
        if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for (i, item) in array.iter().enumerate() {
                self.check(items, item, &format!("{at}[{i}]"), found);
            }
        }
    }
}

fn open(schema: &serde_json::Map<String, Value>) -> bool {
    schema.get("additionalProperties").is_some_and(|extra| extra != &Value::Bool(false))
}

fn type_fits(expected: &str, value: &Value) -> bool {
    match expected {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

#[test]
fn the_check_catches_drift() {
    let spec = Spec(serde_json::json!({"components": {"schemas": {"Team": {
        "type": "object",
        "properties": {"id": {"type": "string", "pattern": "^team_"}, "size": {"type": ["integer", "null"]}},
        "required": ["id", "size"],
    }}}}));
    let schema = serde_json::json!({"$ref": "#/components/schemas/Team"});
    assert!(
        spec.violations(&schema, &serde_json::json!({"id": "team_1", "size": null})).is_empty()
    );
    let problems = |value| spec.violations(&schema, &value);
    assert_eq!(problems(serde_json::json!({"id": "team_1"})), ["$: missing size"]);
    assert_eq!(
        problems(serde_json::json!({"id": "team_1", "size": 2, "colour": "red"})),
        ["$: colour is not documented"]
    );
    assert_eq!(problems(serde_json::json!({"id": "usr_1", "size": "2"})).len(), 2);
}
