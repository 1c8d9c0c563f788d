//! Media: upload, the media info with its download URL, and the authenticated download.

use reqwest::{StatusCode, multipart};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::{Meta, TOKEN};
use crate::helpers::*;

#[sqlx::test]
async fn media_round_trips_through_upload_info_and_download(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let bytes: Vec<u8> = b"\x89PNG\r\n\x1a\n fake image".to_vec();
    let file = multipart::Part::bytes(bytes.clone())
        .file_name("dot.png")
        .mime_str("image/png")
        .unwrap();
    let form = multipart::Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", "image/png")
        .part("file", file);

    let (status, uploaded) = meta
        .call(
            meta.post(&format!("/v23.0/{PHONE_NUMBER_ID}/media"))
                .multipart(form),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = uploaded["id"].as_str().unwrap().to_owned();

    let (status, info) = meta.call(meta.get(&format!("/v23.0/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["messaging_product"], "whatsapp");
    assert_eq!(info["url"], format!("{}/media/{id}", meta.url));
    assert_eq!(info["mime_type"], "image/png");
    assert_eq!(info["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(info["file_size"], bytes.len());
    assert_eq!(info["id"], id.as_str());

    let url = info["url"].as_str().unwrap();
    let download = meta.http.get(url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let anonymous = meta.http.get(url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = meta
        .call(
            meta.http
                .get(format!("{}/v23.0/{id}", meta.url))
                .bearer_auth("EAAG-wrong"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
