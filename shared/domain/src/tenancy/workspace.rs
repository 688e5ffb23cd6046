//! Workspaces: the tenants of a deployment.

use crate::kernel::error::DomainError;
use crate::kernel::ids::WorkspaceId;
use crate::kernel::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The slug of the deployment's own workspace, where the root key lives.
pub const DEFAULT_WORKSPACE_SLUG: &str = "default";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    pub id: WorkspaceId,
    pub slug: String,
    pub name: String,
    pub created_at: Timestamp,
}

/// Slugs are lowercase letters, digits and inner hyphens, 2 to 63 characters.
pub fn validate_slug(slug: &str) -> Result<(), DomainError> {
    let bytes = slug.as_bytes();
    let shaped = (2..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-');
    if shaped {
        Ok(())
    } else {
        Err(DomainError::validation(
            "slug",
            "must be 2-63 lowercase letters, digits or inner hyphens",
        ))
    }
}

pub fn validate_name(field: &str, name: &str, max_chars: usize) -> Result<(), DomainError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    if name.chars().count() > max_chars {
        return Err(DomainError::validation(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(DomainError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["default", "acme-health", "a1"] {
            assert!(validate_slug(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "-acme", "acme-", "Acme", "acme health", "acmé"] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }
}
