//! `templates/inbox/message_body.html` on its own: the thread page includes the same file in each
//! bubble, and a live update can send just this.

use askama::Template;

use super::{Body, MessageView};

/// One message's body as HTML (render it with [`Template::render`]).
#[derive(Template)]
#[template(path = "inbox/message_body.html")]
pub struct MessageBodyPartial<'a> {
    pub message: &'a MessageView,
}
