//! The template form's preview: the template as the customer will read it, each variable's value
//! in its place (the value typed, else the template's example, else the placeholder). The page's
//! script updates the values as the agent types; without it, the preview shows what was sent last.

use serde_json::Value;

use crate::whatsapp::template_check::{Segment, Variable, segments};

/// A piece of the preview: text as written, or a variable's value (its index in the form).
pub struct Piece {
    pub text: String,
    pub variable: Option<usize>,
}

#[derive(Default)]
pub struct Preview {
    pub header: Vec<Piece>,
    pub body: Vec<Piece>,
    pub footer: Option<String>,
    pub buttons: Vec<String>,
}

impl Preview {
    /// The preview of a template with `components`, its form's `variables` holding `values`.
    pub fn new(components: &Value, variables: &[Variable], values: &[String]) -> Self {
        let shown = |index: usize| {
            values
                .get(index)
                .filter(|v| !v.trim().is_empty())
                .cloned()
                .unwrap_or_else(|| fallback(&variables[index]))
        };
        let pieces = |text: &str, component: &str| {
            segments(text)
                .into_iter()
                .map(|segment| match segment {
                    Segment::Text(text) => Piece {
                        text: text.to_owned(),
                        variable: None,
                    },
                    Segment::Placeholder(name) => {
                        let index = variables
                            .iter()
                            .position(|v| v.component == component && v.name == name);
                        Piece {
                            text: index.map_or_else(|| format!("{{{{{name}}}}}"), shown),
                            variable: index,
                        }
                    }
                })
                .collect::<Vec<_>>()
        };
        let mut preview = Self::default();
        for component in components.as_array().into_iter().flatten() {
            let text = component.get("text").and_then(Value::as_str).unwrap_or("");
            let kind = component.get("type").and_then(Value::as_str).unwrap_or("");
            match kind.to_ascii_uppercase().as_str() {
                "HEADER" => {
                    let format = component.get("format").and_then(Value::as_str);
                    preview.header = match format.map(str::to_ascii_uppercase).as_deref() {
                        None | Some("TEXT") => pieces(text, "header"),
                        // The media itself is not previewed: its kind stands in for it.
                        Some(media) => vec![Piece {
                            text: format!("[{}]", media_label(media)),
                            variable: None,
                        }],
                    }
                }
                "BODY" => preview.body = pieces(text, "body"),
                "FOOTER" => preview.footer = Some(text.to_owned()).filter(|t| !t.is_empty()),
                "BUTTONS" => {
                    preview.buttons = component
                        .get("buttons")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|b| b.get("text").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect();
                }
                _ => {}
            }
        }
        preview
    }
}

/// What the preview shows for a variable left empty: its example, else its placeholder.
pub fn fallback(variable: &Variable) -> String {
    variable
        .example
        .clone()
        .unwrap_or_else(|| format!("{{{{{}}}}}", variable.name))
}

fn media_label(format: &str) -> &'static str {
    match format {
        "IMAGE" => "Image",
        "VIDEO" => "Video",
        "DOCUMENT" => "Document",
        "LOCATION" => "Location",
        _ => "Media",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::whatsapp::template_check::{self, TemplateDefinition};

    fn texts(pieces: &[Piece]) -> String {
        pieces.iter().map(|p| p.text.as_str()).collect()
    }

    #[test]
    fn values_then_examples_then_placeholders_fill_the_preview() {
        let components = json!([
            { "type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": { "header_text": ["#1"] } },
            { "type": "BODY", "text": "Hi {{1}}, it ships {{2}}.", "example": { "body_text": [["Dana", "today"]] } },
            { "type": "FOOTER", "text": "Reply STOP to opt out" },
            { "type": "BUTTONS", "buttons": [{ "type": "QUICK_REPLY", "text": "Thanks" }] }
        ]);
        let definition = TemplateDefinition {
            components: &components,
            parameter_format: None,
        };
        let variables = template_check::variables(&definition);
        let preview = Preview::new(&components, &variables, &["#42".into(), "Ana".into()]);
        assert_eq!(texts(&preview.header), "Order #42");
        assert_eq!(texts(&preview.body), "Hi Ana, it ships today.");
        assert_eq!(preview.footer.as_deref(), Some("Reply STOP to opt out"));
        assert_eq!(preview.buttons, ["Thanks"]);
        // Each value knows its field, so the page can update it as the agent types.
        let body_vars: Vec<_> = preview.body.iter().filter_map(|p| p.variable).collect();
        assert_eq!(body_vars.len(), 2);
        assert_eq!(variables[body_vars[0]].name, "1");

        let without_examples = json!([{ "type": "BODY", "text": "Code {{code}}" }]);
        let definition = TemplateDefinition {
            components: &without_examples,
            parameter_format: Some("NAMED"),
        };
        let variables = template_check::variables(&definition);
        let preview = Preview::new(&without_examples, &variables, &[]);
        assert_eq!(texts(&preview.body), "Code {{code}}");
    }
}
