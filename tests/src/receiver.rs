//! A webhook receiver for tests: answers each POST with the next status of its script (the
//! last one repeats) and remembers what it got.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

#[derive(Default)]
struct Inner {
    script: Vec<u16>,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// Answers with `script[0]`, then `script[1]`, …, repeating the last status.
    pub async fn start(script: &[u16]) -> Self {
        let (app, inner) = app(script);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}/hook"),
            inner,
        }
    }

    /// The same receiver over HTTPS on `ip` (a private address a deployment may allow), with
    /// a certificate for that address; answers the PEM of the CA that signed it, for the
    /// sender to trust.
    pub async fn start_tls(ip: std::net::IpAddr, script: &[u16]) -> (Self, String) {
        let (app, inner) = app(script);
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let mut leaf = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.subject_alt_names = vec![rcgen::SanType::IpAddress(ip)];
        let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
        let config = axum_server::tls_rustls::RustlsConfig::from_pem(
            leaf_cert.pem().into_bytes(),
            leaf_key.serialize_pem().into_bytes(),
        )
        .await
        .unwrap();
        let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum_server::from_tcp_rustls(listener, config)
                .serve(app.into_make_service())
                .await;
        });
        let url = match ip {
            std::net::IpAddr::V4(v4) => format!("https://{v4}:{}/hook", addr.port()),
            std::net::IpAddr::V6(v6) => format!("https://[{v6}]:{}/hook", addr.port()),
        };
        (Self { url, inner }, ca_cert.pem())
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }
}

/// The receiver's routes, and what they record.
fn app(script: &[u16]) -> (Router, Arc<Mutex<Inner>>) {
    let inner = Arc::new(Mutex::new(Inner {
        script: script.to_vec(),
        received: Vec::new(),
    }));
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(inner.clone());
    (app, inner)
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut inner = inner.lock().unwrap();
    let index = inner
        .received
        .len()
        .min(inner.script.len().saturating_sub(1));
    let status = inner.script.get(index).copied().unwrap_or(204);
    inner.received.push(Received {
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    StatusCode::from_u16(status).unwrap()
}
