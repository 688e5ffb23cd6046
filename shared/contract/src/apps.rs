//! Workspaces' own provider apps: one per workspace and provider, found by id too, replaced in
//! place, deleted from both ways of finding it.

use vitasync_domain::kernel::ids::{AppId, WorkspaceId};
use vitasync_domain::kernel::secrets::SealedSecret;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::Ports;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::providers::apps::ProviderApp;

fn app(workspace: &WorkspaceId, provider: ProviderId, client_id: &str, at: i64) -> ProviderApp {
    ProviderApp {
        id: AppId::generate(),
        workspace_id: workspace.clone(),
        provider,
        client_id: client_id.into(),
        sealed: SealedSecret {
            wrapped_key: vec![1; 8],
            nonce: vec![2; 12],
            ciphertext: client_id.as_bytes().to_vec(),
        },
        has_webhook_secret: false,
        has_verify_token: true,
        region: None,
        configured_at: Timestamp::from_millis(1_790_000_000_000 + at).unwrap(),
    }
}

pub async fn provider_app_store(ports: &Ports) {
    let store = &ports.apps;
    let (first, second) = (WorkspaceId::generate(), WorkspaceId::generate());
    let strava = app(&first, ProviderId::Strava, "first-strava", 0);
    assert_eq!(
        store.get_app(&first, ProviderId::Strava).await.unwrap(),
        None
    );
    store.put_app(&strava).await.unwrap();
    assert_eq!(
        store.get_app(&first, ProviderId::Strava).await.unwrap(),
        Some(strava.clone())
    );
    assert_eq!(
        store.app_by_id(&strava.id).await.unwrap(),
        Some(strava.clone())
    );

    // Another workspace's app of the same provider is its own.
    let theirs = app(&second, ProviderId::Strava, "second-strava", 0);
    store.put_app(&theirs).await.unwrap();
    assert_eq!(
        store.get_app(&first, ProviderId::Strava).await.unwrap(),
        Some(strava.clone())
    );
    assert_eq!(
        store.app_by_id(&theirs.id).await.unwrap(),
        Some(theirs.clone())
    );
    assert_eq!(store.get_app(&first, ProviderId::Oura).await.unwrap(), None);
    let oura = app(&first, ProviderId::Oura, "first-oura", 0);
    store.put_app(&oura).await.unwrap();
    let mut listed = store.list_apps(&first).await.unwrap();
    listed.sort_by_key(|app| app.provider);
    assert_eq!(listed, vec![strava.clone(), oura.clone()]);
    assert_eq!(
        store.list_apps(&second).await.unwrap(),
        vec![theirs.clone()]
    );
    assert_eq!(
        store.delete_app(&first, ProviderId::Oura).await.unwrap(),
        Some(oura)
    );

    // Replaced in place: the same id, the new credentials.
    let rotated = ProviderApp {
        client_id: "first-strava-2".into(),
        configured_at: Timestamp::from_millis(1_790_000_060_000).unwrap(),
        ..strava.clone()
    };
    store.put_app(&rotated).await.unwrap();
    assert_eq!(
        store.get_app(&first, ProviderId::Strava).await.unwrap(),
        Some(rotated.clone())
    );
    assert_eq!(
        store.app_by_id(&strava.id).await.unwrap(),
        Some(rotated.clone())
    );

    // A new app in the same place no longer answers to the old id.
    let replacement = app(&first, ProviderId::Strava, "first-strava-3", 120_000);
    store.put_app(&replacement).await.unwrap();
    assert_eq!(store.app_by_id(&strava.id).await.unwrap(), None);
    assert_eq!(
        store.app_by_id(&replacement.id).await.unwrap(),
        Some(replacement.clone())
    );

    assert_eq!(
        store.delete_app(&first, ProviderId::Strava).await.unwrap(),
        Some(replacement.clone())
    );
    assert_eq!(
        store.get_app(&first, ProviderId::Strava).await.unwrap(),
        None
    );
    assert_eq!(store.app_by_id(&replacement.id).await.unwrap(), None);
    assert_eq!(
        store.delete_app(&first, ProviderId::Strava).await.unwrap(),
        None
    );
    assert_eq!(store.app_by_id(&theirs.id).await.unwrap(), Some(theirs));
}
