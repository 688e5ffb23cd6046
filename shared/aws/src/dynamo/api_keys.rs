use super::actions::Condition;
use super::workspaces::{api_keys_by_hash, api_keys_by_id};
use super::{DynamoStore, TRANSACTION_ATTEMPTS, TxFailure, backoff, contention, from_item, keys};
use async_trait::async_trait;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::{ApiKeyId, WorkspaceId};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::ApiKeyStore;
use vitasync_domain::tenancy::api_key::{ApiKeyRecord, KeyHash};

// A key is written twice, in one transaction: under its secret's hash (how callers are
// authenticated) and under its workspace (how it is listed and managed by id).

#[async_trait]
impl ApiKeyStore for DynamoStore {
    #[tracing::instrument(skip_all)]
    async fn insert_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let actions = vec![
            self.put(api_keys_by_hash(key)?, Condition::Absent)?,
            self.put(api_keys_by_id(key)?, Condition::Absent)?,
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Condition(_) | TxFailure::Contention) => {
                Err(StoreError::Conflict("API key".into()))
            }
            Err(TxFailure::Store(err)) => Err(err),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn key_by_hash(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        // Strongly consistent, so a revoked or rotated key fails on the very next request.
        self.get(keys::key_hash(hash.as_str()), keys::KEY_SK.into())
            .await?
            .map(from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn get_key(
        &self,
        workspace: &WorkspaceId,
        id: &ApiKeyId,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get(
            keys::workspace(workspace.as_str()),
            keys::key_id(id.as_str()),
        )
        .await?
        .map(from_item)
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn list_keys(&self, workspace: &WorkspaceId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.query_prefix(
            &keys::workspace(workspace.as_str()),
            keys::KEY_PREFIX,
            None,
            None,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn delete_key(&self, workspace: &WorkspaceId, id: &ApiKeyId) -> Result<bool, StoreError> {
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let Some(key) = self.get_key(workspace, id).await? else {
                return Ok(false);
            };
            let actions = vec![
                self.delete(
                    keys::workspace(workspace.as_str()),
                    keys::key_id(id.as_str()),
                    Condition::Equals("hash", key.hash.as_str().to_owned()),
                )?,
                self.delete(
                    keys::key_hash(key.hash.as_str()),
                    keys::KEY_SK.into(),
                    Condition::None,
                )?,
            ];
            match self.transact(actions).await {
                Ok(()) => return Ok(true),
                // Rotated or deleted meanwhile: look again.
                Err(TxFailure::Condition(_) | TxFailure::Contention) => backoff(attempt).await,
                Err(TxFailure::Store(err)) => return Err(err),
            }
        }
        Err(contention())
    }

    #[tracing::instrument(skip_all)]
    async fn replace_key_secret(
        &self,
        workspace: &WorkspaceId,
        id: &ApiKeyId,
        hash: &KeyHash,
        prefix: &str,
        at: Timestamp,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let Some(old) = self.get_key(workspace, id).await? else {
                return Ok(None);
            };
            let mut key = old.clone();
            key.hash = hash.clone();
            key.prefix = prefix.to_owned();
            key.rotated_at = Some(at);
            let actions = vec![
                self.put(
                    api_keys_by_id(&key)?,
                    Condition::Equals("hash", old.hash.as_str().to_owned()),
                )?,
                self.delete(
                    keys::key_hash(old.hash.as_str()),
                    keys::KEY_SK.into(),
                    Condition::Present,
                )?,
                self.put(api_keys_by_hash(&key)?, Condition::Absent)?,
            ];
            match self.transact(actions).await {
                Ok(()) => return Ok(Some(key)),
                Err(TxFailure::Condition(failed)) if failed.get(2) == Some(&true) => {
                    return Err(StoreError::Conflict("API key".into()));
                }
                Err(TxFailure::Condition(_) | TxFailure::Contention) => backoff(attempt).await,
                Err(TxFailure::Store(err)) => return Err(err),
            }
        }
        Err(contention())
    }
}
