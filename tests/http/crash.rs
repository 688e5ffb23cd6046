//! The local host killed with SIGKILL in the middle of a burst of user creations, restarted
//! on the same data dir each time: every creation it acknowledged before the kill is there
//! after the restart, with the id it answered; every user it stored is announced, and each
//! exactly once per endpoint (receivers see one `webhook-id` per user).

use crate::lambda_runtime::function_binary;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vitasync_tests::receiver::Receiver;

const ROOT_KEY: &str = "vs_live_crash_root_key_0123456789abcdef";
const KILLS: usize = 3;
const WRITERS: usize = 16;

fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

fn serve(address: &str, data: &Path) -> Child {
    Command::new(function_binary("vitasync"))
        .args(["serve", "--addr", address, "--data-dir"])
        .arg(data)
        .env("VITASYNC_ADMIN_KEY", ROOT_KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn until_ready(http: &reqwest::Client, base: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(response) = http.get(format!("{base}/health")).send().await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the local host did not come up at {base}");
}

async fn stored_users(http: &reqwest::Client, base: &str) -> BTreeMap<String, String> {
    let mut users = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = http
            .get(format!("{base}/v1/users"))
            .bearer_auth(ROOT_KEY)
            .query(&[("limit", "100")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor.as_str())]);
        }
        let page: Value = request.send().await.unwrap().json().await.unwrap();
        for user in page["data"].as_array().unwrap() {
            users.insert(
                user["id"].as_str().unwrap().to_owned(),
                user["externalId"].as_str().unwrap().to_owned(),
            );
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return users,
        }
    }
}

/// externalId → the id the 201 answered (`None` when the kill cut the body short: the status
/// line alone says the user was stored).
type Acknowledged = Arc<Mutex<BTreeMap<String, Option<String>>>>;

/// Every creation acknowledged so far is stored, under the id it was answered with.
async fn acknowledged_are_stored(
    http: &reqwest::Client,
    base: &str,
    acknowledged: &Acknowledged,
    round: usize,
) {
    let stored: BTreeMap<String, String> = stored_users(http, base)
        .await
        .into_iter()
        .map(|(id, external_id)| (external_id, id))
        .collect();
    let acknowledged = acknowledged.lock().unwrap().clone();
    for (external_id, answered_id) in &acknowledged {
        let Some(stored_id) = stored.get(external_id) else {
            panic!("after kill {round}, the acknowledged creation of {external_id} was lost");
        };
        if let Some(answered_id) = answered_id {
            assert_eq!(
                stored_id, answered_id,
                "after kill {round}, {external_id} is stored under another id"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn users_created_around_kill_9_are_each_announced_once() {
    let data = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(&[204]).await;
    let address = free_address();
    let base = format!("http://{address}");
    vitasync_tests::install_tls();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut host = serve(&address, data.path());
    until_ready(&http, &base).await;
    let created = http
        .post(format!("{base}/v1/webhooks"))
        .bearer_auth(ROOT_KEY)
        .json(&json!({ "url": receiver.url, "events": ["user.created"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());

    let acknowledged: Acknowledged = Arc::default();
    for round in 0..KILLS {
        let acknowledged_before = acknowledged.lock().unwrap().len();
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (http, base, acknowledged) = (http.clone(), base.clone(), acknowledged.clone());
                tokio::spawn(async move {
                    for n in 0.. {
                        let external_id = format!("crash-{round}-{writer}-{n}");
                        let response = http
                            .post(format!("{base}/v1/users"))
                            .bearer_auth(ROOT_KEY)
                            .json(&json!({ "externalId": external_id }))
                            .send()
                            .await;
                        // No answer: the host is gone and this writer's round is over.
                        let Ok(response) = response else { return };
                        let status = response.status();
                        // Sent only once the user is durable, so it must survive the kill.
                        assert_eq!(status, 201, "creating {external_id} answered {status}");
                        let id = response
                            .json::<Value>()
                            .await
                            .ok()
                            .and_then(|user| user["id"].as_str().map(str::to_owned));
                        acknowledged.lock().unwrap().insert(external_id, id);
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(400)).await;
        host.kill().unwrap();
        host.wait().unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
        host = serve(&address, data.path());
        until_ready(&http, &base).await;
        assert!(
            acknowledged.lock().unwrap().len() > acknowledged_before,
            "nothing was acknowledged before kill {round}"
        );
        acknowledged_are_stored(&http, &base, &acknowledged, round).await;
    }

    let users = stored_users(&http, &base).await;
    let acknowledged: BTreeSet<String> = acknowledged.lock().unwrap().keys().cloned().collect();
    let stored: BTreeSet<String> = users.values().cloned().collect();
    assert!(
        acknowledged.len() > WRITERS * KILLS,
        "the burst made too few users to mean anything: {}",
        acknowledged.len()
    );
    assert!(
        acknowledged.is_subset(&stored),
        "an acknowledged user was lost"
    );

    // Every stored user is announced; a delivery sent twice keeps its webhook-id.
    let started = Instant::now();
    let announced = loop {
        let mut by_user: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for delivery in receiver.received() {
            let body: Value = serde_json::from_str(&delivery.body).unwrap();
            by_user
                .entry(body["data"]["userId"].as_str().unwrap().to_owned())
                .or_default()
                .insert(delivery.headers["webhook-id"].clone());
        }
        // Seconds alone, a minute or more beside the rest of the suite on two cores.
        if by_user.len() >= users.len() || started.elapsed() > Duration::from_secs(150) {
            break by_user;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    host.kill().unwrap();
    host.wait().unwrap();
    let missing: Vec<_> = users
        .keys()
        .filter(|id| !announced.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} users never announced",
        missing.len(),
        users.len()
    );
    let repeated: Vec<_> = announced.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        repeated.is_empty(),
        "announced more than once: {repeated:?}"
    );
    assert_eq!(
        announced.len(),
        users.len(),
        "an event for a user not stored"
    );
}
