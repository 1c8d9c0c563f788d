//! Checks of the send's header against the template's: text placeholders, or one image, video,
//! document or location.
//!
//! <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/components#headers>

use serde_json::Value;

use super::definition::Template;
use super::json::{param_type, parameters, str_of};
use super::parameters::check_text_parameters;
use super::placeholders::placeholders;
use super::problems::{Problems, or_nothing};

/// What a template's header takes at send time.
pub(super) enum HeaderNeeds<'a> {
    Nothing,
    Text(Vec<&'a str>),
    /// One parameter of this type: image, video, document or location.
    Object(&'static str),
    /// A header this module does not model (e.g. PRODUCT); left to Meta.
    Unchecked,
}

/// What `header` (the definition's HEADER component) takes at send time.
pub(super) fn header_needs(header: &Value) -> HeaderNeeds<'_> {
    let format = header
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or("TEXT");
    match format.to_ascii_uppercase().as_str() {
        "TEXT" => match placeholders(str_of(header, "text")) {
            names if names.is_empty() => HeaderNeeds::Nothing,
            names => HeaderNeeds::Text(names),
        },
        "IMAGE" => HeaderNeeds::Object("image"),
        "VIDEO" => HeaderNeeds::Object("video"),
        "DOCUMENT" => HeaderNeeds::Object("document"),
        "LOCATION" => HeaderNeeds::Object("location"),
        _ => HeaderNeeds::Unchecked,
    }
}

/// Checks the send's header components against the template's header.
pub(super) fn check_header(template: &Template<'_>, sent: &[&Value], problems: &mut Problems) {
    if sent.len() > 1 {
        problems.count(format!("header is given {} times", sent.len()));
    }
    let params = sent.first().map_or(&[][..], |c| parameters(c));
    let needs = template.header.map_or(HeaderNeeds::Nothing, header_needs);
    match needs {
        HeaderNeeds::Nothing if !params.is_empty() => problems.count(format!(
            "header takes no parameters (the template's header has no variables), got {}",
            params.len()
        )),
        HeaderNeeds::Nothing | HeaderNeeds::Unchecked => {}
        HeaderNeeds::Text(names) => {
            check_text_parameters(
                "header",
                &names,
                template.named,
                &["text"],
                params,
                problems,
            );
        }
        HeaderNeeds::Object(kind) => check_header_object(kind, params, problems),
    }
}

/// Checks the parameters of a header that takes one `kind` object (image, video, document or
/// location).
fn check_header_object(kind: &str, params: &[Value], problems: &mut Problems) {
    let needs = match kind {
        "image" => "an image (link or id)",
        "video" => "a video (link or id)",
        "document" => "a document (link or id)",
        _ => "a location (latitude and longitude)",
    };
    let [param] = params else {
        // Meta answers a missing media header with 132012 ("expected IMAGE, received UNKNOWN").
        return match params.len() {
            0 => problems.format(format!("header needs {needs}, got nothing")),
            n => problems.count(format!("header expects 1 parameter ({needs}), got {n}")),
        };
    };
    let given = param_type(param);
    if given != kind {
        return problems.format(format!("header needs {needs}, got {}", or_nothing(&given)));
    }
    let object = param.get(kind);
    let present = |key: &str| match object.and_then(|o| o.get(key)) {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Number(_)) => true,
        _ => false,
    };
    if kind == "location" {
        if !(present("latitude") && present("longitude")) {
            problems.format("header location needs latitude and longitude");
        }
    } else if !(present("link") || present("id")) {
        problems.format(format!("header {kind} needs a link or an id"));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::whatsapp::template_check::fixtures::*;
    use crate::whatsapp::template_check::{TemplateMismatch, check};

    fn happy_hour() -> Value {
        let list = corpus!("templates/ruby__templates__get_templates__response_http200.json");
        listed(&list, "sample_happy_hour_announcement", "en_US")
    }

    #[test]
    fn a_media_header_of_the_wrong_type_names_both_types() {
        let components = happy_hour();
        let send = json!([
            header(json!([{"type": "image", "image": {"id": "554066036582230"}}])),
            body(&["Lisbon", "18:00"]),
        ]);
        let error = mismatch(&positional(&components), send);
        assert_eq!(
            error,
            TemplateMismatch {
                code: 132012,
                problems: vec!["header needs a video (link or id), got image".into()],
            }
        );
    }

    #[test]
    fn a_media_header_needs_the_media_and_a_link_or_id() {
        let components = happy_hour();
        let error = mismatch(
            &positional(&components),
            json!([body(&["Lisbon", "18:00"])]),
        );
        assert_eq!(
            error.problems,
            ["header needs a video (link or id), got nothing"]
        );
        let send = json!([
            header(json!([{"type": "video", "video": {}}])),
            body(&["Lisbon", "18:00"])
        ]);
        let error = mismatch(&positional(&components), send);
        assert_eq!(error.problems, ["header video needs a link or an id"]);
        let send = json!([
            header(json!([{"type": "video", "video": {"link": "https://example.com/v.mp4"}}])),
            body(&["Lisbon", "18:00"])
        ]);
        assert_eq!(check(&positional(&components), &send), Ok(()));
    }

    #[test]
    fn a_location_header_needs_latitude_and_longitude() {
        let template =
            corpus!("templates/pywa__create_template_request__buttons__order_delivery_update.json");
        let definition = positional(&template["components"]);
        let error = mismatch(
            &definition,
            json!([
                header(json!([{"type": "location", "location": {"name": "Shop"}}])),
                body(&["Mark", "566701"])
            ]),
        );
        assert_eq!(
            error.problems,
            ["header location needs latitude and longitude"]
        );
        let location =
            json!({"type": "location", "location": {"latitude": "37.48", "longitude": "-122.15"}});
        let send = json!([header(json!([location])), body(&["Mark", "566701"])]);
        assert_eq!(check(&definition, &send), Ok(()));
    }

    #[test]
    fn a_text_header_with_a_placeholder_needs_one_text_parameter() {
        let template =
            corpus!("templates/pywa__create_template_request__buttons__seasonal_promotion.json");
        let definition = positional(&template["components"]);
        let the_body = body(&["the end of August", "25OFF", "25%"]);
        let error = mismatch(&definition, json!([the_body.clone()]));
        assert_eq!(
            error.problems,
            ["header expects 1 parameter ({{1}}), got 0"]
        );
        let send = json!([
            header(json!([{"type": "text", "text": "Summer Sale"}])),
            the_body
        ]);
        assert_eq!(check(&definition, &send), Ok(()));
    }

    #[test]
    fn a_header_without_variables_takes_no_parameters() {
        let components = schedule_confirmation3();
        let send = json!([
            header(json!([{"type": "text", "text": "Hi"}])),
            body(&["Ana", "04/11", "13:30"])
        ]);
        let error = mismatch(&positional(&components), send);
        assert_eq!(error.code, 132000);
        assert!(
            error.problems[0].starts_with("header takes no parameters"),
            "{error:?}"
        );
    }
}
