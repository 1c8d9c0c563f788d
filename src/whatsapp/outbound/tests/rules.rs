//! Outbound content against WhatsApp's limits.

use super::*;

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
