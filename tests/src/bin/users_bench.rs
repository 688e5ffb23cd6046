//! The user-creation budget on the local host: 16 clients each creating users (their own
//! externalIds) one after another for 5 s with `POST /v1/users`, against the in-process local
//! host over loopback on a fresh data dir. Target: ≥ 3,000 users/s with p99 ≤ 20 ms.
//!
//! Run: `scripts/bench-users` (a release build).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use std::time::{Duration, Instant};

/// The local host's allocator (`vitasync serve` uses it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROOT_KEY: &str = "vs_live_bench_root_key_0123456789abcdef";
const CLIENTS: usize = 16;
const RUN: Duration = Duration::from_secs(5);

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The latency `fraction` of the requests stayed within (`sorted` in ascending order).
fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let rank = (sorted.len() as f64 * fraction).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One client: creates users one after another until `deadline`; the latency of each.
async fn create_users(
    http: reqwest::Client,
    url: String,
    client: usize,
    deadline: Instant,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let external_id = format!("bench-{client}-{}", latencies.len());
        let started = Instant::now();
        let response = http
            .post(&url)
            .bearer_auth(ROOT_KEY)
            .json(&json!({ "externalId": external_id }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        // Read to the end, so the connection goes back to the pool.
        let body = response.bytes().await.unwrap();
        latencies.push(started.elapsed());
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    }
    latencies
}

#[tokio::main]
async fn main() {
    let (host, _dir) = vitasync_tests::bench_host(ROOT_KEY).await;
    let url = format!("http://{}/v1/users", host.addr());
    let http = reqwest::Client::new();

    let started = Instant::now();
    let deadline = started + RUN;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| tokio::spawn(create_users(http.clone(), url.clone(), client, deadline)))
        .collect();
    let mut latencies = Vec::new();
    for client in clients {
        latencies.extend(client.await.unwrap());
    }
    let elapsed = started.elapsed();
    host.stop().await.unwrap();

    latencies.sort();
    let created = latencies.len();
    println!("| measure | figure | target |");
    println!("|---|---|---|");
    println!(
        "| `POST /v1/users` on the local host, {CLIENTS} concurrent clients for {} s ({created} users): users/s, p50 / p99 latency | {:.0}/s, {:.1} ms / {:.1} ms | ≥ 3,000/s, p99 ≤ 20 ms |",
        RUN.as_secs(),
        created as f64 / elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
    );
}
