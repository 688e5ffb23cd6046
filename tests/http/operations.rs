//! What an operator reads: log lines at the level their news deserves, with the reason when
//! something failed.

use crate::harness::harness;
use serde_json::Value;
use vitasync_domain::providers::ProviderId;
use vitasync_tests::CapturedLogs;
use vitasync_tests::receiver::Receiver;

fn lines(logs: &CapturedLogs) -> Vec<Value> {
    logs.text()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// A scheduler round with nothing due says so at DEBUG, not at INFO every minute; a failed
/// delivery attempt says why at WARN.
#[tokio::test]
async fn quiet_rounds_are_debug_and_failed_deliveries_say_why() {
    let logs = CapturedLogs::install();
    let h = harness(ProviderId::Withings).await;
    let report = h.services.scheduler.queue_due_syncs().await.unwrap();
    assert_eq!(report.due, 0);
    let quiet: Vec<Value> = lines(&logs)
        .into_iter()
        .filter(|line| line["fields"]["message"] == "no syncs due")
        .collect();
    assert_eq!(quiet.len(), 1);
    assert_eq!(quiet[0]["level"], "DEBUG");
    assert!(
        !lines(&logs)
            .iter()
            .any(|line| line["level"] == "INFO" && line["fields"]["message"] == "scheduled syncs"),
        "an empty round at INFO"
    );

    let refusing = Receiver::start(&[500]).await;
    h.endpoint(&h.caller, &refusing.url, &["user.created"])
        .await;
    h.new_user(&h.caller, "someone").await;
    h.relay().await;
    h.run_deliveries().await;
    let failed: Vec<Value> = lines(&logs)
        .into_iter()
        .filter(|line| line["fields"]["message"] == "a webhook delivery attempt failed")
        .collect();
    assert!(!failed.is_empty(), "{}", logs.text());
    assert_eq!(failed[0]["level"], "WARN");
    assert_eq!(failed[0]["fields"]["status_code"], 500);
    assert!(failed[0]["fields"]["reason"].is_string());
}
