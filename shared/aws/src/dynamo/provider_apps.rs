use super::actions::Condition;
use super::{
    DynamoStore, TRANSACTION_ATTEMPTS, TxFailure, backoff, contention, from_item, keys, to_item,
};
use async_trait::async_trait;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::{AppId, WorkspaceId};
use vitasync_domain::providers::ProviderId;
use vitasync_domain::providers::apps::{ProviderApp, ProviderAppStore};

// An app is written twice, in one transaction: under its workspace (one per provider, how it
// is managed) and under its id (how a push to its URL finds it).

fn by_workspace(app: &ProviderApp) -> Result<super::Item, StoreError> {
    to_item(
        app,
        keys::workspace(app.workspace_id.as_str()),
        keys::workspace_app(app.provider.as_str()),
    )
}

fn by_id(app: &ProviderApp) -> Result<super::Item, StoreError> {
    to_item(app, keys::app(app.id.as_str()), keys::APP_SK.into())
}

#[async_trait]
impl ProviderAppStore for DynamoStore {
    #[tracing::instrument(skip_all)]
    async fn put_app(&self, app: &ProviderApp) -> Result<(), StoreError> {
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let replaced = self.get_app(&app.workspace_id, app.provider).await?;
            let mut actions = vec![self.put(by_id(app)?, Condition::None)?];
            // Replacing the app it read, or none if there was none.
            actions.push(match &replaced {
                Some(old) => self.put(
                    by_workspace(app)?,
                    Condition::Equals("id", old.id.as_str().to_owned()),
                )?,
                None => self.put(by_workspace(app)?, Condition::Absent)?,
            });
            if let Some(old) = replaced.filter(|old| old.id != app.id) {
                actions.push(self.delete(
                    keys::app(old.id.as_str()),
                    keys::APP_SK.into(),
                    Condition::None,
                )?);
            }
            match self.transact(actions).await {
                Ok(()) => return Ok(()),
                Err(TxFailure::Condition(_) | TxFailure::Contention) => backoff(attempt).await,
                Err(TxFailure::Store(err)) => return Err(err),
            }
        }
        Err(contention())
    }

    #[tracing::instrument(skip_all)]
    async fn get_app(
        &self,
        workspace: &WorkspaceId,
        provider: ProviderId,
    ) -> Result<Option<ProviderApp>, StoreError> {
        self.get(
            keys::workspace(workspace.as_str()),
            keys::workspace_app(provider.as_str()),
        )
        .await?
        .map(from_item)
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn app_by_id(&self, id: &AppId) -> Result<Option<ProviderApp>, StoreError> {
        self.get(keys::app(id.as_str()), keys::APP_SK.into())
            .await?
            .map(from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn list_apps(&self, workspace: &WorkspaceId) -> Result<Vec<ProviderApp>, StoreError> {
        self.query_prefix(
            &keys::workspace(workspace.as_str()),
            &keys::workspace_app(""),
            None,
            None,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn delete_app(
        &self,
        workspace: &WorkspaceId,
        provider: ProviderId,
    ) -> Result<Option<ProviderApp>, StoreError> {
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let Some(app) = self.get_app(workspace, provider).await? else {
                return Ok(None);
            };
            let actions = vec![
                self.delete(
                    keys::workspace(workspace.as_str()),
                    keys::workspace_app(provider.as_str()),
                    Condition::Equals("id", app.id.as_str().to_owned()),
                )?,
                self.delete(
                    keys::app(app.id.as_str()),
                    keys::APP_SK.into(),
                    Condition::None,
                )?,
            ];
            match self.transact(actions).await {
                Ok(()) => return Ok(Some(app)),
                Err(TxFailure::Condition(_) | TxFailure::Contention) => backoff(attempt).await,
                Err(TxFailure::Store(err)) => return Err(err),
            }
        }
        Err(contention())
    }
}
