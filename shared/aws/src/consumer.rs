//! The shape every queue-consuming Lambda function takes: an SQS event in, a partial batch
//! response out (the event source mapping has `ReportBatchItemFailures` on). Only the messages
//! that failed are retried; after the queue's `maxReceiveCount` they land in its dead-letter queue.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use std::future::Future;
use vitasync_domain::kernel::queue::{Received, process_batch};

/// A message of the event as the domain sees it.
pub fn received(message: &SqsMessage) -> Received {
    Received {
        id: message.message_id.clone().unwrap_or_default(),
        receipt: message.receipt_handle.clone().unwrap_or_default(),
        body: message.body.clone().unwrap_or_default(),
        receive_count: message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1),
    }
}

/// Runs `handle` on each message independently and reports the ones that failed.
pub async fn handle_sqs_event<F, Fut, E>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(Received) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let messages = event.records.iter().map(received).collect();
    let failed = process_batch(messages, |m: &Received| m.id.clone(), handle).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(bodies: &[&str]) -> SqsEvent {
        let records: Vec<_> = bodies
            .iter()
            .enumerate()
            .map(|(n, body)| {
                json!({
                    "messageId": format!("m-{n}"),
                    "receiptHandle": format!("r-{n}"),
                    "body": body,
                    "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1795345200000"},
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:vitasync-jobs",
                    "awsRegion": "eu-west-1"
                })
            })
            .collect();
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    #[tokio::test]
    async fn one_poison_message_fails_alone() {
        let response = handle_sqs_event(event(&["ok", "poison", "ok", "poison"]), |d| async move {
            assert_eq!(d.receive_count, 2);
            if d.body == "poison" {
                Err("cannot parse")
            } else {
                Ok(())
            }
        })
        .await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["m-1", "m-3"]);
        let wire = serde_json::to_value(&response).unwrap();
        assert_eq!(wire["batchItemFailures"][0]["itemIdentifier"], "m-1");
    }

    #[tokio::test]
    async fn a_clean_batch_reports_no_failures() {
        let response =
            handle_sqs_event(event(&["a", "b"]), |_| async { Ok::<(), String>(()) }).await;
        assert!(response.batch_item_failures.is_empty());
    }
}
