//! Checks on what tenants configure, each naming the field at fault.

use std::collections::BTreeMap;

use sb_connectors::Template;
use sb_domain::{MAX_TIMEOUT_MS, ValidationError};
use sb_net::{NetError, SsrfPolicy, Url};

/// Headers that only ever carry credentials or session state: they belong in `auth`, where they
/// are encrypted, not in plain header templates.
const RESERVED_HEADERS: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "host"];

/// An http(s) URL the SSRF policy lets through (names are checked again when called).
pub fn check_public_url(
    field: &str,
    url: &Url,
    policy: &SsrfPolicy,
) -> Result<(), ValidationError> {
    policy.check_url(url).map(drop).map_err(|err| refused(field, err, "invalid_url"))
}

/// A host (a mail server's) the SSRF policy lets through on `port`, as a URL's would be.
pub fn check_public_host(
    field: &str,
    host: &str,
    port: u16,
    policy: &SsrfPolicy,
) -> Result<(), ValidationError> {
    policy.check_host(host, port).map(drop).map_err(|err| refused(field, err, "invalid_host"))
}

/// Why the policy refused what `field` names: `ssrf_blocked`, or `invalid` for a malformed one.
fn refused(field: &str, err: NetError, invalid: &'static str) -> ValidationError {
    let code = match err {
        NetError::SsrfBlocked(_) => "ssrf_blocked",
        _ => invalid,
    };
    let message = match err {
        NetError::SsrfBlocked(why) | NetError::InvalidUrl(why) => why,
        other => other.to_string(),
    };
    ValidationError::new(field.to_owned(), code, message)
}

pub fn base_url(raw: &str, policy: &SsrfPolicy) -> Result<String, ValidationError> {
    let url = Url::parse(raw.trim()).map_err(|err| {
        ValidationError::new("base_url", "invalid_url", format!("not a URL: {err}"))
    })?;
    check_public_url("base_url", &url, policy)?;
    if url.fragment().is_some() {
        return Err(ValidationError::new(
            "base_url",
            "invalid_url",
            "a base URL cannot have a #fragment",
        ));
    }
    Ok(url.to_string().trim_end_matches('/').to_owned())
}

pub fn timeout_ms(field: &str, value: u32) -> Result<u32, ValidationError> {
    if (1..=MAX_TIMEOUT_MS).contains(&value) {
        Ok(value)
    } else {
        Err(ValidationError::new(
            field.to_owned(),
            "invalid_field",
            format!("must be from 1 to {MAX_TIMEOUT_MS} milliseconds"),
        ))
    }
}

/// An HTTP header name (RFC 9110 token).
pub fn header_name(field: &str, name: &str) -> Result<(), ValidationError> {
    let valid = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(ValidationError::new(
            field.to_owned(),
            "invalid_header",
            format!("{name:?} is not a valid header name"),
        ))
    }
}

/// Header templates: valid names, not reserved for credentials, values that parse.
pub fn headers(field: &str, headers: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    for (name, value) in headers {
        let at = format!("{field}.{name}");
        header_name(&at, name)?;
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(ValidationError::new(
                at,
                "reserved_header",
                format!(
                    "{name} cannot be set here; configure credentials under auth, where they are encrypted"
                ),
            ));
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(ValidationError::new(
                at,
                "invalid_header",
                "header values cannot contain line breaks",
            ));
        }
        Template::parse(&at, value)?;
    }
    Ok(())
}

pub fn text(field: &str, value: &str, max_chars: usize) -> Result<String, ValidationError> {
    if value.chars().count() > max_chars {
        return Err(ValidationError::new(
            field.to_owned(),
            "too_long",
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(value.trim().to_owned())
}

/// An MCP connection's identity header: a header name, or `""`/none for no identity. Other
/// connections take none (their endpoints put `{visitor.user_id}` where they need it).
pub fn identity_header(
    kind: sb_domain::ConnectionKind,
    header: Option<&str>,
) -> Result<Option<String>, ValidationError> {
    let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else { return Ok(None) };
    if kind != sb_domain::ConnectionKind::Mcp {
        let message =
            "only MCP connections send an identity header; endpoints use {visitor.user_id}";
        return Err(ValidationError::new("identity_header", "invalid_field", message));
    }
    header_name("identity_header", header)?;
    if header.eq_ignore_ascii_case("authorization") || header.eq_ignore_ascii_case("host") {
        let message = "pick a header of its own, such as X-Customer-Id";
        return Err(ValidationError::new("identity_header", "invalid_field", message));
    }
    Ok(Some(header.to_owned()))
}

/// An MCP connection's headers go with every message as written (the session's messages carry
/// no conversation): no `{placeholders}`.
pub fn mcp_headers(
    kind: sb_domain::ConnectionKind,
    headers: &BTreeMap<String, String>,
) -> Result<(), ValidationError> {
    if kind != sb_domain::ConnectionKind::Mcp {
        return Ok(());
    }
    match headers.iter().find(|(_, value)| value.contains('{')) {
        Some((name, _)) => Err(ValidationError::new(
            format!("headers.{name}"),
            "invalid_field",
            "an MCP connection's headers are sent as written: no {placeholders} (a verified visitor goes in identity_header)",
        )),
        None => Ok(()),
    }
}
