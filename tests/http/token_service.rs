//! Time-dependent behaviour, driven through the use cases with a clock the test moves: links
//! and authorizations expire, tokens are refreshed once however many callers race, and a
//! refused refresh puts the connection in `error`.

use crate::oauth_flow::query;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vitasync_aws::{DynamoStore, KmsKeyManager};
use vitasync_contract::{emulator, fixtures};
use vitasync_domain::App;
use vitasync_domain::api_key::Principal;
use vitasync_domain::connect::{AuthorizeParams, CallbackParams, ConnectLinkRequest};
use vitasync_domain::connection::{Connection, ConnectionStatus};
use vitasync_domain::ports::Ports;
use vitasync_domain::provider::ProviderId;
use vitasync_domain::secrets::Vault;
use vitasync_domain::time::{Clock, Timestamp};
use vitasync_domain::tokens::{AccessError, REFRESH_FAILED};
use vitasync_domain::user::UserDraft;
use vitasync_embedded::EmbeddedStore;
use vitasync_tests::fake_provider::FakeProvider;
use vitasync_tests::{ROOT_KEY, browser_client};

const BASE: &str = "http://vitasync.test";

struct TestClock(Mutex<Timestamp>);

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    fn advance(&self, seconds: i64) {
        let mut now = self.0.lock().unwrap();
        *now = now.plus_seconds(seconds);
    }
}

struct Harness {
    app: App,
    clock: Arc<TestClock>,
    caller: Principal,
    user: String,
    fake: FakeProvider,
    /// The DynamoDB table, on the AWS host.
    table: Option<String>,
    _dir: tempfile::TempDir,
}

/// Which host's adapters the use cases run on.
#[derive(Clone, Copy)]
enum Host {
    Embedded,
    /// DynamoDB and KMS in the AWS emulator.
    Aws,
}

async fn harness(provider: ProviderId) -> Harness {
    harness_on(Host::Embedded, provider).await
}

async fn harness_on(host: Host, provider: ProviderId) -> Harness {
    let fake = FakeProvider::start(provider).await;
    let vars: BTreeMap<String, String> = fake.env();
    let lookup = move |name: &str| vars.get(name).cloned();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(TestClock(Mutex::new(
        Timestamp::parse("2026-11-22T10:00:00Z").unwrap(),
    )));
    let mut table_name = None;
    let (ports, vault) = match host {
        Host::Embedded => (
            Ports::from_store(
                Arc::new(EmbeddedStore::open(dir.path()).unwrap()),
                clock.clone(),
            ),
            vitasync_host::embedded_vault(dir.path()).unwrap(),
        ),
        Host::Aws => {
            let config = emulator::sdk_config().await;
            let table = fixtures::new_table().await;
            table_name = Some(table.clone());
            let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
            let keys = KmsKeyManager::new(
                aws_sdk_kms::Client::new(&config),
                fixtures::new_kms_key().await,
            );
            (
                Ports::from_store(Arc::new(store), clock.clone()),
                Vault::new(Arc::new(keys)),
            )
        }
    };
    let connect = vitasync_host::connect_settings(&lookup, vault, Some(BASE.into())).unwrap();
    let app = App::new(ports)
        .with_providers(vitasync_host::providers_from(&lookup, false))
        .with_connect(connect);
    app.bootstrap(Some(&SecretString::from(ROOT_KEY)))
        .await
        .unwrap();
    let caller = app.authenticate(Some(ROOT_KEY)).await.unwrap();
    let draft = UserDraft {
        external_id: "wearer".into(),
        ..UserDraft::default()
    };
    let (user, _) = app.upsert_user(&caller, draft).await.unwrap();
    Harness {
        app,
        clock,
        caller,
        user: user.id.to_string(),
        fake,
        table: table_name,
        _dir: dir,
    }
}

impl Harness {
    async fn link_token(&self) -> String {
        let link = self
            .app
            .create_connect_link(
                &self.caller,
                &self.user,
                ConnectLinkRequest {
                    provider: self.fake.provider.as_str().into(),
                    redirect_url: None,
                    failure_redirect_url: None,
                },
                BASE,
            )
            .await
            .unwrap();
        query(&link.url)["token"].clone()
    }

    async fn authorize(&self, token: String) -> Result<String, String> {
        self.app
            .authorize(
                self.fake.provider.as_str(),
                AuthorizeParams {
                    user_id: Some(self.user.clone()),
                    token: Some(token),
                    session: None,
                },
                BASE,
            )
            .await
            .map_err(|failure| failure.code.to_owned())
    }

    /// The provider's consent, answered: the callback parameters it redirects with.
    async fn consent(&self, consent_url: &str) -> CallbackParams {
        let response = browser_client().get(consent_url).send().await.unwrap();
        let back = response.headers()["location"].to_str().unwrap().to_owned();
        let params = query(&back);
        CallbackParams {
            state: params.get("state").cloned(),
            code: params.get("code").cloned(),
            ..CallbackParams::default()
        }
    }

    async fn connect(&self) -> Connection {
        let token = self.link_token().await;
        let consent = self.authorize(token).await.unwrap();
        let callback = self.consent(&consent).await;
        let landing = self
            .app
            .complete_authorization(self.fake.provider.as_str(), callback, BASE)
            .await
            .unwrap();
        let id = query(&landing)["connectionId"].clone();
        self.app
            .get_connection(&self.caller, &self.user, &id)
            .await
            .unwrap()
    }

    async fn reread(&self, connection: &Connection) -> Connection {
        self.app
            .get_connection(&self.caller, &self.user, connection.id.as_str())
            .await
            .unwrap()
    }
}

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
        .app
        .complete_authorization("oura", callback, BASE)
        .await
        .unwrap_err();
    assert_eq!(failure.code, "invalid_state");
    assert_eq!(h.fake.token_calls(), 0);
    let listed = h.app.list_connections(&h.caller, &h.user).await.unwrap();
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
    let before = h.app.access_token(&connection).await.unwrap();
    assert_eq!(h.fake.refresh_calls(), 0, "a fresh token is used as it is");

    // Past expiry, with a provider slow enough for the callers to overlap. Oura's refresh
    // tokens are single-use: a second refresh with the old one would be refused.
    h.clock.advance(86_400);
    h.fake.slow_refresh(Duration::from_millis(300));
    let (first, second) = tokio::join!(
        h.app.access_token(&connection),
        h.app.access_token(&connection)
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
    let third = h.app.access_token(&connection).await.unwrap();
    assert_eq!(third.expose_secret(), first.expose_secret());
    assert_eq!(h.fake.refresh_calls(), 1);
    let refreshed = h.reread(&connection).await;
    assert!(refreshed.token_expires_at > connection.token_expires_at);
    assert_eq!(refreshed.status, ConnectionStatus::Active);

    // And the rotated refresh token works next time.
    h.clock.advance(86_400);
    h.fake.slow_refresh(Duration::ZERO);
    h.app.access_token(&connection).await.unwrap();
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

#[tokio::test]
async fn a_refused_refresh_marks_the_connection_in_error() {
    let h = harness(ProviderId::Withings).await;
    let connection = h.connect().await;
    h.clock.advance(10_800);
    h.fake.refuse_refresh();
    let err = h.app.access_token(&connection).await.unwrap_err();
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
    h.app
        .disconnect(&h.caller, &h.user, connection.id.as_str())
        .await
        .unwrap();
    assert!(matches!(
        h.app.access_token(&connection).await.unwrap_err(),
        AccessError::NotConnected
    ));
    assert_eq!(h.fake.requests_to("/v2/user/access").len(), 1);
}
