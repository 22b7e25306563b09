//! Secrets at rest: partner API secrets and webhook secrets are stored sealed with the master key from
//! configuration (XChaCha20-Poly1305, a random 192-bit nonce per value, the column and row as
//! associated data so a sealed value cannot be moved to another row or column).
//!
//! A sealed value reads `sealed:v1:<key id>:<base64(nonce ‖ ciphertext)>`; the key id is the first
//! 8 bytes (hex) of the key's SHA-256, so several keys can be configured: the first seals, every one
//! opens (rotation: add the new key first, run `escrow-server secrets reseal`, then drop the old one).
//! A value without the prefix is a plaintext one stored before sealing existed: it is read as it is
//! and sealed by the next reseal.

use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use escrow_domain::ports::RepositoryError;
use sha2::Digest;

const PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 24;

/// A master key (32 bytes) with its id. Never printed.
#[derive(Clone)]
struct MasterKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// Seals and opens secrets with the configured master keys (the first seals, all open).
#[derive(Clone)]
pub struct SecretSealer {
    keys: Vec<MasterKey>,
}

impl std::fmt::Debug for SecretSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretSealer")
            .field(
                "key_ids",
                &self.keys.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Why master keys were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("master key: {0}")]
pub struct InvalidMasterKey(pub String);

impl SecretSealer {
    /// Master keys given as base64 of 32 bytes each, the sealing one first.
    pub fn from_base64<S: AsRef<str>>(keys: &[S]) -> Result<Self, InvalidMasterKey> {
        let keys = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(k.as_ref().trim())
                    .map_err(|_| InvalidMasterKey(format!("key {i} is not base64")))?;
                <[u8; 32]>::try_from(bytes.as_slice())
                    .map_err(|_| InvalidMasterKey(format!("key {i} is not 32 bytes")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(&keys)
    }

    /// Master keys of 32 bytes, the sealing one first.
    pub fn new(keys: &[[u8; 32]]) -> Result<Self, InvalidMasterKey> {
        if keys.is_empty() {
            return Err(InvalidMasterKey("at least one key is needed".into()));
        }
        Ok(SecretSealer {
            keys: keys
                .iter()
                .map(|k| MasterKey {
                    id: hex::encode(&sha2::Sha256::digest(k)[..8]),
                    cipher: XChaCha20Poly1305::new(Key::from_slice(k)),
                })
                .collect(),
        })
    }

    /// A new random master key, base64 (the sandbox's).
    pub fn generate_key() -> String {
        base64::engine::general_purpose::STANDARD
            .encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// Seals `plain` for the place named by `context` (column and row).
    pub fn seal(&self, plain: &str, context: &str) -> Result<String, RepositoryError> {
        let key = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = key
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| RepositoryError::Unavailable("sealing a secret failed".into()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!(
            "{PREFIX}{}:{}",
            key.id,
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// Opens a stored value of the place named by `context`; a plaintext value from before sealing is
    /// returned as it is. A value sealed with a key not configured, or altered, is an error.
    pub fn open(&self, stored: &str, context: &str) -> Result<String, RepositoryError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let refused = |why: &str| RepositoryError::Unavailable(format!("sealed secret: {why}"));
        let (id, body) = rest.split_once(':').ok_or_else(|| refused("malformed"))?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| refused("sealed with a master key that is not configured"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| refused("malformed"))?;
        if bytes.len() < NONCE_LEN {
            return Err(refused("malformed"));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = key
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| refused("does not open (altered, or moved from another row)"))?;
        String::from_utf8(plain).map_err(|_| refused("not text"))
    }

    /// Whether `stored` should be sealed again: plaintext, or sealed with a key other than the first.
    pub fn needs_reseal(&self, stored: &str) -> bool {
        match stored.strip_prefix(PREFIX) {
            None => true,
            Some(rest) => !rest.starts_with(&format!("{}:", self.keys[0].id)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const CONTEXT: &str = "partners.api_secret:00000000-0000-0000-0000-000000000001";

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_its_place() {
        let sealer = SecretSealer::new(&[[7u8; 32]]).unwrap();
        let sealed = sealer.seal("sk_live_secret", CONTEXT).unwrap();
        assert!(sealed.starts_with("sealed:v1:"));
        assert!(!sealed.contains("sk_live_secret"));
        assert_ne!(
            sealed,
            sealer.seal("sk_live_secret", CONTEXT).unwrap(),
            "random nonce"
        );
        assert_eq!(sealer.open(&sealed, CONTEXT).unwrap(), "sk_live_secret");
        // Moved to another row or column: refused.
        assert!(sealer.open(&sealed, "partners.webhook_secret:x").is_err());
        // Altered: refused.
        let mut altered = sealed.clone();
        let last = altered.pop().unwrap();
        altered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(sealer.open(&altered, CONTEXT).is_err());
        // Another master key: refused.
        let other = SecretSealer::new(&[[8u8; 32]]).unwrap();
        assert!(other.open(&sealed, CONTEXT).is_err());
        // Plaintext from before sealing reads as it is.
        assert_eq!(sealer.open("legacy", CONTEXT).unwrap(), "legacy");
    }

    #[test]
    fn rotation_seals_with_the_first_key_and_opens_with_every_one() {
        let old = SecretSealer::new(&[[1u8; 32]]).unwrap();
        let sealed_old = old.seal("whsec", CONTEXT).unwrap();
        let rotated = SecretSealer::new(&[[2u8; 32], [1u8; 32]]).unwrap();
        assert_eq!(rotated.open(&sealed_old, CONTEXT).unwrap(), "whsec");
        assert!(rotated.needs_reseal(&sealed_old));
        let sealed_new = rotated.seal("whsec", CONTEXT).unwrap();
        assert!(!rotated.needs_reseal(&sealed_new));
        assert!(rotated.needs_reseal("plaintext"));
        assert!(old.open(&sealed_new, CONTEXT).is_err());
    }

    #[test]
    fn keys_are_checked_and_never_printed() {
        assert!(SecretSealer::from_base64(&["not base64!"]).is_err());
        assert!(SecretSealer::from_base64(&["AAAA"]).is_err());
        let none: [&str; 0] = [];
        assert!(SecretSealer::from_base64(&none).is_err());
        let key = SecretSealer::generate_key();
        let sealer = SecretSealer::from_base64(&[key.as_str()]).unwrap();
        assert!(!format!("{sealer:?}").contains(&key));
    }
}
