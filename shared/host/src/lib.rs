//! What every host does at start: read its configuration from the environment, pick and build
//! its adapters once, and set up logging. Functions' `main.rs` files call into this and nothing
//! else, so each one stays a few lines of wiring.
//!
//! Only functions that call out over HTTP (providers' APIs, webhook receivers) enable the
//! `http-client` feature and link an HTTP client; no Lambda function links the embedded store.

pub mod aws;
pub mod iam;

use secrecy::SecretString;
use std::io::IsTerminal;
use std::path::PathBuf;
use thiserror::Error;
use vitasync_domain::providers::ProviderRegistry;
use vitasync_domain::providers::secrets::SecretCache;
use vitasync_domain::sync::SyncSettings;
use vitasync_domain::{DomainError, StoreError};

/// Where the embedded store keeps its data when `VITASYNC_DATA_DIR` is not set.
pub const DEFAULT_DATA_DIR: &str = ".vitasync";

#[derive(Debug, Error)]
pub enum HostError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("the data store could not be opened: {0}")]
    Store(#[from] StoreError),
    #[error("bootstrap failed: {0}")]
    Bootstrap(#[from] DomainError),
}

/// Where the embedded adapters keep their files.
pub fn data_dir_from_env() -> PathBuf {
    std::env::var_os("VITASYNC_DATA_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_DATA_DIR), PathBuf::from)
}

/// The operator's chosen root key, if any.
pub fn admin_key_from_env() -> Option<SecretString> {
    std::env::var("VITASYNC_ADMIN_KEY")
        .ok()
        .filter(|key| !key.is_empty())
        .map(SecretString::from)
}

/// `VITASYNC_BACKFILL_DAYS`: how far back a connection's first sync reaches (default 30);
/// `VITASYNC_SYNC_INTERVAL_MINUTES`: how stale a connection may get before the scheduler syncs
/// it (default 360).
pub fn sync_settings(lookup: &dyn Fn(&str) -> Option<String>) -> Result<SyncSettings, HostError> {
    let number = |name: &str, range: std::ops::RangeInclusive<i64>, unit: &str| match lookup(name)
        .filter(|raw| !raw.is_empty())
    {
        None => Ok(None),
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|value| range.contains(value))
            .map(Some)
            .ok_or_else(|| {
                HostError::Config(format!(
                    "{name} must be a number of {unit}, {} to {}",
                    range.start(),
                    range.end()
                ))
            }),
    };
    let mut settings = SyncSettings::default();
    if let Some(days) = number("VITASYNC_BACKFILL_DAYS", 1..=3650, "days")? {
        settings.backfill_days = days;
    }
    if let Some(minutes) = number("VITASYNC_SYNC_INTERVAL_MINUTES", 5..=10_080, "minutes")? {
        settings.poll_interval = std::time::Duration::from_secs(minutes.unsigned_abs() * 60);
    }
    Ok(settings)
}

/// Origins the browser may be sent back to after connecting, comma-separated.
pub const REDIRECT_ORIGINS: &str = "VITASYNC_REDIRECT_ORIGINS";
/// Where providers' webhooks arrive, up to the provider id (the webhook function's URL and
/// `webhooks/` on AWS); by default `<public URL>/webhooks/`.
pub const WEBHOOK_URL: &str = "VITASYNC_WEBHOOK_URL";
/// Where the browser lands after connecting when a link names no URL.
pub const OAUTH_CALLBACK_URL: &str = "OAUTH_CALLBACK_URL";

/// Where this deployment is reached and where browsers may be sent back to, from the
/// environment: the redirect allow-list is `VITASYNC_REDIRECT_ORIGINS` plus
/// `OAUTH_CALLBACK_URL`'s origin.
pub fn connect_settings(
    lookup: &dyn Fn(&str) -> Option<String>,
    public_url: Option<String>,
) -> Result<vitasync_domain::providers::redirects::ConnectSettings, HostError> {
    use vitasync_domain::providers::redirects::RedirectPolicy;
    let lookup = |name: &str| lookup(name).filter(|value| !value.is_empty());
    let default_redirect_url = lookup(OAUTH_CALLBACK_URL);
    let origins = lookup(REDIRECT_ORIGINS).unwrap_or_default();
    let (redirects, rejected) =
        RedirectPolicy::new(origins.split(',').chain(default_redirect_url.as_deref()));
    if !rejected.is_empty() {
        return Err(HostError::Config(format!(
            "{REDIRECT_ORIGINS}/{OAUTH_CALLBACK_URL}: not absolute http(s) URLs: {}",
            rejected.join(", ")
        )));
    }
    Ok(vitasync_domain::providers::redirects::ConnectSettings {
        redirects,
        public_url,
        default_redirect_url,
        webhook_url: lookup(WEBHOOK_URL),
    })
}

/// The HTTP client that calls providers' OAuth servers and APIs.
#[cfg(feature = "http-client")]
pub fn provider_client()
-> Result<std::sync::Arc<dyn vitasync_domain::providers::client::ProviderClient>, HostError> {
    let client = vitasync_providers::HttpProviderClient::new()
        .map_err(|err| HostError::Config(err.to_string()))?;
    Ok(std::sync::Arc::new(client))
}

/// `VITASYNC_WEBHOOKS_ALLOW_PRIVATE=true`: webhook endpoints may be in private ranges (the
/// operator's own network). Link-local and metadata addresses stay refused.
pub const WEBHOOKS_ALLOW_PRIVATE: &str = "VITASYNC_WEBHOOKS_ALLOW_PRIVATE";

pub fn allow_private_destinations(lookup: &dyn Fn(&str) -> Option<String>) -> bool {
    lookup(WEBHOOKS_ALLOW_PRIVATE).is_some_and(|value| {
        matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "1" | "on" | "yes"
        )
    })
}

/// Whether the built-in `demo` provider is on: `VITASYNC_DEMO_PROVIDER` = on/off, else `default`.
pub fn demo_enabled(lookup: impl Fn(&str) -> Option<String>, default: bool) -> bool {
    match lookup("VITASYNC_DEMO_PROVIDER")
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("on" | "true" | "1" | "yes") => true,
        Some("off" | "false" | "0" | "no") => false,
        _ => default,
    }
}

/// The providers this deployment connects to, from `<PROVIDER>_CLIENT_ID` and friends; secrets
/// given by name are read through `secrets`.
pub fn providers_from(
    lookup: impl Fn(&str) -> Option<String>,
    demo_by_default: bool,
    secrets: SecretCache,
) -> ProviderRegistry {
    let demo = demo_enabled(&lookup, demo_by_default);
    ProviderRegistry::from_lookup(lookup, demo, secrets)
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object a line (Lambda, CloudWatch).
    Json,
    /// Short human-readable lines (the local host).
    Text,
}

/// Logging to stderr, filtered by `RUST_LOG` (default `info`): a level, or targets with levels
/// such as `info,vitasync_aws=debug`. Safe to call more than once.
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{Layer, fmt, registry};
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let lines = fmt::layer().with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => registry()
            .with(
                lines
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_filter(filter),
            )
            .try_init(),
        LogFormat::Text => registry()
            .with(
                lines
                    .with_target(false)
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_filter(filter),
            )
            .try_init(),
    };
}

/// `RUST_LOG` read as targets and levels; `info` when unset or unreadable.
fn log_filter(raw: Option<&str>) -> tracing_subscriber::filter::Targets {
    let default = || {
        tracing_subscriber::filter::Targets::new()
            .with_default(tracing::level_filters::LevelFilter::INFO)
    };
    raw.and_then(|raw| raw.parse().ok()).unwrap_or_else(default)
}

#[cfg(test)]
mod tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn rust_log_gives_a_default_level_and_levels_per_target() {
        let unset = log_filter(None);
        assert!(unset.would_enable("vitasync_aws", &Level::INFO));
        assert!(!unset.would_enable("vitasync_aws", &Level::DEBUG));
        let targeted = log_filter(Some("warn,vitasync_aws=debug"));
        assert!(targeted.would_enable("vitasync_aws::dynamo", &Level::DEBUG));
        assert!(!targeted.would_enable("hyper", &Level::INFO));
        let unreadable = log_filter(Some("vitasync=loud"));
        assert!(unreadable.would_enable("anything", &Level::INFO));
    }
}
