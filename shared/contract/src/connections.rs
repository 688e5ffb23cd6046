//! The connection store's contract: one link per provider account, reconnection in place,
//! tokens replaced only by the writer that read the current version, cleanup with the user.

use std::collections::HashSet;
use vitasync_domain::connections::{Connection, ConnectionStatus, StoredTokens};
use vitasync_domain::kernel::ids::{ConnectionId, UserId, WorkspaceId};
use vitasync_domain::kernel::page::PageRequest;
use vitasync_domain::kernel::secrets::SealedSecret;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::Ports;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::tenancy::user::User;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_millis(1_790_000_000_000 + seconds * 1000).unwrap()
}

fn connection(
    ws: &WorkspaceId,
    user: &UserId,
    provider: ProviderId,
    account: &str,
    now: i64,
) -> Connection {
    Connection {
        scopes: vec!["user.metrics".into()],
        token_expires_at: Some(at(now + 3600)),
        ..Connection::new_active(ws.clone(), user.clone(), provider, account.into(), at(now))
    }
}

fn tokens(marker: u8) -> StoredTokens {
    StoredTokens {
        sealed: SealedSecret {
            wrapped_key: vec![marker; 8],
            nonce: vec![marker; 12],
            ciphertext: vec![marker; 32],
        },
        version: 1,
        expires_at: Some(at(3600)),
        refreshing_until: None,
    }
}

/// A user in a new workspace.
async fn new_user(ports: &Ports, external_id: &str) -> (WorkspaceId, User) {
    let ws = WorkspaceId::generate();
    let user = crate::fixtures::user_in(ports, &ws, external_id, at(0)).await;
    (ws, user)
}

pub async fn connection_store(ports: &Ports) {
    let store = &ports.connections;
    let (ws, user) = new_user(ports, "wearer").await;
    let uid = &user.id;

    let first = connection(&ws, uid, ProviderId::Withings, "12345", 10);
    let (stored, created) = store
        .upsert_connection(&first, &tokens(1), crate::fixtures::quietly())
        .await
        .unwrap();
    assert!(created);
    assert_eq!(stored, first);
    assert_eq!(
        store
            .get_connection(&ws, uid, &first.id)
            .await
            .unwrap()
            .unwrap(),
        first
    );
    assert_eq!(
        store
            .get_tokens(&ws, uid, &first.id)
            .await
            .unwrap()
            .unwrap(),
        tokens(1)
    );
    assert_eq!(
        store
            .get_connection(&WorkspaceId::generate(), uid, &first.id)
            .await
            .unwrap(),
        None
    );

    // The same account again: the same connection, active again, with the new tokens.
    let mut errored = first.clone();
    errored.status = ConnectionStatus::Error;
    errored.status_reason = Some("token_refresh_failed".into());
    assert!(store.update_connection(&errored, &[]).await.unwrap());
    let again = Connection {
        scopes: vec!["user.metrics".into(), "user.activity".into()],
        ..connection(&ws, uid, ProviderId::Withings, "12345", 20)
    };
    let (reconnected, created) = store
        .upsert_connection(&again, &tokens(2), crate::fixtures::quietly())
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(reconnected.id, first.id);
    assert_eq!(reconnected.connected_at, first.connected_at);
    assert_eq!(
        (reconnected.status, reconnected.status_reason.clone()),
        (ConnectionStatus::Active, None)
    );
    assert_eq!(reconnected.scopes, again.scopes);
    let stored_tokens = store
        .get_tokens(&ws, uid, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored_tokens.sealed, tokens(2).sealed);
    assert_eq!(stored_tokens.version, 2);

    // Another account or provider is another connection.
    let second = connection(&ws, uid, ProviderId::Withings, "67890", 30);
    let third = connection(&ws, uid, ProviderId::Oura, "12345", 40);
    assert!(
        store
            .upsert_connection(&second, &tokens(3), crate::fixtures::quietly())
            .await
            .unwrap()
            .1
    );
    assert!(
        store
            .upsert_connection(&third, &tokens(4), crate::fixtures::quietly())
            .await
            .unwrap()
            .1
    );
    let listed: Vec<_> = store
        .list_connections(&ws, uid)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        listed,
        [first.id.clone(), second.id.clone(), third.id.clone()]
    );

    // Concurrent refreshes from one version: exactly one wins.
    let candidates: Vec<StoredTokens> = (0..8u8).map(|n| tokens(10 + n)).collect();
    let racers = candidates
        .iter()
        .map(|candidate| store.replace_tokens(&ws, uid, &first.id, 2, candidate));
    let wins = futures::future::join_all(racers)
        .await
        .into_iter()
        .filter(|won| *won.as_ref().unwrap())
        .count();
    assert_eq!(wins, 1);
    let after = store
        .get_tokens(&ws, uid, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.version, 3);
    assert!(
        !store
            .replace_tokens(&ws, uid, &first.id, 2, &tokens(99))
            .await
            .unwrap(),
        "a stale version never writes"
    );

    // Deleting removes the tokens too, and frees the account for a fresh link.
    assert!(store.delete_connection(&ws, uid, &second.id).await.unwrap());
    assert!(!store.delete_connection(&ws, uid, &second.id).await.unwrap());
    assert_eq!(store.get_tokens(&ws, uid, &second.id).await.unwrap(), None);
    let relinked = connection(&ws, uid, ProviderId::Withings, "67890", 50);
    assert!(
        store
            .upsert_connection(&relinked, &tokens(5), crate::fixtures::quietly())
            .await
            .unwrap()
            .1
    );
    assert!(
        !store.update_connection(&second, &[]).await.unwrap(),
        "a deleted connection is not revived"
    );

    // Disconnecting keeps the connection (now disconnected) and drops its tokens; linking the
    // account again revives it in place with fresh tokens.
    let disconnected = Connection {
        status: ConnectionStatus::Disconnected,
        status_reason: Some("disconnected_by_api".into()),
        ..third.clone()
    };
    assert!(store.disconnect(&disconnected, &[]).await.unwrap());
    assert_eq!(store.get_tokens(&ws, uid, &third.id).await.unwrap(), None);
    assert_eq!(
        store.get_connection(&ws, uid, &third.id).await.unwrap(),
        Some(disconnected.clone())
    );
    assert!(
        !store
            .replace_tokens(&ws, uid, &third.id, 1, &tokens(6))
            .await
            .unwrap(),
        "no tokens, nothing to replace"
    );
    let (revived, created) = store
        .upsert_connection(
            &connection(&ws, uid, ProviderId::Oura, "12345", 60),
            &tokens(7),
            crate::fixtures::quietly(),
        )
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(
        (revived.id.clone(), revived.status),
        (third.id.clone(), ConnectionStatus::Active)
    );
    let revived_tokens = store
        .get_tokens(&ws, uid, &third.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revived_tokens.sealed, tokens(7).sealed);
    let unknown = Connection {
        id: ConnectionId::generate(),
        ..disconnected
    };
    assert!(!store.disconnect(&unknown, &[]).await.unwrap());

    // Deleting the user takes every connection and token with it.
    assert!(ports.users.delete_user(&ws, uid, &[]).await.unwrap());
    assert!(store.list_connections(&ws, uid).await.unwrap().is_empty());
    let ids: HashSet<_> = [first.id, third.id, relinked.id].into_iter().collect();
    for id in &ids {
        assert_eq!(store.get_tokens(&ws, uid, id).await.unwrap(), None);
    }
}

/// The scheduler's view: active connections of one provider not synced since a bound, least
/// recently synced first, paged; connections in error or disconnected are never due.
pub async fn connections_due(ports: &Ports) {
    let store = &ports.connections;
    let (ws, user) = new_user(ports, "polled").await;
    // A provider of its own, so connections other tests leave in a shared table stay out.
    let provider = ProviderId::Whoop;
    let mut ids = Vec::new();
    // Synced at 100, 200, …, 500 seconds, and one never synced.
    for n in 0..6i64 {
        let mut link = connection(&ws, &user.id, provider, &format!("due-{n}"), 0);
        let (stored, _) = store
            .upsert_connection(&link, &tokens(1), crate::fixtures::quietly())
            .await
            .unwrap();
        if n > 0 {
            link = Connection {
                last_synced_at: Some(at(n * 100)),
                ..stored
            };
            assert!(store.update_connection(&link, &[]).await.unwrap());
        }
        ids.push(link.id);
    }
    let (failed, _) = store
        .upsert_connection(
            &connection(&ws, &user.id, provider, "in-error", 0),
            &tokens(1),
            crate::fixtures::quietly(),
        )
        .await
        .unwrap();
    let failed = Connection {
        status: ConnectionStatus::Error,
        ..failed
    };
    assert!(store.update_connection(&failed, &[]).await.unwrap());
    let (gone, _) = store
        .upsert_connection(
            &connection(&ws, &user.id, provider, "gone", 0),
            &tokens(1),
            crate::fixtures::quietly(),
        )
        .await
        .unwrap();
    let gone = Connection {
        status: ConnectionStatus::Disconnected,
        ..gone
    };
    assert!(store.disconnect(&gone, &[]).await.unwrap());
    store
        .upsert_connection(
            &connection(&ws, &user.id, ProviderId::Oura, "elsewhere", 0),
            &tokens(1),
            crate::fixtures::quietly(),
        )
        .await
        .unwrap();

    // Before 350 s: the never-synced one, then those synced at 100, 200 and 300, two a page.
    let mut seen = Vec::new();
    let mut page = PageRequest {
        limit: 2,
        after: None,
    };
    loop {
        let due = store
            .connections_due(provider, at(350), &page)
            .await
            .unwrap();
        assert!(due.items.len() <= 2);
        seen.extend(due.items.into_iter().map(|c| c.id));
        match due.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids[..4].to_vec());

    // A sync moves a connection out of the due set; an error takes it out entirely.
    let synced = Connection {
        last_synced_at: Some(at(1000)),
        ..store
            .get_connection(&ws, &user.id, &ids[0])
            .await
            .unwrap()
            .unwrap()
    };
    assert!(store.update_connection(&synced, &[]).await.unwrap());
    let first = PageRequest {
        limit: 10,
        after: None,
    };
    let due = store
        .connections_due(provider, at(350), &first)
        .await
        .unwrap();
    let due: Vec<_> = due.items.into_iter().map(|c| c.id).collect();
    assert_eq!(due, ids[1..4].to_vec());
    let everything = store
        .connections_due(provider, at(10_000), &first)
        .await
        .unwrap();
    assert_eq!(
        everything.items.len(),
        6,
        "never the ones in error or disconnected"
    );

    // Deleting the user leaves nothing due.
    assert!(ports.users.delete_user(&ws, &user.id, &[]).await.unwrap());
    let after = store
        .connections_due(provider, at(10_000), &first)
        .await
        .unwrap();
    assert!(after.items.iter().all(|c| c.workspace_id != ws));
}

/// Provider call counters: a window holds exactly its limit, even under racing workers, and
/// each key counts on its own.
pub async fn call_counter(ports: &Ports) {
    let counter = &ports.calls;
    let key = format!("withings#60#{}", ConnectionId::generate());
    let expires = at(120);
    for _ in 0..3 {
        assert!(counter.try_count(&key, 3, expires).await.unwrap());
    }
    assert!(!counter.try_count(&key, 3, expires).await.unwrap());
    assert!(!counter.try_count(&key, 3, expires).await.unwrap());
    let other = format!("{key}-next");
    assert!(counter.try_count(&other, 3, expires).await.unwrap());

    let raced = format!("{key}-raced");
    let attempts = (0..8).map(|_| counter.try_count(&raced, 5, expires));
    let results = futures::future::join_all(attempts).await;
    let counted = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(counted, 5, "never more than the window holds");
}

/// Recording a sync moves only `last_synced_at`, only forward, and never revives a
/// connection that was disconnected meanwhile; an active one moves in the polling order.
pub async fn record_sync(ports: &Ports) {
    let store = &ports.connections;
    let (ws, user) = new_user(ports, "synced").await;
    let (active, _) = store
        .upsert_connection(
            &connection(&ws, &user.id, ProviderId::Polar, "a", 0),
            &tokens(1),
            crate::fixtures::quietly(),
        )
        .await
        .unwrap();
    store
        .record_sync(&ws, &user.id, &active.id, at(500))
        .await
        .unwrap();
    store
        .record_sync(&ws, &user.id, &active.id, at(300))
        .await
        .unwrap();
    let read = store
        .get_connection(&ws, &user.id, &active.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.last_synced_at, Some(at(500)), "never back");
    assert_eq!(read.status, ConnectionStatus::Active);
    let page = PageRequest {
        limit: 50,
        after: None,
    };
    let active_id = active.id.clone();
    let due = |before| {
        let (page, id) = (page.clone(), active_id.clone());
        async move {
            store
                .connections_due(ProviderId::Polar, before, &page)
                .await
                .unwrap()
                .items
                .into_iter()
                .any(|c| c.id == id)
        }
    };
    assert!(!due(at(400)).await, "synced at 500 is not due before 400");
    assert!(due(at(600)).await);

    let (gone, _) = store
        .upsert_connection(
            &connection(&ws, &user.id, ProviderId::Polar, "b", 0),
            &tokens(1),
            crate::fixtures::quietly(),
        )
        .await
        .unwrap();
    let disconnected = Connection {
        status: ConnectionStatus::Disconnected,
        ..gone.clone()
    };
    assert!(store.disconnect(&disconnected, &[]).await.unwrap());
    store
        .record_sync(&ws, &user.id, &gone.id, at(700))
        .await
        .unwrap();
    let read = store
        .get_connection(&ws, &user.id, &gone.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        read.status,
        ConnectionStatus::Disconnected,
        "a disconnection stands"
    );
    assert_eq!(read.last_synced_at, Some(at(700)));
    let still_due = store
        .connections_due(ProviderId::Polar, at(10_000), &page)
        .await
        .unwrap();
    assert!(
        !still_due.items.iter().any(|c| c.id == gone.id),
        "recording a sync does not put a disconnected connection back in the polling order"
    );
    let missing = ConnectionId::generate();
    store
        .record_sync(&ws, &user.id, &missing, at(1))
        .await
        .unwrap();
    assert!(
        store
            .get_connection(&ws, &user.id, &missing)
            .await
            .unwrap()
            .is_none()
    );
}

/// Connections of one provider account are found across workspaces and users, in any state,
/// and leave the lookup when deleted (alone or with their user).
pub async fn connections_for_account(ports: &Ports) {
    let store = &ports.connections;
    let (ws_a, alice) = new_user(ports, "alice").await;
    let (ws_b, bob) = new_user(ports, "bob").await;
    let account = format!("acct-{}", ConnectionId::generate());
    let a = connection(&ws_a, &alice.id, ProviderId::Strava, &account, 0);
    let b = connection(&ws_b, &bob.id, ProviderId::Strava, &account, 0);
    let other_provider = connection(&ws_a, &alice.id, ProviderId::Oura, &account, 0);
    let other_account = connection(&ws_b, &bob.id, ProviderId::Strava, "someone-else", 0);
    for item in [&a, &b, &other_provider, &other_account] {
        store
            .upsert_connection(item, &tokens(1), crate::fixtures::quietly())
            .await
            .unwrap();
    }
    let ids = |found: Vec<Connection>| {
        let mut ids: Vec<_> = found.into_iter().map(|c| c.id).collect();
        ids.sort();
        ids
    };
    let mut both = vec![a.id.clone(), b.id.clone()];
    both.sort();
    assert_eq!(
        ids(store
            .connections_for_account(ProviderId::Strava, &account)
            .await
            .unwrap()),
        both
    );

    // A disconnected connection is still found (a late deauthorisation is still about it).
    let disconnected = Connection {
        status: ConnectionStatus::Disconnected,
        ..a.clone()
    };
    assert!(store.disconnect(&disconnected, &[]).await.unwrap());
    let found = store
        .connections_for_account(ProviderId::Strava, &account)
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert!(
        found
            .iter()
            .any(|c| c.id == a.id && c.status == ConnectionStatus::Disconnected)
    );

    // Deleting the connection, or its user, takes it out of the lookup.
    assert!(
        store
            .delete_connection(&ws_a, &alice.id, &a.id)
            .await
            .unwrap()
    );
    assert!(ports.users.delete_user(&ws_b, &bob.id, &[]).await.unwrap());
    assert!(
        store
            .connections_for_account(ProviderId::Strava, &account)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ids(store
            .connections_for_account(ProviderId::Oura, &account)
            .await
            .unwrap()),
        vec![other_provider.id]
    );
}

/// A connection's writes commit their outbox entries with them: an upsert names the stored
/// connection (a refreshed one keeps its id), and nothing is written when nothing changed.
pub async fn connection_writes_commit_their_outbox_entries(ports: &Ports) {
    use std::sync::{Arc, Mutex};
    use vitasync_domain::kernel::outbox::{OutboxAction, OutboxEntry};
    let (ws, user) = new_user(ports, "outboxed").await;
    let entry = |body: String| OutboxEntry::new(ws.clone(), at(0), OutboxAction::Job { body });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let noting = {
        let (seen, ws) = (seen.clone(), ws.clone());
        Arc::new(move |stored: &Connection, created: bool| {
            seen.lock().unwrap().push((stored.id.clone(), created));
            vec![OutboxEntry::new(
                ws.clone(),
                at(0),
                OutboxAction::Job {
                    body: format!("{} {created}", stored.id),
                },
            )]
        })
    };
    let first = connection(&ws, &user.id, ProviderId::Oura, "acct", 0);
    let (stored, created) = ports
        .connections
        .upsert_connection(&first, &tokens(1), noting.clone())
        .await
        .unwrap();
    assert!(created);
    let again = connection(&ws, &user.id, ProviderId::Oura, "acct", 10);
    let (refreshed, created) = ports
        .connections
        .upsert_connection(&again, &tokens(2), noting)
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(refreshed.id, stored.id);
    // An adapter may ask for the entries of an attempt that then fails; only those of the
    // write that happened are committed (checked below).
    assert!(seen.lock().unwrap().contains(&(stored.id.clone(), false)));
    assert!(
        ports
            .connections
            .update_connection(&refreshed, &[entry("updated".into())])
            .await
            .unwrap()
    );
    assert!(
        ports
            .connections
            .disconnect(&refreshed, &[entry("disconnected".into())])
            .await
            .unwrap()
    );
    let stranger = connection(&ws, &user.id, ProviderId::Polar, "nobody", 0);
    assert!(
        !ports
            .connections
            .disconnect(&stranger, &[entry("never".into())])
            .await
            .unwrap()
    );
    let written = crate::outbox::bodies(&ports.outbox.due_entries(at(60), 10).await.unwrap());
    assert_eq!(written.len(), 4, "{written:?}");
    assert!(written.contains(&format!("{} true", stored.id)));
    assert!(written.contains(&format!("{} false", stored.id)));
    assert!(written.contains(&"updated".to_owned()));
    assert!(written.contains(&"disconnected".to_owned()));
}
