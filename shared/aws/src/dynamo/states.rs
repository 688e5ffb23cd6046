use super::{DynamoStore, from_item, keys, unavailable};
use crate::provision::TTL_ATTRIBUTE;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use vitasync_domain::StoreError;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::StateStore;
use vitasync_domain::providers::oauth_state::OAuthState;

// States carry the table's TTL attribute, so DynamoDB removes the ones nobody used. Taking one
// is a single DeleteItem returning the old item: of two concurrent uses, only one gets it.

#[async_trait]
impl StateStore for DynamoStore {
    #[tracing::instrument(skip_all)]
    async fn put_state(&self, key: &str, state: &OAuthState) -> Result<(), StoreError> {
        let mut item = super::to_item(state, keys::state(key), keys::STATE_SK.into())?;
        let expires_epoch = state.expires_at.millis().div_euclid(1000) + 1;
        item.insert(
            TTL_ATTRIBUTE.into(),
            AttributeValue::N(expires_epoch.to_string()),
        );
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn take_state(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<OAuthState>, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::state(key), keys::STATE_SK.into())))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        let state: Option<OAuthState> = output.attributes.map(from_item).transpose()?;
        Ok(state.filter(|state| state.is_live(now)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_state(&self, key: &str, now: Timestamp) -> Result<Option<OAuthState>, StoreError> {
        let state: Option<OAuthState> = self
            .get(keys::state(key), keys::STATE_SK.into())
            .await?
            .map(from_item)
            .transpose()?;
        Ok(state.filter(|state| state.is_live(now)))
    }
}
