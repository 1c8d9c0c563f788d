//! Checks of the send's body: its parameters against the template's placeholders, and the length
//! of the text once they are filled in.

use serde_json::Value;

use super::definition::Template;
use super::json::{parameters, str_of};
use super::parameters::check_text_parameters;
use super::placeholders::{hydrate, placeholders};
use super::problems::Problems;

/// Meta's limit on the body once its variables are filled in (error 132005).
const BODY_MAX_CHARS: usize = 1024;

/// Checks the send's body components against the template's body.
pub(super) fn check_body(template: &Template<'_>, sent: &[&Value], problems: &mut Problems) {
    if sent.len() > 1 {
        problems.count(format!("body is given {} times", sent.len()));
    }
    let params = sent.first().map_or(&[][..], |c| parameters(c));
    let text = template.body.map_or("", |body| str_of(body, "text"));
    let names = placeholders(text);
    let allowed = ["text", "currency", "date_time"];
    let values = check_text_parameters("body", &names, template.named, &allowed, params, problems);
    // https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/components#body
    let hydrated = hydrate(text, |name| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    });
    let length = hydrated.chars().count();
    if length > BODY_MAX_CHARS {
        problems.length(format!(
            "body is {length} characters long with its variables filled in; WhatsApp allows {BODY_MAX_CHARS}"
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::whatsapp::template_check::check;
    use crate::whatsapp::template_check::fixtures::*;

    #[test]
    fn a_body_with_too_few_parameters_is_a_count_mismatch() {
        let components = schedule_confirmation3();
        let error = mismatch(
            &positional(&components),
            json!([body(&["Ana", "04/11/2022"])]),
        );
        assert_eq!(error.code, 132000);
        assert_eq!(
            error.problems,
            ["body expects 3 parameters ({{1}}, {{2}}, {{3}}), got 2"]
        );
    }

    #[test]
    fn a_missing_body_is_a_count_mismatch() {
        let components = schedule_confirmation3();
        let error = mismatch(&positional(&components), json!([]));
        assert_eq!(
            error.problems,
            ["body expects 3 parameters ({{1}}, {{2}}, {{3}}), got 0"]
        );
    }

    #[test]
    fn a_body_without_variables_takes_no_parameters() {
        let list = corpus!("templates/bindambc__list_templates_response_1.json");
        let components = listed(&list, "hello_world", "en_US");
        assert_eq!(check(&positional(&components), &json!([])), Ok(()));
        let error = mismatch(&positional(&components), json!([body(&["Ana"])]));
        assert_eq!(error.code, 132000);
        assert!(
            error.problems[0].starts_with("body takes no parameters"),
            "{error:?}"
        );
    }

    #[test]
    fn a_body_longer_than_1024_characters_once_filled_in_is_refused() {
        let components = schedule_confirmation3();
        let long = "é".repeat(1000);
        let error = mismatch(
            &positional(&components),
            json!([body(&[&long, "04/11", "13:30"])]),
        );
        assert_eq!(error.code, 132005);
        assert!(error.problems[0].starts_with("body is 1"), "{error:?}");
        let fits = "é".repeat(900);
        assert_eq!(
            check(
                &positional(&components),
                &json!([body(&[&fits, "04/11", "13:30"])])
            ),
            Ok(())
        );
    }
}
