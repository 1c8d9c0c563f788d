//! Integration tests: the real router and real PostgreSQL (a fresh database per test).

mod cli;
mod corpus;
mod fake_graph;
mod graph_client;
mod helpers;
mod inbound;
mod optout;
mod pacing;
mod rechecks;
mod refusals;
mod secrets;
mod sending;
mod statuses;
mod templates;
mod unusual_text;
mod webhook_endpoint;
