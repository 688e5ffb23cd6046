//! Tenancy: the deployment's workspaces, their API keys, and who a bearer key belongs to.

use crate::kernel::error::{AuthFailure, DomainError, StoreError};
use crate::kernel::ids::{ApiKeyId, WorkspaceId};
use crate::kernel::page::{Page, PageRequest};
use crate::kernel::scope::Scope;
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::{ApiKeyStore, WorkspaceStore};
use crate::tenancy::api_key::{
    ApiKeyRecord, IssuedKey, KeyHash, MIN_OPERATOR_KEY_LEN, Principal, display_prefix,
    generate_secret, normalise_scopes,
};
use crate::tenancy::workspace::{DEFAULT_WORKSPACE_SLUG, Workspace, validate_name, validate_slug};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

pub mod api_key;
pub mod user;
pub mod workspace;

const MAX_KEY_NAME_CHARS: usize = 100;
const MAX_WORKSPACE_NAME_CHARS: usize = 200;

/// What a new key is asked to be.
#[derive(Debug, Clone)]
pub struct KeyRequest {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<Timestamp>,
}

/// What bootstrapping the deployment did.
pub enum Bootstrap {
    /// The operator's key (or an earlier generated one) already stands.
    Ready,
    /// A root key was generated; it must be shown to the operator now, once.
    GeneratedRootKey(SecretString),
}

/// Who a bearer key belongs to: every API function authenticates its callers here, reading
/// keys and nothing else.
#[derive(Clone)]
pub struct Authenticator {
    api_keys: Arc<dyn ApiKeyStore>,
    clock: Arc<dyn Clock>,
}

impl Authenticator {
    pub fn new(api_keys: Arc<dyn ApiKeyStore>, clock: Arc<dyn Clock>) -> Self {
        Self { api_keys, clock }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Finds the caller behind a bearer key. Unknown, revoked and expired keys all fail.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, bearer: Option<&str>) -> Result<Principal, DomainError> {
        let secret = bearer
            .filter(|secret| !secret.is_empty())
            .ok_or(DomainError::Unauthenticated(AuthFailure::Missing))?;
        if crate::tenancy::api_key::is_user_token(secret) {
            return Err(DomainError::Forbidden(
                "a user's access token reaches only /v1/me routes".into(),
            ));
        }
        let key = self
            .api_keys
            .key_by_hash(&KeyHash::of(secret))
            .await?
            .ok_or(DomainError::Unauthenticated(AuthFailure::Unknown))?;
        if key.is_expired(self.now()) {
            return Err(DomainError::Unauthenticated(AuthFailure::Expired));
        }
        Ok(Principal::from_key(&key))
    }
}

/// The deployment's workspaces and their keys (admin and root).
#[derive(Clone)]
pub struct Tenancy {
    workspaces: Arc<dyn WorkspaceStore>,
    api_keys: Arc<dyn ApiKeyStore>,
    clock: Arc<dyn Clock>,
}

impl Tenancy {
    pub fn new(
        workspaces: Arc<dyn WorkspaceStore>,
        api_keys: Arc<dyn ApiKeyStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            workspaces,
            api_keys,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Makes sure the default workspace and a root key exist. With `operator_key`, that exact key
    /// becomes (or stays) the root key; without it, a root key is generated only when none exists.
    /// Safe to run at every start, and by several starts at once.
    #[tracing::instrument(skip_all)]
    pub async fn bootstrap(
        &self,
        operator_key: Option<&SecretString>,
    ) -> Result<Bootstrap, DomainError> {
        if let Some(key) = operator_key
            && key.expose_secret().len() < MIN_OPERATOR_KEY_LEN
        {
            return Err(DomainError::validation(
                "VITASYNC_ADMIN_KEY",
                format!("must be at least {MIN_OPERATOR_KEY_LEN} characters"),
            ));
        }
        let generated = operator_key.is_none().then(generate_secret);
        let Some(secret) = operator_key.or(generated.as_ref()) else {
            return Ok(Bootstrap::Ready);
        };
        let workspaces = &self.workspaces;
        let workspace = match workspaces.workspace_by_slug(DEFAULT_WORKSPACE_SLUG).await? {
            Some(found) => found,
            None => {
                let workspace = Workspace {
                    id: WorkspaceId::generate(),
                    slug: DEFAULT_WORKSPACE_SLUG.into(),
                    name: "Default".into(),
                    created_at: self.now(),
                };
                let root = self.root_key_record(&workspace, secret);
                match workspaces.create_workspace(&workspace, &root).await {
                    Ok(()) => return Ok(Self::bootstrapped(generated)),
                    // Another start won the race: carry on with its workspace.
                    Err(StoreError::Conflict(_)) => workspaces
                        .workspace_by_slug(DEFAULT_WORKSPACE_SLUG)
                        .await?
                        .ok_or(DomainError::NotFound("workspace"))?,
                    Err(other) => return Err(other.into()),
                }
            }
        };
        let keys = &self.api_keys;
        let has_key = match operator_key {
            Some(secret) => keys
                .key_by_hash(&KeyHash::of(secret.expose_secret()))
                .await?
                .is_some(),
            None => keys
                .list_keys(&workspace.id)
                .await?
                .iter()
                .any(|key| key.root),
        };
        if has_key {
            return Ok(Bootstrap::Ready);
        }
        match keys
            .insert_key(&self.root_key_record(&workspace, secret))
            .await
        {
            Ok(()) => Ok(Self::bootstrapped(generated)),
            Err(StoreError::Conflict(_)) if operator_key.is_some() => Ok(Bootstrap::Ready),
            Err(other) => Err(other.into()),
        }
    }

    fn bootstrapped(generated: Option<SecretString>) -> Bootstrap {
        generated.map_or(Bootstrap::Ready, Bootstrap::GeneratedRootKey)
    }

    fn root_key_record(&self, workspace: &Workspace, secret: &SecretString) -> ApiKeyRecord {
        let mut record = self.new_record(&workspace.id, "root", vec![Scope::Admin], None, secret);
        record.root = true;
        record
    }

    fn new_record(
        &self,
        workspace: &WorkspaceId,
        name: &str,
        scopes: Vec<Scope>,
        expires_at: Option<Timestamp>,
        secret: &SecretString,
    ) -> ApiKeyRecord {
        ApiKeyRecord {
            id: ApiKeyId::generate(),
            workspace_id: workspace.clone(),
            name: name.into(),
            scopes,
            root: false,
            hash: KeyHash::of(secret.expose_secret()),
            prefix: display_prefix(secret),
            created_at: self.now(),
            expires_at,
            rotated_at: None,
        }
    }

    /// Creates a workspace and its first admin key (root only).
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id))]
    pub async fn create_workspace(
        &self,
        caller: &Principal,
        slug: &str,
        name: Option<&str>,
    ) -> Result<(Workspace, IssuedKey), DomainError> {
        caller.require_root()?;
        validate_slug(slug)?;
        if let Some(name) = name {
            validate_name("name", name, MAX_WORKSPACE_NAME_CHARS)?;
        }
        let workspace = Workspace {
            id: WorkspaceId::generate(),
            slug: slug.into(),
            name: name.unwrap_or(slug).into(),
            created_at: self.now(),
        };
        let secret = generate_secret();
        let record = self.new_record(&workspace.id, "admin", vec![Scope::Admin], None, &secret);
        self.workspaces
            .create_workspace(&workspace, &record)
            .await
            .map_err(|err| match err {
                StoreError::Conflict(_) => {
                    DomainError::Conflict(format!("a workspace with slug '{slug}' exists"))
                }
                other => other.into(),
            })?;
        Ok((workspace, IssuedKey { record, secret }))
    }

    /// The caller's own workspace (any key of it).
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id))]
    pub async fn current_workspace(&self, caller: &Principal) -> Result<Workspace, DomainError> {
        caller.require(Scope::Read)?;
        self.workspaces
            .get_workspace(&caller.workspace_id)
            .await?
            .ok_or(DomainError::NotFound("workspace"))
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id))]
    pub async fn list_workspaces(
        &self,
        caller: &Principal,
        page: &PageRequest,
    ) -> Result<Page<Workspace>, DomainError> {
        caller.require_root()?;
        Ok(self.workspaces.list_workspaces(page).await?)
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id))]
    pub async fn create_key(
        &self,
        caller: &Principal,
        request: KeyRequest,
    ) -> Result<IssuedKey, DomainError> {
        caller.require(Scope::Admin)?;
        validate_name("name", &request.name, MAX_KEY_NAME_CHARS)?;
        let scopes = normalise_scopes(&request.scopes)?;
        if request.expires_at.is_some_and(|at| at <= self.now()) {
            return Err(DomainError::validation(
                "expiresAt",
                "must be in the future",
            ));
        }
        let secret = generate_secret();
        let record = self.new_record(
            &caller.workspace_id,
            request.name.trim(),
            scopes,
            request.expires_at,
            &secret,
        );
        self.api_keys.insert_key(&record).await?;
        Ok(IssuedKey { record, secret })
    }

    /// The workspace's keys. The root key is shown to the root key alone: to any other key it
    /// does not exist.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id))]
    pub async fn list_keys(&self, caller: &Principal) -> Result<Vec<ApiKeyRecord>, DomainError> {
        // Names, prefixes and scopes, never a secret: any key may see them; admins manage them.
        caller.require(Scope::Read)?;
        let mut keys = self.api_keys.list_keys(&caller.workspace_id).await?;
        keys.retain(|key| caller.root || !key.root);
        Ok(keys)
    }

    /// The key `id` names, if the caller may manage it. Only the root key manages the root
    /// key; to other keys it answers 404, as if it did not exist.
    async fn manageable_key(&self, caller: &Principal, id: &str) -> Result<ApiKeyId, DomainError> {
        caller.require(Scope::Admin)?;
        let id = ApiKeyId::parse(id).ok_or(DomainError::NotFound("API key"))?;
        match self.api_keys.get_key(&caller.workspace_id, &id).await? {
            Some(key) if caller.root || !key.root => Ok(id),
            _ => Err(DomainError::NotFound("API key")),
        }
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, id = %id))]
    pub async fn delete_key(&self, caller: &Principal, id: &str) -> Result<(), DomainError> {
        let id = self.manageable_key(caller, id).await?;
        if self.api_keys.delete_key(&caller.workspace_id, &id).await? {
            Ok(())
        } else {
            Err(DomainError::NotFound("API key"))
        }
    }

    /// Gives a key a new secret; the old one stops working at once.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, id = %id))]
    pub async fn rotate_key(&self, caller: &Principal, id: &str) -> Result<IssuedKey, DomainError> {
        let id = self.manageable_key(caller, id).await?;
        let secret = generate_secret();
        let record = self
            .api_keys
            .replace_key_secret(
                &caller.workspace_id,
                &id,
                &KeyHash::of(secret.expose_secret()),
                &display_prefix(&secret),
                self.now(),
            )
            .await?
            .ok_or(DomainError::NotFound("API key"))?;
        Ok(IssuedKey { record, secret })
    }
}
