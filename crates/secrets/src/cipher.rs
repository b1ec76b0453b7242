//! Encryption of credentials at rest.
//!
//! Each value is sealed with XSalsa20-Poly1305 (NaCl/libsodium `crypto_secretbox`) under a key
//! derived from the master key and a context (the tenant id), so a ciphertext copied into another
//! tenant's row does not open. The stored text is
//!
//! ```text
//! sb1:<key id>:<base64url(nonce ‖ tag ‖ ciphertext)>
//! ```
//!
//! which is exactly libsodium's `nonce ‖ crypto_secretbox_easy(message, nonce, derived key)`.
//! The key id says which master key sealed the value, so keys can be rotated: the keyring opens
//! values sealed by any key it holds and seals new ones with the current key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::MasterKey;

const VERSION: &str = "sb1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("not a sealed value")]
    Malformed,
    #[error("sealed with master key {0}, which this server does not have")]
    UnknownKey(String),
    #[error("the sealed value does not open (wrong key, wrong tenant or tampered)")]
    Forged,
}

/// The current master key, plus earlier ones that may still have sealed values.
pub struct Keyring {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let previous: Vec<&str> = self.previous.iter().map(MasterKey::id).collect();
        write!(f, "Keyring {{ current: {}, previous: {previous:?} }}", self.current.id())
    }
}

fn derived_cipher(master: &MasterKey, context: &str) -> XSalsa20Poly1305 {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(master.expose_bytes())
        .expect("HMAC accepts 32-byte keys");
    mac.update(b"switchboard/secretbox/v1/");
    mac.update(context.as_bytes());
    let derived: [u8; 32] = mac.finalize().into_bytes().into();
    XSalsa20Poly1305::new(&derived.into())
}

impl Keyring {
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Self {
        Self { current, previous }
    }

    pub fn current_key_id(&self) -> &str {
        self.current.id()
    }

    /// Seals `plaintext` for `context` (the tenant id) with the current key.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).expect("operating system random source failed");
        let sealed = derived_cipher(&self.current, context)
            .encrypt(&Nonce::from(nonce), plaintext)
            .expect("XSalsa20-Poly1305 encryption cannot fail for in-memory data");
        let mut raw = Vec::with_capacity(24 + sealed.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        format!("{VERSION}:{}:{}", self.current.id(), URL_SAFE_NO_PAD.encode(raw))
    }

    /// Opens a value sealed for `context` by any key of this keyring.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, CipherError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some(VERSION), Some(key_id), Some(payload)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(CipherError::Malformed);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id() == key_id)
            .ok_or_else(|| CipherError::UnknownKey(key_id.to_owned()))?;
        let raw = URL_SAFE_NO_PAD.decode(payload).map_err(|_| CipherError::Malformed)?;
        if raw.len() < 24 + 16 {
            return Err(CipherError::Malformed);
        }
        let (nonce, boxed) = raw.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| CipherError::Malformed)?;
        derived_cipher(key, context)
            .decrypt(&Nonce::from(nonce), boxed)
            .map_err(|_| CipherError::Forged)
    }

    /// Whether a sealed value was made with a key other than the current one.
    pub fn is_stale(&self, sealed: &str) -> bool {
        sealed.split(':').nth(1) != Some(self.current.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring(byte: u8) -> Keyring {
        Keyring::new(MasterKey::from_bytes([byte; 32]), Vec::new())
    }

    #[test]
    fn seals_and_opens_for_the_same_tenant_only() {
        let ring = keyring(1);
        let sealed = ring.seal("ten_a", b"s3cr3t");
        assert!(sealed.starts_with(&format!("sb1:{}:", ring.current_key_id())));
        assert!(!sealed.contains("s3cr3t"));
        assert_ne!(sealed, ring.seal("ten_a", b"s3cr3t"), "every seal has a fresh nonce");
        assert_eq!(ring.open("ten_a", &sealed).unwrap(), b"s3cr3t");
        assert_eq!(ring.open("ten_b", &sealed), Err(CipherError::Forged));
        assert_eq!(
            keyring(2).open("ten_a", &sealed),
            Err(CipherError::UnknownKey(ring.current_key_id().into()))
        );
        assert_eq!(ring.open("ten_a", "sb1:x"), Err(CipherError::Malformed));
        assert_eq!(ring.open("ten_a", "plain text"), Err(CipherError::Malformed));
    }

    #[test]
    fn tampering_is_detected() {
        let ring = keyring(1);
        let sealed = ring.seal("ten_a", b"s3cr3t");
        let (head, payload) = sealed.rsplit_once(':').unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(payload).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let forged = format!("{head}:{}", URL_SAFE_NO_PAD.encode(raw));
        assert_eq!(ring.open("ten_a", &forged), Err(CipherError::Forged));
    }

    #[test]
    fn previous_keys_open_old_values_and_mark_them_stale() {
        let old = keyring(1);
        let sealed = old.seal("ten_a", b"v");
        let rotated =
            Keyring::new(MasterKey::from_bytes([2; 32]), vec![MasterKey::from_bytes([1; 32])]);
        assert_eq!(rotated.open("ten_a", &sealed).unwrap(), b"v");
        assert!(rotated.is_stale(&sealed));
        assert!(!rotated.is_stale(&rotated.seal("ten_a", b"v")));
    }

    /// The layout is libsodium's: this vector was produced by libsodium (PyNaCl `SecretBox`)
    /// with key 00..1f, nonce 64..7b and the message below.
    #[test]
    fn the_box_is_libsodium_secretbox_easy() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let nonce: [u8; 24] = std::array::from_fn(|i| 100 + i as u8);
        let expected = "6465666768696a6b6c6d6e6f707172737475767778797a7b\
                        e4dac8ba9b9f278a2f57e9ddb14ea13961d5f0ac54c2919ad59e51f143b9d02b5dd80bd3c9d02a77d369";
        let sealed = XSalsa20Poly1305::new(&key.into())
            .encrypt(&Nonce::from(nonce), &b"client_secret=s3cr3t-value"[..])
            .unwrap();
        let mut raw = nonce.to_vec();
        raw.extend_from_slice(&sealed);
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }
}
