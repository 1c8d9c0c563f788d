//! Outbound content against Meta's own request examples.

use super::*;

#[test]
fn text_matches_meta_example() {
    let request = text("text-message-content").to_request(TO, None);
    assert_eq!(request, corpus("openapi__send_request__text_message.json"));
}

#[test]
fn text_with_preview_url_matches_meta_example() {
    let expected = corpus("openapi__send_request__text_message_with_preview_url.json");
    let message = Outbound::Text {
        body: "Please visit https://youtu.be/hpltvTEiRrY.".into(),
        preview_url: true,
    };
    let request = message.to_request(TO, None);
    assert_eq!(request["text"], expected["text"]);
    assert_eq!(request["to"], expected["to"]);
}

#[test]
fn a_reply_carries_the_context_message_id() {
    let request = text("<TEXT_MSG_CONTENT>").to_request(TO, Some("<MSGID_OF_PREV_MSG>"));
    assert_eq!(
        request,
        corpus("openapi__send_request__reply_to_text_message.json")
    );
    let (to, expected) =
        ruby("ruby__messages__send_message_accept_message_id_to_reply_a_message__request.json");
    let request = text("gracias").to_request(&to, expected["context"]["message_id"].as_str());
    assert_eq!(request["context"], expected["context"]);
}

#[test]
fn media_by_id_and_by_link_match_meta_examples() {
    use MediaKind::*;
    let cases = [
        (
            Image,
            MediaSource::Id("<IMAGE_OBJECT_ID>".into()),
            "image_message_by_id",
        ),
        (
            Image,
            MediaSource::Link("http(s)://image-url".into()),
            "image_message_by_url",
        ),
        (
            Audio,
            MediaSource::Id("<AUDIO_OBJECT_ID>".into()),
            "audio_message_by_id",
        ),
        (
            Audio,
            MediaSource::Link("<http(s)://audio-url>".into()),
            "audio_message_by_url",
        ),
        (
            Sticker,
            MediaSource::Id("<MEDIA_OBJECT_ID>".into()),
            "sticker_message_by_id",
        ),
    ];
    for (kind, source, name) in cases {
        let expected = corpus(&format!("openapi__send_request__{name}.json"));
        assert_eq!(media(kind, source).to_request(TO, None), expected, "{name}");
    }
}

#[test]
fn a_reply_with_an_image_matches_meta_example() {
    let request = media(
        MediaKind::Image,
        MediaSource::Id("<IMAGE_OBJECT_ID>".into()),
    )
    .to_request(TO, Some("<MSGID_OF_PREV_MSG>"));
    assert_eq!(
        request,
        corpus("openapi__send_request__reply_to_image_message_by_id.json")
    );
}

#[test]
fn captioned_video_and_document_with_filename_match_meta_examples() {
    let video = Outbound::Media {
        kind: MediaKind::Video,
        source: MediaSource::Id("<VIDEO_OBJECT_ID>".into()),
        caption: Some("<VIDEO_CAPTION_TEXT>".into()),
        filename: None,
    };
    assert_eq!(
        video.to_request(TO, None),
        corpus("openapi__send_request__video_message_by_id.json")
    );
    let document = Outbound::Media {
        kind: MediaKind::Document,
        source: MediaSource::Id("<DOCUMENT_OBJECT_ID>".into()),
        caption: Some("<DOCUMENT_CAPTION_TO_SEND>".into()),
        filename: Some("<DOCUMENT_FILENAME>".into()),
    };
    assert_eq!(
        document.to_request(TO, None),
        corpus("openapi__send_request__document_message_by_id.json")
    );
    let (to, expected) = ruby("ruby__messages__send_document_message_with_file_name__request.json");
    let document = Outbound::Media {
        kind: MediaKind::Document,
        source: MediaSource::Id("1753306975419607".into()),
        caption: Some("Ignacio Chiazzo Profile".into()),
        filename: Some("custom_name".into()),
    };
    assert_eq!(document.to_request(&to, None), expected);
}

#[test]
fn reply_buttons_match_meta_examples() {
    let message = Outbound::Buttons {
        body: "<BUTTON_TEXT>".into(),
        header: None,
        footer: None,
        buttons: vec![
            button("<UNIQUE_BUTTON_ID_1>", "<BUTTON_TITLE_1>"),
            button("<UNIQUE_BUTTON_ID_2>", "<BUTTON_TITLE_2>"),
        ],
    };
    assert_eq!(
        message.to_request(TO, None),
        corpus("openapi__send_request__reply_button.json")
    );
    let (to, expected) = ruby(
        "ruby__messages__send_interactive_reply_buttons_with_success_response_by_passing_interactive_json__request.json",
    );
    let message = Outbound::Buttons {
        body: "I am the body!".into(),
        header: Some("I am the header!".into()),
        footer: Some("I am the footer!".into()),
        buttons: vec![
            button("button_1", "This is button 1!"),
            button("button_2", "This is button 2!"),
        ],
    };
    assert_eq!(message.to_request(&to, None), expected);
}

#[test]
fn list_matches_meta_example() {
    let section = |n: u8| ListSection {
        title: Some(format!("<LIST_SECTION_{n}_TITLE>")),
        rows: (1..=2)
            .map(|r| {
                row(
                    &format!("<LIST_SECTION_{n}_ROW_{r}_ID>"),
                    &format!("<SECTION_{n}_ROW_{r}_TITLE>"),
                    Some(&format!("<SECTION_{n}_ROW_{r}_DESC>")),
                )
            })
            .collect(),
    };
    let message = Outbound::List {
        body: "<BODY_TEXT>".into(),
        header: Some("<HEADER_TEXT>".into()),
        footer: Some("<FOOTER_TEXT>".into()),
        button: "<BUTTON_TEXT>".into(),
        sections: vec![section(1), section(2)],
    };
    assert_eq!(
        message.to_request(TO, None),
        corpus("openapi__send_request__list_message.json")
    );
}

#[test]
fn reaction_matches_meta_examples() {
    let message = Outbound::Reaction {
        message_id: "wamid.HBgLM...".into(),
        emoji: "😀".into(),
    };
    let expected = corpus("openapi__send_request__reply_with_reaction_message.json");
    assert_eq!(message.to_request(TO, None), expected);
    let (to, expected) = ruby("ruby__messages__send_reaction_with_success_response__request.json");
    let message = Outbound::Reaction {
        message_id: "wamid.HBgLMTM0Mzc3NzI5MTAVAgARGBI2REVCOTdDQkIyMTcyQUQ1MkUA".into(),
        emoji: "🕐".into(),
    };
    assert_eq!(message.to_request(&to, None), expected);
}

#[test]
fn template_with_components_matches_meta_examples() {
    for name in [
        "openapi__send_request__message_template_interactive.json",
        "openapi__send_request__message_template_media.json",
    ] {
        let expected = corpus(name);
        let message = Outbound::Template {
            name: "template-name".into(),
            language: "language-and-locale-code".into(),
            components: expected["template"]["components"].clone(),
        };
        assert_eq!(message.to_request(TO, None), expected, "{name}");
    }
    let (to, expected) = ruby(
        "ruby__messages__send_template_with_success_response_by_passing_components_json__request.json",
    );
    let message = Outbound::Template {
        name: "sample_shipping_confirmation".into(),
        language: "en_US".into(),
        components: serde_json::json!([{ "type": "body", "parameters": [{ "type": "TEXT", "text": "2 hours" }] }]),
    };
    assert_eq!(message.to_request(&to, None), expected);
}

#[test]
fn a_template_without_parameters_sends_no_components() {
    let message = Outbound::Template {
        name: "hello_world".into(),
        language: "en_US".into(),
        components: json!([]),
    };
    let request = message.to_request("15550001111", None);
    assert_eq!(
        request["template"],
        json!({ "name": "hello_world", "language": { "code": "en_US" } })
    );
}

#[test]
fn kind_free_form_and_summary_read_as_in_the_inbox() {
    let photo = Outbound::Media {
        kind: MediaKind::Image,
        source: MediaSource::Id("1".into()),
        caption: Some("Receipt".into()),
        filename: None,
    };
    let document = Outbound::Media {
        kind: MediaKind::Document,
        source: MediaSource::Link("https://example.com/a.pdf".into()),
        caption: None,
        filename: Some("invoice.pdf".into()),
    };
    let reaction = Outbound::Reaction {
        message_id: "wamid.1".into(),
        emoji: "👍".into(),
    };
    let unreaction = Outbound::Reaction {
        message_id: "wamid.1".into(),
        emoji: String::new(),
    };
    let template = Outbound::Template {
        name: "order_update".into(),
        language: "en".into(),
        components: json!([]),
    };
    let cases = [
        (text("Hi"), "text", true, "Hi"),
        (photo, "image", true, "[Photo] Receipt"),
        (document, "document", true, "[Document] invoice.pdf"),
        (
            media(MediaKind::Sticker, MediaSource::Id("2".into())),
            "sticker",
            true,
            "[Sticker]",
        ),
        (
            buttons(vec![button("y", "Yes")]),
            "interactive",
            true,
            "Pick one",
        ),
        (
            list("Open", vec![section("a", 1)]),
            "interactive",
            true,
            "Pick one",
        ),
        (reaction, "reaction", true, "Reacted 👍"),
        (unreaction, "reaction", true, "Removed a reaction"),
        (template, "template", false, "Template order_update"),
    ];
    for (message, kind, free_form, summary) in cases {
        assert_eq!(message.kind(), kind, "{message:?}");
        assert_eq!(message.is_free_form(), free_form, "{message:?}");
        assert_eq!(message.summary(), summary, "{message:?}");
    }
}

#[test]
fn stored_content_round_trips_through_json() {
    let message = Outbound::Media {
        kind: MediaKind::Image,
        source: MediaSource::Id("42".into()),
        caption: None,
        filename: None,
    };
    let stored = serde_json::to_value(&message).unwrap();
    assert_eq!(
        stored,
        json!({ "type": "media", "kind": "image", "source": { "id": "42" } })
    );
    assert_eq!(serde_json::from_value::<Outbound>(stored).unwrap(), message);
    let parsed: Outbound = serde_json::from_value(json!({ "type": "text", "body": "Hi" })).unwrap();
    assert_eq!(parsed, text("Hi"));
}
