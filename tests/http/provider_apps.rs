//! Workspaces' own provider apps, on both hosts: two workspaces, two apps of one provider, each
//! connection made, refreshed and notified with its own workspace's app, neither workspace able
//! to use or see the other's; the secrets sealed at rest and never told back.

use crate::harness::{BASE, Harness, Host, harness_on, on_both_hosts};
use crate::oauth_flow::query;
use crate::webhooks_in::{fixture, oura_headers, post};
use secrecy::{ExposeSecret, SecretString};
use vitasync_contract::emulator;
use vitasync_domain::DomainError;
use vitasync_domain::connections::ConnectionStatus;
use vitasync_domain::inbound::push::PushReply;
use vitasync_domain::kernel::ids::WorkspaceId;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::providers::credentials::AppCredentials;
use vitasync_domain::sync::jobs::JobMessage;
use vitasync_domain::tenancy::api_key::Principal;
use vitasync_domain::tenancy::user::UserDraft;
use vitasync_tests::fake_provider::CLIENT_ID;

const FIRST_ID: &str = "first-team-oura-app";
const FIRST_SECRET: &str = "first-team-secret-never-shown";
const SECOND_ID: &str = "second-team-oura-app";
const SECOND_SECRET: &str = "second-team-secret-never-shown";

/// A new workspace, its admin, and one user in it.
async fn team(h: &Harness, slug: &str) -> (Principal, String) {
    let (_, key) = h
        .services
        .tenancy
        .create_workspace(&h.caller, slug, None)
        .await
        .unwrap();
    let admin = h
        .services
        .authenticator
        .authenticate(Some(key.secret.expose_secret()))
        .await
        .unwrap();
    let draft = UserDraft {
        external_id: format!("{slug}-wearer"),
        ..UserDraft::default()
    };
    let (user, _) = h.services.users.upsert_user(&admin, draft).await.unwrap();
    (admin, user.id.to_string())
}

fn credentials(client_id: &str, secret: &str) -> AppCredentials {
    AppCredentials {
        client_id: client_id.into(),
        client_secret: SecretString::from(secret),
        webhook_secret: None,
        verify_token: Some(SecretString::from(format!("{client_id}-verify"))),
        subscription_key: None,
        region: None,
    }
}

/// The workspaces whose sync jobs were queued since the last call.
fn queued_for(h: &Harness) -> Vec<WorkspaceId> {
    let workspaces = h
        .queue
        .sent()
        .iter()
        .filter_map(|message| serde_json::from_str::<JobMessage>(&message.body).ok())
        .map(|message| message.workspace_id)
        .collect();
    h.queue.forget();
    workspaces
}

async fn two_workspaces_each_use_their_own_app(host: Host) {
    let h = harness_on(host, ProviderId::Oura).await;
    h.fake.register_app(FIRST_ID, FIRST_SECRET);
    h.fake.register_app(SECOND_ID, SECOND_SECRET);
    let (first, first_user) = team(&h, "first-team").await;
    let (second, second_user) = team(&h, "second-team").await;
    let apps = &h.services.provider_credentials;

    let configured = apps
        .configure(&first, "oura", credentials(FIRST_ID, FIRST_SECRET))
        .await
        .unwrap();
    let first_app = configured.app.clone().unwrap();
    assert_eq!(first_app.client_id, FIRST_ID);
    assert!(first_app.has_verify_token && !first_app.has_webhook_secret);
    assert_eq!(
        first_app.webhook_url.as_deref(),
        Some(format!("{BASE}/webhooks/oura/{}", first_app.id).as_str()),
        "the app's own push URL names it"
    );
    assert_eq!(
        configured.callback_url.as_deref(),
        Some(format!("{BASE}/v1/oauth/oura/callback").as_str())
    );
    let second_app = apps
        .configure(&second, "oura", credentials(SECOND_ID, SECOND_SECRET))
        .await
        .unwrap()
        .app
        .unwrap();
    assert_ne!(first_app.id, second_app.id);
    // Each workspace sees its own app, and only its client id: never a secret.
    let seen = apps.get(&second, "oura").await.unwrap();
    assert_eq!(seen.app.as_ref().unwrap().id, second_app.id);
    assert!(!format!("{seen:?}").contains(SECOND_SECRET));
    assert!(apps.get(&h.caller, "oura").await.unwrap().app.is_none());

    // The consent screen is each workspace's own app's.
    let token = h.link_token_for(&first, &first_user).await;
    let consent = h.authorize_for(&first_user, token).await.unwrap();
    assert_eq!(query(&consent)["client_id"], FIRST_ID);
    let first_connection = h.connect_as(&first, &first_user).await.unwrap();
    let second_connection = h.connect_as(&second, &second_user).await.unwrap();
    assert_eq!(first_connection.app_id.as_ref(), Some(&first_app.id));
    assert_eq!(second_connection.app_id.as_ref(), Some(&second_app.id));
    let deployment_connection = h.connect().await;
    assert_eq!(deployment_connection.app_id, None);

    // Refreshes use the connection's app: the provider takes a refresh token only from the
    // app it issued it to.
    h.clock.advance(86_400);
    for connection in [
        &first_connection,
        &second_connection,
        &deployment_connection,
    ] {
        let refreshed = h.services.tokens.access_token(connection).await;
        assert!(refreshed.is_ok(), "{:?}", refreshed.err());
        assert_eq!(h.reread(connection).await.status, ConnectionStatus::Active);
    }

    // A push to an app's URL is checked with that app's secret and reaches only the
    // connections made with it, though all three are the same Oura account.
    let body = fixture("oura/webhook-event.json");
    let now = h.now_seconds();
    let push = |app: Option<String>, secret: &'static str| {
        let request = post(&oura_headers(&body, now, secret), &body);
        let pushes = h.services.pushes.clone();
        async move {
            pushes
                .receive_push("oura", app.as_deref(), &request)
                .await
                .unwrap()
        }
    };
    queued_for(&h);
    let first_url = Some(first_app.id.to_string());
    assert_eq!(
        push(first_url.clone(), SECOND_SECRET).await,
        PushReply::status(401),
        "another app's secret does not sign for this one"
    );
    assert_eq!(
        push(first_url.clone(), FIRST_SECRET).await,
        PushReply::status(200)
    );
    h.relay().await;
    assert_eq!(queued_for(&h), vec![first.workspace_id.clone()]);
    assert_eq!(
        push(Some(second_app.id.to_string()), SECOND_SECRET).await,
        PushReply::status(200)
    );
    h.relay().await;
    assert_eq!(queued_for(&h), vec![second.workspace_id.clone()]);
    assert_eq!(
        push(None, FIRST_SECRET).await,
        PushReply::status(401),
        "a workspace's secret does not sign for the deployment's app"
    );
    let unknown = h
        .services
        .pushes
        .receive_push(
            "oura",
            Some(&WorkspaceId::generate().to_string()),
            &post(&[], &body),
        )
        .await;
    assert!(
        matches!(unknown, Err(DomainError::NotFound(_))),
        "{unknown:?}"
    );
    let wrong_provider = h
        .services
        .pushes
        .receive_push("whoop", first_url.as_deref(), &post(&[], &body))
        .await;
    assert!(matches!(wrong_provider, Err(DomainError::NotFound(_))));

    // Removing the app: new connections use the deployment's again; those made with the
    // removed app cannot refresh.
    apps.remove(&first, "oura").await.unwrap();
    assert!(apps.get(&first, "oura").await.unwrap().app.is_none());
    assert!(matches!(
        apps.remove(&first, "oura").await,
        Err(DomainError::NotFound(_))
    ));
    let token = h.link_token_for(&first, &first_user).await;
    let consent = h.authorize_for(&first_user, token).await.unwrap();
    assert_eq!(query(&consent)["client_id"], CLIENT_ID);
    h.clock.advance(86_400);
    assert!(
        h.services
            .tokens
            .access_token(&first_connection)
            .await
            .is_err()
    );
    assert!(
        h.services
            .tokens
            .access_token(&second_connection)
            .await
            .is_ok()
    );

    // At rest the secrets are sealed.
    let stored = match &h.table {
        Some(table) => {
            let client = aws_sdk_dynamodb::Client::new(&emulator::sdk_config().await);
            let items = client.scan().table_name(table).send().await.unwrap();
            format!("{:?}", items.items())
        }
        None => String::new(),
    };
    if h.table.is_some() {
        assert!(stored.contains(SECOND_ID), "the scan sees the app");
        assert!(
            !stored.contains(SECOND_SECRET),
            "an app secret in plaintext"
        );
    }
}

async fn app_credentials_are_checked_and_admin_only(host: Host) {
    let h = harness_on(host, ProviderId::Oura).await;
    let (admin, _) = team(&h, "checked-team").await;
    let apps = &h.services.provider_credentials;
    let field = |result: Result<_, DomainError>| match result {
        Err(DomainError::Validation { field, .. }) => field,
        other => panic!("not a validation error: {other:?}"),
    };
    let with = |change: fn(&mut AppCredentials)| {
        let mut given = credentials("an-id", "a-secret");
        change(&mut given);
        given
    };
    assert_eq!(
        field(
            apps.configure(&admin, "oura", with(|c| c.client_id = " padded ".into()))
                .await
        ),
        "clientId"
    );
    assert_eq!(
        field(
            apps.configure(
                &admin,
                "oura",
                with(|c| c.client_secret = SecretString::from(""))
            )
            .await
        ),
        "clientSecret"
    );
    assert_eq!(
        field(
            apps.configure(
                &admin,
                "oura",
                with(|c| c.webhook_secret = Some(SecretString::from("x")))
            )
            .await
        ),
        "webhookSecret",
        "Oura signs with the client secret"
    );
    let mut garmin = credentials("garmin-id", "garmin-secret");
    garmin.verify_token = None;
    garmin.webhook_secret = Some(SecretString::from("short"));
    assert_eq!(
        field(apps.configure(&admin, "garmin", garmin).await),
        "webhookSecret",
        "Garmin's path secret must be long and URL-safe"
    );
    // Suunto's gateway wants its subscription key on every call; nobody else takes one.
    let bare = |client: &str| AppCredentials {
        verify_token: None,
        ..credentials(client, "a-secret")
    };
    assert_eq!(
        field(apps.configure(&admin, "suunto", bare("suunto-id")).await),
        "subscriptionKey"
    );
    let keyed = AppCredentials {
        subscription_key: Some(SecretString::from("a-key")),
        ..bare("whoop-id")
    };
    assert_eq!(
        field(apps.configure(&admin, "whoop", keyed).await),
        "subscriptionKey"
    );
    // Dexcom's apps belong to one region; no one else has regions.
    let far = AppCredentials {
        region: Some("mars".into()),
        ..bare("dexcom-id")
    };
    assert_eq!(field(apps.configure(&admin, "dexcom", far).await), "region");
    let regional = AppCredentials {
        region: Some("eu".into()),
        ..bare("whoop-id")
    };
    assert_eq!(
        field(apps.configure(&admin, "whoop", regional).await),
        "region"
    );
    assert_eq!(
        field(apps.configure(&admin, "demo", credentials("x", "y")).await),
        "providerId"
    );
    assert!(matches!(
        apps.configure(&admin, "jawbone", credentials("x", "y"))
            .await,
        Err(DomainError::NotFound(_))
    ));
    let reader = h
        .services
        .tenancy
        .create_key(
            &admin,
            vitasync_domain::tenancy::KeyRequest {
                name: "reader".into(),
                scopes: vec![vitasync_domain::kernel::scope::Scope::Write],
                expires_at: None,
            },
        )
        .await
        .unwrap();
    let reader = h
        .services
        .authenticator
        .authenticate(Some(reader.secret.expose_secret()))
        .await
        .unwrap();
    assert!(matches!(
        apps.configure(&reader, "oura", credentials("x", "y")).await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        apps.get(&reader, "oura").await,
        Err(DomainError::Forbidden(_))
    ));
}

/// A workspace's own app subscribes to its own webhook URL, with its own credentials, and its
/// handshakes are checked with its own verify token; per-user subscriptions name it too.
async fn a_workspace_app_subscribes_to_its_own_url(host: Host) {
    let h = harness_on(host, ProviderId::Oura).await;
    h.fake.register_app(FIRST_ID, FIRST_SECRET);
    let (admin, _) = team(&h, "subscribing-team").await;
    let app = h
        .services
        .provider_credentials
        .configure(&admin, "oura", credentials(FIRST_ID, FIRST_SECRET))
        .await
        .unwrap()
        .app
        .unwrap();
    let (_, callback, made) = h
        .services
        .subscriptions
        .subscribe_provider_app(&admin, "oura")
        .await
        .unwrap();
    assert_eq!(callback, format!("{BASE}/webhooks/oura/{}", app.id));
    assert!(!made.is_empty());
    for subscription in h.fake.subscriptions() {
        assert_eq!(subscription["callback_url"], callback.as_str());
    }
    let challenge = |token: &str| {
        crate::webhooks_in::request(
            vitasync_domain::inbound::push::PushMethod::Get,
            &[
                ("verification_token", token),
                ("challenge", "app-challenge"),
            ],
            &[],
            b"",
        )
    };
    let app_id = app.id.to_string();
    let reply = h
        .services
        .pushes
        .receive_push(
            "oura",
            Some(&app_id),
            &challenge(&format!("{FIRST_ID}-verify")),
        )
        .await
        .unwrap();
    assert_eq!(
        reply,
        PushReply::json(200, serde_json::json!({ "challenge": "app-challenge" }))
    );
    let refused = h
        .services
        .pushes
        .receive_push("oura", Some(&app_id), &challenge("the-deployment's-token"))
        .await
        .unwrap();
    assert_eq!(refused, PushReply::status(401));
    // Another workspace's admin key subscribes nothing of this app; the root key subscribes
    // the deployment's.
    let (stranger, _) = team(&h, "stranger-team").await;
    assert!(matches!(
        h.services
            .subscriptions
            .subscribe_provider_app(&stranger, "oura")
            .await,
        Err(DomainError::Forbidden(_))
    ));
}

async fn per_user_subscriptions_name_the_workspace_app(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    h.fake.register_app(FIRST_ID, FIRST_SECRET);
    let (admin, user) = team(&h, "withings-team").await;
    let mut given = credentials(FIRST_ID, FIRST_SECRET);
    given.verify_token = None;
    let app = h
        .services
        .provider_credentials
        .configure(&admin, "withings", given)
        .await
        .unwrap()
        .app
        .unwrap();
    let connection = h.connect_as(&admin, &user).await.unwrap();
    assert_eq!(connection.app_id.as_ref(), Some(&app.id));
    h.work_queue().await;
    let subscribed = h.fake.requests_to("/notify");
    assert!(!subscribed.is_empty());
    for call in subscribed {
        assert_eq!(
            call.params["callbackurl"],
            format!("{BASE}/webhooks/withings/{}", app.id)
        );
    }
}

on_both_hosts!(
    two_workspaces_each_use_their_own_app,
    app_credentials_are_checked_and_admin_only,
    a_workspace_app_subscribes_to_its_own_url,
    per_user_subscriptions_name_the_workspace_app,
);
