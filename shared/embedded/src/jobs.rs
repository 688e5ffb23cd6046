use crate::outbox::write_entries;
use crate::store::{EmbeddedStore, Fault, decode, encode};
use crate::tables::{ACTIVE_JOBS, END, JOBS, USER_JOBS};
use async_trait::async_trait;
use redb::{ReadableTable, WriteTransaction};
use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::{UserId, WorkspaceId};
use vitasync_domain::kernel::outbox::OutboxEntry;
use vitasync_domain::kernel::page::{Page, PageRequest};
use vitasync_domain::ports::JobStore;
use vitasync_domain::sync::jobs::{JobId, SyncJob};

fn load(txn: &WriteTransaction, workspace: &str, id: &str) -> Result<Option<SyncJob>, Fault> {
    let table = txn.open_table(JOBS)?;
    let found = table.get((workspace, id))?;
    found.map(|item| decode(item.value())).transpose()
}

/// Removes every job of one user (and any active-job marker they hold).
pub(crate) fn purge_user_jobs(
    txn: &WriteTransaction,
    workspace: &str,
    user: &str,
) -> Result<(), Fault> {
    let mut ids = Vec::new();
    {
        let index = txn.open_table(USER_JOBS)?;
        for entry in index.range((workspace, user, "")..(workspace, user, END))? {
            ids.push(entry?.0.value().2.to_owned());
        }
    }
    let mut jobs = txn.open_table(JOBS)?;
    let mut active = txn.open_table(ACTIVE_JOBS)?;
    for id in &ids {
        if let Some(item) = jobs.remove((workspace, id.as_str()))? {
            let job: SyncJob = decode(item.value())?;
            let holder = active
                .get((workspace, job.connection_id.as_str()))?
                .map(|held| held.value().to_owned());
            if holder.as_deref() == Some(id.as_str()) {
                active.remove((workspace, job.connection_id.as_str()))?;
            }
        }
    }
    txn.open_table(USER_JOBS)?
        .retain_in((workspace, user, "")..(workspace, user, END), |_, _| false)?;
    Ok(())
}

#[async_trait]
impl JobStore for EmbeddedStore {
    async fn create_job(
        &self,
        job: &SyncJob,
        on_create: &[OutboxEntry],
    ) -> Result<(SyncJob, bool), StoreError> {
        let (job, on_create) = (job.clone(), on_create.to_vec());
        self.write(move |txn| {
            let ws = job.workspace_id.as_str();
            let held = txn
                .open_table(ACTIVE_JOBS)?
                .get((ws, job.connection_id.as_str()))?
                .map(|id| id.value().to_owned());
            if let Some(existing) = held.and_then(|id| load(txn, ws, &id).transpose()) {
                return Ok((existing?, false));
            }
            txn.open_table(JOBS)?
                .insert((ws, job.id.as_str()), encode(&job)?.as_slice())?;
            txn.open_table(USER_JOBS)?
                .insert((ws, job.user_id.as_str(), job.id.as_str()), ())?;
            if job.status.is_active() {
                txn.open_table(ACTIVE_JOBS)?
                    .insert((ws, job.connection_id.as_str()), job.id.as_str())?;
            }
            write_entries(txn, &on_create)?;
            Ok((job, true))
        })
        .await
    }

    async fn get_job(
        &self,
        workspace: &WorkspaceId,
        id: &JobId,
    ) -> Result<Option<SyncJob>, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read(move |txn| {
            let table = txn.open_table(JOBS)?;
            let found = table.get((workspace.as_str(), id.as_str()))?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn list_jobs(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<SyncJob>, StoreError> {
        let (workspace, user, page) = (workspace.clone(), user.clone(), page.clone());
        self.read(move |txn| {
            let index = txn.open_table(USER_JOBS)?;
            let jobs = txn.open_table(JOBS)?;
            let (ws, uid) = (workspace.as_str(), user.as_str());
            // Newest first: walk the index backwards from before the cursor.
            let upper = page.after.clone().unwrap_or_else(|| END.to_owned());
            let mut found = Vec::new();
            for entry in index.range((ws, uid, "")..(ws, uid, upper.as_str()))?.rev() {
                let id = entry?.0.value().2.to_owned();
                if let Some(item) = jobs.get((ws, id.as_str()))? {
                    found.push(decode::<SyncJob>(item.value())?);
                }
                if found.len() > page.limit {
                    break;
                }
            }
            Ok(Page::from_lookahead(found, page.limit, |job| {
                job.id.to_string()
            }))
        })
        .await
    }

    async fn update_job(
        &self,
        job: &SyncJob,
        on_update: &[OutboxEntry],
    ) -> Result<bool, StoreError> {
        let (job, on_update) = (job.clone(), on_update.to_vec());
        self.write(move |txn| {
            let ws = job.workspace_id.as_str();
            let Some(stored) = load(txn, ws, job.id.as_str())? else {
                return Ok(false);
            };
            if stored.version + 1 != job.version {
                return Ok(false);
            }
            txn.open_table(JOBS)?
                .insert((ws, job.id.as_str()), encode(&job)?.as_slice())?;
            if !job.status.is_active() {
                let mut active = txn.open_table(ACTIVE_JOBS)?;
                let holder = active
                    .get((ws, job.connection_id.as_str()))?
                    .map(|held| held.value().to_owned());
                if holder.as_deref() == Some(job.id.as_str()) {
                    active.remove((ws, job.connection_id.as_str()))?;
                }
            }
            write_entries(txn, &on_update)?;
            Ok(true)
        })
        .await
    }
}
