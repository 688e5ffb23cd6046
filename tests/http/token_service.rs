//! Time-dependent behaviour, driven through the use cases with a clock the test moves: links
//! and authorizations expire, tokens are refreshed once however many callers race, and a
//! refused refresh puts the connection in `error`.

use crate::harness::{BASE, Host, harness, harness_on};
use secrecy::ExposeSecret;
use std::time::Duration;
use vitasync_contract::emulator;
use vitasync_domain::connections::ConnectionStatus;
use vitasync_domain::connections::tokens::{AccessError, REFRESH_FAILED};
use vitasync_domain::providers::ProviderId;

#[tokio::test]
async fn connect_links_and_authorizations_expire() {
    let h = harness(ProviderId::Oura).await;
    let token = h.link_token().await;
    h.clock.advance(601);
    assert_eq!(h.authorize(token).await.unwrap_err(), "invalid_link");

    // An authorization left too long at the consent screen cannot finish.
    let token = h.link_token().await;
    let consent = h.authorize(token).await.unwrap();
    let callback = h.consent(&consent).await;
    h.clock.advance(601);
    let failure = h
        .services
        .callback
        .complete_authorization("oura", callback, BASE)
        .await
        .unwrap_err();
    assert_eq!(failure.code, "invalid_state");
    assert_eq!(h.fake.token_calls(), 0);
    let listed = h
        .services
        .directory
        .list_connections(&h.caller, &h.user)
        .await
        .unwrap();
    assert!(listed.is_empty());
}

#[tokio::test]
async fn racing_refreshes_call_the_provider_once_and_share_the_new_token() {
    racing_refreshes(Host::Embedded).await;
}

#[tokio::test]
async fn racing_refreshes_on_dynamodb_and_kms_call_the_provider_once() {
    racing_refreshes(Host::Aws).await;
}

async fn racing_refreshes(host: Host) {
    let h = harness_on(host, ProviderId::Oura).await;
    let connection = h.connect().await;
    let before = h.services.tokens.access_token(&connection).await.unwrap();
    assert_eq!(h.fake.refresh_calls(), 0, "a fresh token is used as it is");

    // Past expiry, with a provider slow enough for the callers to overlap. Oura's refresh
    // tokens are single-use: a second refresh with the old one would be refused.
    h.clock.advance(86_400);
    h.fake.slow_refresh(Duration::from_millis(300));
    let (first, second) = tokio::join!(
        h.services.tokens.access_token(&connection),
        h.services.tokens.access_token(&connection)
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(
        h.fake.refresh_calls(),
        1,
        "exactly one call to the token endpoint"
    );
    assert_eq!(first.expose_secret(), second.expose_secret());
    assert_ne!(first.expose_secret(), before.expose_secret());

    // The new pair was stored: the next caller uses it without refreshing.
    let third = h.services.tokens.access_token(&connection).await.unwrap();
    assert_eq!(third.expose_secret(), first.expose_secret());
    assert_eq!(h.fake.refresh_calls(), 1);
    let refreshed = h.reread(&connection).await;
    assert!(refreshed.token_expires_at > connection.token_expires_at);
    assert_eq!(refreshed.status, ConnectionStatus::Active);

    // And the rotated refresh token works next time.
    h.clock.advance(86_400);
    h.fake.slow_refresh(Duration::ZERO);
    h.services.tokens.access_token(&connection).await.unwrap();
    assert_eq!(h.fake.refresh_calls(), 2);

    // Whatever the table holds, no token is readable in it.
    if let Some(table) = &h.table {
        let client = aws_sdk_dynamodb::Client::new(&emulator::sdk_config().await);
        let items = client.scan().table_name(table).send().await.unwrap();
        let dump = format!("{:?}", items.items());
        assert!(dump.contains("sealed"), "the scan sees the token items");
        for token in h.fake.issued_tokens() {
            assert!(
                !dump.contains(&token),
                "a provider token is stored in plaintext"
            );
        }
    }
}

/// The operator rotates the app's client secret at the provider and in Secrets Manager; the
/// running function reads the new one when the provider refuses the old, without a redeploy.
#[tokio::test]
async fn a_client_secret_rotated_in_secrets_manager_is_read_again_when_refused() {
    let h = harness_on(Host::Aws, ProviderId::Oura).await;
    let connection = h.connect().await;
    let token_calls = h.fake.token_calls();
    h.fake.rotate_client_secret("rotated-client-secret");
    vitasync_contract::fixtures::rotate_secret(
        &h.secret_names["OURA_CLIENT_SECRET"],
        "rotated-client-secret",
    )
    .await;

    h.clock.advance(86_400);
    let fresh = h.services.tokens.access_token(&connection).await;
    assert!(fresh.is_ok(), "{:?}", fresh.err());
    assert_eq!(
        h.fake.token_calls(),
        token_calls + 2,
        "refused once with the old secret, then granted with the new"
    );
    assert_eq!(h.reread(&connection).await.status, ConnectionStatus::Active);
}

#[tokio::test]
async fn a_refused_refresh_marks_the_connection_in_error() {
    let h = harness(ProviderId::Withings).await;
    let connection = h.connect().await;
    h.clock.advance(10_800);
    h.fake.refuse_refresh();
    let err = h
        .services
        .tokens
        .access_token(&connection)
        .await
        .unwrap_err();
    assert!(matches!(err, AccessError::Refused), "{err:?}");
    let failed = h.reread(&connection).await;
    assert_eq!(failed.status, ConnectionStatus::Error);
    assert_eq!(failed.status_reason.as_deref(), Some(REFRESH_FAILED));

    // Reconnecting the account makes it active again.
    let again = h.connect().await;
    assert_eq!(again.id, connection.id);
    assert_eq!(again.status, ConnectionStatus::Active);
    assert_eq!(again.status_reason, None);
}

#[tokio::test]
async fn a_disconnected_connection_has_no_token_to_give() {
    let h = harness(ProviderId::Whoop).await;
    let connection = h.connect().await;
    h.services
        .disconnector
        .disconnect(&h.caller, &h.user, connection.id.as_str())
        .await
        .unwrap();
    assert!(matches!(
        h.services
            .tokens
            .access_token(&connection)
            .await
            .unwrap_err(),
        AccessError::NotConnected
    ));
    assert_eq!(h.fake.requests_to("/v2/user/access").len(), 1);
}
