//! The real function binaries, run as Lambda runs them: against a Runtime API stub, with their
//! adapters selected from the environment and talking to DynamoDB in the AWS emulator.

use crate::lambda_events::{EVENTS_ROOT_KEY, expectation, samples};
use secrecy::SecretString;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use vitasync_contract::{emulator, fixtures};
use vitasync_domain::connections::Connection;
use vitasync_domain::kernel::ids::{UserId, WorkspaceId};
use vitasync_domain::kernel::outbox::{OutboxAction, OutboxEntry};
use vitasync_domain::kernel::time::{Clock, SystemClock, Timestamp};
use vitasync_domain::providers::ProviderId;
use vitasync_domain::tenancy::Tenancy;
use vitasync_tests::runtime_stub::RuntimeStub;

/// Where `cargo build --bins` put a function binary (`scripts/test` builds them first).
pub fn function_binary(name: &str) -> PathBuf {
    vitasync_tests::stack::binary(name)
}

fn lambda_command(name: &str, runtime: &RuntimeStub, table: &str) -> Command {
    let mut command = Command::new(function_binary(name));
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("VITASYNC_AWS_ENDPOINT", emulator::endpoint())
        .env("VITASYNC_TABLE", table)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

#[tokio::test]
async fn function_binaries_answer_their_sample_events_from_dynamodb() {
    for function in vitasync_api::Function::LAMBDAS.map(vitasync_api::Function::binary) {
        let table = fixtures::new_table().await;
        let (ports, _) = fixtures::dynamo_ports_on(&table).await;
        Tenancy::new(ports.workspaces, ports.api_keys, ports.clock)
            .bootstrap(Some(&SecretString::from(EVENTS_ROOT_KEY)))
            .await
            .unwrap();

        let runtime = RuntimeStub::start().await;
        let events = samples(function);
        for (n, (_, event)) in events.iter().enumerate() {
            runtime.push(&format!("request-{n}"), event.clone());
        }
        let mut command = lambda_command(function, &runtime, &table);
        // Exactly the variables template.yaml gives the function: one it lacks fails at init.
        for name in crate::template::environment_of(function) {
            let value = match name.as_str() {
                "VITASYNC_TABLE" => table.clone(),
                "VITASYNC_KMS_KEY_ID" => fixtures::new_kms_key().await,
                queue if queue.ends_with("_QUEUE_URL") || queue.ends_with("_DEAD_LETTER_URL") => {
                    fixtures::new_queue().await.1
                }
                "VITASYNC_PUBLIC_URL" => "https://api.example.test".into(),
                "VITASYNC_WEBHOOK_URL" => "https://hooks.example.test/webhooks/".into(),
                // Secrets by name, read from the emulator's Secrets Manager as on AWS.
                other if function == "webhook" => {
                    let secret = other
                        .strip_suffix("_NAME")
                        .and_then(crate::lambda_events::webhook_env);
                    match secret {
                        Some(secret) => fixtures::new_secret(&secret).await,
                        None => crate::lambda_events::webhook_env(other).unwrap_or_default(),
                    }
                }
                _ => String::new(),
            };
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let results = tokio::time::timeout(Duration::from_secs(60), runtime.results(events.len()))
            .await
            .unwrap_or_else(|_| panic!("{function} did not answer every event"));
        child.kill().unwrap();
        child.wait().unwrap();

        for ((file, _), (request_id, result)) in events.iter().zip(results) {
            let response = result.unwrap_or_else(|err| panic!("{function}/{file} failed: {err}"));
            let (status, check) = expectation(function, file);
            assert_eq!(
                response["statusCode"], status,
                "{function}/{file} ({request_id}): {response}"
            );
            let body: Value = serde_json::from_str(
                response["body"]
                    .as_str()
                    .filter(|body| !body.is_empty())
                    .unwrap_or("null"),
            )
            .unwrap();
            assert!(check(&body), "{function}/{file}: {body}");
        }
    }
}

#[tokio::test]
async fn the_queue_worker_binaries_report_only_their_poison_messages_as_failed() {
    for function in ["sync-worker", "deliver"] {
        let table = fixtures::new_table().await;
        let runtime = RuntimeStub::start().await;
        let events = samples(function);
        for (n, (_, event)) in events.iter().enumerate() {
            runtime.push(&format!("batch-{n}"), event.clone());
        }
        let (_, deliveries, dead_letters) = fixtures::new_queue().await;
        let mut child = lambda_command(function, &runtime, &table)
            .env("VITASYNC_KMS_KEY_ID", fixtures::new_kms_key().await)
            .env("VITASYNC_JOBS_QUEUE_URL", fixtures::new_queue().await.1)
            .env("VITASYNC_DELIVERIES_QUEUE_URL", deliveries)
            .env("VITASYNC_DELIVERIES_DEAD_LETTER_URL", dead_letters)
            .spawn()
            .unwrap();
        let results = tokio::time::timeout(Duration::from_secs(60), runtime.results(events.len()))
            .await
            .unwrap_or_else(|_| panic!("{function} did not answer every batch"));
        child.kill().unwrap();
        child.wait().unwrap();
        for ((file, _), (_, result)) in events.iter().zip(results) {
            let response = result.unwrap_or_else(|err| panic!("{function}/{file} failed: {err}"));
            assert_eq!(
                response["batchItemFailures"],
                serde_json::json!([{"itemIdentifier": "poison-7d1e2b9c-3f40-4c2b-8d7e-5b6a4c3d2e1f"}]),
                "{function}/{file}: {response}"
            );
        }
    }
}

#[tokio::test]
async fn the_scheduler_binary_queues_a_sync_of_a_connection_never_synced() {
    let table = fixtures::new_table().await;
    let (ports, _) = fixtures::dynamo_ports_on(&table).await;
    let now = Timestamp::parse("2026-11-22T10:00:00Z").unwrap();
    let connection = Connection::new_active(
        WorkspaceId::generate(),
        UserId::generate(),
        ProviderId::Withings,
        "36312345".into(),
        now,
    );
    let tokens = vitasync_tests::placeholder_tokens();
    ports
        .connections
        .upsert_connection(&connection, &tokens, vitasync_contract::fixtures::quietly())
        .await
        .unwrap();
    let runtime = RuntimeStub::start().await;
    let events = samples("scheduler");
    for (n, (_, event)) in events.iter().enumerate() {
        runtime.push(&format!("tick-{n}"), event.clone());
    }
    let mut child = lambda_command("scheduler", &runtime, &table)
        .env("WITHINGS_CLIENT_ID", "id")
        .env("WITHINGS_CLIENT_SECRET", "secret")
        .spawn()
        .unwrap();
    let results = tokio::time::timeout(Duration::from_secs(60), runtime.results(events.len()))
        .await
        .expect("the scheduler did not answer every tick");
    child.kill().unwrap();
    child.wait().unwrap();
    let answers: Vec<Value> = results.into_iter().map(|(_, r)| r.unwrap()).collect();
    assert_eq!(
        answers[0],
        serde_json::json!({"due": 1, "queued": 1, "failed": 0})
    );
    // The job's message went into the outbox with the job, for the relay to queue.
    let entries = ports
        .outbox
        .due_entries(SystemClock.now().plus_seconds(3600), 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let OutboxAction::Job { body } = &entries[0].action else {
        panic!("not a job message: {entries:?}")
    };
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["userId"], connection.user_id.as_str());
}

#[tokio::test]
async fn the_relay_binary_relays_stream_records_and_sweeps_overdue_entries() {
    let table = fixtures::new_table().await;
    let (ports, _) = fixtures::dynamo_ports_on(&table).await;
    let overdue = OutboxEntry::new(
        WorkspaceId::generate(),
        SystemClock.now().plus_seconds(-600),
        OutboxAction::Job {
            body: r#"{"relayed":"by the sweeper"}"#.into(),
        },
    );
    ports.outbox.append(&[overdue]).await.unwrap();
    let (sqs, jobs_url, _) = fixtures::new_queue().await;

    let runtime = RuntimeStub::start().await;
    let events = samples("relay");
    for (n, (_, event)) in events.iter().enumerate() {
        runtime.push(&format!("relay-{n}"), event.clone());
    }
    let mut command = lambda_command("relay", &runtime, &table);
    for name in crate::template::environment_of("relay") {
        let value = match name.as_str() {
            "VITASYNC_TABLE" => table.clone(),
            "VITASYNC_JOBS_QUEUE_URL" => jobs_url.clone(),
            "VITASYNC_DELIVERIES_QUEUE_URL" => fixtures::new_queue().await.1,
            _ => String::new(),
        };
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let results = tokio::time::timeout(Duration::from_secs(60), runtime.results(events.len()))
        .await
        .expect("the relay did not answer every event");
    child.kill().unwrap();
    child.wait().unwrap();
    let answers: Vec<Value> = results.into_iter().map(|(_, r)| r.unwrap()).collect();
    // The unreadable record is skipped (retrying it could never help), not failed.
    assert_eq!(answers[0], serde_json::json!({"batchItemFailures": []}));
    assert_eq!(answers[1], serde_json::json!({"relayed": 1, "failed": 0}));
    let received = sqs
        .receive_message()
        .queue_url(&jobs_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let mut bodies: Vec<_> = received
        .messages()
        .iter()
        .map(|m| m.body().unwrap().to_owned())
        .collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [
            r#"{"relayed":"by the sweeper"}"#,
            r#"{"relayed":"from the stream"}"#
        ]
    );
    let left = ports
        .outbox
        .due_entries(SystemClock.now().plus_seconds(3600), 10)
        .await
        .unwrap();
    assert!(left.is_empty(), "relayed entries are removed: {left:?}");
}

#[tokio::test]
async fn a_relay_that_cannot_queue_names_the_record_to_resume_from() {
    let table = fixtures::new_table().await;
    let runtime = RuntimeStub::start().await;
    let (_, event) = samples("relay").remove(0);
    runtime.push("relay-0", event);
    let mut child = lambda_command("relay", &runtime, &table)
        .env(
            "VITASYNC_JOBS_QUEUE_URL",
            format!("{}/000000000000/no-such-queue", emulator::endpoint()),
        )
        .env(
            "VITASYNC_DELIVERIES_QUEUE_URL",
            fixtures::new_queue().await.1,
        )
        .spawn()
        .unwrap();
    let results = tokio::time::timeout(Duration::from_secs(60), runtime.results(1))
        .await
        .expect("the relay did not answer");
    child.kill().unwrap();
    child.wait().unwrap();
    let answer = results.into_iter().next().unwrap().1.unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "4421584500000000017450439091"}]})
    );
}

#[tokio::test]
async fn a_function_missing_its_table_fails_at_init_naming_the_variable() {
    let runtime = RuntimeStub::start().await;
    let output = lambda_command("users", &runtime, "")
        .env_remove("VITASYNC_TABLE")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "exits, so Lambda reports the init failure"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("VITASYNC_TABLE is not set"), "{stderr}");
}

#[tokio::test]
async fn a_scheduler_round_against_an_unreachable_store_is_reported_retryable() {
    let runtime = RuntimeStub::start().await;
    let events = samples("scheduler");
    runtime.push("tick-0", events[0].1.clone());
    let (_, queue_url, _) = fixtures::new_queue().await;
    let mut child = lambda_command("scheduler", &runtime, "no-such-table")
        .env("VITASYNC_JOBS_QUEUE_URL", &queue_url)
        .env("WITHINGS_CLIENT_ID", "id")
        .env("WITHINGS_CLIENT_SECRET", "secret")
        .spawn()
        .unwrap();
    let results = tokio::time::timeout(Duration::from_secs(60), runtime.results(1))
        .await
        .expect("the scheduler did not answer");
    child.kill().unwrap();
    child.wait().unwrap();
    let error = results[0].1.clone().unwrap_err();
    assert_eq!(error["errorType"], "Retryable", "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .is_some_and(|message| message.contains("store unavailable")),
        "{error}"
    );
}
