//! `GET/POST /login` and `POST /logout`. A wrong password and an unknown address get the same
//! answer in about the same time; too many failures get 429 with the time to try again; a
//! successful sign-in starts a new session and goes back to the page that asked for it (a path on
//! this site only).

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::{
    ClientAddress, SESSION_COOKIE, csrf, session_cookie, sessions,
    throttle::{self, Attempt},
};
use crate::{
    domain::{
        audit,
        ids::{TenantId, UserId},
        users,
    },
    error::{AppError, Result},
    http::{
        AppState,
        extract::{Form, Query},
    },
    inbox::page::render,
};

/// The routes that work signed out.
pub fn router() -> Router<AppState> {
    Router::new().route("/login", get(show).post(sign_in))
}

/// `templates/auth/login.html`.
#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    email: String,
    /// Why the last attempt failed.
    error: Option<String>,
}

#[derive(Deserialize)]
struct Next {
    #[serde(default)]
    next: String,
}

async fn show(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(Next { next }): Query<Next>,
) -> Result<Response> {
    let (jar, csrf) = csrf::form_token(jar, state.config.secure_cookies());
    let page = LoginPage {
        csrf,
        next: same_site_path(&next).to_owned(),
        email: String::new(),
        error: None,
    };
    Ok((jar, render(&page)?).into_response())
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

async fn sign_in(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    Form(form): Form<Credentials>,
) -> Result<Response> {
    csrf::check_form(&jar, &headers, &form.csrf)?;
    let attempt = Attempt {
        email: &form.email,
        address,
    };
    let retry = |jar: CookieJar, status: StatusCode, error: String| -> Result<Response> {
        let (jar, csrf) = csrf::form_token(jar, state.config.secure_cookies());
        let page = LoginPage {
            csrf,
            next: same_site_path(&form.next).to_owned(),
            email: form.email.clone(),
            error: Some(error),
        };
        Ok((status, jar, render(&page)?).into_response())
    };
    if let Some(until) = throttle::blocked_until(&state.db, &attempt)
        .await
        .map_err(AppError::from_database)?
    {
        let mut response = retry(jar, StatusCode::TOO_MANY_REQUESTS, try_again(until))?;
        let seconds = (until - Utc::now()).num_seconds().max(1);
        response.headers_mut().insert("retry-after", seconds.into());
        return Ok(response);
    }
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| AppError::from_database(e.into()))?;
    let user = users::credentials(&mut conn, &form.email)
        .await
        .map_err(AppError::from_database)?;
    drop(conn);
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let account = user.as_ref().map(|u| (u.tenant_id, u.id));
    let valid = users::verify_password(SecretString::from(form.password.clone()), hash).await?;
    let Some(user) = user.filter(|_| valid) else {
        throttle::record_failure(&state.db, &attempt)
            .await
            .map_err(AppError::from_database)?;
        let address = attempt.address.as_deref();
        audit_sign_in(&state.db, account, "user.sign_in_failed", address).await?;
        let error = "That e-mail address and password do not match an account.".to_owned();
        return retry(jar, StatusCode::UNAUTHORIZED, error);
    };
    throttle::clear_account(&state.db, &form.email)
        .await
        .map_err(AppError::from_database)?;
    // A new session id at every sign-in: one planted before it (session fixation) stays useless.
    if let Some(old) = jar.get(SESSION_COOKIE) {
        sessions::delete(&state.db, old.value())
            .await
            .map_err(AppError::from_database)?;
    }
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| AppError::from_database(e.into()))?;
    let token = sessions::create(&mut conn, user.tenant_id, user.id)
        .await
        .map_err(AppError::from_database)?;
    drop(conn);
    let address = attempt.address.as_deref();
    audit_sign_in(&state.db, account, "user.sign_in", address).await?;
    let jar = jar.add(session_cookie(token, state.config.secure_cookies()));
    Ok((jar, Redirect::to(same_site_path(&form.next))).into_response())
}

/// Records a sign-in, or a failed one, with the address it came from: in the account's tenant's
/// audit trail, or (a failure for an address no account has) in the operator's. Never the
/// password, and the same work whether the address exists or not.
async fn audit_sign_in(
    db: &sqlx::PgPool,
    account: Option<(TenantId, UserId)>,
    action: &str,
    address: Option<&str>,
) -> Result<()> {
    let mut conn = db.acquire().await?;
    let details = json!({ "ip": address });
    match account {
        Some((tenant_id, user_id)) => {
            audit::record(&mut conn, tenant_id, Some(user_id), action, details).await?;
        }
        None => audit::record_system(&mut conn, action, details).await?,
    }
    Ok(())
}

/// "Try again at 10:58 (in 12 min)."
fn try_again(until: DateTime<Utc>) -> String {
    let minutes = (until - Utc::now()).num_minutes() + 1;
    format!(
        "Too many failed sign-ins. Try again at {} UTC (in {minutes} min).",
        until.format("%H:%M")
    )
}

/// `POST /logout` (behind `require_agent`, so with the session's CSRF token): ends the session;
/// the sign-in page follows.
pub async fn sign_out(State(state): State<AppState>, jar: CookieJar) -> Result<Response> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        sessions::delete(&state.db, cookie.value())
            .await
            .map_err(AppError::from_database)?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}

/// `next` if it is a path on this site, else the inbox: a sign-in link can't send anyone
/// elsewhere (`//evil.example`, `https://…`, `/\evil.example` are all refused).
pub fn same_site_path(next: &str) -> &str {
    let on_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if on_site { next } else { "/inbox" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        assert_eq!(
            same_site_path("/inbox/conversations/4"),
            "/inbox/conversations/4"
        );
        assert_eq!(same_site_path("/inbox?view=mine"), "/inbox?view=mine");
        for elsewhere in [
            "",
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/\tx",
        ] {
            assert_eq!(same_site_path(elsewhere), "/inbox", "{elsewhere:?}");
        }
    }
}
