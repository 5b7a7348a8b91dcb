//! A small key-value store, scoped to this plugin and the calling org.
//!
//! Only for plugins whose metadata asks for
//! [`Permission::KeyValue`](crate::types::Permission::KeyValue); others get
//! [`KvError::Denied`] on writes and nothing on reads. The host caps key and
//! value sizes and the total per plugin and org. Writes are not transactional:
//! two concurrent invocations may interleave a read-modify-write.

pub use crate::host::KvError;

/// The bytes stored under `key`.
pub fn get(key: &str) -> Option<Vec<u8>> {
    crate::host::kv_get(key)
}

/// Stores `value` under `key`, replacing what was there.
pub fn set(key: &str, value: &[u8]) -> Result<(), KvError> {
    crate::host::kv_set(key, value)
}

/// Removes `key`; removing a missing key is not an error.
pub fn delete(key: &str) {
    crate::host::kv_delete(key)
}

/// The UTF-8 string under `key`; `None` if missing or not UTF-8.
pub fn get_string(key: &str) -> Option<String> {
    get(key).and_then(|bytes| String::from_utf8(bytes).ok())
}

pub fn set_string(key: &str, value: &str) -> Result<(), KvError> {
    set(key, value.as_bytes())
}

/// A counter stored as 8 little-endian bytes; `None` if missing or not 8 bytes.
pub fn get_u64(key: &str) -> Option<u64> {
    let bytes: [u8; 8] = get(key)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

pub fn set_u64(key: &str, value: u64) -> Result<(), KvError> {
    set(key, &value.to_le_bytes())
}

/// Adds `by` to the counter under `key` (missing counts as 0) and returns the
/// new value. Saturates instead of wrapping.
pub fn increment(key: &str, by: u64) -> Result<u64, KvError> {
    let next = get_u64(key).unwrap_or(0).saturating_add(by);
    set_u64(key, next)?;
    Ok(next)
}
