//! The variables of a body or text header, with the sample values the definition gives for them.

use serde_json::Value;

use super::Variable;
use super::definition::Template;
use super::json::str_of;
use super::placeholders::placeholders;

/// Variables for a body or text header, with examples from `example.{key}` (positional) or
/// `example.{key}_named_params` (named).
pub(super) fn text_variables(
    component: &'static str,
    definition: &Value,
    template: &Template<'_>,
    key: &str,
) -> Vec<Variable> {
    let text = str_of(definition, "text");
    let example = definition.get("example");
    let named_examples = example
        .and_then(|e| e.get(format!("{key}_named_params")))
        .and_then(Value::as_array);
    // body_text is a list of example rows; header_text is a single row.
    let positional = example.and_then(|e| e.get(key));
    let row = match positional.and_then(|p| p.get(0)) {
        Some(Value::Array(_)) => positional.and_then(|p| p.get(0)),
        _ => positional,
    };
    placeholders(text)
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let sample = if template.named {
                named_examples
                    .into_iter()
                    .flatten()
                    .find(|e| e.get("param_name").and_then(Value::as_str) == Some(name))
                    .and_then(|e| e.get("example"))
            } else {
                row.and_then(|r| r.get(i))
            };
            Variable {
                component,
                index: None,
                name: name.into(),
                kind: "text",
                example: sample.and_then(Value::as_str).map(str::to_owned),
            }
        })
        .collect()
}
