//! Checking a template send against the template's definition before Meta sees it. The send's
//! `template.components` (what `POST /{phone-number-id}/messages` takes) are compared with the stored
//! definition (the `components` and `parameter_format` of `GET /{waba-id}/message_templates`), so what
//! Meta would refuse with 132000 (parameter count), 132012 (parameter format) or 132005 (hydrated
//! text too long) is refused here, with a message that names the component and what it expects. It
//! also lists the variables a template needs, to build a form, and fills a send's values into the
//! template's text, to show the message as its recipient reads it. Pure: no I/O.
//!
//! Meta's rules: <https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates>
//! and the component reference
//! <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/components>.

mod body;
mod buttons;
mod definition;
#[cfg(test)]
mod fixtures;
mod header;
mod json;
mod parameters;
mod placeholders;
mod problems;
mod text;
mod variables;

use std::fmt;

use serde_json::Value;

use self::body::check_body;
use self::buttons::{ButtonNeeds, button_needs, check_buttons, first_example, is_full_url};
use self::definition::Template;
use self::header::{HeaderNeeds, check_header, header_needs};
use self::json::{parameters, str_at};
use self::problems::Problems;
use self::variables::text_variables;

pub use self::{
    placeholders::{Segment, segments},
    text::{TemplateText, filled_text},
};

/// Why a template send does not fit its template; each message names the component and what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateMismatch {
    /// The Meta code it prevents: 132000 (count), 132012 (format) or 132005 (length); with several
    /// problems, the first of these that applies.
    pub code: i64,
    /// One message per problem, for agents and admins, without a final period.
    pub problems: Vec<String>,
}

impl fmt::Display for TemplateMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("; "))
    }
}

impl std::error::Error for TemplateMismatch {}

/// A template's definition as Meta returns it.
pub struct TemplateDefinition<'a> {
    /// The template's `components` array (HEADER, BODY, FOOTER, BUTTONS, …).
    pub components: &'a Value,
    /// `"POSITIONAL"` or `"NAMED"` (any case); a template whose placeholders are names is named
    /// whatever this says.
    pub parameter_format: Option<&'a str>,
}

/// One value a template needs at send time, for building a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The send component it goes in: `"header"`, `"body"` or `"button"`.
    pub component: &'static str,
    /// For `"button"`, the button's position (the send's `index`); `None` otherwise.
    pub index: Option<usize>,
    /// The placeholder without braces (`"1"`, `"first_name"`). Where there is no placeholder, the
    /// kind (`"image"`, `"location"`, `"coupon_code"`), or `"code"` for a one-time-password button.
    pub name: String,
    /// The parameter `type` to send: `"text"`, `"image"`, `"video"`, `"document"`, `"location"` or
    /// `"coupon_code"`.
    pub kind: &'static str,
    /// A sample value from the definition's `example`, when it has one (for a URL button, the suffix).
    pub example: Option<String>,
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.component)?;
        if let Some(index) = self.index {
            write!(f, " {index}")?;
        }
        match self.kind {
            "text" => write!(f, " {{{{{}}}}}", self.name)?,
            "coupon_code" => f.write_str(" coupon code")?,
            kind => write!(f, " {kind}")?,
        }
        match &self.example {
            Some(example) => write!(f, " (e.g. {example:?})"),
            None => Ok(()),
        }
    }
}

/// Checks `send_components` (the send's `template.components`) against `definition`.
pub fn check(
    definition: &TemplateDefinition<'_>,
    send_components: &Value,
) -> Result<(), TemplateMismatch> {
    let template = Template::read(definition);
    let mut problems = Problems::default();
    let sent: &[Value] = match send_components {
        Value::Null => &[],
        Value::Array(components) => components,
        _ => {
            problems.format("components must be a list of header, body and button components");
            return problems.finish();
        }
    };
    let (mut headers, mut bodies, mut buttons) = (Vec::new(), Vec::new(), Vec::new());
    for (n, component) in sent.iter().enumerate() {
        let Some(kind) = component.get("type").and_then(Value::as_str) else {
            problems.format(format!(
                "component {} has no type (header, body or button)",
                n + 1
            ));
            continue;
        };
        match kind.to_ascii_lowercase().as_str() {
            "header" => headers.push(component),
            "body" => bodies.push(component),
            "button" => buttons.push(component),
            "footer" if !parameters(component).is_empty() => {
                problems.count("footer takes no parameters")
            }
            other if !template.has(other) => {
                problems.count(format!("the template has no {other} component"))
            }
            // Components this module does not model (carousel, limited-time offer, …) go to Meta as is.
            _ => {}
        }
    }
    check_header(&template, &headers, &mut problems);
    check_body(&template, &bodies, &mut problems);
    check_buttons(&template, &buttons, &mut problems);
    problems.finish()
}

/// Whether the template's placeholders are names (`{{first_name}}`), not numbers: its stored format
/// says NAMED, or its placeholders are names whatever the format says.
pub fn is_named(definition: &TemplateDefinition<'_>) -> bool {
    Template::read(definition).named
}

/// The variables a template needs, in order: header, body, then buttons.
pub fn variables(definition: &TemplateDefinition<'_>) -> Vec<Variable> {
    let template = Template::read(definition);
    let mut variables = Vec::new();
    if let Some(header) = template.header {
        match header_needs(header) {
            HeaderNeeds::Text(_) => {
                variables.extend(text_variables("header", header, &template, "header_text"))
            }
            HeaderNeeds::Object(kind) => {
                let example = str_at(header, "/example/header_handle/0")
                    .filter(|handle| is_full_url(handle))
                    .map(str::to_owned);
                variables.push(Variable {
                    component: "header",
                    index: None,
                    name: kind.into(),
                    kind,
                    example,
                });
            }
            HeaderNeeds::Nothing | HeaderNeeds::Unchecked => {}
        }
    }
    if let Some(body) = template.body {
        variables.extend(text_variables("body", body, &template, "body_text"));
    }
    for (index, button) in template.buttons.iter().enumerate() {
        let (name, kind, example) = match button_needs(button) {
            ButtonNeeds::UrlSuffix { placeholder, url } => {
                let prefix = url.split("{{").next().unwrap_or_default();
                let example = first_example(button)
                    .map(|example| example.strip_prefix(prefix).unwrap_or(example).to_owned());
                (placeholder.to_owned(), "text", example)
            }
            ButtonNeeds::CouponCode => (
                "coupon_code".to_owned(),
                "coupon_code",
                first_example(button).map(str::to_owned),
            ),
            ButtonNeeds::OneTimeCode => ("code".to_owned(), "text", None),
            _ => continue,
        };
        variables.push(Variable {
            component: "button",
            index: Some(index),
            name,
            kind,
            example,
        });
    }
    variables
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::fixtures::*;
    use super::*;

    #[test]
    fn corpus_sends_with_text_and_quick_reply_payloads_pass() {
        let components = schedule_confirmation3();
        for request in [
            corpus!("graph/bindambc__send_request__template__expectedMessage3.json"),
            corpus!("graph/bindambc__send_request__template__expectedMessage4.json"),
        ] {
            assert_eq!(
                check(&positional(&components), &request["template"]["components"]),
                Ok(())
            );
        }
    }

    #[test]
    fn corpus_send_with_an_upper_case_parameter_type_passes() {
        let list = corpus!("templates/ruby__templates__get_templates__response_http200.json");
        let components = listed(&list, "sample_shipping_confirmation", "en_US");
        let request = corpus!(
            "graph/ruby__messages__send_template_with_success_response_by_passing_components_json__request.json"
        );
        assert_eq!(
            check(&positional(&components), &request["template"]["components"]),
            Ok(())
        );
    }

    #[test]
    fn corpus_sends_with_media_headers_and_a_url_suffix_pass() {
        let pairs = [
            (
                corpus!("templates/bindambc__create_template_request__expectedTemplate6.json"),
                corpus!("graph/bindambc__send_request__template__expectedMessage6.json"),
            ),
            (
                corpus!("templates/bindambc__create_template_request__expectedTemplate5.json"),
                corpus!("graph/bindambc__send_request__template__expectedMessage5.json"),
            ),
        ];
        for (template, request) in pairs {
            let definition = TemplateDefinition {
                components: &template["components"],
                parameter_format: None,
            };
            assert_eq!(
                check(&definition, &request["template"]["components"]),
                Ok(())
            );
        }
    }

    #[test]
    fn components_the_template_does_not_have_are_refused() {
        let components = schedule_confirmation3();
        let send = json!([body(&["Ana", "04/11", "13:30"]), {"type": "carousel", "cards": []}, {"parameters": []}]);
        let error = mismatch(&positional(&components), send);
        assert_eq!(
            error.problems,
            [
                "the template has no carousel component",
                "component 3 has no type (header, body or button)"
            ]
        );
        assert_eq!(error.code, 132000);
    }

    #[test]
    fn variables_list_header_body_and_button_with_examples() {
        let template = corpus!(
            "templates/openapi__create_template_request__template_w_image_header_text_body_text_footer_and_2_call_to_action_buttons.json"
        );
        let variables = variables(&positional(&template["components"]));
        let text = |component, index, name: &str, example: &str| Variable {
            component,
            index,
            name: name.into(),
            kind: "text",
            example: Some(example.into()),
        };
        assert_eq!(
            variables,
            [
                Variable {
                    component: "header",
                    index: None,
                    name: "image".into(),
                    kind: "image",
                    example: None
                },
                text("body", None, "1", "Mark"),
                text("body", None, "2", "Tuscan Getaway package"),
                text("body", None, "3", "800"),
                text("button", Some(1), "1", "summer2023"),
            ]
        );
        assert_eq!(
            variables[4].to_string(),
            "button 1 {{1}} (e.g. \"summer2023\")"
        );
    }

    #[test]
    fn variables_of_a_url_button_show_only_the_suffix_of_a_full_example() {
        let components = coursera();
        let variables = variables(&positional(&components));
        assert_eq!(
            variables.last().and_then(|v| v.example.as_deref()),
            Some("?authMode=login")
        );
        assert_eq!(variables[0].to_string(), "header document");
    }

    #[test]
    fn variables_of_named_templates_and_copy_codes_carry_their_examples() {
        let components = named_template();
        let definition = TemplateDefinition {
            components: &components,
            parameter_format: Some("named"),
        };
        let names: Vec<_> = variables(&definition)
            .into_iter()
            .map(|v| (v.name, v.example))
            .collect();
        assert_eq!(
            names,
            [
                ("name".into(), Some("Ignacio".into())),
                ("order_number".into(), Some("860198-230332".into()))
            ]
        );
        let template = corpus!(
            "templates/pywa__create_template_request__buttons__coupon_code_fall2023_25off.json"
        );
        let coupon = variables(&positional(&template["components"])).pop();
        assert_eq!(
            coupon.map(|v| (v.kind, v.index, v.example)),
            Some(("coupon_code", Some(1), Some("250FF".into())))
        );
    }

    #[test]
    fn text_header_variables_come_first() {
        let template =
            corpus!("templates/pywa__create_template_request__buttons__seasonal_promotion.json");
        let first = variables(&positional(&template["components"])).remove(0);
        assert_eq!(
            (
                first.component,
                first.name.as_str(),
                first.example.as_deref()
            ),
            ("header", "1", Some("Summer Sale"))
        );
    }
}
