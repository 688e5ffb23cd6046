//! The stores on one DynamoDB table (see `keys` for the layout).

mod actions;
mod api_keys;
mod batch;
mod calls;
mod connections;
mod health;
mod jobs;
pub mod keys;
pub mod outbox;
mod provider_apps;
mod sessions;
mod states;
mod usage;
mod users;
mod webhooks;
mod workspaces;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, TransactWriteItem, WriteRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::time::Duration;
use vitasync_domain::StoreError;

pub use batch::write_all_with_retry;
pub use usage::{Usage, UsageFigures, item_size, write_units};

pub type Item = HashMap<String, AttributeValue>;

/// Transactions that lose a race are retried this many times before giving up.
const TRANSACTION_ATTEMPTS: u32 = 8;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Items per Query request; `None` lets DynamoDB fill its 1 MB pages. Tests set it low to
    /// walk many pages.
    query_page_limit: Option<i32>,
    /// What this store (and its clones) has spent, for benchmarks.
    usage: Usage,
}

/// Why a transaction did not happen.
pub(crate) enum TxFailure {
    /// A condition failed; one entry per action, `true` where that action's condition failed.
    Condition(Vec<bool>),
    /// Another transaction touched the same items at the same time; safe to retry.
    Contention,
    Store(StoreError),
}

pub(crate) fn unavailable<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>(
    err: SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(DisplayErrorContext(err).to_string())
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// `value` as an item under `pk`/`sk`.
pub(crate) fn to_item<T: Serialize>(value: &T, pk: String, sk: String) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value)
        .map_err(|err| StoreError::Corrupt(format!("encoding item: {err}")))?;
    item.insert(keys::PK.into(), s(pk));
    item.insert(keys::SK.into(), s(sk));
    Ok(item)
}

pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item)
        .map_err(|err| StoreError::Corrupt(format!("decoding item: {err}")))
}

pub(crate) fn string_attr(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(StoreError::Corrupt(format!(
            "item lacks string attribute {name}"
        ))),
    }
}

pub(crate) fn version_of(item: &Item) -> u64 {
    match item.get(keys::VERSION) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            query_page_limit: None,
            usage: Usage::default(),
        }
    }

    /// Caps items per Query request, so pagination through `LastEvaluatedKey` can be exercised.
    pub fn with_query_page_limit(mut self, limit: i32) -> Self {
        self.query_page_limit = Some(limit);
        self
    }

    /// A Query's `Limit`: what is still wanted, within the page cap set for tests.
    pub(crate) fn page_limit(&self, wanted: i32) -> i32 {
        self.query_page_limit.map_or(wanted, |cap| cap.min(wanted))
    }

    /// Write units and Query calls spent so far by this store and its clones.
    pub fn usage(&self) -> UsageFigures {
        self.usage.figures()
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(pk: String, sk: String) -> Item {
        HashMap::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
    }

    /// A strongly consistent read of one item.
    pub(crate) async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item)
    }

    /// Up to `want` items of partition `pk` whose sort key starts with `prefix`, in sort order,
    /// starting after sort key `after`. Follows `LastEvaluatedKey` until it has enough.
    pub(crate) async fn query_prefix(
        &self,
        pk: &str,
        prefix: &str,
        after: Option<String>,
        want: Option<usize>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut start = after.map(|sk| Self::key(pk.to_owned(), sk));
        let mut items = Vec::new();
        loop {
            let remaining = want.map(|want| want.saturating_sub(items.len()));
            let limit = match (remaining, self.query_page_limit) {
                (Some(r), Some(cap)) => Some(i32::try_from(r).unwrap_or(i32::MAX).min(cap)),
                (Some(r), None) => Some(i32::try_from(r).unwrap_or(i32::MAX)),
                (None, cap) => cap,
            };
            self.usage.queried();
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true);
            query = if prefix.is_empty() {
                query.key_condition_expression("#pk = :pk")
            } else {
                query
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", keys::SK)
                    .expression_attribute_values(":prefix", s(prefix))
            };
            let output = query
                .set_limit(limit)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(output.items.unwrap_or_default());
            let satisfied = want.is_some_and(|want| items.len() >= want);
            match output.last_evaluated_key {
                Some(last) if !satisfied => start = Some(last),
                _ => break,
            }
        }
        if let Some(want) = want {
            items.truncate(want);
        }
        Ok(items)
    }

    /// Up to `want` items of partition `pk` whose sort key starts with `prefix`, highest sort
    /// key (newest id) first, starting below sort key `before`. Follows `LastEvaluatedKey`.
    pub(crate) async fn query_prefix_newest_first(
        &self,
        pk: &str,
        prefix: &str,
        before: Option<String>,
        want: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let mut start = before.map(|sk| Self::key(pk.to_owned(), sk));
        let mut items = Vec::new();
        loop {
            let remaining = i32::try_from(want - items.len()).unwrap_or(i32::MAX);
            self.usage.queried();
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(self.page_limit(remaining))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(last) if items.len() < want => start = Some(last),
                _ => break,
            }
        }
        items.truncate(want);
        Ok(items)
    }

    /// Deletes every item of partition `pk` whose sort key starts with `prefix` (all of it
    /// for ""), 25 at a time.
    pub(crate) async fn delete_prefix(&self, pk: &str, prefix: &str) -> Result<(), StoreError> {
        let requests = self
            .query_prefix(pk, prefix, None, None)
            .await?
            .into_iter()
            .map(|item| {
                delete_request(
                    [keys::PK, keys::SK]
                        .into_iter()
                        .filter_map(|name| item.get(name).map(|v| (name.to_owned(), v.clone())))
                        .collect(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_write(requests).await
    }

    /// Runs a transaction, telling failed conditions from contention.
    pub(crate) async fn transact(&self, actions: Vec<TransactWriteItem>) -> Result<(), TxFailure> {
        let count = actions.len();
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => match err.into_service_error() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    let reasons = cancelled.cancellation_reasons();
                    let failed: Vec<bool> = (0..count)
                        .map(|i| {
                            reasons
                                .get(i)
                                .and_then(|reason| reason.code())
                                .is_some_and(|code| code == "ConditionalCheckFailed")
                        })
                        .collect();
                    if failed.iter().any(|f| *f) {
                        Err(TxFailure::Condition(failed))
                    } else {
                        Err(TxFailure::Contention)
                    }
                }
                TransactWriteItemsError::TransactionInProgressException(_)
                | TransactWriteItemsError::ThrottlingException(_)
                | TransactWriteItemsError::ProvisionedThroughputExceededException(_) => {
                    Err(TxFailure::Contention)
                }
                other => Err(TxFailure::Store(StoreError::Unavailable(
                    DisplayErrorContext(other).to_string(),
                ))),
            },
        }
    }
}

/// A short, growing pause between attempts that lost a race.
/// A batch write that deletes the item with `key`.
pub(crate) fn delete_request(key: Item) -> Result<WriteRequest, StoreError> {
    DeleteRequest::builder()
        .set_key(Some(key))
        .build()
        .map(|delete| WriteRequest::builder().delete_request(delete).build())
        .map_err(|err| StoreError::Corrupt(err.to_string()))
}

pub(crate) async fn backoff(attempt: u32) {
    let millis = 10u64.saturating_mul(1 << attempt.min(8));
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

pub(crate) fn contention() -> StoreError {
    StoreError::Unavailable(format!(
        "gave up after {TRANSACTION_ATTEMPTS} attempts under contention"
    ))
}
