//! `/{version}/{waba_id}/message_templates`: the WABA's templates as Meta lists them (from
//! `message_templates`, paged by cursor, filtered by `name` and `status`, counted with
//! `summary`), creating one (answered `PENDING`, then reviewed by
//! webhook: approved, or rejected as INVALID_FORMAT when its name contains "reject"), editing one
//! (`POST /{version}/{template_id}`, reviewed the same way), and deleting one by name. Switchboard keeps `message_templates`; the fake only reads it.
//! <https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates/>

use std::time::Duration;

use anyhow::Context;
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sqlx::PgConnection;

use super::template_params::placeholder_names;
use crate::{
    domain::{
        ids::{TemplateId, TenantId},
        templates::TemplateCategory,
    },
    http::extract::{Json, Path, Query},
    sandbox::{
        FakeGraph, ids, numbers,
        webhooks::{self, Review},
    },
    whatsapp::envelope::MetaError,
};

/// How long Meta's review of a new template takes here.
const REVIEW_DELAY: Duration = Duration::from_millis(100);
const DEFAULT_LIMIT: i64 = 25;
const MAX_LIMIT: i64 = 1000;
const CATEGORIES: &[&str] = &["AUTHENTICATION", "MARKETING", "UTILITY"];
/// How many templates Meta lets a WABA of an unverified business have.
const TEMPLATE_LIMIT: i64 = 250;

#[derive(Deserialize)]
pub(super) struct ListQuery {
    limit: Option<i64>,
    after: Option<String>,
    /// Only templates with this name (Meta matches it exactly here).
    name: Option<String>,
    /// Only templates with one of these statuses (comma-separated).
    status: Option<String>,
    /// `total_count` adds the number of templates listed, as `summary`.
    summary: Option<String>,
}

/// A page of the WABA's templates, oldest first.
pub(super) async fn list_templates(
    State(fake): State<FakeGraph>,
    Path((version, waba_id)): Path<(String, String)>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, MetaError> {
    let number = numbers::by_waba(&fake, &Method::GET, &waba_id, &headers).await?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let after = query
        .after
        .as_deref()
        .map(cursor_id)
        .transpose()?
        .unwrap_or(TemplateId::new(0));
    let statuses: Option<Vec<String>> = query.status.as_deref().map(|statuses| {
        statuses
            .split(',')
            .map(|status| status.trim().to_uppercase())
            .collect()
    });
    let filter = Filter {
        name: query.name.as_deref(),
        statuses: statuses.as_deref(),
    };
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    let mut rows = page(
        &mut conn,
        number.tenant_id,
        &waba_id,
        &filter,
        after,
        limit + 1,
    )
    .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let summary = match query.summary.as_deref() {
        Some(fields) => {
            Some(summary(&mut conn, number.tenant_id, &waba_id, &filter, fields).await?)
        }
        None => None,
    };
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        let mut empty = json!({ "data": [] });
        if let Some(summary) = summary {
            empty["summary"] = summary;
        }
        return Ok(Json(empty).into_response());
    };
    let mut paging = json!({ "cursors": { "before": cursor(first.id), "after": cursor(last.id) } });
    if more {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        next.append_pair("limit", &limit.to_string());
        next.append_pair("after", &cursor(last.id));
        for (name, value) in [("name", &query.name), ("status", &query.status)] {
            if let Some(value) = value {
                next.append_pair(name, value);
            }
        }
        let next = format!(
            "{}/{version}/{waba_id}/message_templates?{}",
            fake.public_url(),
            next.finish()
        );
        paging["next"] = json!(next);
    }
    let data: Vec<Value> = rows.into_iter().map(TemplateRow::into_json).collect();
    let mut answer = json!({ "data": data, "paging": paging });
    if let Some(summary) = summary {
        answer["summary"] = summary;
    }
    Ok(Json(answer).into_response())
}

/// Submits a template for review: `{"id", "status": "PENDING", "category"}` now, the verdict by
/// webhook shortly after.
pub(super) async fn create_template(
    State(fake): State<FakeGraph>,
    Path((_, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, MetaError> {
    let number = numbers::by_waba(&fake, &Method::POST, &waba_id, &headers).await?;
    let template = NewTemplate::parse(&body)?;
    let id = ids::object_id();
    let review = Review {
        number_id: number.id,
        meta_app_id: number.meta_app_id,
        waba_id,
        template_id: id.clone(),
        rejected: template.name.contains("reject").then_some("INVALID_FORMAT"),
        name: template.name,
        language: template.language,
        category: template.category.clone(),
    };
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    webhooks::schedule_review(&mut conn, review, REVIEW_DELAY).await?;
    Ok(
        Json(json!({ "id": id, "status": "PENDING", "category": template.category }))
            .into_response(),
    )
}

/// `POST /{version}/{template_id}`: edits a template's components (answered `success`, then
/// reviewed by webhook like a new one).
pub(super) async fn edit_template(
    State(fake): State<FakeGraph>,
    Path((_, template_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, MetaError> {
    let edit: Value =
        serde_json::from_slice(&body).map_err(|_| MetaError::required("components"))?;
    if !edit.get("components").is_some_and(Value::is_array) {
        return Err(MetaError::required("components"));
    }
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    let template = sqlx::query!(
        r#"select waba_id, name, language, coalesce(category, 'UTILITY') as "category!"
           from message_templates where meta_template_id = $1 and status <> 'DELETED' limit 1"#,
        template_id
    )
    .fetch_optional(&mut *conn)
    .await
    .context("look up template to edit")?
    .ok_or_else(|| MetaError::unsupported(&Method::POST, &template_id))?;
    drop(conn);
    let number = numbers::by_waba(&fake, &Method::POST, &template.waba_id, &headers).await?;
    let review = Review {
        number_id: number.id,
        meta_app_id: number.meta_app_id,
        waba_id: template.waba_id,
        template_id,
        rejected: template.name.contains("reject").then_some("INVALID_FORMAT"),
        name: template.name,
        language: template.language,
        category: template.category,
    };
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    webhooks::schedule_review(&mut conn, review, REVIEW_DELAY).await?;
    Ok(Json(json!({ "success": true })).into_response())
}

#[derive(Deserialize)]
pub(super) struct DeleteQuery {
    name: Option<String>,
    hsm_id: Option<String>,
}

/// Deletes a template by name (every language), or one of them by `hsm_id`.
pub(super) async fn delete_template(
    State(fake): State<FakeGraph>,
    Path((_, waba_id)): Path<(String, String)>,
    Query(query): Query<DeleteQuery>,
    headers: HeaderMap,
) -> Result<Response, MetaError> {
    let number = numbers::by_waba(&fake, &Method::DELETE, &waba_id, &headers).await?;
    let name = query.name.ok_or_else(|| MetaError::required("name"))?;
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    let hsm_id = query.hsm_id.as_deref();
    if !exists(&mut conn, number.tenant_id, &waba_id, &name, hsm_id).await? {
        return Err(MetaError::template_not_found(&name));
    }
    Ok(Json(json!({ "success": true })).into_response())
}

/// A create request's fields.
#[derive(Deserialize)]
struct NewTemplate {
    #[serde(default)]
    name: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    category: String,
}

impl NewTemplate {
    fn parse(body: &[u8]) -> Result<Self, MetaError> {
        let mut template: Self = serde_json::from_slice(body).map_err(|e| {
            MetaError::invalid_parameter(format!("Invalid JSON in request body: {e}"))
        })?;
        for (parameter, value) in [
            ("name", &template.name),
            ("language", &template.language),
            ("category", &template.category),
        ] {
            if value.is_empty() {
                return Err(MetaError::required(parameter));
            }
        }
        if !template
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(MetaError::invalid_parameter(
                "Template names may contain only lowercase letters, digits and underscores.",
            ));
        }
        template.category = template.category.to_ascii_uppercase();
        if TemplateCategory::from_meta(&template.category) == TemplateCategory::Unknown {
            return Err(MetaError::invalid_request(format!(
                "Param category must be one of {{{}}} - got \"{}\".",
                CATEGORIES.join(", "),
                template.category
            )));
        }
        Ok(template)
    }
}

/// A cursor names the row id it stands after (opaque to clients, as Meta's are).
fn cursor(id: TemplateId) -> String {
    hex::encode(id.to_string())
}

fn cursor_id(cursor: &str) -> Result<TemplateId, MetaError> {
    hex::decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| MetaError::invalid_parameter(format!("Invalid cursor: {cursor}")))
}

struct TemplateRow {
    id: TemplateId,
    meta_template_id: Option<String>,
    name: String,
    language: String,
    status: String,
    category: Option<String>,
    components: Value,
}

impl TemplateRow {
    fn into_json(self) -> Value {
        let named = template_texts(&self.components)
            .flat_map(placeholder_names)
            .any(|name| !name.bytes().all(|b| b.is_ascii_digit()));
        json!({
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "components": self.components,
            "id": self.meta_template_id.unwrap_or_else(|| self.id.to_string()),
            "parameter_format": if named { "NAMED" } else { "POSITIONAL" },
        })
    }
}

/// The texts of a definition that may hold placeholders: header and body texts, button URLs.
fn template_texts(components: &Value) -> impl Iterator<Item = &str> {
    let components = components.as_array().into_iter().flatten();
    let buttons = components
        .clone()
        .filter_map(|c| c.get("buttons")?.as_array())
        .flatten();
    components
        .filter_map(|c| c.get("text")?.as_str())
        .chain(buttons.filter_map(|b| b.get("url")?.as_str()))
}

/// Which of the WABA's templates a list shows.
struct Filter<'a> {
    name: Option<&'a str>,
    statuses: Option<&'a [String]>,
}

async fn page(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    waba_id: &str,
    filter: &Filter<'_>,
    after: TemplateId,
    limit: i64,
) -> anyhow::Result<Vec<TemplateRow>> {
    sqlx::query_as!(
        TemplateRow,
        r#"select id as "id: TemplateId", meta_template_id, name, language, status, category,
                  components
           from message_templates
           where tenant_id = $1 and waba_id = $2 and id > $3
             and ($5::text is null or name = $5)
             and ($6::text[] is null or status = any($6))
           order by id limit $4"#,
        tenant_id as TenantId,
        waba_id,
        after as TemplateId,
        limit,
        filter.name,
        filter.statuses
    )
    .fetch_all(conn)
    .await
    .context("list templates")
}

/// The `summary` a list asks for (`summary=total_count,message_template_limit,…`): how many
/// templates it lists, how many the WABA has, how many it may have (Meta's limit for a business
/// that is not verified), and whether every template has all its translations (the fake keeps no
/// translations apart, so yes).
async fn summary(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    waba_id: &str,
    filter: &Filter<'_>,
    fields: &str,
) -> anyhow::Result<Value> {
    let mut summary = Map::new();
    for field in fields.split(',').map(str::trim) {
        let value = match field {
            "total_count" => json!(count(conn, tenant_id, waba_id, filter).await?),
            "message_template_count" => {
                let everything = Filter {
                    name: None,
                    statuses: None,
                };
                json!(count(conn, tenant_id, waba_id, &everything).await?)
            }
            "message_template_limit" => json!(TEMPLATE_LIMIT),
            "are_translations_complete" => json!(true),
            _ => continue,
        };
        summary.insert(field.to_owned(), value);
    }
    Ok(Value::Object(summary))
}

async fn count(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    waba_id: &str,
    filter: &Filter<'_>,
) -> anyhow::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "count!" from message_templates
           where tenant_id = $1 and waba_id = $2
             and ($3::text is null or name = $3)
             and ($4::text[] is null or status = any($4))"#,
        tenant_id as TenantId,
        waba_id,
        filter.name,
        filter.statuses
    )
    .fetch_one(conn)
    .await
    .context("count templates")
}

async fn exists(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    waba_id: &str,
    name: &str,
    hsm_id: Option<&str>,
) -> anyhow::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from message_templates
                          where tenant_id = $1 and waba_id = $2 and name = $3
                            and status <> 'DELETED'
                            and ($4::text is null or meta_template_id = $4)) as "exists!""#,
        tenant_id as TenantId,
        waba_id,
        name,
        hsm_id
    )
    .fetch_one(conn)
    .await
    .context("look up template to delete")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = TemplateId::new(42);
        assert_eq!(cursor_id(&cursor(id)).unwrap(), id);
        assert!(cursor_id("zz").is_err());
    }

    #[test]
    fn named_placeholders_make_a_named_template() {
        let row = |text: &str| TemplateRow {
            id: TemplateId::new(1),
            meta_template_id: None,
            name: "t".into(),
            language: "en".into(),
            status: "APPROVED".into(),
            category: None,
            components: json!([{ "type": "BODY", "text": text }]),
        };
        assert_eq!(
            row("Hi {{first_name}}").into_json()["parameter_format"],
            "NAMED"
        );
        assert_eq!(
            row("Hi {{1}}").into_json()["parameter_format"],
            "POSITIONAL"
        );
        assert_eq!(row("Hi").into_json()["id"], "1");
    }
}
