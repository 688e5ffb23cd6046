//! Creates the AWS resources the adapters use, the same way `template.yaml` declares them. The
//! contract tests use it against the emulator; operators can use it for a hand-made setup.

use crate::dynamo::keys;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use std::collections::HashMap;

/// The attribute DynamoDB's TTL reads (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expiresAt";

fn failed(what: &str, err: impl std::fmt::Display) -> String {
    format!("creating {what}: {err}")
}

/// The single table: `pk`/`sk` strings, on-demand, TTL on `expiresAt`, and the polling index.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), String> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|err| failed("table", err))
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|err| failed("table", err))
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(keys::PK)?)
        .attribute_definitions(attribute(keys::SK)?)
        .key_schema(key(keys::PK, KeyType::Hash)?)
        .key_schema(key(keys::SK, KeyType::Range)?)
        .attribute_definitions(attribute(keys::SYNC_DUE_PK)?)
        .attribute_definitions(attribute(keys::SYNC_DUE_SK)?)
        .attribute_definitions(attribute(keys::ACCOUNT_PK)?)
        .attribute_definitions(attribute(keys::ACCOUNT_SK)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(keys::SYNC_DUE_INDEX)
                .key_schema(key(keys::SYNC_DUE_PK, KeyType::Hash)?)
                .key_schema(key(keys::SYNC_DUE_SK, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(|err| failed("table index", err))?,
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(keys::ACCOUNT_INDEX)
                .key_schema(key(keys::ACCOUNT_PK, KeyType::Hash)?)
                .key_schema(key(keys::ACCOUNT_SK, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(|err| failed("table index", err))?,
        )
        // New outbox items reach the relay through the stream, as template.yaml sets it.
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .map_err(|err| failed("table stream", err))?,
        )
        .send()
        .await
        .map_err(|err| failed("table", DisplayErrorContext(err)))?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(|err| failed("table TTL", err))?,
        )
        .send()
        .await
        .map_err(|err| failed("table TTL", DisplayErrorContext(err)))?;
    Ok(())
}

/// URLs of a queue and its dead-letter queue.
pub struct QueuePair {
    pub url: String,
    pub dead_letter_url: String,
}

/// A standard queue whose messages move to `<name>-dlq` after `max_receives` receives.
pub async fn create_queue_with_dead_letter(
    client: &aws_sdk_sqs::Client,
    name: &str,
    max_receives: u32,
    visibility_seconds: u32,
) -> Result<QueuePair, String> {
    let dead_letter_url = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .map_err(|err| {
            failed(
                "dead-letter queue",
                aws_sdk_sqs::error::DisplayErrorContext(err),
            )
        })?
        .queue_url
        .ok_or_else(|| failed("dead-letter queue", "no URL returned"))?;
    let dead_letter_arn = client
        .get_queue_attributes()
        .queue_url(&dead_letter_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|err| {
            failed(
                "dead-letter queue",
                aws_sdk_sqs::error::DisplayErrorContext(err),
            )
        })?
        .attributes
        .and_then(|mut attrs| attrs.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| failed("dead-letter queue", "no ARN returned"))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": max_receives,
    });
    let url = client
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(HashMap::from([
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
            (
                QueueAttributeName::VisibilityTimeout,
                visibility_seconds.to_string(),
            ),
        ])))
        .send()
        .await
        .map_err(|err| failed("queue", aws_sdk_sqs::error::DisplayErrorContext(err)))?
        .queue_url
        .ok_or_else(|| failed("queue", "no URL returned"))?;
    Ok(QueuePair {
        url,
        dead_letter_url,
    })
}

/// A symmetric KMS key for data keys; returns its id.
pub async fn create_kms_key(
    client: &aws_sdk_kms::Client,
    description: &str,
) -> Result<String, String> {
    client
        .create_key()
        .description(description)
        .send()
        .await
        .map_err(|err| failed("KMS key", aws_sdk_kms::error::DisplayErrorContext(err)))?
        .key_metadata
        .map(|meta| meta.key_id)
        .ok_or_else(|| failed("KMS key", "no key metadata returned"))
}
