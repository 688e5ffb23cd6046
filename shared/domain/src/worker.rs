//! The job queue's worker: each message is a sync job, a piece of data a provider pushed, or a
//! new connection's webhook subscription, handed to the service that does that work. It sits
//! above the sync engine and the inbound pushes so neither calls the other.

use crate::inbound::subscriptions::{SubscribeMessage, WebhookSubscriptions};
use crate::kernel::error::DomainError;
use crate::sync::SyncRunner;
use crate::sync::jobs::JobMessage;
use crate::sync::jobs::PushedData;

/// What the job queue carries.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum QueueWork {
    Job(JobMessage),
    Pushed(PushedData),
    Subscribe(SubscribeMessage),
}

/// Works job-queue messages.
#[derive(Clone)]
pub struct JobWorker {
    runner: SyncRunner,
    subscriptions: WebhookSubscriptions,
}

impl JobWorker {
    pub fn new(runner: SyncRunner, subscriptions: WebhookSubscriptions) -> Self {
        Self {
            runner,
            subscriptions,
        }
    }

    /// Does the work a message names. `Ok` when the message is dealt with; `Err` when it should
    /// be delivered again (a store outage, or a message that cannot be read, which ends in the
    /// dead-letter queue).
    #[tracing::instrument(skip_all)]
    pub async fn process_message(&self, body: &str) -> Result<(), DomainError> {
        match serde_json::from_str::<QueueWork>(body) {
            Ok(QueueWork::Job(message)) => self.runner.run_job(message, body).await,
            Ok(QueueWork::Pushed(data)) => self.runner.store_pushed(data).await,
            Ok(QueueWork::Subscribe(message)) => {
                self.subscriptions.process_subscribe(message).await
            }
            Err(_) => Err(DomainError::validation(
                "message",
                "is not a sync job message",
            )),
        }
    }
}
