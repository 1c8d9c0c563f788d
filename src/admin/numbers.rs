//! `/admin/numbers`: the tenant's Meta apps and their numbers. For each app, what to paste into
//! Meta's dashboard (callback URL and verify token), when Meta last verified it and when its last
//! signed webhook arrived, and its events that need an admin (failed or unroutable, with Replay).
//! For each number, its health and settings: pause, throughput, read receipts, remove. Secrets
//! are shown by their last four characters only; a blank secret field keeps the stored value.
//! Another tenant's app, number or event is 404.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, TimeDelta, Utc};
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    admin::sentence,
    domain::{
        apps::{self, AppSummary},
        ids::{AppId, NumberId, WebhookEventId},
        numbers::{
            self,
            health::{self, Change},
            lifecycle,
            overview::{self, NumberSummary},
            setup::{self, NumberForm},
        },
    },
    error::{AppError, FieldError, Result},
    http::{
        AppState,
        extract::{Form, Path},
    },
    inbox::{auth::Agent, page::render, time},
    ingest::{
        apply,
        operations::{self, TroubledEvent},
        replay,
    },
    sandbox::{
        customer::{self, CustomerMessage},
        provision,
    },
};

/// Troubled events shown per app.
const TROUBLED_SHOWN: i64 = 5;
/// Pending events applied at most when a played customer's message is applied at once.
const APPLY_BATCH: i64 = 200;
/// Changes of health shown per number.
const HISTORY_SHOWN: i64 = 5;
/// How far back the alerts go.
const ALERTS_SINCE: TimeDelta = TimeDelta::days(7);
/// Alerts shown at most.
const ALERTS_SHOWN: i64 = 10;
/// The throughput an admin may set: Meta's default is 80 messages/s, upgraded numbers 1,000.
const MAX_PER_SECOND: i32 = 1_000;

/// `templates/admin/numbers.html`.
#[derive(Template)]
#[template(path = "admin/numbers.html")]
struct NumbersPage {
    agent: Agent,
    /// Whether sandbox numbers can be created (`SANDBOX` is on).
    sandbox_on: bool,
    public_url: String,
    apps: Vec<AppCard>,
    sandbox: Vec<NumberSummary>,
    now: DateTime<Utc>,
    /// Quality and limit changes of the last week, newest first.
    alerts: Vec<Change>,
    /// The newest changes of each number.
    histories: Vec<Change>,
    /// The form the errors belong to (`app`, `secrets-{app}`, `number-{app}`), and what it held.
    failed: Option<Failed>,
}

/// A form that was refused, to show again with its errors (never with the secrets typed).
struct Failed {
    form: String,
    errors: Vec<FieldError>,
    meta_app_id: String,
    phone_number_id: String,
    waba_id: String,
    display_phone_number: String,
}

struct AppCard {
    app: AppSummary,
    numbers: Vec<NumberSummary>,
    troubled: Vec<TroubledEvent>,
}

impl NumbersPage {
    /// The error for `field` when the form `form` was refused.
    fn error(&self, form: &str, field: &str) -> Option<&str> {
        let failed = self.failed.as_ref().filter(|failed| failed.form == form)?;
        failed
            .errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Whether the form `form` was refused (so it shows open).
    fn is_failed(&self, form: &str) -> bool {
        self.failed
            .as_ref()
            .is_some_and(|failed| failed.form == form)
    }

    /// What the refused form `form` held in `field`, to type it in again.
    fn kept(&self, form: &str, field: &str) -> &str {
        let Some(failed) = self.failed.as_ref().filter(|failed| failed.form == form) else {
            return "";
        };
        match field {
            "meta_app_id" => &failed.meta_app_id,
            "phone_number_id" => &failed.phone_number_id,
            "waba_id" => &failed.waba_id,
            "display_phone_number" => &failed.display_phone_number,
            _ => "",
        }
    }

    fn callback_url(&self, app: &AppSummary) -> String {
        format!("{}/webhooks/whatsapp/{}", self.public_url, app.meta_app_id)
    }

    fn when(&self, at: &Option<DateTime<Utc>>) -> String {
        at.map_or_else(|| "never".into(), |at| time::when(at, self.now))
    }

    fn at(&self, at: &DateTime<Utc>) -> String {
        time::when(*at, self.now)
    }

    /// The number's newest changes of health.
    fn history_of(&self, number: &NumberSummary) -> Vec<&Change> {
        self.histories
            .iter()
            .filter(|change| change.number_id == number.id)
            .collect()
    }
}

#[derive(Deserialize, Default)]
pub struct AppFields {
    #[serde(default)]
    meta_app_id: String,
    #[serde(default)]
    app_secret: String,
    #[serde(default)]
    verify_token: String,
}

#[derive(Deserialize, Default)]
pub struct NumberFields {
    #[serde(default)]
    phone_number_id: String,
    #[serde(default)]
    waba_id: String,
    #[serde(default)]
    display_phone_number: String,
    #[serde(default)]
    access_token: String,
}

#[derive(Deserialize)]
pub struct PauseForm {
    paused: bool,
}

#[derive(Deserialize)]
pub struct SettingsForm {
    per_second: String,
    #[serde(default)]
    read_receipts: Option<String>,
}

/// `GET /admin/numbers`.
pub async fn show(State(state): State<AppState>, agent: Agent) -> Result<Response> {
    let page = numbers_page(&state, agent, None).await?;
    Ok(render(&page)?.into_response())
}

/// `POST /admin/apps`: registers an app.
pub async fn add_app(
    State(state): State<AppState>,
    agent: Agent,
    Form(form): Form<AppFields>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    let created = apps::create(
        &mut tx,
        &state.cipher,
        agent.tenant_id,
        agent.user_id,
        &form.meta_app_id,
        secret(&form.app_secret),
        secret(&form.verify_token),
    )
    .await?;
    if let Err(refused) = created {
        drop(tx);
        let field = match refused {
            apps::AppRefused::SecretMissing => "app_secret",
            _ => "meta_app_id",
        };
        let failed = failed("app", field, &refused.to_string(), &form, None);
        return refused_page(&state, agent, failed).await;
    }
    tx.commit().await?;
    Ok(Redirect::to("/admin/numbers").into_response())
}

/// `POST /admin/apps/{id}/secrets`: replaces the secrets typed; blank fields keep theirs.
pub async fn change_secrets(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<AppId>,
    Form(form): Form<AppFields>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    apps::change_secrets(
        &mut tx,
        &state.cipher,
        agent.tenant_id,
        agent.user_id,
        id,
        secret(&form.app_secret),
        secret(&form.verify_token),
    )
    .await?
    .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/numbers").into_response())
}

/// `POST /admin/apps/{id}/numbers`: adds a number under the app.
pub async fn add_number(
    State(state): State<AppState>,
    agent: Agent,
    Path(app_id): Path<AppId>,
    Form(form): Form<NumberFields>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    let number = NumberForm {
        app_id,
        phone_number_id: &form.phone_number_id,
        waba_id: &form.waba_id,
        display_phone_number: Some(&form.display_phone_number),
        access_token: secret(&form.access_token),
    };
    let created = setup::create(
        &mut tx,
        &state.cipher,
        agent.tenant_id,
        agent.user_id,
        number,
    )
    .await?;
    if let Err(refused) = created {
        drop(tx);
        if refused == setup::NumberRefused::AppNotFound {
            return Err(AppError::NotFound);
        }
        let form_name = format!("number-{app_id}");
        let failed = failed(
            &form_name,
            refused.field(),
            &refused.to_string(),
            &AppFields::default(),
            Some(&form),
        );
        return refused_page(&state, agent, failed).await;
    }
    tx.commit().await?;
    Ok(Redirect::to("/admin/numbers").into_response())
}

/// `POST /admin/numbers/{id}`: the display number, and the access token when one is typed.
pub async fn edit_number(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<NumberId>,
    Form(form): Form<NumberFields>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    setup::edit(
        &mut tx,
        &state.cipher,
        agent.tenant_id,
        agent.user_id,
        id,
        Some(&form.display_phone_number),
        secret(&form.access_token),
    )
    .await?
    .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/numbers").into_response())
}

/// `POST /admin/numbers/{id}/pause`: `paused=true` pauses, `paused=false` resumes.
pub async fn pause(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<NumberId>,
    Form(form): Form<PauseForm>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    lifecycle::set_paused(
        &mut tx,
        agent.tenant_id,
        Some(agent.user_id),
        id,
        form.paused,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/numbers").into_response())
}

/// `POST /admin/numbers/{id}/settings`: throughput and read receipts.
pub async fn settings(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<NumberId>,
    Form(form): Form<SettingsForm>,
) -> Result<Response> {
    let per_second = form
        .per_second
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|n| (1..=MAX_PER_SECOND).contains(n))
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "the throughput is a whole number of messages per second, from 1 to {MAX_PER_SECOND}"
            ))
        })?;
    let mut tx = state.db.begin().await?;
    if !numbers::is_active(&mut tx, agent.tenant_id, id).await? {
        return Err(AppError::NotFound);
    }
    let by = Some(agent.user_id);
    numbers::set_rate_limit(&mut tx, agent.tenant_id, by, id, per_second).await?;
    let read_receipts = form.read_receipts.is_some();
    numbers::set_read_receipts(&mut tx, agent.tenant_id, by, id, read_receipts).await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/numbers").into_response())
}

/// `POST /admin/numbers/{id}/check`: asks the Graph API about the number (see
/// [`health::check`]); the page then shows what it found, or why it failed, in words.
pub async fn check(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<NumberId>,
) -> Result<Response> {
    health::check(
        &state.db,
        &state.cipher,
        &state.graph,
        &state.config.graph_urls(),
        agent.tenant_id,
        agent.user_id,
        id,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/admin/numbers#number-{id}")).into_response())
}

/// `POST /admin/sandbox`: creates a sandbox number (when the sandbox is on).
pub async fn add_sandbox_number(State(state): State<AppState>, agent: Agent) -> Result<Response> {
    if state.sandbox.is_none() {
        return Err(AppError::NotFound);
    }
    let mut tx = state.db.begin().await?;
    provision::create_number(&mut tx, &state.cipher, agent.tenant_id, Some(agent.user_id)).await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/numbers#sandbox").into_response())
}

#[derive(Deserialize)]
pub struct CustomerForm {
    from: String,
    #[serde(default)]
    name: String,
    text: String,
    /// How long ago the customer wrote: 0, or past the window to see it closed.
    #[serde(default)]
    hours_ago: i64,
}

/// `POST /admin/numbers/{id}/customer`: plays a customer of the tenant's sandbox number, whose
/// message arrives as a signed webhook like a real one; then the inbox shows it.
pub async fn play_customer(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<NumberId>,
    Form(form): Form<CustomerForm>,
) -> Result<Response> {
    if state.sandbox.is_none() {
        return Err(AppError::NotFound);
    }
    let mut conn = state.db.acquire().await?;
    let number = numbers::credentials_if_active(&mut conn, &state.cipher, agent.tenant_id, id)
        .await?
        .filter(|number| number.sandbox)
        .ok_or(AppError::NotFound)?;
    if form.text.trim().is_empty() || !(0..=72).contains(&form.hours_ago) {
        return Err(AppError::BadRequest(
            "the customer's message needs some text, written 0 to 72 hours ago".into(),
        ));
    }
    let name = match form.name.trim() {
        "" => "Sandbox customer",
        name => name,
    };
    let message = CustomerMessage {
        phone_number_id: &number.phone_number_id,
        from: &form.from,
        profile_name: name,
        text: form.text.trim(),
        sent_at: Utc::now() - TimeDelta::hours(form.hours_ago),
    };
    customer::say(
        &mut conn,
        &state.cipher,
        &state.config.internal_url(),
        &message,
    )
    .await
    .map_err(|error| AppError::BadRequest(format!("{error:#}")))?;
    drop(conn);
    // The webhook is stored; apply it now, so the inbox shows the message when it opens (its live
    // updates start only once the page has loaded).
    apply::apply_pending(&state.db, APPLY_BATCH).await?;
    Ok(Redirect::to("/inbox").into_response())
}

/// `POST /admin/numbers/{id}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<NumberId>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    lifecycle::remove(&mut tx, agent.tenant_id, Some(agent.user_id), id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/numbers").into_response())
}

/// `POST /admin/events/{id}/replay`: applies a failed or unroutable event again.
pub async fn replay_event(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<WebhookEventId>,
) -> Result<Response> {
    replay::replay_one(&state.db, agent.tenant_id, agent.user_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to("/admin/numbers").into_response())
}

/// `POST /admin/events/{id}/dismiss`: a failed or unroutable event needs no replay.
pub async fn dismiss_event(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<WebhookEventId>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    replay::dismiss(&mut tx, agent.tenant_id, agent.user_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/numbers").into_response())
}

async fn numbers_page(
    state: &AppState,
    agent: Agent,
    failed: Option<Failed>,
) -> Result<NumbersPage> {
    let mut conn = state.db.acquire().await?;
    let summaries = apps::summaries(&mut conn, &state.cipher, agent.tenant_id).await?;
    let mut all = overview::summaries(&mut conn, &state.cipher, agent.tenant_id).await?;
    let sandbox = all.extract_if(.., |n| n.sandbox).collect();
    let mut apps = Vec::with_capacity(summaries.len());
    for app in summaries {
        let troubled =
            operations::troubled(&mut conn, agent.tenant_id, Some(app.id), TROUBLED_SHOWN).await?;
        let numbers = all.extract_if(.., |n| n.app_id == app.id).collect();
        apps.push(AppCard {
            app,
            numbers,
            troubled,
        });
    }
    let now = Utc::now();
    let alerts =
        health::alerts(&mut conn, agent.tenant_id, now - ALERTS_SINCE, ALERTS_SHOWN).await?;
    let histories = health::histories(&mut conn, agent.tenant_id, HISTORY_SHOWN).await?;
    Ok(NumbersPage {
        agent,
        sandbox_on: state.sandbox.is_some(),
        public_url: state.config.public_url.clone(),
        apps,
        sandbox,
        now,
        alerts,
        histories,
        failed,
    })
}

async fn refused_page(state: &AppState, agent: Agent, failed: Failed) -> Result<Response> {
    let page = numbers_page(state, agent, Some(failed)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

fn failed(
    form: &str,
    field: &str,
    message: &str,
    app: &AppFields,
    number: Option<&NumberFields>,
) -> Failed {
    Failed {
        form: form.to_owned(),
        errors: vec![FieldError {
            field: field.to_owned(),
            message: sentence(message),
        }],
        meta_app_id: app.meta_app_id.trim().to_owned(),
        phone_number_id: number
            .map(|n| n.phone_number_id.trim().to_owned())
            .unwrap_or_default(),
        waba_id: number
            .map(|n| n.waba_id.trim().to_owned())
            .unwrap_or_default(),
        display_phone_number: number
            .map(|n| n.display_phone_number.trim().to_owned())
            .unwrap_or_default(),
    }
}

/// A secret typed in a form; blank is none.
fn secret(typed: &str) -> Option<SecretString> {
    let typed = typed.trim();
    (!typed.is_empty()).then(|| typed.to_owned().into())
}
