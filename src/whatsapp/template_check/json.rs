//! Lenient reads of Meta's JSON, for definitions and sends alike: a field that is absent or of
//! another type reads as empty, so the checks can say what is missing instead of failing to parse.

use serde_json::Value;

/// A send component's `parameters`, or none.
pub(super) fn parameters(component: &Value) -> &[Value] {
    component
        .get("parameters")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A parameter's `type`, lower-cased (Meta accepts any case).
pub(super) fn param_type(param: &Value) -> String {
    let kind = str_of(param, "type");
    kind.to_ascii_lowercase()
}

/// `value[key]` as a string, or "" when absent or not a string.
pub(super) fn str_of<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The string at JSON `pointer` in `value`, if there is one.
pub(super) fn str_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.pointer(pointer).and_then(Value::as_str)
}
