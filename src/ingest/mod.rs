//! Webhook ingestion, append-first: a verified POST is appended to `webhook_events` (committed
//! together with concurrent requests, one fsync for many) and only then answered; workers apply the
//! stored events to the inbox right after, each exactly once in effect.

pub mod apply;
pub mod event_log;
pub mod operations;
pub mod replay;
pub mod retention;
pub mod worker;
