//! Integration tests: the real router and real PostgreSQL (a fresh database per test).

mod cli;
mod corpus;
mod graph_client;
mod helpers;
mod inbound;
mod statuses;
mod templates;
mod webhook_endpoint;
