//! Redaction for logs and traces: URLs lose their credentials before anyone sees them.

use url::Url;

/// Query parameter and header names that usually carry credentials, matched case-insensitively
/// as substrings (`api_key`, `X-Auth-Token`, `client_secret`, …).
const SECRET_LIKE: &[&str] = &[
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "sig",
    "auth",
    "credential",
    "session",
];

pub fn is_secret_like_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_LIKE.iter().any(|word| lower.contains(word))
}

/// The URL with userinfo removed and the values of credential-carrying query parameters (those in
/// `sensitive`, or with secret-like names) replaced by `***`.
pub fn redact_url(url: &Url, sensitive: &[String]) -> String {
    let mut redacted = url.clone();
    let _ = redacted.set_username("");
    let _ = redacted.set_password(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let hide = is_secret_like_name(&name)
                    || sensitive.iter().any(|s| s.eq_ignore_ascii_case(&name));
                (name.into_owned(), if hide { "***".to_owned() } else { value.into_owned() })
            })
            .collect();
        redacted.query_pairs_mut().clear().extend_pairs(pairs);
    }
    redacted.set_fragment(None);
    redacted.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url() {
        let url =
            Url::parse("https://user:pw@api.example.com/v1/orders?id=7&api_key=s3cr3t&X=9#frag")
                .unwrap();
        let shown = redact_url(&url, &["x".into()]);
        assert_eq!(shown, "https://api.example.com/v1/orders?id=7&api_key=***&X=***");
        assert!(!shown.contains("s3cr3t") && !shown.contains("pw"));
    }

    #[test]
    fn secret_like_names_are_recognised() {
        for name in
            ["api_key", "X-Api-Key", "access_token", "client_secret", "Authorization", "sig"]
        {
            assert!(is_secret_like_name(name), "{name}");
        }
        for name in ["id", "order", "page", "email"] {
            assert!(!is_secret_like_name(name), "{name}");
        }
    }
}
