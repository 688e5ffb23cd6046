//! The local host's sync worker: a background task taking jobs off the embedded queue, as the
//! sync-worker Lambda function does from SQS on AWS.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use vitasync_domain::DomainError;
use vitasync_domain::announce::delivery::Deliveries;
use vitasync_domain::announce::relay::Relay;
use vitasync_domain::kernel::queue::JobQueue;
use vitasync_domain::sync::SyncScheduler;
use vitasync_domain::worker::JobWorker;

/// How long a message may be worked on before it is delivered again.
const VISIBILITY: Duration = Duration::from_secs(300);
/// How often an empty queue is looked at.
const POLL: Duration = Duration::from_millis(250);

/// Runs sync jobs until `stop` turns true.
pub async fn run(worker: JobWorker, queue: Arc<dyn JobQueue>, stop: watch::Receiver<bool>) {
    drain(queue, stop, "job", move |body| {
        let worker = worker.clone();
        async move { worker.process_message(&body).await }
    })
    .await;
}

/// Sends outbound webhooks until `stop` turns true (the deliver function does this on AWS).
pub async fn deliver(
    deliveries: Deliveries,
    queue: Arc<dyn JobQueue>,
    stop: watch::Receiver<bool>,
) {
    drain(queue, stop, "delivery", move |body| {
        let deliveries = deliveries.clone();
        async move { deliveries.process_delivery_message(&body).await }
    })
    .await;
}

/// Takes messages off `queue` until `stop` turns true. A message that cannot be processed (the
/// store is down, the message is unreadable) is left to be delivered again, and after the
/// queue's receive limit it moves to the dead-letter queue.
async fn drain<F, Fut>(
    queue: Arc<dyn JobQueue>,
    mut stop: watch::Receiver<bool>,
    kind: &'static str,
    handle: F,
) where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), DomainError>>,
{
    loop {
        if *stop.borrow() {
            return;
        }
        let messages = match queue.receive(4, VISIBILITY).await {
            Ok(messages) => messages,
            Err(err) => {
                tracing::error!(kind, error = %err, "the queue failed");
                Vec::new()
            }
        };
        if messages.is_empty() {
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep(POLL) => {}
            }
            continue;
        }
        for message in messages {
            match handle(message.body).await {
                Ok(()) => {
                    if let Err(err) = queue.delete(&message.receipt).await {
                        tracing::warn!(kind, error = %err, "a handled message was not deleted");
                    }
                }
                Err(err) => tracing::warn!(
                    kind,
                    message_id = %message.id,
                    error = %err,
                    "a message failed; it will be delivered again"
                ),
            }
        }
    }
}

/// How often the outbox is looked at when it was empty.
const RELAY_POLL: Duration = Duration::from_millis(100);

/// Carries out what committed changes wrote to the outbox until `stop` turns true (the
/// table's stream and the relay function do this on AWS). Entries left by a crash are relayed
/// at start.
pub async fn relay(relay: Relay, mut stop: watch::Receiver<bool>) {
    loop {
        let quiet = match relay.drain().await {
            Ok(round) => round.relayed == 0,
            Err(err) => {
                tracing::error!(error = %err, "the outbox could not be read");
                true
            }
        };
        if *stop.borrow() {
            return;
        }
        if quiet {
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep(RELAY_POLL) => {}
            }
        }
    }
}

/// How often the local host's scheduler looks for connections due for a sync.
const SCHEDULER_TICK: Duration = Duration::from_secs(60);

/// The local host's scheduler: every minute, queues a sync of each active connection whose
/// last sync is older than the poll interval (the EventBridge schedule does this on AWS).
pub async fn schedule(scheduler: SyncScheduler, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(SCHEDULER_TICK) => {}
        }
        if *stop.borrow() {
            return;
        }
        if let Err(err) = scheduler.queue_due_syncs().await {
            tracing::error!(error = %err, "the scheduler's round failed; the next one retries");
        }
    }
}
