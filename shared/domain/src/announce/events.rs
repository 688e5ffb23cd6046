//! Announcing events: each event becomes one delivery per endpoint of its workspace that
//! listens for it, queued for the deliver worker. Announcing never fails the work that caused
//! it; a fault is logged and the work stands.

use crate::announce::webhooks::{
    Delivery, DeliveryId, DeliveryMessage, DeliveryStatus, EventId, EventType, WebhookEndpoint,
};
use crate::kernel::error::{DomainError, StoreError};
use crate::kernel::ids::{ConnectionId, UserId, WorkspaceId};
use crate::kernel::provider::ProviderId;
use crate::kernel::queue::{JobQueue, MAX_DELAY, Outgoing};
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::WebhookStore;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// An event about to be announced: its id and the exact body receivers get.
pub struct NewEvent {
    pub id: EventId,
    pub event_type: EventType,
    pub payload: String,
}

/// The connection an event is about, as far as receivers are told.
#[derive(Debug, Clone)]
pub struct AboutConnection {
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub connection_id: ConnectionId,
    pub provider: ProviderId,
    pub status_reason: Option<String>,
}

/// The `data` of events about one connection.
pub fn connection_data(connection: impl Into<AboutConnection>) -> Value {
    let connection = connection.into();
    json!({
        "userId": connection.user_id,
        "connectionId": connection.connection_id,
        "provider": connection.provider.as_str(),
    })
}

/// `data` with `extra`'s fields added.
pub fn with_fields(mut data: Value, extra: Value) -> Value {
    if let (Value::Object(target), Value::Object(source)) = (&mut data, extra) {
        target.extend(source);
    }
    data
}

/// Announces events: one stored, queued delivery per endpoint that listens. A function whose
/// work announces events is built with one; there is no silent "off".
#[derive(Clone)]
pub struct Announcer {
    webhooks: Arc<dyn WebhookStore>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
}

impl Announcer {
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

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// `connection.disconnected`, with the reason recorded on the connection.
    pub async fn disconnected(&self, connection: impl Into<AboutConnection>) {
        let connection = connection.into();
        let data = with_fields(
            connection_data(connection.clone()),
            json!({ "reason": connection.status_reason }),
        );
        self.emit(
            &connection.workspace_id,
            EventType::ConnectionDisconnected,
            data,
        )
        .await;
    }

    /// `connection.created` for a new connection, `connection.reauthenticated` for one
    /// connected again.
    pub async fn connected(&self, connection: impl Into<AboutConnection>, created: bool) {
        let connection = connection.into();
        let event = if created {
            EventType::ConnectionCreated
        } else {
            EventType::ConnectionReauthenticated
        };
        self.emit(
            &connection.workspace_id.clone(),
            event,
            connection_data(connection),
        )
        .await;
    }

    /// `data.updated`: which data types of which connection changed, over which time range;
    /// enough to query them. Nothing when nothing changed.
    pub async fn data_updated(
        &self,
        connection: impl Into<AboutConnection>,
        data_types: &[&String],
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) {
        if data_types.is_empty() {
            return;
        }
        let connection = connection.into();
        let workspace_id = connection.workspace_id.clone();
        let data = with_fields(
            connection_data(connection),
            json!({ "dataTypes": data_types, "from": from, "to": to }),
        );
        self.emit(&workspace_id, EventType::DataUpdated, data).await;
    }

    pub(crate) fn new_event(
        &self,
        event_type: EventType,
        data: Value,
    ) -> Result<NewEvent, DomainError> {
        let body = json!({
            "type": event_type.as_str(),
            "timestamp": self.now(),
            "data": data,
        });
        let payload =
            serde_json::to_string(&body).map_err(|err| StoreError::Corrupt(err.to_string()))?;
        Ok(NewEvent {
            id: EventId::generate(),
            event_type,
            payload,
        })
    }

    /// Announces an event to every endpoint of `workspace` that listens for it. Faults are
    /// logged, never returned: the work behind the event has happened either way.
    #[tracing::instrument(skip_all, fields(workspace_id = %workspace, event_type = event_type.as_str()))]
    pub async fn emit(&self, workspace: &WorkspaceId, event_type: EventType, data: Value) {
        if let Err(err) = self.try_emit(workspace, event_type, data).await {
            tracing::error!(event_type = event_type.as_str(), error = %err, "an event could not be announced");
        }
    }

    async fn try_emit(
        &self,
        workspace: &WorkspaceId,
        event_type: EventType,
        data: Value,
    ) -> Result<(), DomainError> {
        let endpoints = self.webhooks.list_endpoints(workspace).await?;
        let listening: Vec<_> = endpoints
            .into_iter()
            .filter(|endpoint| endpoint.listens_to(event_type))
            .collect();
        if listening.is_empty() {
            return Ok(());
        }
        let event = self.new_event(event_type, data)?;
        for endpoint in &listening {
            self.deliver_to(endpoint, &event).await?;
        }
        Ok(())
    }

    /// Stores a pending delivery of `event` to `endpoint` and queues it.
    pub(crate) async fn deliver_to(
        &self,
        endpoint: &WebhookEndpoint,
        event: &NewEvent,
    ) -> Result<Delivery, DomainError> {
        let now = self.now();
        let delivery = Delivery {
            id: DeliveryId::generate(),
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
        };
        self.webhooks.insert_delivery(&delivery).await?;
        queue_delivery(self.queue.as_ref(), &delivery, Duration::ZERO).await?;
        Ok(delivery)
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

impl Announcer {
    /// Queues `delivery` for the deliver worker at once (a resend).
    pub(crate) async fn queue_now(&self, delivery: &Delivery) -> Result<(), DomainError> {
        queue_delivery(self.queue.as_ref(), delivery, Duration::ZERO).await
    }
}

pub(crate) fn delivery_message(delivery: &Delivery) -> Result<String, DomainError> {
    let message = DeliveryMessage {
        workspace_id: delivery.workspace_id.clone(),
        endpoint_id: delivery.endpoint_id.clone(),
        delivery_id: delivery.id.clone(),
    };
    Ok(serde_json::to_string(&message).map_err(|err| StoreError::Corrupt(err.to_string()))?)
}
