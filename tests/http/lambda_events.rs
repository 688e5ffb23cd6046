//! Every sample event in `events/` fed through its Lambda function's handler, exactly as the
//! Lambda runtime would hand it over.

use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent};
use secrecy::SecretString;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use vitasync_api::{Function, router_for};
use vitasync_domain::providers::ProviderId;

/// The key the sample events carry.
pub const EVENTS_ROOT_KEY: &str = "vs_live_events_root_key_0123456789abcdef";

/// What each sample must answer: status, and a check on the JSON body.
pub fn expectation(function: &str, file: &str) -> (u16, fn(&Value) -> bool) {
    match (function, file) {
        ("users", "create-user.json") => (201, |b| b["externalId"] == "user-123"),
        ("users", "get-user-not-found.json") => (404, |b| {
            b["type"] == "https://vitasync.dev/problems/not-found"
        }),
        ("users", "list-users.json") => (200, |b| b["data"][0]["externalId"] == "user-123"),
        ("users", "missing-key.json") => (401, |b| b["status"] == 401),
        ("admin", "create-api-key.json") => (201, |b| {
            b["secret"]
                .as_str()
                .is_some_and(|s| s.starts_with("vs_live_"))
        }),
        ("admin", "create-workspace.json") => (201, |b| {
            b["slug"] == "acme-health" && b["apiKey"].is_string()
        }),
        ("admin", "health.json") => (200, |b| b["status"] == "ok"),
        ("admin", "list-api-keys.json") => (200, |b| {
            b["data"].as_array().is_some_and(|keys| keys.len() == 2)
        }),
        ("admin", "openapi.json") => (200, |b| {
            b["openapi"].as_str().is_some_and(|v| v.starts_with("3.1"))
        }),
        ("mobile", "create-sign-in-token-unknown-user.json") => (404, |b| {
            b["type"] == "https://vitasync.dev/problems/not-found"
        }),
        ("mobile", "token-unsupported-grant.json") => {
            (400, |b| b["errors"][0]["field"] == "grant_type")
        }
        ("mobile", "token-unknown-sign-in-token.json") => (400, |b| {
            b["type"] == "https://vitasync.dev/problems/invalid-grant"
                && b["error"] == "invalid_grant"
        }),
        ("mobile", "me-without-token.json") => (401, |b| b["status"] == 401),
        ("mobile", "me-with-api-key.json") => (403, |b| {
            b["type"] == "https://vitasync.dev/problems/forbidden"
        }),
        ("webhook", "strava-handshake.json") => (200, |b| {
            b["hub.challenge"] == "15f7d1a91c1f40f8a748fd134752feb3"
        }),
        ("webhook", "strava-handshake-wrong-token.json") => (403, |b| b.is_null()),
        // Accepted (Withings must hear success), though it names no connected account.
        ("webhook", "withings-notification-unknown-user.json") => (200, |b| b.is_null()),
        ("webhook", "unknown-provider.json") => (404, |b| {
            b["type"] == "https://vitasync.dev/problems/not-found"
        }),
        ("connections", "get-provider.json") => {
            (200, |b| b["id"] == "withings" && b["enabled"] == false)
        }
        ("connections", "get-provider-unknown.json") => (404, |b| b["status"] == 404),
        ("connections", "list-connections-unknown-user.json") => (404, |b| {
            b["type"] == "https://vitasync.dev/problems/not-found"
        }),
        ("connections", "create-connect-link-unknown-user.json") => (404, |b| {
            b["type"] == "https://vitasync.dev/problems/not-found"
        }),
        // Asked for JSON, the browser leg answers problem+json instead of its error page.
        ("authorize", "authorize-without-valid-link.json") => (400, |b| {
            b["type"] == "https://vitasync.dev/problems/connect-failed"
                && b["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("invalid_link"))
        }),
        ("callback", "callback-unknown-state.json") => (400, |b| {
            b["type"] == "https://vitasync.dev/problems/connect-failed"
        }),
        ("sync-trigger", "trigger-sync-unknown-user.json")
        | ("sync-trigger", "get-sync-job-unknown.json") => (404, |b| {
            b["type"] == "https://vitasync.dev/problems/not-found"
        }),
        ("sync-trigger", "list-sync-jobs-without-key.json") => (401, |b| b["status"] == 401),
        ("query", "timeseries-without-metric.json") => {
            (400, |b| b["errors"][0]["field"] == "metricType")
        }
        ("query", "list-records-unknown-user.json")
        | ("query", "erase-health-unknown-user.json") => (404, |b| {
            b["type"] == "https://vitasync.dev/problems/not-found"
        }),
        ("query", "daily-summaries-bad-date.json") => (400, |b| b["errors"][0]["field"] == "from"),
        ("connections", "list-providers.json") => (200, |b| {
            b["data"]
                .as_array()
                .is_some_and(|p| p.len() == ProviderId::ALL.len())
        }),
        other => panic!(
            "events/{}/{} has no expectation in this test",
            other.0, other.1
        ),
    }
}

/// The providers the webhook samples are addressed to.
pub fn webhook_env(name: &str) -> Option<String> {
    let value = match name {
        "STRAVA_CLIENT_ID" | "WITHINGS_CLIENT_ID" => "events-client",
        "STRAVA_CLIENT_SECRET" | "WITHINGS_CLIENT_SECRET" => "events-secret",
        "STRAVA_WEBHOOK_VERIFY_TOKEN" => "events-verify-token",
        _ => return None,
    };
    Some(value.to_owned())
}

fn function_named(name: &str) -> Function {
    Function::from_binary(name).unwrap_or_else(|| panic!("events/{name} names no function"))
}

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// The sample events of one function, in name order: `(file name, event)`.
pub fn samples(function: &str) -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(events_dir().join(function))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let name = file.file_name().unwrap().to_str().unwrap().to_owned();
            (
                name,
                serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_sample_event_gets_the_expected_response() {
    let mut fed = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        if matches!(
            name.as_str(),
            "sync-worker" | "scheduler" | "deliver" | "relay"
        ) {
            continue; // SQS, stream and schedule events: see below and the runtime tests
        }
        let data = tempfile::tempdir().unwrap();
        let lookup = |variable: &str| match name.as_str() {
            "webhook" => webhook_env(variable),
            _ => None,
        };
        let services = vitasync_local::embedded_host(data.path(), &lookup, None)
            .unwrap()
            .services;
        services
            .tenancy
            .bootstrap(Some(&SecretString::from(EVENTS_ROOT_KEY)))
            .await
            .unwrap();
        let router = router_for(function_named(&name), (&services).into());

        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let file_name = file.file_name().unwrap().to_str().unwrap().to_owned();
            let (status, check) = expectation(&name, &file_name);
            let payload: LambdaRequest = serde_json::from_slice(&std::fs::read(&file).unwrap())
                .unwrap_or_else(|err| {
                    panic!("{name}/{file_name} is not a Lambda HTTP event: {err}")
                });
            let adapter = Adapter::from(router.clone());
            let response = adapter
                .oneshot(LambdaEvent::new(payload, Context::default()))
                .await
                .unwrap();
            let response = serde_json::to_value(&response).unwrap();
            assert_eq!(
                response["statusCode"], status,
                "{name}/{file_name}: {response}"
            );
            let body: Value = serde_json::from_str(
                response["body"]
                    .as_str()
                    .filter(|body| !body.is_empty())
                    .unwrap_or("null"),
            )
            .unwrap();
            assert!(check(&body), "{name}/{file_name}: {body}");
            fed += 1;
        }
    }
    assert!(fed >= 28, "only {fed} events were fed");
}

#[tokio::test]
async fn the_queue_workers_sample_batches_fail_only_their_poison_messages() {
    let data = tempfile::tempdir().unwrap();
    let services = vitasync_local::embedded_host(data.path(), &|_| None, None)
        .unwrap()
        .services;
    for function in ["sync-worker", "deliver"] {
        for (file, event) in samples(function) {
            let event: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_value(event)
                .unwrap_or_else(|err| panic!("{function}/{file} is not an SQS event: {err}"));
            let response = vitasync_aws::consumer::handle_sqs_event(event, |message| {
                let services = services.clone();
                async move {
                    match function {
                        "deliver" => {
                            services
                                .deliveries
                                .process_delivery_message(&message.body)
                                .await
                        }
                        _ => services.worker.process_message(&message.body).await,
                    }
                }
            })
            .await;
            let failed: Vec<_> = response
                .batch_item_failures
                .iter()
                .map(|failure| failure.item_identifier.as_str())
                .collect();
            // A message for a job or delivery that no longer exists is dropped; an unreadable
            // one is retried (and ends in the dead-letter queue), without failing its
            // neighbour.
            assert_eq!(
                failed,
                ["poison-7d1e2b9c-3f40-4c2b-8d7e-5b6a4c3d2e1f"],
                "{function}/{file}"
            );
        }
    }
}
