//! Each Lambda function links only what it runs: none links the embedded store or the local
//! host, only those that call out over HTTP (providers' APIs, webhook receivers) link an HTTP
//! client, and only those and the one that sends browsers to consent screens link the
//! provider integrations.

use std::collections::BTreeSet;
use std::process::Command;
use vitasync_api::Function;

/// Crates no Lambda function may link.
const NEVER: [&str; 4] = ["redb", "vitasync-embedded", "vitasync-local", "clap"];
/// Crates only functions that call out may link.
const CALLING_OUT: [&str; 1] = ["reqwest"];
/// Crates only functions that speak OAuth to providers (or call out) may link.
const SPEAKING_OAUTH: [&str; 2] = ["vitasync-providers", "oauth2"];
/// The function that builds consent URLs and calls no one.
const CONSENT_ONLY: &str = "authorize";
/// The functions that call providers or webhook receivers.
const CALLS_OUT: [&str; 5] = [
    "connections",
    "callback",
    "webhook",
    "sync-worker",
    "deliver",
];

/// The crates `package` links in a normal build, by name.
fn linked_crates(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "-p", package, "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn each_lambda_function_links_only_what_it_runs() {
    let binaries = Function::LAMBDAS.map(Function::binary).into_iter().chain([
        "sync-worker",
        "scheduler",
        "deliver",
        "relay",
    ]);
    let mut checked = 0;
    for binary in binaries {
        let linked = linked_crates(&format!("vitasync-fn-{binary}"));
        assert!(
            linked.contains("vitasync-domain"),
            "{binary}: cargo tree listed {linked:?}"
        );
        for forbidden in NEVER {
            assert!(!linked.contains(forbidden), "{binary} links {forbidden}");
        }
        if !CALLS_OUT.contains(&binary) {
            for forbidden in CALLING_OUT {
                assert!(!linked.contains(forbidden), "{binary} links {forbidden}");
            }
            if binary != CONSENT_ONLY {
                for forbidden in SPEAKING_OAUTH {
                    assert!(!linked.contains(forbidden), "{binary} links {forbidden}");
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 13);
}

#[test]
fn the_local_host_links_the_embedded_store() {
    let linked = linked_crates("vitasync-local");
    assert!(linked.contains("redb") && linked.contains("reqwest"));
}
