//! The integrators' surface: programs that send and read WhatsApp messages through Switchboard,
//! each with an API key of its tenant (`Authorization: Bearer <key>`,
//! [`crate::domain::api_keys`]). The Meta-compatible endpoint ([`graph`], under `/graph`) answers
//! as Meta's Graph API does, so that existing WhatsApp SDKs only change their base URL and token;
//! the JSON API ([`v1`], under `/api/v1`) works the inbox as an agent does.

pub mod graph;
pub mod v1;

use axum::http::{HeaderMap, header};

use crate::{crypto::tokens::random_token, domain::api_keys::Caller};

/// The longest `Idempotency-Key` taken.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The key a request carries: `Authorization: Bearer <key>` (never in the URL).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim())
        .filter(|key| !key.is_empty())
}

/// A send's idempotency key: the request's `Idempotency-Key` (a retried request is then the same
/// message, sent once), else a fresh one; in the key's own namespace, so that programs never share
/// one. `Err` says what is wrong with the header.
fn idempotency_key(headers: &HeaderMap, caller: &Caller) -> Result<String, String> {
    let given = match headers.get("idempotency-key") {
        None => random_token(),
        Some(value) => value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|value| !value.is_empty() && value.len() <= MAX_IDEMPOTENCY_KEY)
            .ok_or_else(|| {
                format!(
                    "The Idempotency-Key header is 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII \
                     characters."
                )
            })?
            .to_owned(),
    };
    Ok(format!("api:{}:{given}", caller.key_id))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn a_key_comes_as_a_bearer_token_only() {
        let headers = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            headers
        };
        assert_eq!(bearer(&headers("Bearer sbk_abc")), Some("sbk_abc"));
        assert_eq!(bearer(&headers("bearer  sbk_abc ")), Some("sbk_abc"));
        assert_eq!(bearer(&headers("Basic c2JrX2FiYw==")), None);
        assert_eq!(bearer(&headers("Bearer ")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
