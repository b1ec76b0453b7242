//! Visitor identity verification: the tenant's site signs the visitor's user id (or e-mail)
//! with the widget's identity secret, and only a valid signature makes a visitor "verified".

use hmac::{Hmac, KeyInit, Mac};
use sb_domain::{ValidationError, Visitor};
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

/// The signatures a visitor start may carry.
#[derive(Debug, Default, Clone)]
pub struct Signatures {
    /// Signs `user_id`, or the e-mail when there is no `user_id`.
    pub user_hash: Option<String>,
    /// Signs the e-mail on its own, so that a visitor with a `user_id` can have a verified e-mail.
    pub email_hash: Option<String>,
}

/// Marks what the signatures prove, and nothing more: a signature over `user_id` says nothing
/// about the e-mail typed beside it. A signature that does not match is an error, never ignored,
/// so a site with a broken signing step finds out at once. Without a secret nothing is verified.
pub fn verify_visitor(
    secret: Option<&str>,
    visitor: &mut Visitor,
    signatures: &Signatures,
) -> Result<(), ValidationError> {
    let Some(secret) = secret else { return Ok(()) };
    if let Some(hash) = &signatures.user_hash {
        let (signed, covers_email) = match (&visitor.user_id, &visitor.email) {
            (Some(user_id), _) => (Some(user_id), false),
            (None, email) => (email.as_ref(), true),
        };
        match signed {
            Some(value) if verify(secret, value, hash) => {
                visitor.verified = true;
                visitor.email_verified |= covers_email;
            }
            _ => {
                return Err(ValidationError::new(
                    "visitor.user_hash",
                    "invalid_user_hash",
                    "the signature does not match user_id (or email when there is no user_id)",
                ));
            }
        }
    }
    if let Some(hash) = &signatures.email_hash {
        match &visitor.email {
            Some(email) if verify(secret, email, hash) => {
                visitor.email_verified = true;
                // The e-mail is the whole identity of a visitor without a user id.
                visitor.verified |= visitor.user_id.is_none();
            }
            _ => {
                return Err(ValidationError::new(
                    "visitor.email_hash",
                    "invalid_email_hash",
                    "the signature does not match email",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor(user_id: Option<&str>, email: Option<&str>) -> Visitor {
        Visitor {
            user_id: user_id.map(Into::into),
            email: email.map(Into::into),
            ..Visitor::default()
        }
    }

    fn signed(user_hash: Option<String>, email_hash: Option<String>) -> Signatures {
        Signatures { user_hash, email_hash }
    }

    #[test]
    fn a_signed_user_id_leaves_the_typed_email_unverified() {
        let mut v = visitor(Some("u-123"), Some("vip@example.com"));
        verify_visitor(Some("s"), &mut v, &signed(Some(user_hash("s", "u-123")), None)).unwrap();
        assert!(v.verified);
        assert!(!v.email_verified);
        assert_eq!(v.verified_email(), None);
    }

    #[test]
    fn the_email_is_verified_only_by_a_signature_over_it() {
        // user_hash over the e-mail when there is no user id.
        let mut v = visitor(None, Some("ann@example.com"));
        let hash = user_hash("s", "ann@example.com");
        verify_visitor(Some("s"), &mut v, &signed(Some(hash.clone()), None)).unwrap();
        assert!(v.verified && v.email_verified);
        assert_eq!(v.verified_email(), Some("ann@example.com"));
        // email_hash beside a signed user id.
        let mut v = visitor(Some("u-1"), Some("ann@example.com"));
        let both = signed(Some(user_hash("s", "u-1")), Some(hash.clone()));
        verify_visitor(Some("s"), &mut v, &both).unwrap();
        assert!(v.verified && v.email_verified);
        // email_hash with an unsigned user id proves the e-mail, not the user id.
        let mut v = visitor(Some("u-1"), Some("ann@example.com"));
        verify_visitor(Some("s"), &mut v, &signed(None, Some(hash))).unwrap();
        assert!(!v.verified && v.email_verified);
    }

    #[test]
    fn a_wrong_signature_or_no_secret_verifies_nothing() {
        let mut v = visitor(Some("u-1"), Some("ann@example.com"));
        let wrong = signed(None, Some(user_hash("s", "bob@example.com")));
        assert_eq!(
            verify_visitor(Some("s"), &mut v, &wrong).unwrap_err().code,
            "invalid_email_hash"
        );
        let wrong = signed(Some(user_hash("s", "ann@example.com")), None);
        assert_eq!(
            verify_visitor(Some("s"), &mut v, &wrong).unwrap_err().code,
            "invalid_user_hash"
        );
        let right = signed(Some(user_hash("s", "u-1")), None);
        verify_visitor(None, &mut v, &right).unwrap();
        assert!(!v.verified && !v.email_verified);
    }

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
