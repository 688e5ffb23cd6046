//! Where the browser may be sent after connecting: only to origins the deployment allows, so a
//! connect link can never be turned into an open redirect.

use crate::kernel::error::DomainError;
use crate::providers::ProviderId;
use crate::providers::apps::AppRef;
use url::Url;

#[derive(Debug, Clone, Default)]
pub struct RedirectPolicy {
    /// Origins (`scheme://host[:port]`) that redirect URLs may point at.
    allowed_origins: Vec<String>,
}

impl RedirectPolicy {
    /// Allows the origins of `urls` (full URLs or bare origins); unparsable entries are skipped
    /// and returned so the host can say which.
    pub fn new<'a>(urls: impl IntoIterator<Item = &'a str>) -> (Self, Vec<String>) {
        let mut allowed_origins = Vec::new();
        let mut rejected = Vec::new();
        for raw in urls
            .into_iter()
            .map(str::trim)
            .filter(|raw| !raw.is_empty())
        {
            match web_origin(raw) {
                Some(origin) => allowed_origins.push(origin),
                None => rejected.push(raw.to_owned()),
            }
        }
        (Self { allowed_origins }, rejected)
    }

    /// Also allows `url`'s origin (the deployment's own pages).
    pub fn allowing(&self, url: &str) -> Self {
        let mut policy = self.clone();
        policy.allowed_origins.extend(web_origin(url));
        policy
    }

    pub fn allows(&self, url: &str) -> bool {
        web_origin(url).is_some_and(|origin| self.allowed_origins.contains(&origin))
    }

    /// `url` if it may be redirected to; a validation error naming `field` otherwise.
    pub fn check(&self, field: &str, url: &str) -> Result<String, DomainError> {
        if web_origin(url).is_none() {
            return Err(DomainError::validation(
                field,
                "must be an absolute http(s) URL",
            ));
        }
        if !self.allows(url) {
            return Err(DomainError::validation(
                field,
                "its origin is not on this deployment's redirect allow-list \
                 (VITASYNC_REDIRECT_ORIGINS or OAUTH_CALLBACK_URL)",
            ));
        }
        Ok(url.to_owned())
    }
}

/// The origin of an absolute http(s) URL without credentials in it.
fn web_origin(raw: &str) -> Option<String> {
    let url = Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
        return None;
    }
    url.password()
        .is_none()
        .then(|| url.origin().ascii_serialization())
}

/// `base` with `params` appended to its query.
pub fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    match Url::parse(base) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.into()
        }
        Err(_) => base.to_owned(),
    }
}

/// Where browsers and providers reach this deployment, and where browsers may be sent back to.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    pub redirects: RedirectPolicy,
    /// The deployment's public base URL; when unset, the base URL each request arrived at.
    pub public_url: Option<String>,
    /// Where the browser lands after connecting when the link names no URL (`OAUTH_CALLBACK_URL`).
    pub default_redirect_url: Option<String>,
    /// Where providers send webhooks, up to the provider id (`…/webhooks/`); by default
    /// under the public URL.
    pub webhook_url: Option<String>,
}

impl ConnectSettings {
    /// The URL `provider`'s webhooks go to, when the deployment knows its address.
    pub fn webhook_callback(&self, provider: ProviderId) -> Option<String> {
        let base = match &self.webhook_url {
            Some(url) => url.clone(),
            None => format!(
                "{}/webhooks/",
                self.public_url.as_deref()?.trim_end_matches('/')
            ),
        };
        Some(format!("{}/{provider}", base.trim_end_matches('/')))
    }

    /// Where the provider pushes for `app`: a workspace's own app is named in the path
    /// (`…/webhooks/<provider>/<appId>`), so its secret is picked before the body is read.
    pub fn app_webhook_callback(&self, provider: ProviderId, app: &AppRef) -> Option<String> {
        let url = self.webhook_callback(provider)?;
        Some(match app.id() {
            Some(id) => format!("{url}/{id}"),
            None => url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_origins_pass() {
        let (policy, rejected) =
            RedirectPolicy::new(["https://app.example.com/done", "not a url", ""]);
        assert_eq!(rejected, vec!["not a url".to_owned()]);
        assert!(policy.allows("https://app.example.com/other?x=1"));
        assert!(!policy.allows("https://app.example.com.evil.test/"));
        assert!(
            !policy.allows("http://app.example.com/"),
            "scheme is part of the origin"
        );
        assert!(!policy.allows("https://app.example.com:8443/"));
        assert!(!policy.allows("https://user@app.example.com/"));
        assert!(!policy.allows("javascript:alert(1)"));
        assert!(policy.check("redirectUrl", "//evil.test/").is_err());
        let own = policy.allowing("http://127.0.0.1:8080");
        assert!(own.allows("http://127.0.0.1:8080/v1/oauth/done"));
    }

    #[test]
    fn query_params_are_appended_and_encoded() {
        assert_eq!(
            with_query("https://a.test/cb?x=1", &[("error", "access denied")]),
            "https://a.test/cb?x=1&error=access+denied"
        );
    }
}
