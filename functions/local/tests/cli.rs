//! The `vitasync` binary as an operator meets it: first start, restarts, signals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Running {
    child: Child,
    addr: String,
    stdout: String,
}

/// Starts `vitasync serve` on a free port and waits for its ready line.
fn serve(data_dir: &Path, admin_key: Option<&str>) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vitasync"));
    command
        .arg("serve")
        .env("VITASYNC_ADDR", "127.0.0.1:0")
        .env("VITASYNC_DATA_DIR", data_dir)
        .env_remove("VITASYNC_ADMIN_KEY")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(key) = admin_key {
        command.env("VITASYNC_ADMIN_KEY", key);
    }
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let ready = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("no ready line within 20 s");
        if line.contains("listening on http://") {
            break line;
        }
    };
    let addr = ready
        .split("listening on http://")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    Running {
        child,
        addr,
        stdout: String::new(),
    }
}

impl Running {
    fn users_status(&self, key: &str) -> u16 {
        // reqwest's rustls has no built-in crypto provider here: use the one VitaSync uses.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let client = reqwest::blocking::Client::new();
        client
            .get(format!("http://{}/v1/users", self.addr))
            .bearer_auth(key)
            .send()
            .unwrap()
            .status()
            .as_u16()
    }

    /// Sends SIGTERM and waits for a clean exit; returns what it printed on stdout.
    fn terminate(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "stopped cleanly on SIGTERM: {exit:?}");
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut self.stdout)
            .unwrap();
        self.stdout
    }
}

fn printed_key(stdout: &str) -> Option<String> {
    stdout
        .split_whitespace()
        .find(|word| word.starts_with("vs_live_"))
        .map(str::to_owned)
}

#[test]
fn first_start_prints_a_root_key_once_and_restarts_keep_it() {
    let data = tempfile::tempdir().unwrap();

    let first = serve(data.path(), None);
    let addr = first.addr.clone();
    assert!(addr.starts_with("127.0.0.1:"));
    let stdout = first.terminate();
    let key = printed_key(&stdout).expect("the first start prints the root key");

    let second = serve(data.path(), None);
    assert_eq!(
        second.users_status(&key),
        200,
        "the printed key works after a restart"
    );
    assert_eq!(second.users_status("vs_live_wrong"), 401);
    let stdout = second.terminate();
    assert_eq!(printed_key(&stdout), None, "a restart prints no key");
}

#[test]
fn an_operator_key_is_the_root_key_and_is_never_printed() {
    let data = tempfile::tempdir().unwrap();
    let key = "vs_live_operator_chosen_key_0123456789";
    for _ in 0..2 {
        let running = serve(data.path(), Some(key));
        assert_eq!(running.users_status(key), 200);
        let stdout = running.terminate();
        assert!(!stdout.contains(key));
        assert_eq!(printed_key(&stdout), None);
    }
}

#[test]
fn a_short_operator_key_is_refused_with_a_clear_message() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_vitasync"))
        .arg("serve")
        .env("VITASYNC_ADDR", "127.0.0.1:0")
        .env("VITASYNC_DATA_DIR", data.path())
        .env("VITASYNC_ADMIN_KEY", "short")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("VITASYNC_ADMIN_KEY"), "{stderr}");
    assert!(!stderr.contains("short\""), "the key itself is not echoed");
}

#[tokio::test]
async fn bootstrap_creates_the_root_key_in_dynamodb_once() {
    use vitasync_contract::{emulator, fixtures};
    let table = fixtures::new_table().await;
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_vitasync"))
            .args(["bootstrap", "--aws"])
            .env_remove("VITASYNC_ADMIN_KEY")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("VITASYNC_AWS_ENDPOINT", emulator::endpoint())
            .env("VITASYNC_TABLE", &table)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let key =
        printed_key(&String::from_utf8_lossy(&first.stdout)).expect("the new root key is printed");

    let second = run();
    assert!(second.status.success());
    assert_eq!(
        printed_key(&String::from_utf8_lossy(&second.stdout)),
        None,
        "printed once"
    );

    let (ports, _) = fixtures::dynamo_ports_on(&table).await;
    let principal = vitasync_domain::tenancy::Authenticator::new(ports.api_keys, ports.clock)
        .authenticate(Some(&key))
        .await
        .unwrap();
    assert!(principal.root);
}

#[test]
fn bootstrap_without_a_table_names_the_missing_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_vitasync"))
        .args(["bootstrap", "--aws"])
        .env_remove("VITASYNC_TABLE")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("VITASYNC_TABLE"));
}
