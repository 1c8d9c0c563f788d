//! Checks of the parameters that fill a body's or a text header's `{{…}}` placeholders: their
//! number, their names (for named templates), and each value's type and content.

use serde_json::Value;

use super::json::{param_type, str_at};
use super::placeholders::list;
use super::problems::{Problems, or_nothing};

/// Checks the parameters of a component with `{{…}}` placeholders (a body or a text header);
/// returns each placeholder's value, for hydration.
pub(super) fn check_text_parameters<'v>(
    component: &str,
    names: &[&'v str],
    named: bool,
    allowed: &[&str],
    params: &'v [Value],
    problems: &mut Problems,
) -> Vec<(&'v str, String)> {
    let expected = list(names);
    match (names.len(), params.len()) {
        (want, got) if want == got => {}
        (0, got) => problems.count(format!(
            "{component} takes no parameters (the template's {component} has no variables), got {got}"
        )),
        (1, got) => problems.count(format!(
            "{component} expects 1 parameter ({expected}), got {got}"
        )),
        (want, got) => problems.count(format!(
            "{component} expects {want} parameters ({expected}), got {got}"
        )),
    }
    let (mut values, mut seen) = (Vec::new(), Vec::new());
    for (i, param) in params.iter().enumerate() {
        let given_name = param.get("parameter_name").and_then(Value::as_str);
        let name = match (named, given_name) {
            (false, None) => names.get(i).copied(),
            (false, Some(given)) => {
                problems.format(format!(
                    "{component} parameter {} has parameter_name {given:?}, but this template uses positional parameters ({expected})",
                    i + 1
                ));
                names.get(i).copied()
            }
            (true, None) => {
                problems.format(format!(
                    "{component} parameter {} needs a parameter_name: this template uses named parameters ({expected})",
                    i + 1
                ));
                None
            }
            (true, Some(given)) if !names.contains(&given) => {
                problems.format(format!(
                    "{component} has no {{{{{given}}}}} (expected {expected})"
                ));
                None
            }
            (true, Some(given)) if seen.contains(&given) => {
                problems.format(format!("{component} {{{{{given}}}}} is given twice"));
                None
            }
            (true, Some(given)) => {
                seen.push(given);
                Some(given)
            }
        };
        let label = match name {
            Some(name) => format!("{component} {{{{{name}}}}}"),
            None => format!("{component} parameter {}", i + 1),
        };
        let value = check_value(&label, param, allowed, problems);
        if let (Some(name), Some(value)) = (name, value) {
            values.push((name, value));
        }
    }
    if named {
        for missing in names.iter().filter(|name| !seen.contains(name)) {
            problems.count(format!("{component} is missing {{{{{missing}}}}}"));
        }
    }
    values
}

/// Checks one text, currency or date_time parameter; returns the text it puts in the message.
fn check_value(
    label: &str,
    param: &Value,
    allowed: &[&str],
    problems: &mut Problems,
) -> Option<String> {
    let kind = param_type(param);
    if !allowed.contains(&kind.as_str()) {
        let allowed = match allowed {
            [only] => (*only).to_owned(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
            [] => String::new(),
        };
        problems.format(format!(
            "{label} must be {allowed}, got {}",
            or_nothing(&kind)
        ));
        return None;
    }
    let non_empty = |pointer: &str| str_at(param, pointer).filter(|s| !s.trim().is_empty());
    let value = match kind.as_str() {
        "text" => non_empty("/text"),
        _ => non_empty(&format!("/{kind}/fallback_value")),
    };
    let mut missing = Vec::new();
    if value.is_none() {
        missing.push(if kind == "text" {
            "text"
        } else {
            "fallback_value"
        });
    }
    if kind == "currency" {
        if non_empty("/currency/code").is_none() {
            missing.push("code");
        }
        if !param
            .pointer("/currency/amount_1000")
            .is_some_and(|n| n.is_i64() || n.is_u64())
        {
            missing.push("amount_1000");
        }
    }
    if !missing.is_empty() {
        problems.format(format!("{label} ({kind}) needs {}", missing.join(", ")));
    }
    value.map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::whatsapp::template_check::fixtures::*;
    use crate::whatsapp::template_check::{TemplateDefinition, check};

    #[test]
    fn named_parameters_that_match_pass_in_any_order() {
        let components = named_template();
        let definition = TemplateDefinition {
            components: &components,
            parameter_format: Some("named"),
        };
        let send = json!([{"type": "body", "parameters": [named("order_number", "860198"), named("name", "Ana")]}]);
        assert_eq!(check(&definition, &send), Ok(()));
    }

    #[test]
    fn named_parameters_report_missing_and_unexpected_names() {
        let components = named_template();
        let definition = TemplateDefinition {
            components: &components,
            parameter_format: Some("NAMED"),
        };
        let send = json!([{"type": "body", "parameters": [named("name", "Ana"), named("order", "860198")]}]);
        let error = mismatch(&definition, send);
        assert_eq!(error.code, 132000);
        assert_eq!(
            error.problems,
            [
                "body has no {{order}} (expected {{name}}, {{order_number}})",
                "body is missing {{order_number}}"
            ]
        );
    }

    #[test]
    fn a_named_template_needs_a_parameter_name_on_every_parameter() {
        let components = named_template();
        let definition = TemplateDefinition {
            components: &components,
            parameter_format: None,
        };
        let send = json!([{"type": "body", "parameters": [named("name", "Ana"), {"type": "text", "text": "860198"}]}]);
        let error = mismatch(&definition, send);
        assert!(
            error.problems[0].starts_with("body parameter 2 needs a parameter_name"),
            "{error:?}"
        );
    }

    #[test]
    fn a_positional_template_refuses_parameter_names() {
        let components = schedule_confirmation3();
        let parameters = [named("1", "Ana"), named("2", "04/11"), named("3", "13:30")];
        let error = mismatch(
            &positional(&components),
            json!([{"type": "body", "parameters": parameters}]),
        );
        assert_eq!(error.code, 132012);
        assert_eq!(error.problems.len(), 3);
        assert!(
            error.problems[0].contains("uses positional parameters"),
            "{error:?}"
        );
    }

    #[test]
    fn body_parameters_must_be_non_empty_text_currency_or_date_time() {
        let components = schedule_confirmation3();
        let send = json!([{"type": "body", "parameters": [
            {"type": "text", "text": " "},
            {"type": "currency", "currency": {"fallback_value": "$1"}},
            {"type": "image", "image": {"link": "https://example.com/a.jpg"}},
        ]}]);
        let error = mismatch(&positional(&components), send);
        assert_eq!(error.code, 132012);
        assert_eq!(
            error.problems,
            [
                "body {{1}} (text) needs text",
                "body {{2}} (currency) needs code, amount_1000",
                "body {{3}} must be text, currency or date_time, got image",
            ]
        );
    }
}
