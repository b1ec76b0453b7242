//! Everything that handles secret material: a masking wrapper, password hashing, token digests
//! and the server's master key. Keeping it in one small crate makes the secret-handling code easy
//! to audit.

mod cipher;
mod digest;
mod master_key;
mod password;
mod redact;
mod secret;

pub use cipher::{CipherError, Keyring};
pub use digest::{constant_time_eq, sha256_hex};
pub use master_key::{MasterKey, MasterKeyError, MasterKeySource};
pub use password::{PasswordHashError, hash_password, verify_password};
pub use redact::{is_secret_like_name, redact_url};
pub use secret::Secret;
