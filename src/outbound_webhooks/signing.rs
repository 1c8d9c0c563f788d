//! How deliveries are signed. The `meta` format is signed as Meta signs: `X-Hub-Signature-256:
//! sha256=<hex HMAC-SHA256 of the body>` under the endpoint's secret, so a receiver written for
//! Meta's webhooks checks it unchanged. The `switchboard` format signs a timestamp with the body:
//! `Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">`, which a
//! receiver checks with [`verify`] (or its own few lines), refusing a timestamp more than
//! [`TOLERANCE`] away from its clock so that a captured delivery cannot be replayed later.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header of the `switchboard` format's signature.
pub const HEADER: &str = "switchboard-signature";
/// How far a signature's timestamp may be from the receiver's clock.
pub const TOLERANCE: Duration = Duration::from_secs(300);

/// `t=…,v1=…` for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// Why a `Switchboard-Signature` was not accepted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the signature is not of the form t=<unix seconds>,v1=<hex>")]
    Malformed,
    #[error("the signature's timestamp is more than 5 minutes from now")]
    Stale,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks `header` against `body` and the receiver's clock `now` (Unix seconds), in constant time.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64) -> Result<(), Refused> {
    let mut timestamp = None;
    let mut digests = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => {
                digests.push(hex::decode(value).map_err(|_| Refused::Malformed)?)
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Refused::Malformed)?;
    if digests.is_empty() {
        return Err(Refused::Malformed);
    }
    let tolerance = i64::try_from(TOLERANCE.as_secs()).unwrap_or(i64::MAX);
    if now.abs_diff(timestamp) > tolerance.unsigned_abs() {
        return Err(Refused::Stale);
    }
    // Several `v1` are accepted, as when a secret is being changed.
    if digests
        .iter()
        .any(|digest| mac(secret, timestamp, body).verify_slice(digest).is_ok())
    {
        Ok(())
    } else {
        Err(Refused::Mismatch)
    }
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key size");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"message.received"}"#;

    #[test]
    fn a_signature_verifies_within_five_minutes_only() {
        let header = sign(SECRET, 1_764_500_000, BODY);
        assert!(header.starts_with("t=1764500000,v1="), "{header}");
        assert_eq!(verify(SECRET, &header, BODY, 1_764_500_000), Ok(()));
        assert_eq!(verify(SECRET, &header, BODY, 1_764_500_300), Ok(()));
        assert_eq!(
            verify(SECRET, &header, BODY, 1_764_500_301),
            Err(Refused::Stale)
        );
        assert_eq!(
            verify(SECRET, &header, BODY, 1_764_499_600),
            Err(Refused::Stale)
        );
    }

    #[test]
    fn another_body_secret_or_timestamp_does_not_verify() {
        let header = sign(SECRET, 1_764_500_000, BODY);
        assert_eq!(
            verify(SECRET, &header, b"{}", 1_764_500_000),
            Err(Refused::Mismatch)
        );
        assert_eq!(
            verify(b"other", &header, BODY, 1_764_500_000),
            Err(Refused::Mismatch)
        );
        let moved = header.replace("t=1764500000", "t=1764500001");
        assert_eq!(
            verify(SECRET, &moved, BODY, 1_764_500_000),
            Err(Refused::Mismatch)
        );
        for malformed in [
            "",
            "v1=00",
            "t=1764500000",
            "t=x,v1=00",
            "t=1764500000,v1=zz",
        ] {
            assert_eq!(
                verify(SECRET, malformed, BODY, 1_764_500_000),
                Err(Refused::Malformed),
                "{malformed}"
            );
        }
    }

    #[test]
    fn the_signed_text_is_the_timestamp_a_dot_and_the_body() {
        // `printf '1764500000.{body}' | openssl dgst -sha256 -hmac whsec_test`
        assert_eq!(
            sign(SECRET, 1_764_500_000, BODY),
            "t=1764500000,v1=3bccb241b9f54ae1ba035295d7acd9fd6a83f1c61b2dfb7b337d19bab1580bce"
        );
    }
}
