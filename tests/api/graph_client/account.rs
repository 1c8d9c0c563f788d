//! Templates, read receipts and phone number details over real HTTP.

use super::*;

#[tokio::test]
async fn list_templates_follows_the_after_cursor() {
    let stub = Stub::start([
        ok("templates/bindambc__list_templates_response_2.json"),
        ok("templates/bindambc__list_templates_response_3.json"),
    ])
    .await;
    let client = client();

    let first = client
        .list_templates(&stub.auth(), WABA_ID, None)
        .await
        .unwrap();
    let second = client
        .list_templates(&stub.auth(), WABA_ID, first.after.as_deref())
        .await
        .unwrap();

    assert_eq!(first.data.len(), 2);
    assert_eq!(first.after.as_deref(), Some("MQZDZD"));
    assert_eq!(second.data.len(), 1);
    assert_eq!(
        second.after, None,
        "the last page has a cursor but no `next`"
    );
    let template = &first.data[1];
    assert_eq!(
        (template.name.as_str(), template.language.as_str()),
        ("schedule_confirmation5", "pt_BR")
    );
    assert_eq!(
        (template.status.as_str(), template.category.as_deref()),
        ("APPROVED", Some("UTILITY"))
    );
    assert_eq!(template.id, "1145489599421404");
    assert_eq!(template.components[3]["buttons"][1]["text"], "NÃO");
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            (&request.method, request.path.as_str()),
            (&Method::GET, "/v23.0/102290129340398/message_templates")
        );
    }
    let first_params = requests[0].params();
    assert!(
        first_params.iter().all(|(key, _)| key != "after"),
        "{first_params:?}"
    );
    assert!(first_params.contains(&("limit".into(), "100".into())));
    let fields = first_params
        .iter()
        .find(|(key, _)| key == "fields")
        .unwrap();
    assert!(fields.1.contains("parameter_format"), "{fields:?}");
    assert!(
        requests[1]
            .params()
            .contains(&("after".into(), "MQZDZD".into()))
    );
}

#[tokio::test]
async fn template_pages_from_meta_parse() {
    let by_id = corpus("templates/ruby__templates__get_a_template_by_id__response_http200.json");
    let cases = [
        (
            ok("templates/ruby__templates__get_templates__response_http200.json"),
            None,
        ),
        (
            ok("templates/openapi__list_templates_response__example_response.json"),
            None,
        ),
        (
            ok(
                "templates/ruby__templates__get_templates_when_empty_response_is_returned__response_http200.json",
            ),
            None,
        ),
        (
            answer(200, format!("{{\"data\":[{by_id}]}}")),
            Some("POSITIONAL"),
        ),
    ];
    for (page, parameter_format) in cases {
        let stub = Stub::start([page]).await;

        let page = client()
            .list_templates(&stub.auth(), WABA_ID, None)
            .await
            .unwrap();

        assert_eq!(page.after, None);
        assert!(
            page.data
                .iter()
                .all(|t| !t.name.is_empty() && !t.id.is_empty() && t.components.is_array())
        );
        if let Some(format) = parameter_format {
            assert_eq!(page.data[0].parameter_format.as_deref(), Some(format));
        }
    }
}

#[tokio::test]
async fn create_and_delete_templates_hit_the_right_paths() {
    let request_body: Value = serde_json::from_str(&corpus(
        "templates/ruby__templates__create_a_template_with_named_parameters__request.json",
    ))
    .unwrap();
    let stub = Stub::start([ok(
        "templates/ruby__templates__create_a_template_with_named_parameters__response_http200.json",
    )])
    .await;

    let created = client()
        .create_template(&stub.auth(), WABA_ID, &request_body)
        .await
        .unwrap();

    assert_eq!(
        (
            created.id.as_str(),
            created.status.as_str(),
            created.category.as_str()
        ),
        ("1299189242256801", "PENDING", "MARKETING")
    );
    let request = stub.only_request();
    assert_eq!(
        (request.method.clone(), request.path.as_str()),
        (Method::POST, "/v23.0/102290129340398/message_templates")
    );
    assert_eq!(request.json(), request_body);

    let stub = Stub::start([ok(
        "templates/ruby__templates__delete_template_by_name__response_http200.json",
    )])
    .await;
    let client = client();
    client
        .delete_template(&stub.auth(), WABA_ID, "seasonal_promotion", None)
        .await
        .unwrap();
    client
        .delete_template(
            &stub.auth(),
            WABA_ID,
            "seasonal_promotion",
            Some("1299189242256801"),
        )
        .await
        .unwrap();

    let requests = stub.requests();
    for request in &requests {
        assert_eq!(
            (&request.method, request.path.as_str()),
            (&Method::DELETE, "/v23.0/102290129340398/message_templates")
        );
    }
    assert_eq!(
        requests[0].params(),
        [("name".to_owned(), "seasonal_promotion".to_owned())]
    );
    assert_eq!(
        requests[1].params(),
        [
            ("name".to_owned(), "seasonal_promotion".to_owned()),
            ("hsm_id".to_owned(), "1299189242256801".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_rejected_template_creation_still_parses() {
    let stub = Stub::start([ok(
        "templates/bindambc__create_template_response_rejected.json",
    )])
    .await;

    let created = client()
        .create_template(&stub.auth(), WABA_ID, &json!({ "name": "x" }))
        .await
        .unwrap();

    assert_eq!(
        (created.status.as_str(), created.category.as_str()),
        ("REJECTED", "UTILITY")
    );
}

#[tokio::test]
async fn mark_read_body_shape() {
    let expected: Value = serde_json::from_str(&corpus(
        "graph/ruby__messages__read_message_with_a_valid_response__request.json",
    ))
    .unwrap();
    let wamid = expected["message_id"].as_str().unwrap();
    let stub = Stub::start([ok("graph/bindambc__generic_success_true.json")]).await;

    client()
        .mark_read(&stub.auth(), PHONE_NUMBER_ID, wamid)
        .await
        .unwrap();

    let request = stub.only_request();
    assert_eq!(
        (request.method.clone(), request.path.as_str()),
        (Method::POST, "/v23.0/106540352242922/messages")
    );
    assert_eq!(request.json(), expected);
    assert_eq!(request.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn mark_read_of_an_outgoing_message_is_refused_with_details() {
    let refusal =
        corpus("graph/ruby__messages__read_message_with_a_valid_response__response_http400.json");
    let stub = Stub::start([answer(400, refusal)]).await;

    let failure = client()
        .mark_read(&stub.auth(), PHONE_NUMBER_ID, "wamid.x")
        .await
        .unwrap_err();

    let error = api_error(failure);
    assert_eq!(error.code, 100);
    assert!(
        error
            .details
            .unwrap()
            .ends_with("is outgoing. Please use an incoming message ID.")
    );

    let stub = Stub::start([answer(200, r#"{"success":false}"#)]).await;
    let failure = client()
        .mark_read(&stub.auth(), PHONE_NUMBER_ID, "wamid.x")
        .await
        .unwrap_err();
    assert!(
        matches!(failure, GraphFailure::Unreadable { status: 200, .. }),
        "{failure:?}"
    );
}

#[tokio::test]
async fn phone_number_reads_name_quality_and_throughput() {
    let stub = Stub::start([ok("graph/restfb__phone_number_default_response.json")]).await;

    let number = client()
        .phone_number(&stub.auth(), PHONE_NUMBER_ID)
        .await
        .unwrap();

    assert_eq!(number.id, "999999999999999");
    assert_eq!(
        number.verified_name.as_deref(),
        Some("Business Phone Numbers Name")
    );
    assert_eq!(
        number.display_phone_number.as_deref(),
        Some("+593 99 999 9999")
    );
    assert_eq!(number.quality_rating.as_deref(), Some("GREEN"));
    assert_eq!(number.throughput_level.as_deref(), Some("STANDARD"));
    assert_eq!(number.platform_type.as_deref(), Some("CLOUD_API"));
    let request = stub.only_request();
    assert_eq!(
        (request.method.clone(), request.path.as_str()),
        (Method::GET, "/v23.0/106540352242922")
    );
    let params = request.params();
    let fields = &params.iter().find(|(key, _)| key == "fields").unwrap().1;
    for field in [
        "verified_name",
        "display_phone_number",
        "quality_rating",
        "messaging_limit_tier",
        "throughput",
    ] {
        assert!(fields.split(',').any(|f| f == field), "{fields}");
    }

    let stub = Stub::start([ok(
        "graph/ruby__phone_numbers__registered_number_with_success_response__response_http200.json",
    )])
    .await;
    let number = client()
        .phone_number(&stub.auth(), "107878721936019")
        .await
        .unwrap();
    assert_eq!(
        (number.account_mode.as_deref(), number.status.as_deref()),
        (Some("SANDBOX"), Some("DISCONNECTED"))
    );
    assert_eq!(number.messaging_limit_tier.as_deref(), Some("TIER_250"));
    assert_eq!(number.throughput_level, None);
}
