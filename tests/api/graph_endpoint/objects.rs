//! Reading through the Meta-compatible endpoint: a number's fields, and media: uploaded for a
//! number, described with a download URL here, downloaded, deleted.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use super::*;

#[sqlx::test]
async fn a_numbers_fields_are_metas(pool: PgPool) {
    let program = Integrator::new(pool).await;
    let (status, body) = program
        .get(&format!(
            "/{PHONE_NUMBER_ID}?fields=display_phone_number,quality_rating"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["display_phone_number"], "+972 12 345 6789");
    assert_eq!(body["id"], PHONE_NUMBER_ID);
    assert!(body.get("platform_type").is_none(), "{body}");
}

#[sqlx::test]
async fn media_are_uploaded_described_downloaded_and_deleted_through_here(pool: PgPool) {
    let program = Integrator::new(pool).await;
    let png: &[u8] = b"\x89PNG\r\n\x1a\n not really a picture";
    let form = reqwest::multipart::Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", "image/png")
        .part(
            "file",
            reqwest::multipart::Part::bytes(png.to_vec())
                .file_name("label.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let (status, uploaded) = answer(
        program
            .request(Method::POST, &format!("/{PHONE_NUMBER_ID}/media"))
            .multipart(form),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    let id = uploaded["id"].as_str().unwrap().to_owned();

    let (status, info) = program.get(&format!("/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["mime_type"], "image/png");
    assert_eq!(info["file_size"], png.len());
    let url = info["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("{}/graph/media/{id}", program.app.config.public_url)
    );

    let download = reqwest::Client::new()
        .get(format!("{}/graph/media/{id}", program.app.url))
        .bearer_auth(&program.key)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.bytes().await.unwrap().as_ref(), png);
    // Without the key, nothing.
    let anonymous = reqwest::Client::new()
        .get(format!("{}/graph/media/{id}", program.app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let (status, deleted) = answer(program.request(Method::DELETE, &format!("/{id}"))).await;
    assert_eq!(
        (status, deleted),
        (StatusCode::OK, json!({ "success": true }))
    );
    let (status, gone) = program.get(&format!("/{id}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{gone}");
}

/// Media is asked of Meta only when the caller can be shown to own it: uploaded here for one of
/// the numbers its key may use, or sent by a customer to one of them. Any other id, another
/// tenant's media included, is Meta's "no such object" without a call.
#[sqlx::test]
async fn only_media_the_caller_owns_is_asked_of_meta(pool: PgPool) {
    let program = Integrator::new(pool).await;
    let app = &program.app;
    let upload = |key: String, number: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", "image/png")
            .part(
                "file",
                reqwest::multipart::Part::bytes(b"png".to_vec()).file_name("a.png"),
            );
        let url = program.url(&format!("/{number}/media"));
        async move {
            answer(
                reqwest::Client::new()
                    .post(url)
                    .bearer_auth(key)
                    .multipart(form),
            )
            .await
        }
    };
    let (status, mine) = upload(program.key.clone(), PHONE_NUMBER_ID).await;
    assert_eq!(status, StatusCode::OK, "{mine}");

    // Another tenant's key uploads media for its own number.
    let (other, other_app) = app.add_tenant("Globex", "99887766", "globex-secret").await;
    app.add_number(other, other_app, "9988776655443", "900", None)
        .await;
    let mut conn = app.pool.acquire().await.unwrap();
    let foreign_key = switchboard::domain::api_keys::create(&mut conn, other, None, "G", &[], 10)
        .await
        .unwrap()
        .unwrap()
        .secret;
    let (status, theirs) = upload(foreign_key, "9988776655443").await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    let theirs = theirs["id"].as_str().unwrap().to_owned();

    // A key of the tenant's limited to its second number.
    app.add_number(app.tenant_id, app.app_id, "2233445566778", WABA_ID, None)
        .await;
    let limited = key(app, "Second only", &["2233445566778"], 10).await;
    let mine = mine["id"].as_str().unwrap().to_owned();

    for (key, id) in [
        (&program.key, theirs.as_str()),
        (&limited, mine.as_str()),
        (&program.key, "123456789"),
        (&program.key, "me"),
        (&program.key, "102290129340398"),
    ] {
        let (status, body) = answer(
            reqwest::Client::new()
                .get(program.url(&format!("/{id}")))
                .bearer_auth(key),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{id}: {body}");
        assert_eq!(error(&body)["error_subcode"], 33, "{id}: {body}");
        let (status, _) = answer(
            reqwest::Client::new()
                .delete(program.url(&format!("/{id}")))
                .bearer_auth(key),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{id}");
    }
    let (status, _) = program.get(&format!("/{mine}")).await;
    assert_eq!(status, StatusCode::OK);
}
