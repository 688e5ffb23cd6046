use crate::store::{EmbeddedStore, decode, encode};
use crate::tables::{END, PROVIDER_APP_IDS, PROVIDER_APPS};
use async_trait::async_trait;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::{AppId, WorkspaceId};
use vitasync_domain::providers::ProviderId;
use vitasync_domain::providers::apps::{ProviderApp, ProviderAppStore};

#[async_trait]
impl ProviderAppStore for EmbeddedStore {
    async fn put_app(&self, app: &ProviderApp) -> Result<(), StoreError> {
        let app = app.clone();
        self.write(move |txn| {
            let key = (app.workspace_id.as_str(), app.provider.as_str());
            let mut apps = txn.open_table(PROVIDER_APPS)?;
            let replaced = apps
                .insert(key, encode(&app)?.as_slice())?
                .map(|old| decode::<ProviderApp>(old.value()))
                .transpose()?;
            let mut ids = txn.open_table(PROVIDER_APP_IDS)?;
            if let Some(old) = replaced.filter(|old| old.id != app.id) {
                ids.remove(old.id.as_str())?;
            }
            ids.insert(app.id.as_str(), key)?;
            Ok(())
        })
        .await
    }

    async fn get_app(
        &self,
        workspace: &WorkspaceId,
        provider: ProviderId,
    ) -> Result<Option<ProviderApp>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |txn| {
            let apps = txn.open_table(PROVIDER_APPS)?;
            let found = apps.get((workspace.as_str(), provider.as_str()))?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn app_by_id(&self, id: &AppId) -> Result<Option<ProviderApp>, StoreError> {
        let id = id.clone();
        self.read(move |txn| {
            let ids = txn.open_table(PROVIDER_APP_IDS)?;
            let Some(key) = ids.get(id.as_str())? else {
                return Ok(None);
            };
            let apps = txn.open_table(PROVIDER_APPS)?;
            let found = apps.get(key.value())?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn list_apps(&self, workspace: &WorkspaceId) -> Result<Vec<ProviderApp>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |txn| {
            let apps = txn.open_table(PROVIDER_APPS)?;
            let mut out = Vec::new();
            for entry in apps.range((workspace.as_str(), "")..(workspace.as_str(), END))? {
                out.push(decode(entry?.1.value())?);
            }
            Ok(out)
        })
        .await
    }

    async fn delete_app(
        &self,
        workspace: &WorkspaceId,
        provider: ProviderId,
    ) -> Result<Option<ProviderApp>, StoreError> {
        let workspace = workspace.clone();
        self.write(move |txn| {
            let removed = txn
                .open_table(PROVIDER_APPS)?
                .remove((workspace.as_str(), provider.as_str()))?
                .map(|old| decode::<ProviderApp>(old.value()))
                .transpose()?;
            if let Some(app) = &removed {
                txn.open_table(PROVIDER_APP_IDS)?.remove(app.id.as_str())?;
            }
            Ok(removed)
        })
        .await
    }
}
