//! moto (`scripts/aws-emulator.py`), an AWS API emulator speaking the real DynamoDB, SQS and KMS wire protocols,
//! started once per test process on a free loopback port (or shared, when the test runner
//! exports its address in `VITASYNC_TEST_AWS_ENDPOINT`). Each test makes its own table, queues
//! and key, so tests never see each other's data.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const ENDPOINT_VARIABLE: &str = "VITASYNC_TEST_AWS_ENDPOINT";

/// The wrapper shell around the emulator. Its stdin stays open while this process lives; when
/// the process exits it closes, and the shell stops the emulator.
static LIFELINE: Mutex<Option<Child>> = Mutex::new(None);

/// The emulator's base URL, starting it on first use.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| match std::env::var(ENDPOINT_VARIABLE) {
        Ok(shared) if !shared.is_empty() => shared,
        _ => start(),
    })
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with the test tools (moto, standardwebhooks): the tools virtualenv's, else the
/// one on PATH.
pub fn python() -> PathBuf {
    let bundled = workspace().join(".tools/venv/bin/python3");
    if bundled.exists() {
        bundled
    } else {
        PathBuf::from("python3")
    }
}

fn start() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = format!(
        "\"{}\" \"{}\" 127.0.0.1 {port} >/dev/null 2>&1 & pid=$!; read _; kill $pid",
        python().display(),
        workspace().join("scripts/aws-emulator.py").display()
    );
    let child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .spawn()
        .expect("moto_server could not be started: run scripts/test, which installs it");
    *LIFELINE.lock().unwrap() = Some(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("http://127.0.0.1:{port}")
}

/// An SDK configuration aimed at the emulator, with throwaway credentials.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
        .endpoint_url(endpoint())
        .load()
        .await
}
