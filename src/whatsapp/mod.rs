//! Everything that speaks Meta's WhatsApp Cloud API: webhook signatures, payload types and how
//! messages read to a person.

pub mod payload;
pub mod signature;
pub mod summary;
