//! The store ports' contract: uniqueness, upserts under concurrency, pagination, isolation.

use serde_json::json;
use std::collections::HashSet;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::ids::{ApiKeyId, UserId, WorkspaceId};
use vitasync_domain::kernel::page::PageRequest;
use vitasync_domain::kernel::scope::Scope;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::Ports;
use vitasync_domain::tenancy::api_key::{ApiKeyRecord, KeyHash};
use vitasync_domain::tenancy::user::{User, UserDraft, UserPatch};
use vitasync_domain::tenancy::workspace::Workspace;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_millis(1_790_000_000_000 + seconds * 1000).unwrap()
}

fn workspace(slug: &str) -> Workspace {
    Workspace {
        id: WorkspaceId::generate(),
        slug: slug.into(),
        name: slug.to_uppercase(),
        created_at: at(0),
    }
}

fn key(workspace: &WorkspaceId, secret: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: ApiKeyId::generate(),
        workspace_id: workspace.clone(),
        name: format!("key {secret}"),
        scopes: vec![Scope::Read, Scope::Write],
        root: false,
        hash: KeyHash::of(secret),
        prefix: secret.chars().take(12).collect(),
        created_at: at(1),
        expires_at: Some(at(3600)),
        rotated_at: None,
    }
}

fn draft(external_id: &str) -> UserDraft {
    UserDraft {
        external_id: external_id.into(),
        ..UserDraft::default()
    }
}

fn page(limit: usize, after: Option<String>) -> PageRequest {
    PageRequest { limit, after }
}

pub async fn workspace_store(ports: &Ports) {
    let store = &ports.workspaces;
    let mut created = Vec::new();
    for n in 0..5 {
        let ws = workspace(&format!("tenant-{n}"));
        let first = key(&ws.id, &format!("secret-{n}"));
        store.create_workspace(&ws, &first).await.unwrap();
        created.push(ws);
    }
    let first = &created[0];
    assert_eq!(
        store.get_workspace(&first.id).await.unwrap().as_ref(),
        Some(first)
    );
    assert_eq!(
        store.workspace_by_slug("tenant-0").await.unwrap().as_ref(),
        Some(first)
    );
    assert_eq!(store.workspace_by_slug("nobody").await.unwrap(), None);
    assert_eq!(
        store.get_workspace(&WorkspaceId::generate()).await.unwrap(),
        None
    );
    let first_key = ports
        .api_keys
        .key_by_hash(&KeyHash::of("secret-0"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        first_key.workspace_id, first.id,
        "the first key is stored with the workspace"
    );

    // A taken slug is refused, and nothing of the refused create is stored.
    let clash = workspace("tenant-3");
    let clash_key = key(&clash.id, "secret-clash");
    assert!(matches!(
        store.create_workspace(&clash, &clash_key).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.get_workspace(&clash.id).await.unwrap(), None);
    assert_eq!(
        ports.api_keys.key_by_hash(&clash_key.hash).await.unwrap(),
        None
    );

    // Pages of two walk all five in creation order.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let got = store.list_workspaces(&page(2, after)).await.unwrap();
        assert!(got.items.len() <= 2);
        seen.extend(got.items.into_iter().map(|ws| ws.slug));
        match got.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let expected: Vec<_> = (0..5).map(|n| format!("tenant-{n}")).collect();
    assert_eq!(seen, expected);
}

pub async fn api_key_store(ports: &Ports) {
    let store = &ports.api_keys;
    let ws = WorkspaceId::generate();
    let other_ws = WorkspaceId::generate();
    let a = key(&ws, "secret-a");
    let b = key(&ws, "secret-b");
    store.insert_key(&a).await.unwrap();
    store.insert_key(&b).await.unwrap();
    store
        .insert_key(&key(&other_ws, "secret-other"))
        .await
        .unwrap();

    let duplicate = key(&ws, "secret-a");
    assert!(matches!(
        store.insert_key(&duplicate).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.get_key(&ws, &duplicate.id).await.unwrap(), None);

    assert_eq!(store.key_by_hash(&a.hash).await.unwrap().as_ref(), Some(&a));
    assert_eq!(store.key_by_hash(&KeyHash::of("nope")).await.unwrap(), None);
    assert_eq!(store.get_key(&ws, &a.id).await.unwrap().as_ref(), Some(&a));
    assert_eq!(
        store.get_key(&other_ws, &a.id).await.unwrap(),
        None,
        "scoped by workspace"
    );
    let listed: Vec<_> = store
        .list_keys(&ws)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(listed, [a.id.clone(), b.id.clone()]);

    // Rotation: same key, new hash; the old hash stops resolving in the same step.
    let new_hash = KeyHash::of("secret-a2");
    let rotated = store
        .replace_key_secret(&ws, &a.id, &new_hash, "secret-a2", at(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (rotated.id.clone(), rotated.hash.clone()),
        (a.id.clone(), new_hash.clone())
    );
    assert_eq!(rotated.rotated_at, Some(at(60)));
    assert_eq!(store.key_by_hash(&a.hash).await.unwrap(), None);
    assert_eq!(
        store.key_by_hash(&new_hash).await.unwrap().unwrap().id,
        a.id
    );
    assert_eq!(
        store.get_key(&ws, &a.id).await.unwrap().unwrap().hash,
        new_hash
    );
    assert!(matches!(
        store
            .replace_key_secret(&ws, &a.id, &b.hash, "x", at(61))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.key_by_hash(&new_hash).await.unwrap().unwrap().id,
        a.id,
        "refused rotation changed nothing"
    );
    assert_eq!(
        store
            .replace_key_secret(&other_ws, &a.id, &KeyHash::of("z"), "z", at(62))
            .await
            .unwrap(),
        None
    );

    // Deletion is immediate both ways, and only in the key's own workspace.
    assert!(!store.delete_key(&other_ws, &b.id).await.unwrap());
    assert!(store.delete_key(&ws, &b.id).await.unwrap());
    assert_eq!(store.key_by_hash(&b.hash).await.unwrap(), None);
    assert_eq!(store.get_key(&ws, &b.id).await.unwrap(), None);
    assert!(!store.delete_key(&ws, &b.id).await.unwrap());
    assert_eq!(store.list_keys(&ws).await.unwrap().len(), 1);
}

async fn upsert(ports: &Ports, ws: &WorkspaceId, draft: UserDraft, now: Timestamp) -> (User, bool) {
    let patch = draft.as_patch();
    ports
        .users
        .upsert_user(&draft.into_user(ws.clone(), now), &patch, &[])
        .await
        .unwrap()
}

pub async fn user_store(ports: &Ports) {
    let store = &ports.users;
    let ws = WorkspaceId::generate();
    let other_ws = WorkspaceId::generate();
    store.ping().await.unwrap();

    let metadata =
        json!({"plan": "pro", "nested": {"n": 1.5, "list": [1, "two", null, true]}, "empty": ""});
    let rich = UserDraft {
        email: Some("ada@example.com".into()),
        metadata: metadata.as_object().cloned(),
        ..draft("ada")
    };
    let (ada, created) = upsert(ports, &ws, rich, at(0)).await;
    assert!(created);
    let stored = store.get_user(&ws, &ada.id).await.unwrap().unwrap();
    assert_eq!(stored, ada, "every field round-trips, metadata included");
    assert_eq!(serde_json::Value::Object(stored.metadata), metadata);

    // Same external id: the existing user, updated with what was sent.
    let again = UserDraft {
        display_name: Some("Ada L.".into()),
        ..draft("ada")
    };
    let (updated, created) = upsert(ports, &ws, again, at(10)).await;
    assert!(!created);
    assert_eq!(updated.id, ada.id);
    assert_eq!(updated.display_name.as_deref(), Some("Ada L."));
    assert_eq!(updated.email.as_deref(), Some("ada@example.com"));
    assert_eq!((updated.created_at, updated.updated_at), (at(0), at(10)));
    assert_eq!(
        store.get_user(&ws, &ada.id).await.unwrap().unwrap(),
        updated
    );

    // Concurrent upserts of one external id end in one user.
    let racers = (0..20).map(|_| upsert(ports, &ws, draft("racer"), at(20)));
    let results = futures::future::join_all(racers).await;
    let ids: HashSet<_> = results.iter().map(|(user, _)| user.id.clone()).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);

    // The same external id in another workspace is another user; neither sees the other.
    let (twin, created) = upsert(ports, &other_ws, draft("ada"), at(30)).await;
    assert!(created);
    assert_ne!(twin.id, ada.id);
    assert_eq!(store.get_user(&other_ws, &ada.id).await.unwrap(), None);
    assert_eq!(
        store
            .user_by_external_id(&other_ws, "ada")
            .await
            .unwrap()
            .unwrap()
            .id,
        twin.id
    );
    assert_eq!(
        store
            .user_by_external_id(&ws, "ada")
            .await
            .unwrap()
            .unwrap()
            .id,
        ada.id
    );
    assert_eq!(
        store.user_by_external_id(&ws, "nobody").await.unwrap(),
        None
    );

    // Pages of two over five users, in creation order, each once.
    let mut expected = vec![ada.id.clone(), results[0].0.id.clone()];
    for n in 0..3 {
        expected.push(
            upsert(ports, &ws, draft(&format!("page-{n}")), at(40))
                .await
                .0
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let got = store.list_users(&ws, &page(2, after)).await.unwrap();
        assert!(got.items.len() <= 2);
        seen.extend(got.items.into_iter().map(|user| user.id));
        match got.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, expected);

    // Changing the external id moves its guard; a taken one is refused and changes nothing.
    let rename = UserPatch {
        external_id: Some("ada-lovelace".into()),
        email: Some(None),
        ..UserPatch::default()
    };
    let renamed = store
        .update_user(&ws, &ada.id, &rename, at(50))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (renamed.external_id.as_str(), renamed.email.as_deref()),
        ("ada-lovelace", None)
    );
    assert_eq!(store.user_by_external_id(&ws, "ada").await.unwrap(), None);
    assert_eq!(
        store
            .user_by_external_id(&ws, "ada-lovelace")
            .await
            .unwrap()
            .unwrap()
            .id,
        ada.id
    );
    let (newcomer, created) = upsert(ports, &ws, draft("ada"), at(55)).await;
    assert!(created, "the old external id is free again");
    let steal = UserPatch {
        external_id: Some("racer".into()),
        display_name: Some(Some("thief".into())),
        ..UserPatch::default()
    };
    assert!(matches!(
        store.update_user(&ws, &newcomer.id, &steal, at(60)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.get_user(&ws, &newcomer.id).await.unwrap().unwrap(),
        newcomer
    );
    assert_eq!(
        store
            .update_user(&other_ws, &ada.id, &rename, at(61))
            .await
            .unwrap(),
        None
    );
    let unchanged = store
        .update_user(&ws, &ada.id, &rename, at(62))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        unchanged.updated_at,
        at(50),
        "a patch that changes nothing does not touch"
    );

    // Deleting frees the external id and is scoped by workspace.
    assert!(!store.delete_user(&other_ws, &ada.id, &[]).await.unwrap());
    assert!(store.delete_user(&ws, &ada.id, &[]).await.unwrap());
    assert_eq!(store.get_user(&ws, &ada.id).await.unwrap(), None);
    assert_eq!(
        store
            .user_by_external_id(&ws, "ada-lovelace")
            .await
            .unwrap(),
        None
    );
    assert!(!store.delete_user(&ws, &ada.id, &[]).await.unwrap());
    assert!(
        !store
            .delete_user(&ws, &UserId::generate(), &[])
            .await
            .unwrap()
    );
    let (reborn, created) = upsert(ports, &ws, draft("ada-lovelace"), at(70)).await;
    assert!(created);
    assert_ne!(reborn.id, ada.id);
}
