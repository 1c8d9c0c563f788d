//! `user_preferences`: a customer stopped (or resumed) marketing messages in WhatsApp itself. It
//! changes the contact's marketing opt-out by the same rule as the tenant's STOP/START keywords and
//! Meta's 131050, ordered by Meta's timestamps.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/user_preferences>

use sqlx::PgConnection;

use crate::{
    domain::{contacts, numbers::Route},
    whatsapp::payload::{PreferencesValue, UserPreference},
};

/// A parsed `user_preferences` change.
pub struct PreferencesChange {
    pub phone_number_id: String,
    preferences: Vec<UserPreference>,
}

/// Parses a `user_preferences` change value.
pub fn parse(value: serde_json::Value) -> Result<PreferencesChange, String> {
    let value: PreferencesValue = serde_json::from_value(value)
        .map_err(|e| format!("malformed `user_preferences` change: {e}"))?;
    Ok(PreferencesChange {
        phone_number_id: value.metadata.phone_number_id,
        preferences: value.user_preferences,
    })
}

/// Applies each marketing preference to the customer's contact (created if new, so that a first
/// conversation already respects it); other categories are kept in the raw event only.
pub async fn apply(
    conn: &mut PgConnection,
    route: Route,
    change: PreferencesChange,
) -> anyhow::Result<()> {
    for preference in &change.preferences {
        let opted_out = match (preference.category.as_str(), preference.value.as_str()) {
            ("marketing_messages", "stop") => true,
            ("marketing_messages", "resume") => false,
            (category, value) => {
                tracing::info!(category, value, "user preference without a handler");
                continue;
            }
        };
        let who = contacts::Identity {
            wa_id: preference.wa_id.as_deref(),
            user_id: preference.user_id.as_deref(),
            profile_name: None,
        };
        if who.wa_id.is_none() && who.user_id.is_none() {
            tracing::warn!("user preference without a customer id; ignored");
            continue;
        }
        let contact_id = contacts::upsert(conn, route.tenant_id, who).await?;
        contacts::record_opt_change(
            conn,
            route.tenant_id,
            contact_id,
            opted_out,
            preference.timestamp,
        )
        .await?;
    }
    Ok(())
}
