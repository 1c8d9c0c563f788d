//! `GET /{version}/{phone_number_id}`: a number's details from `phone_numbers`, limited to the
//! requested `fields` when there are any (an unknown field is Meta's error 100).
//! <https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account-to-number-current-status/>

use anyhow::Context;
use axum::{
    http::{HeaderMap, Method},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use crate::{
    http::extract::Json,
    sandbox::{FakeGraph, PhoneNumberCall, numbers},
    whatsapp::envelope::MetaError,
};

/// The number's details, as Meta answers them.
pub(super) async fn show_phone_number(
    fake: &FakeGraph,
    phone_number_id: &str,
    fields: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, MetaError> {
    let number = numbers::by_phone_number_id(fake, &Method::GET, phone_number_id, headers).await?;
    let mut conn = fake.db().acquire().await.context("acquire connection")?;
    let profile = numbers::profile(&mut conn, number.tenant_id, number.id).await?;
    let mut all = json!({
        "verified_name": profile.verified_name,
        "display_phone_number": profile.display_phone_number,
        "quality_rating": profile.quality_rating.as_deref().unwrap_or("UNKNOWN"),
        "code_verification_status": "VERIFIED",
        "platform_type": "CLOUD_API",
        "throughput": { "level": "STANDARD" },
        "name_status": "APPROVED",
        "status": "CONNECTED",
        "account_mode": if number.sandbox { "SANDBOX" } else { "LIVE" },
        "messaging_limit_tier": profile.messaging_tier.as_deref().unwrap_or("TIER_250"),
        "id": number.phone_number_id,
    });
    let details = match fields {
        Some(fields) => select(&mut all, fields)?,
        None => default_fields(&mut all),
    };
    let mut response = Json(details).into_response();
    response
        .extensions_mut()
        .insert(PhoneNumberCall(number.phone_number_id));
    Ok(response)
}

/// What Meta answers without `fields`.
fn default_fields(all: &mut Value) -> Value {
    const DEFAULT: &[&str] = &[
        "verified_name",
        "display_phone_number",
        "quality_rating",
        "code_verification_status",
        "platform_type",
        "throughput",
        "id",
    ];
    let all = all.as_object_mut().map(std::mem::take).unwrap_or_default();
    Value::Object(
        all.into_iter()
            .filter(|(key, _)| DEFAULT.contains(&key.as_str()))
            .collect(),
    )
}

/// The requested fields (and `id`, which Meta always adds).
fn select(all: &mut Value, fields: &str) -> Result<Value, MetaError> {
    let mut selected = Map::new();
    for field in fields
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .chain(["id"])
    {
        if selected.contains_key(field) {
            continue;
        }
        let value = all.get_mut(field).map(Value::take).ok_or_else(|| {
            MetaError::invalid_request(format!(
                "Tried accessing nonexisting field ({field}) on node type (WhatsAppBusinessPhoneNumber)"
            ))
        })?;
        selected.insert(field.to_owned(), value);
    }
    Ok(Value::Object(selected))
}

/// `GET /{version}/{waba_id}/subscribed_apps`: the app of the caller's number, as Meta lists the
/// apps subscribed to a WABA's webhooks (the fake delivers a number's webhooks to its own app).
pub(super) async fn show_subscribed_apps(
    fake: &FakeGraph,
    waba_id: &str,
    headers: &HeaderMap,
) -> Result<Response, MetaError> {
    let number = numbers::by_waba(fake, &Method::GET, waba_id, headers).await?;
    Ok(Json(json!({
        "data": [{
            "whatsapp_business_api_data": {
                "id": number.meta_app_id,
                "link": "https://switchboard.invalid/sandbox",
                "name": "Switchboard",
            }
        }]
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_select_what_is_answered_and_id_is_always_there() {
        let mut all = json!({ "verified_name": "Acme", "quality_rating": "GREEN", "id": "1" });
        let selected = select(&mut all, "verified_name,id").unwrap();
        assert_eq!(selected, json!({ "verified_name": "Acme", "id": "1" }));
    }

    #[test]
    fn an_unknown_field_is_an_error() {
        let mut all = json!({ "id": "1" });
        let error = select(&mut all, "nope").unwrap_err();
        assert_eq!(error.body()["error"]["code"], 100);
    }
}
