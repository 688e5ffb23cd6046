//! Deliveries made and queued: one per endpoint an event goes to, each on the delivery queue
//! for the deliver worker. The relay calls it for announced events; an endpoint's test event
//! and a resend call it directly.

use crate::announce::webhooks::{
    Delivery, DeliveryId, DeliveryMessage, DeliveryStatus, EventId, EventType, WebhookEndpoint,
};
use crate::kernel::error::{DomainError, StoreError};
use crate::kernel::outbox::{OutboxAction, OutboxEntry};
use crate::kernel::queue::{JobQueue, MAX_DELAY, Outgoing};
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::WebhookStore;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// An event about to be delivered: its id and the exact body receivers get.
pub struct NewEvent {
    pub id: EventId,
    pub event_type: EventType,
    pub payload: String,
}

/// The body every receiver gets for an event.
pub fn event_payload(
    event_type: EventType,
    at: Timestamp,
    data: Value,
) -> Result<String, DomainError> {
    let body = json!({
        "type": event_type.as_str(),
        "timestamp": at,
        "data": data,
    });
    Ok(serde_json::to_string(&body).map_err(|err| StoreError::Corrupt(err.to_string()))?)
}

/// Stores deliveries and queues them.
#[derive(Clone)]
pub struct Dispatcher {
    webhooks: Arc<dyn WebhookStore>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
}

impl Dispatcher {
    /// Deliveries stored in `webhooks`, their messages sent to `queue`.
    pub fn new(
        webhooks: Arc<dyn WebhookStore>,
        queue: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            webhooks,
            queue,
            clock,
        }
    }

    pub(crate) fn webhooks(&self) -> &dyn WebhookStore {
        self.webhooks.as_ref()
    }

    /// A fresh event of `event_type` (an endpoint's test event).
    pub(crate) fn new_event(
        &self,
        event_type: EventType,
        data: Value,
    ) -> Result<NewEvent, DomainError> {
        Ok(NewEvent {
            id: EventId::generate(),
            event_type,
            payload: event_payload(event_type, self.clock.now(), data)?,
        })
    }

    /// A pending delivery `id` of `event` to `endpoint`, due now.
    fn pending(&self, endpoint: &WebhookEndpoint, event: &NewEvent, id: DeliveryId) -> Delivery {
        let now = self.clock.now();
        Delivery {
            id,
            workspace_id: endpoint.workspace_id.clone(),
            endpoint_id: endpoint.id.clone(),
            event_id: event.id.clone(),
            event_type: event.event_type,
            payload: event.payload.clone(),
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            round_attempts: 0,
            next_attempt_at: Some(now),
            created_at: now,
            version: 1,
        }
    }

    /// The relay's fan-out: stores a pending delivery `id` of `event` to `endpoint` and queues
    /// it (the relay keeps the event's entry until this succeeds). When the delivery is
    /// already stored (the event relayed again), it is queued again only while it is still
    /// pending: a duplicate message finds its attempt leased and does nothing.
    pub(crate) async fn deliver_to(
        &self,
        endpoint: &WebhookEndpoint,
        event: &NewEvent,
        id: DeliveryId,
    ) -> Result<Delivery, DomainError> {
        let delivery = self.pending(endpoint, event, id);
        let delivery = match self.webhooks.insert_delivery(&delivery, &[]).await {
            Ok(()) => delivery,
            Err(StoreError::Conflict(_)) => {
                let stored = self
                    .webhooks
                    .get_delivery(&delivery.workspace_id, &delivery.endpoint_id, &delivery.id)
                    .await?
                    .ok_or_else(|| StoreError::Conflict("the delivery id is taken".into()))?;
                if stored.status != DeliveryStatus::Pending {
                    return Ok(stored);
                }
                stored
            }
            Err(err) => return Err(err.into()),
        };
        queue_delivery(self.queue.as_ref(), &delivery, Duration::ZERO).await?;
        Ok(delivery)
    }

    /// Stores a fresh delivery of `event` to `endpoint` with its queue message in the outbox,
    /// one transaction (an endpoint's test event).
    pub(crate) async fn deliver_once(
        &self,
        endpoint: &WebhookEndpoint,
        event: &NewEvent,
    ) -> Result<Delivery, DomainError> {
        let delivery = self.pending(endpoint, event, DeliveryId::generate());
        let queued = message_entry(&delivery, self.clock.now())?;
        self.webhooks.insert_delivery(&delivery, &[queued]).await?;
        Ok(delivery)
    }

    /// Sends an outbox entry's delivery message, after what is left of its wait.
    pub(crate) async fn send_message(
        &self,
        body: &str,
        delay: Duration,
    ) -> Result<(), DomainError> {
        self.queue
            .send(Outgoing {
                body: body.to_owned(),
                delay: delay.min(MAX_DELAY),
            })
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "the delivery queue failed");
                DomainError::Unavailable("the delivery queue")
            })
    }
}

/// Puts the delivery's message on `queue`, to be received after `delay` (capped at the
/// queue's longest; the worker sends it on again if it comes early).
pub(crate) async fn queue_delivery(
    queue: &dyn JobQueue,
    delivery: &Delivery,
    delay: Duration,
) -> Result<(), DomainError> {
    let body = delivery_message(delivery)?;
    queue
        .send(Outgoing {
            body,
            delay: delay.min(MAX_DELAY),
        })
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "the delivery queue failed");
            DomainError::Unavailable("the delivery queue")
        })
}

/// The outbox entry that queues `delivery`'s message, due at `due_at`, once the write that
/// makes the delivery pending commits.
pub(crate) fn message_entry(
    delivery: &Delivery,
    due_at: Timestamp,
) -> Result<OutboxEntry, DomainError> {
    Ok(OutboxEntry::new(
        delivery.workspace_id.clone(),
        due_at,
        OutboxAction::Delivery {
            body: delivery_message(delivery)?,
        },
    ))
}

pub(crate) fn delivery_message(delivery: &Delivery) -> Result<String, DomainError> {
    let message = DeliveryMessage {
        workspace_id: delivery.workspace_id.clone(),
        endpoint_id: delivery.endpoint_id.clone(),
        delivery_id: delivery.id.clone(),
    };
    Ok(serde_json::to_string(&message).map_err(|err| StoreError::Corrupt(err.to_string()))?)
}
