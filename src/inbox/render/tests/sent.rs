//! Messages we sent: their content is the Graph request body the send path stored.

use super::*;
use crate::whatsapp::outbound::{MediaKind, MediaSource, Outbound, ReplyButton};

fn sent(content: &Outbound) -> Value {
    content.to_request("15550001111", None)
}

#[test]
fn media_we_sent_by_link_are_served_by_the_media_route_too() {
    let content = sent(&Outbound::Media {
        kind: MediaKind::Document,
        source: MediaSource::Link("https://example.com/a.pdf".into()),
        caption: Some("Your _invoice_".into()),
        filename: Some("invoice.pdf".into()),
    });
    let view = view(&outbound(&content));
    let Body::Document(document) = &view.body else {
        panic!("{view:?}")
    };
    assert_eq!(document.src, "/inbox/media/7");
    assert_eq!(document.filename, "invoice.pdf");
    assert_eq!(
        document.caption.as_ref().map(Markup::as_str),
        Some("Your <em>invoice</em>")
    );
}

#[test]
fn buttons_we_sent_show_the_text_and_the_options() {
    let content = sent(&Outbound::Buttons {
        body: "Confirm *tomorrow*?".into(),
        header: Some("Appointment".into()),
        footer: None,
        buttons: vec![
            ReplyButton {
                id: "y".into(),
                title: "Yes".into(),
            },
            ReplyButton {
                id: "n".into(),
                title: "No".into(),
            },
        ],
    });
    let Body::Prompt(prompt) = view(&outbound(&content)).body else {
        panic!()
    };
    assert_eq!(prompt.body.as_str(), "Confirm <strong>tomorrow</strong>?");
    assert_eq!(prompt.header.as_deref(), Some("Appointment"));
    assert_eq!(prompt.options, ["Yes", "No"]);
}

#[test]
fn a_template_shows_its_text_as_the_customer_read_it() {
    let definition = json!([
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
        {"type": "BODY", "text": "Hi {{1}}, your order *{{2}}* has shipped."},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track it", "url": "https://example.com/t/{{1}}"}]}
    ]);
    let content = sent(&Outbound::Template {
        name: "order_update".into(),
        language: "en_US".into(),
        components: json!([
            {"type": "header", "parameters": [{"type": "text", "text": "#1042"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Dana"}, {"type": "text", "text": "#1042"}]},
            {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "1042"}]}
        ]),
    });
    let message = StoredMessage {
        template: Some(TemplateDefinition {
            components: &definition,
            parameter_format: Some("POSITIONAL"),
        }),
        ..outbound(&content)
    };
    let Body::Template(template) = view(&message).body else {
        panic!()
    };
    let text = template.text.expect("filled in");
    assert_eq!(
        text.body.as_str(),
        "Hi Dana, your order <strong>#1042</strong> has shipped."
    );
    assert_eq!(text.header.as_deref(), Some("Order #1042"));
    assert_eq!(text.buttons, ["Track it"]);

    let unknown = view(&outbound(&content));
    let Body::Template(template) = &unknown.body else {
        panic!()
    };
    assert_eq!(template.values, ["#1042", "Dana", "#1042", "1042"]);
    let html = render(&unknown);
    assert!(html.contains("Template order_update (en_US)"), "{html}");
    assert!(html.contains("With #1042, Dana, #1042, 1042"), "{html}");
}
