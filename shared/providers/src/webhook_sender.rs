//! Sends VitaSync's own signed webhooks to developers' endpoints.

use crate::ClientBuildError;
use async_trait::async_trait;
use std::time::Duration;
use vitasync_domain::webhooks::{PostOutcome, WebhookSender};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct HttpWebhookSender {
    http: reqwest::Client,
}

impl HttpWebhookSender {
    pub fn new() -> Result<Self, ClientBuildError> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("VitaSync-Webhooks/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            // An endpoint answers for itself; a redirect is a failed attempt, not a new target.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| ClientBuildError(err.to_string()))?;
        Ok(Self { http })
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &str,
        timeout: Duration,
    ) -> PostOutcome {
        let mut request = self
            .http
            .post(url)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        match request.send().await {
            Ok(response) => PostOutcome::Answered(response.status().as_u16()),
            Err(err) if err.is_timeout() => PostOutcome::TimedOut,
            Err(_) => PostOutcome::Unreachable,
        }
    }
}
