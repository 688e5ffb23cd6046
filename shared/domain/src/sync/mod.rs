//! The sync engine: triggering a job, and running it when its message comes off the queue.
//! A job fetches the connection's window from the provider, writes what is new or changed, and
//! only then moves `lastSyncedAt`. Throttling and outages become a delayed message, never a
//! sleeping worker; a job that fails keeps what it already stored.

use crate::app::App;
use crate::connection::{Connection, ConnectionStatus};
use crate::error::DomainError;
use crate::events::{connection_data, with_fields};
use crate::health_records::store_batch;
use crate::jobs::{JobError, JobMessage, JobStatus, SyncJob};
use crate::ports::RecordOwner;
use crate::provider::ProviderId;
use crate::provider_client::{FetchError, FetchRequest};
use crate::queue::{MAX_DELAY, Outgoing};
use crate::rate_budget::{CallBudget, Window, default_limits};
use crate::time::Timestamp;
use crate::tokens::AccessError;
use crate::webhooks::EventType;
use serde_json::json;
use std::collections::BTreeMap;
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

/// What the job queue carries: sync jobs, pieces of data providers pushed, and webhook
/// subscriptions of new connections.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum QueueWork {
    Job(JobMessage),
    Pushed(crate::push::PushedData),
    Subscribe(crate::push_subscriptions::SubscribeMessage),
}

pub mod trigger;

pub use trigger::{DueSyncs, SyncJobs, SyncRequest};

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

impl App {
    /// Runs the job a queue message names. `Ok` when the message is dealt with (the job ended,
    /// or a delayed message will carry it on); `Err` when it should be delivered again (a
    /// store outage, or a message that cannot be read, which ends in the dead-letter queue).
    pub async fn process_job_message(&self, body: &str) -> Result<(), DomainError> {
        let message = match serde_json::from_str::<QueueWork>(body) {
            Ok(QueueWork::Job(message)) => message,
            Ok(QueueWork::Pushed(data)) => return self.store_pushed(data).await,
            Ok(QueueWork::Subscribe(message)) => return self.process_subscribe(message).await,
            Err(_) => {
                return Err(DomainError::validation(
                    "message",
                    "is not a sync job message",
                ));
            }
        };
        let Some(job) = self
            .ports
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
        if !self.ports.jobs.update_job(&running).await? {
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
                if self.ports.jobs.update_job(&ended).await? {
                    self.announce_job_end(&ended).await;
                }
                tracing::info!(job_id = %ended.id, status = ?ended.status, "sync ended");
                Ok(())
            }
            Step::Retry(job, delay) => {
                let queued = SyncJob {
                    status: JobStatus::Queued,
                    version: job.version + 1,
                    ..job
                };
                self.ports.jobs.update_job(&queued).await?;
                let queue = self
                    .jobs_queue
                    .as_ref()
                    .ok_or(DomainError::Unavailable("syncing"))?;
                queue
                    .send(Outgoing {
                        body: body.to_owned(),
                        delay: delay.min(MAX_DELAY),
                    })
                    .await
                    .map_err(|_| DomainError::Unavailable("the job queue"))?;
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
            .ports
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
        let Some(settings) = self.connect.as_deref() else {
            return Err(DomainError::Unavailable("connecting providers"));
        };
        let Some(provider_settings) = self.providers().settings(connection.provider) else {
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
            Some(last) => last.plus_seconds(-self.sync.overlap_seconds),
            None => to.plus_seconds(-self.sync.backfill_days * 24 * 3600),
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
            budget: CallBudget::new(
                self.ports.calls.clone(),
                self.ports.clock.clone(),
                connection.provider,
                &connection.provider_user_id,
                &self.sync.call_limits,
            ),
        };
        let base = settings.public_url.clone().unwrap_or_default();
        let resolved = provider_settings.resolved(&base);
        let mut refreshed = false;
        let batch = loop {
            let token = match self.access_token(&connection).await {
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
            match settings
                .client
                .fetch_data(connection.provider, &resolved, &token, &request)
                .await
            {
                Ok(mut batch) => {
                    // Whatever a provider sends beyond the types asked for is not stored.
                    batch.retain_types(&job.data_types);
                    break batch;
                }
                Err(FetchError::Unauthorized) if !refreshed => {
                    refreshed = true;
                    self.expire_tokens(&connection).await?;
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
        let counts = store_batch(
            self.ports.health.as_ref(),
            &RecordOwner::of(&connection),
            &batch,
        )
        .await?;
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
        let reaches_now = to >= now.plus_seconds(-self.sync.overlap_seconds);
        if reaches_now {
            self.ports
                .connections
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
        if job.attempts >= self.sync.max_attempts {
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
            .ports
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
            self.ports.connections.update_connection(&updated).await?;
        }
        Ok(())
    }

    pub(crate) async fn mark_disconnected(
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
            if self.ports.connections.disconnect(&disconnected).await? {
                self.announce_disconnected(&disconnected).await;
            }
        }
        Ok(())
    }

    /// `connection.disconnected`, when this host announces events.
    pub(crate) async fn announce_disconnected(&self, connection: &Connection) {
        if let Some(announcer) = &self.announcer {
            announcer.disconnected(connection).await;
        }
    }

    async fn announce_updated(
        &self,
        connection: &Connection,
        data_types: &[&String],
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) {
        if let Some(announcer) = &self.announcer {
            announcer
                .data_updated(connection, data_types, from, to)
                .await;
        }
    }

    /// `sync.completed` or `sync.failed`, and `data.updated` when the job stored anything.
    async fn announce_job_end(&self, job: &SyncJob) {
        let Ok(Some(connection)) = self
            .ports
            .connections
            .get_connection(&job.workspace_id, &job.user_id, &job.connection_id)
            .await
        else {
            return;
        };
        let window = json!({ "from": job.window_from, "to": job.window_to });
        let base = with_fields(
            connection_data(&connection),
            json!({ "jobId": job.id, "window": window }),
        );
        match job.status {
            JobStatus::Succeeded => {
                let data = with_fields(base.clone(), json!({ "counts": job.counts }));
                self.emit(&job.workspace_id, EventType::SyncCompleted, data)
                    .await;
                let updated: Vec<&String> = job
                    .counts
                    .iter()
                    .filter(|(_, counts)| counts.written > 0)
                    .map(|(name, _)| name)
                    .collect();
                if !updated.is_empty() {
                    self.announce_updated(&connection, &updated, job.window_from, job.window_to)
                        .await;
                }
            }
            JobStatus::Failed => {
                let data = with_fields(base, json!({ "error": job.error }));
                self.emit(&job.workspace_id, EventType::SyncFailed, data)
                    .await;
            }
            JobStatus::Queued | JobStatus::Running => {}
        }
    }

    /// `connection.created` or `connection.reauthenticated`, when this host announces events.
    pub(crate) async fn announce_connected(&self, connection: &Connection, created: bool) {
        if let Some(announcer) = &self.announcer {
            announcer.connected(connection, created).await;
        }
    }

    /// `data.updated` for what was written, when this host announces events.
    pub(crate) async fn announce_written(
        &self,
        connection: &Connection,
        counts: &BTreeMap<String, crate::jobs::Counts>,
        batch: &crate::health::HealthBatch,
    ) {
        if let Some(announcer) = &self.announcer {
            announcer.data_written(connection, counts, batch).await;
        }
    }
}
