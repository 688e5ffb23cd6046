//! Outbound webhooks: the endpoints a developer registers, the events VitaSync announces, and
//! one delivery of one event to one endpoint, signed as the Standard Webhooks scheme says.

use crate::announce::destinations::DestinationPolicy;
use crate::kernel::error::DomainError;
use crate::kernel::ids::WorkspaceId;
use crate::kernel::secrets::SealedSecret;
use crate::kernel::time::Timestamp;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::time::Duration;

crate::kernel::ids::ulid_id!(
    /// A registered webhook endpoint.
    WebhookId
);
crate::kernel::ids::ulid_id!(
    /// One event, as announced to every endpoint that listens for it.
    EventId
);
crate::kernel::ids::ulid_id!(
    /// One event's delivery to one endpoint; sent as `webhook-id: msg_<id>` on every attempt.
    DeliveryId
);

impl DeliveryId {
    /// The delivery of `event` to `endpoint`: the same id every time the event is relayed, so
    /// a relayed-again event finds its delivery instead of making a second one. It sorts with
    /// the event's time.
    pub fn for_event(event: &EventId, endpoint: &WebhookId) -> Self {
        use sha2::Digest;
        let digest = Sha256::new()
            .chain_update(event.as_str())
            .chain_update(b"/")
            .chain_update(endpoint.as_str())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        let random = u128::from_be_bytes(bytes) >> 48;
        let millis = ulid::Ulid::from_string(event.as_str()).map_or(0, |id| id.timestamp_ms());
        Self(ulid::Ulid::from_parts(millis, random).to_string())
    }
}

/// What VitaSync announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.deleted")]
    UserDeleted,
    #[serde(rename = "connection.created")]
    ConnectionCreated,
    #[serde(rename = "connection.reauthenticated")]
    ConnectionReauthenticated,
    #[serde(rename = "connection.error")]
    ConnectionError,
    #[serde(rename = "connection.disconnected")]
    ConnectionDisconnected,
    #[serde(rename = "sync.completed")]
    SyncCompleted,
    #[serde(rename = "sync.failed")]
    SyncFailed,
    #[serde(rename = "data.updated")]
    DataUpdated,
    /// Sent only by `POST /v1/webhooks/{id}/test`, to that endpoint.
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    /// The events an endpoint can subscribe to.
    pub const SUBSCRIBABLE: [EventType; 9] = [
        EventType::UserCreated,
        EventType::UserDeleted,
        EventType::ConnectionCreated,
        EventType::ConnectionReauthenticated,
        EventType::ConnectionError,
        EventType::ConnectionDisconnected,
        EventType::SyncCompleted,
        EventType::SyncFailed,
        EventType::DataUpdated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserCreated => "user.created",
            EventType::UserDeleted => "user.deleted",
            EventType::ConnectionCreated => "connection.created",
            EventType::ConnectionReauthenticated => "connection.reauthenticated",
            EventType::ConnectionError => "connection.error",
            EventType::ConnectionDisconnected => "connection.disconnected",
            EventType::SyncCompleted => "sync.completed",
            EventType::SyncFailed => "sync.failed",
            EventType::DataUpdated => "data.updated",
            EventType::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::SUBSCRIBABLE
            .into_iter()
            .find(|event| event.as_str() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointStatus {
    Active,
    /// The last delivery used up its retries; the next success makes it active again.
    Failing,
}

/// Where a workspace wants events sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    pub id: WebhookId,
    pub workspace_id: WorkspaceId,
    pub url: String,
    pub events: Vec<EventType>,
    pub description: Option<String>,
    pub enabled: bool,
    pub status: EndpointStatus,
    /// The `whsec_` signing secret, sealed under `webhook:<id>`.
    pub secret: SealedSecret,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Bumped by every update; updates are conditional on it.
    pub version: u64,
}

impl WebhookEndpoint {
    /// Whether it wants `event`: an endpoint with no event types listed takes every one,
    /// present and future.
    pub fn listens_to(&self, event: EventType) -> bool {
        self.enabled && (self.events.is_empty() || self.events.contains(&event))
    }

    /// What the secret is sealed under.
    pub fn secret_owner(id: &WebhookId) -> String {
        format!("webhook:{id}")
    }
}

/// The longest endpoint URL accepted.
const MAX_URL_CHARS: usize = 2048;

/// An endpoint URL must be https to a host the destination policy allows; plain http only to
/// a loopback address, and only where loopback is allowed (the local host, whose receiver is
/// often on the same machine).
pub fn validate_endpoint_url(
    raw: &str,
    destinations: &DestinationPolicy,
) -> Result<String, DomainError> {
    let allow_loopback_http = destinations.allow_loopback;
    let invalid = |message: &str| DomainError::validation("url", message);
    if raw.len() > MAX_URL_CHARS {
        return Err(invalid("is longer than 2048 characters"));
    }
    let url = url::Url::parse(raw.trim()).map_err(|_| invalid("is not an absolute URL"))?;
    if url.username() != "" || url.password().is_some() {
        return Err(invalid("must not carry credentials"));
    }
    let host = url.host().ok_or_else(|| invalid("has no host"))?;
    if !destinations.allows_host(&host) {
        return Err(invalid(
            "must be a public address (not loopback, private, link-local or metadata)",
        ));
    }
    match url.scheme() {
        "https" => Ok(url.into()),
        "http" if allow_loopback_http && crate::announce::destinations::is_loopback(&host) => {
            Ok(url.into())
        }
        "http" if allow_loopback_http => Err(invalid(
            "must be https (plain http only to a loopback address)",
        )),
        _ => Err(invalid("must be https")),
    }
}

/// Every event type, present and future: `["*"]`, or no list at all.
pub const ALL_EVENTS: &str = "*";

/// Event types named by the client, each known, without repeats; none (every event type) for
/// an empty list or `["*"]`.
pub fn parse_event_types(names: &[String]) -> Result<Vec<EventType>, DomainError> {
    if names.iter().any(|name| name == ALL_EVENTS) {
        if names.len() > 1 {
            return Err(DomainError::validation(
                "events",
                "'*' means every event type: list it alone",
            ));
        }
        return Ok(Vec::new());
    }
    let mut events = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let event = EventType::parse(name).ok_or_else(|| {
            DomainError::validation(format!("events[{index}]"), "is not a known event type")
        })?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    events.sort();
    Ok(events)
}

const SECRET_PREFIX: &str = "whsec_";
const SECRET_BYTES: usize = 32;

/// A fresh signing secret in the Standard Webhooks form: `whsec_` and base64 of 32 random bytes.
pub fn generate_signing_secret() -> SecretString {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::fill(&mut bytes);
    SecretString::from(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

/// The `webhook-signature` header value: `v1,` and base64 of HMAC-SHA256 over
/// `<msg id>.<unix seconds>.<body>`, keyed with the secret's decoded bytes.
pub fn sign(
    secret: &SecretString,
    message_id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, DomainError> {
    let encoded = secret
        .expose_secret()
        .strip_prefix(SECRET_PREFIX)
        .unwrap_or(secret.expose_secret());
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| DomainError::Unavailable("the endpoint's signing secret"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| DomainError::Unavailable("the endpoint's signing secret"))?;
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Being sent, or waiting for its next attempt.
    Pending,
    Succeeded,
    /// Every attempt failed; the message went to the dead-letter queue.
    Failed,
}

/// One try at sending a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub at: Timestamp,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    /// `timeout` or `connection_failed` when there was no answer.
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.status_code
            .is_some_and(|code| (200..300).contains(&code))
    }
}

/// One event to one endpoint, with every attempt made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: DeliveryId,
    pub workspace_id: WorkspaceId,
    pub endpoint_id: WebhookId,
    pub event_id: EventId,
    pub event_type: EventType,
    /// The exact body sent on every attempt.
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: Vec<Attempt>,
    /// Attempts since the delivery was (re)sent; the retry schedule counts these.
    pub round_attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub version: u64,
}

impl Delivery {
    /// The `webhook-id` header: the same on every attempt, so receivers can drop repeats.
    pub fn message_id(&self) -> String {
        format!("msg_{}", self.id)
    }
}

/// The message on the delivery queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryMessage {
    pub workspace_id: WorkspaceId,
    pub endpoint_id: WebhookId,
    pub delivery_id: DeliveryId,
}

/// How long a receiver has to answer.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The wait before each retry (the Standard Webhooks schedule): 8 attempts over about 27 hours.
pub const RETRY_DELAYS: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Attempts per round before a delivery is given up.
pub const MAX_ATTEMPTS: u32 = RETRY_DELAYS.len() as u32 + 1;

/// The wait after the `attempts`-th failed attempt of a round; `None` when that was the last.
pub fn retry_delay(attempts: u32) -> Option<Duration> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    RETRY_DELAYS.get(index).copied()
}

/// What an HTTP POST to a receiver came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    Answered(u16),
    TimedOut,
    Unreachable,
    /// The URL's host resolved only to addresses the destination policy refuses; nothing was
    /// sent, and the attempt says no more than that (reachability is not probed).
    Refused,
}

/// Sends signed deliveries over HTTP (reqwest in `vitasync-providers`).
#[async_trait::async_trait]
pub trait WebhookSender: Send + Sync {
    /// POSTs `body` as JSON with `headers`, giving up after `timeout`. Redirects are not
    /// followed: an endpoint answers itself.
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &str,
        timeout: Duration,
    ) -> PostOutcome;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example from the Standard Webhooks specification.
        let secret = SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let body = r#"{"test": 2432232314}"#;
        let signature = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn urls_must_be_https_except_loopback_http_where_allowed() {
        let public = DestinationPolicy::default();
        let local = DestinationPolicy {
            allow_loopback: true,
            allow_private: false,
        };
        assert!(validate_endpoint_url("https://example.com/hook", &public).is_ok());
        assert!(validate_endpoint_url("http://example.com/hook", &public).is_err());
        assert!(validate_endpoint_url("http://127.0.0.1:9000/hook", &public).is_err());
        assert!(validate_endpoint_url("https://127.0.0.1:9000/hook", &public).is_err());
        assert!(validate_endpoint_url("http://127.0.0.1:9000/hook", &local).is_ok());
        assert!(validate_endpoint_url("http://localhost/hook", &local).is_ok());
        assert!(validate_endpoint_url("http://[::1]/hook", &local).is_ok());
        assert!(validate_endpoint_url("http://10.0.0.1/hook", &local).is_err());
        assert!(validate_endpoint_url("https://10.0.0.1/hook", &local).is_err());
        assert!(validate_endpoint_url("https://169.254.169.254/", &local).is_err());
        assert!(validate_endpoint_url("ftp://example.com", &local).is_err());
        assert!(validate_endpoint_url("https://user:pw@example.com", &public).is_err());
    }

    #[test]
    fn the_schedule_makes_eight_attempts_over_about_a_day() {
        let total: Duration = RETRY_DELAYS.iter().sum();
        assert_eq!(MAX_ATTEMPTS, 8);
        assert!(total > Duration::from_secs(24 * 3600) && total < Duration::from_secs(30 * 3600));
        assert_eq!(retry_delay(1), Some(Duration::from_secs(5)));
        assert_eq!(retry_delay(8), None);
    }
}
