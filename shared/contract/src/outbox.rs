//! The outbox's contract: entries come back due-time first and stay until removed, and the
//! user writes that carry entries commit them with the change, only when the change happens.

use vitasync_domain::kernel::ids::WorkspaceId;
use vitasync_domain::kernel::outbox::{OutboxAction, OutboxEntry};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::Ports;
use vitasync_domain::tenancy::user::UserDraft;

fn job(ws: &WorkspaceId, due: Timestamp, body: &str) -> OutboxEntry {
    OutboxEntry::new(
        ws.clone(),
        due,
        OutboxAction::Job {
            body: body.to_owned(),
        },
    )
}

/// What each entry carries: a message's body, an event's type.
pub fn bodies(entries: &[OutboxEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|entry| match &entry.action {
            OutboxAction::Job { body } | OutboxAction::Delivery { body } => body.clone(),
            OutboxAction::Event { event_type, .. } => event_type.clone(),
        })
        .collect()
}

pub async fn outbox_store(ports: &Ports) {
    let outbox = &ports.outbox;
    let ws = WorkspaceId::generate();
    let t0 = Timestamp::from_millis(1_790_000_000_000).unwrap();
    let later = job(&ws, t0.plus_seconds(2), "later");
    let first = job(&ws, t0, "first");
    let future = job(&ws, t0.plus_seconds(600), "future");
    outbox
        .append(&[later.clone(), first.clone(), future.clone()])
        .await
        .unwrap();
    let due = outbox.due_entries(t0.plus_seconds(5), 10).await.unwrap();
    assert_eq!(bodies(&due), ["first", "later"]);
    assert_eq!(due[0], first, "an entry comes back as written");
    let one = outbox.due_entries(t0.plus_seconds(5), 1).await.unwrap();
    assert_eq!(bodies(&one), ["first"]);
    assert!(
        outbox
            .due_entries(t0.plus_seconds(-1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    outbox.remove_entry(&first).await.unwrap();
    outbox.remove_entry(&first).await.unwrap();
    let rest = outbox.due_entries(t0.plus_seconds(3600), 10).await.unwrap();
    assert_eq!(bodies(&rest), ["later", "future"]);
}

pub async fn user_writes_commit_their_entries_only_when_they_change_something(ports: &Ports) {
    let ws = WorkspaceId::generate();
    let now = Timestamp::from_millis(1_790_000_000_000).unwrap();
    let far = now.plus_seconds(3600);
    let draft = UserDraft {
        external_id: "outboxed".into(),
        ..UserDraft::default()
    };
    let patch = draft.as_patch();
    let (user, created) = ports
        .users
        .upsert_user(
            &draft.clone().into_user(ws.clone(), now),
            &patch,
            &[job(&ws, now, "created")],
        )
        .await
        .unwrap();
    assert!(created);
    let (_, created_again) = ports
        .users
        .upsert_user(
            &draft.into_user(ws.clone(), now),
            &patch,
            &[job(&ws, now, "created twice")],
        )
        .await
        .unwrap();
    assert!(!created_again);
    assert!(
        ports
            .users
            .delete_user(&ws, &user.id, &[job(&ws, now, "deleted")])
            .await
            .unwrap()
    );
    assert!(
        !ports
            .users
            .delete_user(&ws, &user.id, &[job(&ws, now, "deleted twice")])
            .await
            .unwrap()
    );
    let written = ports.outbox.due_entries(far, 10).await.unwrap();
    assert_eq!(bodies(&written), ["created", "deleted"]);
}

pub async fn health_writes_commit_their_entries(ports: &Ports) {
    use vitasync_domain::kernel::ids::{ConnectionId, UserId};
    use vitasync_domain::ports::RecordOwner;
    let ws = WorkspaceId::generate();
    let now = Timestamp::from_millis(1_790_000_000_000).unwrap();
    let owner = RecordOwner {
        workspace: ws.clone(),
        user: UserId::generate(),
        connection: ConnectionId::generate(),
    };
    // More records than one DynamoDB batch holds: the entry rides with the last of them.
    let records: Vec<(String, Vec<u8>)> = (0..30)
        .map(|n| (format!("M#steps#2026-01-{n:03}"), vec![n as u8]))
        .collect();
    ports
        .health
        .put_records(&owner, &records, &[job(&ws, now, "data.updated")])
        .await
        .unwrap();
    let stored = ports
        .health
        .get_records(&owner, &[records[29].0.clone()])
        .await
        .unwrap();
    assert_eq!(stored, [Some(vec![29])]);
    let written = ports
        .outbox
        .due_entries(now.plus_seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(bodies(&written), ["data.updated"]);
}
