//! How a stored message reads in the agent inbox, as safe HTML. Text goes through [`format`], whose
//! [`Markup`] is the only thing the templates print with `|safe`.

mod markup;

pub use markup::{Markup, WebLink, format};
