//! The local job queue: durable messages in the store, with delays, visibility timeouts,
//! receive counts and a dead-letter queue, so the local host behaves like SQS with a redrive
//! policy.

use crate::store::{EmbeddedStore, Fault, decode, encode};
use crate::tables::{END, QUEUE_MESSAGES, QUEUE_VISIBILITY};
use async_trait::async_trait;
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use ulid::Ulid;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::queue::{JobQueue, MAX_DELAY, Outgoing, QueueError, Received};

/// A named queue in the embedded store, with its dead-letter queue beside it.
#[derive(Clone)]
pub struct EmbeddedQueue {
    store: EmbeddedStore,
    name: String,
    dead_letter_name: String,
    max_receives: u32,
}

#[derive(Serialize, Deserialize)]
struct Message {
    body: String,
    visible_at: u64,
    receive_count: u32,
    receipt: Option<String>,
    /// Received and being worked on (not deferred by `retry_after`): what a restart reclaims.
    #[serde(default)]
    held: bool,
}

impl EmbeddedStore {
    /// The queue `name`; a message received more than `max_receives` times moves to its
    /// dead-letter queue.
    pub fn queue(&self, name: &str, max_receives: u32) -> EmbeddedQueue {
        EmbeddedQueue {
            store: self.clone(),
            name: name.to_owned(),
            dead_letter_name: format!("{name}.dead-letter"),
            max_receives,
        }
    }
}

impl EmbeddedQueue {
    /// The name of this queue's dead-letter queue (open it with `EmbeddedStore::queue` to put
    /// a message there directly).
    pub fn dead_letter_name(&self) -> String {
        self.dead_letter_name.clone()
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

fn millis(duration: Duration) -> u64 {
    duration.as_millis() as u64
}

fn queue_error(err: StoreError) -> QueueError {
    match err {
        StoreError::Conflict(_) => QueueError::StaleReceipt,
        other => QueueError::Unavailable(other.to_string()),
    }
}

fn stale() -> Fault {
    Fault::Store(StoreError::Conflict("stale receipt".into()))
}

fn put(txn: &WriteTransaction, queue: &str, id: &str, message: &Message) -> Result<(), Fault> {
    txn.open_table(QUEUE_MESSAGES)?
        .insert((queue, id), encode(message)?.as_slice())?;
    txn.open_table(QUEUE_VISIBILITY)?
        .insert((queue, message.visible_at, id), ())?;
    Ok(())
}

/// Removes a message and its visibility entry, returning it.
fn take(txn: &WriteTransaction, queue: &str, id: &str) -> Result<Option<Message>, Fault> {
    let mut messages = txn.open_table(QUEUE_MESSAGES)?;
    let message: Message = match messages.remove((queue, id))? {
        Some(removed) => decode(removed.value())?,
        None => return Ok(None),
    };
    txn.open_table(QUEUE_VISIBILITY)?
        .remove((queue, message.visible_at, id))?;
    Ok(Some(message))
}

/// Splits a receipt into the message id and the receipt nonce.
fn parse_receipt(receipt: &str) -> Option<(String, String)> {
    let (id, nonce) = receipt.split_once('.')?;
    Some((id.to_owned(), nonce.to_owned()))
}

/// Receives from `queue`, moving over-received messages to `dead_letter` when there is one.
fn receive_from(
    txn: &WriteTransaction,
    queue: &str,
    dead_letter: Option<(&str, u32)>,
    max: usize,
    visibility: Duration,
) -> Result<Vec<Received>, Fault> {
    let now = now_millis();
    let ready: Vec<String> = {
        let index = txn.open_table(QUEUE_VISIBILITY)?;
        let mut ids = Vec::new();
        for entry in index.range((queue, 0, "")..=(queue, now, END))? {
            let (key, ()) = entry.map(|(k, v)| (k, v.value()))?;
            ids.push(key.value().2.to_owned());
        }
        ids
    };
    let mut deliveries = Vec::new();
    for id in ready {
        if deliveries.len() >= max {
            break;
        }
        let Some(mut message) = take(txn, queue, &id)? else {
            continue;
        };
        if let Some((dead_queue, max_receives)) = dead_letter
            && message.receive_count >= max_receives
        {
            message.receive_count = 0;
            message.receipt = None;
            message.visible_at = now;
            put(txn, dead_queue, &id, &message)?;
            continue;
        }
        let nonce = Ulid::new().to_string();
        message.receive_count += 1;
        message.receipt = Some(nonce.clone());
        message.visible_at = now + millis(visibility);
        message.held = true;
        put(txn, queue, &id, &message)?;
        deliveries.push(Received {
            receipt: format!("{id}.{nonce}"),
            id,
            body: message.body,
            receive_count: message.receive_count,
        });
    }
    Ok(deliveries)
}

impl EmbeddedQueue {
    /// Makes every message a worker held when the process stopped visible again at once:
    /// the local host is the only consumer of its queues, so at start nobody holds anything
    /// and a crashed job or delivery need not wait out its visibility timeout. Their receive
    /// counts stand (a message that keeps crashing the host still ends as a dead letter).
    pub async fn reclaim_held(&self) -> Result<usize, QueueError> {
        let queue = self.name.clone();
        self.store
            .write(move |txn| {
                let held: Vec<String> = {
                    let messages = txn.open_table(QUEUE_MESSAGES)?;
                    let mut ids = Vec::new();
                    for entry in messages.range((queue.as_str(), "")..=(queue.as_str(), END))? {
                        let (key, value) = entry?;
                        let message: Message = decode(value.value())?;
                        if message.held {
                            ids.push(key.value().1.to_owned());
                        }
                    }
                    ids
                };
                let now = now_millis();
                for id in &held {
                    if let Some(mut message) = take(txn, &queue, id)? {
                        message.visible_at = now;
                        message.held = false;
                        message.receipt = None;
                        put(txn, &queue, id, &message)?;
                    }
                }
                Ok(held.len())
            })
            .await
            .map_err(queue_error)
    }

    async fn change(
        &self,
        receipt: &str,
        apply: impl FnOnce(&WriteTransaction, &str, &str, Message) -> Result<(), Fault> + Send + 'static,
    ) -> Result<(), QueueError> {
        let (id, nonce) = parse_receipt(receipt).ok_or(QueueError::StaleReceipt)?;
        let queue = self.name.clone();
        self.store
            .write(move |txn| {
                let message = take(txn, &queue, &id)?.ok_or_else(stale)?;
                if message.receipt.as_deref() != Some(nonce.as_str()) {
                    return Err(stale());
                }
                apply(txn, &queue, &id, message)
            })
            .await
            .map_err(queue_error)
    }
}

#[async_trait]
impl JobQueue for EmbeddedQueue {
    async fn send(&self, message: Outgoing) -> Result<(), QueueError> {
        self.send_batch(vec![message]).await
    }

    async fn send_batch(&self, messages: Vec<Outgoing>) -> Result<(), QueueError> {
        let queue = self.name.clone();
        self.store
            .write(move |txn| {
                let now = now_millis();
                for outgoing in messages {
                    let message = Message {
                        body: outgoing.body,
                        visible_at: now + millis(outgoing.delay.min(MAX_DELAY)),
                        receive_count: 0,
                        receipt: None,
                        held: false,
                    };
                    put(txn, &queue, &Ulid::new().to_string(), &message)?;
                }
                Ok(())
            })
            .await
            .map_err(queue_error)
    }

    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Received>, QueueError> {
        let (queue, dead, max_receives) = (
            self.name.clone(),
            self.dead_letter_name.clone(),
            self.max_receives,
        );
        self.store
            .write(move |txn| {
                receive_from(txn, &queue, Some((&dead, max_receives)), max, visibility)
            })
            .await
            .map_err(queue_error)
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.change(receipt, |_, _, _, _| Ok(())).await
    }

    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.change(receipt, move |txn, queue, id, mut message| {
            message.visible_at = now_millis() + millis(delay.min(MAX_DELAY));
            message.held = false;
            put(txn, queue, id, &message)
        })
        .await
    }

    async fn dead_letters(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        let dead = self.dead_letter_name.clone();
        self.store
            .write(move |txn| receive_from(txn, &dead, None, max, visibility))
            .await
            .map_err(queue_error)
    }
}
