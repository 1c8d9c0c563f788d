//! Test fixtures shared by the checks' tests: corpus files (Meta's own and open-source clients'
//! templates and sends) and small builders of send components.

use serde_json::{Value, json};

use super::{TemplateDefinition, TemplateMismatch, check};

/// Loads a file of the shared corpus (`../shared/corpus/{path}`) as JSON.
macro_rules! corpus {
    ($path:literal) => {
        $crate::whatsapp::template_check::fixtures::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/",
            $path
        ))
    };
}

pub(super) use corpus;

/// Reads a JSON file.
pub(super) fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The components of `name` in `language` from a template list response.
pub(super) fn listed(list: &Value, name: &str, language: &str) -> Value {
    let data = list["data"].as_array().unwrap();
    let template = data
        .iter()
        .find(|t| t["name"] == name && t["language"] == language)
        .unwrap_or_else(|| panic!("no {name} {language}"));
    template["components"].clone()
}

/// A definition of `components` stored as POSITIONAL.
pub(super) fn positional(components: &Value) -> TemplateDefinition<'_> {
    TemplateDefinition {
        components,
        parameter_format: Some("POSITIONAL"),
    }
}

/// The mismatch `check` finds in `send`; panics if the send fits.
pub(super) fn mismatch(definition: &TemplateDefinition<'_>, send: Value) -> TemplateMismatch {
    check(definition, &send).expect_err("the send should not fit")
}

/// A text header without variables, a body with three positional placeholders and three
/// quick-reply buttons.
pub(super) fn schedule_confirmation3() -> Value {
    let list = corpus!("templates/bindambc__list_templates_response_1.json");
    listed(&list, "schedule_confirmation3", "pt_BR")
}

/// A body component with one text parameter per entry of `texts`.
pub(super) fn body(texts: &[&str]) -> Value {
    let parameters: Vec<Value> = texts
        .iter()
        .map(|t| json!({"type": "text", "text": t}))
        .collect();
    json!({"type": "body", "parameters": parameters})
}

/// A body with the named placeholders `{{name}}` and `{{order_number}}`, and two fixed buttons.
pub(super) fn named_template() -> Value {
    let request =
        corpus!("templates/ruby__templates__create_a_template_with_named_parameters__request.json");
    request["components"].clone()
}

/// A text parameter for the placeholder `{{name}}`.
pub(super) fn named(name: &str, text: &str) -> Value {
    json!({"type": "text", "parameter_name": name, "text": text})
}

/// A header component with `parameters`.
pub(super) fn header(parameters: Value) -> Value {
    json!({"type": "header", "parameters": parameters})
}

/// A document header, a body with `{{1}}` and a URL button with a suffix placeholder.
pub(super) fn coursera() -> Value {
    let template = corpus!("templates/bindambc__create_template_request__expectedTemplate6.json");
    template["components"].clone()
}
