//! Starting syncs: a sync request, the first backfill of a new connection, the scheduler's
//! round. One job at a time per connection; its message goes on the job queue for a worker.

use super::failure;
use crate::connections::{Connection, ConnectionStatus};
use crate::health::DataType;
use crate::kernel::error::{DomainError, StoreError};
use crate::kernel::outbox::{OutboxAction, OutboxEntry};
use crate::kernel::page::{Page, PageRequest};
use crate::kernel::scope::Scope;
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::{ConnectionStore, JobStore};
use crate::providers::{ProviderId, ProviderRegistry};
use crate::sync::jobs::{JobId, JobMessage, JobStatus, SyncJob};
use crate::tenancy::api_key::Principal;
use crate::users::UserDirectory;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A job still queued or running this long after it was created is taken as lost.
const STALE_JOB_SECONDS: i64 = 3 * 3600;

/// Due connections fetched per store call by the scheduler.
const DUE_PAGE: usize = 100;

/// What one scheduler round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueSyncs {
    /// Active connections whose last sync was older than the interval.
    pub due: u64,
    /// Of those, the ones a new job was queued for (the others had one under way).
    pub queued: u64,
    /// Of those, the ones whose job could not be queued (they are due again next round).
    pub failed: u64,
}

/// `POST /v1/users/{userId}/connections/{connectionId}/sync`
#[derive(Debug, Clone, Default)]
pub struct SyncRequest {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Data type names (`steps`, `sleep`, …); empty for all.
    pub data_types: Vec<String>,
}

/// Starts sync jobs, one at a time per connection: the job stored with its queue message in
/// the outbox, one transaction. Shared by sync requests, the first backfill, the scheduler and
/// providers' notices.
#[derive(Clone)]
pub struct JobStarter {
    jobs: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
}

impl JobStarter {
    /// Jobs stored in `jobs`.
    pub fn new(jobs: Arc<dyn JobStore>, clock: Arc<dyn Clock>) -> Self {
        Self { jobs, clock }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The outbox entry that queues `job`'s message once the job is committed.
    fn message_entry(&self, job: &SyncJob) -> Result<OutboxEntry, DomainError> {
        let message = JobMessage {
            job_id: job.id.clone(),
            workspace_id: job.workspace_id.clone(),
            user_id: job.user_id.clone(),
        };
        let body =
            serde_json::to_string(&message).map_err(|err| StoreError::Corrupt(err.to_string()))?;
        Ok(OutboxEntry::new(
            job.workspace_id.clone(),
            self.now(),
            OutboxAction::Job { body },
        ))
    }

    /// Creates a queued job for the connection and sends its message, unless a job for it is
    /// queued or running already (then that job, and `false`).
    #[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
    pub async fn start_job(
        &self,
        connection: &Connection,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        data_types: Vec<DataType>,
    ) -> Result<(SyncJob, bool), DomainError> {
        let job = SyncJob {
            id: JobId::generate(),
            workspace_id: connection.workspace_id.clone(),
            user_id: connection.user_id.clone(),
            connection_id: connection.id.clone(),
            status: JobStatus::Queued,
            from,
            to,
            data_types,
            window_from: None,
            window_to: None,
            counts: BTreeMap::new(),
            error: None,
            attempts: 0,
            created_at: self.now(),
            started_at: None,
            finished_at: None,
            version: 1,
        };
        let fresh_template = job.clone();
        let queued = self.message_entry(&job)?;
        let (mut job, mut created) = self.jobs.create_job(&job, &[queued]).await?;
        if !created && job.created_at < self.now().plus_seconds(-STALE_JOB_SECONDS) {
            // Its message was lost (a dead letter after a long store outage, say): end it, or
            // the connection could never sync again.
            let abandoned = SyncJob {
                status: JobStatus::Failed,
                error: Some(failure(
                    "abandoned",
                    "the job made no progress for hours and was given up",
                )),
                finished_at: Some(self.now()),
                version: job.version + 1,
                ..job.clone()
            };
            tracing::warn!(job_id = %job.id, "an abandoned job was ended");
            if self.jobs.update_job(&abandoned, &[]).await? {
                let fresh = SyncJob {
                    id: JobId::generate(),
                    created_at: self.now(),
                    ..fresh_template
                };
                let queued = self.message_entry(&fresh)?;
                (job, created) = self.jobs.create_job(&fresh, &[queued]).await?;
            }
        }
        if !created {
            return Ok((job, false));
        }
        tracing::info!(job_id = %job.id, connection_id = %job.connection_id, "sync queued");
        Ok((job, true))
    }
}

/// Sync requests from the API, and reading their jobs.
#[derive(Clone)]
pub struct SyncJobs {
    directory: UserDirectory,
    jobs: Arc<dyn JobStore>,
    starter: JobStarter,
    clock: Arc<dyn Clock>,
}

impl SyncJobs {
    pub fn new(
        directory: UserDirectory,
        jobs: Arc<dyn JobStore>,
        starter: JobStarter,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            jobs,
            starter,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Queues a sync of the connection, or answers the job already queued or running for it.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id, connection_id = %connection_id))]
    pub async fn trigger_sync(
        &self,
        caller: &Principal,
        user_id: &str,
        connection_id: &str,
        request: SyncRequest,
    ) -> Result<SyncJob, DomainError> {
        caller.require(Scope::Write)?;
        let connection = self
            .directory
            .get_connection(caller, user_id, connection_id)
            .await?;
        let mut data_types = Vec::new();
        for (index, name) in request.data_types.iter().enumerate() {
            let data_type = DataType::parse(name).ok_or_else(|| {
                DomainError::validation(format!("dataTypes[{index}]"), "is not a known data type")
            })?;
            if !data_types.contains(&data_type) {
                data_types.push(data_type);
            }
        }
        let now = self.now();
        if let (Some(from), Some(to)) = (request.from, request.to)
            && from >= to
        {
            return Err(DomainError::validation("from", "must be before 'to'"));
        }
        if request.from.is_some_and(|from| from >= now) {
            return Err(DomainError::validation("from", "must be in the past"));
        }
        if connection.status == ConnectionStatus::Disconnected {
            return Err(DomainError::Conflict(
                "the connection is disconnected; connect the account again first".into(),
            ));
        }
        if connection.provider.is_mobile() {
            return Err(DomainError::Conflict(
                "this data is pushed by the user's phone (POST /v1/me/samples); there is nothing to fetch".into(),
            ));
        }
        let (job, _) = self
            .starter
            .start_job(&connection, request.from, request.to, data_types)
            .await?;
        Ok(job)
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, job_id = %job_id))]
    pub async fn get_job(&self, caller: &Principal, job_id: &str) -> Result<SyncJob, DomainError> {
        caller.require(Scope::Read)?;
        let id = JobId::parse(job_id).ok_or(DomainError::NotFound("sync job"))?;
        self.jobs
            .get_job(&caller.workspace_id, &id)
            .await?
            .ok_or(DomainError::NotFound("sync job"))
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id))]
    pub async fn list_jobs(
        &self,
        caller: &Principal,
        user_id: &str,
        page: &PageRequest,
    ) -> Result<Page<SyncJob>, DomainError> {
        let user = self.directory.get_user(caller, user_id).await?;
        Ok(self
            .jobs
            .list_jobs(&caller.workspace_id, &user.id, page)
            .await?)
    }
}

/// The scheduler's round: the polling fallback for providers that do not push, or whose push
/// went silent.
#[derive(Clone)]
pub struct SyncScheduler {
    connections: Arc<dyn ConnectionStore>,
    providers: Arc<ProviderRegistry>,
    poll_interval: Duration,
    starter: JobStarter,
    clock: Arc<dyn Clock>,
}

impl SyncScheduler {
    /// Syncs active connections of `providers` not synced for `poll_interval`.
    pub fn new(
        connections: Arc<dyn ConnectionStore>,
        providers: Arc<ProviderRegistry>,
        poll_interval: Duration,
        starter: JobStarter,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            connections,
            providers,
            poll_interval,
            starter,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The scheduler's round: queues a sync of every active connection of an enabled provider
    /// whose last sync is older than the poll interval (the polling fallback for providers
    /// that do not push, or whose push went silent). Connections with a job under way are left
    /// be.
    #[tracing::instrument(skip_all)]
    pub async fn queue_due_syncs(&self) -> Result<DueSyncs, DomainError> {
        let seconds = i64::try_from(self.poll_interval.as_secs()).unwrap_or(i64::MAX / 2);
        let before = self.now().plus_seconds(-seconds);
        let mut report = DueSyncs::default();
        for provider in ProviderId::ALL {
            if !self.providers.is_enabled(provider) {
                continue;
            }
            let mut page = PageRequest {
                limit: DUE_PAGE,
                after: None,
            };
            loop {
                let due = self
                    .connections
                    .connections_due(provider, before, &page)
                    .await?;
                for connection in &due.items {
                    report.due += 1;
                    // One connection's trouble must not starve the rest of the round; it is
                    // still due next round.
                    match self
                        .starter
                        .start_job(connection, None, None, Vec::new())
                        .await
                    {
                        Ok((_, true)) => report.queued += 1,
                        Ok((_, false)) => {}
                        Err(err) => {
                            report.failed += 1;
                            tracing::warn!(connection_id = %connection.id, error = %err, "a due sync could not be queued");
                        }
                    }
                }
                match due.next {
                    Some(next) => page.after = Some(next),
                    None => break,
                }
            }
        }
        // A round with nothing due is the usual case: not worth a line a minute at INFO.
        if report.due == 0 {
            tracing::debug!("no syncs due");
        } else {
            tracing::info!(
                due = report.due,
                queued = report.queued,
                failed = report.failed,
                "scheduled syncs"
            );
        }
        Ok(report)
    }
}
