//! A request as people may see it — in endpoint and connection tests and in the trace: exactly
//! what was sent, with every credential as `***`.

use std::collections::BTreeMap;

use sb_net::OutboundRequest;
use sb_secrets::redact_url;
use serde::Serialize;

/// Longest rendered body shown; the rest is cut with `…`.
const SHOWN_BODY_BYTES: usize = 4 * 1024;

/// The request as it may be shown: method, URL, headers and body, without credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RequestLine {
    pub method: String,
    pub url: String,
    /// Every header sent; credentials (and an OAuth access token added per attempt) as `***`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The rendered body as sent (its first 4 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl RequestLine {
    /// `bearer_token_added`: an OAuth access token goes into `Authorization` at each attempt,
    /// after this request was built; it is shown (as `***`) because it is sent.
    pub(crate) fn of(request: &OutboundRequest, bearer_token_added: bool) -> Self {
        let mut headers: BTreeMap<String, String> = request
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if request.sensitive_headers.contains(name) {
                    "***".to_owned()
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.as_str().to_owned(), shown)
            })
            .collect();
        if bearer_token_added {
            headers.insert("authorization".into(), "Bearer ***".into());
        }
        let body = request.body.as_ref().map(|body| {
            let cut = &body[..body.len().min(SHOWN_BODY_BYTES)];
            let mut text = String::from_utf8_lossy(cut).into_owned();
            if body.len() > SHOWN_BODY_BYTES {
                text.push('…');
            }
            text
        });
        Self {
            method: request.method.as_str().to_owned(),
            url: redact_url(&request.url, &request.sensitive_query),
            headers,
            body,
        }
    }
}

/// The request a call would send now, rendered but not sent (the rules' dry run), credentials
/// as `***`; or why no request would be sent.
pub fn would_send(
    target: crate::CallTarget<'_>,
    endpoint: &sb_domain::Endpoint,
    vars: &crate::Variables,
) -> Result<RequestLine, crate::CallError> {
    let request = crate::request::build(target.connection, target.secrets, endpoint, vars)?;
    let mut shown = RequestLine::of(&request, target.uses_oauth());
    let secrets = target.secrets.sent_forms(&target.connection.auth);
    crate::scrub::scrub_shown_request(&mut shown, &secrets);
    Ok(shown)
}
