//! Checking a template send against the template's definition before Meta sees it. The send's
//! `template.components` (what `POST /{phone-number-id}/messages` takes) are compared with the stored
//! definition (the `components` and `parameter_format` of `GET /{waba-id}/message_templates`), so what
//! Meta would refuse with 132000 (parameter count), 132012 (parameter format) or 132005 (hydrated
//! text too long) is refused here, with a message that names the component and what it expects. It
//! also lists the variables a template needs, to build a form. Pure: no I/O.
//!
//! Meta's rules: <https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates>
//! and the component reference
//! <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/components>.

use std::fmt;

use serde_json::Value;

/// Meta's limit on the body once its variables are filled in (error 132005).
const BODY_MAX_CHARS: usize = 1024;
const COUNT: i64 = 132000;
const LENGTH: i64 = 132005;
const FORMAT: i64 = 132012;

/// Why a template send does not fit its template; each message names the component and what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateMismatch {
    /// The Meta code it prevents: 132000 (count), 132012 (format) or 132005 (length); with several
    /// problems, the first of these that applies.
    pub code: i64,
    /// One message per problem, for agents and admins, without a final period.
    pub problems: Vec<String>,
}

impl fmt::Display for TemplateMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("; "))
    }
}

impl std::error::Error for TemplateMismatch {}

/// A template's definition as Meta returns it.
pub struct TemplateDefinition<'a> {
    /// The template's `components` array (HEADER, BODY, FOOTER, BUTTONS, …).
    pub components: &'a Value,
    /// `"POSITIONAL"` or `"NAMED"` (any case); a template whose placeholders are names is named
    /// whatever this says.
    pub parameter_format: Option<&'a str>,
}

/// One value a template needs at send time, for building a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The send component it goes in: `"header"`, `"body"` or `"button"`.
    pub component: &'static str,
    /// For `"button"`, the button's position (the send's `index`); `None` otherwise.
    pub index: Option<usize>,
    /// The placeholder without braces (`"1"`, `"first_name"`). Where there is no placeholder, the
    /// kind (`"image"`, `"location"`, `"coupon_code"`), or `"code"` for a one-time-password button.
    pub name: String,
    /// The parameter `type` to send: `"text"`, `"image"`, `"video"`, `"document"`, `"location"` or
    /// `"coupon_code"`.
    pub kind: &'static str,
    /// A sample value from the definition's `example`, when it has one (for a URL button, the suffix).
    pub example: Option<String>,
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.component)?;
        if let Some(index) = self.index {
            write!(f, " {index}")?;
        }
        match self.kind {
            "text" => write!(f, " {{{{{}}}}}", self.name)?,
            "coupon_code" => f.write_str(" coupon code")?,
            kind => write!(f, " {kind}")?,
        }
        match &self.example {
            Some(example) => write!(f, " (e.g. {example:?})"),
            None => Ok(()),
        }
    }
}

/// Checks `send_components` (the send's `template.components`) against `definition`.
pub fn check(
    definition: &TemplateDefinition<'_>,
    send_components: &Value,
) -> Result<(), TemplateMismatch> {
    let template = Template::read(definition);
    let mut problems = Problems::default();
    let sent: &[Value] = match send_components {
        Value::Null => &[],
        Value::Array(components) => components,
        _ => {
            problems.format("components must be a list of header, body and button components");
            return problems.finish();
        }
    };
    let (mut headers, mut bodies, mut buttons) = (Vec::new(), Vec::new(), Vec::new());
    for (n, component) in sent.iter().enumerate() {
        let Some(kind) = component.get("type").and_then(Value::as_str) else {
            problems.format(format!(
                "component {} has no type (header, body or button)",
                n + 1
            ));
            continue;
        };
        match kind.to_ascii_lowercase().as_str() {
            "header" => headers.push(component),
            "body" => bodies.push(component),
            "button" => buttons.push(component),
            "footer" if !parameters(component).is_empty() => {
                problems.count("footer takes no parameters")
            }
            other if !template.has(other) => {
                problems.count(format!("the template has no {other} component"))
            }
            // Components this module does not model (carousel, limited-time offer, …) go to Meta as is.
            _ => {}
        }
    }
    check_header(&template, &headers, &mut problems);
    check_body(&template, &bodies, &mut problems);
    check_buttons(&template, &buttons, &mut problems);
    problems.finish()
}

/// The variables a template needs, in order: header, body, then buttons.
pub fn variables(definition: &TemplateDefinition<'_>) -> Vec<Variable> {
    let template = Template::read(definition);
    let mut variables = Vec::new();
    if let Some(header) = template.header {
        match header_needs(header) {
            HeaderNeeds::Text(_) => {
                variables.extend(text_variables("header", header, &template, "header_text"))
            }
            HeaderNeeds::Object(kind) => {
                let example = str_at(header, "/example/header_handle/0")
                    .filter(|handle| is_full_url(handle))
                    .map(str::to_owned);
                variables.push(Variable {
                    component: "header",
                    index: None,
                    name: kind.into(),
                    kind,
                    example,
                });
            }
            HeaderNeeds::Nothing | HeaderNeeds::Unchecked => {}
        }
    }
    if let Some(body) = template.body {
        variables.extend(text_variables("body", body, &template, "body_text"));
    }
    for (index, button) in template.buttons.iter().enumerate() {
        let (name, kind, example) = match button_needs(button) {
            ButtonNeeds::UrlSuffix { placeholder, url } => {
                let prefix = url.split("{{").next().unwrap_or_default();
                let example = first_example(button)
                    .map(|example| example.strip_prefix(prefix).unwrap_or(example).to_owned());
                (placeholder.to_owned(), "text", example)
            }
            ButtonNeeds::CouponCode => (
                "coupon_code".to_owned(),
                "coupon_code",
                first_example(button).map(str::to_owned),
            ),
            ButtonNeeds::OneTimeCode => ("code".to_owned(), "text", None),
            _ => continue,
        };
        variables.push(Variable {
            component: "button",
            index: Some(index),
            name,
            kind,
            example,
        });
    }
    variables
}

/// The parts of a definition the checks need.
struct Template<'a> {
    named: bool,
    header: Option<&'a Value>,
    body: Option<&'a Value>,
    buttons: Vec<&'a Value>,
    components: &'a [Value],
}

impl<'a> Template<'a> {
    fn read(definition: &TemplateDefinition<'a>) -> Self {
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

    fn has(&self, kind: &str) -> bool {
        self.components.iter().any(|c| is_type(c, kind))
    }
}

enum HeaderNeeds<'a> {
    Nothing,
    Text(Vec<&'a str>),
    /// One parameter of this type: image, video, document or location.
    Object(&'static str),
    /// A header this module does not model (e.g. PRODUCT); left to Meta.
    Unchecked,
}

fn header_needs(header: &Value) -> HeaderNeeds<'_> {
    let format = header
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or("TEXT");
    match format.to_ascii_uppercase().as_str() {
        "TEXT" => match placeholders(str_of(header, "text")) {
            names if names.is_empty() => HeaderNeeds::Nothing,
            names => HeaderNeeds::Text(names),
        },
        "IMAGE" => HeaderNeeds::Object("image"),
        "VIDEO" => HeaderNeeds::Object("video"),
        "DOCUMENT" => HeaderNeeds::Object("document"),
        "LOCATION" => HeaderNeeds::Object("location"),
        _ => HeaderNeeds::Unchecked,
    }
}

fn check_header(template: &Template<'_>, sent: &[&Value], problems: &mut Problems) {
    if sent.len() > 1 {
        problems.count(format!("header is given {} times", sent.len()));
    }
    let params = sent.first().map_or(&[][..], |c| parameters(c));
    let needs = template.header.map_or(HeaderNeeds::Nothing, header_needs);
    match needs {
        HeaderNeeds::Nothing if !params.is_empty() => problems.count(format!(
            "header takes no parameters (the template's header has no variables), got {}",
            params.len()
        )),
        HeaderNeeds::Nothing | HeaderNeeds::Unchecked => {}
        HeaderNeeds::Text(names) => {
            check_text_parameters(
                "header",
                &names,
                template.named,
                &["text"],
                params,
                problems,
            );
        }
        HeaderNeeds::Object(kind) => check_header_object(kind, params, problems),
    }
}

fn check_header_object(kind: &str, params: &[Value], problems: &mut Problems) {
    let needs = match kind {
        "image" => "an image (link or id)",
        "video" => "a video (link or id)",
        "document" => "a document (link or id)",
        _ => "a location (latitude and longitude)",
    };
    let [param] = params else {
        // Meta answers a missing media header with 132012 ("expected IMAGE, received UNKNOWN").
        return match params.len() {
            0 => problems.format(format!("header needs {needs}, got nothing")),
            n => problems.count(format!("header expects 1 parameter ({needs}), got {n}")),
        };
    };
    let given = param_type(param);
    if given != kind {
        return problems.format(format!("header needs {needs}, got {}", or_nothing(&given)));
    }
    let object = param.get(kind);
    let present = |key: &str| match object.and_then(|o| o.get(key)) {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Number(_)) => true,
        _ => false,
    };
    if kind == "location" {
        if !(present("latitude") && present("longitude")) {
            problems.format("header location needs latitude and longitude");
        }
    } else if !(present("link") || present("id")) {
        problems.format(format!("header {kind} needs a link or an id"));
    }
}

fn check_body(template: &Template<'_>, sent: &[&Value], problems: &mut Problems) {
    if sent.len() > 1 {
        problems.count(format!("body is given {} times", sent.len()));
    }
    let params = sent.first().map_or(&[][..], |c| parameters(c));
    let text = template.body.map_or("", |body| str_of(body, "text"));
    let names = placeholders(text);
    let allowed = ["text", "currency", "date_time"];
    let values = check_text_parameters("body", &names, template.named, &allowed, params, problems);
    // https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/components#body
    let hydrated = hydrate(text, |name| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    });
    let length = hydrated.chars().count();
    if length > BODY_MAX_CHARS {
        problems.length(format!(
            "body is {length} characters long with its variables filled in; WhatsApp allows {BODY_MAX_CHARS}"
        ));
    }
}

/// Checks the parameters of a component with `{{…}}` placeholders (a body or a text header);
/// returns each placeholder's value, for hydration.
fn check_text_parameters<'v>(
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

/// What a button takes at send time.
enum ButtonNeeds<'a> {
    /// A URL button with a placeholder: the suffix, as one text parameter.
    UrlSuffix {
        placeholder: &'a str,
        url: &'a str,
    },
    /// A fixed URL or a phone number: no parameters.
    Nothing,
    CouponCode,
    /// Authentication templates send the code as a `url` button parameter.
    OneTimeCode,
    /// Optional payload.
    QuickReply,
    /// Flow, catalog, multi-product…: only the sub_type is checked.
    Unchecked,
}

fn button_needs(button: &Value) -> ButtonNeeds<'_> {
    let url = str_of(button, "url");
    match button_type(button).as_str() {
        "URL" => match placeholders(url).first() {
            Some(placeholder) => ButtonNeeds::UrlSuffix { placeholder, url },
            None => ButtonNeeds::Nothing,
        },
        "PHONE_NUMBER" => ButtonNeeds::Nothing,
        "COPY_CODE" => ButtonNeeds::CouponCode,
        "OTP" => ButtonNeeds::OneTimeCode,
        "QUICK_REPLY" => ButtonNeeds::QuickReply,
        _ => ButtonNeeds::Unchecked,
    }
}

/// The `sub_type` a send uses for a button of the definition.
fn sub_type_for(button: &Value) -> String {
    match button_type(button).as_str() {
        "URL" | "OTP" => "url".into(),
        other => other.to_ascii_lowercase(),
    }
}

fn check_buttons(template: &Template<'_>, sent: &[&Value], problems: &mut Problems) {
    let mut seen = Vec::new();
    for component in sent {
        let index = match component.get("index") {
            Some(Value::String(s)) => s.trim().parse::<usize>().ok(),
            Some(Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
            _ => None,
        };
        let Some(index) = index else {
            problems.format("a button component needs an index (the button's position, from 0)");
            continue;
        };
        let Some(button) = template.buttons.get(index) else {
            problems.count(match template.buttons.len() {
                0 => format!("button {index} does not exist: the template has no buttons"),
                n => format!(
                    "button {index} does not exist: the template's buttons are 0 to {}",
                    n - 1
                ),
            });
            continue;
        };
        if seen.contains(&index) {
            problems.count(format!("button {index} is given twice"));
            continue;
        }
        seen.push(index);
        let kind = button_type(button);
        let expected = sub_type_for(button);
        let sub_type = str_of(component, "sub_type");
        if !sub_type.eq_ignore_ascii_case(&expected) {
            problems.format(format!(
                "button {index} is {kind}, so its sub_type must be {expected}, got {}",
                or_nothing(sub_type)
            ));
            continue;
        }
        check_button_parameters(
            index,
            &kind,
            button_needs(button),
            parameters(component),
            problems,
        );
    }
    for (index, button) in template.buttons.iter().enumerate() {
        let needs = button_needs(button);
        if !seen.contains(&index)
            && let Some(what) = required(&needs)
        {
            problems.count(format!(
                "button {index} ({}) needs {what}",
                button_type(button)
            ));
        }
    }
}

/// What a button needs at every send, if anything.
fn required(needs: &ButtonNeeds<'_>) -> Option<String> {
    match needs {
        ButtonNeeds::UrlSuffix { placeholder, .. } => {
            Some(format!("the URL suffix for {{{{{placeholder}}}}}"))
        }
        ButtonNeeds::CouponCode => Some("the coupon code".into()),
        ButtonNeeds::OneTimeCode => Some("the one-time code".into()),
        _ => None,
    }
}

fn check_button_parameters(
    index: usize,
    kind: &str,
    needs: ButtonNeeds<'_>,
    params: &[Value],
    problems: &mut Problems,
) {
    let label = format!("button {index} ({kind})");
    let (param_kind, key) = match &needs {
        ButtonNeeds::UrlSuffix { .. } | ButtonNeeds::OneTimeCode => ("text", "text"),
        ButtonNeeds::CouponCode => ("coupon_code", "coupon_code"),
        ButtonNeeds::QuickReply => ("payload", "payload"),
        ButtonNeeds::Nothing if !params.is_empty() => {
            return problems.count(format!("{label} is fixed and takes no parameters"));
        }
        ButtonNeeds::Nothing | ButtonNeeds::Unchecked => return,
    };
    let what = required(&needs).unwrap_or_else(|| "a payload".into());
    let param = match params {
        [param] => param,
        [] if matches!(needs, ButtonNeeds::QuickReply) => return,
        [] => return problems.count(format!("{label} needs {what}")),
        _ => {
            return problems.count(format!(
                "{label} expects 1 parameter ({what}), got {}",
                params.len()
            ));
        }
    };
    let given = param_type(param);
    if given != param_kind {
        return problems.format(format!(
            "{label} takes {what} as a {param_kind} parameter, got {}",
            or_nothing(&given)
        ));
    }
    let value = str_of(param, key).trim();
    if value.is_empty() {
        problems.format(format!("{label} needs {what}, got an empty {key}"));
    } else if let ButtonNeeds::UrlSuffix { url, .. } = needs
        && is_full_url(value)
    {
        problems.format(format!(
            "{label} needs only {what}, not a full URL: the template's URL is {url}"
        ));
    }
}

/// Problems found so far, each with the Meta code it prevents.
#[derive(Default)]
struct Problems(Vec<(i64, String)>);

impl Problems {
    fn count(&mut self, message: impl Into<String>) {
        self.0.push((COUNT, message.into()));
    }

    fn format(&mut self, message: impl Into<String>) {
        self.0.push((FORMAT, message.into()));
    }

    fn length(&mut self, message: impl Into<String>) {
        self.0.push((LENGTH, message.into()));
    }

    fn finish(self) -> Result<(), TemplateMismatch> {
        let codes = [COUNT, FORMAT, LENGTH];
        match codes
            .into_iter()
            .find(|c| self.0.iter().any(|(code, _)| code == c))
        {
            None => Ok(()),
            Some(code) => Err(TemplateMismatch {
                code,
                problems: self.0.into_iter().map(|(_, message)| message).collect(),
            }),
        }
    }
}

/// The distinct placeholder names in `text` (`{{1}}` → "1"), numbers in numeric order, names in
/// order of appearance.
fn placeholders(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for (_, name) in spans(text) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.iter().all(|n| is_number(n)) {
        names.sort_by_key(|n| n.parse::<u64>().unwrap_or(u64::MAX));
    }
    names
}

/// `text` with each known placeholder replaced by its value; unknown ones stay as written.
fn hydrate<'v>(text: &str, value: impl Fn(&str) -> Option<&'v str>) -> String {
    let (mut out, mut rest) = (String::new(), 0);
    for (span, name) in spans(text) {
        if let Some(value) = value(name) {
            out.push_str(&text[rest..span.start]);
            out.push_str(value);
            rest = span.end;
        }
    }
    out.push_str(&text[rest..]);
    out
}

/// Every `{{name}}` in `text`, with its byte range.
fn spans(text: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| from + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        let name = &text[open + 2..close];
        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            found.push((open..close + 2, name));
            from = close + 2;
        } else {
            from = open + 1;
        }
    }
    found
}

/// Variables for a body or text header, with examples from `example.{key}` (positional) or
/// `example.{key}_named_params` (named).
fn text_variables(
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

fn parameters(component: &Value) -> &[Value] {
    component
        .get("parameters")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn param_type(param: &Value) -> String {
    let kind = str_of(param, "type");
    kind.to_ascii_lowercase()
}

fn button_type(button: &Value) -> String {
    let kind = str_of(button, "type");
    kind.to_ascii_uppercase()
}

fn is_type(component: &Value, kind: &str) -> bool {
    let given = component.get("type").and_then(Value::as_str);
    given.is_some_and(|t| t.eq_ignore_ascii_case(kind))
}

/// A button's `example`: a string, or a list whose first entry is used.
fn first_example(button: &Value) -> Option<&str> {
    match button.get("example") {
        Some(Value::Array(examples)) => examples.first().and_then(Value::as_str),
        Some(example) => example.as_str(),
        None => None,
    }
}

/// `value[key]` as a string, or "" when absent or not a string.
fn str_of<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn str_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn is_number(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_digit())
}

fn is_full_url(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn list(names: &[&str]) -> String {
    let braced: Vec<String> = names.iter().map(|n| format!("{{{{{n}}}}}")).collect();
    braced.join(", ")
}

fn or_nothing(kind: &str) -> &str {
    if kind.is_empty() { "nothing" } else { kind }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    macro_rules! corpus {
        ($path:literal) => {
            load(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/corpus/",
                $path
            ))
        };
    }

    fn load(path: &str) -> Value {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    /// The components of `name` in `language` from a template list response.
    fn listed(list: &Value, name: &str, language: &str) -> Value {
        let data = list["data"].as_array().unwrap();
        let template = data
            .iter()
            .find(|t| t["name"] == name && t["language"] == language)
            .unwrap_or_else(|| panic!("no {name} {language}"));
        template["components"].clone()
    }

    fn positional(components: &Value) -> TemplateDefinition<'_> {
        TemplateDefinition {
            components,
            parameter_format: Some("POSITIONAL"),
        }
    }

    fn mismatch(definition: &TemplateDefinition<'_>, send: Value) -> TemplateMismatch {
        check(definition, &send).expect_err("the send should not fit")
    }

    fn schedule_confirmation3() -> Value {
        let list = corpus!("templates/bindambc__list_templates_response_1.json");
        listed(&list, "schedule_confirmation3", "pt_BR")
    }

    fn body(texts: &[&str]) -> Value {
        let parameters: Vec<Value> = texts
            .iter()
            .map(|t| json!({"type": "text", "text": t}))
            .collect();
        json!({"type": "body", "parameters": parameters})
    }

    fn named_template() -> Value {
        let request = corpus!(
            "templates/ruby__templates__create_a_template_with_named_parameters__request.json"
        );
        request["components"].clone()
    }

    fn named(name: &str, text: &str) -> Value {
        json!({"type": "text", "parameter_name": name, "text": text})
    }

    #[test]
    fn corpus_sends_with_text_and_quick_reply_payloads_pass() {
        let components = schedule_confirmation3();
        for request in [
            corpus!("graph/bindambc__send_request__template__expectedMessage3.json"),
            corpus!("graph/bindambc__send_request__template__expectedMessage4.json"),
        ] {
            assert_eq!(
                check(&positional(&components), &request["template"]["components"]),
                Ok(())
            );
        }
    }

    #[test]
    fn corpus_send_with_an_upper_case_parameter_type_passes() {
        let list = corpus!("templates/ruby__templates__get_templates__response_http200.json");
        let components = listed(&list, "sample_shipping_confirmation", "en_US");
        let request = corpus!(
            "graph/ruby__messages__send_template_with_success_response_by_passing_components_json__request.json"
        );
        assert_eq!(
            check(&positional(&components), &request["template"]["components"]),
            Ok(())
        );
    }

    #[test]
    fn corpus_sends_with_media_headers_and_a_url_suffix_pass() {
        let pairs = [
            (
                corpus!("templates/bindambc__create_template_request__expectedTemplate6.json"),
                corpus!("graph/bindambc__send_request__template__expectedMessage6.json"),
            ),
            (
                corpus!("templates/bindambc__create_template_request__expectedTemplate5.json"),
                corpus!("graph/bindambc__send_request__template__expectedMessage5.json"),
            ),
        ];
        for (template, request) in pairs {
            let definition = TemplateDefinition {
                components: &template["components"],
                parameter_format: None,
            };
            assert_eq!(
                check(&definition, &request["template"]["components"]),
                Ok(())
            );
        }
    }

    #[test]
    fn a_body_with_too_few_parameters_is_a_count_mismatch() {
        let components = schedule_confirmation3();
        let error = mismatch(
            &positional(&components),
            json!([body(&["Ana", "04/11/2022"])]),
        );
        assert_eq!(error.code, 132000);
        assert_eq!(
            error.problems,
            ["body expects 3 parameters ({{1}}, {{2}}, {{3}}), got 2"]
        );
    }

    #[test]
    fn a_missing_body_is_a_count_mismatch() {
        let components = schedule_confirmation3();
        let error = mismatch(&positional(&components), json!([]));
        assert_eq!(
            error.problems,
            ["body expects 3 parameters ({{1}}, {{2}}, {{3}}), got 0"]
        );
    }

    #[test]
    fn a_body_without_variables_takes_no_parameters() {
        let list = corpus!("templates/bindambc__list_templates_response_1.json");
        let components = listed(&list, "hello_world", "en_US");
        assert_eq!(check(&positional(&components), &json!([])), Ok(()));
        let error = mismatch(&positional(&components), json!([body(&["Ana"])]));
        assert_eq!(error.code, 132000);
        assert!(
            error.problems[0].starts_with("body takes no parameters"),
            "{error:?}"
        );
    }

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
    fn placeholders_that_are_names_make_a_template_named_even_if_stored_as_positional() {
        let components = named_template();
        let send = json!([{"type": "body", "parameters": [named("name", "Ana"), named("order_number", "1")]}]);
        assert_eq!(check(&positional(&components), &send), Ok(()));
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

    fn happy_hour() -> Value {
        let list = corpus!("templates/ruby__templates__get_templates__response_http200.json");
        listed(&list, "sample_happy_hour_announcement", "en_US")
    }

    fn header(parameters: Value) -> Value {
        json!({"type": "header", "parameters": parameters})
    }

    #[test]
    fn a_media_header_of_the_wrong_type_names_both_types() {
        let components = happy_hour();
        let send = json!([
            header(json!([{"type": "image", "image": {"id": "554066036582230"}}])),
            body(&["Lisbon", "18:00"]),
        ]);
        let error = mismatch(&positional(&components), send);
        assert_eq!(
            error,
            TemplateMismatch {
                code: 132012,
                problems: vec!["header needs a video (link or id), got image".into()],
            }
        );
    }

    #[test]
    fn a_media_header_needs_the_media_and_a_link_or_id() {
        let components = happy_hour();
        let error = mismatch(
            &positional(&components),
            json!([body(&["Lisbon", "18:00"])]),
        );
        assert_eq!(
            error.problems,
            ["header needs a video (link or id), got nothing"]
        );
        let send = json!([
            header(json!([{"type": "video", "video": {}}])),
            body(&["Lisbon", "18:00"])
        ]);
        let error = mismatch(&positional(&components), send);
        assert_eq!(error.problems, ["header video needs a link or an id"]);
        let send = json!([
            header(json!([{"type": "video", "video": {"link": "https://example.com/v.mp4"}}])),
            body(&["Lisbon", "18:00"])
        ]);
        assert_eq!(check(&positional(&components), &send), Ok(()));
    }

    #[test]
    fn a_location_header_needs_latitude_and_longitude() {
        let template =
            corpus!("templates/pywa__create_template_request__buttons__order_delivery_update.json");
        let definition = positional(&template["components"]);
        let error = mismatch(
            &definition,
            json!([
                header(json!([{"type": "location", "location": {"name": "Shop"}}])),
                body(&["Mark", "566701"])
            ]),
        );
        assert_eq!(
            error.problems,
            ["header location needs latitude and longitude"]
        );
        let location =
            json!({"type": "location", "location": {"latitude": "37.48", "longitude": "-122.15"}});
        let send = json!([header(json!([location])), body(&["Mark", "566701"])]);
        assert_eq!(check(&definition, &send), Ok(()));
    }

    #[test]
    fn a_text_header_with_a_placeholder_needs_one_text_parameter() {
        let template =
            corpus!("templates/pywa__create_template_request__buttons__seasonal_promotion.json");
        let definition = positional(&template["components"]);
        let the_body = body(&["the end of August", "25OFF", "25%"]);
        let error = mismatch(&definition, json!([the_body.clone()]));
        assert_eq!(
            error.problems,
            ["header expects 1 parameter ({{1}}), got 0"]
        );
        let send = json!([
            header(json!([{"type": "text", "text": "Summer Sale"}])),
            the_body
        ]);
        assert_eq!(check(&definition, &send), Ok(()));
    }

    #[test]
    fn a_header_without_variables_takes_no_parameters() {
        let components = schedule_confirmation3();
        let send = json!([
            header(json!([{"type": "text", "text": "Hi"}])),
            body(&["Ana", "04/11", "13:30"])
        ]);
        let error = mismatch(&positional(&components), send);
        assert_eq!(error.code, 132000);
        assert!(
            error.problems[0].starts_with("header takes no parameters"),
            "{error:?}"
        );
    }

    fn coursera() -> Value {
        let template =
            corpus!("templates/bindambc__create_template_request__expectedTemplate6.json");
        template["components"].clone()
    }

    fn coursera_send(button: Value) -> Value {
        let document = json!([{"type": "document", "document": {"id": "928860901494862"}}]);
        let mut components = vec![header(document), body(&["Ana"])];
        components.extend(button.as_object().map(|_| button.clone()));
        Value::Array(components)
    }

    fn url_button(index: Value, suffix: &str) -> Value {
        json!({"type": "button", "sub_type": "url", "index": index, "parameters": [{"type": "text", "text": suffix}]})
    }

    #[test]
    fn a_url_button_with_a_placeholder_needs_its_suffix() {
        let components = coursera();
        let error = mismatch(&positional(&components), coursera_send(Value::Null));
        assert_eq!(
            error.problems,
            ["button 0 (URL) needs the URL suffix for {{1}}"]
        );
        let send = coursera_send(url_button(json!("0"), "career-academy"));
        assert_eq!(check(&positional(&components), &send), Ok(()));
    }

    #[test]
    fn a_url_suffix_must_be_non_empty_and_not_a_full_url() {
        let components = coursera();
        let error = mismatch(
            &positional(&components),
            coursera_send(url_button(json!(0), "https://www.coursera.org/x")),
        );
        assert_eq!(error.code, 132012);
        assert_eq!(
            error.problems,
            [
                "button 0 (URL) needs only the URL suffix for {{1}}, not a full URL: the template's URL is https://www.coursera.org/{{1}}"
            ]
        );
        let error = mismatch(
            &positional(&components),
            coursera_send(url_button(json!(0), "")),
        );
        assert_eq!(
            error.problems,
            ["button 0 (URL) needs the URL suffix for {{1}}, got an empty text"]
        );
    }

    #[test]
    fn a_button_index_that_does_not_exist_or_does_not_match_the_type_is_refused() {
        let components = coursera();
        let send = coursera_send(url_button(json!(0), "career-academy"));
        let mut send = send.as_array().unwrap().clone();
        send.push(url_button(json!("1"), "x"));
        send.push(
            json!({"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": []}),
        );
        let error = mismatch(&positional(&components), Value::Array(send));
        assert_eq!(
            error.problems,
            [
                "button 1 does not exist: the template's buttons are 0 to 0",
                "button 0 is given twice"
            ]
        );
        let quick_reply =
            json!({"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": []});
        let error = mismatch(&positional(&components), coursera_send(quick_reply));
        assert_eq!(error.code, 132012);
        assert_eq!(
            error.problems[0],
            "button 0 is URL, so its sub_type must be url, got quick_reply"
        );
    }

    #[test]
    fn a_copy_code_button_needs_a_coupon_code() {
        let template = corpus!(
            "templates/pywa__create_template_request__buttons__coupon_code_fall2023_25off.json"
        );
        let definition = positional(&template["components"]);
        let error = mismatch(&definition, json!([body(&["25OFF", "25%"])]));
        assert_eq!(
            error.problems,
            ["button 1 (COPY_CODE) needs the coupon code"]
        );
        let copy = |param: Value| json!({"type": "button", "sub_type": "COPY_CODE", "index": 1, "parameters": [param]});
        let error = mismatch(
            &definition,
            json!([
                body(&["25OFF", "25%"]),
                copy(json!({"type": "text", "text": "25OFF"}))
            ]),
        );
        assert_eq!(error.code, 132012);
        let send = json!([
            body(&["25OFF", "25%"]),
            copy(json!({"type": "coupon_code", "coupon_code": "25OFF"}))
        ]);
        assert_eq!(check(&definition, &send), Ok(()));
    }

    #[test]
    fn quick_reply_buttons_take_a_payload_not_text() {
        // Meta's OpenAPI example sends text parameters to quick replies; Meta expects `payload`.
        let list = corpus!("templates/ruby__templates__get_templates__response_http200.json");
        let components = listed(&list, "sample_issue_resolution", "en_US");
        let request = corpus!("graph/openapi__send_request__sample_issue_resolution_template.json");
        let error = mismatch(
            &positional(&components),
            request["template"]["components"].clone(),
        );
        assert_eq!(error.code, 132012);
        assert_eq!(
            error.problems[0],
            "button 0 (QUICK_REPLY) takes a payload as a payload parameter, got text"
        );
        let without_payload = json!([body(&["Mr. Jones"])]);
        assert_eq!(check(&positional(&components), &without_payload), Ok(()));
    }

    #[test]
    fn an_authentication_template_needs_the_code_in_its_button() {
        let template = corpus!(
            "templates/pywa__create_template_request__authentication__authentication_code_copy_code_button.json"
        );
        let definition = positional(&template["components"]);
        let error = mismatch(&definition, json!([]));
        assert_eq!(error.problems, ["button 0 (OTP) needs the one-time code"]);
        assert_eq!(
            check(&definition, &json!([url_button(json!("0"), "J$FpnYnP")])),
            Ok(())
        );
    }

    #[test]
    fn components_the_template_does_not_have_are_refused() {
        let components = schedule_confirmation3();
        let send = json!([body(&["Ana", "04/11", "13:30"]), {"type": "carousel", "cards": []}, {"parameters": []}]);
        let error = mismatch(&positional(&components), send);
        assert_eq!(
            error.problems,
            [
                "the template has no carousel component",
                "component 3 has no type (header, body or button)"
            ]
        );
        assert_eq!(error.code, 132000);
    }

    #[test]
    fn a_body_longer_than_1024_characters_once_filled_in_is_refused() {
        let components = schedule_confirmation3();
        let long = "é".repeat(1000);
        let error = mismatch(
            &positional(&components),
            json!([body(&[&long, "04/11", "13:30"])]),
        );
        assert_eq!(error.code, 132005);
        assert!(error.problems[0].starts_with("body is 1"), "{error:?}");
        let fits = "é".repeat(900);
        assert_eq!(
            check(
                &positional(&components),
                &json!([body(&[&fits, "04/11", "13:30"])])
            ),
            Ok(())
        );
    }

    #[test]
    fn variables_list_header_body_and_button_with_examples() {
        let template = corpus!(
            "templates/openapi__create_template_request__template_w_image_header_text_body_text_footer_and_2_call_to_action_buttons.json"
        );
        let variables = variables(&positional(&template["components"]));
        let text = |component, index, name: &str, example: &str| Variable {
            component,
            index,
            name: name.into(),
            kind: "text",
            example: Some(example.into()),
        };
        assert_eq!(
            variables,
            [
                Variable {
                    component: "header",
                    index: None,
                    name: "image".into(),
                    kind: "image",
                    example: None
                },
                text("body", None, "1", "Mark"),
                text("body", None, "2", "Tuscan Getaway package"),
                text("body", None, "3", "800"),
                text("button", Some(1), "1", "summer2023"),
            ]
        );
        assert_eq!(
            variables[4].to_string(),
            "button 1 {{1}} (e.g. \"summer2023\")"
        );
    }

    #[test]
    fn variables_of_a_url_button_show_only_the_suffix_of_a_full_example() {
        let components = coursera();
        let variables = variables(&positional(&components));
        assert_eq!(
            variables.last().and_then(|v| v.example.as_deref()),
            Some("?authMode=login")
        );
        assert_eq!(variables[0].to_string(), "header document");
    }

    #[test]
    fn variables_of_named_templates_and_copy_codes_carry_their_examples() {
        let components = named_template();
        let definition = TemplateDefinition {
            components: &components,
            parameter_format: Some("named"),
        };
        let names: Vec<_> = variables(&definition)
            .into_iter()
            .map(|v| (v.name, v.example))
            .collect();
        assert_eq!(
            names,
            [
                ("name".into(), Some("Ignacio".into())),
                ("order_number".into(), Some("860198-230332".into()))
            ]
        );
        let template = corpus!(
            "templates/pywa__create_template_request__buttons__coupon_code_fall2023_25off.json"
        );
        let coupon = variables(&positional(&template["components"])).pop();
        assert_eq!(
            coupon.map(|v| (v.kind, v.index, v.example)),
            Some(("coupon_code", Some(1), Some("250FF".into())))
        );
    }

    #[test]
    fn text_header_variables_come_first() {
        let template =
            corpus!("templates/pywa__create_template_request__buttons__seasonal_promotion.json");
        let first = variables(&positional(&template["components"])).remove(0);
        assert_eq!(
            (
                first.component,
                first.name.as_str(),
                first.example.as_deref()
            ),
            ("header", "1", Some("Summer Sale"))
        );
    }
}
