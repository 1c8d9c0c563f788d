//! Everything that speaks Meta's WhatsApp Cloud API: webhook signatures and payloads, the Graph API
//! client and the messages it sends, the requests and error answers of a Graph API (for the
//! sandbox and the Meta-compatible endpoint), customers' ids, template parameters (built from
//! values and checked), the error-code table, and how messages read to a person.

pub mod customer_id;
pub mod envelope;
pub mod errors;
pub mod graph;
pub mod graph_request;
pub mod media_upload;
pub mod outbound;
pub mod payload;
pub mod signature;
pub mod summary;
pub mod template_auth;
pub mod template_check;
pub mod template_draft;
pub mod template_values;
