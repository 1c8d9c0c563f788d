//! The integrators' surface: programs that send and read WhatsApp messages through Switchboard,
//! each with an API key of its tenant (`Authorization: Bearer <key>`,
//! [`crate::domain::api_keys`]). The Meta-compatible endpoint ([`graph`], under `/graph`) answers
//! as Meta's Graph API does, so that existing WhatsApp SDKs only change their base URL and token.

pub mod graph;

use axum::http::{HeaderMap, header};

/// The key a request carries: `Authorization: Bearer <key>` (never in the URL).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim())
        .filter(|key| !key.is_empty())
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
