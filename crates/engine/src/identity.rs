//! Visitor identity verification: the tenant's site signs the visitor's user id (or e-mail)
//! with the widget's identity secret, and only a valid signature makes a visitor "verified".

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Lower-case hex HMAC-SHA256 of `value` under `secret` — what the tenant's server computes.
pub fn user_hash(secret: &str, value: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares in constant time; the hash may be given in either case.
pub fn verify(secret: &str, value: &str, hash: &str) -> bool {
    sb_secrets::constant_time_eq(&user_hash(secret, value), &hash.trim().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_hmac_sha256_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            user_hash("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let hash = user_hash("s3cret", "user-42");
        assert!(verify("s3cret", "user-42", &hash.to_uppercase()));
        assert!(!verify("s3cret", "user-43", &hash));
        assert!(!verify("other", "user-42", &hash));
    }
}
