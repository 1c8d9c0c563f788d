//! Cross-site request forgery. Every request that changes something carries a token a forged
//! request cannot know: signed in, the session's token (a hidden `csrf` field in each form, or the
//! `X-CSRF-Token` header from the page's script); signed out (the sign-in and setup forms), a random
//! token in a cookie that the form repeats (double submit). Cookies are also `SameSite=Lax`, and a
//! browser that says the request came from another site (`Sec-Fetch-Site: cross-site`) is refused
//! outright.

use axum::http::{HeaderMap, HeaderName};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use subtle::ConstantTimeEq;

use super::sessions::random_token;
use crate::error::AppError;

/// The header the page's script sends the session's token in.
pub const HEADER: HeaderName = HeaderName::from_static("x-csrf-token");
/// The cookie that holds a signed-out form's token.
const COOKIE: &str = "sb_csrf";

/// Whether `presented` is `expected`, in constant time.
pub fn matches(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// Refuses a request a browser marked as coming from another site.
pub fn same_site(headers: &HeaderMap) -> Result<(), AppError> {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("cross-site") => Err(AppError::Forbidden),
        _ => Ok(()),
    }
}

/// The signed-out form token: the cookie's if the browser has one, else a new one set in `jar`.
pub fn form_token(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(token) = jar.get(COOKIE).map(|c| c.value().to_owned()) {
        return (jar, token);
    }
    let token = random_token();
    let cookie = Cookie::build((COOKIE, token.clone()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build();
    (jar.add(cookie), token)
}

/// Checks a signed-out form's token against its cookie.
pub fn check_form(jar: &CookieJar, headers: &HeaderMap, presented: &str) -> Result<(), AppError> {
    same_site(headers)?;
    let expected = jar.get(COOKIE).map(|c| c.value()).unwrap_or_default();
    if matches(expected, presented) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_non_empty_token_matches() {
        assert!(matches("abc", "abc"));
        assert!(!matches("abc", "abd"));
        assert!(!matches("abc", "ab"));
        assert!(!matches("", ""));
    }

    #[test]
    fn a_cross_site_request_is_refused() {
        let mut headers = HeaderMap::new();
        assert!(same_site(&headers).is_ok());
        headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(same_site(&headers).is_ok());
        headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(matches!(same_site(&headers), Err(AppError::Forbidden)));
    }
}
