//! The session store's contract: found by id, ids unique, versioned updates.

use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::{UserId, WorkspaceId};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::mobile::sessions::{SessionId, UserSession};
use vitasync_domain::ports::Ports;

/// A fresh session of `user` in `ws`, started at `now`.
fn session_of(ws: &WorkspaceId, user: &UserId, now: Timestamp) -> UserSession {
    UserSession {
        id: SessionId::generate(),
        workspace_id: ws.clone(),
        user_id: user.clone(),
        access_hash: "a".repeat(64),
        access_expires_at: now.plus_seconds(3600),
        refresh_hash: "r".repeat(64),
        refresh_expires_at: now.plus_seconds(30 * 86_400),
        used_refresh_hashes: Vec::new(),
        revoked: false,
        created_at: now,
        version: 1,
    }
}

pub async fn session_store(ports: &Ports) {
    let store = &ports.sessions;
    let now = Timestamp::from_millis(1_790_000_000_000).unwrap();
    let session = session_of(&WorkspaceId::generate(), &UserId::generate(), now);
    store.insert_session(&session).await.unwrap();
    assert!(matches!(
        store.insert_session(&session).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.get_session(&session.id).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(
        store.get_session(&SessionId::generate()).await.unwrap(),
        None
    );

    let rotated = UserSession {
        refresh_hash: "s".repeat(64),
        used_refresh_hashes: vec!["r".repeat(64)],
        version: 2,
        ..session.clone()
    };
    assert!(store.update_session(&rotated).await.unwrap());
    // A writer that read version 1 loses.
    let stale = UserSession {
        revoked: true,
        version: 2,
        ..session.clone()
    };
    assert!(!store.update_session(&stale).await.unwrap());
    assert_eq!(store.get_session(&session.id).await.unwrap(), Some(rotated));
}

/// Erasing a user erases their sessions, and no one else's.
pub async fn sessions_go_with_their_user(ports: &Ports) {
    let now = Timestamp::from_millis(1_790_000_000_000).unwrap();
    let ws = WorkspaceId::generate();
    let leaving_user = crate::fixtures::user_in(ports, &ws, "leaving", now).await;
    let staying_user = crate::fixtures::user_in(ports, &ws, "staying", now).await;
    let leaving = [
        session_of(&ws, &leaving_user.id, now),
        session_of(&ws, &leaving_user.id, now),
    ];
    let staying = session_of(&ws, &staying_user.id, now);
    for session in leaving.iter().chain([&staying]) {
        ports.sessions.insert_session(session).await.unwrap();
    }
    assert!(
        ports
            .users
            .delete_user(&ws, &leaving_user.id, &[])
            .await
            .unwrap()
    );
    for session in &leaving {
        assert_eq!(ports.sessions.get_session(&session.id).await.unwrap(), None);
    }
    assert_eq!(
        ports.sessions.get_session(&staying.id).await.unwrap(),
        Some(staying)
    );
}
