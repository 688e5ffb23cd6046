//! End to end with parts nobody here wrote: the hosted widget in headless Chromium (driven by
//! playwright-core), and the OAuth dance against oauth2-mock-server with PKCE. `scripts/tools`
//! installs both (tests/e2e).

use crate::oauth_flow::{APP, connect_link, query, run_browser};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use vitasync_domain::providers::ProviderId;
use vitasync_tests::fake_provider::{CLIENT_ID, CLIENT_SECRET, FakeProvider};
use vitasync_tests::{ROOT_KEY, TestHost};

fn e2e_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e");
    assert!(
        dir.join("node_modules/playwright-core").exists()
            && dir.join("node_modules/oauth2-mock-server").exists(),
        "tests/e2e/node_modules is missing: run scripts/tools"
    );
    dir
}

/// Runs a script in tests/e2e with node and parses the JSON line it prints.
pub(crate) async fn node_json(script: &str, args: Vec<String>) -> Value {
    let script = e2e_dir().join(script);
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn the_widget_connects_the_demo_provider_in_chromium() {
    let host = TestHost::start().await;
    let user = host.user(ROOT_KEY, "wearer").await;
    let session = host
        .post(
            "/v1/widget/sessions",
            ROOT_KEY,
            json!({ "userId": user, "successRedirectUrl": host.url("/v1/oauth/done") }),
        )
        .await;
    assert_eq!(session.status, StatusCode::CREATED, "{}", session.body);
    let url = session.body["url"].as_str().unwrap().to_owned();

    let seen = node_json("widget.mjs", vec![url, "demo".into(), "Ann Lee".into()]).await;
    assert_eq!(
        seen["choices"],
        json!(["demo"]),
        "only enabled providers are offered"
    );
    assert_eq!(seen["logo"], true, "the provider's logo loads");
    assert_eq!(seen["consentTitle"], "VitaSync Demo");
    assert_eq!(seen["heading"], "Connected");
    let landed = seen["landed"].as_str().unwrap();
    assert!(landed.starts_with(&host.url("/v1/oauth/done?")), "{landed}");
    let landed = query(landed);
    assert_eq!(landed["userId"], user);
    assert_eq!(landed["externalId"], "wearer");

    let listed = host
        .get(&format!("/v1/users/{user}/connections"), ROOT_KEY)
        .await;
    let connections = listed.body["data"].as_array().unwrap();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0]["id"], landed["connectionId"].as_str());
    assert_eq!(connections[0]["providerId"], "demo");
    assert_eq!(connections[0]["providerUserId"], "demo-ann-lee");
    assert_eq!(connections[0]["status"], "active");
}

/// oauth2-mock-server on a free port, stopped when dropped.
struct MockOAuthServer {
    child: Child,
    issuer: String,
}

impl MockOAuthServer {
    fn start() -> Self {
        let mut child = Command::new("node")
            .arg(e2e_dir().join("oauth-server.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let started: Value = serde_json::from_str(&line).unwrap();
        Self {
            child,
            issuer: started["issuer"].as_str().unwrap().to_owned(),
        }
    }
}

impl Drop for MockOAuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn connects_through_a_third_party_oauth_server_with_pkce() {
    let oauth = tokio::task::spawn_blocking(MockOAuthServer::start)
        .await
        .unwrap();
    // Google's OAuth server and the Health API are separate hosts; so are these two.
    let api = FakeProvider::start(ProviderId::Fitbit).await;
    api.accept_any_bearer();
    let vars = [
        ("FITBIT_CLIENT_ID", CLIENT_ID.to_owned()),
        ("FITBIT_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        (
            "FITBIT_AUTHORIZE_URL",
            format!("{}/authorize", oauth.issuer),
        ),
        ("FITBIT_TOKEN_URL", format!("{}/token", oauth.issuer)),
        ("FITBIT_API_URL", api.base.clone()),
        ("VITASYNC_REDIRECT_ORIGINS", APP.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let host = TestHost::start_with(vars).await;
    let user = host.user(ROOT_KEY, "wearer").await;

    let link = connect_link(&host, ROOT_KEY, &user, "fitbit").await;
    let (consent, _, landing) = run_browser(&host, &link).await;
    let asked = query(&consent);
    assert_eq!(asked["code_challenge_method"], "S256");
    assert!(
        landing.starts_with(&format!("{APP}/connected?")),
        "{landing}"
    );

    let connection = host
        .get(
            &format!(
                "/v1/users/{user}/connections/{}",
                query(&landing)["connectionId"]
            ),
            ROOT_KEY,
        )
        .await;
    assert_eq!(connection.status, StatusCode::OK);
    assert_eq!(connection.body["providerUserId"], api.account_id());
    assert_eq!(connection.body["status"], "active");
    assert!(connection.body["tokenExpiresAt"].is_string());
    let identity = api.requests_to("/v4/users/me/identity");
    assert_eq!(identity.len(), 1);
    assert!(
        identity[0]
            .authorization
            .as_deref()
            .is_some_and(|auth| auth.starts_with("Bearer ey")),
        "the identity call carries the server's JWT access token"
    );
}

/// The API reference in Chromium, at desktop and phone width: request bodies, response schemas
/// and Markdown rendered by the viewer served from VitaSync itself, nothing loaded from
/// elsewhere, nothing the page's Content-Security-Policy refuses. Screenshots are written to
/// target/screenshots.
#[tokio::test]
async fn the_api_reference_renders_bodies_schemas_and_markdown_at_any_width() {
    let host = TestHost::start().await;
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let seen = node_json(
        "docs.mjs",
        vec![host.url("/docs"), shots.display().to_string()],
    )
    .await;
    for width in ["desktop", "phone"] {
        assert_eq!(
            seen[width],
            json!({ "bodyField": true, "responseField": true, "markdownCode": true, "fitsWidth": true }),
            "{width}: {seen}"
        );
        assert!(shots.join(format!("docs-{width}.png")).exists());
    }
    assert_eq!(seen["refused"], json!([]), "{seen}");
    assert_eq!(seen["external"], json!([]), "{seen}");
}

/// The console in Chromium: a read-only key signs in, finds the demo user and reads their
/// connection and sync jobs with no write button in sight; a key that may write starts a sync,
/// reads a webhook's deliveries and attempts, shows a payload, resends a delivery, creates an
/// API key (its secret shown once) and revokes it. The key stays in the tab (not a cookie, not
/// the URL). Screenshots in target/screenshots.
#[tokio::test]
async fn the_console_shows_users_webhooks_and_keys_and_writes_only_with_write_keys() {
    let host = TestHost::start().await;
    let receiver = vitasync_tests::receiver::Receiver::start(&[204]).await;
    let endpoint = host
        .post(
            "/v1/webhooks",
            ROOT_KEY,
            json!({ "url": receiver.url, "events": ["connection.created"] }),
        )
        .await;
    assert_eq!(endpoint.status, StatusCode::CREATED, "{}", endpoint.body);
    let user = host.user(ROOT_KEY, "console-wearer").await;
    crate::sync::connect_demo(&host, &user).await;
    for _ in 0..100 {
        if !receiver.received().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        receiver.received().len(),
        1,
        "delivered before the console looks"
    );
    let jobs = host
        .get(&format!("/v1/users/{user}/sync-jobs"), ROOT_KEY)
        .await;
    let backfill = jobs.body["data"][0]["jobId"].as_str().unwrap().to_owned();
    crate::sync::until_ended(&host, &backfill).await;
    let reader = host.key(ROOT_KEY, &["read"]).await;
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let seen = node_json(
        "console.mjs",
        vec![
            host.url(""),
            reader.clone(),
            ROOT_KEY.into(),
            "console-wearer".into(),
            shots.display().to_string(),
        ],
    )
    .await;
    assert!(
        seen["workspace"].as_str().unwrap().contains("read only"),
        "{seen}"
    );
    assert_eq!(seen["keyInUrl"], false);
    assert_eq!(seen["cookie"], "");
    assert_eq!(seen["stored"], true);
    let connections = seen["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 1, "{seen}");
    let row = connections[0].as_str().unwrap();
    assert!(row.contains("demo") && row.contains("active"), "{row}");
    assert!(
        seen["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|job| job.as_str().unwrap().contains("succeeded")),
        "{seen}"
    );
    assert_eq!(
        seen["readOnlyButtons"], 0,
        "a read-only key sees no write button"
    );
    let charts = seen["charts"].as_object().unwrap();
    for (title, chart) in charts {
        let expected = [
            "Heart rate",
            "Daily steps",
            "Night of",
            "Resting",
            "Glucose",
        ];
        if expected.iter().any(|start| title.starts_with(start)) {
            assert!(chart["points"].as_u64().unwrap() > 0, "{title}: {chart}");
            assert_eq!(chart["drawn"], true, "{title}");
        }
    }
    assert!(charts.keys().any(|t| t.starts_with("Heart rate")), "{seen}");
    assert!(seen["stages"].as_u64().unwrap() > 2, "a hypnogram: {seen}");
    assert_eq!(seen["zoneKept"], "Asia/Kathmandu");
    assert_eq!(seen["zoneStored"], "Asia/Kathmandu");
    assert!(seen["nights"].as_u64().unwrap() > 1, "{seen}");
    assert!(seen["otherNightStages"].as_u64().unwrap() > 2, "{seen}");
    assert!(
        seen["otherNightTitle"]
            .as_str()
            .unwrap()
            .starts_with("Night of")
    );
    assert_eq!(seen["fitsPhone"], true);
    assert_eq!(seen["signedOut"], true);
    assert!(seen["writeButtons"].as_u64().unwrap() >= 2);
    assert_eq!(seen["jobsAfterSync"], 1, "{seen}");
    let deliveries = seen["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "{seen}");
    let delivery = deliveries[0].as_str().unwrap();
    assert!(
        delivery.contains("connection.created")
            && delivery.contains("succeeded")
            && delivery.contains("204"),
        "{delivery}"
    );
    assert_eq!(seen["payloadShown"], true);
    assert_eq!(seen["resendError"], 0);
    for _ in 0..100 {
        if receiver.received().len() > 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        receiver.received().len(),
        2,
        "the resend reached the receiver"
    );
    assert_eq!(seen["newSecret"], true);
    assert_eq!(seen["keysAfterCreate"], 1);
    assert_eq!(seen["keysAfterRevoke"], 0);
    assert!(seen["readOnlyKeys"].as_u64().unwrap() >= 1, "{seen}");
    assert_eq!(seen["readOnlyKeysButtons"], 0, "{seen}");
    assert!(seen["readOnlyDeliveries"].as_u64().unwrap() >= 1, "{seen}");
    assert_eq!(seen["readOnlyWebhookButtons"], 0, "{seen}");
    assert_eq!(seen["refused"], json!([]), "{seen}");
    for width in ["desktop", "phone"] {
        assert!(shots.join(format!("console-{width}.png")).exists());
    }
}
