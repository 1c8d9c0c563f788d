//! The console's list of templates with what each achieved: sent, delivered, read, failed (by
//! error code), replies within 24 hours, and the time from submission to approval. Counted from
//! the messages sent with the template since a given time, through `messages_by_template`.

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgConnection;

use super::{TemplateCategory, TemplateStatus};
use crate::domain::ids::{TemplateId, TenantId};

/// A template with its figures.
#[derive(Debug, Clone)]
pub struct TemplateFigures {
    pub id: TemplateId,
    pub waba_id: String,
    pub name: String,
    pub language: String,
    pub category: Option<TemplateCategory>,
    pub status: TemplateStatus,
    /// Meta's reason for a rejection, pause or disabling.
    pub status_reason: Option<String>,
    /// GREEN, YELLOW, RED or UNKNOWN.
    pub quality_score: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    /// Meta's definition, and whether its variables are named.
    pub components: serde_json::Value,
    pub parameter_format: String,
    /// Accepted by Meta.
    pub sent: i64,
    /// Delivered to the customer's phone (read ones included).
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    /// Answered by the customer within 24 hours of being sent.
    pub replied: i64,
}

impl TemplateFigures {
    /// From submission through Switchboard to Meta's approval.
    pub fn approval_time(&self) -> Option<TimeDelta> {
        Some(self.approved_at? - self.submitted_at?).filter(|took| *took >= TimeDelta::zero())
    }
}

/// The tenant's templates by name and language, with the figures of their messages created since
/// `since`.
pub async fn list(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    since: DateTime<Utc>,
) -> anyhow::Result<Vec<TemplateFigures>> {
    sqlx::query_as!(
        TemplateFigures,
        r#"select t.id as "id: TemplateId", t.waba_id, t.name, t.language,
                  t.category as "category: TemplateCategory",
                  t.status as "status: TemplateStatus", t.status_reason, t.quality_score,
                  t.submitted_at, t.approved_at, t.components, t.parameter_format,
                  f.sent as "sent!", f.delivered as "delivered!", f.read as "read!",
                  f.failed as "failed!", f.replied as "replied!"
           from message_templates t
           cross join lateral (
               select count(*) filter (where m.sent_at is not null) as sent,
                      count(*) filter (where m.status in ('delivered', 'read', 'played'))
                          as delivered,
                      count(*) filter (where m.status in ('read', 'played')) as read,
                      count(*) filter (where m.status = 'failed') as failed,
                      count(*) filter (where m.sent_at is not null and (
                          select r.created_at from messages r
                          where r.conversation_id = m.conversation_id
                            and r.direction = 'inbound' and r.id > m.id
                          order by r.id
                          limit 1) <= m.sent_at + interval '24 hours') as replied
               from messages m
               where m.template_id = t.id and m.created_at >= $2
           ) f
           where t.tenant_id = $1
           order by t.name, t.language"#,
        tenant_id as TenantId,
        since
    )
    .fetch_all(conn)
    .await
    .context("list templates with their figures")
}

/// Failed sends of one template, by Meta's error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures {
    pub template_id: TemplateId,
    /// `None` when Meta gave no code (e.g. we could not reach it).
    pub code: Option<i32>,
    pub count: i64,
}

/// The tenant's failed template sends since `since`, by template and code, most frequent first.
pub async fn failures(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    since: DateTime<Utc>,
) -> anyhow::Result<Vec<Failures>> {
    sqlx::query_as!(
        Failures,
        r#"select m.template_id as "template_id!: TemplateId", m.error_code as code,
                  count(*) as "count!"
           from messages m
           where m.tenant_id = $1 and m.status = 'failed' and m.created_at >= $2
             and m.template_id is not null
           group by m.template_id, m.error_code
           order by count(*) desc, m.error_code"#,
        tenant_id as TenantId,
        since
    )
    .fetch_all(conn)
    .await
    .context("count failed template sends")
}
