//! Wire shapes of the outbound-webhook routes.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use vitasync_domain::announce::webhooks::{
    Attempt, Delivery, DeliveryStatus, EndpointStatus, EventType, WebhookEndpoint,
};
use vitasync_domain::kernel::time::Timestamp;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where events are POSTed: https (plain http only to a loopback address on the local host).
    pub url: String,
    /// Event types to receive: `user.created`, `user.deleted`, `connection.created`,
    /// `connection.reauthenticated`, `connection.error`, `connection.disconnected`,
    /// `sync.completed`, `sync.failed`, `data.updated`; `["*"]` or left out: every event
    /// type, present and future.
    #[serde(default)]
    pub events: Vec<String>,
    pub description: Option<String>,
    /// On unless `false`.
    pub enabled: Option<bool>,
}

/// A field that may be absent (unchanged), `null` (cleared) or set.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWebhook {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// An endpoint's event types as the API names them: `["*"]` for every one.
fn event_names(events: &[EventType]) -> Vec<&'static str> {
    if events.is_empty() {
        return vec![vitasync_domain::announce::webhooks::ALL_EVENTS];
    }
    events.iter().map(|event| event.as_str()).collect()
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookBody {
    pub id: String,
    pub url: String,
    pub events: Vec<&'static str>,
    pub description: Option<String>,
    pub enabled: bool,
    /// `active`, or `failing` when the last delivery used up its retries.
    pub status: &'static str,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<WebhookEndpoint> for WebhookBody {
    fn from(endpoint: WebhookEndpoint) -> Self {
        Self {
            id: endpoint.id.to_string(),
            events: event_names(&endpoint.events),
            url: endpoint.url,
            description: endpoint.description,
            enabled: endpoint.enabled,
            status: match endpoint.status {
                EndpointStatus::Active => "active",
                EndpointStatus::Failing => "failing",
            },
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebhookBody {
    #[serde(flatten)]
    pub webhook: WebhookBody,
    /// The `whsec_` signing secret. Shown only now: keep it to verify deliveries.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptBody {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    /// `timeout` or `connection_failed` when it did not answer.
    pub error: Option<String>,
}

impl From<Attempt> for AttemptBody {
    fn from(attempt: Attempt) -> Self {
        Self {
            at: attempt.at,
            status_code: attempt.status_code,
            latency_ms: attempt.latency_ms,
            error: attempt.error,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryBody {
    pub id: String,
    /// The `webhook-id` header sent with every attempt.
    pub message_id: String,
    pub event_type: &'static str,
    /// `pending`, `succeeded`, or `failed` (every retry used up).
    pub status: &'static str,
    pub attempts: Vec<AttemptBody>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The exact body POSTed.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

impl From<Delivery> for DeliveryBody {
    fn from(delivery: Delivery) -> Self {
        Self {
            message_id: delivery.message_id(),
            id: delivery.id.to_string(),
            event_type: delivery.event_type.as_str(),
            status: match delivery.status {
                DeliveryStatus::Pending => "pending",
                DeliveryStatus::Succeeded => "succeeded",
                DeliveryStatus::Failed => "failed",
            },
            attempts: delivery
                .attempts
                .into_iter()
                .map(AttemptBody::from)
                .collect(),
            next_attempt_at: delivery.next_attempt_at,
            created_at: delivery.created_at,
            payload: serde_json::from_str(&delivery.payload).unwrap_or(serde_json::Value::Null),
        }
    }
}
