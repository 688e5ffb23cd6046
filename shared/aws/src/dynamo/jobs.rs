use super::actions::Condition;
use super::{
    DynamoStore, TRANSACTION_ATTEMPTS, TxFailure, backoff, contention, from_item, keys, s,
    string_attr, to_item,
};
use async_trait::async_trait;
use std::collections::HashMap;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::{UserId, WorkspaceId};
use vitasync_domain::kernel::outbox::OutboxEntry;
use vitasync_domain::kernel::page::{Page, PageRequest};
use vitasync_domain::ports::JobStore;
use vitasync_domain::sync::jobs::{JobId, SyncJob};

fn partition(job: &SyncJob) -> String {
    keys::user_partition(job.workspace_id.as_str(), job.user_id.as_str())
}

impl DynamoStore {
    async fn job_in(
        &self,
        workspace: &WorkspaceId,
        user: &str,
        id: &str,
    ) -> Result<Option<SyncJob>, StoreError> {
        self.get(
            keys::user_partition(workspace.as_str(), user),
            keys::job(id),
        )
        .await?
        .map(from_item)
        .transpose()
    }
}

#[async_trait]
impl JobStore for DynamoStore {
    #[tracing::instrument(skip_all)]
    async fn create_job(
        &self,
        job: &SyncJob,
        on_create: &[OutboxEntry],
    ) -> Result<(SyncJob, bool), StoreError> {
        let pk = partition(job);
        let guard_sk = keys::active_job(job.connection_id.as_str());
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let mut actions = vec![
                self.put(
                    to_item(job, pk.clone(), keys::job(job.id.as_str()))?,
                    Condition::Absent,
                )?,
                self.put(
                    HashMap::from([
                        (
                            keys::PK.to_owned(),
                            s(keys::workspace(job.workspace_id.as_str())),
                        ),
                        (keys::SK.to_owned(), s(keys::job(job.id.as_str()))),
                        ("userId".to_owned(), s(job.user_id.to_string())),
                    ]),
                    Condition::Absent,
                )?,
            ];
            if job.status.is_active() {
                actions.push(self.put(
                    HashMap::from([
                        (keys::PK.to_owned(), s(pk.clone())),
                        (keys::SK.to_owned(), s(guard_sk.clone())),
                        ("jobId".to_owned(), s(job.id.to_string())),
                    ]),
                    Condition::Absent,
                )?);
            }
            actions.extend(self.entry_puts(on_create)?);
            match self.transact(actions).await {
                Ok(()) => return Ok((job.clone(), true)),
                Err(TxFailure::Store(err)) => return Err(err),
                Err(TxFailure::Contention) => {
                    backoff(attempt).await;
                    continue;
                }
                Err(TxFailure::Condition(_)) => {}
            }
            // The connection has an active job: answer with it.
            if let Some(guard) = self.get(pk.clone(), guard_sk.clone()).await?
                && let Some(active) = self
                    .job_in(
                        &job.workspace_id,
                        job.user_id.as_str(),
                        &string_attr(&guard, "jobId")?,
                    )
                    .await?
            {
                return Ok((active, false));
            }
            backoff(attempt).await;
        }
        Err(contention())
    }

    #[tracing::instrument(skip_all)]
    async fn get_job(
        &self,
        workspace: &WorkspaceId,
        id: &JobId,
    ) -> Result<Option<SyncJob>, StoreError> {
        let Some(pointer) = self
            .get(keys::workspace(workspace.as_str()), keys::job(id.as_str()))
            .await?
        else {
            return Ok(None);
        };
        let user = string_attr(&pointer, "userId")?;
        self.job_in(workspace, &user, id.as_str()).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_jobs(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<SyncJob>, StoreError> {
        let pk = keys::user_partition(workspace.as_str(), user.as_str());
        let jobs = self
            .query_prefix_newest_first(
                &pk,
                keys::JOB_PREFIX,
                page.after.as_deref().map(keys::job),
                page.limit + 1,
            )
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<SyncJob>, _>>()?;
        Ok(Page::from_lookahead(jobs, page.limit, |job| {
            job.id.to_string()
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_job(
        &self,
        job: &SyncJob,
        on_update: &[OutboxEntry],
    ) -> Result<bool, StoreError> {
        let pk = partition(job);
        let mut actions = vec![self.put(
            to_item(job, pk.clone(), keys::job(job.id.as_str()))?,
            Condition::Version(job.version.saturating_sub(1)),
        )?];
        if !job.status.is_active() {
            actions.push(self.delete(
                pk,
                keys::active_job(job.connection_id.as_str()),
                Condition::None,
            )?);
            // Only the job that holds the guard may free it.
            if let Some(guard) = self
                .get(partition(job), keys::active_job(job.connection_id.as_str()))
                .await?
                && string_attr(&guard, "jobId")? != job.id.as_str()
            {
                actions.pop();
            }
        }
        actions.extend(self.entry_puts(on_update)?);
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(TxFailure::Condition(_)) => Ok(false),
            Err(TxFailure::Contention) => Err(contention()),
            Err(TxFailure::Store(err)) => Err(err),
        }
    }
}
