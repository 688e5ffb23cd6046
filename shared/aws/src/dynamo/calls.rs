use super::{DynamoStore, keys, s};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::CallCounter;

const COUNT: &str = "calls";

#[async_trait]
impl CallCounter for DynamoStore {
    /// One conditional `ADD`: the counter moves only while it is below the limit, so racing
    /// workers can never spend more than the window holds. TTL removes spent windows.
    #[tracing::instrument(skip_all)]
    async fn try_count(
        &self,
        key: &str,
        limit: u64,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::call_counter(key)))
            .key(keys::SK, s(keys::CALL_COUNTER_SK))
            .update_expression("ADD #n :one SET #e = :expires")
            .condition_expression("attribute_not_exists(#n) OR #n < :limit")
            .expression_attribute_names("#n", COUNT)
            .expression_attribute_names("#e", crate::provision::TTL_ATTRIBUTE)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((expires_at.millis() / 1000).to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) => match err.into_service_error() {
                UpdateItemError::ConditionalCheckFailedException(_) => Ok(false),
                other => Err(StoreError::Unavailable(
                    DisplayErrorContext(other).to_string(),
                )),
            },
        }
    }
}
