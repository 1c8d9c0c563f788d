//! Switchboard: a multi-tenant shared inbox for the WhatsApp Business Cloud API.

/// The admin console.
pub mod admin;
/// The integrators' surface: the Meta-compatible Graph endpoint, with API keys.
pub mod api;
/// One statement for the requests that arrive together.
pub mod batch;
/// A read-through cache with a time to live that coalesces concurrent misses.
pub mod cache;
/// The operator command line.
pub mod cli;
/// Configuration from the environment.
pub mod config;
/// Sealing secrets at rest.
pub mod crypto;
/// Connecting to PostgreSQL and migrating it.
pub mod db;
/// Shared records: tenants, apps, numbers, users, the audit log.
pub mod domain;
/// Errors, and how each surface renders them (HTML page, JSON, Meta's envelope).
pub mod error;
/// The HTTP router, its handlers, and serving them over TCP.
pub mod http;
/// The agent inbox: sign-in, the conversation list, threads and the composer.
pub mod inbox;
/// Storing and applying Meta's webhooks.
pub mod ingest;
/// Prometheus metrics: what is recorded, and the exporter behind `GET /metrics`.
pub mod metrics;
/// Outbound webhooks: delivering events to the tenants' own endpoints.
pub mod outbound_webhooks;
/// Sending: the send service and the delivery pipeline.
pub mod outbox;
/// The retry policy for in-process retries.
pub mod retry;
/// Meta without Meta: the fake Graph API behind sandbox numbers and tests.
pub mod sandbox;
/// Realistic data at scale, for trying the inbox and its benchmark (`switchboard dev seed`).
pub mod seed;
/// Running the service.
pub mod server;
/// Tracing setup.
pub mod telemetry;
/// Meta's WhatsApp Cloud API: signatures, payloads, the Graph client, errors.
pub mod whatsapp;
/// The 24-hour customer service window.
pub mod window;
