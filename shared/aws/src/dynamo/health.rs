use super::{DynamoStore, Item, keys, s, unavailable};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, PutRequest, WriteRequest};
use std::collections::HashMap;
use std::time::Duration;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::outbox::OutboxEntry;
use vitasync_domain::ports::{HealthStore, RecordOwner};

/// DynamoDB's limit on keys per BatchGetItem call.
const BATCH_GET_LIMIT: usize = 100;
const DATA: &str = "data";

fn partition(owner: &RecordOwner) -> String {
    keys::user_partition(owner.workspace.as_str(), owner.user.as_str())
}

fn item_key(owner: &RecordOwner, key: &str) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), s(partition(owner))),
        (
            keys::SK.to_owned(),
            s(keys::record(owner.connection.as_str(), key)),
        ),
    ])
}

fn data_of(item: &Item) -> Result<Vec<u8>, StoreError> {
    match item.get(DATA) {
        Some(AttributeValue::B(blob)) => Ok(blob.clone().into_inner()),
        _ => Err(StoreError::Corrupt("a health record without data".into())),
    }
}

fn sort_key_of(item: &Item) -> Option<&str> {
    match item.get(keys::SK) {
        Some(AttributeValue::S(sk)) => Some(sk.as_str()),
        _ => None,
    }
}

/// A query of one owner's records with `from <= key <= to` (BETWEEN includes `to`: callers
/// drop `high`), and the prefix that turns sort keys back into record keys.
struct RecordRange {
    prefix: String,
    high: String,
    query: QueryFluentBuilder,
}

impl DynamoStore {
    fn record_range(&self, owner: &RecordOwner, from: &str, to: &str) -> RecordRange {
        let connection = owner.connection.as_str();
        let high = keys::record(connection, to);
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :low AND :high")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#sk", keys::SK)
            .expression_attribute_values(":pk", s(partition(owner)))
            .expression_attribute_values(":low", s(keys::record(connection, from)))
            .expression_attribute_values(":high", s(high.clone()))
            .consistent_read(true);
        RecordRange {
            prefix: keys::record(connection, ""),
            high,
            query,
        }
    }
}

#[async_trait]
impl HealthStore for DynamoStore {
    #[tracing::instrument(skip_all)]
    async fn get_records(
        &self,
        owner: &RecordOwner,
        wanted: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let mut found: HashMap<String, Vec<u8>> = HashMap::new();
        for chunk in wanted.chunks(BATCH_GET_LIMIT) {
            let mut pending: Vec<Item> = chunk.iter().map(|key| item_key(owner, key)).collect();
            let mut attempt = 0u32;
            while !pending.is_empty() {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(|err| StoreError::Corrupt(err.to_string()))?;
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(unavailable)?;
                for item in output
                    .responses
                    .and_then(|mut all| all.remove(&self.table))
                    .unwrap_or_default()
                {
                    self.usage.read(super::usage::item_size(&item));
                    if let Some(sk) = sort_key_of(&item) {
                        found.insert(sk.to_owned(), data_of(&item)?);
                    }
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut left| left.remove(&self.table))
                    .map(|left| left.keys)
                    .unwrap_or_default();
                if !pending.is_empty() {
                    attempt += 1;
                    if attempt > 10 {
                        return Err(StoreError::Unavailable(
                            "reads still unprocessed after 10 attempts".into(),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(25u64 << attempt.min(8))).await;
                }
            }
        }
        Ok(wanted
            .iter()
            .map(|key| found.remove(&keys::record(owner.connection.as_str(), key)))
            .collect())
    }

    #[tracing::instrument(skip_all)]
    async fn put_records(
        &self,
        owner: &RecordOwner,
        records: &[(String, Vec<u8>)],
        on_write: &[OutboxEntry],
    ) -> Result<(), StoreError> {
        let mut requests = records
            .iter()
            .map(|(key, bytes)| {
                let mut item = item_key(owner, key);
                item.insert(DATA.to_owned(), AttributeValue::B(bytes.clone().into()));
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|err| StoreError::Corrupt(err.to_string()))?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // The entries ride in the last batch: written only once every record before them is.
        for entry in on_write {
            requests.push(super::outbox::entry_put_request(entry)?);
        }
        self.batch_write(requests).await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_keys(&self, owner: &RecordOwner, keys: &[String]) -> Result<(), StoreError> {
        let requests = keys
            .iter()
            .map(|key| super::delete_request(item_key(owner, key)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(requests).await
    }

    #[tracing::instrument(skip_all)]
    async fn records_between(
        &self,
        owner: &RecordOwner,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let RecordRange {
            prefix,
            high,
            query,
        } = self.record_range(owner, from, to);
        let mut out = Vec::new();
        let mut start = None;
        loop {
            self.usage.queried();
            let output = query
                .clone()
                .set_limit(self.query_page_limit)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            let items = output.items.unwrap_or_default();
            self.usage
                .read(items.iter().map(super::usage::item_size).sum());
            for item in items {
                // BETWEEN includes its upper bound; this range does not.
                match sort_key_of(&item) {
                    Some(sk) if sk != high => {
                        let key = sk.strip_prefix(&prefix).unwrap_or(sk).to_owned();
                        out.push((key, data_of(&item)?));
                    }
                    _ => {}
                }
            }
            match output.last_evaluated_key {
                Some(last) => start = Some(last),
                None => break,
            }
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all)]
    async fn newest_key_between(
        &self,
        owner: &RecordOwner,
        from: &str,
        to: &str,
    ) -> Result<Option<String>, StoreError> {
        let RecordRange {
            prefix,
            high,
            query,
        } = self.record_range(owner, from, to);
        self.usage.queried();
        // Newest first, keys only; two items, since BETWEEN may return `high` itself.
        let output = query
            .projection_expression("#sk")
            .scan_index_forward(false)
            .limit(2)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(sort_key_of)
            .find(|sk| *sk != high)
            .map(|sk| sk.strip_prefix(&prefix).unwrap_or(sk).to_owned()))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_records(&self, owner: &RecordOwner) -> Result<u64, StoreError> {
        let prefix = keys::record(owner.connection.as_str(), "");
        let mut deletes = Vec::new();
        let mut start = None;
        loop {
            self.usage.queried();
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(partition(owner)))
                .expression_attribute_values(":prefix", s(prefix.clone()))
                .projection_expression("#pk, #sk")
                .consistent_read(true)
                .set_limit(self.query_page_limit)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for key in output.items.unwrap_or_default() {
                deletes.push(super::delete_request(key)?);
            }
            match output.last_evaluated_key {
                Some(last) => start = Some(last),
                None => break,
            }
        }
        let deleted = deletes.len() as u64;
        self.batch_write(deletes).await?;
        Ok(deleted)
    }
}
