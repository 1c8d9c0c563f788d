//! The team's accounts as admins manage them: invitations and password resets by one-time link
//! (Switchboard sends no e-mail, so the admin hands the link over), roles, deactivation (which
//! ends every session of the user at once) and who is online. A link's token is stored only as
//! its SHA-256, serves one user of one tenant, expires, and is spent by its first use; issuing a
//! new one for a user voids the old. Every change is audited, with the admin who made it.

use std::time::Duration;

use anyhow::Context;
use secrecy::SecretString;
use serde_json::json;
use sqlx::PgConnection;

use super::{
    audit,
    ids::{TenantId, UserId},
    users::{self, NewUser, Role},
};
use crate::crypto::tokens::{random_token, token_hash};

/// How long an invitation can be accepted.
pub const INVITE_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a password reset link works.
pub const RESET_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A member with a session seen this recently is shown online.
const ONLINE_WITHIN: Duration = Duration::from_secs(5 * 60);

/// What a one-time link is for (`account_links.purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum LinkPurpose {
    /// A new member chooses a password.
    Invite,
    /// A member chooses a new password.
    Reset,
}

impl LinkPurpose {
    fn lifetime(self) -> Duration {
        match self {
            Self::Invite => INVITE_LIFETIME,
            Self::Reset => RESET_LIFETIME,
        }
    }
}

/// A member of the team, as the team page lists them.
pub struct Member {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub deactivated: bool,
    pub online: bool,
    /// Invited, and the invitation not yet accepted.
    pub invited: bool,
}

/// The tenant's members: active ones first, by name.
pub async fn members(conn: &mut PgConnection, tenant_id: TenantId) -> anyhow::Result<Vec<Member>> {
    sqlx::query_as!(
        Member,
        r#"select u.id as "id: UserId", u.name, u.email, u.role as "role: Role",
                  u.deactivated_at is not null as "deactivated!",
                  exists (select 1 from sessions s
                          where s.tenant_id = u.tenant_id and s.user_id = u.id
                            and s.last_seen_at > now() - make_interval(secs => $2)) as "online!",
                  exists (select 1 from account_links l
                          where l.tenant_id = u.tenant_id and l.user_id = u.id
                            and l.purpose = 'invite' and l.expires_at > now()) as "invited!"
           from users u
           where u.tenant_id = $1
           order by u.deactivated_at is not null, lower(u.name), u.id"#,
        tenant_id as TenantId,
        ONLINE_WITHIN.as_secs_f64()
    )
    .fetch_all(conn)
    .await
    .context("list the team")
}

/// Why an admin's change was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("someone with the e-mail {0} already has an account")]
    EmailTaken(String),
    #[error("{0:?} is not an e-mail address")]
    NotAnEmail(String),
    /// Admins cannot lock themselves out (nor leave the team without an admin).
    #[error("you cannot change your own account here")]
    OwnAccount,
    /// No such member in this tenant (or, for a reset, not an active one).
    #[error("no such member")]
    NotFound,
}

/// Invites `email` as `role`: creates the account (unusable until its password is chosen) and
/// returns it with the invitation's token.
pub async fn invite(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
    email: &str,
    name: &str,
    role: Role,
) -> anyhow::Result<Result<(UserId, String), Refused>> {
    let email = email.trim();
    if !email.contains('@') || email.len() > 254 {
        return Ok(Err(Refused::NotAnEmail(email.to_owned())));
    }
    let taken = sqlx::query_scalar!(
        r#"select exists (select 1 from users where lower(email) = lower($1)) as "taken!""#,
        email
    )
    .fetch_one(&mut *conn)
    .await
    .context("look for the e-mail address")?;
    if taken {
        return Ok(Err(Refused::EmailTaken(email.to_owned())));
    }
    // Nobody knows this password; the invitation sets the real one.
    let placeholder = SecretString::from(random_token());
    let user = NewUser {
        email,
        name,
        role,
        password: &placeholder,
    };
    let user_id = users::create(conn, tenant_id, &user).await?;
    let token = issue_link(conn, tenant_id, by, user_id, LinkPurpose::Invite).await?;
    let details = json!({ "user_id": user_id, "email": email, "role": role.as_str() });
    audit::record(conn, tenant_id, Some(by), "user.invite", details).await?;
    Ok(Ok((user_id, token)))
}

/// A password reset link for an active member, with the member's name; voids the member's
/// earlier links.
pub async fn reset_link(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
    user_id: UserId,
) -> anyhow::Result<Result<(String, String), Refused>> {
    let name = sqlx::query_scalar!(
        "select name from users where tenant_id = $1 and id = $2 and deactivated_at is null",
        tenant_id as TenantId,
        user_id as UserId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("find the member")?;
    let Some(name) = name else {
        return Ok(Err(Refused::NotFound));
    };
    let token = issue_link(conn, tenant_id, by, user_id, LinkPurpose::Reset).await?;
    audit::record(
        conn,
        tenant_id,
        Some(by),
        "user.password_reset_link",
        json!({ "user_id": user_id }),
    )
    .await?;
    Ok(Ok((name, token)))
}

/// Deactivates a member (every session ends at once, open links are voided) or activates them
/// again; a member already in that state is left as is.
pub async fn set_active(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
    user_id: UserId,
    active: bool,
) -> anyhow::Result<Result<(), Refused>> {
    if user_id == by {
        return Ok(Err(Refused::OwnAccount));
    }
    let changed = sqlx::query_scalar!(
        r#"update users set deactivated_at = case when $3 then null else now() end
           where tenant_id = $1 and id = $2
           returning (deactivated_at is null) as "active!""#,
        tenant_id as TenantId,
        user_id as UserId,
        active
    )
    .fetch_optional(&mut *conn)
    .await
    .context("change the member's access")?;
    if changed.is_none() {
        return Ok(Err(Refused::NotFound));
    }
    if !active {
        sqlx::query!(
            "with ended as (delete from sessions where tenant_id = $1 and user_id = $2)
             delete from account_links where tenant_id = $1 and user_id = $2",
            tenant_id as TenantId,
            user_id as UserId
        )
        .execute(&mut *conn)
        .await
        .context("end the member's sessions")?;
    }
    let action = if active {
        "user.reactivate"
    } else {
        "user.deactivate"
    };
    audit::record(
        conn,
        tenant_id,
        Some(by),
        action,
        json!({ "user_id": user_id }),
    )
    .await?;
    Ok(Ok(()))
}

/// Gives a member another role.
pub async fn set_role(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
    user_id: UserId,
    role: Role,
) -> anyhow::Result<Result<(), Refused>> {
    if user_id == by {
        return Ok(Err(Refused::OwnAccount));
    }
    let before = sqlx::query_scalar!(
        r#"update users u set role = $3 from users old
           where u.tenant_id = $1 and u.id = $2 and old.tenant_id = u.tenant_id and old.id = u.id
           returning old.role as "role: Role""#,
        tenant_id as TenantId,
        user_id as UserId,
        role as Role
    )
    .fetch_optional(&mut *conn)
    .await
    .context("change the member's role")?;
    let Some(before) = before else {
        return Ok(Err(Refused::NotFound));
    };
    if before != role {
        let details = json!({ "user_id": user_id, "from": before.as_str(), "to": role.as_str() });
        audit::record(conn, tenant_id, Some(by), "user.role", details).await?;
    }
    Ok(Ok(()))
}

/// Whom a live link is for.
pub struct LinkHolder {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub purpose: LinkPurpose,
}

/// The holder of a link that can still be used (not spent, not expired, its member active).
pub async fn link(conn: &mut PgConnection, token: &str) -> anyhow::Result<Option<LinkHolder>> {
    sqlx::query_as!(
        LinkHolder,
        r#"select l.tenant_id as "tenant_id: TenantId", l.user_id as "user_id: UserId", u.name,
                  u.email, l.purpose as "purpose: LinkPurpose"
           from account_links l
           join users u on u.tenant_id = l.tenant_id and u.id = l.user_id
           where l.token_hash = $1 and l.expires_at > now() and u.deactivated_at is null"#,
        token_hash(token)
    )
    .fetch_optional(conn)
    .await
    .context("find the link")
}

/// Spends a link: sets its member's password and ends their other sessions. `None` when the link
/// cannot be used (spent meanwhile, expired, or its member deactivated).
pub async fn spend_link(
    conn: &mut PgConnection,
    token: &str,
    password: SecretString,
) -> anyhow::Result<Option<LinkHolder>> {
    let Some(holder) = sqlx::query_as!(
        LinkHolder,
        r#"delete from account_links l using users u
           where l.token_hash = $1 and l.expires_at > now()
             and u.tenant_id = l.tenant_id and u.id = l.user_id and u.deactivated_at is null
           returning l.tenant_id as "tenant_id: TenantId", l.user_id as "user_id: UserId", u.name,
                     u.email, l.purpose as "purpose: LinkPurpose""#,
        token_hash(token)
    )
    .fetch_optional(&mut *conn)
    .await
    .context("spend the link")?
    else {
        return Ok(None);
    };
    let hash = users::hash_password(password).await?;
    sqlx::query!(
        "with ended as (delete from sessions where tenant_id = $1 and user_id = $2)
         update users set password_hash = $3 where tenant_id = $1 and id = $2",
        holder.tenant_id as TenantId,
        holder.user_id as UserId,
        hash
    )
    .execute(&mut *conn)
    .await
    .context("set the password")?;
    let action = match holder.purpose {
        LinkPurpose::Invite => "user.invite_accepted",
        LinkPurpose::Reset => "user.password_reset",
    };
    let details = json!({ "user_id": holder.user_id });
    audit::record(
        conn,
        holder.tenant_id,
        Some(holder.user_id),
        action,
        details,
    )
    .await?;
    Ok(Some(holder))
}

/// Stores a new link for the member, voiding their earlier ones; returns its token.
async fn issue_link(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
    user_id: UserId,
    purpose: LinkPurpose,
) -> anyhow::Result<String> {
    let token = random_token();
    sqlx::query!(
        "with voided as (delete from account_links where tenant_id = $1 and user_id = $2)
         insert into account_links (token_hash, tenant_id, user_id, purpose, created_by, expires_at)
         values ($3, $1, $2, $4, $5, now() + make_interval(secs => $6))",
        tenant_id as TenantId,
        user_id as UserId,
        token_hash(&token),
        purpose as LinkPurpose,
        by as UserId,
        purpose.lifetime().as_secs_f64()
    )
    .execute(conn)
    .await
    .context("store the link")?;
    Ok(token)
}

/// Deletes invitation and reset links past their expiry; returns how many.
pub async fn prune_links(db: &sqlx::PgPool) -> anyhow::Result<u64> {
    let deleted = sqlx::query!("delete from account_links where expires_at < now()")
        .execute(db)
        .await
        .context("prune expired account links")?;
    Ok(deleted.rows_affected())
}
