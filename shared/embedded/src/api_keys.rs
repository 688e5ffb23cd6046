use crate::store::{EmbeddedStore, conflict, decode, encode};
use crate::tables::{API_KEY_IDS, API_KEYS, END};
use async_trait::async_trait;
use redb::ReadableTable;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::{ApiKeyId, WorkspaceId};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::ApiKeyStore;
use vitasync_domain::tenancy::api_key::{ApiKeyRecord, KeyHash};

#[async_trait]
impl ApiKeyStore for EmbeddedStore {
    async fn insert_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let key = key.clone();
        self.write(move |txn| {
            let mut keys = txn.open_table(API_KEYS)?;
            if keys.get(key.hash.as_str())?.is_some() {
                return Err(conflict("API key"));
            }
            keys.insert(key.hash.as_str(), encode(&key)?.as_slice())?;
            txn.open_table(API_KEY_IDS)?.insert(
                (key.workspace_id.as_str(), key.id.as_str()),
                key.hash.as_str(),
            )?;
            Ok(())
        })
        .await
    }

    async fn key_by_hash(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        let hash = hash.clone();
        self.read(move |txn| {
            let table = txn.open_table(API_KEYS)?;
            let found = table.get(hash.as_str())?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn get_key(
        &self,
        workspace: &WorkspaceId,
        id: &ApiKeyId,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read(move |txn| {
            let ids = txn.open_table(API_KEY_IDS)?;
            let Some(hash) = ids.get((workspace.as_str(), id.as_str()))? else {
                return Ok(None);
            };
            let keys = txn.open_table(API_KEYS)?;
            let found = keys.get(hash.value())?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn list_keys(&self, workspace: &WorkspaceId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |txn| {
            let ids = txn.open_table(API_KEY_IDS)?;
            let keys = txn.open_table(API_KEYS)?;
            let mut out = Vec::new();
            for entry in ids.range((workspace.as_str(), "")..(workspace.as_str(), END))? {
                let (_, hash) = entry?;
                if let Some(item) = keys.get(hash.value())? {
                    out.push(decode(item.value())?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn delete_key(&self, workspace: &WorkspaceId, id: &ApiKeyId) -> Result<bool, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |txn| {
            let mut ids = txn.open_table(API_KEY_IDS)?;
            let Some(hash) = ids.remove((workspace.as_str(), id.as_str()))? else {
                return Ok(false);
            };
            txn.open_table(API_KEYS)?.remove(hash.value())?;
            Ok(true)
        })
        .await
    }

    async fn replace_key_secret(
        &self,
        workspace: &WorkspaceId,
        id: &ApiKeyId,
        hash: &KeyHash,
        prefix: &str,
        at: Timestamp,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let (workspace, id, hash, prefix) = (
            workspace.clone(),
            id.clone(),
            hash.clone(),
            prefix.to_owned(),
        );
        self.write(move |txn| {
            let mut ids = txn.open_table(API_KEY_IDS)?;
            let mut keys = txn.open_table(API_KEYS)?;
            let old_hash = match ids.get((workspace.as_str(), id.as_str()))? {
                Some(old) => old.value().to_owned(),
                None => return Ok(None),
            };
            let mut record: ApiKeyRecord = match keys.remove(old_hash.as_str())? {
                Some(item) => decode(item.value())?,
                None => return Ok(None),
            };
            if keys.get(hash.as_str())?.is_some() {
                return Err(conflict("API key"));
            }
            record.hash = hash;
            record.prefix = prefix;
            record.rotated_at = Some(at);
            keys.insert(record.hash.as_str(), encode(&record)?.as_slice())?;
            ids.insert((workspace.as_str(), id.as_str()), record.hash.as_str())?;
            Ok(Some(record))
        })
        .await
    }
}
