//! Sync jobs: one run of fetching a connection's data for a window, visible to the developer
//! from the moment it is queued until it ends.

use crate::health::DataType;
use crate::kernel::ids::{ConnectionId, UserId, WorkspaceId};
use crate::kernel::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

crate::kernel::ids::ulid_id!(
    /// A sync job's id.
    JobId
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    /// Queued or running: a new trigger for the connection joins this job.
    pub fn is_active(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Running)
    }
}

/// What a job did with one metric's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Records the provider sent.
    pub fetched: u64,
    /// Records stored new or changed.
    pub written: u64,
    /// Records already stored exactly so.
    pub unchanged: u64,
    /// Stored records removed because the provider now marks them deleted or unscorable.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub removed: u64,
    /// The provider would not give this data type (the user did not grant it); not a failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.fetched += other.fetched;
        self.written += other.written;
        self.unchanged += other.unchanged;
        self.removed += other.removed;
        self.skipped |= other.skipped;
    }
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// Why a job failed, in words safe to show the developer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobError {
    /// Stable: `token_refresh_failed`, `provider_revoked`, `provider_unavailable`,
    /// `provider_error`, `not_connected`, `queue_unavailable`, `abandoned`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncJob {
    pub id: JobId,
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub connection_id: ConnectionId,
    pub status: JobStatus,
    /// The window asked for; `None` ends mean "from the last sync" and "now".
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// The data types asked for (empty: all the provider has).
    #[serde(alias = "metrics")]
    pub data_types: Vec<DataType>,
    /// The window actually synced, once the job has started.
    pub window_from: Option<Timestamp>,
    pub window_to: Option<Timestamp>,
    pub counts: BTreeMap<String, Counts>,
    pub error: Option<JobError>,
    /// Times the job was picked up (retries after throttling or faults).
    pub attempts: u32,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// Bumped by every update; updates are conditional on it.
    pub version: u64,
}

/// The message on the job queue: enough to find the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMessage {
    pub job_id: JobId,
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
}
