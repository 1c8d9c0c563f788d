//! `X-Hub-Signature-256`: Meta signs each webhook POST with HMAC-SHA256 of the exact raw body, keyed
//! by the app secret. We check it over the bytes as received, in constant time, before parsing.
//! <https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads>

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header Meta sends the signature in.
pub const HEADER: &str = "x-hub-signature-256";

/// Why a signature was not accepted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    /// Meta sends one; with several, whoever else reads the request might check another copy.
    #[error("more than one X-Hub-Signature-256 header")]
    Repeated,
    #[error("X-Hub-Signature-256 is not of the form sha256=<hex>")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// Checks `header` (`sha256=<hex>`) against the HMAC of `body` under `app_secret`.
pub fn verify(app_secret: &[u8], header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let digest = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    mac(app_secret, body)
        .verify_slice(&digest)
        .map_err(|_| SignatureError::Mismatch)
}

/// The header value Meta would send for `body` (used by the sandbox, the load tool and tests).
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(app_secret, body).finalize().into_bytes())
    )
}

fn mac(app_secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(app_secret).expect("HMAC takes any key size");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/signatures");

    fn vector(name: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(format!("{CORPUS}/{name}")).unwrap_or_else(|e| {
            panic!("read corpus vector {name} (is ../shared beside the repo?): {e}")
        });
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn real_meta_signature_verifies_over_the_raw_bytes() {
        let v = vector("pywa__x_hub_signature_256_vector.json");
        let raw =
            std::fs::read(format!("{CORPUS}/pywa__meta_signed_webhook_body_raw.json")).unwrap();
        assert_eq!(raw, v["raw_body"].as_str().unwrap().as_bytes());
        let secret = v["app_secret"].as_str().unwrap().as_bytes();
        let header = v["x_hub_signature_256"].as_str().unwrap();
        assert_eq!(verify(secret, Some(header), &raw), Ok(()));
        assert_eq!(sign(secret, &raw), header);
    }

    #[test]
    fn meta_sdk_vector_verifies() {
        let v = vector("meta_nodejs_sdk__hmac_vector_plain_test_body.json");
        let secret = v["app_secret"].as_str().unwrap().as_bytes();
        let header = v["x_hub_signature_256"].as_str().unwrap();
        assert_eq!(verify(secret, Some(header), b"test"), Ok(()));
    }

    #[test]
    fn a_changed_body_or_secret_does_not_verify() {
        let header = sign(b"secret", b"{\"a\":1}");
        assert_eq!(
            verify(b"secret", Some(&header), b"{\"a\":2}"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", Some(&header), b"{\"a\":1}"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let header = sign(b"secret", b"body")
            .to_uppercase()
            .replace("SHA256=", "sha256=");
        assert_eq!(verify(b"secret", Some(&header), b"body"), Ok(()));
    }

    #[test]
    fn missing_and_malformed_headers_are_told_apart() {
        assert_eq!(verify(b"s", None, b"x"), Err(SignatureError::Missing));
        assert_eq!(
            verify(b"s", Some("sha1=abcd"), b"x"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"s", Some("sha256=zz"), b"x"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"s", Some("sha256=abcd"), b"x"),
            Err(SignatureError::Mismatch)
        );
    }
}
