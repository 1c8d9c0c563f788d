//! The structured kinds of message content (locations, contact cards, orders, interactive replies
//! and prompts) and what comes with a message (the ad it came from, the product it asks about), read
//! leniently: a field that is missing or of another type is left out, never an error.

use serde_json::Value;

use super::{
    body::Body,
    markup::{Markup, WebLink, format},
};

/// A shared location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub name: Option<String>,
    pub address: Option<String>,
    /// "latitude, longitude", when both are given and valid.
    pub coordinates: Option<String>,
    /// The place on OpenStreetMap.
    pub map: Option<WebLink>,
    /// The place's own web page, if the customer shared one.
    pub website: Option<WebLink>,
}

impl Location {
    pub(super) fn of(part: &Value) -> Self {
        let coordinate = |name: &str, limit: f64| {
            part.get(name)
                .and_then(decimal)
                .filter(|value| value.is_finite() && value.abs() <= limit)
        };
        let at = coordinate("latitude", 90.0).zip(coordinate("longitude", 180.0));
        Self {
            name: owned(text_at(part, "/name")),
            address: owned(text_at(part, "/address")),
            coordinates: at.map(|(lat, lon)| format!("{lat}, {lon}")),
            map: at.and_then(|(lat, lon)| {
                WebLink::parse(&format!(
                    "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
                ))
            }),
            website: text_at(part, "/url").and_then(WebLink::parse),
        }
    }
}

/// A shared contact card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCard {
    pub name: String,
    pub organization: Option<String>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
}

impl ContactCard {
    /// Every card of a `contacts` message (Meta puts them in an array under the type's key).
    pub(super) fn all(part: &Value) -> Vec<Self> {
        part.as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(Self::of)
            .collect()
    }

    fn of(card: &Value) -> Self {
        let list = |key: &str, field: &str| -> Vec<String> {
            let items = card.get(key).and_then(Value::as_array);
            let values = items.into_iter().flatten();
            values
                .filter_map(|item| owned(text_at(item, field)))
                .collect()
        };
        let phones = list("phones", "/phone");
        let first_last = [
            text_at(card, "/name/first_name"),
            text_at(card, "/name/last_name"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        // A contact shared from a request may come as a vCard only.
        let vcard_name = text_at(card, "/vcard").and_then(|vcard| {
            vcard
                .lines()
                .find_map(|line| line.strip_prefix("FN:"))
                .map(str::trim)
                .filter(|name| !name.is_empty())
        });
        let name = text_at(card, "/name/formatted_name")
            .map(str::to_owned)
            .or_else(|| (!first_last.is_empty()).then_some(first_last))
            .or_else(|| owned(vcard_name))
            .or_else(|| phones.first().cloned())
            .unwrap_or_else(|| "Unnamed contact".into());
        Self {
            name,
            organization: owned(text_at(card, "/org/company")),
            phones,
            emails: list("emails", "/email"),
        }
    }
}

/// What the customer picked: a reply button's or list row's title, or a template button's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub title: String,
    pub description: Option<String>,
}

/// The answers of a completed WhatsApp Flow, by field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
}

/// A cart the customer sent from the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub items: Vec<OrderItem>,
    /// The text sent with it.
    pub note: Option<Markup>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    /// The product's id in the catalog (`product_retailer_id`).
    pub product: String,
    pub quantity: String,
    /// The unit price with its currency, as Meta gave it.
    pub price: Option<String>,
}

impl Order {
    pub(super) fn of(part: &Value) -> Self {
        let items = part.get("product_items").and_then(Value::as_array);
        let items = items.into_iter().flatten().map(|item| {
            let price = item.get("item_price").and_then(scalar);
            let currency = text_at(item, "/currency").unwrap_or_default();
            OrderItem {
                product: text_at(item, "/product_retailer_id")
                    .unwrap_or("Unnamed product")
                    .to_owned(),
                quantity: item.get("quantity").and_then(scalar).unwrap_or_default(),
                price: price.map(|price| format!("{price} {currency}").trim_end().to_owned()),
            }
        });
        Self {
            items: items.collect(),
            note: text_at(part, "/text").map(format),
        }
    }
}

/// Reply buttons or a list we sent: what the customer saw and could pick.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub header: Option<String>,
    pub body: Markup,
    pub footer: Option<String>,
    /// The list's button, which opens its rows.
    pub list_button: Option<String>,
    /// The buttons' or rows' titles.
    pub options: Vec<String>,
}

/// The body of an `interactive` message: the customer's reply to one of ours, or one we sent.
/// `None` for a kind it does not know.
pub(super) fn interactive(part: &Value) -> Option<Body> {
    let choice = |pointer: &str| {
        let reply = part.pointer(pointer)?;
        Some(Body::Choice(Choice {
            title: text_at(reply, "/title").unwrap_or("An option").to_owned(),
            description: owned(text_at(reply, "/description")),
        }))
    };
    match text_at(part, "/type")? {
        "button_reply" => choice("/button_reply"),
        "list_reply" => choice("/list_reply"),
        "nfm_reply" => Some(Body::Form(form(part))),
        "call_permission_reply" => Some(Body::Notice(
            match text_at(part, "/call_permission_reply/response") {
                Some("accept") => "Allowed calls from the business",
                _ => "Declined calls from the business",
            }
            .into(),
        )),
        "payment_method" => Some(Body::Notice("Chose a payment method".into())),
        _ => {
            // One we sent: reply buttons, a list, a call-to-action URL button, ….
            let body = text_at(part, "/body/text")?;
            let mut options = options_of(part);
            for label in [
                "/action/parameters/display_text",
                "/action/parameters/flow_cta",
            ] {
                options.extend(owned(text_at(part, label)));
            }
            Some(Body::Prompt(Prompt {
                header: owned(text_at(part, "/header/text")),
                body: format(body),
                footer: owned(text_at(part, "/footer/text")),
                list_button: owned(text_at(part, "/action/button")),
                options,
            }))
        }
    }
}

/// The titles of a list's rows and of reply buttons (`{"type": "reply", "reply": {"title": …}}`).
fn options_of(part: &Value) -> Vec<String> {
    let sections = part.pointer("/action/sections").and_then(Value::as_array);
    let rows = sections
        .into_iter()
        .flatten()
        .filter_map(|section| section.get("rows").and_then(Value::as_array))
        .flatten();
    let buttons = part.pointer("/action/buttons").and_then(Value::as_array);
    let replies = buttons.into_iter().flatten().filter_map(|b| b.get("reply"));
    rows.chain(replies)
        .filter_map(|item| owned(text_at(item, "/title")))
        .collect()
}

/// A Flow's answers, from its `response_json` (the flow token is Meta's, not an answer).
fn form(part: &Value) -> Form {
    let answers = text_at(part, "/nfm_reply/response_json")
        .and_then(|json| serde_json::from_str::<Value>(json).ok());
    let fields = answers
        .as_ref()
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(name, _)| name.as_str() != "flow_token")
        .filter_map(|(name, value)| {
            let value = match value {
                Value::Array(items) => {
                    let items: Vec<String> = items.iter().filter_map(scalar).collect();
                    items.join(", ")
                }
                other => scalar(other)?,
            };
            Some(Field {
                name: name.clone(),
                value,
            })
        });
    Form {
        fields: fields.collect(),
    }
}

/// The ad or post a customer clicked to start the chat (click-to-WhatsApp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// "ad" or "post", as Meta says.
    pub source_type: Option<String>,
    pub headline: Option<String>,
    pub body: Option<String>,
    pub source: Option<WebLink>,
}

impl Referral {
    pub(super) fn of(referral: &Value) -> Option<Self> {
        let view = Self {
            source_type: owned(text_at(referral, "/source_type")),
            headline: owned(text_at(referral, "/headline")),
            body: owned(text_at(referral, "/body")),
            source: text_at(referral, "/source_url").and_then(WebLink::parse),
        };
        (view != Self::empty()).then_some(view)
    }

    /// Where the customer came from, as a label: Meta's `source_type` is `ad` or `post`.
    pub fn label(&self) -> &'static str {
        match self.source_type.as_deref() {
            Some("post") => "From a post",
            _ => "From an ad",
        }
    }

    fn empty() -> Self {
        Self {
            source_type: None,
            headline: None,
            body: None,
            source: None,
        }
    }
}

/// A catalog product a message is about (`context.referred_product`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub catalog_id: Option<String>,
    pub retailer_id: String,
}

impl Product {
    pub(super) fn of_context(context: &Value) -> Option<Self> {
        let product = context.get("referred_product")?;
        Some(Self {
            catalog_id: owned(text_at(product, "/catalog_id")),
            retailer_id: text_at(product, "/product_retailer_id")?.to_owned(),
        })
    }
}

/// The non-blank string at `pointer`.
pub(super) fn text_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|text| !text.trim().is_empty())
}

/// A whole number given as a number or a string (Meta sends both).
pub(super) fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A number given as a number or a string.
fn decimal(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string, number or boolean as text.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_owned)
}
