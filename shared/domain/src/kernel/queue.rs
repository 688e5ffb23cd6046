//! The job queue port: durable messages with delays, redelivery and a dead-letter queue.
//! SQS on AWS (where Lambda does the receiving); an on-disk queue on the local host.

use async_trait::async_trait;
use std::future::Future;
use std::time::Duration;
use thiserror::Error;

/// The longest delay a single send can ask for (SQS's limit). Longer waits are made of
/// several hops by the caller.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    /// The receipt is unknown or stale (the message was redelivered or already deleted).
    #[error("unknown or stale receipt")]
    StaleReceipt,
}

/// A message to send, and how long to keep it invisible first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub body: String,
    pub delay: Duration,
}

impl Outgoing {
    pub fn now(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub id: String,
    /// Names this receipt of the message; needed to delete it or change its visibility.
    pub receipt: String,
    pub body: String,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
}

#[async_trait]
pub trait JobQueue: Send + Sync {
    async fn send(&self, message: Outgoing) -> Result<(), QueueError>;
    /// Sends all of them (in as many requests as the backend needs); fails if any is left unsent.
    async fn send_batch(&self, messages: Vec<Outgoing>) -> Result<(), QueueError>;
    /// Up to `max` visible messages, each hidden for `visibility` unless deleted. A message
    /// received more often than the queue allows goes to the dead-letter queue instead.
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Received>, QueueError>;
    /// Done with it: the message is gone.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;
    /// Not done: show the message again after `delay`.
    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError>;
    /// Messages that were given up on, for inspection (each hidden for `visibility`).
    async fn dead_letters(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError>;
}

/// Runs `handle` on every message of a batch independently and returns the ids of those that
/// failed, so one bad message never fails its neighbours (SQS partial batch responses).
pub async fn process_batch<M, F, Fut, E>(
    messages: Vec<M>,
    id_of: impl Fn(&M) -> String,
    handle: F,
) -> Vec<String>
where
    F: Fn(M) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    use tracing::Instrument;
    let mut failed = Vec::new();
    for message in messages {
        let id = id_of(&message);
        // One span per message: everything its handling logs carries the message id.
        let span = tracing::info_span!("message", message_id = %id);
        if let Err(err) = handle(message).instrument(span.clone()).await {
            span.in_scope(|| {
                tracing::warn!(error = %err, "message failed; it will be retried");
            });
            failed.push(id);
        }
    }
    failed
}
