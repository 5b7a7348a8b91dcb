//! A credential in memory: [`Secret`]. Shared by the store, which seals
//! and opens them, and the protocol clients in `mailroom-net`, which send
//! them in a login; it lives here so the clients need not depend on the
//! store.

use serde::Deserialize;
use std::fmt;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A credential in memory. Prints as `***`, is never `Serialize` (so it
/// cannot end up in an API response or a JSON log by accident), and is wiped
/// from memory when dropped. `Deserialize` is allowed: requests carry them in.
#[derive(Clone, PartialEq, Eq, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The plaintext, for the one place that needs it (a login, a token refresh).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Credentials go in, never out.
impl utoipa::PartialSchema for Secret {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Password,
            )))
            .write_only(Some(true))
            .description(Some(
                "A credential; accepted, stored encrypted, never returned",
            ))
            .into()
    }
}
impl utoipa::ToSchema for Secret {}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "hunter2");
    }
}
