//! A new template as an admin writes it: checked as Meta checks a creation request, each problem
//! tied to the field it concerns, and turned into Meta's creation body
//! (`POST /{waba-id}/message_templates`). Pure: no I/O.
//!
//! Meta's rules: <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/components>
//! and <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates#template-creation>.
//! Authentication templates have a layout of Meta's own (its text, a one-time-password button):
//! the admin chooses only its options ([`AuthLayout`]).

use serde_json::{Value, json};

use super::{
    template_auth::AuthLayout,
    template_check::{Segment, segments},
};

/// The longest name Meta takes.
const NAME_MAX: usize = 512;
const HEADER_MAX: usize = 60;
const BODY_MAX: usize = 1024;
const FOOTER_MAX: usize = 60;
const BUTTON_TEXT_MAX: usize = 25;
const URL_MAX: usize = 2000;
const COPY_CODE_MAX: usize = 15;
const BUTTONS_MAX: usize = 10;
const URL_BUTTONS_MAX: usize = 2;

/// What a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Marketing,
    Utility,
    /// One-time codes, in Meta's own words ([`AuthLayout`]).
    Authentication,
}

impl Category {
    pub fn as_meta(self) -> &'static str {
        match self {
            Self::Marketing => "MARKETING",
            Self::Utility => "UTILITY",
            Self::Authentication => "AUTHENTICATION",
        }
    }
}

/// What a template's header shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderFormat {
    /// One line of text (or no header, when it is empty).
    #[default]
    Text,
    Image,
    Video,
    Document,
}

impl HeaderFormat {
    /// The form's value: `text`, `image`, `video`, `document`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "text" => Some(Self::Text),
            "image" => Some(Self::Image),
            "video" => Some(Self::Video),
            "document" => Some(Self::Document),
            _ => None,
        }
    }

    pub fn as_form(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Video => "video",
            Self::Document => "document",
        }
    }

    /// Meta's `format`.
    fn as_meta(self) -> &'static str {
        match self {
            Self::Text => "TEXT",
            Self::Image => "IMAGE",
            Self::Video => "VIDEO",
            Self::Document => "DOCUMENT",
        }
    }

    /// The types of file Meta takes as a sample of this header, with their size limit in bytes.
    pub fn sample_types(self) -> (&'static [&'static str], usize) {
        match self {
            Self::Text => (&[], 0),
            Self::Image => (&["image/jpeg", "image/png"], 5 * 1024 * 1024),
            Self::Video => (&["video/mp4", "video/3gpp"], 16 * 1024 * 1024),
            Self::Document => (&["application/pdf"], 100 * 1024 * 1024),
        }
    }
}

/// A button's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonKind {
    QuickReply,
    Url,
    PhoneNumber,
    CopyCode,
}

impl ButtonKind {
    /// The form's value: `quick_reply`, `url`, `phone_number`, `copy_code`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "quick_reply" => Some(Self::QuickReply),
            "url" => Some(Self::Url),
            "phone_number" => Some(Self::PhoneNumber),
            "copy_code" => Some(Self::CopyCode),
            _ => None,
        }
    }
}

/// A button as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftButton {
    pub kind: ButtonKind,
    /// What it says (a copy-code button's is Meta's own).
    pub text: String,
    /// The URL (which may end in `{{1}}`), the phone number, or the sample code.
    pub value: String,
    /// For a URL ending in `{{1}}`: a sample of that ending.
    pub example: String,
}

/// A template as written in the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub name: String,
    pub language: String,
    pub category: Option<Category>,
    /// Whether variables are named (`{{first_name}}`) rather than numbered (`{{1}}`).
    pub named: bool,
    /// What the header shows: text (`header`), or media whose sample Meta keeps as
    /// `header_handle`.
    pub header_format: HeaderFormat,
    /// A text header; empty for none.
    pub header: String,
    pub header_example: String,
    /// A media header's sample, as Meta's upload API answered it (`4::…`).
    pub header_handle: String,
    pub body: String,
    /// One sample per variable of the body, in [`Draft::body_variables`]' order.
    pub body_examples: Vec<String>,
    /// Empty for none.
    pub footer: String,
    pub buttons: Vec<DraftButton>,
    /// An authentication template's options (its header, body, footer and buttons are Meta's).
    pub auth: AuthLayout,
}

/// Something Meta would refuse, and the form field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The form field: `name`, `language`, `category`, `header`, `body`, `body_examples`,
    /// `footer`, or `button{i}` (0-based).
    pub field: String,
    pub message: String,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        field: field.into(),
        message: message.into(),
    }
}

/// The distinct placeholder names of `text`, in order of first appearance.
fn variables(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    for segment in segments(text) {
        if let Segment::Placeholder(name) = segment
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    names
}

fn is_number(name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_digit())
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

impl Draft {
    /// The body's variables in the examples' order: numbered ones by number, named ones in order
    /// of first appearance.
    pub fn body_variables(&self) -> Vec<&str> {
        let mut names = variables(&self.body);
        if !self.named && names.iter().all(|n| is_number(n)) {
            names.sort_by_key(|n| n.parse::<u64>().unwrap_or(u64::MAX));
        }
        names
    }

    /// Everything Meta would refuse, field by field; empty when the draft may be submitted.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        self.check_identity(&mut problems);
        if self.is_authentication() {
            problems.extend(self.auth.check());
            return problems;
        }
        self.check_header(&mut problems);
        self.check_body(&mut problems);
        if chars(&self.footer) > FOOTER_MAX {
            problems.push(problem(
                "footer",
                format!("The footer has at most {FOOTER_MAX} characters."),
            ));
        }
        if !variables(&self.footer).is_empty() {
            problems.push(problem("footer", "The footer cannot have variables."));
        }
        self.check_buttons(&mut problems);
        problems
    }

    fn check_identity(&self, problems: &mut Vec<Problem>) {
        let name_ok = !self.name.is_empty()
            && chars(&self.name) <= NAME_MAX
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            problems.push(problem(
                "name",
                format!(
                    "Use lower-case letters, digits and underscores only (at most {NAME_MAX}), e.g. order_update."
                ),
            ));
        }
        let (base, region) = self
            .language
            .split_once('_')
            .map_or((self.language.as_str(), None), |(b, r)| (b, Some(r)));
        let language_ok = (2..=3).contains(&base.len())
            && base.bytes().all(|b| b.is_ascii_lowercase())
            && region.is_none_or(|r| {
                (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        if !language_ok {
            problems.push(problem(
                "language",
                "Give a language code as WhatsApp writes it, e.g. en, en_US or pt_BR.",
            ));
        }
        if self.category.is_none() {
            problems.push(problem(
                "category",
                "Choose marketing, utility or authentication.",
            ));
        }
    }

    fn check_header(&self, problems: &mut Vec<Problem>) {
        if self.header_format != HeaderFormat::Text {
            if self.header_handle.trim().is_empty() {
                problems.push(problem(
                    "header_sample",
                    format!(
                        "Upload a sample {} for the header: WhatsApp's reviewers look at it.",
                        self.header_format.as_form()
                    ),
                ));
            }
            return;
        }
        if chars(&self.header) > HEADER_MAX {
            problems.push(problem(
                "header",
                format!("The header has at most {HEADER_MAX} characters."),
            ));
        }
        if self.header.contains('\n') {
            problems.push(problem("header", "The header is one line."));
        }
        let names = variables(&self.header);
        match names.as_slice() {
            [] => {}
            [name] => {
                if let Some(wrong) = self.wrong_name(name, 1) {
                    problems.push(problem("header", wrong));
                } else if self.header_example.trim().is_empty() {
                    problems.push(problem(
                        "header_example",
                        format!("Give a sample value for {{{{{name}}}}} in the header."),
                    ));
                }
            }
            _ => problems.push(problem("header", "The header has at most one variable.")),
        }
    }

    /// Why a variable's name does not fit the template's format (`position` is its 1-based place).
    fn wrong_name(&self, name: &str, position: usize) -> Option<String> {
        if self.named {
            let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            (!ok).then(|| {
                format!(
                    "Name variables in lower-case letters, digits and underscores, like {{{{first_name}}}}, not {{{{{name}}}}}."
                )
            })
        } else if !is_number(name) {
            Some(format!(
                "Number variables {{{{1}}}}, {{{{2}}}}… (or choose named variables), not {{{{{name}}}}}."
            ))
        } else if name != position.to_string() {
            Some(format!(
                "Number variables in order from {{{{1}}}}: {{{{{name}}}}} should be {{{{{position}}}}}."
            ))
        } else {
            None
        }
    }

    fn check_body(&self, problems: &mut Vec<Problem>) {
        let body = self.body.trim();
        if body.is_empty() {
            problems.push(problem("body", "Write the message's text."));
            return;
        }
        if chars(&self.body) > BODY_MAX {
            problems.push(problem(
                "body",
                format!("The text has at most {BODY_MAX} characters."),
            ));
        }
        if body.starts_with("{{") || body.ends_with("}}") {
            problems.push(problem(
                "body",
                "The text cannot start or end with a variable: add words before or after it.",
            ));
        }
        let names = self.body_variables();
        if let Some(wrong) = names
            .iter()
            .enumerate()
            .find_map(|(i, name)| self.wrong_name(name, i + 1))
        {
            problems.push(problem("body", wrong));
        }
        let given = self
            .body_examples
            .iter()
            .filter(|e| !e.trim().is_empty())
            .count();
        if given != names.len() || self.body_examples.len() != names.len() {
            let listed: Vec<String> = names.iter().map(|n| format!("{{{{{n}}}}}")).collect();
            problems.push(problem(
                "body_examples",
                match names.len() {
                    0 => "The text has no variables: leave the samples empty.".to_owned(),
                    n => format!(
                        "Give {n} sample value{}, one per line, for {}.",
                        if n == 1 { "" } else { "s" },
                        listed.join(", ")
                    ),
                },
            ));
        }
    }

    fn check_buttons(&self, problems: &mut Vec<Problem>) {
        if self.buttons.len() > BUTTONS_MAX {
            problems.push(problem(
                "button0",
                format!("A template has at most {BUTTONS_MAX} buttons."),
            ));
        }
        let count = |kind| self.buttons.iter().filter(|b| b.kind == kind).count();
        let limits = [
            (ButtonKind::Url, URL_BUTTONS_MAX, "two link buttons"),
            (ButtonKind::PhoneNumber, 1, "one call button"),
            (ButtonKind::CopyCode, 1, "one copy-code button"),
        ];
        for (kind, max, words) in limits {
            if count(kind) > max
                && let Some(at) = self.buttons.iter().rposition(|b| b.kind == kind)
            {
                problems.push(problem(
                    format!("button{at}"),
                    format!("A template has at most {words}."),
                ));
            }
        }
        // Quick replies come together, before or after the other buttons.
        let kinds: Vec<bool> = self
            .buttons
            .iter()
            .map(|b| b.kind == ButtonKind::QuickReply)
            .collect();
        let changes = kinds.windows(2).filter(|w| w[0] != w[1]).count();
        if changes > 1 {
            problems.push(problem(
                "button0",
                "Put the quick replies together, before or after the other buttons.",
            ));
        }
        for (i, button) in self.buttons.iter().enumerate() {
            let field = format!("button{i}");
            if button.kind != ButtonKind::CopyCode {
                if button.text.trim().is_empty() {
                    problems.push(problem(&field, "Write what the button says."));
                } else if chars(&button.text) > BUTTON_TEXT_MAX {
                    problems.push(problem(
                        &field,
                        format!("A button says at most {BUTTON_TEXT_MAX} characters."),
                    ));
                }
            }
            if let Some(message) = button.problem() {
                problems.push(problem(&field, message));
            }
        }
    }

    /// Whether this is an authentication template, written in Meta's words.
    pub fn is_authentication(&self) -> bool {
        self.category == Some(Category::Authentication)
    }

    /// Meta's creation body.
    pub fn creation_body(&self) -> Value {
        if self.is_authentication() {
            return json!({
                "name": self.name,
                "language": self.language,
                "category": Category::Authentication.as_meta(),
                "components": self.auth.creation_components(),
            });
        }
        let mut body = json!({
            "name": self.name,
            "language": self.language,
            "category": self.category.map_or("", Category::as_meta),
            "parameter_format": "named",
            "components": self.components(),
        });
        if !self.named
            && let Some(fields) = body.as_object_mut()
        {
            // Positional is Meta's default; older API versions do not know the field.
            fields.remove("parameter_format");
        }
        body
    }

    /// The `components` of the creation body, examples included (also what the preview shows);
    /// an authentication template's as Meta shows it once created.
    pub fn components(&self) -> Value {
        if self.is_authentication() {
            return self.auth.components();
        }
        let mut components = Vec::new();
        if self.header_format != HeaderFormat::Text {
            components.push(json!({
                "type": "HEADER",
                "format": self.header_format.as_meta(),
                "example": { "header_handle": [self.header_handle.trim()] },
            }));
        } else if !self.header.trim().is_empty() {
            let mut header = json!({ "type": "HEADER", "format": "TEXT", "text": self.header });
            if let Some(name) = variables(&self.header).first() {
                header["example"] = if self.named {
                    json!({ "header_text_named_params": [
                        { "param_name": name, "example": self.header_example.trim() }
                    ] })
                } else {
                    json!({ "header_text": [self.header_example.trim()] })
                };
            }
            components.push(header);
        }
        let mut body = json!({ "type": "BODY", "text": self.body });
        let names = self.body_variables();
        if !names.is_empty() {
            let examples: Vec<&str> = self.body_examples.iter().map(|e| e.trim()).collect();
            body["example"] = if self.named {
                let params: Vec<Value> = names
                    .iter()
                    .zip(&examples)
                    .map(|(name, example)| json!({ "param_name": name, "example": example }))
                    .collect();
                json!({ "body_text_named_params": params })
            } else {
                json!({ "body_text": [examples] })
            };
        }
        components.push(body);
        if !self.footer.trim().is_empty() {
            components.push(json!({ "type": "FOOTER", "text": self.footer }));
        }
        if !self.buttons.is_empty() {
            let buttons: Vec<Value> = self.buttons.iter().map(DraftButton::to_meta).collect();
            components.push(json!({ "type": "BUTTONS", "buttons": buttons }));
        }
        Value::Array(components)
    }
}

impl Draft {
    /// A stored template as the form shows it for editing (a media header without its sample, which
    /// an edit uploads again; an authentication template by its options): `None` when it has parts
    /// the form does not write (a location header, a carousel, other buttons).
    pub fn from_definition(
        name: &str,
        language: &str,
        category: &str,
        components: &Value,
        named: bool,
    ) -> Option<Self> {
        let category = match category.to_ascii_uppercase().as_str() {
            "MARKETING" => Category::Marketing,
            "UTILITY" => Category::Utility,
            "AUTHENTICATION" => Category::Authentication,
            _ => return None,
        };
        let mut draft = Self {
            name: name.to_owned(),
            language: language.to_owned(),
            category: Some(category),
            named: named && category != Category::Authentication,
            header_format: HeaderFormat::Text,
            header: String::new(),
            header_example: String::new(),
            header_handle: String::new(),
            body: String::new(),
            body_examples: Vec::new(),
            footer: String::new(),
            buttons: Vec::new(),
            auth: AuthLayout::default(),
        };
        if category == Category::Authentication {
            draft.auth = AuthLayout::from_components(components)?;
            return Some(draft);
        }
        let text = |component: &Value, pointer: &str| {
            component
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        for component in components.as_array()? {
            let kind = component.get("type")?.as_str()?.to_ascii_uppercase();
            match kind.as_str() {
                "HEADER" => {
                    let format = text(component, "/format").unwrap_or_else(|| "TEXT".into());
                    draft.header_format = HeaderFormat::parse(&format.to_ascii_lowercase())?;
                    // Meta lists a media header's sample as a URL of its own; an edit needs a
                    // new sample, uploaded again (its handle).
                    if draft.header_format != HeaderFormat::Text {
                        continue;
                    }
                    draft.header = text(component, "/text").unwrap_or_default();
                    draft.header_example = text(component, "/example/header_text/0")
                        .or_else(|| text(component, "/example/header_text_named_params/0/example"))
                        .unwrap_or_default();
                }
                "BODY" => {
                    draft.body = text(component, "/text")?;
                    draft.body_examples = match component.pointer("/example") {
                        Some(example) if named => {
                            let params = example.get("body_text_named_params")?.as_array()?;
                            draft
                                .body_variables()
                                .iter()
                                .map(|name| {
                                    params
                                        .iter()
                                        .find(|p| p.get("param_name") == Some(&json!(name)))
                                        .and_then(|p| p.get("example")?.as_str())
                                        .unwrap_or_default()
                                        .to_owned()
                                })
                                .collect()
                        }
                        Some(example) => example
                            .pointer("/body_text/0")?
                            .as_array()?
                            .iter()
                            .map(|v| v.as_str().unwrap_or_default().to_owned())
                            .collect(),
                        None => Vec::new(),
                    };
                }
                "FOOTER" => draft.footer = text(component, "/text").unwrap_or_default(),
                "BUTTONS" => {
                    for button in component.get("buttons")?.as_array()? {
                        draft.buttons.push(DraftButton::from_meta(button)?);
                    }
                }
                _ => return None,
            }
        }
        Some(draft)
    }
}

impl Draft {
    /// Meta's creation body (`name`, `language`, `category`, `components`, `parameter_format`) as
    /// a draft, a media header's sample handle included: `Err` with the parameter that is
    /// missing, or `Ok(None)` when its components have parts the console does not write (and so
    /// cannot check).
    pub fn from_creation_body(body: &Value) -> Result<Option<Self>, &'static str> {
        let text = |key: &'static str| body.get(key).and_then(Value::as_str).ok_or(key);
        let (name, language, category) = (text("name")?, text("language")?, text("category")?);
        let components = body.get("components").ok_or("components")?;
        let named = body
            .get("parameter_format")
            .and_then(Value::as_str)
            .is_some_and(|format| format.eq_ignore_ascii_case("named"));
        let Some(mut draft) = Self::from_definition(name, language, category, components, named)
        else {
            return Ok(None);
        };
        if draft.header_format != HeaderFormat::Text {
            draft.header_handle = components
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| {
                    c.get("type")
                        .and_then(Value::as_str)
                        .map(str::to_ascii_uppercase)
                        == Some("HEADER".into())
                })
                .and_then(|header| header.pointer("/example/header_handle/0"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
        }
        Ok(Some(draft))
    }
}

impl DraftButton {
    /// A button as Meta lists it; `None` for a kind the form does not write.
    fn from_meta(button: &Value) -> Option<Self> {
        let text = |key: &str| {
            button
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let kind = match text("type").to_ascii_uppercase().as_str() {
            "QUICK_REPLY" => ButtonKind::QuickReply,
            "URL" => ButtonKind::Url,
            "PHONE_NUMBER" => ButtonKind::PhoneNumber,
            "COPY_CODE" => ButtonKind::CopyCode,
            _ => return None,
        };
        let (value, example) = match kind {
            ButtonKind::QuickReply => (String::new(), String::new()),
            ButtonKind::Url => {
                let url = text("url");
                let sample = button
                    .pointer("/example/0")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let prefix = url.strip_suffix("{{1}}");
                let ending = prefix
                    .and_then(|prefix| sample.strip_prefix(prefix))
                    .unwrap_or_default()
                    .to_owned();
                (url, ending)
            }
            ButtonKind::PhoneNumber => (text("phone_number"), String::new()),
            ButtonKind::CopyCode => (
                button
                    .pointer("/example")
                    .and_then(|e| e.as_str().or_else(|| e.pointer("/0")?.as_str()))
                    .unwrap_or_default()
                    .to_owned(),
                String::new(),
            ),
        };
        Some(Self {
            kind,
            text: text("text"),
            value,
            example,
        })
    }

    fn problem(&self) -> Option<String> {
        let value = self.value.trim();
        match self.kind {
            ButtonKind::QuickReply => None,
            ButtonKind::Url => {
                let names = variables(value);
                if !(value.starts_with("https://") || value.starts_with("http://")) {
                    Some("Give the link's address, starting with https://.".to_owned())
                } else if chars(value) > URL_MAX {
                    Some(format!("A link has at most {URL_MAX} characters."))
                } else if !names.is_empty() && (names != ["1"] || !value.ends_with("{{1}}")) {
                    Some("A link can end with one variable, {{1}}, and have no other.".to_owned())
                } else if !names.is_empty() && self.example.trim().is_empty() {
                    Some("Give a sample of the link's ending for {{1}}.".to_owned())
                } else {
                    None
                }
            }
            ButtonKind::PhoneNumber => {
                let digits = value.bytes().filter(u8::is_ascii_digit).count();
                let ok = (8..=15).contains(&digits)
                    && value
                        .strip_prefix('+')
                        .unwrap_or(value)
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b' ' || b == b'-');
                (!ok).then(|| {
                    "Give the number to call with its country code, e.g. +1 555 010 2030."
                        .to_owned()
                })
            }
            ButtonKind::CopyCode => {
                let ok = !value.is_empty()
                    && chars(value) <= COPY_CODE_MAX
                    && value.chars().all(char::is_alphanumeric);
                (!ok).then(|| {
                    format!("Give a sample code: letters and digits, at most {COPY_CODE_MAX}.")
                })
            }
        }
    }

    fn to_meta(&self) -> Value {
        let value = self.value.trim();
        match self.kind {
            ButtonKind::QuickReply => json!({ "type": "QUICK_REPLY", "text": self.text.trim() }),
            ButtonKind::Url => {
                let mut button = json!({ "type": "URL", "text": self.text.trim(), "url": value });
                if let Some(prefix) = value.strip_suffix("{{1}}") {
                    button["example"] = json!([format!("{prefix}{}", self.example.trim())]);
                }
                button
            }
            ButtonKind::PhoneNumber => json!({
                "type": "PHONE_NUMBER",
                "text": self.text.trim(),
                "phone_number": value.replace([' ', '-'], ""),
            }),
            ButtonKind::CopyCode => json!({ "type": "COPY_CODE", "example": value }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            name: "order_update".into(),
            language: "en_US".into(),
            category: Some(Category::Utility),
            named: false,
            header_format: HeaderFormat::Text,
            header: "Order {{1}}".into(),
            header_example: "#1042".into(),
            header_handle: String::new(),
            body: "Hi {{1}}, your order ships on {{2}}.".into(),
            body_examples: vec!["Ana".into(), "Monday".into()],
            footer: "Reply STOP to opt out".into(),
            buttons: vec![
                DraftButton {
                    kind: ButtonKind::Url,
                    text: "Track it".into(),
                    value: "https://shop.example/track/{{1}}".into(),
                    example: "1042".into(),
                },
                DraftButton {
                    kind: ButtonKind::QuickReply,
                    text: "Thanks".into(),
                    value: String::new(),
                    example: String::new(),
                },
            ],
            auth: AuthLayout::default(),
        }
    }

    #[test]
    fn a_media_header_gives_its_samples_handle() {
        let draft = Draft {
            header_format: HeaderFormat::Image,
            header: String::new(),
            header_handle: String::new(),
            ..draft()
        };
        assert_eq!(fields(&draft), ["header_sample"]);
        let draft = Draft {
            header_handle: "4::aW1hZ2UvcG5n".into(),
            ..draft
        };
        assert_eq!(draft.check(), []);
        assert_eq!(
            draft.components()[0],
            json!({ "type": "HEADER", "format": "IMAGE",
                    "example": { "header_handle": ["4::aW1hZ2UvcG5n"] } })
        );
    }

    #[test]
    fn an_authentication_template_is_metas_layout_whatever_else_was_typed() {
        let draft = Draft {
            name: "login_code".into(),
            category: Some(Category::Authentication),
            auth: AuthLayout {
                security_recommendation: true,
                expiry_minutes: Some(5),
                ..AuthLayout::default()
            },
            ..draft()
        };
        assert_eq!(draft.check(), []);
        let body = draft.creation_body();
        assert_eq!(body["category"], "AUTHENTICATION");
        assert_eq!(body["components"], draft.auth.creation_components());
        assert!(body.get("parameter_format").is_none());
        assert_eq!(
            draft.components()[1]["text"],
            "This code expires in 5 minutes."
        );
        let bad = Draft {
            auth: AuthLayout {
                expiry_minutes: Some(0),
                ..AuthLayout::default()
            },
            ..draft
        };
        assert_eq!(fields(&bad), ["expiry_minutes"]);
    }

    fn fields(draft: &Draft) -> Vec<String> {
        draft.check().into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_good_draft_becomes_metas_creation_body() {
        let draft = draft();
        assert_eq!(draft.check(), []);
        assert_eq!(
            draft.creation_body(),
            json!({
                "name": "order_update",
                "language": "en_US",
                "category": "UTILITY",
                "components": [
                    { "type": "HEADER", "format": "TEXT", "text": "Order {{1}}",
                      "example": { "header_text": ["#1042"] } },
                    { "type": "BODY", "text": "Hi {{1}}, your order ships on {{2}}.",
                      "example": { "body_text": [["Ana", "Monday"]] } },
                    { "type": "FOOTER", "text": "Reply STOP to opt out" },
                    { "type": "BUTTONS", "buttons": [
                        { "type": "URL", "text": "Track it",
                          "url": "https://shop.example/track/{{1}}",
                          "example": ["https://shop.example/track/1042"] },
                        { "type": "QUICK_REPLY", "text": "Thanks" }
                    ] }
                ]
            })
        );
    }

    #[test]
    fn named_variables_carry_their_names_in_the_examples() {
        let draft = Draft {
            named: true,
            header: String::new(),
            body: "Hello {{first_name}}, see you {{day}}!".into(),
            buttons: Vec::new(),
            ..draft()
        };
        assert_eq!(draft.check(), []);
        let body = draft.creation_body();
        assert_eq!(body["parameter_format"], "named");
        assert_eq!(
            body["components"][0]["example"],
            json!({ "body_text_named_params": [
                { "param_name": "first_name", "example": "Ana" },
                { "param_name": "day", "example": "Monday" }
            ] })
        );
        let numbered = Draft {
            body: "Hello {{1}}, bye".into(),
            body_examples: vec!["Ana".into()],
            ..draft
        };
        assert_eq!(fields(&numbered), ["body"]);
    }

    #[test]
    fn what_meta_refuses_is_found_field_by_field() {
        let cases: Vec<(Draft, &[&str])> = vec![
            (
                Draft {
                    name: "Order Update".into(),
                    ..draft()
                },
                &["name"],
            ),
            (
                Draft {
                    language: "english".into(),
                    category: None,
                    ..draft()
                },
                &["language", "category"],
            ),
            (
                Draft {
                    header: "Order {{1}} for {{2}}".into(),
                    ..draft()
                },
                &["header"],
            ),
            (
                Draft {
                    header_example: " ".into(),
                    ..draft()
                },
                &["header_example"],
            ),
            (
                Draft {
                    body: "{{1}}, your order ships on {{2}}.".into(),
                    ..draft()
                },
                &["body"],
            ),
            (
                Draft {
                    body: "Hi {{1}}, your order ships on {{3}}.".into(),
                    ..draft()
                },
                &["body"],
            ),
            (
                Draft {
                    body_examples: vec!["Ana".into()],
                    ..draft()
                },
                &["body_examples"],
            ),
            (
                Draft {
                    body: "x".repeat(1025),
                    body_examples: Vec::new(),
                    ..draft()
                },
                &["body"],
            ),
            (
                Draft {
                    footer: "Use {{1}}".into(),
                    ..draft()
                },
                &["footer"],
            ),
        ];
        for (draft, expected) in cases {
            assert_eq!(fields(&draft), expected, "{draft:?}");
        }
    }

    fn corpus(name: &str) -> Value {
        let path = format!(
            "{}/../shared/corpus/templates/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).unwrap()
    }

    /// The creation requests of Meta's own documentation and an SDK's tests, written in the form.
    #[test]
    fn drafts_make_the_creation_requests_meta_documents() {
        let quick = |text: &str| DraftButton {
            kind: ButtonKind::QuickReply,
            text: text.into(),
            value: String::new(),
            example: String::new(),
        };
        let seasonal = Draft {
            name: "seasonal_promotion_text_only".into(),
            language: "en".into(),
            category: Some(Category::Marketing),
            named: false,
            header_format: HeaderFormat::Text,
            header: "Our {{1}} is on!".into(),
            header_example: "Summer Sale".into(),
            header_handle: String::new(),
            body: "Shop now through {{1}} and use code {{2}} to get {{3}} off of all merchandise."
                .into(),
            body_examples: vec!["the end of August".into(), "25OFF".into(), "25%".into()],
            footer: "Use the buttons below to manage your marketing subscriptions".into(),
            buttons: vec![
                quick("Unsubcribe from Promos"),
                quick("Unsubscribe from All"),
            ],
            auth: AuthLayout::default(),
        };
        assert_eq!(seasonal.check(), []);
        assert_eq!(
            seasonal.creation_body(),
            corpus(
                "openapi__create_template_request__template_w_text_header_text_body_text_footer_and_2_quick_reply_buttons.json"
            )
        );

        let named = Draft {
            name: "seasonal_promotion".into(),
            language: "en".into(),
            category: Some(Category::Marketing),
            named: true,
            header_format: HeaderFormat::Text,
            header: String::new(),
            header_example: String::new(),
            header_handle: String::new(),
            body: "Thank you for your order, {{name}}! Your confirmation number is {{order_number}}. If you have any questions, please use the buttons below to contact support. Thank you for being a customer!".into(),
            body_examples: vec!["Ignacio".into(), "860198-230332".into()],
            footer: String::new(),
            buttons: vec![
                DraftButton {
                    kind: ButtonKind::PhoneNumber,
                    text: "Call".into(),
                    value: "59898400766".into(),
                    example: String::new(),
                },
                DraftButton {
                    kind: ButtonKind::Url,
                    text: "Contact Support".into(),
                    value: "https://www.luckyshrub.com/support".into(),
                    example: String::new(),
                },
            ],
            auth: AuthLayout::default(),
        };
        assert_eq!(named.check(), []);
        assert_eq!(
            named.creation_body(),
            corpus("ruby__templates__create_a_template_with_named_parameters__request.json")
        );
    }

    /// What the form submits, Meta lists back, and the form shows again for editing.
    #[test]
    fn a_stored_definition_reads_back_as_the_draft_that_made_it() {
        for draft in [
            draft(),
            Draft {
                named: true,
                body: "Hello {{first_name}}, see you {{day}}!".into(),
                header: "For {{first_name}}".into(),
                ..draft()
            },
        ] {
            let body = draft.creation_body();
            let read = Draft::from_definition(
                &draft.name,
                &draft.language,
                body["category"].as_str().unwrap(),
                &body["components"],
                draft.named,
            );
            assert_eq!(read.as_ref(), Some(&draft));
        }
        // A media header reads back without its sample: an edit uploads a new one.
        let media = json!([
            { "type": "HEADER", "format": "IMAGE",
              "example": { "header_handle": ["https://scontent.whatsapp.net/v/old.png"] } },
            { "type": "BODY", "text": "Hi" }
        ]);
        let read = Draft::from_definition("x", "en", "UTILITY", &media, false);
        assert_eq!(
            read.map(|d| (d.header_format, d.header_handle)),
            Some((HeaderFormat::Image, String::new()))
        );
        let place =
            json!([{ "type": "HEADER", "format": "LOCATION" }, { "type": "BODY", "text": "Hi" }]);
        assert_eq!(
            Draft::from_definition("x", "en", "UTILITY", &place, false),
            None
        );
        let login = Draft {
            name: "login_code".into(),
            category: Some(Category::Authentication),
            auth: AuthLayout {
                security_recommendation: true,
                expiry_minutes: Some(5),
                button_text: "Copy it".into(),
                one_tap: None,
            },
            ..draft()
        };
        let read = Draft::from_definition(
            "login_code",
            "en",
            "AUTHENTICATION",
            &login.components(),
            false,
        );
        assert_eq!(read.map(|d| d.auth), Some(login.auth));
    }

    #[test]
    fn buttons_follow_metas_counts_kinds_and_order() {
        let button = |kind, text: &str, value: &str| DraftButton {
            kind,
            text: text.into(),
            value: value.into(),
            example: String::new(),
        };
        let with = |buttons| Draft { buttons, ..draft() };
        let quick = || button(ButtonKind::QuickReply, "Yes", "");
        let call = || button(ButtonKind::PhoneNumber, "Call us", "+1 555 010 2030");
        assert_eq!(fields(&with(vec![quick(), call(), quick()])), ["button0"]);
        assert_eq!(fields(&with(vec![call(), call()])), ["button1"]);
        assert_eq!(fields(&with(vec![quick(); 11])), ["button0"]);
        assert_eq!(
            fields(&with(vec![button(ButtonKind::Url, "Go", "shop.example")])),
            ["button0"]
        );
        assert_eq!(
            fields(&with(vec![button(
                ButtonKind::Url,
                "Go",
                "https://shop.example/{{1}}"
            )])),
            ["button0"],
            "a variable needs its sample"
        );
        assert_eq!(
            fields(&with(vec![button(
                ButtonKind::PhoneNumber,
                "Call",
                "+1 555 CALL"
            )])),
            ["button0"]
        );
        assert_eq!(
            fields(&with(vec![button(
                ButtonKind::QuickReply,
                &"x".repeat(26),
                ""
            )])),
            ["button0"]
        );
        let code = button(ButtonKind::CopyCode, "", "SAVE10");
        assert_eq!(fields(&with(vec![code.clone()])), Vec::<String>::new());
        assert_eq!(
            code.to_meta(),
            json!({ "type": "COPY_CODE", "example": "SAVE10" })
        );
        assert_eq!(
            call().to_meta()["phone_number"],
            "+15550102030",
            "spaces are for people"
        );
    }

    #[test]
    fn a_creation_body_reads_back_as_the_draft_that_wrote_it() {
        let named = Draft {
            named: true,
            header: "Order {{order}}".into(),
            body: "Hi {{first_name}}, your order ships on {{day}}.".into(),
            ..draft()
        };
        let image = Draft {
            header_format: HeaderFormat::Image,
            header: String::new(),
            header_example: String::new(),
            header_handle: "4::aW1hZ2UvcG5n:ARb".into(),
            ..draft()
        };
        for written in [draft(), named, image] {
            assert_eq!(
                Draft::from_creation_body(&written.creation_body()),
                Ok(Some(written))
            );
        }
        let mut body = draft().creation_body();
        body.as_object_mut().map(|fields| fields.remove("category"));
        assert_eq!(Draft::from_creation_body(&body), Err("category"));
        let carousel = json!({
            "name": "spring", "language": "en", "category": "MARKETING",
            "components": [{ "type": "BODY", "text": "Hi" }, { "type": "CAROUSEL", "cards": [] }]
        });
        assert_eq!(Draft::from_creation_body(&carousel), Ok(None));
    }
}
