//! API keys: random secrets shown once, stored only as SHA-256 hashes.

use crate::kernel::error::DomainError;
use crate::kernel::ids::{ApiKeyId, UserId, WorkspaceId};
use crate::kernel::scope::{Scope, any_grants};
use crate::kernel::time::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Every key VitaSync issues starts with this, so leaked keys are easy to scan for.
pub const KEY_PREFIX: &str = "vs_live_";
/// How much of a key is kept in the clear to help people tell keys apart.
const DISPLAY_PREFIX_LEN: usize = KEY_PREFIX.len() + 4;
/// Bootstrap keys chosen by an operator must be at least this long.
pub const MIN_OPERATOR_KEY_LEN: usize = 24;

/// Hex SHA-256 of a key's secret: how a key is found without storing it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyHash(String);

impl KeyHash {
    pub fn of(secret: &str) -> Self {
        Self(hex::encode(Sha256::digest(secret.as_bytes())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A key as stored: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The deployment's root key may manage workspaces. Only the bootstrap key has it.
    pub root: bool,
    pub hash: KeyHash,
    /// The first characters of the secret, safe to show.
    pub prefix: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub rotated_at: Option<Timestamp>,
}

impl ApiKeyRecord {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A freshly minted secret and the record that stands for it.
pub struct IssuedKey {
    pub record: ApiKeyRecord,
    pub secret: SecretString,
}

/// A new random secret: the prefix and 192 bits of randomness, hex encoded.
pub fn generate_secret() -> SecretString {
    let mut bytes = [0u8; 24];
    rand::fill(&mut bytes);
    SecretString::from(format!("{KEY_PREFIX}{}", hex::encode(bytes)))
}

pub fn display_prefix(secret: &SecretString) -> String {
    secret
        .expose_secret()
        .chars()
        .take(DISPLAY_PREFIX_LEN)
        .collect()
}

/// Scopes as a key holds them: at least one, each once, in a stable order.
pub fn normalise_scopes(scopes: &[Scope]) -> Result<Vec<Scope>, DomainError> {
    if scopes.is_empty() {
        return Err(DomainError::validation(
            "scopes",
            "must name at least one of read, write, admin",
        ));
    }
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

/// Who is calling, once their key checks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub workspace_id: WorkspaceId,
    /// The API key, or none for a user's session.
    pub key_id: Option<ApiKeyId>,
    pub scopes: Vec<Scope>,
    pub root: bool,
    /// A user's session reaches that user and nobody else.
    pub user: Option<UserId>,
}

impl Principal {
    pub fn from_key(key: &ApiKeyRecord) -> Self {
        Self {
            workspace_id: key.workspace_id.clone(),
            key_id: Some(key.id.clone()),
            scopes: key.scopes.clone(),
            root: key.root,
            user: None,
        }
    }

    /// A signed-in user of the developer's app: reads of their own data, and their own
    /// pushes (checked where they are made).
    pub fn for_user(workspace: &WorkspaceId, user: &UserId) -> Self {
        Self {
            workspace_id: workspace.clone(),
            key_id: None,
            scopes: vec![Scope::Read],
            root: false,
            user: Some(user.clone()),
        }
    }

    pub fn require(&self, scope: Scope) -> Result<(), DomainError> {
        if any_grants(&self.scopes, scope) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(format!(
                "this API key lacks the '{scope}' scope"
            )))
        }
    }

    pub fn require_root(&self) -> Result<(), DomainError> {
        if self.root {
            Ok(())
        } else {
            Err(DomainError::Forbidden(
                "only the deployment's root key may manage workspaces".into(),
            ))
        }
    }
}

/// How a signed-in user's access token starts (`/v1/me` routes take it, API-key routes refuse it).
pub const USER_ACCESS_PREFIX: &str = "vs_at_";

/// Whether a bearer token is a user's access token (which API-key routes refuse).
pub fn is_user_token(token: &str) -> bool {
    token.starts_with(USER_ACCESS_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_hash_stably() {
        let a = generate_secret();
        let b = generate_secret();
        assert!(a.expose_secret().starts_with(KEY_PREFIX));
        assert_eq!(a.expose_secret().len(), KEY_PREFIX.len() + 48);
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(
            KeyHash::of(a.expose_secret()),
            KeyHash::of(a.expose_secret())
        );
        assert_ne!(
            KeyHash::of(a.expose_secret()),
            KeyHash::of(b.expose_secret())
        );
        assert_eq!(display_prefix(&a).len(), 12);
    }

    #[test]
    fn scopes_are_deduplicated_and_required() {
        assert_eq!(
            normalise_scopes(&[Scope::Write, Scope::Read, Scope::Write]).unwrap(),
            vec![Scope::Read, Scope::Write]
        );
        assert!(normalise_scopes(&[]).is_err());
    }
}
