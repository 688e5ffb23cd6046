//! Announcing events. An event is an outbox entry: written in the transaction of the change it
//! describes where the change's store method takes one, on its own otherwise; the relay turns
//! it into one delivery per listening endpoint. Announcing never fails the work that caused
//! it: a fault writing a lone entry is logged and the work stands.

use crate::announce::dispatch::event_payload;
use crate::announce::webhooks::EventType;
use crate::kernel::error::DomainError;
use crate::kernel::ids::{ConnectionId, UserId, WorkspaceId};
use crate::kernel::outbox::{OutboxAction, OutboxEntry, OutboxStore};
use crate::kernel::provider::ProviderId;
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::UpsertEntries;
use serde_json::{Value, json};
use std::sync::Arc;

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

/// Announces events through the outbox. A function whose work announces events is built with
/// one; there is no silent "off".
#[derive(Clone)]
pub struct Announcer {
    outbox: Arc<dyn OutboxStore>,
    clock: Arc<dyn Clock>,
}

impl Announcer {
    pub fn new(outbox: Arc<dyn OutboxStore>, clock: Arc<dyn Clock>) -> Self {
        Self { outbox, clock }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The outbox entry announcing an event, for the store method that commits the change it
    /// describes.
    pub fn entry(
        &self,
        workspace: &WorkspaceId,
        event_type: EventType,
        data: Value,
    ) -> Result<OutboxEntry, DomainError> {
        let now = self.now();
        Ok(OutboxEntry::new(
            workspace.clone(),
            now,
            OutboxAction::Event {
                event_type: event_type.as_str().to_owned(),
                payload: event_payload(event_type, now, data)?,
            },
        ))
    }

    /// The outbox entry that queues a job message, for the store method that creates the job.
    pub fn job_entry(&self, workspace: &WorkspaceId, body: String) -> OutboxEntry {
        OutboxEntry::new(workspace.clone(), self.now(), OutboxAction::Job { body })
    }

    /// Announces an event whose change has no store method to carry it: the entry is written
    /// on its own. Faults are logged, never returned.
    #[tracing::instrument(skip_all, fields(workspace_id = %workspace, event_type = event_type.as_str()))]
    pub async fn emit(&self, workspace: &WorkspaceId, event_type: EventType, data: Value) {
        let written = match self.entry(workspace, event_type, data) {
            Ok(entry) => self
                .outbox
                .append(&[entry])
                .await
                .map_err(DomainError::from),
            Err(err) => Err(err),
        };
        if let Err(err) = written {
            tracing::error!(event_type = event_type.as_str(), error = %err, "an event could not be announced");
        }
    }

    /// `connection.disconnected`, with the reason recorded on the connection: the entry the
    /// disconnection writes.
    pub fn disconnected_entry(
        &self,
        connection: impl Into<AboutConnection>,
    ) -> Result<OutboxEntry, DomainError> {
        let connection = connection.into();
        let data = with_fields(
            connection_data(connection.clone()),
            json!({ "reason": connection.status_reason }),
        );
        self.entry(
            &connection.workspace_id,
            EventType::ConnectionDisconnected,
            data,
        )
    }

    /// What a connection's upsert announces: `connection.created` for a new connection,
    /// `connection.reauthenticated` for one connected again.
    pub fn connected_entries(&self) -> Arc<UpsertEntries> {
        let announcer = self.clone();
        Arc::new(move |connection, created| {
            let event = if created {
                EventType::ConnectionCreated
            } else {
                EventType::ConnectionReauthenticated
            };
            match announcer.entry(&connection.workspace_id, event, connection_data(connection)) {
                Ok(entry) => vec![entry],
                Err(err) => {
                    tracing::error!(error = %err, "a connection event could not be written");
                    Vec::new()
                }
            }
        })
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
        let connection = connection.into();
        let workspace_id = connection.workspace_id.clone();
        match self.data_updated_entry(connection, data_types, from, to) {
            Ok(Some(entry)) => self.append_alone(entry).await,
            Ok(None) => {}
            Err(err) => {
                tracing::error!(workspace_id = %workspace_id, error = %err, "data.updated could not be announced");
            }
        }
    }

    /// The `data.updated` entry, for the store method that commits the change; `None` when
    /// nothing changed.
    pub fn data_updated_entry(
        &self,
        connection: impl Into<AboutConnection>,
        data_types: &[&String],
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Option<OutboxEntry>, DomainError> {
        if data_types.is_empty() {
            return Ok(None);
        }
        let connection = connection.into();
        let workspace_id = connection.workspace_id.clone();
        let data = with_fields(
            connection_data(connection),
            json!({ "dataTypes": data_types, "from": from, "to": to }),
        );
        self.entry(&workspace_id, EventType::DataUpdated, data)
            .map(Some)
    }

    async fn append_alone(&self, entry: OutboxEntry) {
        if let Err(err) = self.outbox.append(&[entry]).await {
            tracing::error!(error = %err, "an event could not be announced");
        }
    }
}
