//! Message templates of a WhatsApp Business Account: list (page by page), create, edit, delete.
//! <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates>

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::{Auth, GraphClient, GraphFailure, messages::Succeeded};

/// Templates per page (Meta's default is 25).
const PAGE_SIZE: &str = "100";
/// `parameter_format` is not among the default fields, so name them all.
const FIELDS: &str = "id,name,language,status,category,components,parameter_format";

/// One page of `GET /{waba-id}/message_templates`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "RawPage")]
pub struct TemplatePage {
    pub data: Vec<Template>,
    /// The cursor for the next page, `None` on the last one. (Meta sends `paging.cursors.after`
    /// on the last page too; only `paging.next` says there is more.)
    pub after: Option<String>,
    /// `paging.next`: the URL of the next page, if any.
    pub next: Option<String>,
}

/// A template as Meta lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub language: String,
    /// APPROVED, PENDING, REJECTED, PAUSED, DISABLED, …
    pub status: String,
    /// MARKETING, UTILITY or AUTHENTICATION.
    pub category: Option<String>,
    /// Meta's components array, as sent.
    #[serde(default)]
    pub components: Value,
    /// POSITIONAL (`{{1}}`) or NAMED (`{{name}}`).
    pub parameter_format: Option<String>,
}

/// Meta's answer to a template creation: review has started (or already ended).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreatedTemplate {
    pub id: String,
    /// PENDING, APPROVED or REJECTED.
    pub status: String,
    pub category: String,
}

#[derive(Deserialize)]
struct RawPage {
    #[serde(default)]
    data: Vec<Template>,
    #[serde(default)]
    paging: Paging,
}

#[derive(Default, Deserialize)]
struct Paging {
    #[serde(default)]
    cursors: Cursors,
    next: Option<String>,
}

#[derive(Default, Deserialize)]
struct Cursors {
    after: Option<String>,
}

impl From<RawPage> for TemplatePage {
    fn from(raw: RawPage) -> Self {
        let next = raw.paging.next;
        let after = raw.paging.cursors.after.filter(|_| next.is_some());
        Self {
            data: raw.data,
            after,
            next,
        }
    }
}

impl GraphClient {
    /// One page of the account's templates, starting after the cursor `after`.
    #[tracing::instrument(skip_all, fields(waba_id = %waba_id))]
    pub async fn list_templates(
        &self,
        auth: &Auth<'_>,
        waba_id: &str,
        after: Option<&str>,
    ) -> Result<TemplatePage, GraphFailure> {
        let url = self.url(auth, &[waba_id, "message_templates"])?;
        let mut query = vec![("limit", PAGE_SIZE), ("fields", FIELDS)];
        query.extend(after.map(|cursor| ("after", cursor)));
        self.call(self.request(Method::GET, &url, auth).query(&query))
            .await
    }

    /// Submits `template` (Meta's creation body: name, language, category, components, …).
    #[tracing::instrument(skip_all, fields(waba_id = %waba_id))]
    pub async fn create_template(
        &self,
        auth: &Auth<'_>,
        waba_id: &str,
        template: &Value,
    ) -> Result<CreatedTemplate, GraphFailure> {
        let url = self.url(auth, &[waba_id, "message_templates"])?;
        self.call(self.request(Method::POST, &url, auth).json(template))
            .await
    }

    /// Edits the template Meta knows as `template_id` (`edit`: its new `components`, and its
    /// `category` where Meta allows); Meta reviews it again.
    #[tracing::instrument(skip_all, fields(template_id = %template_id))]
    pub async fn edit_template(
        &self,
        auth: &Auth<'_>,
        template_id: &str,
        edit: &Value,
    ) -> Result<(), GraphFailure> {
        let url = self.url(auth, &[template_id])?;
        let Succeeded = self
            .call(self.request(Method::POST, &url, auth).json(edit))
            .await?;
        Ok(())
    }

    /// Deletes a template by name: every language, or only the one `hsm_id` names.
    #[tracing::instrument(skip_all, fields(waba_id = %waba_id, name = %name))]
    pub async fn delete_template(
        &self,
        auth: &Auth<'_>,
        waba_id: &str,
        name: &str,
        hsm_id: Option<&str>,
    ) -> Result<(), GraphFailure> {
        let url = self.url(auth, &[waba_id, "message_templates"])?;
        let mut query = vec![("name", name)];
        query.extend(hsm_id.map(|id| ("hsm_id", id)));
        let Succeeded = self
            .call(self.request(Method::DELETE, &url, auth).query(&query))
            .await?;
        Ok(())
    }
}
