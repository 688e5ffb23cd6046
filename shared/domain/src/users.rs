//! Users of a workspace: reading them (and their connections) for every route that names one,
//! and changing them, each change announced.

use crate::announce::events::Announcer;
use crate::announce::webhooks::EventType;
use crate::connections::Connection;
use crate::kernel::error::{DomainError, StoreError};
use crate::kernel::ids::{ConnectionId, UserId, WorkspaceId};
use crate::kernel::page::{Page, PageRequest};
use crate::kernel::scope::Scope;
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::{ConnectionStore, UserStore};
use crate::tenancy::api_key::Principal;
use crate::tenancy::user::{User, UserDraft, UserLookup, UserPatch};
use std::sync::Arc;

/// Reading users and their connections: what every route that names a user needs.
#[derive(Clone)]
pub struct UserDirectory {
    users: Arc<dyn UserStore>,
    connections: Arc<dyn ConnectionStore>,
}

impl UserDirectory {
    pub fn new(users: Arc<dyn UserStore>, connections: Arc<dyn ConnectionStore>) -> Self {
        Self { users, connections }
    }

    /// The user `id`, if `caller` may see them.
    pub async fn get_user(&self, caller: &Principal, id: &str) -> Result<User, DomainError> {
        self.lookup().get_user(caller, id).await
    }

    /// The same lookup, for a service that needs no more of the directory.
    pub fn lookup(&self) -> UserLookup {
        UserLookup::new(self.users.clone())
    }

    /// Lists users, or finds the one with `external_id` (a page of zero or one).
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id))]
    pub async fn list_users(
        &self,
        caller: &Principal,
        external_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<User>, DomainError> {
        caller.require(Scope::Read)?;
        let store = &self.users;
        match external_id {
            Some(external_id) => Ok(Page {
                items: store
                    .user_by_external_id(&caller.workspace_id, external_id)
                    .await?
                    .into_iter()
                    .collect(),
                next: None,
            }),
            None => Ok(store.list_users(&caller.workspace_id, page).await?),
        }
    }

    /// A user's connections; 404 when the user is not in the caller's workspace.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id))]
    pub async fn list_connections(
        &self,
        caller: &Principal,
        user_id: &str,
    ) -> Result<Vec<Connection>, DomainError> {
        let user = self.get_user(caller, user_id).await?;
        Ok(self
            .connections
            .list_connections(&caller.workspace_id, &user.id)
            .await?)
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id, connection_id = %connection_id))]
    pub async fn get_connection(
        &self,
        caller: &Principal,
        user_id: &str,
        connection_id: &str,
    ) -> Result<Connection, DomainError> {
        let user = self.get_user(caller, user_id).await?;
        let id = ConnectionId::parse(connection_id).ok_or(DomainError::NotFound("connection"))?;
        self.connections
            .get_connection(&caller.workspace_id, &user.id, &id)
            .await?
            .ok_or(DomainError::NotFound("connection"))
    }

    /// The user with these ids, looked up for a token that names them (no caller to check).
    #[tracing::instrument(skip_all)]
    pub async fn find_user(
        &self,
        workspace: &WorkspaceId,
        id: &UserId,
    ) -> Result<Option<User>, StoreError> {
        self.users.get_user(workspace, id).await
    }

    /// Ready when the store answers.
    #[tracing::instrument(skip_all)]
    pub async fn ready(&self) -> Result<(), DomainError> {
        Ok(self.users.ping().await?)
    }
}

/// Creating, changing and deleting users, each change announced.
#[derive(Clone)]
pub struct Users {
    directory: UserDirectory,
    store: Arc<dyn UserStore>,
    announcer: Announcer,
    clock: Arc<dyn Clock>,
}

impl Users {
    pub fn new(
        directory: UserDirectory,
        store: Arc<dyn UserStore>,
        announcer: Announcer,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            store,
            announcer,
            clock,
        }
    }

    /// The read side.
    pub fn directory(&self) -> &UserDirectory {
        &self.directory
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Creates the user, or updates the one with the same external id. `true` when created.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id))]
    pub async fn upsert_user(
        &self,
        caller: &Principal,
        draft: UserDraft,
    ) -> Result<(User, bool), DomainError> {
        caller.require(Scope::Write)?;
        draft.validate()?;
        let patch = draft.as_patch();
        let candidate = draft.into_user(caller.workspace_id.clone(), self.now());
        // Written with the user, and only if the user is new.
        let announced = self.announcer.entry(
            &candidate.workspace_id,
            EventType::UserCreated,
            serde_json::json!({ "userId": candidate.id, "externalId": candidate.external_id }),
        )?;
        Ok(self
            .store
            .upsert_user(&candidate, &patch, &[announced])
            .await?)
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, id = %id))]
    pub async fn update_user(
        &self,
        caller: &Principal,
        id: &str,
        patch: UserPatch,
    ) -> Result<User, DomainError> {
        caller.require(Scope::Write)?;
        let id = UserId::parse(id).ok_or(DomainError::NotFound("user"))?;
        patch.validate()?;
        self.store
            .update_user(&caller.workspace_id, &id, &patch, self.now())
            .await
            .map_err(|err| match err {
                StoreError::Conflict(_) => DomainError::Conflict(
                    "another user in this workspace has that externalId".into(),
                ),
                other => other.into(),
            })?
            .ok_or(DomainError::NotFound("user"))
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, id = %id))]
    pub async fn delete_user(&self, caller: &Principal, id: &str) -> Result<(), DomainError> {
        caller.require(Scope::Write)?;
        let id = UserId::parse(id).ok_or(DomainError::NotFound("user"))?;
        let announced = self.announcer.entry(
            &caller.workspace_id,
            EventType::UserDeleted,
            serde_json::json!({ "userId": id }),
        )?;
        if self
            .store
            .delete_user(&caller.workspace_id, &id, &[announced])
            .await?
        {
            Ok(())
        } else {
            Err(DomainError::NotFound("user"))
        }
    }
}
