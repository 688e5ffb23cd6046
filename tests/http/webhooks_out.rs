//! Outbound webhooks on both hosts: what receivers get, the retry schedule, the dead-letter
//! queue, and workspace isolation.

use crate::harness::{Harness, Host, harness_on, on_both_hosts};
use secrecy::SecretString;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use vitasync_domain::announce::dispatch::Dispatcher;
use vitasync_domain::announce::endpoints::EndpointDraft;
use vitasync_domain::announce::relay::Relay;
use vitasync_domain::announce::webhooks::{DeliveryStatus, EndpointStatus, WebhookEndpoint, sign};
use vitasync_domain::kernel::queue::{JobQueue, Outgoing, QueueError};
use vitasync_domain::kernel::time::{Clock, Timestamp};
use vitasync_domain::providers::ProviderId;
use vitasync_domain::sync::SyncRequest;
use vitasync_domain::tenancy::api_key::Principal;
use vitasync_domain::tenancy::user::UserDraft;
use vitasync_tests::receiver::{Received, Receiver};

impl Harness {
    pub(crate) async fn endpoint(
        &self,
        caller: &Principal,
        url: &str,
        events: &[&str],
    ) -> (WebhookEndpoint, SecretString) {
        // What happened before the endpoint existed is not for it: relay it first, as the
        // relay would have within moments.
        self.relay().await;
        self.services
            .webhook_endpoints
            .create_endpoint(
                caller,
                EndpointDraft {
                    url: url.into(),
                    events: events.iter().map(|e| (*e).to_owned()).collect(),
                    description: None,
                    enabled: None,
                },
            )
            .await
            .unwrap()
    }

    pub(crate) async fn new_user(&self, caller: &Principal, external_id: &str) {
        let draft = UserDraft {
            external_id: external_id.into(),
            ..UserDraft::default()
        };
        self.services
            .users
            .upsert_user(caller, draft)
            .await
            .unwrap();
    }
}

/// The signature a receiver would compute for what it got.
fn assert_signed(received: &Received, secret: &SecretString) {
    let id = &received.headers["webhook-id"];
    let timestamp: i64 = received.headers["webhook-timestamp"].parse().unwrap();
    let expected = sign(secret, id, timestamp, &received.body).unwrap();
    assert_eq!(received.headers["webhook-signature"], expected);
    assert!(id.starts_with("msg_"));
    assert_eq!(received.headers["content-type"], "application/json");
}

async fn a_receiver_failing_three_times_gets_the_event_once_more_after_each_failure(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let receiver = Receiver::start(&[500, 503, 429, 204]).await;
    let (endpoint, secret) = h
        .endpoint(&h.caller, &receiver.url, &["user.created"])
        .await;
    h.new_user(&h.caller, "runner").await;

    let queue_delays = h.run_deliveries().await;
    let received = receiver.received();
    assert_eq!(
        received.len(),
        4,
        "one more request after each failure, none after success"
    );
    for request in &received {
        assert_signed(request, &secret);
        assert_eq!(
            request.headers["webhook-id"],
            received[0].headers["webhook-id"]
        );
        assert_eq!(request.body, received[0].body);
    }
    let body: serde_json::Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(body["type"], "user.created");
    assert_eq!(body["data"]["externalId"], "runner");
    assert!(body["timestamp"].is_string());
    assert_eq!(
        queue_delays,
        [0, 5, 300, 900, 900]
            .into_iter()
            .map(Duration::from_secs)
            .collect::<Vec<_>>(),
        "a wait longer than the queue allows is made of hops"
    );
    let delivery = &h
        .services
        .webhook_endpoints
        .list_deliveries(&h.caller, endpoint.id.as_str(), &page())
        .await
        .unwrap()
        .items[0];
    assert_eq!(delivery.status, DeliveryStatus::Succeeded);
    let codes: Vec<_> = delivery.attempts.iter().map(|a| a.status_code).collect();
    assert_eq!(codes, vec![Some(500), Some(503), Some(429), Some(204)]);
    let gaps: Vec<i64> = delivery
        .attempts
        .windows(2)
        .map(|pair| (pair[1].at.millis() - pair[0].at.millis()) / 1000)
        .collect();
    assert_eq!(gaps, vec![5, 300, 1800], "the waits grow");
    assert!(
        h.deliveries
            .dead_letters(10, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_receiver_that_never_succeeds_ends_in_the_dead_letter_queue(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let receiver = Receiver::start(&[500]).await;
    let (endpoint, _) = h
        .endpoint(&h.caller, &receiver.url, &["user.created"])
        .await;
    h.new_user(&h.caller, "gone").await;
    h.run_deliveries().await;
    assert_eq!(receiver.received().len(), 8, "eight attempts in all");
    let delivery = h
        .services
        .webhook_endpoints
        .list_deliveries(&h.caller, endpoint.id.as_str(), &page())
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert_eq!(delivery.next_attempt_at, None);
    let first = delivery.attempts.first().unwrap().at.millis();
    let last = delivery.attempts.last().unwrap().at.millis();
    let hours = (last - first) / 3_600_000;
    assert!(
        (24..=30).contains(&hours),
        "retries span about a day, not {hours} h"
    );
    let dead = h
        .deliveries
        .dead_letters(10, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].body.contains(delivery.id.as_str()));
    let endpoint = h
        .services
        .webhook_endpoints
        .get_endpoint(&h.caller, endpoint.id.as_str())
        .await
        .unwrap();
    assert_eq!(endpoint.status, EndpointStatus::Failing);

    // Resending after the receiver is fixed starts the schedule over, and a success makes the
    // endpoint active again.
    let fixed = Receiver::start(&[204]).await;
    h.services
        .webhook_endpoints
        .update_endpoint(
            &h.caller,
            endpoint.id.as_str(),
            vitasync_domain::announce::endpoints::EndpointPatch {
                url: Some(fixed.url.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    h.services
        .webhook_endpoints
        .resend_delivery(&h.caller, endpoint.id.as_str(), delivery.id.as_str())
        .await
        .unwrap();
    h.run_deliveries().await;
    assert_eq!(fixed.received().len(), 1);
    assert_eq!(
        fixed.received()[0].headers["webhook-id"],
        delivery.message_id()
    );
    let endpoint = h
        .services
        .webhook_endpoints
        .get_endpoint(&h.caller, endpoint.id.as_str())
        .await
        .unwrap();
    assert_eq!(endpoint.status, EndpointStatus::Active);
}

async fn events_reach_only_their_own_workspace_and_listeners(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let (_, other_key) = h
        .services
        .tenancy
        .create_workspace(&h.caller, "other-team", None)
        .await
        .unwrap();
    let other = h
        .services
        .authenticator
        .authenticate(Some(secrecy::ExposeSecret::expose_secret(
            &other_key.secret,
        )))
        .await
        .unwrap();
    let ours = Receiver::start(&[204]).await;
    let theirs = Receiver::start(&[204]).await;
    let deaf = Receiver::start(&[204]).await;
    let everything = Receiver::start(&[204]).await;
    h.endpoint(&h.caller, &ours.url, &["user.created", "user.deleted"])
        .await;
    h.endpoint(&other, &theirs.url, &["user.created"]).await;
    h.endpoint(&h.caller, &deaf.url, &["sync.completed"]).await;
    h.endpoint(&h.caller, &everything.url, &["*"]).await;
    h.new_user(&h.caller, "ours").await;
    h.run_deliveries().await;
    assert_eq!(ours.received().len(), 1);
    assert!(
        theirs.received().is_empty(),
        "another workspace's endpoint hears nothing"
    );
    assert!(
        deaf.received().is_empty(),
        "an endpoint hears only what it listens for"
    );
    assert_eq!(everything.received().len(), 1, "'*' hears every event type");

    h.new_user(&other, "theirs").await;
    h.run_deliveries().await;
    assert_eq!(theirs.received().len(), 1);
    assert_eq!(ours.received().len(), 1);
}

async fn a_sync_announces_its_end_and_the_data_it_changed(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let receiver = Receiver::start(&[204]).await;
    h.endpoint(
        &h.caller,
        &receiver.url,
        &["connection.created", "sync.completed", "data.updated"],
    )
    .await;
    let connection = h.connect().await;
    let window = SyncRequest {
        from: Some(Timestamp::parse("2026-03-01T00:00:00Z").unwrap()),
        to: Some(Timestamp::parse("2026-03-03T00:00:00Z").unwrap()),
        data_types: Vec::new(),
    };
    for _ in 0..2 {
        h.services
            .sync_jobs
            .trigger_sync(&h.caller, &h.user, connection.id.as_str(), window.clone())
            .await
            .unwrap();
        h.work_queue().await;
    }
    h.run_deliveries().await;
    let bodies: Vec<serde_json::Value> = receiver
        .received()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    // The second sync of the same window changes nothing: no second data.updated.
    assert_eq!(
        types,
        vec![
            "connection.created",
            "sync.completed",
            "data.updated",
            "sync.completed"
        ]
    );
    let updated = &bodies[2]["data"];
    assert_eq!(updated["connectionId"], connection.id.as_str());
    assert_eq!(updated["userId"], h.user.as_str());
    assert_eq!(updated["provider"], "withings");
    let instant = |value: &serde_json::Value| Timestamp::parse(value.as_str().unwrap()).unwrap();
    assert_eq!(instant(&updated["from"]), window.from.unwrap());
    assert_eq!(instant(&updated["to"]), window.to.unwrap());
    assert!(
        updated["dataTypes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "steps")
    );
    assert!(
        bodies[1]["data"]["counts"]["steps"]["written"]
            .as_u64()
            .unwrap()
            > 0
    );
}

fn page() -> vitasync_domain::kernel::page::PageRequest {
    vitasync_domain::kernel::page::PageRequest {
        limit: 10,
        after: None,
    }
}

/// A delivery queue that refuses its first message (an SQS outage, a timeout) and then works.
struct FailsOnce {
    inner: Arc<dyn JobQueue>,
    failed: AtomicBool,
}

#[async_trait::async_trait]
impl JobQueue for FailsOnce {
    async fn send(&self, message: Outgoing) -> Result<(), QueueError> {
        if !self.failed.swap(true, Ordering::SeqCst) {
            return Err(QueueError::Unavailable("refused once".into()));
        }
        self.inner.send(message).await
    }
    async fn send_batch(&self, messages: Vec<Outgoing>) -> Result<(), QueueError> {
        self.inner.send_batch(messages).await
    }
    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<vitasync_domain::kernel::queue::Received>, QueueError> {
        self.inner.receive(max, visibility).await
    }
    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.inner.delete(receipt).await
    }
    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.inner.retry_after(receipt, delay).await
    }
    async fn dead_letters(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<vitasync_domain::kernel::queue::Received>, QueueError> {
        self.inner.dead_letters(max, visibility).await
    }
}

async fn an_event_whose_delivery_could_not_be_queued_arrives_once(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let receiver = Receiver::start(&[204]).await;
    let (endpoint, _) = h
        .endpoint(&h.caller, &receiver.url, &["user.created"])
        .await;
    h.new_user(&h.caller, "announced-after-an-outage").await;
    let flaky = Relay::new(
        Dispatcher::new(
            h.ports.webhooks.clone(),
            Arc::new(FailsOnce {
                inner: h.deliveries.clone(),
                failed: AtomicBool::new(false),
            }),
            h.clock.clone(),
        ),
        h.ports.outbox.clone(),
        h.queue.clone(),
        h.clock.clone(),
    );
    let pending = h
        .ports
        .outbox
        .due_entries(h.clock.now().plus_seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1, "user.created waits in the outbox");
    // The delivery is stored but its message is refused: the entry stays for the next round.
    let round = flaky.drain().await.unwrap();
    assert_eq!((round.relayed, round.failed), (0, 1));
    let round = flaky.drain().await.unwrap();
    assert_eq!((round.relayed, round.failed), (1, 0));
    h.run_deliveries().await;
    // The same entry relayed again (a stream retry, a sweeper racing it) changes nothing.
    h.ports.outbox.append(&pending).await.unwrap();
    assert_eq!(h.relay().await, 1);
    h.run_deliveries().await;
    let deliveries = h
        .services
        .webhook_endpoints
        .list_deliveries(&h.caller, endpoint.id.as_str(), &page())
        .await
        .unwrap();
    assert_eq!(deliveries.items.len(), 1, "one delivery per endpoint");
    assert_eq!(receiver.received().len(), 1, "delivered exactly once");
    assert_eq!(
        receiver.received()[0].headers["webhook-id"],
        deliveries.items[0].message_id()
    );
}

on_both_hosts!(
    an_event_whose_delivery_could_not_be_queued_arrives_once,
    a_receiver_failing_three_times_gets_the_event_once_more_after_each_failure,
    a_receiver_that_never_succeeds_ends_in_the_dead_letter_queue,
    events_reach_only_their_own_workspace_and_listeners,
    a_sync_announces_its_end_and_the_data_it_changed,
);
