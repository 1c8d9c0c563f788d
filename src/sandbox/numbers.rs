//! How the fake sees Switchboard's numbers, the way Meta sees its own: found by `phone_number_id`
//! or by WABA with the caller's access token checked (190 when it is not the number's), and the
//! public profile Meta shows for them.

use anyhow::Context;
use axum::http::{HeaderMap, Method, header};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgConnection;
use subtle::ConstantTimeEq;

use super::FakeGraph;
use crate::{
    domain::{
        ids::{NumberId, TenantId},
        numbers::{self, NumberCredentials, Route},
    },
    whatsapp::envelope::MetaError,
};

/// The number with Meta's `phone_number_id`, if the request carries its access token. Across
/// tenants, as Meta finds its numbers: the token, not a tenant, vouches for the caller.
pub(super) async fn by_phone_number_id(
    fake: &FakeGraph,
    method: &Method,
    phone_number_id: &str,
    headers: &HeaderMap,
) -> Result<NumberCredentials, MetaError> {
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    let route = numbers::route_by_phone_number_id(&mut conn, phone_number_id)
        .await?
        .ok_or_else(|| MetaError::unsupported(method, phone_number_id))?;
    let number = by_route(&mut conn, fake, route, headers).await?;
    if fake.sandbox_only() && !number.sandbox {
        // A real number is Meta's business: the embedded sandbox acts as if it did not exist.
        return Err(MetaError::unsupported(method, phone_number_id));
    }
    Ok(number)
}

/// The number `route` names, if the request carries its access token.
pub(super) async fn by_route(
    conn: &mut PgConnection,
    fake: &FakeGraph,
    route: Route,
    headers: &HeaderMap,
) -> Result<NumberCredentials, MetaError> {
    let number =
        numbers::credentials(conn, fake.cipher(), route.tenant_id, route.number_id).await?;
    authorize(headers, &number.access_token)?;
    Ok(number)
}

/// The number of WABA `waba_id` whose access token the request carries (any number of the WABA
/// vouches for it, as a token with access to the WABA does at Meta). Across tenants, like
/// [`by_phone_number_id`].
pub(super) async fn by_waba(
    fake: &FakeGraph,
    method: &Method,
    waba_id: &str,
    headers: &HeaderMap,
) -> Result<NumberCredentials, MetaError> {
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    let routes = routes_in_waba(&mut conn, waba_id, fake.sandbox_only()).await?;
    first_authorized(&mut conn, fake, routes, headers)
        .await?
        .ok_or_else(|| MetaError::unsupported(method, waba_id))
}

/// The number of Meta app `app_id` whose access token the request carries, like [`by_waba`].
pub(super) async fn by_app(
    fake: &FakeGraph,
    method: &Method,
    app_id: &str,
    headers: &HeaderMap,
) -> Result<NumberCredentials, MetaError> {
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    let routes = sqlx::query_as!(
        Route,
        r#"select n.id as "number_id: NumberId", n.tenant_id as "tenant_id: TenantId"
           from phone_numbers n join meta_apps a on a.id = n.app_id
           where a.meta_app_id = $1 and (n.sandbox or not $2) order by n.id"#,
        app_id,
        fake.sandbox_only()
    )
    .fetch_all(&mut *conn)
    .await
    .context("look up the numbers of an app")?;
    first_authorized(&mut conn, fake, routes, headers)
        .await?
        .ok_or_else(|| MetaError::unsupported(method, app_id))
}

/// The first of `routes` whose access token the request carries (any of them vouches for it, as
/// a token with access to a WABA or app does at Meta); `None` when there are none, else the last
/// refusal.
async fn first_authorized(
    conn: &mut PgConnection,
    fake: &FakeGraph,
    routes: Vec<Route>,
    headers: &HeaderMap,
) -> Result<Option<NumberCredentials>, MetaError> {
    if routes.is_empty() {
        return Ok(None);
    }
    let mut refused = MetaError::token_required();
    for route in routes {
        match by_route(conn, fake, route, headers).await {
            Ok(number) => return Ok(Some(number)),
            Err(error) => refused = error,
        }
    }
    Err(refused)
}

/// Checks `Authorization: Bearer <token>` (or `OAuth <token>`, which Meta's upload API
/// documents) against the number's token, in constant time.
pub(super) fn authorize(headers: &HeaderMap, token: &SecretString) -> Result<(), MetaError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("OAuth "))
        })
        .map(str::trim)
        .ok_or_else(MetaError::token_required)?;
    if bool::from(given.as_bytes().ct_eq(token.expose_secret().as_bytes())) {
        Ok(())
    } else {
        Err(MetaError::invalid_token())
    }
}

/// The numbers of a WABA (only sandbox numbers when `sandbox_only`), whoever's they are.
async fn routes_in_waba(
    conn: &mut PgConnection,
    waba_id: &str,
    sandbox_only: bool,
) -> anyhow::Result<Vec<Route>> {
    sqlx::query_as!(
        Route,
        r#"select id as "number_id: NumberId", tenant_id as "tenant_id: TenantId"
           from phone_numbers where waba_id = $1 and (sandbox or not $2) order by id"#,
        waba_id,
        sandbox_only
    )
    .fetch_all(conn)
    .await
    .context("look up the numbers of a WABA")
}

/// What Meta shows of a number.
pub(super) struct Profile {
    /// The display name (the tenant's name until Meta reports a verified one).
    pub verified_name: String,
    pub display_phone_number: Option<String>,
    pub quality_rating: Option<String>,
    pub messaging_tier: Option<String>,
}

impl Profile {
    /// The number as webhooks' `metadata.display_phone_number` carries it: digits only.
    pub fn display_digits(&self) -> String {
        let display = self.display_phone_number.as_deref().unwrap_or_default();
        display.chars().filter(char::is_ascii_digit).collect()
    }
}

/// The profile of the tenant's number `number_id`.
pub(super) async fn profile(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    number_id: NumberId,
) -> anyhow::Result<Profile> {
    sqlx::query_as!(
        Profile,
        r#"select coalesce(n.verified_name, t.name) as "verified_name!", n.display_phone_number,
                  n.quality_rating, n.messaging_tier
           from phone_numbers n join tenants t on t.id = n.tenant_id
           where n.tenant_id = $1 and n.id = $2"#,
        tenant_id as TenantId,
        number_id as NumberId
    )
    .fetch_one(conn)
    .await
    .context("load phone number profile")
}
