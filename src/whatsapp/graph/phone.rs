//! A business phone number's settings as Meta reports them: name, quality, throughput.
//! <https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account-to-number-current-status>

use reqwest::Method;
use serde::Deserialize;

use super::{Auth, GraphClient, GraphFailure};

/// The fields asked for (all exist in v20 and later answers).
const FIELDS: &str = "id,verified_name,display_phone_number,quality_rating,messaging_limit_tier,\
                      throughput,status,name_status,code_verification_status,platform_type,\
                      account_mode";

/// What `GET /{phone-number-id}` says about a number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "RawPhoneNumber")]
pub struct PhoneNumberInfo {
    pub id: String,
    pub verified_name: Option<String>,
    /// As Meta formats it, e.g. "+1 555-093-4873".
    pub display_phone_number: Option<String>,
    /// GREEN, YELLOW, RED or UNKNOWN.
    pub quality_rating: Option<String>,
    /// TIER_250, TIER_1K, TIER_10K, TIER_100K or TIER_UNLIMITED.
    pub messaging_limit_tier: Option<String>,
    /// `throughput.level`: STANDARD or HIGH.
    pub throughput_level: Option<String>,
    /// CONNECTED, DISCONNECTED, FLAGGED, …
    pub status: Option<String>,
    pub name_status: Option<String>,
    pub code_verification_status: Option<String>,
    /// CLOUD_API or ON_PREMISE.
    pub platform_type: Option<String>,
    /// LIVE or SANDBOX.
    pub account_mode: Option<String>,
}

#[derive(Deserialize)]
struct RawPhoneNumber {
    id: String,
    verified_name: Option<String>,
    display_phone_number: Option<String>,
    quality_rating: Option<String>,
    messaging_limit_tier: Option<String>,
    #[serde(default)]
    throughput: Throughput,
    status: Option<String>,
    name_status: Option<String>,
    code_verification_status: Option<String>,
    platform_type: Option<String>,
    account_mode: Option<String>,
}

#[derive(Default, Deserialize)]
struct Throughput {
    level: Option<String>,
}

impl From<RawPhoneNumber> for PhoneNumberInfo {
    fn from(raw: RawPhoneNumber) -> Self {
        Self {
            id: raw.id,
            verified_name: raw.verified_name,
            display_phone_number: raw.display_phone_number,
            quality_rating: raw.quality_rating,
            messaging_limit_tier: raw.messaging_limit_tier,
            throughput_level: raw.throughput.level,
            status: raw.status,
            name_status: raw.name_status,
            code_verification_status: raw.code_verification_status,
            platform_type: raw.platform_type,
            account_mode: raw.account_mode,
        }
    }
}

/// An app subscribed to a WABA's webhooks, as `GET /{waba-id}/subscribed_apps` lists it.
/// <https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/subscribed_apps/>
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SubscribedApp {
    /// Meta's App ID.
    pub id: String,
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct SubscribedApps {
    #[serde(default)]
    data: Vec<Subscription>,
}

#[derive(Deserialize)]
struct Subscription {
    whatsapp_business_api_data: SubscribedApp,
}

impl GraphClient {
    /// The apps subscribed to the WABA's webhooks.
    #[tracing::instrument(skip_all, fields(waba_id = %waba_id))]
    pub async fn subscribed_apps(
        &self,
        auth: &Auth<'_>,
        waba_id: &str,
    ) -> Result<Vec<SubscribedApp>, GraphFailure> {
        let url = self.url(auth, &[waba_id, "subscribed_apps"])?;
        let apps: SubscribedApps = self.call(self.request(Method::GET, &url, auth)).await?;
        Ok(apps
            .data
            .into_iter()
            .map(|s| s.whatsapp_business_api_data)
            .collect())
    }

    /// The number's name, display number, quality rating, throughput and status.
    #[tracing::instrument(skip_all, fields(phone_number_id = %phone_number_id))]
    pub async fn phone_number(
        &self,
        auth: &Auth<'_>,
        phone_number_id: &str,
    ) -> Result<PhoneNumberInfo, GraphFailure> {
        let url = self.url(auth, &[phone_number_id])?;
        self.call(
            self.request(Method::GET, &url, auth)
                .query(&[("fields", FIELDS)]),
        )
        .await
    }
}
