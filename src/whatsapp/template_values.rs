//! A template send's `components` built from plain values, as a person gives them on the command
//! line or in a form: the body's variables in order (or by name), the header's text or media link,
//! the URL button's suffix. The stored definition says how they go in (the header's format, which
//! button takes the suffix, named or positional placeholders); `template_check` then checks the
//! result like any other send. Pure: no I/O.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates>

use serde_json::{Map, Value, json};

use super::template_check::{self, TemplateDefinition};

/// The values for a template's variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateValues {
    /// The body's variables in order; for a template with named placeholders, each `name=value`.
    pub body: Vec<String>,
    /// The header's text variable.
    pub header_text: Option<String>,
    /// The link of the header's image, video or document.
    pub header_media: Option<String>,
    /// The variable end of the template's URL button.
    pub url_suffix: Option<String>,
}

impl TemplateValues {
    /// Meta's `template.components` for these values.
    pub fn components(&self, definition: &TemplateDefinition<'_>) -> Value {
        let mut components = Vec::new();
        if let Some(text) = &self.header_text {
            components.push(
                json!({ "type": "header", "parameters": [{ "type": "text", "text": text }] }),
            );
        }
        if let (Some(link), Some(kind)) = (&self.header_media, header_format(definition)) {
            let mut parameter = Map::new();
            parameter.insert("type".into(), json!(kind));
            parameter.insert(kind, json!({ "link": link }));
            components.push(json!({ "type": "header", "parameters": [parameter] }));
        }
        if !self.body.is_empty() {
            let named = template_check::is_named(definition);
            let parameters: Vec<Value> = self
                .body
                .iter()
                .map(|value| match value.split_once('=') {
                    Some((name, text)) if named => {
                        json!({ "type": "text", "parameter_name": name, "text": text })
                    }
                    _ => json!({ "type": "text", "text": value }),
                })
                .collect();
            components.push(json!({ "type": "body", "parameters": parameters }));
        }
        if let Some(suffix) = &self.url_suffix {
            components.push(json!({
                "type": "button", "sub_type": "url", "index": url_button(definition).to_string(),
                "parameters": [{ "type": "text", "text": suffix }]
            }));
        }
        Value::Array(components)
    }
}

/// The definition's components.
fn definition_components<'a>(definition: &TemplateDefinition<'a>) -> &'a [Value] {
    definition
        .components
        .as_array()
        .map_or(&[][..], Vec::as_slice)
}

fn is_type(value: &Value, kind: &str) -> bool {
    value["type"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case(kind))
}

/// The header's `format` in lower case (`image`, `video`, `document`, …), if it has a header.
fn header_format(definition: &TemplateDefinition<'_>) -> Option<String> {
    definition_components(definition)
        .iter()
        .find(|c| is_type(c, "HEADER"))
        .and_then(|header| header["format"].as_str())
        .map(str::to_lowercase)
}

/// The position among the template's buttons of the URL button that takes a suffix: the first
/// whose URL has a variable, else the first URL button, else 0.
fn url_button(definition: &TemplateDefinition<'_>) -> usize {
    let buttons: Vec<&Value> = definition_components(definition)
        .iter()
        .filter_map(|c| c["buttons"].as_array())
        .flatten()
        .collect();
    let urls = || {
        buttons
            .iter()
            .enumerate()
            .filter(|(_, b)| is_type(b, "URL"))
    };
    let variable = urls().find(|(_, b)| b["url"].as_str().is_some_and(|u| u.contains("{{")));
    variable
        .or_else(|| urls().next())
        .map_or(0, |(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatsapp::template_check::check;

    fn corpus(path: &str) -> Value {
        let path = format!("{}/../shared/corpus/{path}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    fn stored<'a>(components: &'a Value, format: &'a str) -> TemplateDefinition<'a> {
        TemplateDefinition {
            components,
            parameter_format: Some(format),
        }
    }

    fn body(values: &[&str]) -> TemplateValues {
        TemplateValues {
            body: values.iter().map(|v| v.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn body_values_become_text_parameters_in_order() {
        let definition = json!([{ "type": "BODY", "text": "Hi {{1}}, order {{2}}" }]);
        let components = body(&["Dana", "#1042"]).components(&stored(&definition, "POSITIONAL"));
        assert_eq!(
            components,
            json!([{ "type": "body", "parameters": [
                { "type": "text", "text": "Dana" }, { "type": "text", "text": "#1042" }
            ]}])
        );
        assert_eq!(
            check(&stored(&definition, "POSITIONAL"), &components),
            Ok(())
        );
    }

    #[test]
    fn for_a_named_template_name_equals_value_names_the_parameter() {
        let template = corpus(
            "templates/ruby__templates__create_a_template_with_named_parameters__request.json",
        );
        let definition = stored(&template["components"], "NAMED");
        let components =
            body(&["name=Ignacio", "order_number=860198-230332"]).components(&definition);
        assert_eq!(
            components[0]["parameters"][1],
            json!({ "type": "text", "parameter_name": "order_number", "text": "860198-230332" })
        );
        assert_eq!(check(&definition, &components), Ok(()));
    }

    #[test]
    fn names_in_the_placeholders_make_a_template_named_even_if_stored_as_positional() {
        let template = corpus(
            "templates/ruby__templates__create_a_template_with_named_parameters__request.json",
        );
        let definition = stored(&template["components"], "POSITIONAL");
        let components = body(&["name=Ignacio", "order_number=1"]).components(&definition);
        assert_eq!(components[0]["parameters"][0]["parameter_name"], "name");
        assert_eq!(check(&definition, &components), Ok(()));
    }

    #[test]
    fn in_a_positional_template_an_equals_sign_is_just_text() {
        let definition = json!([{ "type": "BODY", "text": "Your code: {{1}}" }]);
        let components = body(&["a=b"]).components(&stored(&definition, "POSITIONAL"));
        assert_eq!(
            components[0]["parameters"][0],
            json!({ "type": "text", "text": "a=b" })
        );
    }

    #[test]
    fn a_media_link_goes_in_the_header_as_the_definition_says() {
        let template = corpus(
            "templates/openapi__create_template_request__template_w_document_header_text_body_a_phone_number_button_and_a_url_button.json",
        );
        let definition = stored(&template["components"], "POSITIONAL");
        let values = TemplateValues {
            header_media: Some("https://example.com/receipt.pdf".into()),
            ..body(&["Mark", "860198-230332"])
        };
        let components = values.components(&definition);
        assert_eq!(
            components[0],
            json!({ "type": "header", "parameters": [
                { "type": "document", "document": { "link": "https://example.com/receipt.pdf" } }
            ]})
        );
        assert_eq!(check(&definition, &components), Ok(()));
    }

    #[test]
    fn a_header_text_value_is_a_text_parameter() {
        let definition = json!([{ "type": "HEADER", "format": "TEXT", "text": "Order {{1}}" }]);
        let values = TemplateValues {
            header_text: Some("#1042".into()),
            ..Default::default()
        };
        let components = values.components(&stored(&definition, "POSITIONAL"));
        assert_eq!(
            components,
            json!([{ "type": "header", "parameters": [{ "type": "text", "text": "#1042" }] }])
        );
        assert_eq!(
            check(&stored(&definition, "POSITIONAL"), &components),
            Ok(())
        );
    }

    #[test]
    fn the_url_suffix_goes_to_the_url_button_with_a_variable() {
        let definition = json!([
            { "type": "BODY", "text": "Hi" },
            { "type": "BUTTONS", "buttons": [
                { "type": "QUICK_REPLY", "text": "Stop" },
                { "type": "URL", "text": "Help", "url": "https://example.com/help" },
                { "type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}" }
            ]}
        ]);
        let values = TemplateValues {
            url_suffix: Some("1042".into()),
            ..Default::default()
        };
        let components = values.components(&stored(&definition, "POSITIONAL"));
        assert_eq!(
            components,
            json!([{ "type": "button", "sub_type": "url", "index": "2",
                     "parameters": [{ "type": "text", "text": "1042" }] }])
        );
        assert_eq!(
            check(&stored(&definition, "POSITIONAL"), &components),
            Ok(())
        );
    }

    #[test]
    fn without_a_variable_url_the_suffix_goes_to_the_first_url_button() {
        let definition = json!([{ "type": "BUTTONS", "buttons": [
            { "type": "PHONE_NUMBER", "text": "Call", "phone_number": "15550001111" },
            { "type": "URL", "text": "Help", "url": "https://example.com/help" }
        ]}]);
        let values = TemplateValues {
            url_suffix: Some("x".into()),
            ..Default::default()
        };
        let components = values.components(&stored(&definition, "POSITIONAL"));
        assert_eq!(components[0]["index"], "1");
    }

    #[test]
    fn no_values_make_no_components() {
        let definition = json!([{ "type": "BODY", "text": "Hello" }]);
        let components = TemplateValues::default().components(&stored(&definition, "POSITIONAL"));
        assert_eq!(components, json!([]));
        assert_eq!(
            check(&stored(&definition, "POSITIONAL"), &components),
            Ok(())
        );
    }
}
