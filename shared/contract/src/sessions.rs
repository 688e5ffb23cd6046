//! The session store's contract: found by id, ids unique, versioned updates.

use vitasync_domain::StoreError;
use vitasync_domain::ids::{UserId, WorkspaceId};
use vitasync_domain::ports::Ports;
use vitasync_domain::time::Timestamp;
use vitasync_domain::user::UserDraft;
use vitasync_domain::user_sessions::{SessionId, UserSession};

pub async fn session_store(ports: &Ports) {
    let store = &ports.sessions;
    let now = Timestamp::from_millis(1_790_000_000_000).unwrap();
    let session = UserSession {
        id: SessionId::generate(),
        workspace_id: WorkspaceId::generate(),
        user_id: UserId::generate(),
        access_hash: "a".repeat(64),
        access_expires_at: now.plus_seconds(3600),
        refresh_hash: "r".repeat(64),
        refresh_expires_at: now.plus_seconds(30 * 86_400),
        used_refresh_hashes: Vec::new(),
        revoked: false,
        created_at: now,
        version: 1,
    };
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
    let mut users = Vec::new();
    for external_id in ["leaving", "staying"] {
        let draft = UserDraft {
            external_id: external_id.into(),
            ..UserDraft::default()
        };
        let patch = draft.as_patch();
        let (user, _) = ports
            .users
            .upsert_user(&draft.into_user(ws.clone(), now), &patch)
            .await
            .unwrap();
        users.push(user);
    }
    let session_of = |user: &vitasync_domain::user::User| UserSession {
        id: SessionId::generate(),
        workspace_id: ws.clone(),
        user_id: user.id.clone(),
        access_hash: "a".repeat(64),
        access_expires_at: now.plus_seconds(3600),
        refresh_hash: "r".repeat(64),
        refresh_expires_at: now.plus_seconds(30 * 86_400),
        used_refresh_hashes: Vec::new(),
        revoked: false,
        created_at: now,
        version: 1,
    };
    let leaving = [session_of(&users[0]), session_of(&users[0])];
    let staying = session_of(&users[1]);
    for session in leaving.iter().chain([&staying]) {
        ports.sessions.insert_session(session).await.unwrap();
    }
    assert!(ports.users.delete_user(&ws, &users[0].id).await.unwrap());
    for session in &leaving {
        assert_eq!(ports.sessions.get_session(&session.id).await.unwrap(), None);
    }
    assert_eq!(
        ports.sessions.get_session(&staying.id).await.unwrap(),
        Some(staying)
    );
}
