//! The first run. While no user exists, `switchboard serve` prints a one-time link
//! (`/setup/{token}`); opening it creates the first tenant and its admin, offers a sandbox number,
//! and signs the admin in, so the README's first command leads straight to a working inbox. The
//! token is random, stored only as a hash, and spent by the setup; once a user exists every setup
//! link is 404.

use anyhow::Context;
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
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::{
    auth::{csrf, session_cookie, sessions},
    page::render,
};
use crate::{
    domain::{
        audit, tenants,
        users::{self, MIN_PASSWORD_LEN, NewUser, Role},
    },
    error::{AppError, FieldError, Result},
    http::{
        AppState,
        extract::{Form, Path},
    },
    sandbox::provision,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/setup/{token}", get(show).post(set_up))
}

/// A setup link, if no user exists yet (`None` once one does). Each call makes a new token; any
/// unspent one stays valid until the first user is created.
pub async fn issue_link(db: &PgPool, public_url: &str) -> anyhow::Result<Option<String>> {
    let mut conn = db.acquire().await.context("acquire connection")?;
    if users::any_exist(&mut conn).await? {
        return Ok(None);
    }
    let token = sessions::random_token();
    sqlx::query!(
        "insert into setup_tokens (token_hash) values ($1)",
        sessions::token_hash(&token)
    )
    .execute(&mut *conn)
    .await
    .context("store the setup token")?;
    Ok(Some(format!("{public_url}/setup/{token}")))
}

/// `templates/auth/setup.html`.
#[derive(Template)]
#[template(path = "auth/setup.html")]
struct SetupPage {
    csrf: String,
    token: String,
    sandbox: bool,
    form: SetupForm,
    errors: Vec<FieldError>,
}

impl SetupPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

#[derive(Deserialize, Default)]
struct SetupForm {
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    sandbox_number: Option<String>,
    #[serde(default)]
    csrf: String,
}

async fn show(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Result<Response> {
    let mut conn = acquire(&state.db).await?;
    if !token_valid(&mut conn, &token).await? {
        return Err(AppError::NotFound);
    }
    let (jar, csrf) = csrf::form_token(jar, state.config.secure_cookies());
    let page = SetupPage {
        csrf,
        token,
        sandbox: state.sandbox.is_some(),
        form: SetupForm {
            sandbox_number: state.sandbox.is_some().then(|| "on".to_owned()),
            ..SetupForm::default()
        },
        errors: Vec::new(),
    };
    Ok((jar, render(&page)?).into_response())
}

async fn set_up(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Result<Response> {
    csrf::check_form(&jar, &headers, &form.csrf)?;
    let errors = validate(&form);
    if !errors.is_empty() {
        let (jar, csrf) = csrf::form_token(jar, state.config.secure_cookies());
        let page = SetupPage {
            csrf,
            token,
            sandbox: state.sandbox.is_some(),
            form: SetupForm {
                password: String::new(),
                ..form
            },
            errors,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, jar, render(&page)?).into_response());
    }
    let mut tx = state
        .db
        .begin()
        .await
        .map_err(|e| AppError::from_database(e.into()))?;
    // Spending the token and checking that nobody was created meanwhile, in one transaction: two
    // tabs submitting at once create one tenant.
    let spent = sqlx::query!(
        "delete from setup_tokens where token_hash = $1",
        sessions::token_hash(&token)
    )
    .execute(&mut *tx)
    .await
    .context("spend the setup token")?;
    if spent.rows_affected() == 0 || users::any_exist(&mut tx).await? {
        return Err(AppError::NotFound);
    }
    sqlx::query!("delete from setup_tokens")
        .execute(&mut *tx)
        .await
        .context("spend every setup token")?;
    let tenant = tenants::create(&mut tx, form.organisation.trim()).await?;
    let password = SecretString::from(form.password.clone());
    let user = NewUser {
        email: &form.email,
        name: &form.name,
        role: Role::Admin,
        password: &password,
    };
    let user_id = users::create(&mut tx, tenant.id, &user).await?;
    audit::record(
        &mut tx,
        tenant.id,
        Some(user_id),
        "setup",
        json!({ "email": form.email.trim() }),
    )
    .await?;
    if form.sandbox_number.is_some() && state.sandbox.is_some() {
        provision::create_number(&mut tx, &state.cipher, tenant.id, Some(user_id)).await?;
    }
    let session = sessions::create(&mut tx, tenant.id, user_id).await?;
    tx.commit().await.context("commit the setup")?;
    let jar = jar.add(session_cookie(session, state.config.secure_cookies()));
    Ok((jar, Redirect::to("/inbox")).into_response())
}

fn validate(form: &SetupForm) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    if form.organisation.trim().is_empty() {
        fail(
            "organisation",
            "Name your organisation (your team sees it).",
        );
    }
    if !form.email.contains('@') {
        fail("email", "Enter the e-mail address you will sign in with.");
    }
    if form.password.chars().count() < MIN_PASSWORD_LEN {
        fail(
            "password",
            &format!("Use at least {MIN_PASSWORD_LEN} characters."),
        );
    }
    errors
}

async fn token_valid(conn: &mut PgConnection, token: &str) -> Result<bool> {
    let exists = sqlx::query_scalar!(
        r#"select exists (select 1 from setup_tokens where token_hash = $1)
              and not exists (select 1 from users) as "valid!""#,
        sessions::token_hash(token)
    )
    .fetch_one(conn)
    .await
    .context("check the setup token")?;
    Ok(exists)
}

async fn acquire(db: &PgPool) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>> {
    db.acquire()
        .await
        .map_err(|e| AppError::from_database(e.into()))
}
