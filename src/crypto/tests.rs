//! Sealing, key versions and rotation, and the format existing databases hold.

use super::*;

fn key() -> SecretKey {
    SecretKey::from_material("0123456789abcdef0123456789abcdef").unwrap()
}

fn other_key() -> SecretKey {
    SecretKey::from_material("another key of at least thirty-two chars").unwrap()
}

/// Sealed by the code before key versioning, with [`key`]: the format existing databases hold.
const LEGACY_SEALED: &str = "e01a6f94742f323ee9f05a267a929d95beb1d85a31e5cc9e8a184e2d3adcd34f\
                             24a127bf1fd147e8100daf3b60c1cb75b1aa3ca3adebaec195";

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
fn hkdf_derivation_is_stable() {
    // Computed independently (RFC 5869 with Python's hmac): changing these loses every secret.
    assert_eq!(
        hex::encode(key().derive(SEAL_PURPOSE)),
        "85f1c2333af1b1bf7d8e1d9f4020db27664da29d73cac0587a94628b678c82cf"
    );
    assert_eq!(key().id().to_string(), "b16df381");
    assert_ne!(key().derive("a"), key().derive("b"));
}

#[test]
fn a_sealed_value_names_its_version_and_key() {
    let sealed = key().cipher().seal(b"secret", "ctx");
    assert_eq!(sealed[0], VERSION);
    assert_eq!(sealed[1..HEADER_LEN], key().id().0);
    assert_eq!(
        sealed.len(),
        HEADER_LEN + NONCE_LEN + b"secret".len() + TAG_LEN
    );
}

#[test]
fn another_key_cannot_open_a_sealed_value() {
    let sealed = key().cipher().seal(b"secret", "ctx");
    let error = other_key().cipher().open(&sealed, "ctx").unwrap_err();
    assert!(error.to_string().contains(&key().id().to_string()));
    assert!(error.to_string().contains("SECRET_KEY_PREVIOUS"));
}

#[test]
fn the_previous_key_opens_and_the_current_key_seals() {
    let old = key().cipher().seal(b"secret", "ctx");
    let rotating = Cipher::new(&other_key(), Some(&key()));
    assert_eq!(rotating.open(&old, "ctx").unwrap(), b"secret");
    let new = rotating.seal(b"secret", "ctx");
    assert_eq!(new[1..HEADER_LEN], other_key().id().0);
    assert_eq!(other_key().cipher().open(&new, "ctx").unwrap(), b"secret");
}

#[test]
fn a_legacy_value_from_the_old_derivation_opens() {
    let legacy = hex::decode(LEGACY_SEALED).unwrap();
    let context = "phone_numbers.access_token:1";
    assert_eq!(
        key().cipher().open(&legacy, context).unwrap(),
        b"EAAG-legacy-token"
    );
    let rotating = Cipher::new(&other_key(), Some(&key()));
    assert_eq!(
        rotating.open(&legacy, context).unwrap(),
        b"EAAG-legacy-token"
    );
    assert!(other_key().cipher().open(&legacy, context).is_err());
}

#[test]
fn a_legacy_value_whose_nonce_looks_like_a_header_still_opens() {
    // Forge the 2^-40 case: find a legacy value whose nonce starts with the v2 header of the key.
    let legacy = Keys::new(&key()).legacy;
    let header = [[VERSION].as_slice(), &key().id().0].concat();
    let mut nonce = [0u8; NONCE_LEN];
    nonce[..HEADER_LEN].copy_from_slice(&header);
    let payload = Payload {
        msg: b"secret".as_slice(),
        aad: b"ctx",
    };
    let ciphertext = legacy.encrypt(XNonce::from_slice(&nonce), payload).unwrap();
    let sealed = [nonce.as_slice(), &ciphertext].concat();
    assert_eq!(header_key_id(&sealed), Some(key().id()));
    assert_eq!(key().cipher().open(&sealed, "ctx").unwrap(), b"secret");
}

#[test]
fn reseal_upgrades_legacy_and_previous_values_and_leaves_current_ones() {
    let rotating = Cipher::new(&other_key(), Some(&key()));
    let legacy = hex::decode(LEGACY_SEALED).unwrap();
    let context = "phone_numbers.access_token:1";
    let upgraded = rotating.reseal(&legacy, context).unwrap().unwrap();
    assert_eq!(
        other_key().cipher().open(&upgraded, context).unwrap(),
        b"EAAG-legacy-token"
    );
    let previous = key().cipher().seal(b"secret", "ctx");
    assert!(rotating.reseal(&previous, "ctx").unwrap().is_some());
    assert!(rotating.reseal(&upgraded, context).unwrap().is_none());
    // With one key, rotation only upgrades the format.
    assert!(key().cipher().reseal(&legacy, context).unwrap().is_some());
    assert!(key().cipher().reseal(&previous, "ctx").unwrap().is_none());
}

#[test]
fn a_tampered_version_or_key_id_fails_cleanly() {
    let cipher = Cipher::new(&key(), Some(&other_key()));
    let sealed = cipher.seal(b"secret", "ctx");
    // The other configured key's id: tried with that key, refused by the tag.
    let mut swapped = sealed.clone();
    swapped[1..HEADER_LEN].copy_from_slice(&other_key().id().0);
    let error = cipher.open(&swapped, "ctx").unwrap_err().to_string();
    assert!(error.contains("altered"), "{error}");
    // An unknown key id: named in the error.
    let mut unknown = sealed.clone();
    unknown[1..HEADER_LEN].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let error = cipher.open(&unknown, "ctx").unwrap_err().to_string();
    assert!(
        error.contains("deadbeef") && error.contains("not configured"),
        "{error}"
    );
    // Another version byte: read as a legacy value, which does not authenticate.
    let mut version = sealed.clone();
    version[0] = 1;
    let error = cipher.open(&version, "ctx").unwrap_err().to_string();
    assert!(error.contains("legacy format"), "{error}");
    assert!(cipher.open(&sealed[..10], "ctx").is_err());
    assert!(cipher.open(&[], "ctx").is_err());
}

#[test]
fn short_key_material_is_refused() {
    assert!(SecretKey::from_material("short").is_err());
}

#[test]
fn debug_output_hides_the_key() {
    assert_eq!(format!("{:?}", key()), "SecretKey(<redacted>)");
}
