//! The 32-byte master key that encrypts credentials at rest.
//!
//! It lives in a file outside the database, so a stolen database dump alone reveals no
//! credential. The file holds either the 32 raw bytes or 64 hexadecimal characters (what
//! `openssl rand -hex 32` prints); Switchboard writes the hexadecimal form when it generates one.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::{Secret, sha256_hex};

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("cannot read master key file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot create master key file {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("master key file {path} must hold 32 raw bytes or 64 hex characters")]
    Malformed { path: PathBuf },
}

/// How the key was obtained, so start-up can say so in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterKeySource {
    Loaded,
    Generated,
}

pub struct MasterKey {
    bytes: Secret<[u8; 32]>,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        // The id names the key in ciphertext headers so rotation knows which key sealed what;
        // it is a hash, so it reveals nothing about the key.
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let id = sha256_hex(&format!("switchboard master key id:{hex}"))[..8].to_owned();
        Self { bytes: Secret::new(bytes), id }
    }

    /// A short, stable, non-secret identifier of this key.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn expose_bytes(&self) -> &[u8; 32] {
        self.bytes.expose()
    }

    pub fn load(path: &Path) -> Result<Self, MasterKeyError> {
        let raw = std::fs::read(path)
            .map_err(|source| MasterKeyError::Read { path: path.to_owned(), source })?;
        parse(&raw)
            .map(Self::from_bytes)
            .ok_or_else(|| MasterKeyError::Malformed { path: path.to_owned() })
    }

    /// Loads the key at `path`, or creates a fresh random one there with mode 0600.
    pub fn load_or_generate(path: &Path) -> Result<(Self, MasterKeySource), MasterKeyError> {
        match Self::load(path) {
            Ok(key) => Ok((key, MasterKeySource::Loaded)),
            Err(MasterKeyError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Self::generate(path).map(|key| (key, MasterKeySource::Generated))
            }
            Err(other) => Err(other),
        }
    }

    fn generate(path: &Path) -> Result<Self, MasterKeyError> {
        let create_err = |source| MasterKeyError::Create { path: path.to_owned(), source };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(create_err)?;
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("operating system random source failed");
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        // create_new: never overwrite a key that appeared meanwhile (it may already seal data).
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(create_err)?;
        file.write_all(format!("{hex}\n").as_bytes()).map_err(create_err)?;
        file.sync_all().map_err(create_err)?;
        Ok(Self::from_bytes(bytes))
    }

    /// True when group or others may read the key file: worth a warning at start.
    pub fn is_readable_by_others(path: &Path) -> bool {
        std::fs::metadata(path).map(|m| m.permissions().mode() & 0o077 != 0).unwrap_or(false)
    }
}

fn parse(raw: &[u8]) -> Option<[u8; 32]> {
    if raw.len() == 32 {
        return raw.try_into().ok();
    }
    let text = std::str::from_utf8(raw).ok()?.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_private_key_once_and_reloads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/master.key");
        let (generated, source) = MasterKey::load_or_generate(&path).unwrap();
        assert_eq!(source, MasterKeySource::Generated);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!MasterKey::is_readable_by_others(&path));
        let (loaded, source) = MasterKey::load_or_generate(&path).unwrap();
        assert_eq!(source, MasterKeySource::Loaded);
        assert_eq!(loaded.expose_bytes(), generated.expose_bytes());
        assert_eq!(loaded.id(), generated.id());
        assert_eq!(format!("{loaded:?}"), format!("MasterKey {{ id: {:?}, .. }}", loaded.id()));
    }

    #[test]
    fn accepts_raw_and_hex_keys_and_rejects_others() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("raw");
        std::fs::write(&raw, [7u8; 32]).unwrap();
        let hex = dir.path().join("hex");
        std::fs::write(&hex, format!("{}\n", "07".repeat(32))).unwrap();
        assert_eq!(
            MasterKey::load(&raw).unwrap().expose_bytes(),
            MasterKey::load(&hex).unwrap().expose_bytes()
        );
        let short = dir.path().join("short");
        std::fs::write(&short, "abcd").unwrap();
        assert!(matches!(MasterKey::load(&short), Err(MasterKeyError::Malformed { .. })));
        let missing = dir.path().join("missing");
        assert!(matches!(MasterKey::load(&missing), Err(MasterKeyError::Read { .. })));
    }
}
