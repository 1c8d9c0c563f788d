//! Phone number details, read from Switchboard's own numbers, with Meta's `fields` selection.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use super::Meta;
use crate::helpers::*;

#[sqlx::test]
async fn phone_number_details_come_from_switchboards_numbers(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let path = format!("/v23.0/{PHONE_NUMBER_ID}");

    let (status, details) = meta.call(meta.get(&path)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        details,
        json!({
            "verified_name": "Acme",
            "display_phone_number": "+972 12 345 6789",
            "quality_rating": "UNKNOWN",
            "code_verification_status": "VERIFIED",
            "platform_type": "CLOUD_API",
            "throughput": { "level": "STANDARD" },
            "id": PHONE_NUMBER_ID,
        })
    );
    let (_, some) = meta
        .call(
            meta.get(&path)
                .query(&[("fields", "verified_name,quality_rating")]),
        )
        .await;
    assert_eq!(
        some,
        json!({ "verified_name": "Acme", "quality_rating": "UNKNOWN", "id": PHONE_NUMBER_ID })
    );
    let (status, error) = meta
        .call(meta.get(&path).query(&[("fields", "nonsense")]))
        .await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!(100))
    );
    let call = meta.fake.calls().pop().unwrap();
    assert_eq!(
        call.phone_number_id, None,
        "an error about the number is not a call on it"
    );
    assert_eq!(
        meta.fake.calls()[0].phone_number_id.as_deref(),
        Some(PHONE_NUMBER_ID)
    );
}
