//! Numbers as an admin adds and edits them in the console: each refusal is one the form can show
//! next to its field. A number removed earlier can be added again (by its own tenant): its row,
//! conversations and history come back.

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sqlx::PgConnection;

use super::token_context;
use crate::{
    crypto::Cipher,
    domain::{
        audit,
        ids::{AppId, NumberId, TenantId, UserId},
    },
};

/// Meta's ids (a phone number id, a WABA id) are decimal digits; more than this is no id.
const MAX_ID_DIGITS: usize = 32;

/// Why a number was not added or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberRefused {
    #[error("choose one of your apps")]
    AppNotFound,
    #[error("a phone number ID is the number WhatsApp Manager shows for it, digits only")]
    InvalidPhoneNumberId,
    #[error("a WhatsApp Business Account ID is digits only")]
    InvalidWabaId,
    #[error("the access token is needed to send from this number")]
    TokenMissing,
    #[error("this phone number ID is already registered in Switchboard")]
    Taken,
}

impl NumberRefused {
    /// The form field the refusal concerns.
    pub fn field(&self) -> &'static str {
        match self {
            Self::AppNotFound => "app",
            Self::InvalidPhoneNumberId | Self::Taken => "phone_number_id",
            Self::InvalidWabaId => "waba_id",
            Self::TokenMissing => "access_token",
        }
    }
}

/// A number as an admin types it.
pub struct NumberForm<'a> {
    pub app_id: AppId,
    pub phone_number_id: &'a str,
    pub waba_id: &'a str,
    pub display_phone_number: Option<&'a str>,
    pub access_token: Option<SecretString>,
}

/// Adds a number under one of the tenant's apps, or brings back one the tenant removed. Audited.
pub async fn create(
    conn: &mut PgConnection,
    cipher: &Cipher,
    tenant_id: TenantId,
    by: UserId,
    form: NumberForm<'_>,
) -> anyhow::Result<Result<NumberId, NumberRefused>> {
    let (phone_number_id, waba_id) = (form.phone_number_id.trim(), form.waba_id.trim());
    if !is_meta_id(phone_number_id) {
        return Ok(Err(NumberRefused::InvalidPhoneNumberId));
    }
    if !is_meta_id(waba_id) {
        return Ok(Err(NumberRefused::InvalidWabaId));
    }
    let Some(access_token) = form.access_token else {
        return Ok(Err(NumberRefused::TokenMissing));
    };
    let app = sqlx::query_scalar!(
        "select meta_app_id from meta_apps where tenant_id = $1 and id = $2",
        tenant_id as TenantId,
        form.app_id as AppId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("look up the app")?;
    let Some(meta_app_id) = app else {
        return Ok(Err(NumberRefused::AppNotFound));
    };
    let token = cipher.seal(
        access_token.expose_secret().as_bytes(),
        &token_context(phone_number_id),
    );
    let id = sqlx::query_scalar!(
        r#"insert into phone_numbers
               (tenant_id, app_id, phone_number_id, waba_id, display_phone_number, access_token_encrypted)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (phone_number_id) do update set
               app_id = excluded.app_id, waba_id = excluded.waba_id,
               display_phone_number = excluded.display_phone_number,
               access_token_encrypted = excluded.access_token_encrypted,
               removed_at = null, paused_at = null, updated_at = now()
           where phone_numbers.tenant_id = excluded.tenant_id
             and phone_numbers.removed_at is not null
             and not phone_numbers.sandbox
           returning id as "id: NumberId""#,
        tenant_id as TenantId,
        form.app_id as AppId,
        phone_number_id,
        waba_id,
        form.display_phone_number.map(str::trim).filter(|s| !s.is_empty()),
        token
    )
    .fetch_optional(&mut *conn)
    .await
    .context("add phone number")?;
    let Some(id) = id else {
        return Ok(Err(NumberRefused::Taken));
    };
    let details =
        json!({ "phone_number_id": phone_number_id, "waba_id": waba_id, "app_id": meta_app_id });
    audit::record(conn, tenant_id, Some(by), "number.add", details).await?;
    Ok(Ok(id))
}

/// Changes a number's display number, and its access token when one is typed (blank keeps the
/// stored one; a change is audited, never the token). `None` when it is not the tenant's.
pub async fn edit(
    conn: &mut PgConnection,
    cipher: &Cipher,
    tenant_id: TenantId,
    by: UserId,
    id: NumberId,
    display_phone_number: Option<&str>,
    access_token: Option<SecretString>,
) -> anyhow::Result<Option<()>> {
    let Some(phone_number_id) = sqlx::query_scalar!(
        "select phone_number_id from phone_numbers
         where tenant_id = $1 and id = $2 and removed_at is null and not sandbox",
        tenant_id as TenantId,
        id as NumberId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("look up the number")?
    else {
        return Ok(None);
    };
    let token = access_token.as_ref().map(|token| {
        cipher.seal(
            token.expose_secret().as_bytes(),
            &token_context(&phone_number_id),
        )
    });
    sqlx::query!(
        "update phone_numbers set display_phone_number = $3,
             access_token_encrypted = coalesce($4, access_token_encrypted), updated_at = now()
         where tenant_id = $1 and id = $2",
        tenant_id as TenantId,
        id as NumberId,
        display_phone_number
            .map(str::trim)
            .filter(|s| !s.is_empty()),
        token
    )
    .execute(&mut *conn)
    .await
    .context("edit the number")?;
    let details = json!({
        "phone_number_id": phone_number_id,
        "display_phone_number": display_phone_number,
        "access_token": if token.is_some() { "changed" } else { "kept" },
    });
    audit::record(conn, tenant_id, Some(by), "number.edit", details).await?;
    Ok(Some(()))
}

/// Whether `id` can be one of Meta's numeric ids.
fn is_meta_id(id: &str) -> bool {
    (1..=MAX_ID_DIGITS).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metas_ids_are_digits() {
        assert!(is_meta_id("106540352242922"));
        for id in ["", "12a", " 1", "1 ", "-1", &"9".repeat(MAX_ID_DIGITS + 1)] {
            assert!(!is_meta_id(id), "{id:?}");
        }
    }
}
