//! How a queue or schedule function's failed invocation reaches the Lambda runtime: as
//! `Retryable` when running it again may succeed (a store, queue or key service outage), as
//! `NonRetryable` when it cannot (bad input, a broken invariant). The error text is the
//! domain's, which never carries tokens or health values.

use lambda_runtime::Diagnostic;
use vitasync_domain::{DomainError, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationError {
    Retryable(String),
    NonRetryable(String),
}

impl From<DomainError> for InvocationError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Unavailable(_) | DomainError::Store(StoreError::Unavailable(_)) => {
                InvocationError::Retryable(err.to_string())
            }
            other => InvocationError::NonRetryable(other.to_string()),
        }
    }
}

impl From<InvocationError> for Diagnostic {
    fn from(err: InvocationError) -> Self {
        let (error_type, error_message) = match err {
            InvocationError::Retryable(message) => ("Retryable", message),
            InvocationError::NonRetryable(message) => ("NonRetryable", message),
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_retryable_and_everything_else_is_not() {
        let outage = DomainError::Store(StoreError::Unavailable("throttled".into()));
        let diagnostic = Diagnostic::from(InvocationError::from(outage));
        assert_eq!(diagnostic.error_type, "Retryable");
        let queue = Diagnostic::from(InvocationError::from(DomainError::Unavailable(
            "the job queue",
        )));
        assert_eq!(queue.error_type, "Retryable");
        let corrupt = DomainError::Store(StoreError::Corrupt("bad item".into()));
        let diagnostic = Diagnostic::from(InvocationError::from(corrupt));
        assert_eq!(diagnostic.error_type, "NonRetryable");
        assert_eq!(diagnostic.error_message, "corrupt item: bad item");
    }
}
