//! Sending. The `send` service decides whether a message may go out (`checks`: the window,
//! templates, opt-out) and queues it as a message row; the `worker` claims queued rows at each
//! number's pace (`claim`), delivers them to the Graph API and has their answers recorded
//! (`record`), retrying what is transient and never resending what may already have reached Meta.
//! A caller that wants Meta's answer waits for it (`answers`).

pub mod answers;
mod checks;
mod claim;
mod lookup;
mod queueing;
mod record;
mod refused;
pub mod send;
mod starts;
pub mod worker;

/// The share of a number's limit that its send slots use: slots are evenly spaced, but network
/// and scheduling jitter (one request a few ms late while the next is on time) bunch them up a
/// little on the way to Meta, and no one-second span there may exceed the limit.
pub const PACING_HEADROOM: f64 = 0.9;

/// The Postgres notification channel that wakes delivery workers in every instance.
const CHANNEL: &str = "outbox";
