//! Event source mappings as Lambda runs them: an SQS queue polled and handed to its function
//! in batches (a partial batch response deletes only what succeeded; the rest comes back after
//! its visibility timeout, and to the dead-letter queue after too many receives), and a
//! DynamoDB stream read shard by shard, filtered by the mapping's patterns, in batches.

use crate::runtime_stub::RuntimeStub;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

/// The emulator serves one request at a time: polls never wait on it.
const POLL_EVERY: Duration = Duration::from_millis(150);

/// Polls `queue_url` for `function` until the task is dropped.
pub fn poll_queue(
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    queue_arn: String,
    batch: usize,
    function: RuntimeStub,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let received = sqs
                .receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(i32::try_from(batch.min(10)).unwrap())
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await;
            let messages = received.ok().and_then(|r| r.messages).unwrap_or_default();
            if messages.is_empty() {
                tokio::time::sleep(POLL_EVERY).await;
                continue;
            }
            let records: Vec<Value> = messages
                .iter()
                .map(|m| {
                    let attributes: serde_json::Map<String, Value> = m
                        .attributes()
                        .map(|a| {
                            a.iter()
                                .map(|(k, v)| (k.as_str().to_owned(), Value::from(v.clone())))
                                .collect()
                        })
                        .unwrap_or_default();
                    json!({
                        "messageId": m.message_id(),
                        "receiptHandle": m.receipt_handle(),
                        "body": m.body().unwrap_or_default(),
                        "attributes": attributes,
                        "messageAttributes": {},
                        "md5OfBody": m.md5_of_body(),
                        "eventSource": "aws:sqs",
                        "eventSourceARN": queue_arn,
                        "awsRegion": super::template::REGION,
                    })
                })
                .collect();
            let failed: BTreeSet<String> =
                match function.invoke(json!({ "Records": records })).await {
                    Ok(answer) => answer["batchItemFailures"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
                        .collect(),
                    // A failed invocation: the whole batch comes back.
                    Err(_) => messages
                        .iter()
                        .filter_map(|m| m.message_id().map(str::to_owned))
                        .collect(),
                };
            let done: Vec<DeleteMessageBatchRequestEntry> = messages
                .iter()
                .filter(|m| !failed.contains(m.message_id().unwrap_or_default()))
                .enumerate()
                .map(|(n, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("m{n}"))
                        .receipt_handle(m.receipt_handle().unwrap_or_default())
                        .build()
                        .unwrap()
                })
                .collect();
            if !done.is_empty() {
                let _ = sqs
                    .delete_message_batch()
                    .queue_url(&queue_url)
                    .set_entries(Some(done))
                    .send()
                    .await;
            }
        }
    })
}

/// Whether `event` matches an EventBridge-style `pattern` (what Lambda's filter criteria
/// are): every key of the pattern present, each leaf one of the listed values or prefixes.
pub fn matches_pattern(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields
            .iter()
            .all(|(key, sub)| matches_pattern(sub, &event[key])),
        Value::Array(choices) => choices.iter().any(|choice| match choice {
            Value::Object(rule) if rule.contains_key("prefix") => event
                .as_str()
                .is_some_and(|s| s.starts_with(rule["prefix"].as_str().unwrap())),
            literal => literal == event,
        }),
        other => panic!("not an event pattern: {other}"),
    }
}

/// A call to DynamoDB Streams in the emulator (raw JSON: its records are already in the shape
/// Lambda hands a function).
async fn streams(http: &reqwest::Client, endpoint: &str, operation: &str, body: Value) -> Value {
    http.post(endpoint)
        .header(
            "x-amz-target",
            format!("DynamoDBStreams_20120810.{operation}"),
        )
        .header("content-type", "application/x-amz-json-1.0")
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=test/20261129/{}/dynamodb/aws4_request, \
                 SignedHeaders=host, Signature=0",
                super::template::REGION
            ),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Reads the table's stream from its start for `function`, filtered by `patterns`.
pub fn read_stream(
    endpoint: String,
    stream_arn: String,
    batch: usize,
    patterns: Vec<Value>,
    function: RuntimeStub,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut iterators: Vec<String> = Vec::new();
        let description = streams(
            &http,
            &endpoint,
            "DescribeStream",
            json!({ "StreamArn": stream_arn }),
        )
        .await;
        for shard in description["StreamDescription"]["Shards"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let iterator = streams(
                &http,
                &endpoint,
                "GetShardIterator",
                json!({
                    "StreamArn": stream_arn,
                    "ShardId": shard["ShardId"],
                    "ShardIteratorType": "TRIM_HORIZON",
                }),
            )
            .await;
            iterators.push(iterator["ShardIterator"].as_str().unwrap().to_owned());
        }
        loop {
            let mut any = false;
            for iterator in &mut iterators {
                let page = streams(
                    &http,
                    &endpoint,
                    "GetRecords",
                    json!({ "ShardIterator": iterator, "Limit": batch }),
                )
                .await;
                if let Some(next) = page["NextShardIterator"].as_str() {
                    *iterator = next.to_owned();
                }
                let records: Vec<Value> = page["Records"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| {
                        patterns.is_empty() || patterns.iter().any(|p| matches_pattern(p, r))
                    })
                    .map(|r| {
                        let mut record = r.clone();
                        record["eventSourceARN"] = stream_arn.clone().into();
                        record
                    })
                    .collect();
                if records.is_empty() {
                    continue;
                }
                any = true;
                // Retried in order until the function takes the batch (bounded in the
                // template by MaximumRetryAttempts; here the journey must not lose any).
                let mut pending = records;
                let sequence = |r: &Value| {
                    r["dynamodb"]["SequenceNumber"]
                        .as_str()
                        .and_then(|n| n.parse::<u128>().ok())
                        .unwrap_or_default()
                };
                for _ in 0..10 {
                    match function.invoke(json!({ "Records": pending })).await {
                        // A failed invocation: the whole batch again.
                        Err(_) => {}
                        Ok(answer) => {
                            let failure = answer["batchItemFailures"]
                                .as_array()
                                .and_then(|f| f.first().cloned());
                            let Some(failure) = failure else { break };
                            let from = failure["itemIdentifier"]
                                .as_str()
                                .and_then(|n| n.parse::<u128>().ok())
                                .unwrap_or_default();
                            pending.retain(|r| sequence(r) >= from);
                        }
                    }
                    tokio::time::sleep(POLL_EVERY).await;
                }
            }
            if !any {
                tokio::time::sleep(POLL_EVERY).await;
            }
        }
    })
}
