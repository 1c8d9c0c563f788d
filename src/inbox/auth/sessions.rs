//! Server-side sessions in PostgreSQL, so that any instance serves any request. The browser holds a
//! random token; the table holds its SHA-256 (a copy of the table signs nobody in). A session ends
//! after [`IDLE`] without a request, [`ABSOLUTE`] after sign-in, or at sign-out; a sign-in always
//! starts a new one (the id is rotated).

use std::time::Duration;

use anyhow::Context;
use sqlx::{PgConnection, PgPool};

pub use crate::crypto::tokens::{random_token, token_hash};
use crate::domain::{
    ids::{TenantId, UserId},
    users::Role,
};

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(12 * 3600);
/// A session ends this long after sign-in, however active.
pub const ABSOLUTE: Duration = Duration::from_secs(7 * 24 * 3600);
/// `last_seen_at` is written at most this often per session, not on every request.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Agent {
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub tenant_name: String,
    /// The session's CSRF token, for the forms of the pages it renders.
    pub csrf_token: String,
}

/// Starts a session for `user_id`; returns the token for the cookie.
pub async fn create(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user_id: UserId,
) -> anyhow::Result<String> {
    let token = random_token();
    sqlx::query!(
        "insert into sessions (token_hash, tenant_id, user_id, csrf_token) values ($1, $2, $3, $4)",
        token_hash(&token),
        tenant_id as TenantId,
        user_id as UserId,
        random_token()
    )
    .execute(conn)
    .await
    .context("create session")?;
    Ok(token)
}

/// The agent of a live session, and records the request (at most once per [`TOUCH_EVERY`]).
pub async fn load(db: &PgPool, token: &str) -> anyhow::Result<Option<Agent>> {
    let hash = token_hash(token);
    let row = sqlx::query!(
        r#"select s.user_id as "user_id: UserId", s.tenant_id as "tenant_id: TenantId",
                  s.csrf_token, u.name, u.email, u.role as "role: Role", t.name as tenant_name,
                  s.last_seen_at < now() - make_interval(secs => $4) as "stale!"
           from sessions s
           join users u on u.tenant_id = s.tenant_id and u.id = s.user_id
           join tenants t on t.id = s.tenant_id
           where s.token_hash = $1 and u.deactivated_at is null
             and s.last_seen_at > now() - make_interval(secs => $2)
             and s.created_at > now() - make_interval(secs => $3)"#,
        hash,
        IDLE.as_secs_f64(),
        ABSOLUTE.as_secs_f64(),
        TOUCH_EVERY.as_secs_f64()
    )
    .fetch_optional(db)
    .await
    .context("load session")?;
    let Some(row) = row else {
        return Ok(None);
    };
    if row.stale {
        sqlx::query!(
            "update sessions set last_seen_at = now() where token_hash = $1",
            hash
        )
        .execute(db)
        .await
        .context("touch session")?;
    }
    Ok(Some(Agent {
        user_id: row.user_id,
        tenant_id: row.tenant_id,
        name: row.name,
        email: row.email,
        role: row.role,
        tenant_name: row.tenant_name,
        csrf_token: row.csrf_token,
    }))
}

/// Ends the session with this token (sign-out, or rotation at sign-in).
pub async fn delete(db: &PgPool, token: &str) -> anyhow::Result<()> {
    sqlx::query!(
        "delete from sessions where token_hash = $1",
        token_hash(token)
    )
    .execute(db)
    .await
    .context("delete session")?;
    Ok(())
}

/// Deletes sessions that can no longer be used; returns how many.
pub async fn prune(db: &PgPool) -> anyhow::Result<u64> {
    let deleted = sqlx::query!(
        "delete from sessions where last_seen_at < now() - make_interval(secs => $1)
            or created_at < now() - make_interval(secs => $2)",
        IDLE.as_secs_f64(),
        ABSOLUTE.as_secs_f64()
    )
    .execute(db)
    .await
    .context("prune sessions")?;
    Ok(deleted.rows_affected())
}
