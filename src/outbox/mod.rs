//! Sending. `send` decides whether a message may go out (the window, templates, opt-out) and queues
//! it as a message row; the `worker` delivers queued rows to the Graph API at each number's pace,
//! retrying what is transient and never resending what may already have reached Meta.

mod pacing;
pub mod send;
pub mod worker;

/// The Postgres notification channel that wakes delivery workers in every instance.
const CHANNEL: &str = "outbox";
