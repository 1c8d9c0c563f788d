//! Checks of the send's button components against the template's buttons: each index exists once,
//! its `sub_type` matches, and it carries what that kind of button takes (a URL suffix, a coupon
//! code, a one-time code or a quick-reply payload).
//!
//! <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/components#buttons>

use serde_json::Value;

use super::definition::Template;
use super::json::{param_type, parameters, str_of};
use super::placeholders::placeholders;
use super::problems::{Problems, or_nothing};

/// What a button takes at send time.
pub(super) enum ButtonNeeds<'a> {
    /// A URL button with a placeholder: the suffix, as one text parameter.
    UrlSuffix {
        placeholder: &'a str,
        url: &'a str,
    },
    /// A fixed URL or a phone number: no parameters.
    Nothing,
    CouponCode,
    /// Authentication templates send the code as a `url` button parameter.
    OneTimeCode,
    /// Optional payload.
    QuickReply,
    /// Flow, catalog, multi-product…: only the sub_type is checked.
    Unchecked,
}

/// What `button` (one of the definition's buttons) takes at send time.
pub(super) fn button_needs(button: &Value) -> ButtonNeeds<'_> {
    let url = str_of(button, "url");
    match button_type(button).as_str() {
        "URL" => match placeholders(url).first() {
            Some(placeholder) => ButtonNeeds::UrlSuffix { placeholder, url },
            None => ButtonNeeds::Nothing,
        },
        "PHONE_NUMBER" => ButtonNeeds::Nothing,
        "COPY_CODE" => ButtonNeeds::CouponCode,
        "OTP" => ButtonNeeds::OneTimeCode,
        "QUICK_REPLY" => ButtonNeeds::QuickReply,
        _ => ButtonNeeds::Unchecked,
    }
}

/// The `sub_type` a send uses for a button of the definition.
fn sub_type_for(button: &Value) -> String {
    match button_type(button).as_str() {
        "URL" | "OTP" => "url".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// Checks the send's button components against the template's buttons, and that every button
/// that needs a parameter at each send gets one.
pub(super) fn check_buttons(template: &Template<'_>, sent: &[&Value], problems: &mut Problems) {
    let mut seen = Vec::new();
    for component in sent {
        let index = match component.get("index") {
            Some(Value::String(s)) => s.trim().parse::<usize>().ok(),
            Some(Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
            _ => None,
        };
        let Some(index) = index else {
            problems.format("a button component needs an index (the button's position, from 0)");
            continue;
        };
        let Some(button) = template.buttons.get(index) else {
            problems.count(match template.buttons.len() {
                0 => format!("button {index} does not exist: the template has no buttons"),
                n => format!(
                    "button {index} does not exist: the template's buttons are 0 to {}",
                    n - 1
                ),
            });
            continue;
        };
        if seen.contains(&index) {
            problems.count(format!("button {index} is given twice"));
            continue;
        }
        seen.push(index);
        let kind = button_type(button);
        let expected = sub_type_for(button);
        let sub_type = str_of(component, "sub_type");
        if !sub_type.eq_ignore_ascii_case(&expected) {
            problems.format(format!(
                "button {index} is {kind}, so its sub_type must be {expected}, got {}",
                or_nothing(sub_type)
            ));
            continue;
        }
        check_button_parameters(
            index,
            &kind,
            button_needs(button),
            parameters(component),
            problems,
        );
    }
    for (index, button) in template.buttons.iter().enumerate() {
        let needs = button_needs(button);
        if !seen.contains(&index)
            && let Some(what) = required(&needs)
        {
            problems.count(format!(
                "button {index} ({}) needs {what}",
                button_type(button)
            ));
        }
    }
}

/// What a button needs at every send, if anything.
fn required(needs: &ButtonNeeds<'_>) -> Option<String> {
    match needs {
        ButtonNeeds::UrlSuffix { placeholder, .. } => {
            Some(format!("the URL suffix for {{{{{placeholder}}}}}"))
        }
        ButtonNeeds::CouponCode => Some("the coupon code".into()),
        ButtonNeeds::OneTimeCode => Some("the one-time code".into()),
        _ => None,
    }
}

/// Checks the parameters of the button component for button `index` of type `kind`.
fn check_button_parameters(
    index: usize,
    kind: &str,
    needs: ButtonNeeds<'_>,
    params: &[Value],
    problems: &mut Problems,
) {
    let label = format!("button {index} ({kind})");
    let (param_kind, key) = match &needs {
        ButtonNeeds::UrlSuffix { .. } | ButtonNeeds::OneTimeCode => ("text", "text"),
        ButtonNeeds::CouponCode => ("coupon_code", "coupon_code"),
        ButtonNeeds::QuickReply => ("payload", "payload"),
        ButtonNeeds::Nothing if !params.is_empty() => {
            return problems.count(format!("{label} is fixed and takes no parameters"));
        }
        ButtonNeeds::Nothing | ButtonNeeds::Unchecked => return,
    };
    let what = required(&needs).unwrap_or_else(|| "a payload".into());
    let param = match params {
        [param] => param,
        [] if matches!(needs, ButtonNeeds::QuickReply) => return,
        [] => return problems.count(format!("{label} needs {what}")),
        _ => {
            return problems.count(format!(
                "{label} expects 1 parameter ({what}), got {}",
                params.len()
            ));
        }
    };
    let given = param_type(param);
    if given != param_kind {
        return problems.format(format!(
            "{label} takes {what} as a {param_kind} parameter, got {}",
            or_nothing(&given)
        ));
    }
    let value = str_of(param, key).trim();
    if value.is_empty() {
        problems.format(format!("{label} needs {what}, got an empty {key}"));
    } else if let ButtonNeeds::UrlSuffix { url, .. } = needs
        && is_full_url(value)
    {
        problems.format(format!(
            "{label} needs only {what}, not a full URL: the template's URL is {url}"
        ));
    }
}

/// A definition button's `type`, upper-cased (`URL`, `QUICK_REPLY`, …).
fn button_type(button: &Value) -> String {
    let kind = str_of(button, "type");
    kind.to_ascii_uppercase()
}

/// A button's `example`: a string, or a list whose first entry is used.
pub(super) fn first_example(button: &Value) -> Option<&str> {
    match button.get("example") {
        Some(Value::Array(examples)) => examples.first().and_then(Value::as_str),
        Some(example) => example.as_str(),
        None => None,
    }
}

/// Whether `text` starts with `http://` or `https://` (any case).
pub(super) fn is_full_url(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::whatsapp::template_check::check;
    use crate::whatsapp::template_check::fixtures::*;

    fn coursera_send(button: Value) -> Value {
        let document = json!([{"type": "document", "document": {"id": "928860901494862"}}]);
        let mut components = vec![header(document), body(&["Ana"])];
        components.extend(button.as_object().map(|_| button.clone()));
        Value::Array(components)
    }

    fn url_button(index: Value, suffix: &str) -> Value {
        json!({"type": "button", "sub_type": "url", "index": index, "parameters": [{"type": "text", "text": suffix}]})
    }

    #[test]
    fn a_url_button_with_a_placeholder_needs_its_suffix() {
        let components = coursera();
        let error = mismatch(&positional(&components), coursera_send(Value::Null));
        assert_eq!(
            error.problems,
            ["button 0 (URL) needs the URL suffix for {{1}}"]
        );
        let send = coursera_send(url_button(json!("0"), "career-academy"));
        assert_eq!(check(&positional(&components), &send), Ok(()));
    }

    #[test]
    fn a_url_suffix_must_be_non_empty_and_not_a_full_url() {
        let components = coursera();
        let error = mismatch(
            &positional(&components),
            coursera_send(url_button(json!(0), "https://www.coursera.org/x")),
        );
        assert_eq!(error.code, 132012);
        assert_eq!(
            error.problems,
            [
                "button 0 (URL) needs only the URL suffix for {{1}}, not a full URL: the template's URL is https://www.coursera.org/{{1}}"
            ]
        );
        let error = mismatch(
            &positional(&components),
            coursera_send(url_button(json!(0), "")),
        );
        assert_eq!(
            error.problems,
            ["button 0 (URL) needs the URL suffix for {{1}}, got an empty text"]
        );
    }

    #[test]
    fn a_button_index_that_does_not_exist_or_does_not_match_the_type_is_refused() {
        let components = coursera();
        let send = coursera_send(url_button(json!(0), "career-academy"));
        let mut send = send.as_array().unwrap().clone();
        send.push(url_button(json!("1"), "x"));
        send.push(
            json!({"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": []}),
        );
        let error = mismatch(&positional(&components), Value::Array(send));
        assert_eq!(
            error.problems,
            [
                "button 1 does not exist: the template's buttons are 0 to 0",
                "button 0 is given twice"
            ]
        );
        let quick_reply =
            json!({"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": []});
        let error = mismatch(&positional(&components), coursera_send(quick_reply));
        assert_eq!(error.code, 132012);
        assert_eq!(
            error.problems[0],
            "button 0 is URL, so its sub_type must be url, got quick_reply"
        );
    }

    #[test]
    fn a_copy_code_button_needs_a_coupon_code() {
        let template = corpus!(
            "templates/pywa__create_template_request__buttons__coupon_code_fall2023_25off.json"
        );
        let definition = positional(&template["components"]);
        let error = mismatch(&definition, json!([body(&["25OFF", "25%"])]));
        assert_eq!(
            error.problems,
            ["button 1 (COPY_CODE) needs the coupon code"]
        );
        let copy = |param: Value| json!({"type": "button", "sub_type": "COPY_CODE", "index": 1, "parameters": [param]});
        let error = mismatch(
            &definition,
            json!([
                body(&["25OFF", "25%"]),
                copy(json!({"type": "text", "text": "25OFF"}))
            ]),
        );
        assert_eq!(error.code, 132012);
        let send = json!([
            body(&["25OFF", "25%"]),
            copy(json!({"type": "coupon_code", "coupon_code": "25OFF"}))
        ]);
        assert_eq!(check(&definition, &send), Ok(()));
    }

    #[test]
    fn quick_reply_buttons_take_a_payload_not_text() {
        // Meta's OpenAPI example sends text parameters to quick replies; Meta expects `payload`.
        let list = corpus!("templates/ruby__templates__get_templates__response_http200.json");
        let components = listed(&list, "sample_issue_resolution", "en_US");
        let request = corpus!("graph/openapi__send_request__sample_issue_resolution_template.json");
        let error = mismatch(
            &positional(&components),
            request["template"]["components"].clone(),
        );
        assert_eq!(error.code, 132012);
        assert_eq!(
            error.problems[0],
            "button 0 (QUICK_REPLY) takes a payload as a payload parameter, got text"
        );
        let without_payload = json!([body(&["Mr. Jones"])]);
        assert_eq!(check(&positional(&components), &without_payload), Ok(()));
    }

    #[test]
    fn an_authentication_template_needs_the_code_in_its_button() {
        let template = corpus!(
            "templates/pywa__create_template_request__authentication__authentication_code_copy_code_button.json"
        );
        let definition = positional(&template["components"]);
        let error = mismatch(&definition, json!([]));
        assert_eq!(error.problems, ["button 0 (OTP) needs the one-time code"]);
        assert_eq!(
            check(&definition, &json!([url_button(json!("0"), "J$FpnYnP")])),
            Ok(())
        );
    }
}
