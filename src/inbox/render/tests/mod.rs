//! The view and the partial for each kind of message, built from content as it is stored.

mod corpus;
mod sent;
mod xss;

use askama::Template;
use serde_json::{Value, json};

use super::*;
use crate::whatsapp::outbound::Outbound;

/// A customer's message with this content, as the ingest path stores it.
fn inbound(content: &Value) -> StoredMessage<'_> {
    StoredMessage {
        id: MessageId::new(7),
        direction: Direction::Inbound,
        kind: content["type"].as_str().unwrap_or("unknown"),
        content,
        edited: false,
        deleted: false,
        template: None,
        reply_to: None,
    }
}

/// A message we sent with this Graph request as its content, as the send path stores it.
fn outbound(content: &Value) -> StoredMessage<'_> {
    StoredMessage {
        direction: Direction::Outbound,
        ..inbound(content)
    }
}

fn view(message: &StoredMessage<'_>) -> MessageView {
    MessageView::new(message)
}

fn render(view: &MessageView) -> String {
    MessageBodyPartial { message: view }
        .render()
        .expect("the partial renders")
}

#[test]
fn a_text_message_shows_its_formatted_text() {
    let content = json!({"type": "text", "text": {"body": "Hi *Dana*, see https://example.com"}});
    let view = view(&inbound(&content));
    let Body::Text(text) = &view.body else {
        panic!("{view:?}")
    };
    assert!(
        text.as_str()
            .starts_with("Hi <strong>Dana</strong>, see <a href=")
    );
    let html = render(&view);
    assert!(html.contains(r#"data-kind="text""#), "{html}");
    assert!(html.contains(&format!(">{text}</div>")), "{html}");
}

#[test]
fn media_point_at_the_media_route_with_players_and_a_download() {
    let image = json!({"type": "image", "image": {"id": "1", "caption": "Taj Mahal", "mime_type": "image/jpeg"}});
    let html = render(&view(&inbound(&image)));
    assert!(
        html.contains(
            r#"<img class="message-image" src="/inbox/media/7" loading="lazy" alt="Taj Mahal""#
        ),
        "{html}"
    );
    assert!(html.contains("<figcaption"), "{html}");
    let sticker = json!({"type": "sticker", "sticker": {"id": "1", "animated": true}});
    let html = render(&view(&inbound(&sticker)));
    assert!(
        html.contains(r#"src="/inbox/media/7" loading="lazy" alt="Sticker""#),
        "{html}"
    );
    let video = json!({"type": "video", "video": {"id": "1"}});
    let html = render(&view(&inbound(&video)));
    assert!(
        html.contains(r#"src="/inbox/media/7" controls preload="none""#),
        "{html}"
    );
    let voice = json!({"type": "audio", "audio": {"id": "1", "voice": true}});
    let html = render(&view(&inbound(&voice)));
    assert!(
        html.contains(
            r#"<audio class="message-audio" src="/inbox/media/7" controls preload="none""#
        )
    );
    assert!(html.contains("Voice message"), "{html}");
    let document = json!({"type": "document", "document": {"id": "1", "filename": "receipt \"1\".pdf", "file_size": "303833"}});
    let html = render(&view(&inbound(&document)));
    assert!(
        html.contains(r#"href="/inbox/media/7" download="receipt &#34;1&#34;.pdf""#),
        "{html}"
    );
    assert!(html.contains("303.83 kB"), "{html}");
}

#[test]
fn a_location_links_to_the_map_and_shows_its_place() {
    let content = json!({"type": "location", "location": {
        "latitude": 37.44221496582, "longitude": -122.16165924072,
        "name": "Philz Coffee", "address": "101 Forest Ave", "url": "https://philzcoffee.com/"}});
    let html = render(&view(&inbound(&content)));
    assert!(
        html.contains(
            r#"href="https://www.openstreetmap.org/?mlat=37.44221496582&#38;mlon=-122.16165924072#map=16/37.44221496582/-122.16165924072""#
        ),
        "{html}"
    );
    assert!(html.contains("Philz Coffee") && html.contains("101 Forest Ave"));
    let nowhere = json!({"type": "location", "location": {"latitude": 91, "longitude": 0}});
    let Body::Location(location) = view(&inbound(&nowhere)).body else {
        panic!()
    };
    assert_eq!((location.map, location.coordinates), (None, None));
}

#[test]
fn contact_cards_show_names_phones_and_emails() {
    let content = json!({"type": "contacts", "contacts": [
        {"name": {"formatted_name": "Barbara J. Johnson"}, "org": {"company": "Social Tsunami"},
         "phones": [{"phone": "+1 (415) 555-0829", "type": "MOBILE"}], "emails": [{"email": "b@example.com"}]},
        {"vcard": "BEGIN:VCARD\nFN:Sheena Nelson\nEND:VCARD", "phones": [{"phone": "15551234567"}]},
        {"name": {"first_name": "Monica"}}
    ]});
    let Body::Contacts(cards) = view(&inbound(&content)).body else {
        panic!()
    };
    let names: Vec<&str> = cards.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Barbara J. Johnson", "Sheena Nelson", "Monica"]);
    assert_eq!(cards[0].phones, ["+1 (415) 555-0829"]);
    assert_eq!(cards[0].emails, ["b@example.com"]);
    assert_eq!(cards[0].organization.as_deref(), Some("Social Tsunami"));
}

#[test]
fn replies_to_buttons_and_lists_show_the_chosen_title() {
    let cases = [
        json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "y", "title": "Yes"}}}),
        json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "2", "title": "Yes", "description": "Next day"}}}),
        json!({"type": "button", "button": {"payload": "p", "text": "Yes"}}),
    ];
    for content in cases {
        let view = view(&inbound(&content));
        let Body::Choice(choice) = &view.body else {
            panic!("{view:?}")
        };
        assert_eq!(choice.title, "Yes");
        assert!(render(&view).contains(r#"<span class="message-choice-title">Yes</span>"#));
    }
}

#[test]
fn a_completed_flow_shows_the_answers_without_its_token() {
    let content = json!({"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {
        "name": "flow", "body": "Sent",
        "response_json": "{\"flow_token\":\"secret\",\"rating\":\"4\",\"topics\":[\"a\",\"b\"]}"}}});
    let Body::Form(form) = view(&inbound(&content)).body else {
        panic!()
    };
    let fields: Vec<(&str, &str)> = form
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(fields, [("rating", "4"), ("topics", "a, b")]);
}

#[test]
fn an_order_lists_its_items_with_quantity_and_price() {
    let content = json!({"type": "order", "order": {"catalog_id": "1", "text": "Love these!", "product_items": [
        {"product_retailer_id": "di9ozbzfi4", "quantity": 2, "item_price": 30, "currency": "USD"},
        {"product_retailer_id": "nqryix03ez", "quantity": 1, "item_price": 25.5, "currency": "USD"}]}});
    let Body::Order(order) = view(&inbound(&content)).body else {
        panic!()
    };
    assert_eq!(
        order.items[1],
        OrderItem {
            product: "nqryix03ez".into(),
            quantity: "1".into(),
            price: Some("25.5 USD".into())
        }
    );
    assert_eq!(order.note.as_ref().map(Markup::as_str), Some("Love these!"));
}

#[test]
fn notices_and_unsupported_messages_say_what_happened() {
    let system = json!({"type": "system", "system": {"body": "User A changed from 1 to 2", "type": "user_changed_number"}});
    assert_eq!(
        view(&inbound(&system)).body,
        Body::Notice("User A changed from 1 to 2".into())
    );
    let unsupported = json!({"type": "unsupported", "unsupported": {"type": "poll"}, "errors": [{
        "code": 131051, "title": "Message type unknown",
        "error_data": {"details": "Message type is currently not supported."}}]});
    let html = render(&view(&inbound(&unsupported)));
    assert!(
        html.contains("WhatsApp doesn't pass poll messages on to the inbox"),
        "{html}"
    );
    assert!(
        html.contains("WhatsApp says: Message type is currently not supported."),
        "{html}"
    );
    let unknown = json!({"type": "hologram"});
    assert_eq!(
        view(&inbound(&unknown)).body,
        Body::Unsupported(Unsupported {
            kind: Some("hologram".into()),
            reason: None
        })
    );
    let reaction = Outbound::Reaction {
        message_id: "w1".into(),
        emoji: "👍".into(),
    }
    .to_request("15550001111", None);
    assert_eq!(
        view(&outbound(&reaction)).body,
        Body::Notice("Reacted 👍 to a message".into())
    );
}

#[test]
fn a_message_without_a_type_reads_as_the_content_it_has() {
    let content = json!({"id": "w", "location": {"latitude": 37.7, "longitude": -122.4, "name": "San Francisco"}});
    assert_eq!(view(&inbound(&content)).body.kind(), "location");
}

#[test]
fn edits_deletions_replies_forwards_products_and_ads_are_marked() {
    let content = json!({"type": "text", "text": {"body": "the"},
        "context": {"id": "w0", "forwarded": true, "referred_product": {"catalog_id": "c", "product_retailer_id": "sku-1"}},
        "referral": {"source_url": "https://fb.me/x", "source_type": "ad", "headline": "Chat with us", "body": "Summer sale"}});
    let message = StoredMessage {
        edited: true,
        reply_to: Some(ReplyTo::Found {
            direction: Direction::Outbound,
            body: "It ships <today>",
        }),
        ..inbound(&content)
    };
    let html = render(&view(&message));
    assert!(
        html.contains(r#"class="message-quote message-quote--business" data-testid="message-quote">It ships &#60;today&#62;<"#),
        "{html}"
    );
    for part in [
        "data-testid=\"message-forwarded\">Forwarded<",
        "sku-1",
        "data-testid=\"message-edited\"",
        "Chat with us",
        "Summer sale",
        "href=\"https://fb.me/x\"",
    ] {
        assert!(html.contains(part), "{part}: {html}");
    }
    let deleted = StoredMessage {
        deleted: true,
        edited: true,
        reply_to: Some(ReplyTo::Missing),
        ..inbound(&content)
    };
    let html = render(&view(&deleted));
    assert!(html.contains("This message was deleted"), "{html}");
    for hidden in [
        "quote",
        "edited",
        ">the<",
        "sku-1",
        "Summer sale",
        "Forwarded",
    ] {
        assert!(!html.contains(hidden), "{hidden}: {html}");
    }
    let product = StoredMessage {
        reply_to: Some(ReplyTo::Missing),
        ..inbound(&content)
    };
    assert_eq!(view(&product).quote, None);
    let text = json!({"type": "text", "text": {"body": "And this?"}, "context": {"id": "w0"}});
    let lost = StoredMessage {
        reply_to: Some(ReplyTo::Missing),
        ..inbound(&text)
    };
    assert!(render(&view(&lost)).contains("A message not shown here"));
}

#[test]
fn reactions_show_on_the_message_they_react_to() {
    let mut reactions = Reactions::default();
    reactions.add("w1", Direction::Inbound, Some("👍"));
    let content = json!({"type": "text", "text": {"body": "Thanks"}});
    let mut view = view(&inbound(&content));
    view.reactions = reactions.on("w1");
    let html = render(&view);
    assert!(
        html.contains(r#"<li class="message-reaction" title="The customer">👍</li>"#),
        "{html}"
    );
}
