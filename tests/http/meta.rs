use reqwest::{Method, StatusCode};
use std::collections::BTreeSet;
use vitasync_tests::TestHost;

/// Every route of the API so far, as a client sees it.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/redoc.standalone.js"),
    ("GET", "/console"),
    ("GET", "/console/console.js"),
    ("GET", "/console/console.css"),
    ("GET", "/console/uPlot.iife.min.js"),
    ("GET", "/console/uPlot.min.css"),
    ("POST", "/v1/workspaces"),
    ("GET", "/v1/workspaces"),
    ("GET", "/v1/workspace"),
    ("POST", "/v1/api-keys"),
    ("GET", "/v1/api-keys"),
    ("DELETE", "/v1/api-keys/{keyId}"),
    ("POST", "/v1/api-keys/{keyId}/rotate"),
    ("POST", "/v1/webhooks"),
    ("GET", "/v1/webhooks"),
    ("GET", "/v1/webhooks/{webhookId}"),
    ("PATCH", "/v1/webhooks/{webhookId}"),
    ("DELETE", "/v1/webhooks/{webhookId}"),
    ("POST", "/v1/webhooks/{webhookId}/test"),
    ("GET", "/v1/webhooks/{webhookId}/deliveries"),
    (
        "POST",
        "/v1/webhooks/{webhookId}/deliveries/{deliveryId}/resend",
    ),
    ("GET", "/webhooks/{providerId}"),
    ("HEAD", "/webhooks/{providerId}"),
    ("POST", "/webhooks/{providerId}"),
    ("GET", "/webhooks/{providerId}/{appId}"),
    ("HEAD", "/webhooks/{providerId}/{appId}"),
    ("POST", "/webhooks/{providerId}/{appId}"),
    ("POST", "/webhooks/{providerId}/{appId}/{secret}"),
    ("POST", "/v1/providers/{providerId}/webhook-subscriptions"),
    (
        "POST",
        "/v1/users/{userId}/connections/{connectionId}/webhooks/register",
    ),
    ("POST", "/v1/users/{userId}/sign-in-tokens"),
    ("POST", "/v1/auth/token"),
    ("POST", "/v1/auth/revoke"),
    ("GET", "/v1/me"),
    ("GET", "/v1/me/connections"),
    ("POST", "/v1/me/samples"),
    ("GET", "/v1/me/health"),
    ("GET", "/v1/me/health/timeseries"),
    ("GET", "/v1/me/health/daily-summaries"),
    ("GET", "/v1/me/health/summary"),
    ("GET", "/v1/me/events"),
    ("GET", "/v1/me/events/{eventId}"),
    ("GET", "/v1/me/personal-records"),
    ("GET", "/v1/me/personal-records/{metricType}"),
    ("GET", "/v1/providers"),
    ("GET", "/v1/providers/{providerId}"),
    ("GET", "/v1/providers/{providerId}/logo.svg"),
    ("PUT", "/v1/providers/{providerId}/credentials"),
    ("GET", "/v1/providers/{providerId}/credentials"),
    ("DELETE", "/v1/providers/{providerId}/credentials"),
    ("POST", "/v1/users"),
    ("GET", "/v1/users"),
    ("GET", "/v1/users/{userId}"),
    ("PATCH", "/v1/users/{userId}"),
    ("GET", "/v1/users/{userId}/connections"),
    ("GET", "/v1/users/{userId}/connections/{connectionId}"),
    ("DELETE", "/v1/users/{userId}/connections/{connectionId}"),
    ("POST", "/v1/users/{userId}/connect-links"),
    ("POST", "/v1/widget/sessions"),
    ("GET", "/v1/widget"),
    ("GET", "/v1/oauth/{providerId}/authorize"),
    ("GET", "/v1/oauth/{providerId}/callback"),
    ("GET", "/v1/oauth/done"),
    ("GET", "/v1/demo/authorize"),
    ("GET", "/v1/demo/authorize/decision"),
    ("POST", "/v1/demo/token"),
    ("POST", "/v1/users/{userId}/connections/{connectionId}/sync"),
    ("GET", "/v1/sync-jobs/{jobId}"),
    ("GET", "/v1/users/{userId}/sync-jobs"),
    ("GET", "/v1/users/{userId}/health"),
    ("DELETE", "/v1/users/{userId}/health"),
    ("GET", "/v1/users/{userId}/health/timeseries"),
    ("GET", "/v1/users/{userId}/health/daily-summaries"),
    ("GET", "/v1/users/{userId}/health/summary"),
    ("GET", "/v1/users/{userId}/events"),
    ("GET", "/v1/users/{userId}/events/{eventId}"),
    ("GET", "/v1/users/{userId}/personal-records"),
    ("GET", "/v1/users/{userId}/personal-records/{metricType}"),
    ("DELETE", "/v1/users/{userId}"),
];

#[tokio::test]
async fn health_answers_without_a_key() {
    let host = TestHost::start().await;
    let reply = host.send(Method::GET, "/health", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["status"], "ok");
}

#[tokio::test]
async fn openapi_covers_every_route() {
    let host = TestHost::start().await;
    let reply = host.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let spec = &reply.body;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let expected: BTreeSet<_> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);
    let served: BTreeSet<_> = vitasync_api::Function::Local
        .route_list()
        .into_iter()
        .collect();
    assert_eq!(served, expected, "the local host serves what it documents");
    assert!(spec["components"]["securitySchemes"]["apiKey"].is_object());
    assert!(spec["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn docs_is_a_readable_page_listing_every_route() {
    let host = TestHost::start().await;
    let response = host.raw().get(host.url("/docs")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = response.text().await.unwrap();
    assert!(page.starts_with("<!doctype html>"));
    for (method, path) in ROUTES {
        assert!(
            page.contains(&format!("{method}</span> <code>{path}</code>")),
            "{method} {path}"
        );
    }
    assert!(page.contains("https://vitasync.dev/problems/validation-error"));
}

#[tokio::test]
async fn openapi_documents_the_errors_every_route_can_give() {
    let host = TestHost::start().await;
    let spec = host
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let operation = |path: &str, method: &str| spec["paths"][path][method].clone();
    let statuses = |op: &serde_json::Value| -> BTreeSet<String> {
        op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let create_user = operation("/v1/users", "post");
    for status in ["400", "401", "403", "413", "415", "503"] {
        assert!(
            statuses(&create_user).contains(status),
            "POST /v1/users {status}"
        );
    }
    let problem = &create_user["responses"]["401"]["content"]["application/problem+json"];
    assert!(problem.is_object(), "errors are problem+json");
    assert!(statuses(&operation("/v1/users/{userId}", "get")).contains("404"));
    assert!(statuses(&operation("/v1/auth/token", "post")).contains("413"));
    // The browser leg's errors are pages (or problem+json when JSON is asked for).
    let authorize = operation("/v1/oauth/{providerId}/authorize", "get");
    let content = authorize["responses"]["400"]["content"]
        .as_object()
        .unwrap();
    assert!(content.contains_key("text/html") && content.contains_key("application/problem+json"));
    assert!(!content.contains_key("application/json"));
}

/// The OpenAPI document the functions serve is kept in the repository (so the admin function
/// need not link every route's handler to produce it); it must be what the code generates.
#[test]
fn the_served_openapi_document_is_the_one_the_code_generates() {
    let generated = vitasync_api::openapi().to_pretty_json().unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/api/openapi.json");
    if std::env::var_os("VITASYNC_WRITE_OPENAPI").is_some() {
        std::fs::write(&path, format!("{generated}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed.trim_end() == generated,
        "shared/api/openapi.json is out of date: run VITASYNC_WRITE_OPENAPI=1 cargo nextest run \
         -p vitasync-tests -E 'test(the_served_openapi_document)'"
    );
}

/// The document passes an independent validator (PyPI `openapi-spec-validator`, installed by
/// `scripts/tools`): unique operation ids, resolvable references, valid schemas.
#[test]
fn the_openapi_document_passes_an_independent_validator() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/api/openapi.json");
    let output = std::process::Command::new(vitasync_contract::emulator::python())
        .args(["-m", "openapi_spec_validator"])
        .arg(&path)
        .output()
        .expect("the tools' Python (scripts/tools installs openapi-spec-validator)");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Answers printed one after another (a terminal, a pasted README block) do not run together.
#[tokio::test]
async fn json_answers_end_with_a_newline() {
    let host = TestHost::start().await;
    for (path, key) in [
        ("/health", None),
        ("/v1/users", Some(vitasync_tests::ROOT_KEY)),
        ("/v1/users", None),
        ("/v1/no-such-route", None),
    ] {
        let mut request = host.raw().get(host.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        let text = response.text().await.unwrap();
        assert!(text.ends_with("}\n"), "{path}: {text:?}");
        assert!(!text.ends_with("\n\n"));
    }
}

/// The README's shell blocks are what a newcomer pastes: every variable they use is set in an
/// earlier line, and no example carries a fixed date that rots.
#[test]
fn the_readme_examples_set_what_they_use_and_compute_their_dates() {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(block), _) => block.push(line),
            (None, _) => {}
        }
    }
    assert!(blocks.len() > 5);
    let mut set: BTreeSet<String> = ["PATH", "PWD", "HOME"].map(String::from).into();
    for line in blocks.iter().flatten() {
        let code = line.split(" #").next().unwrap_or_default();
        if code.trim_start().starts_with('#') {
            continue;
        }
        let assigned = code
            .trim_start()
            .trim_start_matches("export ")
            .split_once('=')
            .map(|(name, _)| name.to_owned())
            .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        let mut rest = code;
        while let Some(at) = rest.find('$') {
            rest = &rest[at + 1..];
            let name: String = rest
                .trim_start_matches('{')
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            if !name.is_empty() {
                assert!(
                    set.contains(&name),
                    "${name} is used before it is set: {line}"
                );
            }
        }
        if let Some(name) = assigned {
            set.insert(name);
        }
        let dated = code.char_indices().any(|(i, _)| {
            let window = code.get(i..i + 10).unwrap_or_default().as_bytes();
            window.len() == 10
                && window.starts_with(b"20")
                && window[4] == b'-'
                && window[7] == b'-'
                && window
                    .iter()
                    .enumerate()
                    .all(|(n, b)| n == 4 || n == 7 || b.is_ascii_digit())
        });
        assert!(!dated, "a fixed date rots: {line}");
    }
}

/// The reference viewer served from the binary is what `web/package-lock.json` gives
/// (installed by `scripts/tools`), with the one change `scripts/web-assets` makes (its menu's
/// logo not fetched from a CDN).
#[test]
fn the_bundled_browser_assets_are_what_the_lockfile_gives() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let locked =
        std::fs::read_to_string(root.join("web/node_modules/redoc/bundles/redoc.standalone.js"))
            .expect("web/node_modules is missing: run scripts/tools");
    let expected = locked.replace("https://cdn.redoc.ly/redoc/logo-mini.svg", "data:,");
    let bundled =
        std::fs::read_to_string(root.join("shared/api/assets/redoc.standalone.js")).unwrap();
    assert!(
        bundled == expected,
        "shared/api/assets is not what the lockfile gives: run scripts/web-assets"
    );
    for file in ["uPlot.iife.min.js", "uPlot.min.css"] {
        let locked = std::fs::read(root.join("web/node_modules/uplot/dist").join(file)).unwrap();
        let bundled = std::fs::read(root.join("shared/api/assets/console").join(file)).unwrap();
        assert!(
            bundled == locked,
            "{file} is not what the lockfile gives: run scripts/web-assets"
        );
    }
}
