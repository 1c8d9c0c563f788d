//! Media over real HTTP: uploads, lookups and downloads.

use super::*;

#[tokio::test]
async fn upload_media_sends_multipart_with_the_right_fields() {
    let stub = Stub::start([ok(
        "media/ruby__medias__upload_media_with_success_response__response_http200.json",
    )])
    .await;
    let png = Bytes::from_static(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR not really an image");

    let media_id = client()
        .upload_media(
            &stub.auth(),
            PHONE_NUMBER_ID,
            png.clone(),
            "image/png",
            "receipt.png",
        )
        .await
        .unwrap();

    assert_eq!(media_id, "3281363908663165");
    let request = stub.only_request();
    assert_eq!(
        (request.method.clone(), request.path.as_str()),
        (Method::POST, "/v23.0/106540352242922/media")
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let content_type = request.header("content-type").unwrap();
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    let form = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(request.body.clone()))
        .unwrap();
    let mut multipart = Multipart::from_request(form, &()).await.unwrap();
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await.unwrap() {
        let name = field.name().unwrap().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        fields.push((name, file_name, content_type, field.bytes().await.unwrap()));
    }
    let field = |wanted: &str| {
        fields
            .iter()
            .find(|(name, ..)| name == wanted)
            .cloned()
            .unwrap()
    };
    assert_eq!(field("messaging_product").3, "whatsapp");
    assert_eq!(field("type").3, "image/png");
    assert_eq!(
        field("file"),
        (
            "file".into(),
            Some("receipt.png".into()),
            Some("image/png".into()),
            png
        )
    );
    assert_eq!(fields.len(), 3);
}

#[tokio::test]
async fn media_info_handles_integer_and_string_file_size() {
    let cases = [
        (
            "media/ruby__medias__media_with_success_response__response_http200.json",
            "1761991787669262",
            182859,
        ),
        (
            "media/bindambc__get_media_response.json",
            "1227829768162607",
            103632,
        ),
        (
            "media/openapi__get_media__retrieve_media_url.json",
            "2621233374848975",
            303833,
        ),
    ];
    for (path, media_id, size) in cases {
        let stub = Stub::start([ok(path)]).await;

        let info = client().media_info(&stub.auth(), media_id).await.unwrap();

        assert_eq!(info.id, media_id, "{path}");
        assert_eq!(info.file_size, Some(size), "{path}");
        assert!(info.mime_type.starts_with("image/"), "{path}");
        let request = stub.only_request();
        assert_eq!(
            (request.method, request.path),
            (Method::GET, format!("/{VERSION}/{media_id}"))
        );
    }
    let stub = Stub::start([ok(
        "media/ruby__medias__media_with_success_response__response_http200.json",
    )])
    .await;
    let info = client()
        .media_info(&stub.auth(), "1761991787669262")
        .await
        .unwrap();
    assert!(info.url.starts_with(
        "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1761991787669262"
    ));
    assert_eq!(
        info.sha256.as_deref(),
        Some("c86c28d437534f7367e73b283155c083dddfdaf7f9b4dfae27e140f880035141")
    );
}

#[tokio::test]
async fn media_info_errors_parse_as_api() {
    let error = corpus("media/ruby__medias__media_handles_error_response__response_http400.json");
    let stub = Stub::start([answer(400, error)]).await;

    let failure = client()
        .media_info(&stub.auth(), "123_123")
        .await
        .unwrap_err();

    let error = api_error(failure);
    assert_eq!((error.code, error.subcode), (100, Some(33)));
}

#[tokio::test]
async fn download_media_sends_the_bearer_token() {
    let bytes = Bytes::from_static(b"\xff\xd8\xff\xe0 binary \x00\x01 jpeg");
    let stub = Stub::start([answer(200, bytes.clone())]).await;
    let url = format!(
        "{}/whatsapp_business/attachments/?mid=1761991787669262&ext=1728904986&hash=ATta",
        stub.base_url
    );

    let downloaded = client().download_media(&stub.auth(), &url).await.unwrap();

    assert_eq!(downloaded, bytes);
    let request = stub.only_request();
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.path, "/whatsapp_business/attachments/");
    assert_eq!(
        request.query.as_deref(),
        Some("mid=1761991787669262&ext=1728904986&hash=ATta")
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn a_failed_download_is_not_returned_as_media() {
    let stub = Stub::start([answer(404, "<html>Not Found</html>")]).await;
    let url = format!("{}/whatsapp_business/attachments/?mid=1", stub.base_url);

    let failure = client()
        .download_media(&stub.auth(), &url)
        .await
        .unwrap_err();

    assert!(
        matches!(failure, GraphFailure::Unreadable { status: 404, .. }),
        "{failure:?}"
    );
}
