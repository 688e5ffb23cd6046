use crate::store::{EmbeddedStore, conflict, decode, encode};
use crate::tables::{API_KEY_IDS, API_KEYS, WORKSPACE_SLUGS, WORKSPACES};
use async_trait::async_trait;
use redb::ReadableTable;
use std::ops::Bound;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::WorkspaceId;
use vitasync_domain::kernel::page::{Page, PageRequest};
use vitasync_domain::ports::WorkspaceStore;
use vitasync_domain::tenancy::api_key::ApiKeyRecord;
use vitasync_domain::tenancy::workspace::Workspace;

#[async_trait]
impl WorkspaceStore for EmbeddedStore {
    async fn create_workspace(
        &self,
        workspace: &Workspace,
        first_key: &ApiKeyRecord,
    ) -> Result<(), StoreError> {
        let workspace = workspace.clone();
        let key = first_key.clone();
        self.write(move |txn| {
            let mut slugs = txn.open_table(WORKSPACE_SLUGS)?;
            if slugs.get(workspace.slug.as_str())?.is_some() {
                return Err(conflict("workspace slug"));
            }
            let mut keys = txn.open_table(API_KEYS)?;
            if keys.get(key.hash.as_str())?.is_some() {
                return Err(conflict("API key"));
            }
            slugs.insert(workspace.slug.as_str(), workspace.id.as_str())?;
            txn.open_table(WORKSPACES)?
                .insert(workspace.id.as_str(), encode(&workspace)?.as_slice())?;
            keys.insert(key.hash.as_str(), encode(&key)?.as_slice())?;
            txn.open_table(API_KEY_IDS)?.insert(
                (key.workspace_id.as_str(), key.id.as_str()),
                key.hash.as_str(),
            )?;
            Ok(())
        })
        .await
    }

    async fn get_workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>, StoreError> {
        let id = id.clone();
        self.read(move |txn| {
            let table = txn.open_table(WORKSPACES)?;
            let found = table.get(id.as_str())?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn workspace_by_slug(&self, slug: &str) -> Result<Option<Workspace>, StoreError> {
        let slug = slug.to_owned();
        self.read(move |txn| {
            let Some(id) = txn.open_table(WORKSPACE_SLUGS)?.get(slug.as_str())? else {
                return Ok(None);
            };
            let table = txn.open_table(WORKSPACES)?;
            let found = table.get(id.value())?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn list_workspaces(&self, page: &PageRequest) -> Result<Page<Workspace>, StoreError> {
        let page = page.clone();
        self.read(move |txn| {
            let table = txn.open_table(WORKSPACES)?;
            let start = match page.after.as_deref() {
                Some(after) => Bound::Excluded(after),
                None => Bound::Unbounded,
            };
            let mut items = Vec::new();
            for entry in table
                .range::<&str>((start, Bound::Unbounded))?
                .take(page.limit + 1)
            {
                let (_, value) = entry?;
                items.push(decode::<Workspace>(value.value())?);
            }
            Ok(Page::from_lookahead(items, page.limit, |ws| {
                ws.id.to_string()
            }))
        })
        .await
    }
}
