//! The state store's contract: single use, expiry, and no second winner under concurrency.

use vitasync_domain::kernel::ids::{UserId, WorkspaceId};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::Ports;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::providers::oauth_state::{OAuthState, StateKind, new_token, state_key};

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_millis(1_790_000_000_000 + seconds * 1000).unwrap()
}

fn state(kind: StateKind, valid_until: i64) -> OAuthState {
    OAuthState {
        kind,
        workspace_id: WorkspaceId::generate(),
        user_id: UserId::generate(),
        provider: Some(ProviderId::Withings),
        allowed: vec![ProviderId::Withings, ProviderId::Oura],
        redirect_url: Some("https://app.example.com/done".into()),
        failure_redirect_url: None,
        pkce_verifier: Some("verifier-0123456789".into()),
        callback_url: Some("https://vitasync.example.com/v1/oauth/withings/callback".into()),
        app_id: Some(vitasync_domain::kernel::ids::AppId::generate()),
        link_key: Some("a-link's-state-key".into()),
        connection_id: None,
        expires_at: at(valid_until),
    }
}

pub async fn state_store(ports: &Ports) {
    let store = &ports.states;
    let key = state_key(&new_token());
    let link = state(StateKind::ConnectLink, 600);
    store.put_state(&key, &link).await.unwrap();

    // Looking does not use it up; taking does, once.
    assert_eq!(
        store.get_state(&key, at(0)).await.unwrap().as_ref(),
        Some(&link)
    );
    assert_eq!(
        store.get_state(&key, at(600)).await.unwrap(),
        None,
        "expired at its deadline"
    );
    assert_eq!(
        store.take_state(&key, at(1)).await.unwrap().as_ref(),
        Some(&link)
    );
    assert_eq!(
        store.take_state(&key, at(2)).await.unwrap(),
        None,
        "used once"
    );
    assert_eq!(store.get_state(&key, at(2)).await.unwrap(), None);

    let expired = state_key(&new_token());
    store
        .put_state(&expired, &state(StateKind::Authorization, 10))
        .await
        .unwrap();
    assert_eq!(store.take_state(&expired, at(11)).await.unwrap(), None);
    assert_eq!(
        store
            .take_state(&state_key("never issued"), at(0))
            .await
            .unwrap(),
        None
    );

    // Two callbacks racing with one state: one wins.
    let raced = state_key(&new_token());
    store
        .put_state(&raced, &state(StateKind::Authorization, 600))
        .await
        .unwrap();
    let takes = futures::future::join_all((0..6).map(|_| store.take_state(&raced, at(1)))).await;
    assert_eq!(
        takes
            .into_iter()
            .filter(|t| t.as_ref().unwrap().is_some())
            .count(),
        1
    );
}
