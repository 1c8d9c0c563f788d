//! The send path over real HTTP against the fake Graph API, by topic: the window and templates,
//! errors, retries and idempotency, and the crash-in-`sending` rule.

mod crashes;
mod failures;
mod window;
