use crate::outbox::write_entries;
use crate::store::{EmbeddedStore, Fault, conflict, decode, encode};
use crate::tables::{DELIVERIES, END, WEBHOOKS};
use async_trait::async_trait;
use redb::{ReadableTable, WriteTransaction};
use vitasync_domain::StoreError;
use vitasync_domain::announce::webhooks::{Delivery, DeliveryId, WebhookEndpoint, WebhookId};
use vitasync_domain::kernel::ids::WorkspaceId;
use vitasync_domain::kernel::outbox::OutboxEntry;
use vitasync_domain::kernel::page::{Page, PageRequest};
use vitasync_domain::ports::WebhookStore;

fn stored_version_endpoint(
    txn: &WriteTransaction,
    workspace: &str,
    id: &str,
) -> Result<Option<u64>, Fault> {
    let table = txn.open_table(WEBHOOKS)?;
    let found = table.get((workspace, id))?;
    Ok(found
        .map(|item| decode::<WebhookEndpoint>(item.value()))
        .transpose()?
        .map(|endpoint| endpoint.version))
}

fn stored_version_delivery(
    txn: &WriteTransaction,
    delivery: &Delivery,
) -> Result<Option<u64>, Fault> {
    let table = txn.open_table(DELIVERIES)?;
    let found = table.get((
        delivery.workspace_id.as_str(),
        delivery.endpoint_id.as_str(),
        delivery.id.as_str(),
    ))?;
    Ok(found
        .map(|item| decode::<Delivery>(item.value()))
        .transpose()?
        .map(|stored| stored.version))
}

#[async_trait]
impl WebhookStore for EmbeddedStore {
    async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        let endpoint = endpoint.clone();
        self.write(move |txn| {
            let (ws, id) = (endpoint.workspace_id.as_str(), endpoint.id.as_str());
            if stored_version_endpoint(txn, ws, id)?.is_some() {
                return Err(conflict("the webhook id is taken"));
            }
            txn.open_table(WEBHOOKS)?
                .insert((ws, id), encode(&endpoint)?.as_slice())?;
            Ok(())
        })
        .await
    }

    async fn get_endpoint(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read(move |txn| {
            let table = txn.open_table(WEBHOOKS)?;
            let found = table.get((workspace.as_str(), id.as_str()))?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn list_endpoints(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |txn| {
            let table = txn.open_table(WEBHOOKS)?;
            let ws = workspace.as_str();
            let mut endpoints = Vec::new();
            for entry in table.range((ws, "")..(ws, END))? {
                endpoints.push(decode(entry?.1.value())?);
            }
            Ok(endpoints)
        })
        .await
    }

    async fn update_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<bool, StoreError> {
        let endpoint = endpoint.clone();
        self.write(move |txn| {
            let (ws, id) = (endpoint.workspace_id.as_str(), endpoint.id.as_str());
            if stored_version_endpoint(txn, ws, id)? != Some(endpoint.version.saturating_sub(1)) {
                return Ok(false);
            }
            txn.open_table(WEBHOOKS)?
                .insert((ws, id), encode(&endpoint)?.as_slice())?;
            Ok(true)
        })
        .await
    }

    async fn delete_endpoint(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
    ) -> Result<bool, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |txn| {
            let (ws, id) = (workspace.as_str(), id.as_str());
            let removed = txn.open_table(WEBHOOKS)?.remove((ws, id))?.is_some();
            txn.open_table(DELIVERIES)?
                .retain_in((ws, id, "")..(ws, id, END), |_, _| false)?;
            Ok(removed)
        })
        .await
    }

    async fn insert_delivery(
        &self,
        delivery: &Delivery,
        on_insert: &[OutboxEntry],
    ) -> Result<(), StoreError> {
        let (delivery, on_insert) = (delivery.clone(), on_insert.to_vec());
        self.write(move |txn| {
            if stored_version_delivery(txn, &delivery)?.is_some() {
                return Err(conflict("the delivery id is taken"));
            }
            txn.open_table(DELIVERIES)?.insert(
                (
                    delivery.workspace_id.as_str(),
                    delivery.endpoint_id.as_str(),
                    delivery.id.as_str(),
                ),
                encode(&delivery)?.as_slice(),
            )?;
            write_entries(txn, &on_insert)
        })
        .await
    }

    async fn get_delivery(
        &self,
        workspace: &WorkspaceId,
        endpoint: &WebhookId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        let (workspace, endpoint, id) = (workspace.clone(), endpoint.clone(), id.clone());
        self.read(move |txn| {
            let table = txn.open_table(DELIVERIES)?;
            let found = table.get((workspace.as_str(), endpoint.as_str(), id.as_str()))?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn update_delivery(
        &self,
        delivery: &Delivery,
        on_update: &[OutboxEntry],
    ) -> Result<bool, StoreError> {
        let (delivery, on_update) = (delivery.clone(), on_update.to_vec());
        self.write(move |txn| {
            if stored_version_delivery(txn, &delivery)? != Some(delivery.version.saturating_sub(1))
            {
                return Ok(false);
            }
            txn.open_table(DELIVERIES)?.insert(
                (
                    delivery.workspace_id.as_str(),
                    delivery.endpoint_id.as_str(),
                    delivery.id.as_str(),
                ),
                encode(&delivery)?.as_slice(),
            )?;
            write_entries(txn, &on_update)?;
            Ok(true)
        })
        .await
    }

    async fn list_deliveries(
        &self,
        workspace: &WorkspaceId,
        endpoint: &WebhookId,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, StoreError> {
        let (workspace, endpoint, page) = (workspace.clone(), endpoint.clone(), page.clone());
        self.read(move |txn| {
            let table = txn.open_table(DELIVERIES)?;
            let (ws, id) = (workspace.as_str(), endpoint.as_str());
            // Newest first: walk backwards from before the cursor.
            let upper = page.after.clone().unwrap_or_else(|| END.to_owned());
            let mut found = Vec::new();
            for entry in table.range((ws, id, "")..(ws, id, upper.as_str()))?.rev() {
                found.push(decode::<Delivery>(entry?.1.value())?);
                if found.len() > page.limit {
                    break;
                }
            }
            Ok(Page::from_lookahead(found, page.limit, |delivery| {
                delivery.id.to_string()
            }))
        })
        .await
    }
}
