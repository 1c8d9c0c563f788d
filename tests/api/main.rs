//! Integration tests: the real router and real PostgreSQL (a fresh database per test).

mod cli;
mod connections;
mod corpus;
mod fake_graph;
mod graph_client;
mod helpers;
mod inbound;
mod optout;
mod pacing;
mod sending;
mod statuses;
mod templates;
mod webhook_endpoint;
