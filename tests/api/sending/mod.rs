//! The send path over real HTTP against the fake Graph API, by topic: the window and templates,
//! errors, retries and idempotency, the crash-in-`sending` rule, and sends stored together.

mod batches;
mod crashes;
mod failures;
mod window;
