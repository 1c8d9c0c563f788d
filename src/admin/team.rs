//! `/admin/team`: the tenant's members with their role, whether they are online, invited or
//! deactivated; inviting a member, resetting a password (each a one-time link shown to the admin
//! once, since Switchboard sends no e-mail), changing a role, deactivating (every session of the
//! member ends at once) and activating again. Another tenant's member is 404.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    admin::sentence,
    domain::{
        accounts::{self, INVITE_LIFETIME, Member, RESET_LIFETIME, Refused},
        ids::UserId,
        users::Role,
    },
    error::{AppError, FieldError, Result},
    http::{
        AppState,
        extract::{Form, Path},
    },
    inbox::{auth::Agent, page::render},
};

/// `templates/admin/team.html`.
#[derive(Template)]
#[template(path = "admin/team.html")]
struct TeamPage {
    agent: Agent,
    members: Vec<Member>,
    form: InviteForm,
    errors: Vec<FieldError>,
}

impl TeamPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// `templates/admin/link.html`: a one-time link, shown once.
#[derive(Template)]
#[template(path = "admin/link.html")]
struct LinkPage {
    agent: Agent,
    heading: String,
    instructions: String,
    link: String,
    valid_for: String,
}

#[derive(Deserialize, Default)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

#[derive(Deserialize)]
pub struct AccessForm {
    active: bool,
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

/// `GET /admin/team`.
pub async fn show(State(state): State<AppState>, agent: Agent) -> Result<Response> {
    let page = team_page(&state, agent, InviteForm::default(), Vec::new()).await?;
    Ok(render(&page)?.into_response())
}

/// `POST /admin/team/invite`: creates the account and shows its invitation link.
pub async fn invite(
    State(state): State<AppState>,
    agent: Agent,
    Form(form): Form<InviteForm>,
) -> Result<Response> {
    let Some(role) = parse_role(&form.role) else {
        return Err(AppError::BadRequest(
            "choose the role admin or agent".into(),
        ));
    };
    let mut tx = state.db.begin().await?;
    let invited = accounts::invite(
        &mut tx,
        agent.tenant_id,
        agent.user_id,
        &form.email,
        &form.name,
        role,
    )
    .await?;
    let token = match invited {
        Ok((_, token)) => token,
        Err(refused) => {
            drop(tx);
            let errors = vec![FieldError {
                field: "email".into(),
                message: sentence(&refused.to_string()),
            }];
            let page = team_page(&state, agent, form, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    tx.commit().await?;
    let heading = format!("Invitation for {}", form.email.trim());
    let instructions = "Send this link to them yourself: opening it, they choose a password and \
                        are signed in. It works once.";
    link_page(
        &state,
        agent,
        heading,
        instructions,
        &token,
        INVITE_LIFETIME,
    )
}

/// `POST /admin/team/{id}/reset`: a password reset link for the member.
pub async fn reset(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<UserId>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    let (name, token) = accounts::reset_link(&mut tx, agent.tenant_id, agent.user_id, id)
        .await?
        .map_err(refusal)?;
    tx.commit().await?;
    let heading = format!("Password reset for {name}");
    let instructions = "Send this link to them yourself: opening it, they choose a new password. \
                        It works once, and their current password keeps working until then.";
    link_page(&state, agent, heading, instructions, &token, RESET_LIFETIME)
}

/// `POST /admin/team/{id}/access`: deactivates the member (`active=false`) or activates them again.
pub async fn access(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<UserId>,
    Form(form): Form<AccessForm>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    accounts::set_active(&mut tx, agent.tenant_id, agent.user_id, id, form.active)
        .await?
        .map_err(refusal)?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/team").into_response())
}

/// `POST /admin/team/{id}/role`.
pub async fn role(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<UserId>,
    Form(form): Form<RoleForm>,
) -> Result<Response> {
    let role = parse_role(&form.role)
        .ok_or_else(|| AppError::BadRequest("choose the role admin or agent".into()))?;
    let mut tx = state.db.begin().await?;
    accounts::set_role(&mut tx, agent.tenant_id, agent.user_id, id, role)
        .await?
        .map_err(refusal)?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/team").into_response())
}

async fn team_page(
    state: &AppState,
    agent: Agent,
    form: InviteForm,
    errors: Vec<FieldError>,
) -> Result<TeamPage> {
    let mut conn = state.db.acquire().await?;
    let members = accounts::members(&mut conn, agent.tenant_id).await?;
    Ok(TeamPage {
        agent,
        members,
        form,
        errors,
    })
}

fn parse_role(role: &str) -> Option<Role> {
    match role {
        "admin" => Some(Role::Admin),
        "agent" => Some(Role::Agent),
        _ => None,
    }
}

/// The page that shows a one-time link, once.
fn link_page(
    state: &AppState,
    agent: Agent,
    heading: String,
    instructions: &str,
    token: &str,
    valid: std::time::Duration,
) -> Result<Response> {
    let page = LinkPage {
        agent,
        heading,
        instructions: instructions.to_owned(),
        link: format!("{}/account/{token}", state.config.public_url),
        valid_for: lifetime(valid),
    };
    Ok(render(&page)?.into_response())
}

/// "7 days", "24 hours".
fn lifetime(lifetime: std::time::Duration) -> String {
    match lifetime.as_secs() / 3600 {
        hours if hours > 24 && hours % 24 == 0 => format!("{} days", hours / 24),
        hours => format!("{hours} hours"),
    }
}

/// A refusal as the error page answers it: another tenant's member is not found.
fn refusal(refused: Refused) -> AppError {
    match refused {
        Refused::NotFound => AppError::NotFound,
        other => AppError::Conflict(sentence(&other.to_string())),
    }
}
