//! Labels as admins manage them: tenant-wide names that agents put on conversations (created
//! inline from a conversation, see `teamwork`), renamed or deleted here. Deleting a label takes it
//! off every conversation. Both audited.

use anyhow::Context;
use serde_json::json;
use sqlx::PgConnection;

use super::{
    audit,
    events::{self, Kind},
    ids::{ConversationId, LabelId, TenantId, UserId},
};

/// The longest label name (the table's check).
const MAX_NAME: usize = 40;

/// A label with how many conversations carry it.
pub struct LabelSummary {
    pub id: LabelId,
    pub name: String,
    pub conversations: i64,
}

/// Why a label was not renamed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelRefused {
    #[error("a label has 1 to 40 characters")]
    BadName,
    #[error("there is already a label {0:?}")]
    Taken(String),
}

/// The tenant's labels by name, with their conversation counts.
pub async fn summaries(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> anyhow::Result<Vec<LabelSummary>> {
    sqlx::query_as!(
        LabelSummary,
        r#"select l.id as "id: LabelId", l.name,
                  (select count(*) from conversation_labels cl
                   where cl.tenant_id = l.tenant_id and cl.label_id = l.id) as "conversations!"
           from labels l where l.tenant_id = $1 order by lower(l.name)"#,
        tenant_id as TenantId
    )
    .fetch_all(conn)
    .await
    .context("list labels")
}

/// Renames the tenant's label; `None` when it is not the tenant's.
pub async fn rename(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
    id: LabelId,
    name: &str,
) -> anyhow::Result<Option<Result<(), LabelRefused>>> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Ok(Some(Err(LabelRefused::BadName)));
    }
    let taken = sqlx::query_scalar!(
        r#"select true as "taken!" from labels
           where tenant_id = $1 and lower(name) = lower($2) and id <> $3"#,
        tenant_id as TenantId,
        name,
        id as LabelId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("look for a label of that name")?;
    if taken.is_some() {
        return Ok(Some(Err(LabelRefused::Taken(name.to_owned()))));
    }
    let old = sqlx::query_scalar!(
        r#"update labels l set name = $3 from labels old
           where l.tenant_id = $1 and l.id = $2 and old.tenant_id = l.tenant_id and old.id = l.id
           returning old.name"#,
        tenant_id as TenantId,
        id as LabelId,
        name
    )
    .fetch_optional(&mut *conn)
    .await
    .context("rename label")?;
    let Some(old) = old else {
        return Ok(None);
    };
    announce_all(conn, tenant_id, id).await?;
    let details = json!({ "from": old, "to": name });
    audit::record(conn, tenant_id, Some(by), "label.rename", details).await?;
    Ok(Some(Ok(())))
}

/// Deletes the tenant's label, taking it off every conversation; returns how many carried it.
/// `None` when it is not the tenant's.
pub async fn delete(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
    id: LabelId,
) -> anyhow::Result<Option<i64>> {
    let conversations = announce_all(conn, tenant_id, id).await?;
    let name = sqlx::query_scalar!(
        "delete from labels where tenant_id = $1 and id = $2 returning name",
        tenant_id as TenantId,
        id as LabelId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("delete label")?;
    let Some(name) = name else {
        return Ok(None);
    };
    let details = json!({ "name": name, "conversations": conversations });
    audit::record(conn, tenant_id, Some(by), "label.delete", details).await?;
    Ok(Some(conversations))
}

/// Tells the open pages of every conversation carrying the label that its labels changed.
async fn announce_all(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: LabelId,
) -> anyhow::Result<i64> {
    let carrying = sqlx::query_scalar!(
        r#"select conversation_id as "id: ConversationId" from conversation_labels
           where tenant_id = $1 and label_id = $2"#,
        tenant_id as TenantId,
        id as LabelId
    )
    .fetch_all(&mut *conn)
    .await
    .context("find the label's conversations")?;
    for conversation_id in &carrying {
        events::announce(conn, tenant_id, *conversation_id, None, &[Kind::Labels]).await?;
    }
    Ok(i64::try_from(carrying.len()).unwrap_or(i64::MAX))
}
