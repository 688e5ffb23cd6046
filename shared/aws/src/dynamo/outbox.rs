//! The outbox on the table: `OUTBOX#<shard>` partitions (spread by entry id so no partition
//! runs hot), sorted by `<due ms, 13 digits>#<id>`. Entries go in with the transaction of the
//! change they follow (`entry_puts`); the table's stream hands each new one to the relay, and
//! the sweeper queries each shard for what is overdue.

use super::actions::Condition;
use super::{DynamoStore, Item, keys, s, unavailable};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, TransactWriteItem, WriteRequest};
use std::collections::HashMap;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::outbox::{OutboxEntry, OutboxStore};
use vitasync_domain::kernel::time::Timestamp;

/// Outbox partitions.
const SHARDS: u32 = 8;
/// The entry's JSON.
const ENTRY: &str = "entry";

fn shard_of(id: &str) -> u32 {
    id.bytes().fold(0u32, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u32::from(byte))
    }) % SHARDS
}

fn sort_key(due: Timestamp, id: &str) -> String {
    format!("{:013}#{id}", due.millis().max(0))
}

/// The outbox item of `entry`.
pub fn entry_item(entry: &OutboxEntry) -> Result<Item, StoreError> {
    let json = serde_json::to_string(entry).map_err(|err| StoreError::Corrupt(err.to_string()))?;
    Ok(HashMap::from([
        (keys::PK.to_owned(), s(keys::outbox(shard_of(&entry.id)))),
        (keys::SK.to_owned(), s(sort_key(entry.due_at, &entry.id))),
        (ENTRY.to_owned(), s(json)),
    ]))
}

/// The batch write request that puts `entry`'s item.
pub(crate) fn entry_put_request(entry: &OutboxEntry) -> Result<WriteRequest, StoreError> {
    let put = PutRequest::builder()
        .set_item(Some(entry_item(entry)?))
        .build()
        .map_err(|err| StoreError::Corrupt(err.to_string()))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

/// An outbox entry from its item (as stored, or as a stream record's new image).
pub fn entry_from_item(item: &HashMap<String, AttributeValue>) -> Result<OutboxEntry, StoreError> {
    let json = item
        .get(ENTRY)
        .and_then(|value| value.as_s().ok())
        .ok_or_else(|| StoreError::Corrupt("an outbox item has no entry".into()))?;
    serde_json::from_str(json).map_err(|err| StoreError::Corrupt(err.to_string()))
}

impl DynamoStore {
    /// The puts that write `entries` inside a change's transaction.
    pub(crate) fn entry_puts(
        &self,
        entries: &[OutboxEntry],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        entries
            .iter()
            .map(|entry| self.put(entry_item(entry)?, Condition::None))
            .collect()
    }
}

#[async_trait]
impl OutboxStore for DynamoStore {
    #[tracing::instrument(skip_all)]
    async fn append(&self, entries: &[OutboxEntry]) -> Result<(), StoreError> {
        let requests = entries
            .iter()
            .map(entry_put_request)
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_write(requests).await
    }

    #[tracing::instrument(skip_all)]
    async fn due_entries(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let until = format!("{:013}#~", before.millis().max(0));
        let want = i32::try_from(limit).unwrap_or(i32::MAX);
        let mut entries = Vec::new();
        for shard in 0..SHARDS {
            let output = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("#pk = :pk AND #sk <= :until")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(keys::outbox(shard)))
                .expression_attribute_values(":until", s(until.clone()))
                .consistent_read(true)
                .limit(want)
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items.unwrap_or_default() {
                entries.push(entry_from_item(&item)?);
            }
        }
        entries.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
        entries.truncate(limit);
        Ok(entries)
    }

    #[tracing::instrument(skip_all)]
    async fn remove_entry(&self, entry: &OutboxEntry) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .key(keys::PK, s(keys::outbox(shard_of(&entry.id))))
            .key(keys::SK, s(sort_key(entry.due_at, &entry.id)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
