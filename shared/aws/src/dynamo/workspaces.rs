use super::actions::Condition;
use super::{DynamoStore, TxFailure, from_item, keys, s, string_attr, to_item};
use async_trait::async_trait;
use std::collections::HashMap;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::WorkspaceId;
use vitasync_domain::kernel::page::{Page, PageRequest};
use vitasync_domain::ports::WorkspaceStore;
use vitasync_domain::tenancy::api_key::ApiKeyRecord;
use vitasync_domain::tenancy::workspace::Workspace;

#[async_trait]
impl WorkspaceStore for DynamoStore {
    #[tracing::instrument(skip_all)]
    async fn create_workspace(
        &self,
        workspace: &Workspace,
        first_key: &ApiKeyRecord,
    ) -> Result<(), StoreError> {
        let guard = HashMap::from([
            (keys::PK.to_owned(), s(keys::slug(&workspace.slug))),
            (keys::SK.to_owned(), s(keys::SLUG_SK)),
            ("workspaceId".to_owned(), s(workspace.id.to_string())),
        ]);
        let actions = vec![
            self.put(guard, Condition::Absent)?,
            self.put(
                to_item(workspace, keys::WORKSPACES.into(), workspace.id.to_string())?,
                Condition::Absent,
            )?,
            self.put(api_keys_by_hash(first_key)?, Condition::Absent)?,
            self.put(api_keys_by_id(first_key)?, Condition::Absent)?,
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Condition(failed)) if failed.first() == Some(&true) => {
                Err(StoreError::Conflict("workspace slug".into()))
            }
            Err(TxFailure::Condition(_)) => Err(StoreError::Conflict("API key".into())),
            Err(TxFailure::Contention) => Err(StoreError::Conflict("workspace slug".into())),
            Err(TxFailure::Store(err)) => Err(err),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn get_workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>, StoreError> {
        self.get(keys::WORKSPACES.into(), id.to_string())
            .await?
            .map(from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn workspace_by_slug(&self, slug: &str) -> Result<Option<Workspace>, StoreError> {
        let Some(guard) = self.get(keys::slug(slug), keys::SLUG_SK.into()).await? else {
            return Ok(None);
        };
        let id = string_attr(&guard, "workspaceId")?;
        self.get(keys::WORKSPACES.into(), id)
            .await?
            .map(from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn list_workspaces(&self, page: &PageRequest) -> Result<Page<Workspace>, StoreError> {
        let items = self
            .query_prefix(
                keys::WORKSPACES,
                "",
                page.after.clone(),
                Some(page.limit + 1),
            )
            .await?;
        let workspaces = items
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<Workspace>, _>>()?;
        Ok(Page::from_lookahead(workspaces, page.limit, |ws| {
            ws.id.to_string()
        }))
    }
}

pub(crate) fn api_keys_by_hash(key: &ApiKeyRecord) -> Result<super::Item, StoreError> {
    to_item(key, keys::key_hash(key.hash.as_str()), keys::KEY_SK.into())
}

pub(crate) fn api_keys_by_id(key: &ApiKeyRecord) -> Result<super::Item, StoreError> {
    to_item(
        key,
        keys::workspace(key.workspace_id.as_str()),
        keys::key_id(key.id.as_str()),
    )
}
