//! Agents (and programs, with an API key) working a conversation together: assigning it, moving it between open, pending and
//! resolved, labelling it, and leaving private notes (never sent to WhatsApp). Each change is a
//! timeline event with who and when (`conversation_events`), is announced to open pages, and the
//! ones an admin may need to trace (assignment, status) are also in the audit trail. Every
//! statement is scoped by tenant; a conversation, user or label of another tenant is "not found".

use anyhow::Context;
use serde_json::json;
use sqlx::PgConnection;

use super::{
    audit,
    conversations::ConversationStatus,
    events::{self, Kind},
    ids::{ApiKeyId, ConversationId, LabelId, TenantId, UserId},
    messages::SentBy,
};

/// Who makes a change (an agent in the inbox, or a program with its API key), in which tenant.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub tenant_id: TenantId,
    pub by: SentBy,
}

/// What a change found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Changed,
    /// Already so: nothing written, nothing announced.
    Unchanged,
    /// No such conversation (or user, or label) in the actor's tenant.
    NotFound,
}

/// Assigns the conversation to `assignee` (`None`: to nobody).
pub async fn assign(
    conn: &mut PgConnection,
    actor: Actor,
    conversation_id: ConversationId,
    assignee: Option<UserId>,
) -> anyhow::Result<Outcome> {
    let assignee_name = match assignee {
        Some(user) => match user_name(conn, actor.tenant_id, user).await? {
            Some(name) => Some(name),
            None => return Ok(Outcome::NotFound),
        },
        None => None,
    };
    let changed = sqlx::query_scalar!(
        r#"update conversations set assignee_id = $3, updated_at = now()
           where tenant_id = $1 and id = $2 and assignee_id is distinct from $3
           returning id as "id: ConversationId""#,
        actor.tenant_id as TenantId,
        conversation_id as ConversationId,
        assignee as Option<UserId>
    )
    .fetch_optional(&mut *conn)
    .await
    .context("assign conversation")?;
    if changed.is_none() {
        return exists_or_not(conn, actor.tenant_id, conversation_id).await;
    }
    let by_themselves = matches!(actor.by, SentBy::Agent(user) if assignee == Some(user));
    let (kind, body) = match (&assignee_name, by_themselves) {
        (Some(_), true) => ("assigned", "assigned this to themselves".to_owned()),
        (Some(name), false) => ("assigned", format!("assigned this to {name}")),
        (None, _) => ("unassigned", "unassigned this".to_owned()),
    };
    record(conn, actor, conversation_id, kind, &body, Kind::Assignment).await?;
    let details = json!({ "conversation_id": conversation_id, "assignee_id": assignee });
    audit::record_by(
        conn,
        actor.tenant_id,
        actor.by,
        "conversation.assign",
        details,
    )
    .await?;
    Ok(Outcome::Changed)
}

/// Moves the conversation to `status`.
pub async fn set_status(
    conn: &mut PgConnection,
    actor: Actor,
    conversation_id: ConversationId,
    status: ConversationStatus,
) -> anyhow::Result<Outcome> {
    let changed = sqlx::query_scalar!(
        r#"update conversations set status = $3, updated_at = now()
           where tenant_id = $1 and id = $2 and status <> $3
           returning id as "id: ConversationId""#,
        actor.tenant_id as TenantId,
        conversation_id as ConversationId,
        status as ConversationStatus
    )
    .fetch_optional(&mut *conn)
    .await
    .context("set conversation status")?;
    if changed.is_none() {
        return exists_or_not(conn, actor.tenant_id, conversation_id).await;
    }
    let body = match status {
        ConversationStatus::Open => "reopened this",
        ConversationStatus::Pending => "marked this pending",
        ConversationStatus::Resolved => "resolved this",
    };
    record(
        conn,
        actor,
        conversation_id,
        "status",
        body,
        Kind::ConversationStatus,
    )
    .await?;
    let details = json!({ "conversation_id": conversation_id, "status": status.as_str() });
    audit::record_by(
        conn,
        actor.tenant_id,
        actor.by,
        "conversation.status",
        details,
    )
    .await?;
    Ok(Outcome::Changed)
}

/// The longest note accepted.
pub const NOTE_LIMIT: usize = 4096;

/// Adds a private note.
pub async fn add_note(
    conn: &mut PgConnection,
    actor: Actor,
    conversation_id: ConversationId,
    body: &str,
) -> anyhow::Result<Outcome> {
    if exists_or_not(conn, actor.tenant_id, conversation_id).await? == Outcome::NotFound {
        return Ok(Outcome::NotFound);
    }
    record(
        conn,
        actor,
        conversation_id,
        "note",
        body.trim(),
        Kind::Timeline,
    )
    .await?;
    Ok(Outcome::Changed)
}

/// The longest label name (`labels.name`).
pub const LABEL_LIMIT: usize = 40;

/// Puts the label `name` on the conversation, creating the label if the tenant has none by that
/// name (any case).
pub async fn add_label(
    conn: &mut PgConnection,
    actor: Actor,
    conversation_id: ConversationId,
    name: &str,
) -> anyhow::Result<Outcome> {
    if exists_or_not(conn, actor.tenant_id, conversation_id).await? == Outcome::NotFound {
        return Ok(Outcome::NotFound);
    }
    let name = name.trim();
    let label = sqlx::query!(
        r#"with created as (
               insert into labels (tenant_id, name) values ($1, $2)
               on conflict (tenant_id, lower(name)) do nothing
               returning id, name
           )
           select id as "id!: LabelId", name as "name!" from created
           union all
           select id, name from labels where tenant_id = $1 and lower(name) = lower($2)
           limit 1"#,
        actor.tenant_id as TenantId,
        name
    )
    .fetch_one(&mut *conn)
    .await
    .context("find or create label")?;
    let added = sqlx::query!(
        "insert into conversation_labels (tenant_id, conversation_id, label_id) values ($1, $2, $3)
         on conflict do nothing",
        actor.tenant_id as TenantId,
        conversation_id as ConversationId,
        label.id as LabelId
    )
    .execute(&mut *conn)
    .await
    .context("label conversation")?;
    if added.rows_affected() == 0 {
        return Ok(Outcome::Unchanged);
    }
    let body = format!("added the label {}", label.name);
    record(
        conn,
        actor,
        conversation_id,
        "label_added",
        &body,
        Kind::Labels,
    )
    .await?;
    Ok(Outcome::Changed)
}

/// Takes the label off the conversation.
pub async fn remove_label(
    conn: &mut PgConnection,
    actor: Actor,
    conversation_id: ConversationId,
    label_id: LabelId,
) -> anyhow::Result<Outcome> {
    let removed = sqlx::query_scalar!(
        r#"delete from conversation_labels cl using labels l
           where cl.tenant_id = $1 and cl.conversation_id = $2 and cl.label_id = $3
             and l.tenant_id = cl.tenant_id and l.id = cl.label_id
           returning l.name"#,
        actor.tenant_id as TenantId,
        conversation_id as ConversationId,
        label_id as LabelId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("unlabel conversation")?;
    let Some(name) = removed else {
        return exists_or_not(conn, actor.tenant_id, conversation_id).await;
    };
    let body = format!("removed the label {name}");
    record(
        conn,
        actor,
        conversation_id,
        "label_removed",
        &body,
        Kind::Labels,
    )
    .await?;
    Ok(Outcome::Changed)
}

/// How long an open page counts as viewing after its last heartbeat.
pub const VIEWING_FOR: std::time::Duration = std::time::Duration::from_secs(45);

/// Records that the agent `user_id` has the conversation open; announced when they were not
/// viewing it already, so other agents see "Ana is viewing" at once.
pub async fn viewing(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user_id: UserId,
    conversation_id: ConversationId,
) -> anyhow::Result<Outcome> {
    let arrived = sqlx::query_scalar!(
        r#"insert into conversation_viewers as v (tenant_id, conversation_id, user_id)
           select c.tenant_id, c.id, $3 from conversations c where c.tenant_id = $1 and c.id = $2
           on conflict (conversation_id, user_id) do update set seen_at = now()
           returning (xmax = 0 or v.seen_at < now() - make_interval(secs => $4)) as "arrived!""#,
        tenant_id as TenantId,
        conversation_id as ConversationId,
        user_id as UserId,
        VIEWING_FOR.as_secs_f64()
    )
    .fetch_optional(&mut *conn)
    .await
    .context("record viewer")?;
    match arrived {
        None => Ok(Outcome::NotFound),
        Some(true) => {
            events::announce(conn, tenant_id, conversation_id, None, &[Kind::Viewers]).await?;
            Ok(Outcome::Changed)
        }
        Some(false) => Ok(Outcome::Unchanged),
    }
}

/// Forgets viewers gone for a day or more; returns how many.
pub async fn prune_viewers(db: &sqlx::PgPool) -> anyhow::Result<u64> {
    let deleted =
        sqlx::query!("delete from conversation_viewers where seen_at < now() - interval '1 day'")
            .execute(db)
            .await
            .context("prune viewers")?;
    Ok(deleted.rows_affected())
}

/// Who besides the agent `user_id` has the conversation open now, by name.
pub async fn viewers(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user_id: UserId,
    conversation_id: ConversationId,
) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"select u.name from conversation_viewers v
           join users u on u.tenant_id = v.tenant_id and u.id = v.user_id
           where v.tenant_id = $1 and v.conversation_id = $2 and v.user_id <> $3
             and v.seen_at > now() - make_interval(secs => $4)
           order by v.seen_at"#,
        tenant_id as TenantId,
        conversation_id as ConversationId,
        user_id as UserId,
        VIEWING_FOR.as_secs_f64()
    )
    .fetch_all(conn)
    .await
    .context("list viewers")
}

/// The tenant's users, by name, for the assignee picker.
pub async fn agents(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> anyhow::Result<Vec<(UserId, String)>> {
    let rows = sqlx::query!(
        r#"select id as "id: UserId", name from users where tenant_id = $1 order by lower(name), id"#,
        tenant_id as TenantId
    )
    .fetch_all(conn)
    .await
    .context("list agents")?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// A timeline event, announced with `kind` (and as a timeline change).
async fn record(
    conn: &mut PgConnection,
    actor: Actor,
    conversation_id: ConversationId,
    event: &str,
    body: &str,
    kind: Kind,
) -> anyhow::Result<()> {
    sqlx::query!(
        "insert into conversation_events (tenant_id, conversation_id, user_id, api_key_id, kind,
                                          body)
         values ($1, $2, $3, $4, $5, $6)",
        actor.tenant_id as TenantId,
        conversation_id as ConversationId,
        actor.by.user_id() as Option<UserId>,
        actor.by.api_key_id() as Option<ApiKeyId>,
        event,
        body
    )
    .execute(&mut *conn)
    .await
    .context("record timeline event")?;
    let kinds: &[Kind] = if kind == Kind::Timeline {
        &[Kind::Timeline]
    } else {
        &[kind, Kind::Timeline]
    };
    events::announce(conn, actor.tenant_id, conversation_id, None, kinds).await
}

async fn user_name(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user_id: UserId,
) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar!(
        "select name from users where tenant_id = $1 and id = $2",
        tenant_id as TenantId,
        user_id as UserId
    )
    .fetch_optional(conn)
    .await
    .context("look up user")
}

async fn exists_or_not(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
) -> anyhow::Result<Outcome> {
    let exists = sqlx::query_scalar!(
        r#"select exists (select 1 from conversations where tenant_id = $1 and id = $2) as "e!""#,
        tenant_id as TenantId,
        conversation_id as ConversationId
    )
    .fetch_one(conn)
    .await
    .context("look up conversation")?;
    Ok(if exists {
        Outcome::Unchanged
    } else {
        Outcome::NotFound
    })
}
