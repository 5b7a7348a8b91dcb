//! The store's one error type. Its kinds map one-to-one onto what the HTTP
//! API answers (404, 409, 422, 500), so handlers never inspect SQL errors.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The row does not exist *in the caller's org* (another org's row is
    /// reported the same way, so existence never leaks across tenants).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule was broken, e.g. a user email already used in the org.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The input breaks a rule of the data model (bad role, unknown user, …).
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("database: {0}")]
    Database(#[source] sqlx::Error),
    /// Key loading, encryption or decryption of secrets at rest failed.
    #[error("secrets: {0}")]
    Crypto(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // A unique violation that a caller did not anticipate is still a
        // conflict, not a server error.
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Conflict(db.message().to_owned());
        }
        StoreError::Database(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(sqlx::Error::Migrate(Box::new(e)))
    }
}

impl From<mailroom_core::email::InvalidEmail> for StoreError {
    fn from(e: mailroom_core::email::InvalidEmail) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

impl From<mailroom_crm::RecordError> for StoreError {
    fn from(e: mailroom_crm::RecordError) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        // Only raised when a JSON column written by this code no longer
        // parses: corrupted data, i.e. a server-side problem.
        StoreError::Database(sqlx::Error::Decode(Box::new(e)))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
