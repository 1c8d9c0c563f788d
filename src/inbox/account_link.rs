//! `/account/{token}`: a one-time link an admin made (`admin::team`) — an invitation or a password
//! reset. Its holder chooses a password and is signed in; the link is spent, and any other session
//! of theirs ends. A spent, expired or unknown link, or one whose member was deactivated, is 404.

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_extra::extract::cookie::CookieJar;
use secrecy::SecretString;
use serde::Deserialize;

use super::{
    auth::{csrf, session_cookie, sessions},
    page::render,
};
use crate::{
    domain::{
        accounts::{self, LinkHolder, LinkPurpose},
        users::MIN_PASSWORD_LEN,
    },
    error::{AppError, Result},
    http::{
        AppState,
        extract::{Form, Path},
    },
};

pub fn router() -> Router<AppState> {
    Router::new().route("/account/{token}", get(show).post(choose_password))
}

/// `templates/auth/account_link.html`.
#[derive(Template)]
#[template(path = "auth/account_link.html")]
struct AccountLinkPage {
    csrf: String,
    token: String,
    name: String,
    email: String,
    invitation: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn show(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Result<Response> {
    let mut conn = state.db.acquire().await?;
    let holder = accounts::link(&mut conn, &token)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(link_page(&state, jar, token, holder, None)?.into_response())
}

/// The link's form, with a fresh form token.
fn link_page(
    state: &AppState,
    jar: CookieJar,
    token: String,
    holder: LinkHolder,
    error: Option<String>,
) -> Result<(CookieJar, axum::response::Html<String>)> {
    let (jar, csrf) = csrf::form_token(jar, state.config.secure_cookies());
    let page = AccountLinkPage {
        csrf,
        token,
        name: holder.name,
        email: holder.email,
        invitation: holder.purpose == LinkPurpose::Invite,
        error,
    };
    Ok((jar, render(&page)?))
}

async fn choose_password(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    csrf::check_form(&jar, &headers, &form.csrf)?;
    let mut tx = state.db.begin().await?;
    if form.password.chars().count() < MIN_PASSWORD_LEN {
        let holder = accounts::link(&mut tx, &token)
            .await?
            .ok_or(AppError::NotFound)?;
        let error = format!("Use at least {MIN_PASSWORD_LEN} characters.");
        let page = link_page(&state, jar, token, holder, Some(error))?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let holder = accounts::spend_link(&mut tx, &token, SecretString::from(form.password))
        .await?
        .ok_or(AppError::NotFound)?;
    let session = sessions::create(&mut tx, holder.tenant_id, holder.user_id).await?;
    tx.commit().await?;
    let jar = jar.add(session_cookie(session, state.config.secure_cookies()));
    Ok((jar, Redirect::to("/inbox")).into_response())
}
