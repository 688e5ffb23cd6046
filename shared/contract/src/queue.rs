//! The job queue's contract: delays, visibility, redelivery, dead letters, batches.

use crate::fixtures::MAX_RECEIVES;
use std::collections::HashSet;
use std::time::Duration;
use vitasync_domain::kernel::queue::{JobQueue, Outgoing};

const HIDE: Duration = Duration::from_secs(30);

pub async fn job_queue(queue: &dyn JobQueue) {
    // Sent, received once, deleted: gone.
    queue.send(Outgoing::now("first")).await.unwrap();
    let got = queue.receive(10, HIDE).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].body.as_str(), got[0].receive_count), ("first", 1));
    assert!(
        queue.receive(10, HIDE).await.unwrap().is_empty(),
        "hidden while being worked on"
    );
    queue.delete(&got[0].receipt).await.unwrap();

    // A delayed message stays invisible until its delay has passed.
    queue
        .send(Outgoing {
            body: "later".into(),
            delay: Duration::from_secs(2),
        })
        .await
        .unwrap();
    assert!(queue.receive(10, HIDE).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let later = queue.receive(10, HIDE).await.unwrap();
    assert_eq!(
        later.iter().map(|d| d.body.as_str()).collect::<Vec<_>>(),
        ["later"]
    );
    queue.delete(&later[0].receipt).await.unwrap();

    // A message that keeps failing is retried, then lands in the dead-letter queue.
    queue.send(Outgoing::now("poison")).await.unwrap();
    for attempt in 1..=MAX_RECEIVES {
        let got = queue.receive(10, HIDE).await.unwrap();
        assert_eq!(got.len(), 1, "attempt {attempt}");
        assert_eq!(got[0].receive_count, attempt);
        queue
            .retry_after(&got[0].receipt, Duration::ZERO)
            .await
            .unwrap();
    }
    assert!(
        queue.receive(10, HIDE).await.unwrap().is_empty(),
        "moved out of the queue"
    );
    let dead = queue.dead_letters(10, HIDE).await.unwrap();
    assert_eq!(
        dead.iter().map(|d| d.body.as_str()).collect::<Vec<_>>(),
        ["poison"]
    );

    // A batch larger than one request arrives whole, each message once.
    let bodies: Vec<String> = (0..23).map(|n| format!("job-{n}")).collect();
    queue
        .send_batch(bodies.iter().cloned().map(Outgoing::now).collect())
        .await
        .unwrap();
    let mut received = HashSet::new();
    for _ in 0..20 {
        let got = queue.receive(10, HIDE).await.unwrap();
        if got.is_empty() && received.len() == bodies.len() {
            break;
        }
        for delivery in got {
            assert!(
                received.insert(delivery.body.clone()),
                "{} twice",
                delivery.body
            );
            queue.delete(&delivery.receipt).await.unwrap();
        }
    }
    assert_eq!(received, bodies.into_iter().collect::<HashSet<_>>());
}
