//! The deployed stack's journey, run as AWS would run it (`vitasync_tests::stack`): every
//! function a separate Lambda process behind the HTTP API, the function URL, the queues and the
//! table's stream, all from `template.yaml`. One bounded journey: workspace, user, the demo
//! provider connected through the browser leg, the backfill by the worker, the query API, the
//! webhook delivered by the deliver function, a provider's push through the function URL, a
//! phone's push. Every AWS call each function made must be inside its policy.

use crate::oauth_flow::query;
use crate::webhooks_in::oura_headers;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;
use vitasync_contract::{emulator, fixtures};
use vitasync_domain::providers::ProviderId;
use vitasync_tests::fake_provider::{
    CLIENT_ID, CLIENT_SECRET, FakeProvider, SUUNTO_SUBSCRIPTION_KEY,
};
use vitasync_tests::receiver::Receiver;
use vitasync_tests::stack::{EmulatedStack, private_address};

const ROOT: &str = "vs_live_emulated_stack_root_key_0123456789";

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// Waits until `check` holds, asking every 200 ms for up to a minute.
async fn eventually<F, Fut>(what: &str, mut check: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<Value>>,
{
    for _ in 0..300 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what} never happened");
}

/// The root key, made as the deploy guide makes it (`vitasync bootstrap --aws`).
fn bootstrap(table: &str) {
    let output = Command::new(crate::lambda_runtime::function_binary("vitasync"))
        .args(["bootstrap", "--aws"])
        .env("VITASYNC_TABLE", table)
        .env("VITASYNC_ADMIN_KEY", ROOT)
        .env("VITASYNC_AWS_ENDPOINT", emulator::endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}

impl Client {
    /// Follows one redirect as a browser would: the `Location` of `url`, made absolute.
    async fn visit(&self, url: &str) -> (StatusCode, Option<String>) {
        let response = self.http.get(url).send().await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|location| {
                if location.starts_with("http") {
                    location.to_owned()
                } else {
                    format!("{}{location}", self.base)
                }
            });
        (status, location)
    }

    /// Connects `provider` for `user` through the browser leg; answers the connection id.
    /// `consent` turns the provider's consent URL into the URL of the user's "allow".
    async fn connect(
        &self,
        key: &str,
        user: &str,
        provider: &str,
        consent: impl Fn(String) -> String,
    ) -> String {
        let (status, link) = self
            .call(
                Method::POST,
                &format!("/v1/users/{user}/connect-links"),
                key,
                Some(json!({ "providerId": provider })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{link}");
        let (_, consent_url) = self.visit(link["url"].as_str().unwrap()).await;
        let (_, callback) = self.visit(&consent(consent_url.unwrap())).await;
        let (status, landing) = self.visit(&callback.unwrap()).await;
        assert_eq!(status, StatusCode::FOUND);
        query(&landing.unwrap())["connectionId"].clone()
    }
}

async fn phone_token(api: &Client, key: &str, user: &str) -> String {
    let (status, minted) = api
        .call(
            Method::POST,
            &format!("/v1/users/{user}/sign-in-tokens"),
            key,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{minted}");
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "sign_in_token"),
            ("sign_in_token", minted["signInToken"].as_str().unwrap()),
        ])
        .finish();
    let tokens: Value = api
        .http
        .post(format!("{}/v1/auth/token", api.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// The notification secret of the deployment's Suunto app.
const SUUNTO_NOTIFICATION_SECRET: &str = "suunto-notification-secret";

#[tokio::test]
async fn the_emulated_stack_runs_the_whole_journey_within_its_policies() {
    let oura = FakeProvider::start(ProviderId::Oura).await;
    let oura_secret = fixtures::new_secret(CLIENT_SECRET).await;
    // Suunto: its client secret, API subscription key and notification secret, all by name.
    let suunto = FakeProvider::start(ProviderId::Suunto).await;
    let parameters = BTreeMap::from([
        ("DemoProvider".to_owned(), "on".to_owned()),
        ("OuraClientId".to_owned(), CLIENT_ID.to_owned()),
        ("OuraClientSecretName".to_owned(), oura_secret),
        ("SuuntoClientId".to_owned(), CLIENT_ID.to_owned()),
        (
            "SuuntoClientSecretName".to_owned(),
            fixtures::new_secret(CLIENT_SECRET).await,
        ),
        (
            "SuuntoSubscriptionKeyName".to_owned(),
            fixtures::new_secret(SUUNTO_SUBSCRIPTION_KEY).await,
        ),
        (
            "SuuntoWebhookSecretName".to_owned(),
            fixtures::new_secret(SUUNTO_NOTIFICATION_SECRET).await,
        ),
        // The test's webhook receiver is on this machine's private address.
        ("WebhooksAllowPrivate".to_owned(), "true".to_owned()),
    ]);
    let (receiver, ca) = Receiver::start_tls(private_address(), &[204]).await;
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca).unwrap();
    // Oura's endpoints pointed at the fake, as DNS would point its hostnames; the receiver's
    // certificate authority trusted, as a public one would be.
    let mut extra: BTreeMap<String, String> = oura
        .env()
        .into_iter()
        .chain(suunto.env())
        .filter(|(name, _)| name.ends_with("_URL"))
        .collect();
    extra.insert("SSL_CERT_FILE".into(), ca_file.path().display().to_string());
    let stack = EmulatedStack::start(parameters, extra).await;
    bootstrap(&stack.table);
    let api = Client {
        http: vitasync_tests::browser_client(),
        base: stack.api_url.clone(),
    };

    let (status, health) = api.call(Method::GET, "/health", "", None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    // The console and the reference, served by the admin function through the HTTP API.
    for (path, kind) in [
        ("/console", "text/html"),
        ("/console/console.js", "text/javascript"),
        ("/console/uPlot.iife.min.js", "text/javascript"),
        ("/docs/redoc.standalone.js", "text/javascript"),
    ] {
        let response = api
            .http
            .get(format!("{}{path}", api.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        if kind == "text/html" {
            let policy = response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(policy.contains("script-src 'self'"), "{policy}");
        }
        assert!(!response.bytes().await.unwrap().is_empty(), "{path}");
    }
    let (status, workspace) = api
        .call(
            Method::POST,
            "/v1/workspaces",
            ROOT,
            Some(json!({ "slug": "journey" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workspace}");
    let key = workspace["apiKey"].as_str().unwrap().to_owned();
    let (status, endpoint) = api
        .call(
            Method::POST,
            "/v1/webhooks",
            &key,
            Some(
                json!({ "url": receiver.url, "events": ["connection.created", "sync.completed"] }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{endpoint}");
    let (status, user) = api
        .call(
            Method::POST,
            "/v1/users",
            &key,
            Some(json!({ "externalId": "journey-wearer" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let user = user["id"].as_str().unwrap().to_owned();

    // The demo provider through the browser leg; the backfill by the worker.
    let demo = api
        .connect(&key, &user, "demo", |consent| {
            consent.replacen("/v1/demo/authorize?", "/v1/demo/authorize/decision?", 1)
                + "&account=ada&decision=allow"
        })
        .await;
    let jobs_path = format!("/v1/users/{user}/sync-jobs");
    eventually("the demo backfill", || async {
        let (_, jobs) = api.call(Method::GET, &jobs_path, &key, None).await;
        jobs["data"]
            .as_array()?
            .iter()
            .find(|j| j["connectionId"] == demo.as_str() && j["status"] == "succeeded")
            .cloned()
    })
    .await;
    let (status, days) = api
        .call(
            Method::GET,
            &format!("/v1/users/{user}/health/daily-summaries?metricTypes=steps"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{days}");
    assert!(!days["data"].as_array().unwrap().is_empty(), "{days}");

    // The deliver function signs and delivers what happened.
    eventually("the webhooks' delivery", || async {
        let types: Vec<String> = receiver
            .received()
            .iter()
            .filter(|r| r.headers.contains_key("webhook-signature"))
            .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
            .filter_map(|b| b["type"].as_str().map(str::to_owned))
            .collect();
        let both = types.iter().any(|t| t == "connection.created")
            && types.iter().any(|t| t == "sync.completed");
        both.then(|| json!(types))
    })
    .await;

    // Oura through its consent screen (the fake's), then its signed push to the function URL.
    let oura_connection = api.connect(&key, &user, "oura", |consent| consent).await;
    let oura_syncs = || async {
        let (_, jobs) = api.call(Method::GET, &jobs_path, &key, None).await;
        let succeeded = jobs["data"]
            .as_array()?
            .iter()
            .filter(|j| j["connectionId"] == oura_connection.as_str() && j["status"] == "succeeded")
            .count();
        Some(succeeded)
    };
    // The first sync after connecting ends before the push (a push while a sync is under way
    // is folded into it).
    eventually("the first Oura sync", || async {
        (oura_syncs().await? == 1).then_some(json!(1))
    })
    .await;
    let body = crate::webhooks_in::fixture("oura/webhook-event.json");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut push = api
        .http
        .post(format!("{}oura", stack.webhook_url))
        .body(body.clone());
    for (name, value) in oura_headers(&body, i64::try_from(now).unwrap(), CLIENT_SECRET) {
        push = push.header(name, value);
    }
    let pushed = push.send().await.unwrap();
    assert_eq!(pushed.status(), StatusCode::OK);
    eventually("the sync the push asked for", || async {
        (oura_syncs().await? == 2).then_some(json!(2))
    })
    .await;

    // Suunto: connected through the fake's gateway (the subscription key read from Secrets
    // Manager by the callback and the worker), then a signed 24/7 sleep pushed to the function
    // URL and stored as sent.
    let suunto_connection = api.connect(&key, &user, "suunto", |consent| consent).await;
    eventually("the first Suunto sync", || async {
        let (_, jobs) = api.call(Method::GET, &jobs_path, &key, None).await;
        jobs["data"]
            .as_array()?
            .iter()
            .any(|j| j["connectionId"] == suunto_connection.as_str() && j["status"] == "succeeded")
            .then_some(json!(1))
    })
    .await;
    let night = crate::webhooks_in::fixture("suunto/webhook-247-sleep-created.json");
    let signature = {
        use hmac::Mac;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(SUUNTO_NOTIFICATION_SECRET.as_bytes())
                .unwrap();
        mac.update(&night);
        hex::encode(mac.finalize().into_bytes())
    };
    let pushed = api
        .http
        .post(format!("{}suunto", stack.webhook_url))
        .header("X-HMAC-SHA256-Signature", signature)
        .body(night)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::OK);
    eventually("Suunto's pushed night", || async {
        let (_, sleeps) = api
            .call(
                Method::GET,
                &format!("/v1/users/{user}/events?eventType=sleep&from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z"),
                &key,
                None,
            )
            .await;
        sleeps["data"]
            .as_array()?
            .iter()
            .any(|s| s["providerId"] == "suunto")
            .then(|| sleeps.clone())
    })
    .await;

    // The user's phone pushes its samples.
    let access = phone_token(&api, &key, &user).await;
    let (status, pushed) = api
        .call(
            Method::POST,
            "/v1/me/samples",
            &access,
            Some(json!({
                "source": "apple_health",
                "samples": [{"uuid": "J1", "type": "HKQuantityTypeIdentifierStepCount",
                    "start": "2026-11-20T07:00:00Z", "end": "2026-11-20T07:10:00Z",
                    "value": 800, "unit": "count", "timeZone": "Europe/Berlin"}]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{pushed}");
    assert_eq!(pushed["accepted"], 1);

    // The console, in Chromium, against the stack: a read-only key and the workspace's admin
    // key, as on the local host.
    let (status, reader) = api
        .call(
            Method::POST,
            "/v1/api-keys",
            &key,
            Some(json!({ "name": "console-reader", "scopes": ["read"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reader}");
    let shots =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots/stack");
    std::fs::create_dir_all(&shots).unwrap();
    let seen = crate::browser::node_json(
        "console.mjs",
        vec![
            stack.api_url.clone(),
            reader["secret"].as_str().unwrap().to_owned(),
            key.clone(),
            "journey-wearer".into(),
            shots.display().to_string(),
        ],
    )
    .await;
    assert_eq!(seen["refused"], json!([]), "{seen}");
    assert_eq!(seen["readOnlyButtons"], 0, "{seen}");
    assert!(seen["stages"].as_u64().unwrap() > 2, "{seen}");
    let heart_rate = seen["charts"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(title, _)| title.starts_with("Heart rate"))
        .map(|(_, chart)| chart["points"].as_u64().unwrap());
    assert!(heart_rate.unwrap_or_default() > 0, "{seen}");
    assert_eq!(seen["jobsAfterSync"], 1, "{seen}");
    assert_eq!(seen["resendError"], 0, "{seen}");
    assert_eq!(seen["newSecret"], true, "{seen}");

    // The schedules' ticks.
    assert!(stack.tick("scheduler").await.is_ok());
    assert!(stack.tick("relay").await.is_ok());

    let calls = stack.calls();
    for binary in [
        "admin",
        "users",
        "connections",
        "callback",
        "sync-worker",
        "deliver",
        "relay",
        "webhook",
        "mobile",
        "query",
        "sync-trigger",
        "scheduler",
    ] {
        assert!(
            !calls[binary].is_empty(),
            "{binary} made no AWS call: is it recorded?"
        );
    }
    let outside = stack.calls_outside_policy();
    assert!(
        outside.is_empty(),
        "calls outside the template's policies: {outside:#?}"
    );
}
