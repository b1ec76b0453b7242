//! The dashboard's two cookies: the HttpOnly session cookie, and the script-readable CSRF cookie
//! whose value must come back in `X-CSRF-Token` on unsafe requests (double submit, tied to the
//! session on the server side).

use axum::http::{HeaderMap, HeaderValue, header};

use crate::state::ApiConfig;

pub const SESSION_COOKIE: &str = "sb_session";
pub const CSRF_COOKIE: &str = "sb_csrf";

pub fn read_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

fn cookie(
    config: &ApiConfig,
    name: &str,
    value: &str,
    max_age: u64,
    http_only: bool,
) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Lax");
    if http_only {
        text.push_str("; HttpOnly");
    }
    if config.secure_cookies {
        text.push_str("; Secure");
    }
    // Tokens are base32 and names are constants, so the header is always valid.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` values that start a session.
pub fn session_cookies(config: &ApiConfig, token: &str, csrf: &str) -> [HeaderValue; 2] {
    let max_age = config.session_ttl.as_secs();
    [
        cookie(config, SESSION_COOKIE, token, max_age, true),
        cookie(config, CSRF_COOKIE, csrf, max_age, false),
    ]
}

/// `Set-Cookie` values that end a session in the browser.
pub fn clearing_cookies(config: &ApiConfig) -> [HeaderValue; 2] {
    [cookie(config, SESSION_COOKIE, "", 0, true), cookie(config, CSRF_COOKIE, "", 0, false)]
}

/// An answer that also sets (or clears) the session cookies.
pub struct WithCookies<R>(pub [HeaderValue; 2], pub R);

impl<R: axum::response::IntoResponse> axum::response::IntoResponse for WithCookies<R> {
    fn into_response(self) -> axum::response::Response {
        let mut response = self.1.into_response();
        for cookie in self.0 {
            response.headers_mut().append(axum::http::header::SET_COOKIE, cookie);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_from_any_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; sb_session=abc"));
        headers.append(header::COOKIE, HeaderValue::from_static("sb_csrf=\"xyz\""));
        assert_eq!(read_cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(read_cookie(&headers, CSRF_COOKIE), Some("xyz"));
        assert_eq!(read_cookie(&headers, "missing"), None);
    }

    #[test]
    fn session_cookie_is_http_only_and_csrf_cookie_is_readable() {
        let config = ApiConfig { secure_cookies: true, ..ApiConfig::default() };
        let [session, csrf] = session_cookies(&config, "tok", "csrf");
        let session = session.to_str().unwrap();
        assert!(session.starts_with("sb_session=tok; Path=/; Max-Age=604800; SameSite=Lax"));
        assert!(session.contains("HttpOnly") && session.contains("Secure"));
        assert!(!csrf.to_str().unwrap().contains("HttpOnly"));
    }
}
