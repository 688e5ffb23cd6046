//! Managing webhook endpoints (admin scope): register, list, change, remove, send a test event,
//! and look at deliveries.

use crate::announce::destinations::DestinationPolicy;
use crate::announce::dispatch::{Dispatcher, message_entry};
use crate::announce::webhooks::{
    Delivery, DeliveryId, DeliveryStatus, EndpointStatus, EventType, WebhookEndpoint, WebhookId,
    generate_signing_secret, parse_event_types, validate_endpoint_url,
};
use crate::kernel::error::DomainError;
use crate::kernel::page::{Page, PageRequest};
use crate::kernel::scope::Scope;
use crate::kernel::secrets::EncryptionContext;
use crate::kernel::secrets::Vault;
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::WebhookStore;
use crate::tenancy::api_key::Principal;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

const MAX_DESCRIPTION_CHARS: usize = 500;

/// `POST /v1/webhooks`
#[derive(Debug, Clone, Default)]
pub struct EndpointDraft {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// `PATCH /v1/webhooks/{id}`: only the fields given change.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

fn validate_description(description: &Option<String>) -> Result<Option<String>, DomainError> {
    match description.as_deref().map(str::trim) {
        Some(text) if text.chars().count() > MAX_DESCRIPTION_CHARS => Err(DomainError::validation(
            "description",
            "is longer than 500 characters",
        )),
        Some("") | None => Ok(None),
        Some(text) => Ok(Some(text.to_owned())),
    }
}

/// A workspace's webhook endpoints (admin): URLs checked against where deliveries may go,
/// signing secrets sealed in the vault, test events and resends announced.
#[derive(Clone)]
pub struct WebhookEndpoints {
    webhooks: Arc<dyn WebhookStore>,
    vault: Vault,
    destinations: DestinationPolicy,
    dispatcher: Dispatcher,
    clock: Arc<dyn Clock>,
}

impl WebhookEndpoints {
    pub fn new(
        webhooks: Arc<dyn WebhookStore>,
        vault: Vault,
        destinations: DestinationPolicy,
        dispatcher: Dispatcher,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            webhooks,
            vault,
            destinations,
            dispatcher,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Registers an endpoint; the signing secret is returned this once and stored sealed.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id))]
    pub async fn create_endpoint(
        &self,
        caller: &Principal,
        draft: EndpointDraft,
    ) -> Result<(WebhookEndpoint, SecretString), DomainError> {
        caller.require(Scope::Admin)?;
        let url = validate_endpoint_url(&draft.url, &self.destinations)?;
        let events = parse_event_types(&draft.events)?;
        let description = validate_description(&draft.description)?;
        let id = WebhookId::generate();
        let secret = generate_signing_secret();
        let context =
            EncryptionContext::new(&caller.workspace_id, WebhookEndpoint::secret_owner(&id));
        let sealed = self
            .vault
            .seal(secret.expose_secret().as_bytes(), &context)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "sealing a webhook secret failed");
                DomainError::Unavailable("the key service")
            })?;
        let now = self.now();
        let endpoint = WebhookEndpoint {
            id,
            workspace_id: caller.workspace_id.clone(),
            url,
            events,
            description,
            enabled: draft.enabled.unwrap_or(true),
            status: EndpointStatus::Active,
            secret: sealed,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        self.webhooks.insert_endpoint(&endpoint).await?;
        tracing::info!(webhook_id = %endpoint.id, "webhook endpoint registered");
        Ok((endpoint, secret))
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id))]
    pub async fn list_endpoints(
        &self,
        caller: &Principal,
    ) -> Result<Vec<WebhookEndpoint>, DomainError> {
        // Reading endpoints and deliveries is for any key (no secret is in them); changing
        // them is for admins.
        caller.require(Scope::Read)?;
        Ok(self.webhooks.list_endpoints(&caller.workspace_id).await?)
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, id = %id))]
    pub async fn get_endpoint(
        &self,
        caller: &Principal,
        id: &str,
    ) -> Result<WebhookEndpoint, DomainError> {
        caller.require(Scope::Read)?;
        self.find_endpoint(caller, id).await
    }

    /// The endpoint, for an admin about to change it or act on it.
    async fn endpoint_to_manage(
        &self,
        caller: &Principal,
        id: &str,
    ) -> Result<WebhookEndpoint, DomainError> {
        caller.require(Scope::Admin)?;
        self.find_endpoint(caller, id).await
    }

    async fn find_endpoint(
        &self,
        caller: &Principal,
        id: &str,
    ) -> Result<WebhookEndpoint, DomainError> {
        let id = WebhookId::parse(id).ok_or(DomainError::NotFound("webhook"))?;
        self.webhooks
            .get_endpoint(&caller.workspace_id, &id)
            .await?
            .ok_or(DomainError::NotFound("webhook"))
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, id = %id))]
    pub async fn update_endpoint(
        &self,
        caller: &Principal,
        id: &str,
        patch: EndpointPatch,
    ) -> Result<WebhookEndpoint, DomainError> {
        let current = self.endpoint_to_manage(caller, id).await?;
        let url = match &patch.url {
            Some(url) => validate_endpoint_url(url, &self.destinations)?,
            None => current.url.clone(),
        };
        let events = match &patch.events {
            Some(events) => parse_event_types(events)?,
            None => current.events.clone(),
        };
        let description = match &patch.description {
            Some(description) => validate_description(description)?,
            None => current.description.clone(),
        };
        let enabled = patch.enabled.unwrap_or(current.enabled);
        let updated = WebhookEndpoint {
            url,
            events,
            description,
            enabled,
            // Turning an endpoint back on, or pointing it elsewhere, starts it afresh.
            status: if patch.url.is_some() || (enabled && !current.enabled) {
                EndpointStatus::Active
            } else {
                current.status
            },
            updated_at: self.now(),
            version: current.version + 1,
            ..current
        };
        if self.webhooks.update_endpoint(&updated).await? {
            Ok(updated)
        } else {
            Err(DomainError::Conflict(
                "the webhook changed meanwhile; read it again and retry".into(),
            ))
        }
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, id = %id))]
    pub async fn delete_endpoint(&self, caller: &Principal, id: &str) -> Result<(), DomainError> {
        caller.require(Scope::Admin)?;
        let id = WebhookId::parse(id).ok_or(DomainError::NotFound("webhook"))?;
        if self
            .webhooks
            .delete_endpoint(&caller.workspace_id, &id)
            .await?
        {
            Ok(())
        } else {
            Err(DomainError::NotFound("webhook"))
        }
    }

    /// Queues a `webhook.test` event to this one endpoint, enabled or not.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, id = %id))]
    pub async fn test_endpoint(
        &self,
        caller: &Principal,
        id: &str,
    ) -> Result<Delivery, DomainError> {
        let endpoint = self.endpoint_to_manage(caller, id).await?;
        let data = serde_json::json!({ "webhookId": endpoint.id });
        let event = self.dispatcher.new_event(EventType::WebhookTest, data)?;
        self.dispatcher.deliver_once(&endpoint, &event).await
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, id = %id))]
    pub async fn list_deliveries(
        &self,
        caller: &Principal,
        id: &str,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, DomainError> {
        let endpoint = self.get_endpoint(caller, id).await?;
        Ok(self
            .webhooks
            .list_deliveries(&caller.workspace_id, &endpoint.id, page)
            .await?)
    }

    /// Sends a delivery again from the start of the retry schedule (after the receiver is
    /// fixed, say). A delivery still pending is answered as it is.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, id = %id))]
    pub async fn resend_delivery(
        &self,
        caller: &Principal,
        id: &str,
        delivery_id: &str,
    ) -> Result<Delivery, DomainError> {
        let endpoint = self.endpoint_to_manage(caller, id).await?;
        let delivery_id =
            DeliveryId::parse(delivery_id).ok_or(DomainError::NotFound("delivery"))?;
        let delivery = self
            .webhooks
            .get_delivery(&caller.workspace_id, &endpoint.id, &delivery_id)
            .await?
            .ok_or(DomainError::NotFound("delivery"))?;
        if delivery.status == DeliveryStatus::Pending {
            return Ok(delivery);
        }
        let resent = Delivery {
            status: DeliveryStatus::Pending,
            round_attempts: 0,
            next_attempt_at: Some(self.now()),
            version: delivery.version + 1,
            ..delivery
        };
        let queued = message_entry(&resent, self.now())?;
        if !self.webhooks.update_delivery(&resent, &[queued]).await? {
            return Err(DomainError::Conflict(
                "the delivery changed meanwhile; read it again and retry".into(),
            ));
        }
        Ok(resent)
    }
}
