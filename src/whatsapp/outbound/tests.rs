//! Outbound content against Meta's own request examples and WhatsApp's limits.

use super::*;

const GRAPH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/graph");
/// The `to` of Meta's OpenAPI examples.
const TO: &str = "{{Recipient-Phone-Number}}";

fn corpus(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{GRAPH}/{name}"))
        .unwrap_or_else(|e| panic!("read {name} (is ../shared beside the repo?): {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The ruby cassettes send `to` as a JSON number; we always send the wa_id as a string.
fn ruby(name: &str) -> (String, Value) {
    let mut request = corpus(name);
    let to = request["to"].as_u64().unwrap().to_string();
    request["to"] = to.clone().into();
    (to, request)
}

fn text(body: &str) -> Outbound {
    Outbound::Text {
        body: body.into(),
        preview_url: false,
    }
}

fn media(kind: MediaKind, source: MediaSource) -> Outbound {
    Outbound::Media {
        kind,
        source,
        caption: None,
        filename: None,
    }
}

fn button(id: &str, title: &str) -> ReplyButton {
    ReplyButton {
        id: id.into(),
        title: title.into(),
    }
}

fn row(id: &str, title: &str, description: Option<&str>) -> ListRow {
    ListRow {
        id: id.into(),
        title: title.into(),
        description: description.map(Into::into),
    }
}

fn buttons(buttons: Vec<ReplyButton>) -> Outbound {
    Outbound::Buttons {
        body: "Pick one".into(),
        header: None,
        footer: None,
        buttons,
    }
}

fn list(button: &str, sections: Vec<ListSection>) -> Outbound {
    Outbound::List {
        body: "Pick one".into(),
        header: None,
        footer: None,
        button: button.into(),
        sections,
    }
}

fn section(title: &str, rows: usize) -> ListSection {
    let rows = (0..rows)
        .map(|i| row(&format!("{title}-{i}"), &format!("Row {i}"), None))
        .collect();
    ListSection {
        title: Some(title.into()),
        rows,
    }
}

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

#[test]
fn text_must_have_1_to_4096_characters() {
    assert!(text(&"é".repeat(4096)).validate().is_ok());
    assert!(
        text(&"a".repeat(4097))
            .validate()
            .unwrap_err()
            .contains("4097")
    );
    assert!(text("").validate().is_err());
    assert!(text("  \n").validate().is_err());
}

#[test]
fn reply_buttons_are_1_to_3_with_unique_ids_and_short_titles() {
    let three = vec![
        button("a", "A"),
        button("b", "B"),
        button("c", &"c".repeat(20)),
    ];
    assert!(buttons(three).validate().is_ok());
    assert!(buttons(vec![]).validate().is_err());
    let four = vec![
        button("a", "A"),
        button("b", "B"),
        button("c", "C"),
        button("d", "D"),
    ];
    assert!(buttons(four).validate().is_err());
    assert!(
        buttons(vec![button("a", "A"), button("a", "B")])
            .validate()
            .unwrap_err()
            .contains("\"a\"")
    );
    assert!(
        buttons(vec![button("a", &"x".repeat(21))])
            .validate()
            .is_err()
    );
    assert!(buttons(vec![button("a", "")]).validate().is_err());
}

#[test]
fn lists_have_a_short_button_and_at_most_10_rows_in_all() {
    assert!(
        list("Choose", vec![section("a", 4), section("b", 6)])
            .validate()
            .is_ok()
    );
    assert!(
        list(&"b".repeat(21), vec![section("a", 1)])
            .validate()
            .is_err()
    );
    let eleven = list("Choose", vec![section("a", 5), section("b", 6)]);
    assert!(eleven.validate().unwrap_err().contains("11"));
    assert!(list("Choose", vec![]).validate().is_err());
    let untitled = ListSection {
        title: None,
        rows: vec![row("x", "X", None)],
    };
    assert!(list("Choose", vec![untitled.clone()]).validate().is_ok());
    assert!(
        list("Choose", vec![untitled, section("b", 1)])
            .validate()
            .is_err()
    );
    let duplicate = ListSection {
        title: Some("b".into()),
        rows: vec![row("a-0", "Again", None)],
    };
    assert!(
        list("Choose", vec![section("a", 1), duplicate])
            .validate()
            .is_err()
    );
}

#[test]
fn captions_are_at_most_1024_characters_and_only_where_whatsapp_shows_them() {
    let captioned = |kind, caption: String| Outbound::Media {
        kind,
        source: MediaSource::Id("1".into()),
        caption: Some(caption),
        filename: None,
    };
    assert!(
        captioned(MediaKind::Image, "c".repeat(1024))
            .validate()
            .is_ok()
    );
    assert!(
        captioned(MediaKind::Image, "c".repeat(1025))
            .validate()
            .is_err()
    );
    assert!(
        captioned(MediaKind::Sticker, "hi".into())
            .validate()
            .is_err()
    );
    assert!(
        media(MediaKind::Image, MediaSource::Link("ftp://x".into()))
            .validate()
            .is_err()
    );
    assert!(
        media(MediaKind::Image, MediaSource::Id(String::new()))
            .validate()
            .is_err()
    );
}

#[test]
fn templates_need_a_name_a_language_and_a_components_list() {
    let template = |name: &str, components| Outbound::Template {
        name: name.into(),
        language: "en".into(),
        components,
    };
    assert!(template("hello_world", json!([])).validate().is_ok());
    assert!(template("", json!([])).validate().is_err());
    assert!(
        template("hello_world", json!({ "type": "body" }))
            .validate()
            .is_err()
    );
}
