//! What WhatsApp refuses in a template's values, checked field by field before anything is sent,
//! so the template form can say it next to the field concerned (the send service still checks
//! the whole send against the template).
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes> (132018)

use crate::whatsapp::template_check::Variable;

/// The problem with `value` for `variable`, in words, if any.
pub fn problem(variable: &Variable, value: &str) -> Option<&'static str> {
    let value = value.trim();
    if value.is_empty() {
        return Some("Fill this in.");
    }
    let link = value.to_ascii_lowercase();
    match (variable.component, variable.kind) {
        ("button", "text") if link.starts_with("http://") || link.starts_with("https://") => {
            Some("Only the end of the link: the template has its start.")
        }
        ("button", "text") if value.contains(char::is_whitespace) => Some("A link has no spaces."),
        (_, "image" | "video" | "document") if !link.starts_with("https://") => {
            Some("A link to the file, starting with https://.")
        }
        (_, "text") if value.contains(['\n', '\t']) || value.contains("    ") => {
            Some("WhatsApp refuses line breaks, tabs and four spaces in a row in a variable.")
        }
        _ => None,
    }
}

/// The problem of each value, by the variables' order (`None` where the value is fine), or `None`
/// when every value is fine.
pub fn problems(variables: &[Variable], values: &[String]) -> Option<Vec<Option<&'static str>>> {
    let found: Vec<_> = variables
        .iter()
        .enumerate()
        .map(|(i, variable)| problem(variable, values.get(i).map_or("", String::as_str)))
        .collect();
    found.iter().any(Option::is_some).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(component: &'static str, kind: &'static str) -> Variable {
        Variable {
            component,
            index: None,
            name: "1".into(),
            kind,
            example: None,
        }
    }

    #[test]
    fn each_kind_of_value_is_checked_as_whatsapp_would() {
        let body = variable("body", "text");
        assert_eq!(problem(&body, " "), Some("Fill this in."));
        assert!(problem(&body, "two\nlines").is_some());
        assert!(problem(&body, "wide    gap").is_some());
        assert_eq!(problem(&body, "Ana, #1042"), None);
        let button = variable("button", "text");
        assert!(problem(&button, "https://example.com/t/1").is_some());
        assert!(problem(&button, "10 42").is_some());
        assert_eq!(problem(&button, "1042?ref=wa"), None);
        let image = variable("header", "image");
        assert!(problem(&image, "http://example.com/a.png").is_some());
        assert_eq!(problem(&image, "https://example.com/a.png"), None);
    }

    #[test]
    fn problems_are_reported_only_when_there_are_some() {
        let variables = [variable("body", "text"), variable("button", "text")];
        assert_eq!(problems(&variables, &["Ana".into(), "1042".into()]), None);
        assert_eq!(
            problems(&variables, &["Ana".into()]),
            Some(vec![None, Some("Fill this in.")])
        );
    }
}
