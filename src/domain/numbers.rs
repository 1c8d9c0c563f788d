//! Business phone numbers: each belongs to one tenant and one Meta app, and carries the sealed access
//! token used to send from it. Webhooks are routed by `phone_number_id` through here.

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgConnection;

use crate::crypto::Cipher;

/// Where a webhook for a number lands: the number's row and its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub number_id: i64,
    pub tenant_id: i64,
}

/// A number to register.
pub struct NewNumber<'a> {
    pub tenant_id: i64,
    pub app_id: i64,
    pub phone_number_id: &'a str,
    pub waba_id: &'a str,
    pub display_phone_number: Option<&'a str>,
    pub access_token: SecretString,
}

/// Registers a number; a `phone_number_id` can be registered once across all tenants.
pub async fn add(
    conn: &mut PgConnection,
    cipher: &Cipher,
    number: NewNumber<'_>,
) -> anyhow::Result<i64> {
    let token = cipher.seal(
        number.access_token.expose_secret().as_bytes(),
        &token_context(number.phone_number_id),
    );
    let id = sqlx::query_scalar!(
        "insert into phone_numbers
            (tenant_id, app_id, phone_number_id, waba_id, display_phone_number, access_token_encrypted)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (phone_number_id) do nothing
         returning id",
        number.tenant_id,
        number.app_id,
        number.phone_number_id,
        number.waba_id,
        number.display_phone_number,
        token
    )
    .fetch_optional(conn)
    .await
    .context("register phone number")?;
    id.with_context(|| {
        format!(
            "phone number id {} is already registered",
            number.phone_number_id
        )
    })
}

/// The number with this `phone_number_id`, if it is registered under the app `app_id`.
pub async fn route_for_app(
    conn: &mut PgConnection,
    app_id: i64,
    phone_number_id: &str,
) -> anyhow::Result<Option<Route>> {
    sqlx::query_as!(
        Route,
        "select id as number_id, tenant_id from phone_numbers
         where phone_number_id = $1 and app_id = $2",
        phone_number_id,
        app_id
    )
    .fetch_optional(conn)
    .await
    .context("route webhook to phone number")
}

/// The tenant that owns WABA `waba_id` through the app `app_id`, for account-level events.
pub async fn tenant_for_waba(
    conn: &mut PgConnection,
    app_id: i64,
    waba_id: &str,
) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar!(
        "select tenant_id from phone_numbers where app_id = $1 and waba_id = $2 limit 1",
        app_id,
        waba_id
    )
    .fetch_optional(conn)
    .await
    .context("route account event to WABA")
}

fn token_context(phone_number_id: &str) -> String {
    format!("phone_numbers.access_token:{phone_number_id}")
}
