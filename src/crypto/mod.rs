//! Secrets at rest. `SECRET_KEY` (and, while it is being rotated, `SECRET_KEY_PREVIOUS`) derives the
//! keys with HKDF-SHA256; app secrets and access tokens are sealed with XChaCha20-Poly1305. The
//! associated data names the column and row a ciphertext belongs to, so a sealed value cannot be
//! moved to another.
//!
//! A sealed value is `0x02 | key id (4 bytes) | nonce (24) | ciphertext and tag (16)`. The key id is a
//! fingerprint of the key that sealed it, so the cipher knows which configured key opens it; the
//! version byte and key id are authenticated too (they lead the associated data), so altering them
//! makes the value fail to open. Values are always sealed with the current key.
//!
//! Values written before versioning (`nonce | ciphertext and tag`, under an HMAC-derived key) still
//! open. Their random nonce can begin like a version 2 header (one chance in 2^40 per configured key),
//! so the header only decides what is tried first: a value whose header names a configured key is
//! opened as version 2, and when it has no such header, or that fails, as a legacy value with each
//! configured key. The AEAD tag is the judge: a value authenticates under at most one reading (barring
//! a 2^-128 forgery), so detection never guesses wrong; a collision costs one extra decryption.
//! Legacy values are rewritten by `switchboard secrets rotate` only, never on read: opening a secret
//! stays a read, and one explicit, audited step changes what is stored.

pub mod tokens;

use std::fmt;

use anyhow::{Context, anyhow, bail};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, OsRng, Payload, rand_core::RngCore},
};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The format written today; legacy values have no version byte.
const VERSION: u8 = 2;
const KEY_ID_LEN: usize = 4;
const HEADER_LEN: usize = 1 + KEY_ID_LEN;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// HKDF's extract salt: fixed, as RFC 5869 allows; it only separates Switchboard from other uses of
/// the same key material.
const HKDF_SALT: &[u8] = b"switchboard SECRET_KEY";
const SEAL_PURPOSE: &str = "switchboard secrets at rest v2";
const KEY_ID_PURPOSE: &str = "switchboard key id";
/// The purpose the legacy derivation sealed with; kept so that legacy values still open.
const LEGACY_SEAL_PURPOSE: &str = "switchboard secrets at rest v1";

/// The service's master key. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct SecretKey {
    hkdf: Hkdf<Sha256>,
    /// SHA-256 of the key material: the root of the legacy derivation.
    legacy_root: [u8; 32],
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// Reads the master key from `SECRET_KEY` text (at least 32 characters).
    pub fn from_material(material: &str) -> anyhow::Result<Self> {
        if material.len() < 32 {
            bail!("the secret key must be at least 32 characters (try: openssl rand -hex 32)");
        }
        Ok(Self {
            hkdf: Hkdf::new(Some(HKDF_SALT), material.as_bytes()),
            legacy_root: Sha256::digest(material.as_bytes()).into(),
        })
    }

    /// Fresh random key material (64 hex characters).
    pub fn generate_material() -> String {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// A sub-key for one purpose (HKDF-SHA256, the purpose as its info), so no two uses share a key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut key = [0u8; 32];
        self.hkdf
            .expand(purpose.as_bytes(), &mut key)
            .expect("HKDF-SHA256 expands to up to 8160 bytes");
        key
    }

    /// The fingerprint that names this key in the values it seals; it reveals nothing of the key.
    pub fn id(&self) -> KeyId {
        let mut id = [0u8; KEY_ID_LEN];
        self.hkdf
            .expand(KEY_ID_PURPOSE.as_bytes(), &mut id)
            .expect("HKDF-SHA256 expands to up to 8160 bytes");
        KeyId(id)
    }

    /// The sub-key derivation used before HKDF: HMAC-SHA256 keyed with SHA-256 of the material.
    fn derive_legacy(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.legacy_root)
            .expect("HMAC takes any key size");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A cipher with this key alone (it opens legacy values sealed with this key too).
    pub fn cipher(&self) -> Cipher {
        Cipher::new(self, None)
    }
}

/// The short fingerprint of a key, written in front of every value it seals (hex when shown).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Seals secrets stored in the database with the current key, and opens them with the current or
/// the previous key, in the current or the legacy format.
#[derive(Clone)]
pub struct Cipher {
    current: Keys,
    previous: Option<Keys>,
}

/// What one master key seals and opens with.
#[derive(Clone)]
struct Keys {
    id: KeyId,
    aead: XChaCha20Poly1305,
    legacy: XChaCha20Poly1305,
}

impl Keys {
    fn new(key: &SecretKey) -> Self {
        Self {
            id: key.id(),
            aead: XChaCha20Poly1305::new(&key.derive(SEAL_PURPOSE).into()),
            legacy: XChaCha20Poly1305::new(&key.derive_legacy(LEGACY_SEAL_PURPOSE).into()),
        }
    }
}

impl Cipher {
    /// Seals with `current`; opens with `current` or `previous` (set while rotating keys).
    pub fn new(current: &SecretKey, previous: Option<&SecretKey>) -> Self {
        Self {
            current: Keys::new(current),
            previous: previous.map(Keys::new),
        }
    }

    /// The id of the key that seals.
    pub fn key_id(&self) -> KeyId {
        self.current.id
    }

    /// Encrypts `plaintext` with the current key, bound to `context` (e.g. `meta_apps.app_secret:1234`).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut header = [VERSION; HEADER_LEN];
        header[1..].copy_from_slice(&self.current.id.0);
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad = [header.as_slice(), context.as_bytes()].concat();
        let payload = Payload {
            msg: plaintext,
            aad: &aad,
        };
        let ciphertext = self
            .current
            .aead
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        [header.as_slice(), &nonce, &ciphertext].concat()
    }

    /// Decrypts a value sealed with a configured key and the same `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> anyhow::Result<Vec<u8>> {
        Ok(self.unseal(sealed, context)?.0)
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

    /// The value sealed afresh with the current key in the current format, or `None` when it
    /// already is: what key rotation writes back.
    pub fn reseal(&self, sealed: &[u8], context: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let (plaintext, up_to_date) = self.unseal(sealed, context)?;
        Ok((!up_to_date).then(|| self.seal(&plaintext, context)))
    }

    /// Opens `sealed` (see the module docs for the order), and says whether it was sealed with the
    /// current key in the current format.
    fn unseal(&self, sealed: &[u8], context: &str) -> anyhow::Result<(Vec<u8>, bool)> {
        if let Some(id) = header_key_id(sealed) {
            let (header, rest) = sealed.split_at(HEADER_LEN);
            let aad = [header, context.as_bytes()].concat();
            for (keys, current) in self.keys().filter(|(keys, _)| keys.id == id) {
                if let Some(plaintext) = decrypt(&keys.aead, rest, &aad) {
                    return Ok((plaintext, current));
                }
            }
        }
        for (keys, _) in self.keys() {
            if let Some(plaintext) = decrypt(&keys.legacy, sealed, context.as_bytes()) {
                return Ok((plaintext, false));
            }
        }
        Err(self.failure(sealed))
    }

    /// The configured keys, each with whether it is the current one.
    fn keys(&self) -> impl Iterator<Item = (&Keys, bool)> {
        std::iter::once((&self.current, true)).chain(self.previous.iter().map(|keys| (keys, false)))
    }

    /// Why no configured key opens `sealed`, in one line an operator can act on.
    fn failure(&self, sealed: &[u8]) -> anyhow::Error {
        let configured = match &self.previous {
            Some(previous) => format!(
                "SECRET_KEY is key {}, SECRET_KEY_PREVIOUS key {}",
                self.current.id, previous.id
            ),
            None => format!(
                "SECRET_KEY is key {}, SECRET_KEY_PREVIOUS is unset",
                self.current.id
            ),
        };
        match header_key_id(sealed) {
            Some(id) if self.keys().any(|(keys, _)| keys.id == id) => anyhow!(
                "stored secret sealed with key {id} does not open: it was altered or belongs to another row"
            ),
            Some(id) => anyhow!(
                "stored secret was sealed with key {id}, which is not configured ({configured}): \
                 set that key as SECRET_KEY_PREVIOUS"
            ),
            None if sealed.len() < NONCE_LEN + TAG_LEN => {
                anyhow!("stored secret is too short to be a sealed value")
            }
            None => anyhow!(
                "stored secret (legacy format, no key id) opens with no configured key ({configured}): \
                 was SECRET_KEY changed? set the old one as SECRET_KEY_PREVIOUS"
            ),
        }
    }
}

/// The key id in a version 2 header, if `sealed` is long enough and starts with one.
fn header_key_id(sealed: &[u8]) -> Option<KeyId> {
    if sealed.len() < HEADER_LEN + NONCE_LEN + TAG_LEN || sealed[0] != VERSION {
        return None;
    }
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&sealed[1..HEADER_LEN]);
    Some(KeyId(id))
}

/// Decrypts `nonce | ciphertext and tag`; `None` when it does not authenticate.
fn decrypt(aead: &XChaCha20Poly1305, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let payload = Payload {
        msg: ciphertext,
        aad,
    };
    aead.decrypt(XNonce::from_slice(nonce), payload).ok()
}

#[cfg(test)]
mod tests;
