//! The phone-ingest budget on the local host: a week of 1 Hz heart rate (604,800 samples) as a
//! phone pushes it, `POST /v1/me/samples` in batches of 10,000, one after another, against the
//! in-process local host over loopback on a fresh data dir. The bodies are made before the
//! clock starts; the figure is end to end: HTTP, parsing, checks, storing with rollups.
//! Target: ≥ 1 M samples/s.
//!
//! Run: `scripts/bench-ingest` (a release build).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The local host's allocator (`vitasync serve` uses it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SAMPLES: usize = 7 * 86_400;
const BATCH: usize = 10_000;
/// 2026-10-01T00:00:00Z
const START_S: i64 = 1_790_812_800;

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The pushes' bodies: HealthKit heart rate a second apart, a bounded random walk in whole
/// beats, each sample with its own uuid, in Berlin. Kept for the process's life, so sending
/// one copies nothing.
fn bodies() -> Vec<&'static [u8]> {
    let mut seed = 42u64;
    let mut bpm = 62i64;
    let samples: Vec<Value> = (0..SAMPLES)
        .map(|n| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            bpm = (bpm + ((seed >> 33) % 3) as i64 - 1).clamp(45, 185);
            let at = chrono::DateTime::from_timestamp(START_S + n as i64, 0).unwrap();
            json!({
                "uuid": format!("5E3F{n:08X}-8C1D-4B7A-9F21-0A6C3D2E1B{:02X}", n % 251),
                "type": "HKQuantityTypeIdentifierHeartRate",
                "start": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "value": bpm,
                "unit": "count/min",
                "timeZone": "Europe/Berlin",
                "sourceName": "Apple Watch",
            })
        })
        .collect();
    samples
        .chunks(BATCH)
        .map(|batch| {
            let body = serde_json::to_vec(&json!({"source": "apple_health", "samples": batch}));
            &*Box::leak(body.unwrap().into_boxed_slice())
        })
        .collect()
}

#[tokio::main]
async fn main() {
    let host = vitasync_tests::TestHost::start().await;
    let base = host.base.clone();
    let http = reqwest::Client::new();
    let bodies = std::sync::Arc::new(bodies());
    let bytes: usize = bodies.iter().map(|body| body.len()).sum();
    let mut rows = Vec::new();
    // One phone pushing, then two (two users) at once: the host's two cores.
    for (round, phones) in [(0, 1), (1, 2)] {
        let mut tokens = Vec::new();
        for phone in 0..phones {
            let external_id = format!("ingest-bench-{}", round * 10 + phone);
            let (_, token) = host
                .signed_in_phone(vitasync_tests::ROOT_KEY, &external_id)
                .await;
            tokens.push(token);
        }
        let started = Instant::now();
        let pushers: Vec<_> = tokens
            .into_iter()
            .map(|token| tokio::spawn(push_all(http.clone(), base.clone(), token, bodies.clone())))
            .collect();
        let mut latencies = Vec::new();
        for pusher in pushers {
            latencies.extend(pusher.await.unwrap());
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let samples = SAMPLES * phones;
        rows.push(format!(
            "| `POST /v1/me/samples` on the local host: {phones} phone(s) each pushing {SAMPLES} samples of 1 Hz heart rate in batches of {BATCH} ({:.1} MB of JSON each), one push after another | {:.0} ms, {:.2} M samples/s; a push p50 {:.1} ms | ≥ 1 M/s |",
            bytes as f64 / 1e6,
            ms(elapsed),
            samples as f64 / elapsed.as_secs_f64() / 1e6,
            ms(latencies[latencies.len() / 2]),
        ));
    }

    println!("| measure | figure | target |");
    println!("|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}

/// One phone's pushes, one after another: each push's latency.
async fn push_all(
    http: reqwest::Client,
    base: String,
    token: String,
    bodies: std::sync::Arc<Vec<&'static [u8]>>,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(bodies.len());
    for body in bodies.iter() {
        let pushed = Instant::now();
        let response = http
            .post(format!("{base}/v1/me/samples"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(*body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        latencies.push(pushed.elapsed());
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["rejected"], json!([]), "{answer}");
    }
    latencies
}
