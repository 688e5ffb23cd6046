use crate::outbox::write_entries;
use crate::store::{EmbeddedStore, Fault, conflict, decode, encode};
use crate::tables::{END, USER_EXTERNAL_IDS, USERS};
use async_trait::async_trait;
use redb::{ReadableTable, WriteTransaction};
use std::ops::Bound;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::{UserId, WorkspaceId};
use vitasync_domain::kernel::outbox::OutboxEntry;
use vitasync_domain::kernel::page::{Page, PageRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::UserStore;
use vitasync_domain::tenancy::user::{User, UserPatch};

fn load_user(txn: &WriteTransaction, workspace: &str, id: &str) -> Result<Option<User>, Fault> {
    let table = txn.open_table(USERS)?;
    let found = table.get((workspace, id))?;
    found.map(|item| decode(item.value())).transpose()
}

fn save_user(txn: &WriteTransaction, user: &User) -> Result<(), Fault> {
    txn.open_table(USERS)?.insert(
        (user.workspace_id.as_str(), user.id.as_str()),
        encode(user)?.as_slice(),
    )?;
    Ok(())
}

#[async_trait]
impl UserStore for EmbeddedStore {
    async fn upsert_user(
        &self,
        candidate: &User,
        patch: &UserPatch,
        on_create: &[OutboxEntry],
    ) -> Result<(User, bool), StoreError> {
        let (candidate, patch, on_create) = (candidate.clone(), patch.clone(), on_create.to_vec());
        self.write(move |txn| {
            let ws = candidate.workspace_id.as_str();
            let mut guards = txn.open_table(USER_EXTERNAL_IDS)?;
            let existing_id = guards
                .get((ws, candidate.external_id.as_str()))?
                .map(|id| id.value().to_owned());
            if let Some(existing_id) = existing_id
                && let Some(mut user) = load_user(txn, ws, &existing_id)?
            {
                if user.apply(&patch, candidate.updated_at) {
                    save_user(txn, &user)?;
                }
                return Ok((user, false));
            }
            guards.insert((ws, candidate.external_id.as_str()), candidate.id.as_str())?;
            save_user(txn, &candidate)?;
            write_entries(txn, &on_create)?;
            Ok((candidate, true))
        })
        .await
    }

    async fn get_user(
        &self,
        workspace: &WorkspaceId,
        id: &UserId,
    ) -> Result<Option<User>, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read(move |txn| {
            let table = txn.open_table(USERS)?;
            let found = table.get((workspace.as_str(), id.as_str()))?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn user_by_external_id(
        &self,
        workspace: &WorkspaceId,
        external_id: &str,
    ) -> Result<Option<User>, StoreError> {
        let (workspace, external_id) = (workspace.clone(), external_id.to_owned());
        self.read(move |txn| {
            let guards = txn.open_table(USER_EXTERNAL_IDS)?;
            let Some(id) = guards.get((workspace.as_str(), external_id.as_str()))? else {
                return Ok(None);
            };
            let users = txn.open_table(USERS)?;
            let found = users.get((workspace.as_str(), id.value()))?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn list_users(
        &self,
        workspace: &WorkspaceId,
        page: &PageRequest,
    ) -> Result<Page<User>, StoreError> {
        let (workspace, page) = (workspace.clone(), page.clone());
        self.read(move |txn| {
            let ws = workspace.as_str();
            let table = txn.open_table(USERS)?;
            let start = match page.after.as_deref() {
                Some(after) => Bound::Excluded((ws, after)),
                None => Bound::Included((ws, "")),
            };
            let mut items = Vec::new();
            for entry in table
                .range::<(&str, &str)>((start, Bound::Excluded((ws, END))))?
                .take(page.limit + 1)
            {
                let (_, value) = entry?;
                items.push(decode::<User>(value.value())?);
            }
            Ok(Page::from_lookahead(items, page.limit, |user| {
                user.id.to_string()
            }))
        })
        .await
    }

    async fn update_user(
        &self,
        workspace: &WorkspaceId,
        id: &UserId,
        patch: &UserPatch,
        at: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let (workspace, id, patch) = (workspace.clone(), id.clone(), patch.clone());
        self.write(move |txn| {
            let ws = workspace.as_str();
            let Some(mut user) = load_user(txn, ws, id.as_str())? else {
                return Ok(None);
            };
            let old_external_id = user.external_id.clone();
            if !user.apply(&patch, at) {
                return Ok(Some(user));
            }
            if user.external_id != old_external_id {
                let mut guards = txn.open_table(USER_EXTERNAL_IDS)?;
                if guards.get((ws, user.external_id.as_str()))?.is_some() {
                    return Err(conflict("user externalId"));
                }
                guards.remove((ws, old_external_id.as_str()))?;
                guards.insert((ws, user.external_id.as_str()), user.id.as_str())?;
            }
            save_user(txn, &user)?;
            Ok(Some(user))
        })
        .await
    }

    async fn delete_user(
        &self,
        workspace: &WorkspaceId,
        id: &UserId,
        on_delete: &[OutboxEntry],
    ) -> Result<bool, StoreError> {
        let (workspace, id, on_delete) = (workspace.clone(), id.clone(), on_delete.to_vec());
        self.write(move |txn| {
            let ws = workspace.as_str();
            let mut users = txn.open_table(USERS)?;
            let user: User = match users.remove((ws, id.as_str()))? {
                Some(removed) => decode(removed.value())?,
                None => return Ok(false),
            };
            txn.open_table(USER_EXTERNAL_IDS)?
                .remove((ws, user.external_id.as_str()))?;
            crate::connections::purge_user_connections(txn, ws, id.as_str())?;
            crate::health::purge_user_records(txn, ws, id.as_str())?;
            crate::jobs::purge_user_jobs(txn, ws, id.as_str())?;
            crate::sessions::purge_user_sessions(txn, ws, id.as_str())?;
            write_entries(txn, &on_delete)?;
            Ok(true)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|txn| {
            txn.open_table(USERS)?;
            Ok(())
        })
        .await
    }
}
