//! Template sends, checked as Meta checks them: the template (name and language) must exist in the
//! number's WABA and be approved (132001; 132015 when paused, 132016 when disabled), and each
//! component must get as many parameters as its definition has placeholders (132000). Placeholders
//! are positional (`{{1}}`) or named (`{{first_name}}`); a repeated one counts once.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates>

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use serde_json::Value;
use sqlx::PgConnection;

use crate::{
    domain::{
        ids::TenantId,
        numbers::NumberCredentials,
        templates::{TemplateCategory, TemplateStatus},
    },
    whatsapp::envelope::MetaError,
};

/// Checks a send's `template` object against the stored template; returns its category.
pub(super) async fn check(
    conn: &mut PgConnection,
    number: &NumberCredentials,
    template: &Value,
) -> Result<TemplateCategory, MetaError> {
    let name = template.get("name").and_then(Value::as_str);
    let name = name.ok_or_else(|| MetaError::required("template['name']"))?;
    let language = template.pointer("/language/code").and_then(Value::as_str);
    let language = language.ok_or_else(|| MetaError::required("template['language']['code']"))?;
    let missing = || {
        MetaError::code(132001).details(format!(
            "template name ({name}) does not exist in {language}"
        ))
    };
    let stored = find(conn, number, name, language)
        .await?
        .ok_or_else(missing)?;
    match stored.status {
        TemplateStatus::Approved => {}
        TemplateStatus::Paused => return Err(MetaError::code(132015)),
        TemplateStatus::Disabled => return Err(MetaError::code(132016)),
        _ => return Err(missing()),
    }
    let expected = expected_params(&stored.components);
    let sent = sent_params(template.get("components"));
    for (slot, &expected) in &expected {
        let sent = sent.get(slot).copied().unwrap_or(0);
        if sent != expected {
            return Err(mismatch(slot, sent, expected));
        }
    }
    // Parameters for a part that has no placeholders (quick-reply payloads aside) are too many.
    for (slot, &sent) in &sent {
        if !expected.contains_key(slot) && !matches!(slot, Slot::Button(_)) && sent > 0 {
            return Err(mismatch(slot, sent, 0));
        }
    }
    Ok(stored.category.unwrap_or(TemplateCategory::Utility))
}

fn mismatch(slot: &Slot, sent: usize, expected: usize) -> MetaError {
    MetaError::code(132000).details(format!(
        "{slot}: number of localizable_params ({sent}) does not match the expected number of params ({expected})"
    ))
}

struct StoredTemplate {
    status: TemplateStatus,
    category: Option<TemplateCategory>,
    components: Value,
}

async fn find(
    conn: &mut PgConnection,
    number: &NumberCredentials,
    name: &str,
    language: &str,
) -> anyhow::Result<Option<StoredTemplate>> {
    sqlx::query_as!(
        StoredTemplate,
        r#"select status as "status: TemplateStatus", category as "category: TemplateCategory",
                  components
           from message_templates
           where tenant_id = $1 and waba_id = $2 and name = $3 and language = $4"#,
        number.tenant_id as TenantId,
        number.waba_id,
        name,
        language
    )
    .fetch_optional(conn)
    .await
    .context("look up template")
}

/// A part of a template that takes parameters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Header,
    Body,
    Button(u64),
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Header => f.write_str("header"),
            Self::Body => f.write_str("body"),
            Self::Button(index) => write!(f, "button at index {index}"),
        }
    }
}

/// How many parameters each part of a stored definition takes (parts that take none are left out).
fn expected_params(components: &Value) -> BTreeMap<Slot, usize> {
    let mut slots = BTreeMap::new();
    for component in components.as_array().into_iter().flatten() {
        let text = |c: &Value| {
            c.get("text")
                .and_then(Value::as_str)
                .map_or(0, placeholders)
        };
        match kind(component).as_str() {
            "header" => {
                let format = component
                    .get("format")
                    .and_then(Value::as_str)
                    .unwrap_or("TEXT");
                let count = if format.eq_ignore_ascii_case("text") {
                    text(component)
                } else {
                    1
                };
                slots.insert(Slot::Header, count);
            }
            "body" => {
                slots.insert(Slot::Body, text(component));
            }
            "buttons" => {
                let buttons = component.get("buttons").and_then(Value::as_array);
                for (index, button) in buttons.into_iter().flatten().enumerate() {
                    let count = match kind(button).as_str() {
                        "url" => button
                            .get("url")
                            .and_then(Value::as_str)
                            .map_or(0, placeholders),
                        "copy_code" | "otp" => 1,
                        _ => 0,
                    };
                    slots.insert(Slot::Button(index as u64), count);
                }
            }
            _ => {}
        }
    }
    slots.retain(|_, count| *count > 0);
    slots
}

/// How many parameters a send gives each part.
fn sent_params(components: Option<&Value>) -> BTreeMap<Slot, usize> {
    let mut slots = BTreeMap::new();
    for component in components.and_then(Value::as_array).into_iter().flatten() {
        let count = component
            .get("parameters")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let slot = match kind(component).as_str() {
            "header" => Slot::Header,
            "body" => Slot::Body,
            // Meta's examples send the index as a string ("0"), some clients as a number.
            "button" => match component.get("index") {
                Some(Value::Number(index)) => Slot::Button(index.as_u64().unwrap_or(0)),
                Some(Value::String(index)) => Slot::Button(index.parse().unwrap_or(0)),
                _ => Slot::Button(0),
            },
            _ => continue,
        };
        *slots.entry(slot).or_insert(0) += count;
    }
    slots
}

fn kind(component: &Value) -> String {
    component
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The distinct placeholders in `text`.
pub(super) fn placeholder_names(text: &str) -> BTreeSet<&str> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find("}}") else { break };
        let name = rest[..end].trim();
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.insert(name);
        }
        rest = &rest[end + 2..];
    }
    names
}

fn placeholders(text: &str) -> usize {
    placeholder_names(text).len()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn placeholders_are_positional_or_named_and_counted_once() {
        assert_eq!(placeholders("Hi {{1}}, your order {{2}} ships {{ 1 }}"), 2);
        assert_eq!(placeholders("Thanks {{name}}! Order {{order_number}}."), 2);
        assert_eq!(placeholders("No placeholders {here} or {{}}"), 0);
        assert_eq!(placeholders("Unclosed {{1"), 0);
    }

    #[test]
    fn a_definition_expects_parameters_per_part() {
        let components = json!([
            { "type": "HEADER", "format": "IMAGE" },
            { "type": "BODY", "text": "Hi {{1}}, {{2}}" },
            { "type": "FOOTER", "text": "Bye" },
            { "type": "BUTTONS", "buttons": [
                { "type": "QUICK_REPLY", "text": "Yes" },
                { "type": "URL", "text": "Track", "url": "https://x.test/{{1}}" },
            ]},
        ]);
        let expected = expected_params(&components);
        assert_eq!(
            expected.into_iter().collect::<Vec<_>>(),
            [(Slot::Header, 1), (Slot::Body, 2), (Slot::Button(1), 1)]
        );
    }

    #[test]
    fn a_send_gives_parameters_per_part_with_string_or_number_indexes() {
        let components = json!([
            { "type": "body", "parameters": [{ "type": "text", "text": "a" }, { "type": "TEXT", "text": "b" }] },
            { "type": "button", "sub_type": "url", "index": "1", "parameters": [{ "type": "text", "text": "x" }] },
            { "type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [{ "type": "payload", "payload": "p" }] },
        ]);
        let sent = sent_params(Some(&components));
        assert_eq!(
            sent.into_iter().collect::<Vec<_>>(),
            [(Slot::Body, 2), (Slot::Button(0), 1), (Slot::Button(1), 1)]
        );
    }
}
