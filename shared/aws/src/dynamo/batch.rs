//! BatchWriteItem: at most 25 requests a call, and whatever DynamoDB hands back as
//! `UnprocessedItems` is sent again, with backoff, until everything is written.

use super::{DynamoStore, unavailable};
use aws_sdk_dynamodb::types::WriteRequest;
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use vitasync_domain::StoreError;

/// DynamoDB's limit on requests per BatchWriteItem call.
pub const BATCH_LIMIT: usize = 25;
/// Leftovers are resent this many times (with growing pauses, about 25 s in all) before the
/// write is reported as failed.
const MAX_ATTEMPTS: u32 = 12;

/// Sends `requests` in chunks of 25 through `send`, which returns the leftovers of each call,
/// and resends leftovers until none remain.
pub async fn write_all_with_retry<F, Fut>(
    requests: Vec<WriteRequest>,
    mut send: F,
) -> Result<(), StoreError>
where
    F: FnMut(Vec<WriteRequest>) -> Fut,
    Fut: Future<Output = Result<Vec<WriteRequest>, StoreError>>,
{
    let mut pending = requests;
    let mut attempt = 0;
    while !pending.is_empty() {
        let mut leftovers = Vec::new();
        while !pending.is_empty() {
            let rest = pending.split_off(pending.len().min(BATCH_LIMIT));
            let chunk = std::mem::replace(&mut pending, rest);
            leftovers.extend(send(chunk).await?);
        }
        if leftovers.is_empty() {
            break;
        }
        attempt += 1;
        if attempt >= MAX_ATTEMPTS {
            return Err(StoreError::Unavailable(format!(
                "{} writes still unprocessed after {MAX_ATTEMPTS} attempts",
                leftovers.len()
            )));
        }
        tracing::debug!(
            leftovers = leftovers.len(),
            attempt,
            "resending unprocessed writes"
        );
        let pause = Duration::from_millis(25u64 << attempt.min(10)).min(Duration::from_secs(5));
        tokio::time::sleep(pause).await;
        pending = leftovers;
    }
    Ok(())
}

impl DynamoStore {
    pub(crate) async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        write_all_with_retry(requests, |chunk| async move {
            self.usage.wrote(&chunk);
            let output = self
                .client
                .batch_write_item()
                .set_request_items(Some(HashMap::from([(self.table.clone(), chunk)])))
                .send()
                .await
                .map_err(unavailable)?;
            Ok(output
                .unprocessed_items
                .and_then(|mut left| left.remove(&self.table))
                .unwrap_or_default())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::{AttributeValue, PutRequest};
    use std::sync::Mutex;

    fn put(n: usize) -> WriteRequest {
        WriteRequest::builder()
            .put_request(
                PutRequest::builder()
                    .item("pk", AttributeValue::S(format!("item-{n}")))
                    .build()
                    .unwrap(),
            )
            .build()
    }

    #[tokio::test(start_paused = true)]
    async fn chunks_to_25_and_resends_leftovers_until_all_are_written() {
        let calls: Mutex<Vec<usize>> = Mutex::new(Vec::new());
        let written: Mutex<Vec<WriteRequest>> = Mutex::new(Vec::new());
        let requests: Vec<_> = (0..60).map(put).collect();
        write_all_with_retry(requests, |chunk| {
            let mut calls = calls.lock().unwrap();
            calls.push(chunk.len());
            // The first two calls leave their last 3 requests unprocessed.
            let leftovers = if calls.len() <= 2 {
                chunk[chunk.len() - 3..].to_vec()
            } else {
                vec![]
            };
            let done = chunk.len() - leftovers.len();
            written.lock().unwrap().extend(chunk.into_iter().take(done));
            async move { Ok(leftovers) }
        })
        .await
        .unwrap();
        let calls = calls.into_inner().unwrap();
        assert!(calls.iter().all(|n| *n <= BATCH_LIMIT), "{calls:?}");
        assert_eq!(calls, [25, 25, 10, 6]);
        let mut keys: Vec<_> = written
            .into_inner()
            .unwrap()
            .iter()
            .map(|r| {
                r.put_request().unwrap().item()["pk"]
                    .as_s()
                    .unwrap()
                    .clone()
            })
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 60, "every request written exactly once");
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_with_an_error_when_leftovers_never_clear() {
        let result = write_all_with_retry(vec![put(1)], |chunk| async move { Ok(chunk) }).await;
        assert!(matches!(result, Err(StoreError::Unavailable(_))));
    }
}
