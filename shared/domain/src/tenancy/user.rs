//! Users: a developer's end users, keyed by the developer's own `externalId`.

use crate::kernel::error::DomainError;
use crate::kernel::ids::{UserId, WorkspaceId};
use crate::kernel::scope::Scope;
use crate::kernel::time::Timestamp;
use crate::ports::UserStore;
use crate::tenancy::api_key::Principal;
use crate::tenancy::workspace::validate_name;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;

const MAX_EXTERNAL_ID_CHARS: usize = 255;
const MAX_EMAIL_CHARS: usize = 254;
const MAX_DISPLAY_NAME_CHARS: usize = 200;
/// Metadata is kept as sent, up to this many bytes of JSON.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

pub type Metadata = Map<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub workspace_id: WorkspaceId,
    pub external_id: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub metadata: Metadata,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What `POST /v1/users` carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserDraft {
    pub external_id: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub metadata: Option<Metadata>,
}

/// A change to a user. Outer `None` leaves a field alone; `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPatch {
    pub external_id: Option<String>,
    pub email: Option<Option<String>>,
    pub display_name: Option<Option<String>>,
    pub metadata: Option<Metadata>,
}

impl UserDraft {
    pub fn validate(&self) -> Result<(), DomainError> {
        validate_external_id(&self.external_id)?;
        validate_optional(self.email.as_deref(), validate_email)?;
        validate_optional(self.display_name.as_deref(), validate_display_name)?;
        validate_optional(self.metadata.as_ref(), validate_metadata)
    }

    /// The user this draft creates when its external id is new.
    pub fn into_user(self, workspace_id: WorkspaceId, now: Timestamp) -> User {
        User {
            id: UserId::generate(),
            workspace_id,
            external_id: self.external_id,
            email: self.email,
            display_name: self.display_name,
            metadata: self.metadata.unwrap_or_default(),
            created_at: now,
            updated_at: now,
        }
    }

    /// The change this draft makes to a user that already has its external id: fields it
    /// names are set, fields it leaves out are kept.
    pub fn as_patch(&self) -> UserPatch {
        UserPatch {
            external_id: None,
            email: self.email.clone().map(Some),
            display_name: self.display_name.clone().map(Some),
            metadata: self.metadata.clone(),
        }
    }
}

impl UserPatch {
    pub fn validate(&self) -> Result<(), DomainError> {
        validate_optional(self.external_id.as_deref(), validate_external_id)?;
        validate_optional(
            self.email.as_ref().and_then(Option::as_deref),
            validate_email,
        )?;
        validate_optional(
            self.display_name.as_ref().and_then(Option::as_deref),
            validate_display_name,
        )?;
        validate_optional(self.metadata.as_ref(), validate_metadata)
    }
}

impl User {
    /// Applies `patch`, touching `updated_at` only if something changed. Returns whether it did.
    pub fn apply(&mut self, patch: &UserPatch, now: Timestamp) -> bool {
        let before = self.clone();
        if let Some(external_id) = &patch.external_id {
            self.external_id.clone_from(external_id);
        }
        if let Some(email) = &patch.email {
            self.email.clone_from(email);
        }
        if let Some(display_name) = &patch.display_name {
            self.display_name.clone_from(display_name);
        }
        if let Some(metadata) = &patch.metadata {
            self.metadata.clone_from(metadata);
        }
        let changed = *self != before;
        if changed {
            self.updated_at = now;
        }
        changed
    }
}

fn validate_optional<T: ?Sized>(
    value: Option<&T>,
    check: impl FnOnce(&T) -> Result<(), DomainError>,
) -> Result<(), DomainError> {
    value.map_or(Ok(()), check)
}

fn validate_external_id(external_id: &str) -> Result<(), DomainError> {
    validate_name("externalId", external_id, MAX_EXTERNAL_ID_CHARS)
}

fn validate_display_name(name: &str) -> Result<(), DomainError> {
    validate_name("displayName", name, MAX_DISPLAY_NAME_CHARS)
}

/// A light check: one `@` with something on each side and a dot in the domain. Deliverability
/// is the developer's business; this only catches values that are clearly not addresses.
fn validate_email(email: &str) -> Result<(), DomainError> {
    let well_formed = email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if well_formed {
        Ok(())
    } else {
        Err(DomainError::validation(
            "email",
            "must be an email address such as ada@example.com",
        ))
    }
}

fn validate_metadata(metadata: &Metadata) -> Result<(), DomainError> {
    let size = serde_json::to_vec(metadata).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_METADATA_BYTES {
        return Err(DomainError::validation(
            "metadata",
            format!("must be at most {MAX_METADATA_BYTES} bytes of JSON"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft(external_id: &str) -> UserDraft {
        UserDraft {
            external_id: external_id.into(),
            ..UserDraft::default()
        }
    }

    fn field_of(result: Result<(), DomainError>) -> String {
        match result {
            Err(DomainError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn validation_names_the_field() {
        assert_eq!(field_of(draft("").validate()), "externalId");
        assert_eq!(field_of(draft(&"x".repeat(256)).validate()), "externalId");
        let bad_email = UserDraft {
            email: Some("not-an-email".into()),
            ..draft("u1")
        };
        assert_eq!(field_of(bad_email.validate()), "email");
        let big = UserDraft {
            metadata: Some(
                json!({"blob": "x".repeat(MAX_METADATA_BYTES)})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            ..draft("u1")
        };
        assert_eq!(field_of(big.validate()), "metadata");
        assert!(
            UserDraft {
                email: Some("ada@example.com".into()),
                ..draft("u1")
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn apply_sets_clears_and_touches_only_on_change() {
        let t0 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let t1 = Timestamp::parse("2026-01-02T00:00:00Z").unwrap();
        let mut user = UserDraft {
            email: Some("ada@example.com".into()),
            ..draft("u1")
        }
        .into_user(WorkspaceId::generate(), t0);

        assert!(!user.apply(&draft("u1").as_patch(), t1));
        assert_eq!(user.updated_at, t0);

        let clear = UserPatch {
            email: Some(None),
            display_name: Some(Some("Ada".into())),
            ..UserPatch::default()
        };
        assert!(user.apply(&clear, t1));
        assert_eq!(user.email, None);
        assert_eq!(user.display_name.as_deref(), Some("Ada"));
        assert_eq!(user.updated_at, t1);
        assert_eq!(user.created_at, t0);
    }
}

/// Finds the user a caller names, if the caller may see them: what every route that names a
/// user starts with.
#[derive(Clone)]
pub struct UserLookup {
    users: Arc<dyn UserStore>,
}

impl UserLookup {
    pub fn new(users: Arc<dyn UserStore>) -> Self {
        Self { users }
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, id = %id))]
    pub async fn get_user(&self, caller: &Principal, id: &str) -> Result<User, DomainError> {
        caller.require(Scope::Read)?;
        let id = UserId::parse(id)
            .filter(|id| caller.user.as_ref().is_none_or(|bound| bound == id))
            .ok_or(DomainError::NotFound("user"))?;
        self.users
            .get_user(&caller.workspace_id, &id)
            .await?
            .ok_or(DomainError::NotFound("user"))
    }
}
