//! Sync jobs: one run of fetching a connection's data for a window, visible to the developer
//! from the moment it is queued until it ends.

use crate::health::DataType;
use crate::health::records::Counts;
use crate::kernel::ids::{ConnectionId, UserId, WorkspaceId};
use crate::kernel::time::Timestamp;
use crate::providers::ProviderId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

/// Pushed data on the job queue: one piece of a pushed body, for one provider account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushedData {
    pub pushed_id: String,
    pub provider: ProviderId,
    pub provider_user_id: String,
    /// The workspace app it was pushed to (`None`: the deployment's): only connections made
    /// with that app take it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<crate::kernel::ids::AppId>,
    pub summary_type: String,
    pub items: Vec<Value>,
}
