//! Template rendering as an attacker would feed it: values must stay data wherever they land.

use proptest::prelude::*;
use sb_connectors::template::{
    Template, Variables, parse_body, render_body, render_headers, render_path, render_query,
};
use sb_connectors::{AuthSecrets, CallError};
use serde_json::{Value, json};

fn vars(pairs: &[(&str, Value)]) -> Variables {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

fn path(template: &str, value: &str) -> Result<String, CallError> {
    render_path(&Template::parse("path", template).unwrap(), &vars(&[("id", json!(value))]))
}

#[test]
fn path_values_cannot_leave_their_segment() {
    assert_eq!(path("/orders/{id}", "4521").unwrap(), "/orders/4521");
    assert_eq!(path("/orders/{id}", "../admin").unwrap(), "/orders/%2E%2E%2Fadmin");
    assert_eq!(path("/orders/{id}", "a/b").unwrap(), "/orders/a%2Fb");
    assert_eq!(path("/orders/{id}", "%2F..%2F").unwrap(), "/orders/%252F%2E%2E%252F");
    assert_eq!(path("/orders/{id}", "1?admin=true#x").unwrap(), "/orders/1%3Fadmin%3Dtrue%23x");
    assert_eq!(path("/orders/{id}", "é 😀").unwrap(), "/orders/%C3%A9%20%F0%9F%98%80");
    assert_eq!(path("/orders/{id}", "a\r\nb").unwrap(), "/orders/a%0D%0Ab");
    assert_eq!(path("/o/{id}/items", "x").unwrap(), "/o/x/items");
    for traversal in ["..", ".", "%2e%2e"] {
        let err = path("/orders/{id}", traversal);
        if traversal == "%2e%2e" {
            assert_eq!(err.unwrap(), "/orders/%252e%252e", "an encoded dot stays literal text");
        } else {
            assert_eq!(err.unwrap_err().code, "invalid_variable", "{traversal}");
        }
    }
    assert_eq!(
        path("/orders/{id}", "").unwrap_err().code,
        "invalid_variable",
        "empty values would address the list"
    );
    let missing =
        render_path(&Template::parse("path", "/orders/{id}/{line}").unwrap(), &Variables::new())
            .unwrap_err();
    assert_eq!(missing.code, "missing_variable");
    assert!(
        missing.message.contains("id") && missing.message.contains("line"),
        "{}",
        missing.message
    );
}

#[test]
fn braces_escape_and_syntax_errors_are_reported() {
    let t = Template::parse("path", "/a/{{literal}}/{id}").unwrap();
    assert_eq!(render_path(&t, &vars(&[("id", json!(7))])).unwrap(), "/a/{literal}/7");
    for bad in ["/a/{id", "/a/id}", "/a/{}", "/a/{bad name}", "/a/{1abc}", "/a/{a{b}"] {
        let err = Template::parse("path", bad).unwrap_err();
        assert_eq!(err.code, "invalid_template", "{bad}");
        assert_eq!(err.field, "path");
    }
    let err = parse_body("body", &json!({"a": ["ok", "{broken"]})).unwrap_err();
    assert_eq!(err.field, "body.a[1]");
}

#[test]
fn header_values_with_line_breaks_are_refused() {
    let templates =
        vec![("X-Order".to_owned(), Template::parse("headers.X-Order", "order-{id}").unwrap())];
    for evil in ["1\r\nX-Admin: true", "1\nX", "1\rX", "1\u{0}", "1\u{7f}"] {
        let err = render_headers(&templates, &vars(&[("id", json!(evil))])).unwrap_err();
        assert_eq!(err.code, "invalid_variable", "{evil:?}");
    }
    let ok = render_headers(&templates, &vars(&[("id", json!("ü\t\"quoted\""))])).unwrap();
    assert_eq!(ok[0].1, "order-ü\t\"quoted\"");
}

#[test]
fn query_values_are_encoded_when_put_on_the_url_and_optional_ones_can_be_left_out() {
    let templates = vec![
        ("q".to_owned(), Template::parse("query.q", "{term}").unwrap()),
        ("page".to_owned(), Template::parse("query.page", "{page}").unwrap()),
    ];
    let optional = |name: &str| name == "page";
    let pairs = render_query(&templates, &vars(&[("term", json!("a&b=c #1"))]), &optional).unwrap();
    assert_eq!(pairs, vec![("q".to_owned(), "a&b=c #1".to_owned())]);
    let mut url = sb_net::Url::parse("https://api.example.com/s?v=2").unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    assert_eq!(url.as_str(), "https://api.example.com/s?v=2&q=a%26b%3Dc+%231");
    let err = render_query(&templates, &vars(&[]), &optional).unwrap_err();
    assert_eq!(err.code, "missing_variable");
}

#[test]
fn body_values_are_json_values_never_json_text() {
    let body = json!({
        "order": "{id}",
        "note": "Order {id}: {comment}",
        "qty": "{qty}",
        "flags": ["{vip}", 3],
        "optional": "{nickname}",
        "literal": "{{not a var}}"
    });
    let v = vars(&[
        ("id", json!(4521)),
        ("comment", json!("she said \"hi\", \\o/ }{ {\"x\":1}")),
        ("qty", json!(2.5)),
        ("vip", json!(true)),
    ]);
    let optional = |name: &str| name == "nickname";
    let rendered = render_body(&body, &v, &optional).unwrap();
    assert_eq!(rendered["order"], json!(4521), "a sole placeholder keeps its type");
    assert_eq!(rendered["qty"], json!(2.5));
    assert_eq!(rendered["flags"], json!([true, 3]));
    assert_eq!(rendered["optional"], Value::Null);
    assert_eq!(rendered["literal"], json!("{not a var}"));
    assert_eq!(rendered["note"], json!("Order 4521: she said \"hi\", \\o/ }{ {\"x\":1}"));
    let text = rendered.to_string();
    let reparsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reparsed.as_object().unwrap().len(), 6, "no value added or broke out of its string");
    let err = render_body(&body, &vars(&[]), &optional).unwrap_err();
    assert_eq!(err.code, "missing_variable");
}

#[test]
fn secrets_never_appear_in_their_debug_form() {
    let secrets = AuthSecrets::from_sealable(r#"{"token":"tok-123","password":"pw-456"}"#).unwrap();
    let debug = format!("{secrets:?}");
    assert!(!debug.contains("tok-123") && !debug.contains("pw-456"), "{debug}");
    let scrubbed = CallError::new("token_request_failed", "provider said: bad secret tok-123")
        .scrubbed(&secrets.values());
    assert!(!scrubbed.message.contains("tok-123"));
}

proptest! {
    #[test]
    fn any_value_stays_inside_its_path_segment(value in "\\PC{1,40}") {
        let t = Template::parse("path", "/orders/{id}/lines").unwrap();
        match render_path(&t, &vars(&[("id", json!(value))])) {
            Ok(rendered) => {
                let segments: Vec<&str> = rendered.split('/').collect();
                prop_assert_eq!(segments.len(), 4, "{}", rendered);
                prop_assert_eq!(segments[3], "lines");
                prop_assert!(segments[2].bytes().all(|b| b.is_ascii_alphanumeric() || b"-_~%".contains(&b)));
                let mut url = sb_net::Url::parse("https://api.example.com/v1").unwrap();
                url.set_path(&format!("/v1{rendered}"));
                prop_assert!(url.path().starts_with("/v1/orders/"), "{}", url);
                prop_assert!(url.path().ends_with("/lines"), "{}", url);
                prop_assert_eq!(url.host_str(), Some("api.example.com"));
            }
            Err(err) => prop_assert!(value.is_empty() || value == "." || value == "..", "{}: {}", value, err.message),
        }
    }

    #[test]
    fn any_value_stays_inside_its_json_string(value in "\\PC{0,60}") {
        let body = json!({"note": "x {v} y", "exact": "{v}"});
        let rendered = render_body(&body, &vars(&[("v", json!(value.clone()))]), &|_| false).unwrap();
        let reparsed: Value = serde_json::from_str(&rendered.to_string()).unwrap();
        prop_assert_eq!(reparsed.as_object().unwrap().len(), 2);
        prop_assert_eq!(&reparsed["note"], &json!(format!("x {value} y")));
        prop_assert_eq!(&reparsed["exact"], &json!(value));
    }

    #[test]
    fn template_parsing_never_panics(text in "\\PC{0,80}") {
        let _ = Template::parse("path", &text);
    }
}
