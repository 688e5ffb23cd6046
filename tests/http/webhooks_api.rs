//! `/v1/webhooks` over a socket on the local host, with deliveries verified by the
//! `standardwebhooks` package (an implementation VitaSync did not write).

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use vitasync_contract::emulator;
use vitasync_tests::{ROOT_KEY, TestHost};

/// The Python receiver, verifying with the secret it was started with.
struct PythonReceiver {
    child: Child,
    port: u16,
    lines: mpsc::Receiver<String>,
}

impl PythonReceiver {
    fn start(secret: &str) -> Self {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/standard_webhooks_receiver.py"
        );
        let mut child = Command::new(emulator::python())
            .arg(script)
            .arg(secret)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python with standardwebhooks (scripts/tools installs it)");
        let (send, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        let port = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("the receiver prints its port")
            .parse()
            .unwrap();
        Self { child, port, lines }
    }

    /// The next request's verdict. Polls, so the host under test keeps running meanwhile.
    async fn next(&self) -> Value {
        for _ in 0..400 {
            if let Ok(line) = self.lines.try_recv() {
                return serde_json::from_str(&line).unwrap();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no delivery reached the receiver");
    }
}

impl Drop for PythonReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn deliveries_verify_with_the_standard_webhooks_library() {
    let host = TestHost::start().await;
    let created = host
        .post(
            "/v1/webhooks",
            ROOT_KEY,
            json!({ "url": "https://placeholder.example.com/hook", "events": ["user.created"] }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    let receiver = PythonReceiver::start(&secret);
    let url = format!("http://127.0.0.1:{}/hook", receiver.port);
    let patched = host
        .patch(
            &format!("/v1/webhooks/{id}"),
            ROOT_KEY,
            json!({ "url": url }),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);

    let user = host.user(ROOT_KEY, "verified-runner").await;
    let first = receiver.next().await;
    assert_eq!(first["verified"], true, "{first}");
    assert_eq!(first["type"], "user.created");

    let test = host
        .post(&format!("/v1/webhooks/{id}/test"), ROOT_KEY, json!({}))
        .await;
    assert_eq!(test.status, StatusCode::ACCEPTED, "{}", test.body);
    let second = receiver.next().await;
    assert_eq!(second["verified"], true, "{second}");
    assert_eq!(second["type"], "webhook.test");
    assert_ne!(first["id"], second["id"]);

    // The log shows both, newest first, with the receiver's answer.
    let mut deliveries = Value::Null;
    for _ in 0..50 {
        deliveries = host
            .get(&format!("/v1/webhooks/{id}/deliveries"), ROOT_KEY)
            .await
            .body;
        if deliveries["data"][1]["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = deliveries["data"].as_array().unwrap();
    assert_eq!(log.len(), 2, "{deliveries}");
    assert_eq!(log[0]["eventType"], "webhook.test");
    assert_eq!(log[1]["eventType"], "user.created");
    assert_eq!(log[1]["messageId"], first["id"]);
    assert_eq!(log[1]["payload"]["data"]["userId"], user.as_str());
    let attempt = &log[1]["attempts"][0];
    assert_eq!(attempt["statusCode"], 204);
    assert!(attempt["latencyMs"].is_u64());
}

#[tokio::test]
async fn endpoints_are_managed_by_admins_of_their_workspace() {
    let host = TestHost::start().await;
    let created = host
        .post(
            "/v1/webhooks",
            ROOT_KEY,
            json!({
                "url": "https://hooks.example.com/vitasync",
                "events": ["sync.completed", "data.updated", "sync.completed"],
                "description": "backend",
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(
        created.body["secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    assert_eq!(
        created.body["events"],
        json!(["sync.completed", "data.updated"])
    );
    assert_eq!(created.body["enabled"], true);
    assert_eq!(created.body["status"], "active");

    // The secret is shown once.
    let got = host.get(&format!("/v1/webhooks/{id}"), ROOT_KEY).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.body.get("secret").is_none());
    let listed = host.get("/v1/webhooks", ROOT_KEY).await;
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
    assert!(!listed.body.to_string().contains("whsec_"));

    let patched = host
        .patch(
            &format!("/v1/webhooks/{id}"),
            ROOT_KEY,
            json!({ "events": ["user.deleted"], "description": null, "enabled": false }),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["events"], json!(["user.deleted"]));
    assert_eq!(patched.body["description"], Value::Null);
    assert_eq!(patched.body["enabled"], false);

    // Bad input, each with the field named.
    for (body, field) in [
        (
            json!({ "url": "http://hooks.example.com", "events": ["user.created"] }),
            "url",
        ),
        (
            json!({ "url": "not a url", "events": ["user.created"] }),
            "url",
        ),
        (
            json!({ "url": "https://h.example.com", "events": ["*", "user.created"] }),
            "events",
        ),
        (
            json!({ "url": "https://h.example.com", "events": ["user.renamed"] }),
            "events[0]",
        ),
    ] {
        let reply = host.post("/v1/webhooks", ROOT_KEY, body).await;
        assert_eq!(reply.invalid_field(), field);
    }
    host.post("/v1/webhooks", ROOT_KEY, json!({ "events": ["*"] }))
        .await
        .assert_problem(400, "validation-error");

    // Other workspaces see nothing; lesser keys of this one read endpoints and deliveries
    // (no secret is in them) and change nothing.
    let other = host.workspace("elsewhere").await;
    host.get(&format!("/v1/webhooks/{id}"), &other)
        .await
        .assert_problem(404, "not-found");
    let reader = host.key(ROOT_KEY, &["read"]).await;
    let listed = host.get("/v1/webhooks", &reader).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert!(
        !listed.body.to_string().contains("whsec_"),
        "no secret is listed"
    );
    let deliveries = host
        .get(&format!("/v1/webhooks/{id}/deliveries"), &reader)
        .await;
    assert_eq!(deliveries.status, StatusCode::OK, "{}", deliveries.body);
    host.patch(
        &format!("/v1/webhooks/{id}"),
        &reader,
        json!({ "enabled": false }),
    )
    .await
    .assert_problem(403, "forbidden");
    host.post(&format!("/v1/webhooks/{id}/test"), &reader, json!({}))
        .await
        .assert_problem(403, "forbidden");
    host.delete(&format!("/v1/webhooks/{id}"), &reader)
        .await
        .assert_problem(403, "forbidden");
    let writer = host.key(ROOT_KEY, &["write"]).await;
    host.post(
        "/v1/webhooks",
        &writer,
        json!({ "url": "https://hooks.example.com/w", "events": ["*"] }),
    )
    .await
    .assert_problem(403, "forbidden");
    host.get("/v1/webhooks/not-an-id", ROOT_KEY)
        .await
        .assert_problem(404, "not-found");
    host.post(
        &format!("/v1/webhooks/{id}/deliveries/01JAAAAAAAAAAAAAAAAAAAAAAA/resend"),
        ROOT_KEY,
        json!({}),
    )
    .await
    .assert_problem(404, "not-found");

    let deleted = host.delete(&format!("/v1/webhooks/{id}"), ROOT_KEY).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    host.get(&format!("/v1/webhooks/{id}"), ROOT_KEY)
        .await
        .assert_problem(404, "not-found");
}

#[tokio::test]
async fn provider_webhooks_are_answered_over_http_with_each_providers_codes() {
    let vars = [
        ("STRAVA_CLIENT_ID", "strava-client"),
        ("STRAVA_CLIENT_SECRET", "strava-secret"),
        ("STRAVA_WEBHOOK_VERIFY_TOKEN", "strava-verify"),
        ("WITHINGS_CLIENT_ID", "withings-client"),
        ("WITHINGS_CLIENT_SECRET", "withings-secret"),
        ("GARMIN_CLIENT_ID", "garmin-client"),
        ("GARMIN_CLIENT_SECRET", "garmin-secret"),
        ("GARMIN_WEBHOOK_SECRET", "garmin-path-secret"),
    ];
    let host = TestHost::start_with_pairs(&vars).await;
    let client = host.raw();

    let handshake = client
        .get(host.url(
            "/webhooks/strava?hub.mode=subscribe&hub.challenge=abc123&hub.verify_token=strava-verify",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status(), StatusCode::OK);
    assert_eq!(
        handshake.json::<Value>().await.unwrap(),
        json!({ "hub.challenge": "abc123" })
    );
    let refused =
        client
            .get(host.url(
                "/webhooks/strava?hub.mode=subscribe&hub.challenge=abc123&hub.verify_token=no",
            ))
            .send()
            .await
            .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let head = client
        .head(host.url("/webhooks/withings"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let notification = client
        .post(host.url("/webhooks/withings"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("userid=1&appli=1&startdate=1772432700&enddate=1772432701")
        .send()
        .await
        .unwrap();
    assert_eq!(notification.status(), StatusCode::OK);

    // Garmin's pushes may be larger than the API's 1 MB bodies.
    let big = json!({ "dailies": [{ "userId": "nobody", "summaryId": "x", "pad": "a".repeat(3_000_000) }] });
    let pushed = client
        .post(host.url("/webhooks/garmin/garmin-path-secret"))
        .header("garmin-client-id", "garmin-client")
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::OK);
    // Garmin's client id is public: without the secret in the path nothing is taken.
    for path in ["/webhooks/garmin", "/webhooks/garmin/guessed"] {
        let refused = client
            .post(host.url(path))
            .header("garmin-client-id", "garmin-client")
            .json(&json!({ "deregistrations": [{ "userId": "nobody" }] }))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // Providers that sign their pushes take no secret path.
    let strava = client
        .post(host.url("/webhooks/strava/anything"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(strava.status(), StatusCode::NOT_FOUND);

    // Providers this deployment has not enabled, and names that are not providers.
    for path in ["/webhooks/oura", "/webhooks/demo", "/webhooks/acme"] {
        let reply =
            TestHost::reply(client.post(host.url(path)).body("{}").send().await.unwrap()).await;
        reply.assert_problem(404, "not-found");
    }
}

/// `["*"]`, an empty list or no list: every event type, present and future, shown as `["*"]`.
#[tokio::test]
async fn an_endpoint_can_listen_to_every_event_type() {
    let host = TestHost::start().await;
    for body in [
        json!({ "url": "https://all.example.com/a", "events": ["*"] }),
        json!({ "url": "https://all.example.com/b" }),
        json!({ "url": "https://all.example.com/c", "events": [] }),
    ] {
        let created = host.post("/v1/webhooks", ROOT_KEY, body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["events"], json!(["*"]));
    }
    let id = {
        let created = host
            .post(
                "/v1/webhooks",
                ROOT_KEY,
                json!({ "url": "https://all.example.com/d", "events": ["user.created"] }),
            )
            .await;
        created.body["id"].as_str().unwrap().to_owned()
    };
    let patched = host
        .patch(
            &format!("/v1/webhooks/{id}"),
            ROOT_KEY,
            json!({ "events": ["*"] }),
        )
        .await;
    assert_eq!(patched.body["events"], json!(["*"]));
}
