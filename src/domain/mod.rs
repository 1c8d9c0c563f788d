//! The records the whole service shares, with the queries that more than one feature needs.

pub mod accounts;
pub mod api_keys;
pub mod apps;
pub mod audit;
pub mod canned;
pub mod contacts;
pub mod conversations;
pub mod erasure;
pub mod events;
pub mod ids;
pub mod labels;
pub mod messages;
pub mod numbers;
pub mod reports;
pub mod secrets;
pub mod teamwork;
pub mod templates;
pub mod tenants;
pub mod users;
pub mod webhook_endpoints;
