//! A harness for driving VitaSync over a real socket: a local host on a temporary data dir, a
//! known root key, and a small JSON client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod fake_provider;
pub mod receiver;
pub mod runtime_stub;
pub mod stack;

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use tempfile::TempDir;
use vitasync_local::{LocalConfig, LocalHost};

/// The root key every test host starts with.
pub const ROOT_KEY: &str = "vs_live_test_root_key_0123456789abcdef";

pub struct TestHost {
    host: Option<LocalHost>,
    dir: TempDir,
    vars: BTreeMap<String, String>,
    pub base: String,
    client: reqwest::Client,
}

/// A response: status, headers and the body as JSON (`Null` when empty or not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts this is a problem+json answer with `status` and the stable `type` slug.
    pub fn assert_problem(&self, status: u16, slug: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.content_type(), "application/problem+json");
        assert_eq!(
            self.body["type"],
            format!("https://vitasync.dev/problems/{slug}"),
            "body: {}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string());
        assert!(self.body["detail"].is_string());
        self
    }

    /// The field a validation problem names.
    pub fn invalid_field(&self) -> &str {
        self.assert_problem(400, "validation-error");
        self.body["errors"][0]["field"].as_str().unwrap()
    }
}

/// Stand-ins for sealed tokens, for connections stored directly whose tokens are never opened
/// (reads, the scheduler, benchmarks).
pub fn placeholder_tokens() -> vitasync_domain::connections::StoredTokens {
    vitasync_domain::connections::StoredTokens {
        sealed: vitasync_domain::kernel::secrets::SealedSecret {
            wrapped_key: vec![1; 8],
            nonce: vec![2; 12],
            ciphertext: vec![3; 32],
        },
        version: 1,
        expires_at: None,
        refreshing_until: None,
    }
}

/// Gives reqwest the TLS crypto provider VitaSync uses (reqwest is built without its own).
pub fn install_tls() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A plain client, TLS ready.
pub fn plain_client() -> reqwest::Client {
    install_tls();
    reqwest::Client::new()
}

/// A client that does not follow redirects, so tests see each hop.
pub fn browser_client() -> reqwest::Client {
    install_tls();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestHost {
    pub async fn start() -> Self {
        Self::start_with(BTreeMap::new()).await
    }

    /// `start_with` for variables written as pairs.
    pub async fn start_with_pairs(vars: &[(&str, &str)]) -> Self {
        Self::start_with(
            vars.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
        .await
    }

    /// A host whose environment has `vars` on top of the process's (provider credentials and
    /// URLs, redirect allow-lists).
    pub async fn start_with(vars: BTreeMap<String, String>) -> Self {
        install_tls();
        let dir = tempfile::tempdir().unwrap();
        let host = Self::launch(&dir, "127.0.0.1:0".parse().unwrap(), &vars).await;
        let base = format!("http://{}", host.addr());
        Self {
            host: Some(host),
            dir,
            vars,
            base,
            client: browser_client(),
        }
    }

    async fn launch(dir: &TempDir, addr: SocketAddr, vars: &BTreeMap<String, String>) -> LocalHost {
        LocalHost::start(LocalConfig {
            addr,
            data_dir: dir.path().to_path_buf(),
            admin_key: Some(SecretString::from(ROOT_KEY)),
            vars: vars.clone(),
        })
        .await
        .unwrap()
    }

    /// Stops the host and starts a new one on the same data dir and address.
    pub async fn restart(&mut self) {
        let host = self.host.take().unwrap();
        let addr = host.addr();
        host.stop().await.unwrap();
        self.host = Some(Self::launch(&self.dir, addr, &self.vars).await);
    }

    /// Where the host keeps its files (to check what reaches the disk).
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Every byte the store wrote, to search for things that must never be there.
    pub fn stored_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                bytes.extend(std::fs::read(path).unwrap());
            }
        }
        bytes
    }

    /// GETs `url` without following redirects; returns the status and `Location`.
    pub async fn visit(&self, url: &str) -> (StatusCode, Option<String>, String) {
        let response = self.client.get(url).send().await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, location, response.text().await.unwrap())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Self::reply(request.send().await.unwrap()).await
    }

    pub async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn raw(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.send(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(key), Some(&body)).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(key), Some(&body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.send(Method::DELETE, path, Some(key), None).await
    }

    /// A new workspace; returns its admin key.
    pub async fn workspace(&self, slug: &str) -> String {
        let reply = self
            .post(
                "/v1/workspaces",
                ROOT_KEY,
                serde_json::json!({ "slug": slug }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["apiKey"].as_str().unwrap().to_owned()
    }

    /// A new key in the workspace of `admin_key`; returns its secret.
    pub async fn key(&self, admin_key: &str, scopes: &[&str]) -> String {
        let reply = self
            .post(
                "/v1/api-keys",
                admin_key,
                serde_json::json!({ "name": "test", "scopes": scopes }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["secret"].as_str().unwrap().to_owned()
    }

    /// Creates a user; returns its id.
    pub async fn user(&self, key: &str, external_id: &str) -> String {
        let reply = self
            .post(
                "/v1/users",
                key,
                serde_json::json!({ "externalId": external_id }),
            )
            .await;
        assert!(reply.status.is_success(), "{}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// A user made with `key`, signed in on their phone: `(user id, access token)`.
    pub async fn signed_in_phone(&self, key: &str, external_id: &str) -> (String, String) {
        let user = self.user(key, external_id).await;
        let minted = self
            .post(
                &format!("/v1/users/{user}/sign-in-tokens"),
                key,
                serde_json::json!({}),
            )
            .await;
        assert!(minted.status.is_success(), "{}", minted.body);
        let token = minted.body["signInToken"].as_str().unwrap();
        let tokens: serde_json::Value = self
            .raw()
            .post(self.url("/v1/auth/token"))
            .form(&[("grant_type", "sign_in_token"), ("sign_in_token", token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        (user, access)
    }
}

/// Log lines written while the test runs, at debug level and above (one process per test under
/// nextest, so the global subscriber is this test's).
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn install() -> Self {
        let logs = Self::default();
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .json()
            .with_writer(move || sink.clone())
            .try_init()
            .expect("the test owns the process's log subscriber");
        logs
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The local host for a benchmark: in process, on a free loopback port and a fresh data dir
/// (kept while the returned directory lives), with `root_key` as its root key.
pub async fn bench_host(root_key: &str) -> (vitasync_local::LocalHost, tempfile::TempDir) {
    install_tls();
    let dir = tempfile::tempdir().unwrap();
    let host = vitasync_local::LocalHost::start(vitasync_local::LocalConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        admin_key: Some(secrecy::SecretString::from(root_key)),
        vars: std::collections::BTreeMap::new(),
    })
    .await
    .unwrap();
    (host, dir)
}
