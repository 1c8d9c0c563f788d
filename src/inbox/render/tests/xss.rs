//! A customer controls every string of their messages: whatever they put in a text, a caption, a
//! file name, a contact card, a location, an order or the ad they came from, the partial's HTML holds
//! only its own tags and attributes, with links to http(s) or the media route, and their text escaped.

use super::*;

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "<img src=x onerror=alert(1)>";
const JS: &str = "javascript:alert(1)";
const QUOTES: &str = "\"' onmouseover=\"alert(1)";

/// The tags and attributes the partial writes, and nothing else may appear.
const TAGS: &str = "a aside audio blockquote br code dd div dl dt em figcaption figure img li ol p \
                    s span strong table tbody td th thead tr ul video";
const ATTRIBUTES: &str = "class data-testid data-kind href src alt rel target loading controls \
                          preload download title value scope";

/// Every tag of `html` with its attributes. The partial writes attribute values in double quotes,
/// and escaped text has no `<`, `>` or `"`, so reading up to the next `>` finds each tag whole.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let close = rest[open..]
            .find('>')
            .map(|n| open + n)
            .expect("a closed tag");
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        let mut attributes = Vec::new();
        while !attrs.trim().is_empty() {
            attrs = attrs.trim_start();
            let end = attrs.find([' ', '=']).unwrap_or(attrs.len());
            let attribute = attrs[..end].to_owned();
            attrs = &attrs[end..];
            let value = match attrs.strip_prefix("=\"") {
                Some(quoted) => {
                    let end = quoted.find('"').expect("a closed attribute");
                    attrs = &quoted[end + 1..];
                    quoted[..end].to_owned()
                }
                None => String::new(),
            };
            attributes.push((attribute, value));
        }
        found.push((name.to_owned(), attributes));
    }
    found
}

fn assert_inert(html: &str) {
    for (name, attributes) in tags(html) {
        let name = name.trim_start_matches('/');
        assert!(
            TAGS.split_whitespace().any(|tag| tag == name),
            "<{name}> in {html}"
        );
        for (attribute, value) in attributes {
            assert!(
                ATTRIBUTES
                    .split_whitespace()
                    .any(|known| known == attribute),
                "{attribute} in {html}"
            );
            if attribute == "href" {
                assert!(
                    ["https://", "http://", "/inbox/media/"]
                        .iter()
                        .any(|prefix| value.starts_with(prefix)),
                    "href {value} in {html}"
                );
            }
            if attribute == "src" {
                assert!(value.starts_with("/inbox/media/"), "src {value} in {html}");
            }
        }
    }
    assert!(
        !html.contains("<script") && !html.contains("<img src=x"),
        "{html}"
    );
}

#[test]
fn hostile_strings_anywhere_in_a_message_render_inert() {
    let hostile = format!("{SCRIPT} {IMG} [x]({JS}) {JS} *{SCRIPT}* https://example.com/{QUOTES}");
    let h = hostile.as_str();
    let contents = [
        json!({"type": "text", "text": {"body": h}, "context": {"forwarded": true,
            "referred_product": {"catalog_id": h, "product_retailer_id": h}},
            "referral": {"source_url": JS, "headline": h, "body": h, "source_type": h}}),
        json!({"type": "image", "image": {"id": "1", "caption": h}}),
        json!({"type": "video", "video": {"id": "1", "caption": h}}),
        json!({"type": "document", "document": {"id": "1", "caption": h, "filename": h}}),
        json!({"type": "location", "location": {"latitude": 1, "longitude": 2, "name": h, "address": h, "url": JS}}),
        json!({"type": "contacts", "contacts": [{"name": {"formatted_name": h}, "org": {"company": h},
            "phones": [{"phone": h}], "emails": [{"email": h}]}]}),
        json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"title": h, "description": h}}}),
        json!({"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {
            "response_json": serde_json::to_string(&json!({ h: h })).unwrap()}}}),
        json!({"type": "interactive", "interactive": {"type": "button", "header": {"text": h},
            "body": {"text": h}, "footer": {"text": h},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "1", "title": h}}]}}}),
        json!({"type": "order", "order": {"text": h, "product_items": [
            {"product_retailer_id": h, "quantity": h, "item_price": h, "currency": h}]}}),
        json!({"type": "template", "template": {"name": h, "language": {"code": h}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": h}]}]}}),
        json!({"type": "system", "system": {"body": h}}),
        json!({"type": h, "errors": [{"code": 1, "title": h}]}),
        json!({"type": "unsupported", "unsupported": {"type": h}, "errors": [{"code": 1, "details": h}]}),
    ];
    for content in &contents {
        let mut view = view(&StoredMessage {
            reply_to: Some(ReplyTo::Found {
                direction: Direction::Inbound,
                body: h,
            }),
            edited: true,
            ..inbound(content)
        });
        let mut reactions = Reactions::default();
        reactions.add("w", Direction::Inbound, Some(h));
        view.reactions = reactions.on("w");
        let html = render(&view);
        assert_inert(&html);
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{content}: {html}"
        );
    }
}

#[test]
fn a_template_with_its_definition_escapes_its_values_and_its_text() {
    let definition = json!([
        {"type": "HEADER", "format": "TEXT", "text": "<b>{{1}}</b>"},
        {"type": "BODY", "text": "Hi {{1}} <i>"},
        {"type": "FOOTER", "text": SCRIPT},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": IMG}]}
    ]);
    let content = json!({"type": "template", "template": {"name": "t", "language": {"code": "en"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": SCRIPT}]},
            {"type": "body", "parameters": [{"type": "text", "text": IMG}]}]}});
    let message = StoredMessage {
        template: Some(TemplateDefinition {
            components: &definition,
            parameter_format: None,
        }),
        ..inbound(&content)
    };
    let html = render(&view(&message));
    assert_inert(&html);
    assert!(
        html.contains("Hi &#60;img src=x onerror=alert(1)&#62; &#60;i&#62;"),
        "{html}"
    );
    assert!(
        html.contains("&#60;b&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#60;/b&#62;"),
        "{html}"
    );
}

#[test]
fn the_exact_html_of_a_hostile_text_message() {
    let content = json!({"type": "text", "text": {"body": format!("{SCRIPT}\n{IMG} {JS}")}});
    let Body::Text(text) = view(&inbound(&content)).body else {
        panic!()
    };
    assert_eq!(
        text.as_str(),
        "&#60;script&#62;alert(1)&#60;/script&#62;<br>&#60;img src=x onerror=alert(1)&#62; javascript:alert(1)"
    );
}
