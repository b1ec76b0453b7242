//! Argon2id password hashing (PHC strings). Both functions are CPU-heavy by design: call them
//! from a blocking thread, never on the async executor.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordHashError(String);

/// OWASP's recommended Argon2id setting: 19 MiB of memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String, PasswordHashError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| PasswordHashError(err.to_string()))
}

/// A hash of a random password, verified against when the account does not exist, so that a
/// login for an unknown e-mail takes as long as one with a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_password(&format!("{:?}", std::time::Instant::now())).expect("hashing a dummy password")
});

/// Checks `password` against a stored PHC string; with `None` it burns the same time and fails.
/// A malformed stored hash counts as a mismatch.
pub fn verify_password(password: &str, stored_hash: Option<&str>) -> bool {
    let hash = stored_hash.unwrap_or(DUMMY_HASH.as_str());
    let matches = hasher().verify_password(password.as_bytes(), hash).is_ok();
    matches && stored_hash.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let first = hash_password("correct horse").unwrap();
        let second = hash_password("correct horse").unwrap();
        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify_password("correct horse", Some(&first)));
        assert!(!verify_password("wrong horse", Some(&first)));
        assert!(!verify_password("correct horse", Some("not a phc string")));
        assert!(!verify_password("correct horse", None));
    }
}
