use super::actions::Condition;
use super::{DynamoStore, Item, TxFailure, contention, from_item, keys, to_item};
use crate::provision::TTL_ATTRIBUTE;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use vitasync_domain::StoreError;
use vitasync_domain::announce::webhooks::{Delivery, DeliveryId, WebhookEndpoint, WebhookId};
use vitasync_domain::kernel::ids::WorkspaceId;
use vitasync_domain::kernel::outbox::OutboxEntry;
use vitasync_domain::kernel::page::{Page, PageRequest};
use vitasync_domain::ports::WebhookStore;

/// Deliveries are kept this long for inspection, then TTL removes them.
const DELIVERY_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

fn endpoint_item(endpoint: &WebhookEndpoint) -> Result<Item, StoreError> {
    to_item(
        endpoint,
        keys::workspace(endpoint.workspace_id.as_str()),
        keys::webhook(endpoint.id.as_str()),
    )
}

fn delivery_item(delivery: &Delivery) -> Result<Item, StoreError> {
    let mut item = to_item(
        delivery,
        keys::deliveries_partition(
            delivery.workspace_id.as_str(),
            delivery.endpoint_id.as_str(),
        ),
        keys::delivery(delivery.id.as_str()),
    )?;
    let expires = delivery
        .created_at
        .plus_seconds(DELIVERY_RETENTION_SECONDS)
        .millis()
        .div_euclid(1000);
    item.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(expires.to_string()));
    Ok(item)
}

impl DynamoStore {
    /// One conditional write; `false` when the condition failed.
    /// Puts `item` if `condition` holds, with `follow_ups` written to the outbox in the same
    /// transaction. `false` when the condition failed.
    pub(crate) async fn put_if(
        &self,
        item: Item,
        condition: Condition,
        follow_ups: &[OutboxEntry],
    ) -> Result<bool, StoreError> {
        let mut actions = vec![self.put(item, condition)?];
        actions.extend(self.entry_puts(follow_ups)?);
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(TxFailure::Condition(_)) => Ok(false),
            Err(TxFailure::Contention) => Err(contention()),
            Err(TxFailure::Store(err)) => Err(err),
        }
    }
}

#[async_trait]
impl WebhookStore for DynamoStore {
    #[tracing::instrument(skip_all)]
    async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        if self
            .put_if(endpoint_item(endpoint)?, Condition::Absent, &[])
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Conflict("the webhook id is taken".into()))
        }
    }

    #[tracing::instrument(skip_all)]
    async fn get_endpoint(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.get(
            keys::workspace(workspace.as_str()),
            keys::webhook(id.as_str()),
        )
        .await?
        .map(from_item)
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn list_endpoints(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.query_prefix(
            &keys::workspace(workspace.as_str()),
            keys::WEBHOOK_PREFIX,
            None,
            None,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn update_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<bool, StoreError> {
        self.put_if(
            endpoint_item(endpoint)?,
            Condition::Version(endpoint.version.saturating_sub(1)),
            &[],
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_endpoint(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
    ) -> Result<bool, StoreError> {
        let deleted = match self
            .transact(vec![self.delete(
                keys::workspace(workspace.as_str()),
                keys::webhook(id.as_str()),
                Condition::Present,
            )?])
            .await
        {
            Ok(()) => true,
            Err(TxFailure::Condition(_)) => false,
            Err(TxFailure::Contention) => return Err(contention()),
            Err(TxFailure::Store(err)) => return Err(err),
        };
        // Deliveries go with it (also after an earlier delete was cut short).
        let pk = keys::deliveries_partition(workspace.as_str(), id.as_str());
        self.delete_prefix(&pk, keys::DELIVERY_PREFIX).await?;
        Ok(deleted)
    }

    #[tracing::instrument(skip_all)]
    async fn insert_delivery(
        &self,
        delivery: &Delivery,
        on_insert: &[OutboxEntry],
    ) -> Result<(), StoreError> {
        if self
            .put_if(delivery_item(delivery)?, Condition::Absent, on_insert)
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Conflict("the delivery id is taken".into()))
        }
    }

    #[tracing::instrument(skip_all)]
    async fn get_delivery(
        &self,
        workspace: &WorkspaceId,
        endpoint: &WebhookId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.get(
            keys::deliveries_partition(workspace.as_str(), endpoint.as_str()),
            keys::delivery(id.as_str()),
        )
        .await?
        .map(from_item)
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn update_delivery(
        &self,
        delivery: &Delivery,
        on_update: &[OutboxEntry],
    ) -> Result<bool, StoreError> {
        self.put_if(
            delivery_item(delivery)?,
            Condition::Version(delivery.version.saturating_sub(1)),
            on_update,
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_deliveries(
        &self,
        workspace: &WorkspaceId,
        endpoint: &WebhookId,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, StoreError> {
        let pk = keys::deliveries_partition(workspace.as_str(), endpoint.as_str());
        let deliveries = self
            .query_prefix_newest_first(
                &pk,
                keys::DELIVERY_PREFIX,
                page.after.as_deref().map(keys::delivery),
                page.limit + 1,
            )
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<Delivery>, _>>()?;
        Ok(Page::from_lookahead(deliveries, page.limit, |delivery| {
            delivery.id.to_string()
        }))
    }
}
