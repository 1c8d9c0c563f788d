//! How a stored message reads in the agent inbox: a view of its content ([`MessageView`], whose
//! [`Body`] has a variant per kind of message) built from a `messages` row, and the partial
//! `templates/inbox/message_body.html` that shows it as safe HTML. Pure: no SQL, no I/O.
//!
//! The thread page, for each page of messages:
//!
//! 1. Collects the reactions: [`Reactions::add`] for each `message_reactions` row (the customer's)
//!    and for each of our `messages` rows that [`reaction_in`] finds to be a reaction, oldest first;
//!    those rows are then left out of the thread.
//! 2. Builds a [`MessageView::new`] from a [`StoredMessage`] per remaining row (with the template's
//!    definition when `template_id` is set, and the quoted message looked up by `context_wamid`),
//!    then sets `view.reactions = reactions.on(wamid)`.
//! 3. Includes `inbox/message_body.html` inside each bubble, with the view named `message`
//!    ([`MessageBodyPartial`] renders it alone, for live updates and tests).
//!
//! Media are served by the inbox's media route, [`media_url`]. Text goes through [`format()`], whose
//! [`Markup`] is the only thing the templates print with `|safe`.

mod body;
mod markup;
mod partial;
mod parts;
mod reactions;
mod template;

use serde_json::Value;

use crate::{
    domain::{ids::MessageId, messages::Direction},
    whatsapp::template_check::TemplateDefinition,
};

pub use body::{Audio, Body, Document, Media, Unsupported, content_part};
pub use markup::{Markup, WebLink, format};
pub use partial::MessageBodyPartial;
pub use parts::{
    Choice, ContactCard, Field, Form, Location, Order, OrderItem, Product, Prompt, Referral,
};
pub use reactions::{ReactionGroup, Reactions, reaction_in};
pub use template::{FilledTemplate, TemplateView};

/// A `messages` row, as much of it as the view needs.
pub struct StoredMessage<'a> {
    pub id: MessageId,
    pub direction: Direction,
    /// `messages.type`.
    pub kind: &'a str,
    /// `messages.content`: the webhook's message object (the customer's, or an echo of one sent
    /// from the WhatsApp Business app), or the Graph request body of one we sent.
    pub content: &'a Value,
    /// `edited_at` is set.
    pub edited: bool,
    /// `deleted_at` is set.
    pub deleted: bool,
    /// The stored definition of the template it sent (`template_id`), if any.
    pub template: Option<TemplateDefinition<'a>>,
    /// The message it replies to (`context_wamid`), if it replies to one.
    pub reply_to: Option<ReplyTo<'a>>,
}

/// The message a reply quotes, as the thread page found it by `context_wamid`.
#[derive(Debug, Clone, Copy)]
pub enum ReplyTo<'a> {
    /// In the conversation: who sent it and its one-line `body`.
    Found { direction: Direction, body: &'a str },
    /// Not stored here (older than the inbox, or from a catalog).
    Missing,
}

/// A message as the inbox shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    pub id: MessageId,
    pub direction: Direction,
    pub body: Body,
    /// The message this one replies to.
    pub quote: Option<Quote>,
    /// "Forwarded" or "Forwarded many times".
    pub forwarded: Option<&'static str>,
    /// The catalog product the customer asks about.
    pub product: Option<Product>,
    /// The ad or post the customer came from (click-to-WhatsApp).
    pub referral: Option<Referral>,
    pub edited: bool,
    pub deleted: bool,
    /// Reactions to it, set by the thread page from [`Reactions::on`].
    pub reactions: Vec<ReactionGroup>,
}

/// The quoted message of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quote {
    Message {
        from_customer: bool,
        summary: String,
    },
    Missing,
}

impl Quote {
    /// What the quote shows: the quoted message's one-line summary.
    pub fn text(&self) -> &str {
        match self {
            Self::Message { summary, .. } => summary,
            Self::Missing => "A message not shown here",
        }
    }

    /// The CSS class of the quote, by who wrote the quoted message.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Message {
                from_customer: true,
                ..
            } => "message-quote--customer",
            Self::Message { .. } => "message-quote--business",
            Self::Missing => "message-quote--missing",
        }
    }
}

impl MessageView {
    /// The view of a stored message. A deleted one shows only that it was deleted.
    pub fn new(message: &StoredMessage<'_>) -> Self {
        let shown = !message.deleted;
        let content = message.content;
        let context = content.get("context").filter(|_| shown);
        let flag = |name: &str| context.and_then(|c| c.get(name)) == Some(&Value::Bool(true));
        let forwarded = if flag("frequently_forwarded") {
            Some("Forwarded many times")
        } else if flag("forwarded") {
            Some("Forwarded")
        } else {
            None
        };
        let product = context.and_then(Product::of_context);
        // A question about a product quotes the catalog message it came from; the product says
        // more than "a message not shown here" would.
        let quote = match message.reply_to.filter(|_| shown) {
            Some(ReplyTo::Found { direction, body }) => Some(Quote::Message {
                from_customer: direction == Direction::Inbound,
                summary: body.to_owned(),
            }),
            Some(ReplyTo::Missing) if product.is_none() => Some(Quote::Missing),
            _ => None,
        };
        Self {
            id: message.id,
            direction: message.direction,
            body: Body::of(message),
            quote,
            forwarded,
            product,
            referral: content
                .get("referral")
                .filter(|_| shown)
                .and_then(Referral::of),
            edited: message.edited,
            deleted: message.deleted,
            reactions: Vec::new(),
        }
    }
}

/// Where the inbox serves the media of message `id` (the inbox's media route, `inbox::media`,
/// which finds it with [`content_part`]).
pub fn media_url(id: MessageId) -> String {
    format!("/inbox/media/{id}")
}

#[cfg(test)]
mod tests;
