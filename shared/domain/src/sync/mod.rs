//! The sync engine: triggering a job, and running it when its message comes off the queue.
//! A job fetches the connection's window from the provider, writes what is new or changed, and
//! only then moves `lastSyncedAt`. Throttling and outages become a delayed message, never a
//! sleeping worker; a job that fails keeps what it already stored.

use crate::announce::events::{Announcer, connection_data, with_fields};
use crate::announce::webhooks::EventType;
use crate::connections::tokens::{AccessError, ConnectionTokens};
use crate::connections::{Connection, ConnectionStatus};
use crate::health::records::{
    announce_written, store_batch, store_batch_announcing, written_types,
};
use crate::kernel::error::DomainError;
use crate::kernel::outbox::{OutboxAction, OutboxEntry, OutboxStore};
use crate::kernel::queue::MAX_DELAY;
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::{CallCounter, ConnectionStore, HealthStore, JobStore, RecordOwner};
use crate::providers::ProviderId;
use crate::providers::client::{DataClient, FetchError, FetchRequest, ProviderCalls};
use crate::providers::rate_budget::{CallBudget, Window, default_limits};
use crate::sync::jobs::PushedData;
use crate::sync::jobs::{JobError, JobMessage, JobStatus, SyncJob};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How far back syncs reach, and how often a job may be retried.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// The first sync of a connection fetches this many days.
    pub backfill_days: i64,
    /// Later syncs start this long before the last one ended, for late revisions.
    pub overlap_seconds: i64,
    /// Outages are retried this many times before the job fails.
    pub max_attempts: u32,
    /// The scheduler syncs active connections whose last sync is older than this.
    pub poll_interval: Duration,
    /// Calls each provider allows per window (shared by every worker).
    pub call_limits: BTreeMap<ProviderId, (Vec<Window>, bool)>,
    /// A new or reconnected connection is synced at once (its backfill).
    pub sync_on_connect: bool,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            backfill_days: 30,
            overlap_seconds: 2 * 24 * 3600,
            max_attempts: 6,
            poll_interval: Duration::from_secs(6 * 3600),
            call_limits: default_limits(),
            sync_on_connect: true,
        }
    }
}

pub mod jobs;
pub mod trigger;

pub use trigger::{DueSyncs, JobStarter, SyncJobs, SyncRequest, SyncScheduler};

enum Step {
    Done(SyncJob),
    Retry(SyncJob, Duration),
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(30u64.saturating_mul(1 << attempt.min(5))).min(MAX_DELAY)
}

pub(crate) fn failure(code: &str, message: impl Into<String>) -> JobError {
    JobError {
        code: code.into(),
        message: message.into(),
    }
}

/// Runs sync jobs off the queue: fetches the connection's window from the provider, stores
/// what is new or changed, and only then moves `lastSyncedAt`; throttling and outages become a
/// delayed message. Also stores data providers pushed.
#[derive(Clone)]
pub struct SyncRunner {
    jobs: Arc<dyn JobStore>,
    /// Where a job's retry waits when the job moved on meanwhile.
    outbox: Arc<dyn OutboxStore>,
    connections: Arc<dyn ConnectionStore>,
    health: Arc<dyn HealthStore>,
    /// Counts calls against each provider's rate limits.
    calls_made: Arc<dyn CallCounter>,
    calls: ProviderCalls<dyn DataClient>,
    tokens: ConnectionTokens,
    announcer: Announcer,
    settings: SyncSettings,
    clock: Arc<dyn Clock>,
}

impl SyncRunner {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        jobs: Arc<dyn JobStore>,
        outbox: Arc<dyn OutboxStore>,
        connections: Arc<dyn ConnectionStore>,
        health: Arc<dyn HealthStore>,
        calls_made: Arc<dyn CallCounter>,
        calls: ProviderCalls<dyn DataClient>,
        tokens: ConnectionTokens,
        announcer: Announcer,
        settings: SyncSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            jobs,
            outbox,
            connections,
            health,
            calls_made,
            calls,
            tokens,
            announcer,
            settings,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Runs the job `message` names (`body` is the message as queued, sent again on a retry).
    /// `Ok` when the message is dealt with (the job ended, or a delayed message will carry it
    /// on); `Err` when it should be delivered again (a store outage).
    #[tracing::instrument(skip_all, fields(job_id = %message.job_id))]
    pub async fn run_job(&self, message: JobMessage, body: &str) -> Result<(), DomainError> {
        let Some(job) = self
            .jobs
            .get_job(&message.workspace_id, &message.job_id)
            .await?
        else {
            tracing::warn!(job_id = %message.job_id, "the job no longer exists; dropping its message");
            return Ok(());
        };
        if !job.status.is_active() {
            return Ok(());
        }
        let running = SyncJob {
            status: JobStatus::Running,
            attempts: job.attempts + 1,
            started_at: job.started_at.or(Some(self.now())),
            version: job.version + 1,
            ..job
        };
        if !self.jobs.update_job(&running, &[]).await? {
            // Another worker has it (a duplicate delivery).
            return Ok(());
        }
        match self.run(running).await? {
            Step::Done(job) => {
                let ended = SyncJob {
                    finished_at: Some(self.now()),
                    version: job.version + 1,
                    ..job
                };
                let announced = self.job_end_entries(&ended).await?;
                self.jobs.update_job(&ended, &announced).await?;
                tracing::info!(job_id = %ended.id, status = ?ended.status, "sync ended");
                Ok(())
            }
            Step::Retry(job, delay) => {
                let queued = SyncJob {
                    status: JobStatus::Queued,
                    version: job.version + 1,
                    ..job
                };
                let retry = OutboxEntry::new(
                    queued.workspace_id.clone(),
                    self.now()
                        .plus_seconds(i64::try_from(delay.as_secs()).unwrap_or(i64::MAX / 2)),
                    OutboxAction::Job {
                        body: body.to_owned(),
                    },
                );
                if !self
                    .jobs
                    .update_job(&queued, std::slice::from_ref(&retry))
                    .await?
                {
                    // The job moved on meanwhile; a message that finds it so does nothing.
                    self.outbox.append(&[retry]).await?;
                }
                tracing::info!(job_id = %queued.id, delay_seconds = delay.as_secs(), "sync will be retried");
                Ok(())
            }
        }
    }

    async fn run(&self, job: SyncJob) -> Result<Step, DomainError> {
        let fail = |job: SyncJob, error: JobError| {
            Step::Done(SyncJob {
                status: JobStatus::Failed,
                error: Some(error),
                ..job
            })
        };
        let Some(connection) = self
            .connections
            .get_connection(&job.workspace_id, &job.user_id, &job.connection_id)
            .await?
        else {
            return Ok(fail(
                job,
                failure("not_connected", "the connection no longer exists"),
            ));
        };
        if connection.status == ConnectionStatus::Disconnected {
            return Ok(fail(
                job,
                failure("not_connected", "the connection is disconnected"),
            ));
        }
        let resolved = match self
            .calls
            .resolved(connection.provider, &connection.app())
            .await
        {
            Ok(resolved) => resolved,
            Err(_) => {
                let delay = backoff(job.attempts);
                return Ok(Step::Retry(job, delay));
            }
        };
        let Some(provider_settings) = resolved else {
            return Ok(fail(
                job,
                failure(
                    "provider_error",
                    "the provider is not enabled on this deployment",
                ),
            ));
        };
        let now = self.now();
        let to = job.to.unwrap_or(now).min(now);
        let from = job.from.unwrap_or_else(|| match connection.last_synced_at {
            Some(last) => last.plus_seconds(
                -self.settings.overlap_seconds - connection.provider.data_lag_seconds(),
            ),
            None => to.plus_seconds(-self.settings.backfill_days * 24 * 3600),
        });
        let job = SyncJob {
            window_from: Some(from),
            window_to: Some(to),
            ..job
        };
        let request = FetchRequest {
            from,
            to,
            data_types: job.data_types.clone(),
            provider_user_id: connection.provider_user_id.clone(),
            granted_scopes: connection.scopes.clone(),
            time_zone: connection.time_zone.clone(),
            last_synced_at: connection.last_synced_at,
            budget: CallBudget::new(
                self.calls_made.clone(),
                self.clock.clone(),
                connection.provider,
                &connection.provider_user_id,
                &self.settings.call_limits,
            ),
        };
        let mut refreshed = false;
        let batch = loop {
            let token = match self.tokens.access_token(&connection).await {
                Ok(token) => token,
                Err(AccessError::Refused) => {
                    return Ok(fail(
                        job,
                        failure(
                            "token_refresh_failed",
                            "the provider refused to refresh access; the user must connect again",
                        ),
                    ));
                }
                Err(AccessError::NotConnected) => {
                    return Ok(fail(
                        job,
                        failure("not_connected", "the connection has no tokens"),
                    ));
                }
                Err(AccessError::Unavailable(reason)) => {
                    return Ok(self.retry_or_fail(job, &reason));
                }
            };
            match self
                .calls
                .client()
                .fetch_data(connection.provider, &provider_settings, &token, &request)
                .await
            {
                Ok(mut batch) => {
                    // Whatever a provider sends beyond the types asked for is not stored.
                    batch.retain_types(&job.data_types);
                    break batch;
                }
                Err(FetchError::Unauthorized) if !refreshed => {
                    refreshed = true;
                    self.tokens.expire_tokens(&connection).await?;
                }
                Err(FetchError::Unauthorized | FetchError::Revoked) => {
                    self.mark_disconnected(&connection, "revoked_at_provider")
                        .await?;
                    return Ok(fail(
                        job,
                        failure(
                            "provider_revoked",
                            "the user revoked access at the provider",
                        ),
                    ));
                }
                Err(FetchError::RateLimited(wait)) => {
                    tracing::info!(provider = %connection.provider, wait_seconds = wait.as_secs(), "rate limited");
                    return Ok(Step::Retry(job, wait.max(Duration::from_secs(1))));
                }
                Err(FetchError::Unavailable(reason)) => {
                    return Ok(self.retry_or_fail(job, &reason));
                }
                Err(FetchError::Protocol(reason)) => {
                    tracing::warn!(provider = %connection.provider, reason = %reason, "provider reply not understood");
                    return Ok(fail(
                        job,
                        failure("provider_error", "the provider's reply could not be read"),
                    ));
                }
            }
        };
        let counts =
            store_batch(self.health.as_ref(), &RecordOwner::of(&connection), &batch).await?;
        if let Some(zone) = batch
            .time_zone
            .as_ref()
            .filter(|zone| connection.time_zone.as_ref() != Some(*zone))
        {
            self.record_time_zone(&connection, zone).await?;
        }
        // Only now, with the data stored, does the connection count as synced up to `to`. A
        // window that ends well in the past (a historical backfill) says nothing of recent
        // data, so it leaves `lastSyncedAt` alone.
        let reaches_now = to >= now.plus_seconds(-self.settings.overlap_seconds);
        if reaches_now {
            self.connections
                .record_sync(&job.workspace_id, &job.user_id, &job.connection_id, to)
                .await?;
        }
        let mut all = job.counts.clone();
        for (name, tally) in counts {
            all.entry(name).or_default().add(tally);
        }
        for data_type in &batch.skipped {
            all.entry(data_type.as_str().to_owned())
                .or_default()
                .skipped = true;
        }
        Ok(Step::Done(SyncJob {
            status: JobStatus::Succeeded,
            counts: all,
            error: None,
            ..job
        }))
    }

    fn retry_or_fail(&self, job: SyncJob, reason: &str) -> Step {
        tracing::warn!(job_id = %job.id, attempt = job.attempts, reason = %reason, "provider unavailable");
        if job.attempts >= self.settings.max_attempts {
            Step::Done(SyncJob {
                status: JobStatus::Failed,
                error: Some(failure(
                    "provider_unavailable",
                    format!(
                        "the provider was unavailable {} times in a row",
                        job.attempts
                    ),
                )),
                ..job
            })
        } else {
            let delay = backoff(job.attempts);
            Step::Retry(job, delay)
        }
    }

    /// The connection as stored now (another worker may have changed it).
    async fn current(&self, connection: &Connection) -> Result<Option<Connection>, DomainError> {
        Ok(self
            .connections
            .get_connection(
                &connection.workspace_id,
                &connection.user_id,
                &connection.id,
            )
            .await?)
    }

    /// Keeps the zone the provider named on the connection.
    async fn record_time_zone(
        &self,
        connection: &Connection,
        zone: &str,
    ) -> Result<(), DomainError> {
        if let Some(current) = self.current(connection).await? {
            let updated = Connection {
                time_zone: Some(zone.to_owned()),
                ..current
            };
            self.connections.update_connection(&updated, &[]).await?;
        }
        Ok(())
    }

    async fn mark_disconnected(
        &self,
        connection: &Connection,
        reason: &str,
    ) -> Result<(), DomainError> {
        if let Some(current) = self.current(connection).await? {
            let disconnected = Connection {
                status: ConnectionStatus::Disconnected,
                status_reason: Some(reason.into()),
                updated_at: self.now(),
                ..current
            };
            let announced = self.announcer.disconnected_entry(&disconnected)?;
            self.connections
                .disconnect(&disconnected, &[announced])
                .await?;
        }
        Ok(())
    }

    /// `sync.completed` or `sync.failed`, and `data.updated` when the job stored anything:
    /// written with the job's end.
    async fn job_end_entries(&self, job: &SyncJob) -> Result<Vec<OutboxEntry>, DomainError> {
        let Some(connection) = self
            .connections
            .get_connection(&job.workspace_id, &job.user_id, &job.connection_id)
            .await?
        else {
            return Ok(Vec::new());
        };
        let window = json!({ "from": job.window_from, "to": job.window_to });
        let base = with_fields(
            connection_data(&connection),
            json!({ "jobId": job.id, "window": window }),
        );
        let mut entries = Vec::new();
        match job.status {
            JobStatus::Succeeded => {
                let data = with_fields(base, json!({ "counts": job.counts }));
                entries.push(self.announcer.entry(
                    &job.workspace_id,
                    EventType::SyncCompleted,
                    data,
                )?);
                entries.extend(self.announcer.data_updated_entry(
                    &connection,
                    &written_types(&job.counts),
                    job.window_from,
                    job.window_to,
                )?);
            }
            JobStatus::Failed => {
                let data = with_fields(base, json!({ "error": job.error }));
                entries.push(self.announcer.entry(
                    &job.workspace_id,
                    EventType::SyncFailed,
                    data,
                )?);
            }
            JobStatus::Queued | JobStatus::Running => {}
        }
        Ok(entries)
    }

    /// Stores a piece of pushed data for every active connection of its account.
    #[tracing::instrument(skip_all, fields(provider = %data.provider))]
    pub async fn store_pushed(&self, data: PushedData) -> Result<(), DomainError> {
        let connections: Vec<Connection> = self
            .connections
            .connections_for_account(data.provider, &data.provider_user_id)
            .await?
            .into_iter()
            .filter(|c| c.status == ConnectionStatus::Active && c.app_id == data.app_id)
            .collect();
        if connections.is_empty() {
            tracing::info!(provider = %data.provider, "pushed data names no connected account");
            return Ok(());
        }
        let body = serde_json::json!({ data.summary_type.as_str(): data.items });
        for connection in connections {
            let request = FetchRequest {
                from: Timestamp::from_millis(0).unwrap_or_else(|| self.now()),
                to: self.now().plus_seconds(24 * 3600),
                data_types: Vec::new(),
                provider_user_id: connection.provider_user_id.clone(),
                granted_scopes: connection.scopes.clone(),
                time_zone: connection.time_zone.clone(),
                last_synced_at: connection.last_synced_at,
                budget: CallBudget::new(
                    self.calls_made.clone(),
                    self.clock.clone(),
                    connection.provider,
                    &connection.provider_user_id,
                    &self.settings.call_limits,
                ),
            };
            let batch = self
                .calls
                .client()
                .map_pushed(data.provider, &body, &request)
                .map_err(|err| {
                    tracing::warn!(provider = %data.provider, error = %err, "pushed data could not be read");
                    DomainError::validation("items", "pushed data could not be read")
                })?;
            store_batch_announcing(
                self.health.as_ref(),
                &RecordOwner::of(&connection),
                &batch,
                announce_written(&self.announcer, (&connection).into(), batch.time_window()),
            )
            .await?;
        }
        Ok(())
    }
}
