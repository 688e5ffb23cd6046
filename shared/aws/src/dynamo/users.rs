use super::actions::{Condition, with_version};
use super::{
    DynamoStore, Item, TRANSACTION_ATTEMPTS, TxFailure, backoff, contention, from_item, keys, s,
    string_attr, to_item, version_of,
};
use async_trait::async_trait;
use std::collections::HashMap;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::{UserId, WorkspaceId};
use vitasync_domain::kernel::outbox::OutboxEntry;
use vitasync_domain::kernel::page::{Page, PageRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::UserStore;
use vitasync_domain::tenancy::user::{User, UserPatch};

// A user's profile carries a `version`; every read-modify-write is conditional on it. The
// externalId guard item is written, moved and deleted in the same transactions as the profile.

fn profile_item(user: &User, version: u64) -> Result<Item, StoreError> {
    let item = to_item(
        user,
        keys::workspace(user.workspace_id.as_str()),
        keys::user(user.id.as_str()),
    )?;
    Ok(with_version(item, version))
}

fn guard_item(user: &User) -> Item {
    HashMap::from([
        (
            keys::PK.to_owned(),
            s(keys::workspace(user.workspace_id.as_str())),
        ),
        (keys::SK.to_owned(), s(keys::external_id(&user.external_id))),
        ("userId".to_owned(), s(user.id.to_string())),
    ])
}

impl DynamoStore {
    async fn load_user(
        &self,
        workspace: &WorkspaceId,
        id: &str,
    ) -> Result<Option<(User, u64)>, StoreError> {
        let Some(item) = self
            .get(keys::workspace(workspace.as_str()), keys::user(id))
            .await?
        else {
            return Ok(None);
        };
        let version = version_of(&item);
        Ok(Some((from_item(item)?, version)))
    }

    async fn user_id_for_external_id(
        &self,
        workspace: &WorkspaceId,
        external_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.get(
            keys::workspace(workspace.as_str()),
            keys::external_id(external_id),
        )
        .await?
        .map(|guard| string_attr(&guard, "userId"))
        .transpose()
    }

    /// Writes `user` (changed from the stored `version`), moving its guard if its external id
    /// changed. `Ok(false)` when the version moved on meanwhile.
    async fn write_changed_user(
        &self,
        user: &User,
        old_external_id: &str,
        version: u64,
    ) -> Result<bool, StoreError> {
        let ws = keys::workspace(user.workspace_id.as_str());
        let mut actions = vec![self.put(
            profile_item(user, version + 1)?,
            Condition::Version(version),
        )?];
        let moved = user.external_id != old_external_id;
        if moved {
            actions.push(self.put(guard_item(user), Condition::Absent)?);
            actions.push(self.delete(
                ws,
                keys::external_id(old_external_id),
                Condition::Equals("userId", user.id.to_string()),
            )?);
        }
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(TxFailure::Condition(failed)) if moved && failed.get(1) == Some(&true) => {
                Err(StoreError::Conflict("user externalId".into()))
            }
            Err(TxFailure::Condition(_) | TxFailure::Contention) => Ok(false),
            Err(TxFailure::Store(err)) => Err(err),
        }
    }

    /// Deletes every item in the user's own partition, 25 at a time.
    async fn purge_user_partition(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
    ) -> Result<(), StoreError> {
        let pk = keys::user_partition(workspace.as_str(), user.as_str());
        self.purge_user_sessions(&pk).await?;
        self.delete_prefix(&pk, "").await
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    #[tracing::instrument(skip_all)]
    async fn upsert_user(
        &self,
        candidate: &User,
        patch: &UserPatch,
        on_create: &[OutboxEntry],
    ) -> Result<(User, bool), StoreError> {
        let ws = &candidate.workspace_id;
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let mut create = vec![
                self.put(guard_item(candidate), Condition::Absent)?,
                self.put(profile_item(candidate, 1)?, Condition::Absent)?,
            ];
            create.extend(self.entry_puts(on_create)?);
            match self.transact(create).await {
                Ok(()) => return Ok((candidate.clone(), true)),
                Err(TxFailure::Store(err)) => return Err(err),
                Err(TxFailure::Contention) => {
                    backoff(attempt).await;
                    continue;
                }
                Err(TxFailure::Condition(_)) => {}
            }
            // The external id is taken: update that user instead.
            let existing = match self
                .user_id_for_external_id(ws, &candidate.external_id)
                .await?
            {
                Some(id) => self.load_user(ws, &id).await?,
                None => None,
            };
            let Some((mut user, version)) = existing else {
                // Deleted between our write and our read: try creating again.
                backoff(attempt).await;
                continue;
            };
            let old_external_id = user.external_id.clone();
            if !user.apply(patch, candidate.updated_at) {
                return Ok((user, false));
            }
            if self
                .write_changed_user(&user, &old_external_id, version)
                .await?
            {
                return Ok((user, false));
            }
            backoff(attempt).await;
        }
        Err(contention())
    }

    #[tracing::instrument(skip_all)]
    async fn get_user(
        &self,
        workspace: &WorkspaceId,
        id: &UserId,
    ) -> Result<Option<User>, StoreError> {
        Ok(self
            .load_user(workspace, id.as_str())
            .await?
            .map(|(user, _)| user))
    }

    #[tracing::instrument(skip_all)]
    async fn user_by_external_id(
        &self,
        workspace: &WorkspaceId,
        external_id: &str,
    ) -> Result<Option<User>, StoreError> {
        match self.user_id_for_external_id(workspace, external_id).await? {
            Some(id) => Ok(self.load_user(workspace, &id).await?.map(|(user, _)| user)),
            None => Ok(None),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn list_users(
        &self,
        workspace: &WorkspaceId,
        page: &PageRequest,
    ) -> Result<Page<User>, StoreError> {
        let items = self
            .query_prefix(
                &keys::workspace(workspace.as_str()),
                keys::USER_PREFIX,
                page.after.as_deref().map(keys::user),
                Some(page.limit + 1),
            )
            .await?;
        let users = items
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<User>, _>>()?;
        Ok(Page::from_lookahead(users, page.limit, |user| {
            user.id.to_string()
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_user(
        &self,
        workspace: &WorkspaceId,
        id: &UserId,
        patch: &UserPatch,
        at: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let Some((mut user, version)) = self.load_user(workspace, id.as_str()).await? else {
                return Ok(None);
            };
            let old_external_id = user.external_id.clone();
            if !user.apply(patch, at) {
                return Ok(Some(user));
            }
            if self
                .write_changed_user(&user, &old_external_id, version)
                .await?
            {
                return Ok(Some(user));
            }
            backoff(attempt).await;
        }
        Err(contention())
    }

    #[tracing::instrument(skip_all)]
    async fn delete_user(
        &self,
        workspace: &WorkspaceId,
        id: &UserId,
        on_delete: &[OutboxEntry],
    ) -> Result<bool, StoreError> {
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let Some((user, version)) = self.load_user(workspace, id.as_str()).await? else {
                return Ok(false);
            };
            // What is stored under the user goes first, so a failure part-way leaves a user
            // that can be deleted again, never data without its user.
            self.purge_user_partition(workspace, id).await?;
            let ws = keys::workspace(workspace.as_str());
            let mut actions = vec![
                self.delete(
                    ws.clone(),
                    keys::user(id.as_str()),
                    Condition::Version(version),
                )?,
                self.delete(
                    ws,
                    keys::external_id(&user.external_id),
                    Condition::Equals("userId", id.to_string()),
                )?,
            ];
            actions.extend(self.entry_puts(on_delete)?);
            match self.transact(actions).await {
                Ok(()) => return Ok(true),
                Err(TxFailure::Condition(_) | TxFailure::Contention) => backoff(attempt).await,
                Err(TxFailure::Store(err)) => return Err(err),
            }
        }
        Err(contention())
    }

    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> Result<(), StoreError> {
        self.get("PING".into(), "PING".into()).await.map(|_| ())
    }
}
