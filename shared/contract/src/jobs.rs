//! The job store's contract: one active job per connection (concurrent triggers join it),
//! versioned updates, a finished job freeing its connection, newest-first listing per user.

use std::collections::BTreeMap;
use vitasync_domain::kernel::ids::{ConnectionId, UserId, WorkspaceId};
use vitasync_domain::kernel::outbox::{OutboxAction, OutboxEntry};
use vitasync_domain::kernel::page::PageRequest;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::Ports;
use vitasync_domain::sync::jobs::{JobId, JobStatus, SyncJob};
use vitasync_domain::tenancy::user::UserDraft;

fn job(ws: &WorkspaceId, user: &UserId, connection: &ConnectionId) -> SyncJob {
    SyncJob {
        id: JobId::generate(),
        workspace_id: ws.clone(),
        user_id: user.clone(),
        connection_id: connection.clone(),
        status: JobStatus::Queued,
        from: None,
        to: None,
        data_types: Vec::new(),
        window_from: None,
        window_to: None,
        counts: BTreeMap::new(),
        error: None,
        attempts: 0,
        created_at: Timestamp::from_millis(1_790_000_000_000).unwrap(),
        started_at: None,
        finished_at: None,
        version: 1,
    }
}

pub async fn job_store(ports: &Ports) {
    let store = &ports.jobs;
    let ws = WorkspaceId::generate();
    let draft = UserDraft {
        external_id: "wearer".into(),
        ..UserDraft::default()
    };
    let patch = draft.as_patch();
    let (user, _) = ports
        .users
        .upsert_user(
            &draft.into_user(ws.clone(), Timestamp::from_millis(0).unwrap()),
            &patch,
            &[],
        )
        .await
        .unwrap();
    let uid = &user.id;
    let connection = ConnectionId::generate();

    // Concurrent triggers for one connection end in one job.
    let candidates: Vec<SyncJob> = (0..6).map(|_| job(&ws, uid, &connection)).collect();
    let results =
        futures::future::join_all(candidates.iter().map(|c| store.create_job(c, &[]))).await;
    let created: Vec<SyncJob> = results
        .iter()
        .filter(|r| r.as_ref().unwrap().1)
        .map(|r| r.as_ref().unwrap().0.clone())
        .collect();
    assert_eq!(created.len(), 1, "exactly one new job");
    let first = created[0].clone();
    for result in &results {
        assert_eq!(
            result.as_ref().unwrap().0.id,
            first.id,
            "the others joined it"
        );
    }
    assert_eq!(
        store.get_job(&ws, &first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store
            .get_job(&WorkspaceId::generate(), &first.id)
            .await
            .unwrap(),
        None
    );

    // Updates are versioned; a stale one does not write.
    let running = SyncJob {
        status: JobStatus::Running,
        attempts: 1,
        version: 2,
        ..first.clone()
    };
    assert!(store.update_job(&running, &[]).await.unwrap());
    assert!(
        !store.update_job(&running, &[]).await.unwrap(),
        "version 2 again is stale"
    );
    let joined_message = OutboxEntry::new(
        ws.clone(),
        running.created_at,
        OutboxAction::Job {
            body: "joined".into(),
        },
    );
    let (still, new) = store
        .create_job(&job(&ws, uid, &connection), &[joined_message])
        .await
        .unwrap();
    assert!(!new);
    assert_eq!(still, running, "a running job is joined too");

    // Finishing frees the connection for the next job; other connections never waited.
    let done = SyncJob {
        status: JobStatus::Succeeded,
        version: 3,
        ..running
    };
    assert!(store.update_job(&done, &[]).await.unwrap());
    let next_message = OutboxEntry::new(
        ws.clone(),
        running.created_at,
        OutboxAction::Job {
            body: "next".into(),
        },
    );
    let (second, new) = store
        .create_job(
            &job(&ws, uid, &connection),
            std::slice::from_ref(&next_message),
        )
        .await
        .unwrap();
    assert!(new);
    // Only the job that was created has its message in the outbox.
    assert_eq!(
        ports
            .outbox
            .due_entries(running.created_at.plus_seconds(1), 10)
            .await
            .unwrap(),
        [next_message]
    );
    let elsewhere = job(&ws, uid, &ConnectionId::generate());
    assert!(store.create_job(&elsewhere, &[]).await.unwrap().1);

    // Newest first, a page at a time.
    let page = store
        .list_jobs(
            &ws,
            uid,
            &PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await
        .unwrap();
    let ids: Vec<JobId> = page.items.iter().map(|j| j.id.clone()).collect();
    assert_eq!(ids, vec![elsewhere.id.clone(), second.id.clone()]);
    let rest = store
        .list_jobs(
            &ws,
            uid,
            &PageRequest {
                limit: 2,
                after: page.next.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].id, first.id);
    assert_eq!(rest.next, None);

    // Deleting the user deletes their jobs.
    assert!(ports.users.delete_user(&ws, uid, &[]).await.unwrap());
    assert_eq!(store.get_job(&ws, &second.id).await.unwrap(), None);
    let none = store
        .list_jobs(
            &ws,
            uid,
            &PageRequest {
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();
    assert!(none.items.is_empty());
}
