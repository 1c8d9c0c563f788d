//! Secrets at rest: `SECRET_KEY` derives the keys; app secrets and access tokens are sealed with
//! XChaCha20-Poly1305 (random 192-bit nonce, stored in front of the ciphertext). The associated data
//! names the column and row a ciphertext belongs to, so a sealed value cannot be moved to another.

use anyhow::{Context, bail};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, OsRng, Payload, rand_core::RngCore},
};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 24;

/// The service's master key. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// Derives the master key from `SECRET_KEY` text (at least 32 characters).
    pub fn from_material(material: &str) -> anyhow::Result<Self> {
        if material.len() < 32 {
            bail!("the secret key must be at least 32 characters (try: openssl rand -hex 32)");
        }
        Ok(Self(Sha256::digest(material.as_bytes()).into()))
    }

    /// Fresh random key material (64 hex characters).
    pub fn generate_material() -> String {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// A sub-key for one purpose, so that no two uses share a key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The cipher that seals secrets stored in the database.
    pub fn cipher(&self) -> Cipher {
        Cipher(XChaCha20Poly1305::new(
            &self.derive("switchboard secrets at rest v1").into(),
        ))
    }
}

/// Seals and opens secrets stored in the database.
#[derive(Clone)]
pub struct Cipher(XChaCha20Poly1305);

impl Cipher {
    /// Encrypts `plaintext`, bound to `context` (e.g. `meta_apps.app_secret:1234`).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        let ciphertext = self
            .0
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        [nonce.as_slice(), &ciphertext].concat()
    }

    /// Decrypts a value sealed with the same key and `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            bail!("sealed value is too short");
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        self.0
            .decrypt(XNonce::from_slice(nonce), payload)
            .ok()
            .context("cannot decrypt a stored secret: was SECRET_KEY changed?")
    }

    /// Decrypts a sealed UTF-8 secret.
    pub fn open_string(
        &self,
        sealed: &[u8],
        context: &str,
    ) -> anyhow::Result<secrecy::SecretString> {
        let bytes = self.open(sealed, context)?;
        Ok(String::from_utf8(bytes)
            .context("stored secret is not UTF-8")?
            .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_material("0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn sealed_values_open_with_the_same_context_only() {
        let cipher = key().cipher();
        let sealed = cipher.seal(b"EAAG-token", "phone_numbers.access_token:1");
        assert!(!sealed.windows(10).any(|w| w == b"EAAG-token"));
        assert_eq!(
            cipher
                .open(&sealed, "phone_numbers.access_token:1")
                .unwrap(),
            b"EAAG-token"
        );
        assert!(
            cipher
                .open(&sealed, "phone_numbers.access_token:2")
                .is_err()
        );
    }

    #[test]
    fn another_key_cannot_open_a_sealed_value() {
        let sealed = key().cipher().seal(b"secret", "ctx");
        let other = SecretKey::from_material("another key of at least thirty-two chars").unwrap();
        assert!(other.cipher().open(&sealed, "ctx").is_err());
    }

    #[test]
    fn short_key_material_is_refused() {
        assert!(SecretKey::from_material("short").is_err());
    }

    #[test]
    fn debug_output_hides_the_key() {
        assert_eq!(format!("{:?}", key()), "SecretKey(<redacted>)");
    }
}
