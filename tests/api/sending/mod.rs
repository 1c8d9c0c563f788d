//! The send path over real HTTP against the fake Graph API, by topic: the window and templates,
//! errors, retries and idempotency, the crash-in-`sending` rule, sends stored together, and a
//! customer's messages in turn.

mod batches;
mod crashes;
mod failures;
mod turns;
mod window;
