//! Integration tests: the real router and real PostgreSQL (a fresh database per test).

mod bulk_apply;
mod change_events;
mod cli;
mod connections;
mod corpus;
mod fake_graph;
mod graph_client;
mod helpers;
mod inbound;
mod inbox;
mod message_changes;
mod optout;
mod pacing;
mod rechecks;
mod refusals;
mod sandbox_switch;
mod secrets;
mod seed;
mod sending;
mod services;
mod statuses;
mod surfaces;
mod templates;
mod tenant_integrity;
mod unusual_text;
mod webhook_endpoint;
