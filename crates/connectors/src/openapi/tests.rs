//! Small handcrafted documents, one concern each.

use sb_domain::{HttpMethod, VariableSpec};
use serde_json::{Value, json};

use super::operation::path_template;
use super::*;
use crate::template::{Template, parse_body};

fn options(base_url: &str) -> Options<'_> {
    Options { base_url, ..Options::default() }
}

fn convert_ok(spec: &Value, base_url: &str) -> Conversion {
    let conversion = convert(spec, &options(base_url)).unwrap();
    for draft in &conversion.drafts {
        assert_valid(draft);
    }
    conversion
}

/// Every draft is an endpoint the project accepts: name, templates, declared variables.
fn assert_valid(draft: &Draft) {
    sb_domain::validate_endpoint_name(&draft.name).unwrap();
    assert!(draft.description.chars().count() <= MAX_DESCRIPTION);
    assert!(draft.request.path.starts_with('/'), "{}", draft.request.path);
    let mut used: Vec<String> = Vec::new();
    let path = Template::parse("path", &draft.request.path).unwrap();
    used.extend(path.variables().map(str::to_owned));
    for (field, map) in [("query", &draft.request.query), ("headers", &draft.request.headers)] {
        for value in map.values() {
            used.extend(Template::parse(field, value).unwrap().variables().map(str::to_owned));
        }
    }
    if let Some(body) = &draft.request.body {
        parse_body("body", body).unwrap();
        for value in body.as_object().unwrap().values() {
            used.extend(
                Template::parse("body", value.as_str().unwrap())
                    .unwrap()
                    .variables()
                    .map(str::to_owned),
            );
        }
    }
    for spec in &draft.request.variables {
        sb_domain::validate_variable_name("v", &spec.name).unwrap();
        if let Some(p) = &spec.pattern {
            sb_domain::pattern::compile(p).unwrap();
        }
        assert!(used.contains(&spec.name), "{} declared but unused in {draft:?}", spec.name);
    }
    for name in used {
        assert!(
            draft.request.variables.iter().any(|v| v.name == name),
            "{name} used but not declared"
        );
    }
}

fn draft<'c>(conversion: &'c Conversion, name: &str) -> &'c Draft {
    conversion.drafts.iter().find(|d| d.name == name).unwrap_or_else(|| {
        panic!(
            "no draft {name}: {:?} / {:?}",
            conversion.drafts.iter().map(|d| &d.name).collect::<Vec<_>>(),
            conversion.skipped
        )
    })
}

fn var<'d>(draft: &'d Draft, name: &str) -> &'d VariableSpec {
    draft
        .request
        .variables
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no variable {name} in {draft:?}"))
}

fn reason<'c>(conversion: &'c Conversion, operation: &str) -> &'c str {
    &conversion
        .skipped
        .iter()
        .find(|s| s.operation == operation)
        .unwrap_or_else(|| panic!("{operation} not skipped: {:?}", conversion.skipped))
        .reason
}

fn swagger_petstore() -> Value {
    json!({
        "swagger": "2.0",
        "info": {"title": "Petstore", "version": "1"},
        "host": "petstore.swagger.io",
        "basePath": "/v2",
        "schemes": ["https", "http"],
        "consumes": ["application/json"],
        "parameters": {
            "petId": {"name": "petId", "in": "path", "required": true, "type": "integer", "format": "int64", "description": "ID of the pet"}
        },
        "paths": {
            "/pet": {
                "post": {
                    "operationId": "addPet", "summary": "Add a new pet to the store",
                    "consumes": ["application/json", "application/xml"],
                    "parameters": [{"in": "body", "name": "body", "required": true, "schema": {"$ref": "#/definitions/Pet"}}]
                }
            },
            "/pet/findByStatus": {
                "get": {
                    "operationId": "findPetsByStatus", "description": "Multiple status values can be provided",
                    "parameters": [{"name": "status", "in": "query", "required": true, "type": "array", "items": {"type": "string", "enum": ["available", "pending", "sold"]}},
                                   {"name": "limit", "in": "query", "type": "integer", "description": "How many"}]
                }
            },
            "/pet/{petId}": {
                "parameters": [{"$ref": "#/parameters/petId"}],
                "get": {"operationId": "getPetById", "summary": "Find pet by ID"},
                "delete": {
                    "operationId": "deletePet",
                    "parameters": [{"name": "api_key", "in": "header", "required": true, "type": "string"}]
                }
            },
            "/pet/{petId}/uploadImage": {
                "post": {
                    "operationId": "uploadFile", "consumes": ["multipart/form-data"],
                    "parameters": [{"$ref": "#/parameters/petId"},
                                   {"name": "file", "in": "formData", "required": true, "type": "file"}]
                }
            },
            "/pet/{petId}/xml": {
                "put": {
                    "operationId": "putXml", "consumes": ["application/xml"],
                    "parameters": [{"$ref": "#/parameters/petId"}, {"in": "body", "name": "body", "required": true, "schema": {"type": "object"}}]
                }
            }
        },
        "definitions": {
            "Pet": {
                "type": "object", "required": ["name"],
                "properties": {
                    "id": {"type": "integer", "readOnly": true},
                    "name": {"type": "string", "description": "The pet's name", "example": "doggie"},
                    "category": {"$ref": "#/definitions/Category"},
                    "status": {"type": "string", "enum": ["available", "pending", "sold"]}
                }
            },
            "Category": {"type": "object", "properties": {"id": {"type": "integer"}, "parent": {"$ref": "#/definitions/Category"}}}
        }
    })
}

#[test]
fn swagger_2_operations_become_endpoints() {
    let c = convert_ok(&swagger_petstore(), "https://petstore.swagger.io/v2");
    assert_eq!(c.version, Version::Swagger2);
    assert_eq!(c.title.as_deref(), Some("Petstore"));
    assert_eq!(c.servers, ["https://petstore.swagger.io/v2", "http://petstore.swagger.io/v2"]);

    let get = draft(&c, "getPetById");
    assert_eq!(get.request.method, HttpMethod::Get);
    assert_eq!(get.request.path, "/pet/{petId}");
    assert_eq!(get.description, "Find pet by ID");
    let pet_id = var(get, "petId");
    assert!(pet_id.required);
    assert_eq!(pet_id.pattern.as_deref(), Some("-?[0-9]+"));
    assert_eq!(pet_id.description, "ID of the pet (format: int64)");

    let find = draft(&c, "findPetsByStatus");
    assert_eq!(find.request.query["status"], "{status}");
    assert_eq!(find.request.query["limit"], "{limit}");
    assert!(var(find, "status").required);
    assert!(!var(find, "limit").required);
    assert_eq!(var(find, "limit").description, "How many");

    // A body parameter: a template of the definition's properties (readOnly ones left out).
    let add = draft(&c, "addPet");
    assert_eq!(
        add.request.body,
        Some(json!({"name": "{name}", "category": "{category}", "status": "{status}"}))
    );
    assert!(var(add, "name").required);
    assert!(!var(add, "category").required);
    assert_eq!(var(add, "status").pattern.as_deref(), Some("available|pending|sold"));
    assert_eq!(var(add, "name").description, "The pet's name");

    let delete = draft(&c, "deletePet");
    assert_eq!(delete.request.headers["api_key"], "{api_key}");

    assert!(reason(&c, "POST /pet/{petId}/uploadImage").contains("form body (the field file)"));
    assert!(reason(&c, "PUT /pet/{petId}/xml").contains("application/xml"));
    assert_eq!(c.drafts.len(), 4);
}

#[test]
fn swagger_2_base_path_is_prefixed_unless_the_connection_has_it() {
    let c = convert_ok(&swagger_petstore(), "https://petstore.swagger.io");
    assert_eq!(draft(&c, "getPetById").request.path, "/v2/pet/{petId}");
    let c = convert_ok(&swagger_petstore(), "https://petstore.swagger.io/v2/");
    assert_eq!(draft(&c, "getPetById").request.path, "/pet/{petId}");
    // Another host: nothing the connection can call.
    let c = convert_ok(&swagger_petstore(), "https://shop.example.com/v2");
    assert!(c.drafts.is_empty());
    assert!(reason(&c, "GET /pet/{petId}").contains(
        "served from petstore.swagger.io, not from the connection's host shop.example.com"
    ));
}

const OPENAPI_30_YAML: &str = r#"
openapi: 3.0.3
info:
  title: Shop
  version: "1"
servers:
  - url: /api/v3
paths:
  /orders/{order-id}:
    parameters:
      - name: order-id
        in: path
        required: true
        description: The order number
        schema: {type: string, pattern: "^[0-9]{3,10}$"}
      - $ref: '#/components/parameters/Lang'
    get:
      operationId: get order!
      summary: Look up an order
      description: |
        Status, delivery date and items.
      parameters:
        - name: lang
          in: query
          description: Operation-level language wins
          schema: {type: string, enum: [en, de, "a.b"]}
        - name: X-Request-Id
          in: header
          required: true
          schema: {type: string, format: uuid}
        - name: Authorization
          in: header
          required: true
          schema: {type: string}
        - name: trace
          in: header
          schema: {type: string}
        - name: session
          in: cookie
          schema: {type: string}
    put:
      operationId: updateOrder
      deprecated: true
      requestBody:
        $ref: '#/components/requestBodies/Order'
    delete:
      operationId: cancelOrder
      parameters:
        - name: session
          in: cookie
          required: true
          schema: {type: string}
    options:
      operationId: optionsOrder
    trace:
      operationId: traceOrder
  /orders:
    get:
      parameters:
        - name: page[size]
          in: query
          schema: {type: integer}
        - name: filter
          in: query
          schema: {type: string, pattern: "(?=lookahead)"}
    post:
      operationId: createOrder
      requestBody:
        required: true
        content:
          application/vnd.shop+json:
            schema:
              allOf:
                - $ref: '#/components/schemas/Base'
                - type: object
                  required: [sku]
                  properties:
                    sku: {type: string, description: Article number}
                    order-id: {type: string}
  /uploads:
    post:
      operationId: upload
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: {type: object}
  /notes:
    post:
      operationId: addNote
      requestBody:
        content:
          application/json:
            schema:
              oneOf: [{type: string}, {type: object}]
    patch:
      operationId: patchNotes
      requestBody:
        content:
          application/json:
            schema: {type: array, items: {type: string}}
    put:
      operationId: putNotes
      requestBody:
        content:
          text/plain:
            schema: {type: string}
components:
  parameters:
    Lang:
      name: lang
      in: query
      description: Path-level language
      schema: {type: string}
  requestBodies:
    Order:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Order'}
  schemas:
    Base:
      type: object
      required: [quantity]
      properties:
        quantity: {type: integer, description: How many}
        note: {type: string}
    Order:
      allOf:
        - $ref: '#/components/schemas/Base'
        - $ref: '#/components/schemas/Order'
        - properties:
            express: {type: boolean}
            parent: {$ref: '#/components/schemas/Order'}
"#;

fn openapi_30() -> Value {
    parse_text(OPENAPI_30_YAML).unwrap()
}

#[test]
fn openapi_3_0_yaml_with_references_and_merged_parameters() {
    let c = convert_ok(&openapi_30(), "https://shop.example.com");
    assert_eq!(c.version, Version::OpenApi30);
    assert_eq!(c.servers, ["/api/v3"]);
    let get = draft(&c, "get_order");
    assert_eq!(get.operation, "GET /orders/{order-id}");
    assert_eq!(get.request.path, "/api/v3/orders/{order_id}");
    assert_eq!(get.description, "Look up an order\n\nStatus, delivery date and items.");
    let order_id = var(get, "order_id");
    assert_eq!(order_id.description, "The order number");
    assert_eq!(order_id.pattern.as_deref(), Some("(?:[0-9]{3,10})"));
    // The operation's `lang` replaces the path item's.
    assert_eq!(get.request.query.len(), 1);
    let lang = var(get, "lang");
    assert_eq!(lang.description, "Operation-level language wins");
    assert_eq!(lang.pattern.as_deref(), Some(r"en|de|a\.b"));
    assert!(!lang.required);
    // Headers: a required one is templated, Authorization comes from the connection, an
    // optional one is left out.
    assert_eq!(get.request.headers.len(), 1);
    assert_eq!(get.request.headers["X-Request-Id"], "{X_Request_Id}");
    assert_eq!(var(get, "X_Request_Id").description, "Format: uuid.");
    assert!(get.notes.iter().any(|n| n.contains("Authorization comes from the connection")));
    assert!(get.notes.iter().any(|n| n.contains("optional header trace is left out")));
    assert!(get.notes.iter().any(|n| n.contains("optional cookie session is not sent")));

    // A required cookie cannot be sent; OPTIONS and TRACE are not endpoint methods.
    assert!(reason(&c, "DELETE /orders/{order-id}").contains("cookie session"));
    assert!(reason(&c, "OPTIONS /orders/{order-id}").starts_with("OPTIONS is not a method"));
    assert!(reason(&c, "TRACE /orders/{order-id}").starts_with("TRACE is not a method"));
    assert!(reason(&c, "POST /uploads").contains("multipart/form-data"));
}

#[test]
fn request_bodies_become_json_templates_with_all_of_merged() {
    let c = convert_ok(&openapi_30(), "https://shop.example.com/api/v3");
    // A recursive schema (Order includes itself and has itself as a property) is fine.
    let update = draft(&c, "updateOrder");
    assert_eq!(update.request.path, "/orders/{order_id}");
    assert!(update.description.starts_with("Deprecated. "), "{}", update.description);
    assert_eq!(
        update.request.body,
        Some(
            json!({"quantity": "{quantity}", "note": "{note}", "express": "{express}", "parent": "{parent}"})
        )
    );
    assert!(var(update, "quantity").required);
    assert_eq!(var(update, "quantity").pattern.as_deref(), Some("-?[0-9]+"));
    assert_eq!(var(update, "express").pattern.as_deref(), Some("true|false"));
    assert!(!var(update, "note").required);

    // A +json media type; allOf with a reference; a body property named like a path
    // parameter would be; `order-id` sanitised.
    let create = draft(&c, "createOrder");
    assert_eq!(
        create.request.body,
        Some(
            json!({"quantity": "{quantity}", "note": "{note}", "sku": "{sku}", "order-id": "{order_id}"})
        )
    );
    assert!(var(create, "sku").required && var(create, "quantity").required);
    assert_eq!(var(create, "sku").description, "Article number");

    // oneOf and arrays: created, without a body template, with a note.
    let note = draft(&c, "addNote");
    assert_eq!(note.request.body, None);
    assert!(note.notes.iter().any(|n| n.contains("oneOf/anyOf")), "{:?}", note.notes);
    let patch = draft(&c, "patchNotes");
    assert_eq!(patch.request.body, None);
    assert!(patch.notes.iter().any(|n| n.contains("an array, not an object")), "{:?}", patch.notes);
    // An optional body that is not JSON: created, body noted.
    let put = draft(&c, "putNotes");
    assert!(put.notes.iter().any(|n| n.contains("optional text/plain request body")));
}

#[test]
fn names_and_variables_are_sanitised_and_unique() {
    let c = convert_ok(&openapi_30(), "https://shop.example.com");
    // No operationId: method and path words.
    let list = draft(&c, "get_orders");
    assert_eq!(list.request.query["page[size]"], "{page_size}");
    // A pattern the project cannot compile (lookahead) is dropped, with a note.
    assert_eq!(var(list, "filter").pattern, None);
    assert!(
        list.notes.iter().any(|n| n.contains("pattern of filter was left out")),
        "{:?}",
        list.notes
    );

    assert_eq!(names::variable_name("X-Request-Id"), "X_Request_Id");
    assert_eq!(names::variable_name("page[size]"), "page_size");
    assert_eq!(names::variable_name("user-id"), "user_id");
    assert_eq!(names::variable_name("2fa"), "_2fa");
    assert_eq!(names::variable_name("ü"), "value");
    assert_eq!(names::endpoint_name("repos/get-content").as_deref(), Some("repos_get-content"));
    assert_eq!(names::endpoint_name("/// ").as_deref(), None);
    assert_eq!(names::endpoint_name(&"x".repeat(100)).unwrap().len(), 64);
    assert_eq!(names::name_from_path("get", "/pets/{petId}/photos"), "get_pets_petId_photos");
    let long = "y".repeat(64);
    assert_eq!(names::unique(&long, |n| n == long).len(), 64);

    // Duplicates within one document get _2, _3.
    let spec = json!({"openapi": "3.0.0", "paths": {
        "/a": {"get": {"operationId": "list"}}, "/b": {"get": {"operationId": "list"}},
        "/c": {"get": {"operationId": "list"}}, "/d": {"get": {"operationId": "list_2"}}}});
    let c = convert_ok(&spec, "https://x.example");
    let names: Vec<&str> = c.drafts.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["list", "list_2", "list_3", "list_2_2"]);

    // A body property with the same name as a path parameter gets its own variable.
    let spec = json!({"openapi": "3.0.0", "paths": {"/items/{id}": {"put": {
        "operationId": "put",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
                       {"name": "id", "in": "query", "schema": {"type": "string"}}],
        "requestBody": {"content": {"application/json": {"schema": {"properties": {"id": {"type": "string"}}}}}}}}}});
    let converted = convert_ok(&spec, "https://x.example");
    let put = draft(&converted, "put");
    assert_eq!(put.request.path, "/items/{id}");
    assert_eq!(put.request.query["id"], "{query_id}");
    assert_eq!(put.request.body, Some(json!({"id": "{body_id}"})));
}

#[test]
fn literal_braces_in_paths_stay_literal() {
    assert_eq!(path_template("/a/{x}/b{c}d", str::to_owned), "/a/{x}/b{c}d");
    assert_eq!(path_template("/a/{/b}", str::to_owned), "/a/{{/b}}");
    assert_eq!(path_template("/a/{}/{", str::to_owned), "/a/{{}}/{{");
    assert_eq!(path_template("/é/{x-y}", names::variable_name), "/é/{x_y}");
    let spec =
        json!({"openapi": "3.0.0", "paths": {"/odd}/{id}{": {"get": {"operationId": "odd"}}}});
    let converted = convert_ok(&spec, "https://x.example");
    let odd = draft(&converted, "odd");
    assert_eq!(odd.request.path, "/odd}}/{id}{{");
    assert!(var(odd, "id").required);
}

#[test]
fn openapi_3_1_servers_types_and_external_references() {
    let spec = json!({
        "openapi": "3.1.0",
        "info": {"title": "Trains", "version": "1"},
        "servers": [{"url": "https://{env}.trains.example/{version}", "variables": {
            "env": {"default": "api", "enum": ["api", "sandbox"]}, "version": {"default": "v1"}}}],
        "paths": {
            "/stations/{id}": {
                "get": {
                    "operationId": "get-station",
                    "parameters": [
                        {"name": "id", "in": "path", "required": true, "schema": {"type": ["string", "null"], "const": "x"}},
                        {"name": "coordinates", "in": "query", "content": {"application/json": {"schema": {"type": "number"}}}}
                    ]
                }
            },
            "/bookings": {
                "servers": [{"url": "https://payments.example.com/v1"}],
                "get": {"operationId": "list-bookings"}
            },
            "/trips": {
                "get": {"operationId": "trips", "servers": [{"url": "https://other.example"}, {"url": "https://api.trains.example/v1/x"}]},
                "post": {"operationId": "external", "requestBody": {"content": {"application/json": {"schema": {"$ref": "schemas.yaml#/Trip"}}}}},
                "put": {"operationId": "external-param", "parameters": [{"$ref": "https://example.com/params.json#/p"}]},
                "patch": {"operationId": "dangling", "parameters": [{"$ref": "#/components/parameters/Nope"}]}
            }
        }
    });
    let c = convert_ok(&spec, "https://api.trains.example/v1");
    assert_eq!(c.version, Version::OpenApi31);
    assert_eq!(c.servers, ["https://api.trains.example/v1"]);
    let station = draft(&c, "get-station");
    assert_eq!(station.request.path, "/stations/{id}");
    assert_eq!(var(station, "id").pattern.as_deref(), Some("x"));
    assert_eq!(
        var(station, "coordinates").pattern.as_deref(),
        Some(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
    );
    // Path-level servers elsewhere; operation-level servers: the first that fits.
    assert!(reason(&c, "GET /bookings").contains("served from payments.example.com"));
    assert_eq!(draft(&c, "trips").request.path, "/x/trips");
    assert!(reason(&c, "POST /trips").contains("external references are not followed"));
    assert!(reason(&c, "POST /trips").contains("schemas.yaml#/Trip"));
    assert!(reason(&c, "PUT /trips").contains("another document"));
    assert!(reason(&c, "PATCH /trips").contains("#/components/parameters/Nope points at nothing"));
}

#[test]
fn path_item_references_and_cycles() {
    let spec = json!({
        "openapi": "3.1.0",
        "paths": {
            "/pets": {"$ref": "#/components/pathItems/Pets"},
            "/loop": {"$ref": "#/components/pathItems/Loop"},
            "/escaped": {"$ref": "#/components/pathItems/a~1b%20c"}
        },
        "components": {
            "pathItems": {
                "Pets": {"get": {"operationId": "listPets", "parameters": [{"$ref": "#/components/parameters/Limit"}]}},
                "Loop": {"$ref": "#/components/pathItems/Loop"},
                "a/b c": {"get": {"operationId": "escaped"}}
            },
            "parameters": {"Limit": {"$ref": "#/components/parameters/Limit2"}, "Limit2": {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}}
        }
    });
    let c = convert_ok(&spec, "https://x.example");
    assert_eq!(draft(&c, "listPets").request.query["limit"], "{limit}");
    assert!(reason(&c, "* /loop").contains("refers back to itself"));
    draft(&c, "escaped");

    // Deeply recursive schemas: a tree whose nodes hold trees, allOf chains back to itself.
    let mut schemas = serde_json::Map::new();
    for i in 0..40 {
        schemas.insert(format!("S{i}"), json!({"allOf": [{"$ref": format!("#/components/schemas/S{}", i + 1)}, {"$ref": format!("#/components/schemas/S{}", i + 1)}], "properties": {format!("p{i}"): {"$ref": "#/components/schemas/S0"}}}));
    }
    schemas.insert("S40".into(), json!({"$ref": "#/components/schemas/S0"}));
    let spec = json!({"openapi": "3.0.0", "paths": {"/deep": {"post": {"operationId": "deep",
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}}}}},
        "components": {"schemas": schemas}});
    let converted = convert_ok(&spec, "https://x.example");
    let deep = draft(&converted, "deep");
    assert_eq!(deep.request.body, None);
    assert!(deep.notes.iter().any(|n| n.contains("too many allOf parts")), "{:?}", deep.notes);
}

#[test]
fn patterns_fit_the_project_syntax() {
    let schema = |v: Value| -> Option<String> {
        let doc = Doc { root: &Value::Null, work: &Work::new(MAX_WORK) };
        names::pattern(&doc.flatten(&v).unwrap()).unwrap()
    };
    assert_eq!(schema(json!({"pattern": "^[a-z]+$"})).as_deref(), Some("(?:[a-z]+)"));
    // ECMA patterns match anywhere unless anchored.
    assert_eq!(schema(json!({"pattern": "[a-z]"})).as_deref(), Some("(?s:.*)(?:[a-z])(?s:.*)"));
    assert_eq!(schema(json!({"pattern": "^ab\\$"})).as_deref(), Some("(?:ab\\$)(?s:.*)"));
    assert_eq!(schema(json!({"type": "integer"})).as_deref(), Some("-?[0-9]+"));
    assert_eq!(schema(json!({"enum": ["a+b", "c|d", 3, null]})).as_deref(), Some(r"a\+b|c\|d|3"));
    assert_eq!(schema(json!({"type": "string"})), None);
    let compiled =
        sb_domain::pattern::compile(&schema(json!({"pattern": "[a-z]"})).unwrap()).unwrap();
    assert!(compiled.is_match("12a34"));
    assert!(!compiled.is_match("1234"));
    let doc = Doc { root: &Value::Null, work: &Work::new(MAX_WORK) };
    let refused = json!({"pattern": "(a)\\1"});
    assert!(names::pattern(&doc.flatten(&refused).unwrap()).is_err());
    let long = json!({"pattern": "a".repeat(2000)});
    assert!(names::pattern(&doc.flatten(&long).unwrap()).is_err());
}

#[test]
fn descriptions_are_capped_and_parameters_described() {
    let long = "word ".repeat(1000);
    let spec = json!({"openapi": "3.0.0", "paths": {"/a": {"get": {
        "operationId": "a", "summary": "  Short  ", "description": long,
        "parameters": [{"name": "q", "in": "query", "description": "d".repeat(3000), "schema": {"type": "string"}}]}},
        "/b": {"get": {"operationId": "b"}}}});
    let c = convert_ok(&spec, "https://x.example");
    let a = draft(&c, "a");
    assert!(a.description.starts_with("Short\n\nword word"));
    assert_eq!(a.description.chars().count(), MAX_DESCRIPTION);
    assert!(a.description.ends_with('…'));
    assert_eq!(var(a, "q").description.chars().count(), 1000);
    assert_eq!(draft(&c, "b").description, "GET /a".replace("/a", "/b"));
}

#[test]
fn what_the_connection_provides_is_left_out() {
    let spec = json!({"openapi": "3.0.0", "paths": {"/a": {"get": {"operationId": "a", "parameters": [
        {"name": "api_key", "in": "query", "required": true, "schema": {"type": "string"}},
        {"name": "X-Api-Key", "in": "header", "required": true, "schema": {"type": "string"}},
        {"name": "X-Tenant", "in": "header", "required": true, "schema": {"type": "string"}}]}}}});
    let options = Options {
        base_url: "https://x.example",
        provided_headers: vec!["x-api-key".into()],
        provided_query: vec!["api_key".into()],
    };
    let c = convert(&spec, &options).unwrap();
    let a = draft(&c, "a");
    assert!(a.request.query.is_empty());
    assert_eq!(a.request.headers.keys().collect::<Vec<_>>(), ["X-Tenant"]);
    assert_valid(a);
}

#[test]
fn the_number_of_operations_is_bounded() {
    let mut paths = serde_json::Map::new();
    for i in 0..MAX_OPERATIONS + 5 {
        paths.insert(format!("/p{i}"), json!({"get": {}}));
    }
    let c = convert_ok(&json!({"swagger": "2.0", "paths": paths}), "https://x.example");
    assert_eq!(c.drafts.len(), MAX_OPERATIONS);
    assert_eq!(c.skipped.len(), 1);
    assert_eq!(c.skipped[0].operation, format!("GET /p{MAX_OPERATIONS}"));
    assert!(c.skipped[0].reason.contains("and the 4 after it"), "{}", c.skipped[0].reason);
}

#[test]
fn documents_that_are_not_openapi_are_refused() {
    let refuse = |v: Value| convert(&v, &options("https://x.example")).unwrap_err().0;
    assert!(refuse(json!({"info": {}})).contains("no `openapi` or `swagger` field"));
    assert!(refuse(json!([1])).contains("not an object"));
    assert!(refuse(json!({"swagger": "1.2"})).contains("only 2.0"));
    assert!(refuse(json!({"openapi": "4.0.0"})).contains("not supported"));
    assert!(refuse(json!({"openapi": "3.0.0", "paths": []})).contains("`paths`"));
    // YAML's unquoted 2.0 is a number.
    assert_eq!(
        convert(&parse_text("swagger: 2.0\npaths: {}").unwrap(), &options("https://x"))
            .unwrap()
            .version,
        Version::Swagger2
    );
}

#[test]
fn json_and_yaml_text_parse_to_the_same_value() {
    let yaml = "openapi: 3.1.0\npaths:\n  /a:\n    get:\n      responses:\n        200: {description: ok}\n        default: {description: no}\n";
    let json_text = r#"{"openapi": "3.1.0", "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}, "default": {"description": "no"}}}}}}"#;
    assert_eq!(parse_text(yaml).unwrap(), parse_text(json_text).unwrap());
    assert_eq!(parse_text("\u{feff}  {\"a\": 1}").unwrap(), json!({"a": 1}));
    // Anchors, aliases and merge keys.
    let merged = parse_text("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nf: .nan\n").unwrap();
    assert_eq!(merged, json!({"base": {"x": 1, "y": 2}, "use": {"x": 1, "y": 3}, "f": null}));
    assert!(parse_text("").unwrap_err().0.contains("empty"));
    assert!(parse_text("{\"a\": ").unwrap_err().0.contains("not valid JSON"));
    assert!(parse_text("a: [1, 2").unwrap_err().0.contains("not valid YAML"));
    assert!(parse_text("!Custom {a: 1}").unwrap_err().0.contains("tags"));
}

#[test]
fn hostile_yaml_is_refused_quickly() {
    // Billion laughs: each level doubles ten-fold. Tiny text, enormous expansion.
    let mut bomb = String::from("a0: &a0 [\"lol lol lol lol lol lol lol lol lol lol\"]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    // Refused by the expansion check, not after expanding (which would not finish).
    let err = parse_text(&bomb).unwrap_err();
    assert!(err.0.contains("expands to far more") || err.0.contains("repetition limit"), "{err}");

    // Few aliases, each of a large value: within yaml_serde's repetition limit, but 1 GB.
    let mut wide = format!("big: &big \"{}\"\nall:\n", "x".repeat(1 << 20));
    wide.push_str(&"  - *big\n".repeat(1000));
    let err = parse_text(&wide).unwrap_err();
    assert!(err.0.contains("expands to far more"), "{err}");

    // Deep nesting is refused, not a stack overflow.
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse_text(&deep).is_err());
    let deep_yaml = format!("{}1", "- ".repeat(10_000));
    assert!(parse_text(&deep_yaml).is_err());
    let deep_yaml = (0..300).map(|i| format!("{}k:\n", "  ".repeat(i))).collect::<String>();
    assert!(
        parse_text(&deep_yaml).unwrap_err().0.contains("deeper") || parse_text(&deep_yaml).is_err()
    );
}

#[test]
fn host_servers_are_placed_against_the_base_path() {
    let spec = |server: &str| {
        json!({"openapi": "3.0.0", "servers": [{"url": server}], "paths": {
            "/v1/customers/{id}": {"get": {"operationId": "customer"}},
            "/v1": {"get": {"operationId": "root"}},
            "/v2/other": {"get": {"operationId": "other"}}}})
    };
    // A root server, a base URL with a path: the path's own prefix is taken off.
    let c = convert_ok(&spec("https://api.stripe.com/"), "https://api.stripe.com/v1");
    assert_eq!(draft(&c, "customer").request.path, "/customers/{id}");
    assert_eq!(draft(&c, "root").request.path, "/");
    assert!(reason(&c, "GET /v2/other").contains("outside the connection's base path /v1"));
    assert!(reason(&c, "GET /v2/other").contains("/v2/other"));
    // The server's path is the base path: nothing to add or take off.
    let c = convert_ok(&spec("https://api.stripe.com/v1"), "https://api.stripe.com/v1/");
    assert_eq!(draft(&c, "customer").request.path, "/v1/customers/{id}");
    // The server's path goes further than the base path: the rest is put in front.
    let c = convert_ok(&spec("https://api.stripe.com/v1/x"), "https://api.stripe.com/v1");
    assert_eq!(draft(&c, "customer").request.path, "/x/v1/customers/{id}");
    // Neither under the other: skipped.
    let c = convert_ok(&spec("https://api.stripe.com/api"), "https://api.stripe.com/v1");
    assert!(c.drafts.is_empty());
    assert!(
        reason(&c, "GET /v1/customers/{id}")
            .contains("served at /api/v1/customers/{id}, outside the connection's base path /v1")
    );
    // A segment only partly the same is not the base path.
    let c = convert_ok(&spec("https://api.stripe.com"), "https://api.stripe.com/v");
    assert!(c.drafts.is_empty());
    // Relative servers keep their rule: put in front unless the base URL ends with them.
    let c = convert_ok(&spec("/v1"), "https://api.stripe.com/v1");
    assert_eq!(draft(&c, "customer").request.path, "/v1/customers/{id}");
    let c = convert_ok(&spec("/api"), "https://api.stripe.com/v1");
    assert_eq!(draft(&c, "customer").request.path, "/api/v1/customers/{id}");
}

#[test]
fn a_path_parameter_used_twice_is_one_variable() {
    let spec = json!({"openapi": "3.0.0", "paths": {"/a/{id}/b/{id}": {"get": {
        "operationId": "twice",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
                       {"name": "id", "in": "query", "schema": {"type": "string"}}]}}}});
    let c = convert_ok(&spec, "https://x.example");
    let twice = draft(&c, "twice");
    assert_eq!(twice.request.path, "/a/{id}/b/{id}");
    assert_eq!(twice.request.query["id"], "{query_id}");
    assert_eq!(twice.request.variables.len(), 2, "{:?}", twice.request.variables);
    assert_eq!(var(twice, "id").pattern.as_deref(), Some("-?[0-9]+"));
}

#[test]
fn parameters_per_operation_are_capped() {
    let params: Vec<Value> =
        (0..150).map(|i| json!({"name": format!("q{i}"), "in": "query"})).collect();
    let mut operation_params = params[..10].to_vec();
    operation_params[0] = json!({"name": "q0", "in": "query", "description": "mine"});
    let spec = json!({"openapi": "3.0.0", "paths": {"/a": {
        "parameters": params,
        "get": {"operationId": "many", "parameters": operation_params}}}});
    let c = convert_ok(&spec, "https://x.example");
    let many = draft(&c, "many");
    assert_eq!(many.request.query.len(), MAX_PARAMETERS);
    assert!(many.notes.iter().any(|n| n.contains("first 100 of the operation's 160 parameters")));
}

/// One schema of 50,000 properties, the body of 2,000 operations: under 1 MB of text, but
/// quadratic merging or a budget per flattening would take minutes. The document's one budget
/// runs out before the last operation.
#[test]
fn work_is_bounded_per_document() {
    let properties: serde_json::Map<String, Value> =
        (0..50_000).map(|i| (format!("p{i}"), json!({}))).collect();
    let mut paths = serde_json::Map::new();
    for i in 0..2000 {
        paths.insert(
            format!("/r{i}"),
            json!({"post": {"operationId": format!("op{i}"), "requestBody": {"content": {
                "application/json": {"schema": {"allOf": [
                    {"$ref": "#/components/schemas/Big"}, {"$ref": "#/components/schemas/Big"}]}}}}}}),
        );
    }
    let spec = json!({"openapi": "3.0.0", "paths": paths,
        "components": {"schemas": {"Big": {"type": "object", "properties": properties}}}});
    // The bound is proven by the budget running out part-way, not by a clock (which a busy
    // machine's debug build missed by half a minute).
    let c = convert(&spec, &options("https://x.example")).unwrap();
    assert!(!c.drafts.is_empty());
    assert!(c.drafts.len() < 2000);
    assert_eq!(draft(&c, "op0").request.body.as_ref().unwrap().as_object().unwrap().len(), 100);
    let last = c.skipped.last().unwrap();
    assert!(last.reason.contains("more work to convert than one import allows"), "{last:?}");
    assert!(last.reason.contains(&format!("the {} after it", 2000 - c.drafts.len() - 1)));
    assert_eq!(c.skipped.len(), 1);
}

#[test]
fn the_budget_keeps_what_was_converted_before_it_ran_out() {
    let spec = json!({"openapi": "3.0.0", "paths": {
        "/a": {"get": {"operationId": "a"}},
        "/b": {"post": {"operationId": "b", "requestBody": {"content": {"application/json": {
            "schema": {"type": "object", "properties": {"x": {}, "y": {}, "z": {}}}}}}}},
        "/c": {"get": {"operationId": "c"}}}});
    let c = convert_within(&spec, &options("https://x.example"), 3).unwrap();
    assert_eq!(c.drafts.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["a"]);
    assert!(reason(&c, "POST /b").contains("this operation and the 1 after it"));
    let c = convert_within(&spec, &options("https://x.example"), 1000).unwrap();
    assert_eq!(c.drafts.len(), 3);
}

#[test]
fn json_text_is_charged_like_yaml() {
    let dense = format!("[{}0]", "0,".repeat(2_000_000));
    let err = parse_text(&dense).unwrap_err();
    assert!(err.0.contains("expands to far more"), "{err}");
    // An ordinary document, and a JSON "<<" key that is not a merge.
    let fine = parse_text(r#"{"openapi": "3.0.0", "<<": {"a": 1}, "x": [1, 2.5, null, true]}"#);
    assert_eq!(
        fine.unwrap(),
        json!({"openapi": "3.0.0", "<<": {"a": 1}, "x": [1, 2.5, null, true]})
    );
    assert!(parse_text("{\"a\": 1} x").is_err());
}
