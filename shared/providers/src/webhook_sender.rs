//! Sends VitaSync's own signed webhooks to developers' endpoints, only to addresses the
//! destination policy allows: a literal address is checked before sending, and a name is
//! resolved by a resolver that drops refused addresses, so the address checked is the
//! address connected to (a DNS answer that changes between check and use cannot slip past).

use crate::ClientBuildError;
use async_trait::async_trait;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use vitasync_domain::announce::destinations::DestinationPolicy;
use vitasync_domain::announce::webhooks::{PostOutcome, WebhookSender};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct HttpWebhookSender {
    http: reqwest::Client,
    policy: DestinationPolicy,
}

/// Every address a name resolved to was refused.
#[derive(Debug, thiserror::Error)]
#[error("the endpoint resolves only to addresses that may not be called")]
struct RefusedDestination;

/// The system resolver, less the addresses the policy refuses.
struct FilteringResolver {
    policy: DestinationPolicy,
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = found
                .filter(|address| policy.allows(address.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(
                    Box::new(RefusedDestination) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

impl HttpWebhookSender {
    pub fn new(policy: DestinationPolicy) -> Result<Self, ClientBuildError> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("VitaSync-Webhooks/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            // An endpoint answers for itself; a redirect is a failed attempt, not a new target.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names itself, past the filter.
            .no_proxy()
            .dns_resolver(Arc::new(FilteringResolver { policy }))
            .build()
            .map_err(|err| ClientBuildError(err.to_string()))?;
        Ok(Self { http, policy })
    }

    fn allows_url(&self, url: &str) -> bool {
        url::Url::parse(url).ok().is_some_and(|url| {
            url.host()
                .is_some_and(|host| self.policy.allows_host(&host))
        })
    }
}

/// Whether the error (or one it wraps) is the resolver's refusal.
fn refused(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if current.is::<RefusedDestination>() {
            return true;
        }
        source = current.source();
    }
    false
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
        if !self.allows_url(url) {
            return PostOutcome::Refused;
        }
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
            Err(err) if refused(&err) => PostOutcome::Refused,
            Err(err) if err.is_timeout() => PostOutcome::TimedOut,
            Err(_) => PostOutcome::Unreachable,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    async fn outcome(policy: DestinationPolicy, url: &str) -> PostOutcome {
        HttpWebhookSender::new(policy)
            .unwrap()
            .post(url, &[], "{}", Duration::from_secs(2))
            .await
    }

    #[tokio::test]
    async fn refused_destinations_are_never_contacted() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let public = DestinationPolicy::default();
        // By literal address and by a name that resolves to loopback: refused alike, and
        // nothing reaches the listener.
        for url in [
            format!("http://127.0.0.1:{port}/hook"),
            format!("http://localhost:{port}/hook"),
            "https://169.254.169.254/latest/meta-data/".to_owned(),
            "https://[::ffff:127.0.0.1]/".to_owned(),
        ] {
            assert_eq!(outcome(public, &url).await, PostOutcome::Refused, "{url}");
        }
        let accepted = tokio::time::timeout(Duration::from_millis(50), listener.accept()).await;
        assert!(accepted.is_err(), "no connection was made");
    }

    #[tokio::test]
    async fn names_resolving_to_refused_addresses_are_dropped_at_resolution() {
        use std::str::FromStr;
        let public = FilteringResolver {
            policy: DestinationPolicy::default(),
        };
        let refusal = public
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .err()
            .unwrap();
        assert!(refusal.is::<RefusedDestination>());
        let local = FilteringResolver {
            policy: DestinationPolicy {
                allow_loopback: true,
                allow_private: false,
            },
        };
        let addresses: Vec<SocketAddr> = local
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addresses.iter().all(|a| a.ip().is_loopback()) && !addresses.is_empty());
    }

    #[tokio::test]
    async fn allowed_loopback_is_reached() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let local = DestinationPolicy {
            allow_loopback: true,
            allow_private: false,
        };
        let sent =
            tokio::spawn(
                async move { outcome(local, &format!("http://localhost:{port}/hook")).await },
            );
        let (socket, _) = listener.accept().await.unwrap();
        drop(socket);
        assert_ne!(sent.await.unwrap(), PostOutcome::Refused);
    }
}
