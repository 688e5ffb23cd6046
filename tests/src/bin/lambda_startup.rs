//! Lambda cold-start budget: how long each function binary takes from process start to its
//! first poll of the Runtime API (a local stub), and how large its deployable binary is.
//!
//! Run: `scripts/bench-lambda` (builds release binaries, then runs this).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vitasync_tests::runtime_stub::RuntimeStub;

const FUNCTIONS: [&str; 13] = [
    "users",
    "admin",
    "connections",
    "authorize",
    "callback",
    "sync-trigger",
    "query",
    "sync-worker",
    "scheduler",
    "deliver",
    "relay",
    "webhook",
    "mobile",
];
const RUNS: usize = 25;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn megabytes(path: &PathBuf) -> Option<f64> {
    std::fs::metadata(path)
        .ok()
        .map(|meta| meta.len() as f64 / 1_000_000.0)
}

async fn time_to_first_poll(binary: &PathBuf) -> Duration {
    let runtime = RuntimeStub::start().await;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("VITASYNC_TABLE", "bench")
        // Named, never called: functions do no network I/O at init.
        .env("VITASYNC_KMS_KEY_ID", "bench")
        .env("VITASYNC_JOBS_QUEUE_URL", "http://127.0.0.1:9/queue/bench")
        .env(
            "VITASYNC_DELIVERIES_QUEUE_URL",
            "http://127.0.0.1:9/queue/deliveries",
        )
        .env(
            "VITASYNC_DELIVERIES_DEAD_LETTER_URL",
            "http://127.0.0.1:9/queue/deliveries-dead",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let polled = tokio::time::timeout(Duration::from_secs(10), runtime.first_poll())
        .await
        .expect("the function never polled");
    child.kill().unwrap();
    child.wait().unwrap();
    polled - started
}

#[tokio::main]
async fn main() {
    println!("| function | aarch64 size (MB) | host size (MB) | first poll p50 (ms) | p90 (ms) |");
    println!("|---|---|---|---|---|");
    for function in FUNCTIONS {
        let host_binary = workspace().join("target/release").join(function);
        assert!(
            host_binary.exists(),
            "build it first: cargo build --release --bin {function}"
        );
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            times.push(time_to_first_poll(&host_binary).await);
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let arm = workspace()
            .join("target/lambda")
            .join(function)
            .join("bootstrap");
        println!(
            "| {function} | {} | {:.1} | {:.1} | {:.1} |",
            megabytes(&arm).map_or("not built".to_owned(), |mb| format!("{mb:.1}")),
            megabytes(&host_binary).unwrap_or_default(),
            ms(times[RUNS / 2]),
            ms(times[RUNS * 9 / 10]),
        );
    }
}
