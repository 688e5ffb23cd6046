//! The deliver worker: one attempt per queue message. A failed attempt becomes a delayed
//! message for the next one; after the last, the message goes to the dead-letter queue and the
//! endpoint is marked failing.

use crate::announce::dispatch::{delivery_message, message_entry, queue_delivery};
use crate::announce::webhooks::{
    Attempt, DELIVERY_TIMEOUT, Delivery, DeliveryMessage, DeliveryStatus, EndpointStatus,
    PostOutcome, WebhookEndpoint, WebhookSender, retry_delay, sign,
};
use crate::kernel::error::{DomainError, StoreError};
use crate::kernel::queue::{JobQueue, Outgoing};
use crate::kernel::secrets::{EncryptionContext, Vault};
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::WebhookStore;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a worker holds a delivery while it sends it, so a duplicate message does not send
/// it twice at once.
const LEASE_SECONDS: i64 = 60;

/// A message this close to its delivery's due time is sent rather than put back.
const EARLY_TOLERANCE_SECONDS: i64 = 1;

/// Sends queued deliveries: opens the endpoint's signing secret, calls the receiver, records
/// the attempt, queues the next one or dead-letters the hopeless.
#[derive(Clone)]
pub struct Deliveries {
    webhooks: Arc<dyn WebhookStore>,
    sender: Arc<dyn WebhookSender>,
    vault: Vault,
    /// Where the next attempt is queued, delayed.
    queue: Arc<dyn JobQueue>,
    dead_letters: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
}

impl Deliveries {
    pub fn new(
        webhooks: Arc<dyn WebhookStore>,
        sender: Arc<dyn WebhookSender>,
        vault: Vault,
        queue: Arc<dyn JobQueue>,
        dead_letters: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            webhooks,
            sender,
            vault,
            queue,
            dead_letters,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Handles one delivery message. `Err` when it should be received again (a store outage,
    /// an unreadable message, which ends in the dead-letter queue).
    #[tracing::instrument(skip_all)]
    pub async fn process_delivery_message(&self, body: &str) -> Result<(), DomainError> {
        let message: DeliveryMessage = serde_json::from_str(body)
            .map_err(|_| DomainError::validation("message", "is not a delivery message"))?;
        let store = &self.webhooks;
        let Some(delivery) = store
            .get_delivery(
                &message.workspace_id,
                &message.endpoint_id,
                &message.delivery_id,
            )
            .await?
        else {
            // Its endpoint was removed.
            return Ok(());
        };
        if delivery.status != DeliveryStatus::Pending {
            return Ok(());
        }
        let now = self.now();
        if let Some(due) = delivery.next_attempt_at
            && due.millis() > now.plus_seconds(EARLY_TOLERANCE_SECONDS).millis()
        {
            // A wait longer than the queue's longest delay is made of several hops.
            let remaining = Duration::from_millis((due.millis() - now.millis()).unsigned_abs());
            return queue_delivery(self.queue.as_ref(), &delivery, remaining).await;
        }
        let Some(endpoint) = store
            .get_endpoint(&delivery.workspace_id, &delivery.endpoint_id)
            .await?
        else {
            return Ok(());
        };
        if !endpoint.enabled
            && delivery.event_type != crate::announce::webhooks::EventType::WebhookTest
        {
            let dropped = Delivery {
                status: DeliveryStatus::Failed,
                next_attempt_at: None,
                version: delivery.version + 1,
                ..delivery
            };
            store.update_delivery(&dropped, &[]).await?;
            return Ok(());
        }
        let leased = Delivery {
            next_attempt_at: Some(now.plus_seconds(LEASE_SECONDS)),
            version: delivery.version + 1,
            ..delivery
        };
        if !store.update_delivery(&leased, &[]).await? {
            // A duplicate message: another worker has this attempt.
            return Ok(());
        }
        let attempt = self.attempt(&endpoint, &leased).await?;
        let succeeded = attempt.succeeded();
        if succeeded {
            tracing::info!(
                delivery_id = %leased.id,
                webhook_id = %endpoint.id,
                status_code = attempt.status_code,
                latency_ms = attempt.latency_ms,
                "webhook delivered"
            );
        } else {
            // Why, for whoever reads the logs: the receiver's status, or what kept it from
            // answering.
            tracing::warn!(
                delivery_id = %leased.id,
                webhook_id = %endpoint.id,
                status_code = attempt.status_code,
                reason = attempt.error.as_deref().unwrap_or("the receiver refused it"),
                latency_ms = attempt.latency_ms,
                "a webhook delivery attempt failed"
            );
        }
        let round_attempts = leased.round_attempts + 1;
        let mut attempts = leased.attempts.clone();
        attempts.push(attempt);
        let next_delay = (!succeeded).then(|| retry_delay(round_attempts)).flatten();
        let status = match (succeeded, next_delay) {
            (true, _) => DeliveryStatus::Succeeded,
            (false, Some(_)) => DeliveryStatus::Pending,
            (false, None) => DeliveryStatus::Failed,
        };
        let recorded = Delivery {
            status,
            attempts,
            round_attempts,
            next_attempt_at: next_delay.map(|delay| {
                self.now()
                    .plus_seconds(i64::try_from(delay.as_secs()).unwrap_or(i64::MAX / 2))
            }),
            version: leased.version + 1,
            ..leased
        };
        // The next attempt's message commits with the record of this one; a dead letter goes
        // out first, so a crash before the record repeats it rather than losing it.
        let next_message = match recorded.next_attempt_at {
            Some(due) => vec![message_entry(&recorded, due)?],
            None => Vec::new(),
        };
        if status == DeliveryStatus::Failed {
            self.dead_letter(&recorded).await?;
        }
        if !store.update_delivery(&recorded, &next_message).await? {
            return Err(
                StoreError::Conflict("the delivery changed while it was sent".into()).into(),
            );
        }
        let health = match status {
            DeliveryStatus::Failed => EndpointStatus::Failing,
            DeliveryStatus::Succeeded => EndpointStatus::Active,
            DeliveryStatus::Pending => return Ok(()),
        };
        self.set_endpoint_status(&endpoint, health).await
    }

    async fn attempt(
        &self,
        endpoint: &WebhookEndpoint,
        delivery: &Delivery,
    ) -> Result<Attempt, DomainError> {
        let context = EncryptionContext::new(
            &endpoint.workspace_id,
            WebhookEndpoint::secret_owner(&endpoint.id),
        );
        let opened = self.vault.open(&endpoint.secret, &context).await.map_err(|err| {
            tracing::error!(error = %err, webhook_id = %endpoint.id, "the signing secret did not open");
            DomainError::Unavailable("the key service")
        })?;
        let secret = SecretString::from(
            String::from_utf8(opened.expose_secret().to_vec())
                .map_err(|_| DomainError::Unavailable("the endpoint's signing secret"))?,
        );
        let at = self.now();
        let timestamp = at.millis().div_euclid(1000);
        let message_id = delivery.message_id();
        let signature = sign(&secret, &message_id, timestamp, &delivery.payload)?;
        let headers = [
            ("webhook-id", message_id),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        let started = Instant::now();
        let outcome = self
            .sender
            .post(&endpoint.url, &headers, &delivery.payload, DELIVERY_TIMEOUT)
            .await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (status_code, error) = match outcome {
            PostOutcome::Answered(code) => (Some(code), None),
            PostOutcome::TimedOut => (None, Some("timeout".to_owned())),
            PostOutcome::Unreachable => (None, Some("connection_failed".to_owned())),
            PostOutcome::Refused => (None, Some("destination_not_allowed".to_owned())),
        };
        Ok(Attempt {
            at,
            status_code,
            latency_ms,
            error,
        })
    }

    async fn dead_letter(&self, delivery: &Delivery) -> Result<(), DomainError> {
        tracing::warn!(delivery_id = %delivery.id, webhook_id = %delivery.endpoint_id, "a delivery used up its retries");
        self.dead_letters
            .send(Outgoing::now(delivery_message(delivery)?))
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "the dead-letter queue failed");
                DomainError::Unavailable("the dead-letter queue")
            })
    }

    async fn set_endpoint_status(
        &self,
        endpoint: &WebhookEndpoint,
        status: EndpointStatus,
    ) -> Result<(), DomainError> {
        let store = &self.webhooks;
        // A concurrent change (an admin's PATCH) is read again; two tries settle it.
        let mut current = endpoint.clone();
        for _ in 0..2 {
            if current.status == status {
                return Ok(());
            }
            let updated = WebhookEndpoint {
                status,
                version: current.version + 1,
                ..current.clone()
            };
            if store.update_endpoint(&updated).await? {
                return Ok(());
            }
            match store
                .get_endpoint(&endpoint.workspace_id, &endpoint.id)
                .await?
            {
                Some(fresh) => current = fresh,
                None => return Ok(()),
            }
        }
        Ok(())
    }
}
