//! Standard Webhooks signatures (https://www.standardwebhooks.com/, version 1): the secret is
//! `whsec_` + base64 of random bytes, the HMAC-SHA256 key is those bytes, the signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`, and `webhook-signature` carries `v1,<base64>` —
//! several, space-separated, while a rotated-out secret is still honoured.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sb_secrets::Secret;
use sha2::Sha256;

pub const SECRET_PREFIX: &str = "whsec_";
/// 32 random bytes: the spec asks for 24 to 64.
const SECRET_BYTES: usize = 32;

/// A new signing secret, `whsec_<base64 of 32 random bytes>`.
pub fn new_secret() -> Secret<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).expect("operating system random source failed");
    Secret::new(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

/// The HMAC key of a `whsec_…` secret: its base64 part, decoded.
fn key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` under `secret`; `None` for a secret
/// that is not `whsec_` + base64 (never the case for secrets this server made).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key(secret)?).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().filter_map(|s| sign(s, id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specification_example() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn secrets_are_fresh_base64_of_32_bytes_and_sign_together() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with(SECRET_PREFIX));
        assert_eq!(key(a.expose()).unwrap().len(), 32);
        let header = signature_header(&[a.expose(), b.expose()], "dlv_1", 1700000000, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(a.expose(), "dlv_1", 1700000000, b"{}").unwrap());
        assert_eq!(parts[1], sign(b.expose(), "dlv_1", 1700000000, b"{}").unwrap());
        assert!(sign("not-a-secret", "dlv_1", 1, b"{}").is_none());
    }
}
