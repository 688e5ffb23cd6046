//! The job queue on SQS. Lambda receives from it in production (see `consumer`); `receive`,
//! `delete` and `retry_after` serve pollers outside Lambda and the contract tests.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{MessageSystemAttributeName, SendMessageBatchRequestEntry};
use std::time::Duration;
use vitasync_domain::kernel::queue::{JobQueue, MAX_DELAY, Outgoing, QueueError, Received};

/// SQS's limit on messages per batch call and per receive.
const SQS_BATCH: usize = 10;
/// Entries SQS reports as failed in a batch are resent this many times.
const SEND_ATTEMPTS: u32 = 5;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dead_letter_url: Option<String>,
}

fn unavailable<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>(
    err: aws_sdk_sqs::error::SdkError<E, R>,
) -> QueueError {
    QueueError::Unavailable(DisplayErrorContext(err).to_string())
}

fn seconds(duration: Duration) -> i32 {
    i32::try_from(duration.min(MAX_DELAY).as_secs()).unwrap_or(i32::MAX)
}

impl SqsQueue {
    pub fn new(
        client: Client,
        queue_url: impl Into<String>,
        dead_letter_url: Option<String>,
    ) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            dead_letter_url,
        }
    }

    async fn receive_from(
        &self,
        url: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        let output = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(i32::try_from(max.clamp(1, SQS_BATCH)).unwrap_or(1))
            .visibility_timeout(i32::try_from(visibility.as_secs()).unwrap_or(i32::MAX))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|message| Received {
                receive_count: message
                    .attributes()
                    .and_then(|attrs| {
                        attrs.get(&MessageSystemAttributeName::ApproximateReceiveCount)
                    })
                    .and_then(|count| count.parse().ok())
                    .unwrap_or(1),
                id: message.message_id.unwrap_or_default(),
                receipt: message.receipt_handle.unwrap_or_default(),
                body: message.body.unwrap_or_default(),
            })
            .collect())
    }
}

/// A batch request takes at most 10 messages and 256 KB of bodies in all.
const SQS_BATCH_BYTES: usize = 256 * 1024;

/// `messages` cut into runs SendMessageBatch accepts, in order.
fn batches(messages: &[Outgoing]) -> Vec<&[Outgoing]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, message) in messages.iter().enumerate() {
        let size = message.body.len();
        if index > start && (index - start == SQS_BATCH || bytes + size > SQS_BATCH_BYTES) {
            out.push(&messages[start..index]);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < messages.len() {
        out.push(&messages[start..]);
    }
    out
}

#[async_trait]
impl JobQueue for SqsQueue {
    #[tracing::instrument(skip_all)]
    async fn send(&self, message: Outgoing) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(message.body)
            .delay_seconds(seconds(message.delay))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn send_batch(&self, messages: Vec<Outgoing>) -> Result<(), QueueError> {
        for chunk in batches(&messages) {
            let mut pending: Vec<(String, &Outgoing)> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| (i.to_string(), m))
                .collect();
            let mut attempt = 0;
            while !pending.is_empty() {
                let entries = pending
                    .iter()
                    .map(|(id, message)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(id)
                            .message_body(&message.body)
                            .delay_seconds(seconds(message.delay))
                            .build()
                            .map_err(|err| QueueError::Unavailable(err.to_string()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let output = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(unavailable)?;
                let failed: Vec<String> = output.failed.iter().map(|f| f.id.clone()).collect();
                pending.retain(|(id, _)| failed.contains(id));
                attempt += 1;
                if !pending.is_empty() && attempt >= SEND_ATTEMPTS {
                    return Err(QueueError::Unavailable(format!(
                        "{} messages were refused by SQS",
                        pending.len()
                    )));
                }
            }
        }
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Received>, QueueError> {
        self.receive_from(&self.queue_url, max, visibility).await
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(seconds(delay))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn dead_letters(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        match &self.dead_letter_url {
            Some(url) => self.receive_from(url, max, visibility).await,
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_ten_messages_and_256_kb() {
        let small: Vec<Outgoing> = (0..23).map(|n| Outgoing::now(n.to_string())).collect();
        let sizes: Vec<usize> = batches(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10, 10, 3]);
        let large: Vec<Outgoing> = (0..5)
            .map(|_| Outgoing::now("x".repeat(200 * 1024)))
            .collect();
        let sizes: Vec<usize> = batches(&large).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [1, 1, 1, 1, 1]);
        assert!(batches(&[]).is_empty());
    }
}
