//! Reading a template's definition: where its header, body and buttons are, and whether its
//! placeholders are named or positional.

use serde_json::Value;

use super::TemplateDefinition;
use super::json::str_of;
use super::placeholders::{is_number, placeholders};

/// The parts of a definition the checks need.
pub(super) struct Template<'a> {
    pub(super) named: bool,
    pub(super) header: Option<&'a Value>,
    pub(super) body: Option<&'a Value>,
    pub(super) buttons: Vec<&'a Value>,
    pub(super) components: &'a [Value],
}

impl<'a> Template<'a> {
    /// Finds the header, body and buttons of `definition`, and whether it is named.
    pub(super) fn read(definition: &TemplateDefinition<'a>) -> Self {
        let components = definition
            .components
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        let find = |kind: &str| components.iter().find(|c| is_type(c, kind));
        let buttons = components
            .iter()
            .filter(|c| is_type(c, "BUTTONS"))
            .filter_map(|c| c.get("buttons").and_then(Value::as_array))
            .flatten()
            .collect();
        let (header, body) = (find("HEADER"), find("BODY"));
        // Positional placeholders are numbers, so names mean NAMED whatever the stored format says
        // (the column defaults to POSITIONAL when Meta's list omitted it).
        let named = definition
            .parameter_format
            .is_some_and(|format| format.eq_ignore_ascii_case("NAMED"))
            || [header, body]
                .into_iter()
                .flatten()
                .flat_map(|c| placeholders(str_of(c, "text")))
                .any(|name| !is_number(name));
        Template {
            named,
            header,
            body,
            buttons,
            components,
        }
    }

    /// Whether the definition has a component of type `kind` (any case).
    pub(super) fn has(&self, kind: &str) -> bool {
        self.components.iter().any(|c| is_type(c, kind))
    }
}

/// Whether `component`'s `type` is `kind` (any case).
fn is_type(component: &Value, kind: &str) -> bool {
    let given = component.get("type").and_then(Value::as_str);
    given.is_some_and(|t| t.eq_ignore_ascii_case(kind))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::whatsapp::template_check::check;
    use crate::whatsapp::template_check::fixtures::*;

    #[test]
    fn placeholders_that_are_names_make_a_template_named_even_if_stored_as_positional() {
        let components = named_template();
        let send = json!([{"type": "body", "parameters": [named("name", "Ana"), named("order_number", "1")]}]);
        assert_eq!(check(&positional(&components), &send), Ok(()));
    }
}
