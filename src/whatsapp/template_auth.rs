//! Authentication templates: Meta writes their words itself ("*{{1}}* is your verification
//! code.", an optional "For your security, do not share this code.", an optional "This code
//! expires in N minutes.", in the template's language) and adds a one-time-password button: copy
//! code, or one-tap autofill into an Android app. An admin chooses only those options; the code
//! is the one variable, sent in the body and in the button.
//! <https://developers.facebook.com/docs/whatsapp/business-management-api/authentication-templates>

use serde_json::{Value, json};

use super::template_draft::Problem;

/// Meta's limits on the expiry it states.
const EXPIRY_MINUTES: std::ops::RangeInclusive<u32> = 1..=90;
/// The longest button text (and autofill text) Meta takes.
const BUTTON_TEXT_MAX: usize = 25;
/// A sample code for the preview and Meta's example.
pub const SAMPLE_CODE: &str = "123456";

/// What an admin chooses for an authentication template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthLayout {
    /// "For your security, do not share this code."
    pub security_recommendation: bool,
    /// "This code expires in N minutes."; `None` for no footer.
    pub expiry_minutes: Option<u32>,
    /// The button's text; Meta's "Copy code" when empty.
    pub button_text: String,
    /// One-tap autofill into an Android app instead of copying; `None` for copy code.
    pub one_tap: Option<OneTap>,
}

/// The Android app a one-tap button fills the code into.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OneTap {
    /// `com.example.app`.
    pub package_name: String,
    /// The app's 11-character signing key hash.
    pub signature_hash: String,
    /// The button's text when the app can be filled; Meta's "Autofill" when empty.
    pub autofill_text: String,
}

impl AuthLayout {
    /// Everything Meta would refuse, by form field (`expiry_minutes`, `button_text`,
    /// `package_name`, `signature_hash`, `autofill_text`).
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, message: String| {
            problems.push(Problem {
                field: field.into(),
                message,
            });
        };
        if let Some(minutes) = self.expiry_minutes
            && !EXPIRY_MINUTES.contains(&minutes)
        {
            problem(
                "expiry_minutes",
                format!(
                    "A code expires after {} to {} minutes (or leave it empty).",
                    EXPIRY_MINUTES.start(),
                    EXPIRY_MINUTES.end()
                ),
            );
        }
        if self.button_text.trim().chars().count() > BUTTON_TEXT_MAX {
            problem(
                "button_text",
                format!("The button says at most {BUTTON_TEXT_MAX} characters."),
            );
        }
        if let Some(one_tap) = &self.one_tap {
            let package = one_tap.package_name.trim();
            let segments: Vec<&str> = package.split('.').collect();
            let package_ok = segments.len() >= 2
                && package.len() <= 224
                && segments.iter().all(|segment| {
                    segment.starts_with(|c: char| c.is_ascii_alphabetic())
                        && segment
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            if !package_ok {
                problem(
                    "package_name",
                    "Give the Android app's package name, e.g. com.example.shop.".into(),
                );
            }
            let hash = one_tap.signature_hash.trim();
            let hash_ok = hash.chars().count() == 11
                && hash
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c));
            if !hash_ok {
                problem(
                    "signature_hash",
                    "Give the app's signing key hash: 11 characters, as Android's SMS Retriever computes it.".into(),
                );
            }
            if one_tap.autofill_text.trim().chars().count() > BUTTON_TEXT_MAX {
                problem(
                    "autofill_text",
                    format!("The autofill text has at most {BUTTON_TEXT_MAX} characters."),
                );
            }
        }
        problems
    }

    /// The `components` of Meta's creation body: options only, Meta writes the words.
    pub fn creation_components(&self) -> Value {
        let mut body = json!({ "type": "BODY" });
        if self.security_recommendation {
            body["add_security_recommendation"] = json!(true);
        }
        let mut components = vec![body];
        if let Some(minutes) = self.expiry_minutes {
            components.push(json!({ "type": "FOOTER", "code_expiration_minutes": minutes }));
        }
        components.push(json!({ "type": "BUTTONS", "buttons": [self.button()] }));
        Value::Array(components)
    }

    /// The components as Meta shows the template once created (in English), with a sample code:
    /// what the preview shows and what is stored until the next sync brings Meta's own.
    pub fn components(&self) -> Value {
        let mut text = "*{{1}}* is your verification code.".to_owned();
        if self.security_recommendation {
            text.push_str(" For your security, do not share this code.");
        }
        let mut body = json!({ "type": "BODY", "text": text,
                               "example": { "body_text": [[SAMPLE_CODE]] } });
        if self.security_recommendation {
            body["add_security_recommendation"] = json!(true);
        }
        let mut components = vec![body];
        if let Some(minutes) = self.expiry_minutes {
            let unit = if minutes == 1 { "minute" } else { "minutes" };
            components.push(json!({
                "type": "FOOTER",
                "text": format!("This code expires in {minutes} {unit}."),
                "code_expiration_minutes": minutes,
            }));
        }
        components.push(json!({ "type": "BUTTONS", "buttons": [self.button()] }));
        Value::Array(components)
    }

    /// The options of a stored authentication template (as Meta lists it, or as created):
    /// `None` when its button is not a one-time-password button the form writes.
    pub fn from_components(components: &Value) -> Option<Self> {
        let mut layout = Self::default();
        for component in components.as_array()? {
            let kind = component.get("type")?.as_str()?.to_ascii_uppercase();
            match kind.as_str() {
                "BODY" => {
                    layout.security_recommendation =
                        component.get("add_security_recommendation") == Some(&json!(true));
                }
                "FOOTER" => {
                    layout.expiry_minutes = component
                        .get("code_expiration_minutes")
                        .and_then(Value::as_u64)
                        .and_then(|minutes| u32::try_from(minutes).ok());
                }
                "BUTTONS" => {
                    let button = component.pointer("/buttons/0")?;
                    let text = |key: &str| {
                        button
                            .get(key)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    layout.button_text = text("text");
                    let otp_type = text("otp_type").to_ascii_uppercase();
                    match otp_type.as_str() {
                        "COPY_CODE" => {}
                        "ONE_TAP" => {
                            let app = button.pointer("/supported_apps/0");
                            let app_text = |key: &str| {
                                app.and_then(|app| app.get(key))
                                    .or_else(|| button.get(key))
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned()
                            };
                            layout.one_tap = Some(OneTap {
                                package_name: app_text("package_name"),
                                signature_hash: app_text("signature_hash"),
                                autofill_text: text("autofill_text"),
                            });
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
        Some(layout)
    }

    fn button(&self) -> Value {
        let text = match self.button_text.trim() {
            "" => "Copy code",
            text => text,
        };
        match &self.one_tap {
            None => json!({ "type": "OTP", "otp_type": "COPY_CODE", "text": text }),
            Some(one_tap) => json!({
                "type": "OTP",
                "otp_type": "ONE_TAP",
                "text": text,
                "autofill_text": match one_tap.autofill_text.trim() {
                    "" => "Autofill",
                    autofill => autofill,
                },
                "supported_apps": [{
                    "package_name": one_tap.package_name.trim(),
                    "signature_hash": one_tap.signature_hash.trim(),
                }],
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(name: &str) -> Value {
        let path = format!(
            "{}/../shared/corpus/templates/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn copy_code_is_metas_own_example() {
        let layout = AuthLayout {
            security_recommendation: true,
            expiry_minutes: Some(10),
            button_text: "Copy Code".into(),
            one_tap: None,
        };
        let example = corpus(
            "openapi__create_template_request__authentication_template_w_otp_copy_code_button.json",
        );
        assert_eq!(layout.creation_components(), example["components"]);
        assert!(layout.check().is_empty());
    }

    #[test]
    fn one_tap_names_the_app_as_meta_asks() {
        let layout = AuthLayout {
            security_recommendation: true,
            expiry_minutes: Some(10),
            button_text: "Copy Code".into(),
            one_tap: Some(OneTap {
                package_name: "com.example.luckyshrub".into(),
                signature_hash: "K8a/AINcGX7".into(),
                autofill_text: String::new(),
            }),
        };
        let example = corpus(
            "pywa__create_template_request__authentication__authentication_code_autofill_button.json",
        );
        let button = &layout.creation_components()[2]["buttons"][0];
        let theirs = &example["components"][2]["buttons"][0];
        for key in ["type", "otp_type", "text", "autofill_text"] {
            assert_eq!(button[key], theirs[key], "{key}");
        }
        assert_eq!(button["supported_apps"][0], theirs["supported_apps"][0]);
        assert!(layout.check().is_empty());
    }

    #[test]
    fn the_preview_has_metas_words_and_one_variable() {
        let layout = AuthLayout {
            security_recommendation: false,
            expiry_minutes: Some(1),
            ..AuthLayout::default()
        };
        let components = layout.components();
        assert_eq!(components[0]["text"], "*{{1}}* is your verification code.");
        assert_eq!(components[1]["text"], "This code expires in 1 minute.");
        assert_eq!(components[2]["buttons"][0]["text"], "Copy code");
    }

    #[test]
    fn what_meta_refuses_is_told_by_field() {
        let layout = AuthLayout {
            security_recommendation: true,
            expiry_minutes: Some(120),
            button_text: "x".repeat(26),
            one_tap: Some(OneTap {
                package_name: "shop".into(),
                signature_hash: "short".into(),
                autofill_text: String::new(),
            }),
        };
        let fields: Vec<String> = layout.check().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "expiry_minutes",
                "button_text",
                "package_name",
                "signature_hash"
            ]
        );
    }
}
