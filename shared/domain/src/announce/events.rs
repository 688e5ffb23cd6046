//! Announcing events. An event is an outbox entry written in the transaction of the change it
//! describes (each such store method takes the entries to write with it); the relay turns it
//! into one delivery per listening endpoint.

use crate::announce::dispatch::event_payload;
use crate::announce::webhooks::EventType;
use crate::kernel::error::DomainError;
use crate::kernel::ids::{ConnectionId, UserId, WorkspaceId};
use crate::kernel::outbox::{OutboxAction, OutboxEntry};
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

/// Makes the outbox entries that announce events; the store write that commits a change
/// commits its entries with it. A service whose work announces events is built with one;
/// there is no silent "off".
#[derive(Clone)]
pub struct Announcer {
    clock: Arc<dyn Clock>,
}

impl Announcer {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
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
}
