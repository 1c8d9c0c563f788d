//! Meta's numbers and timestamps as they come: Unix seconds as strings in messages and statuses, as
//! integers elsewhere; ids as strings or numbers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, de::Error as _};
use serde_json::Value;

/// Meta sends Unix seconds as strings in messages and statuses, as integers elsewhere.
pub(super) fn timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<DateTime<Utc>, D::Error> {
    let seconds = integer(deserializer).map_err(|e| D::Error::custom(format!("timestamp: {e}")))?;
    DateTime::from_timestamp(seconds, 0).ok_or_else(|| D::Error::custom("timestamp out of range"))
}

pub(super) fn optional_timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    timestamp(deserializer).map(Some)
}

pub(super) fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| D::Error::custom("expected an integer")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| D::Error::custom(format!("expected an integer, found {s:?}"))),
        other => Err(D::Error::custom(format!(
            "expected an integer, found {other}"
        ))),
    }
}

pub(super) fn string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(D::Error::custom(format!(
            "expected a string or number, found {other}"
        ))),
    }
}

pub(super) fn optional_string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(D::Error::custom(format!(
            "expected a string or number, found {other}"
        ))),
    }
}
