//! The outbox: what a change must have happen once it is committed (an event announced, a job
//! queued), written in the change's own transaction. A relay carries each entry out at least
//! once and then removes it; nothing is lost between a commit and a queue.

use crate::kernel::error::StoreError;
use crate::kernel::ids::{WorkspaceId, next_ulid};
use crate::kernel::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One thing to carry out after a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    /// A ULID; for an event, the event's id (receivers see it as `webhook-id`).
    pub id: String,
    pub workspace_id: WorkspaceId,
    /// When the relay should carry it out (at once, for everything today).
    pub due_at: Timestamp,
    pub action: OutboxAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum OutboxAction {
    /// Announce an event: one delivery per endpoint of the workspace that listens for it.
    #[serde(rename_all = "camelCase")]
    Event {
        event_type: String,
        /// The exact body receivers get.
        payload: String,
    },
    /// Send `body` to the job queue.
    Job { body: String },
    /// Send `body` to the delivery queue (a delivery made or reopened outside the relay).
    Delivery { body: String },
}

impl OutboxEntry {
    /// An entry due at `due_at` (now, for most), with a fresh id.
    pub fn new(workspace_id: WorkspaceId, due_at: Timestamp, action: OutboxAction) -> Self {
        Self {
            id: next_ulid().to_string(),
            workspace_id,
            due_at,
            action,
        }
    }

    /// What the relay logs of it: never the payload.
    pub fn kind(&self) -> &'static str {
        match self.action {
            OutboxAction::Event { .. } => "event",
            OutboxAction::Job { .. } => "job",
            OutboxAction::Delivery { .. } => "delivery",
        }
    }
}

/// Where entries wait for the relay. Entries written with a change go through that change's
/// store method (one transaction); `append` is for work that has no other write.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    async fn append(&self, entries: &[OutboxEntry]) -> Result<(), StoreError>;
    /// Entries due at or before `before`, oldest first.
    async fn due_entries(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError>;
    /// Removes a carried-out entry; removing one already gone is no fault.
    async fn remove_entry(&self, entry: &OutboxEntry) -> Result<(), StoreError>;
}
