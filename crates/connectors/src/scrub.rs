//! Secrets out of call outcomes.

use serde_json::Value;

use crate::{CallOutcome, RequestLine};

/// A backend may echo what it was sent — its own credentials included — into its answer, and
/// from there into the test result, the trace, session variables and the AI's prompt. Every
/// secret of the connection is replaced by `***` wherever the outcome carries text.
pub(crate) fn scrub_outcome(outcome: &mut CallOutcome, secrets: &[String]) {
    let secrets = replaceable(secrets);
    outcome.error = outcome.error.take().map(|e| e.scrubbed(&secrets));
    if secrets.is_empty() {
        return;
    }
    outcome.body_preview = scrub_text(&outcome.body_preview, &secrets);
    if let Some(request) = &mut outcome.request {
        scrub_request(request, &secrets);
    }
    for value in outcome.mapped.values_mut().chain(outcome.body_json.as_mut()) {
        scrub_value(value, &secrets);
    }
}

/// The secrets worth replacing, longest first: a secret containing another must not leave a
/// piece of itself behind.
fn replaceable(secrets: &[String]) -> Vec<&str> {
    let mut secrets: Vec<&str> =
        secrets.iter().map(String::as_str).filter(|s| s.len() >= 4).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
}

/// A request about to be shown without having been sent (the dry run).
pub(crate) fn scrub_shown_request(request: &mut RequestLine, secrets: &[String]) {
    scrub_request(request, &replaceable(secrets));
}

fn scrub_request(request: &mut RequestLine, secrets: &[&str]) {
    request.url = scrub_text(&request.url, secrets);
    for value in request.headers.values_mut() {
        *value = scrub_text(value, secrets);
    }
    if let Some(body) = &mut request.body {
        *body = scrub_text(body, secrets);
    }
}

fn scrub_text(text: &str, secrets: &[&str]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| text.replace(secret, "***"))
}

fn scrub_value(value: &mut Value, secrets: &[&str]) {
    match value {
        Value::String(text) if secrets.iter().any(|s| text.contains(s)) => {
            *text = scrub_text(text, secrets);
        }
        Value::Array(items) => items.iter_mut().for_each(|item| scrub_value(item, secrets)),
        // Keys are text too: a backend may echo a map keyed by what it was sent.
        Value::Object(map) if map.keys().any(|key| secrets.iter().any(|s| key.contains(s))) => {
            *map = std::mem::take(map)
                .into_iter()
                .map(|(key, mut item)| {
                    scrub_value(&mut item, secrets);
                    (scrub_text(&key, secrets), item)
                })
                .collect();
        }
        Value::Object(map) => map.values_mut().for_each(|item| scrub_value(item, secrets)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_string_of_the_parsed_answer_is_scrubbed_keys_included() {
        let mut outcome = CallOutcome {
            body_preview: "token=s3cret-token".into(),
            body_json: Some(json!({
                "headers": {"authorization": "Bearer s3cret-token"},
                "echo": ["s3cret-token", 7, null, {"s3cret-token": "as a key"}],
                "fine": "nothing to hide"
            })),
            ..CallOutcome::default()
        };
        scrub_outcome(&mut outcome, &["s3cret-token".to_owned(), "abc".to_owned()]);
        assert_eq!(outcome.body_preview, "token=***");
        assert_eq!(
            outcome.body_json,
            Some(json!({
                "headers": {"authorization": "Bearer ***"},
                "echo": ["***", 7, null, {"***": "as a key"}],
                "fine": "nothing to hide"
            }))
        );
    }
}
