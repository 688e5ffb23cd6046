//! The relay function's events: new outbox items from the table's DynamoDB stream (the event
//! source mapping filters them to `INSERT`s of `OUTBOX#` items and has
//! `ReportBatchItemFailures` on), or the schedule's tick that sweeps overdue entries.
//!
//! Records of one shard arrive in order; on a fault the response names the first record not
//! relayed, and Lambda retries the batch from there (relaying again is harmless).

use crate::dynamo::outbox::entry_from_item;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use vitasync_domain::announce::relay::Relay;
use vitasync_domain::kernel::error::DomainError;

#[derive(Deserialize)]
struct StreamEvent {
    #[serde(rename = "Records")]
    records: Vec<StreamRecord>,
}

#[derive(Deserialize)]
struct StreamRecord {
    #[serde(rename = "eventName", default)]
    event_name: String,
    dynamodb: StreamChange,
}

#[derive(Deserialize)]
struct StreamChange {
    #[serde(rename = "SequenceNumber")]
    sequence_number: String,
    #[serde(rename = "NewImage", default)]
    new_image: HashMap<String, Value>,
}

/// A stream image's string attributes (all an outbox item has) as the SDK's values.
fn item_of(image: &HashMap<String, Value>) -> HashMap<String, AttributeValue> {
    image
        .iter()
        .filter_map(|(name, value)| {
            let text = value.get("S")?.as_str()?;
            Some((name.clone(), AttributeValue::S(text.to_owned())))
        })
        .collect()
}

/// Whether `event` is a batch of stream records (anything else is the schedule's tick).
pub fn is_stream_event(event: &Value) -> bool {
    event
        .get("Records")
        .and_then(Value::as_array)
        .is_some_and(|records| {
            records
                .iter()
                .all(|record| record.get("eventSource") == Some(&json!("aws:dynamodb")))
        })
}

/// Relays the entries a stream batch carries, in order, and answers with the partial batch
/// response. A record that is not an outbox entry is skipped with a log line: retrying it
/// could never help.
pub async fn relay_stream_batch(relay: &Relay, event: Value) -> Result<Value, DomainError> {
    let event: StreamEvent = serde_json::from_value(event)
        .map_err(|_| DomainError::validation("Records", "not a DynamoDB stream event"))?;
    for record in event.records {
        if record.event_name != "INSERT" {
            continue;
        }
        let entry = match entry_from_item(&item_of(&record.dynamodb.new_image)) {
            Ok(entry) => entry,
            Err(err) => {
                tracing::error!(error = %err, "a stream record held no outbox entry; skipped");
                continue;
            }
        };
        if let Err(err) = relay.relay(&entry).await {
            tracing::warn!(entry_id = %entry.id, error = %err, "relaying stopped; the batch resumes here");
            return Ok(json!({
                "batchItemFailures": [{ "itemIdentifier": record.dynamodb.sequence_number }]
            }));
        }
    }
    Ok(json!({ "batchItemFailures": [] }))
}
