//! Domain errors. The HTTP edge maps each variant to one status and one stable problem type;
//! the text of `StoreError` is for logs only and never reaches a response.

use thiserror::Error;

/// Why a request could not be authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AuthFailure {
    #[error("no API key was sent")]
    Missing,
    #[error("the API key is not valid")]
    Unknown,
    #[error("the API key has expired")]
    Expired,
    /// `/v1/me` routes take a user's access token, and name it when it is wrong.
    #[error("no access token was sent")]
    TokenMissing,
    #[error("the access token is not valid")]
    TokenUnknown,
    #[error("the access token has expired")]
    TokenExpired,
}

#[derive(Debug, Error)]
pub enum DomainError {
    /// Input that fails validation; `field` names it as the client sent it.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthenticated(AuthFailure),
    #[error("{0}")]
    Forbidden(String),
    /// A capability this deployment is not set up for, or a dependency that is down.
    #[error("{0} is unavailable")]
    Unavailable(&'static str),
    /// A token endpoint's grant that is unknown, used, expired or revoked (`invalid_grant`).
    #[error("{0}")]
    InvalidGrant(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What an adapter reports. `Conflict` is a broken uniqueness rule the caller can explain;
/// the others are faults whose text is only logged.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("corrupt item: {0}")]
    Corrupt(String),
}
