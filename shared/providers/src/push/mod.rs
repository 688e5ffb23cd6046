//! Provider webhooks: each provider's handshake, its proof of origin checked over the raw
//! body in constant time, and its notifications read into notices. Pure functions, except
//! Google's signing keys, which are fetched (and cached) when a new key id turns up.

mod garmin;
mod google;
mod oura;
mod polar;
mod strava;
mod suunto;
mod wahoo;
mod whoop;
mod withings;

#[cfg(test)]
mod fuzz;

pub use google::KeysetCache;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use vitasync_domain::health::{DataType, Metric, SessionKind};
use vitasync_domain::inbound::push::{PushMethod, PushOutcome, PushReply, PushRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// Signed requests older (or newer) than this are refused as replays.
const FRESHNESS_SECONDS: i64 = 5 * 60;

pub async fn receive(
    http: &reqwest::Client,
    keysets: &KeysetCache,
    provider: ProviderId,
    settings: &ProviderSettings,
    request: &PushRequest,
    now: Timestamp,
) -> PushOutcome {
    // Only a provider that signs nothing takes a secret in its URL.
    if request.path_secret.is_some() && provider != ProviderId::Garmin {
        return PushOutcome::reply(PushReply::status(404));
    }
    match provider {
        ProviderId::Strava => strava::receive(settings, request),
        ProviderId::Withings => withings::receive(request),
        ProviderId::Oura => oura::receive(settings, request, now),
        ProviderId::Whoop => whoop::receive(settings, request, now),
        ProviderId::Polar => polar::receive(settings, request, now),
        ProviderId::Garmin => garmin::receive(settings, request),
        ProviderId::Fitbit => google::receive(http, keysets, settings, request).await,
        ProviderId::Suunto => suunto::receive(settings, request, now),
        ProviderId::Wahoo => wahoo::receive(settings, request, now),
        ProviderId::Demo
        | ProviderId::Dexcom
        | ProviderId::Ultrahuman
        | ProviderId::AppleHealth
        | ProviderId::HealthConnect
        | ProviderId::SamsungHealth => PushOutcome::reply(PushReply::status(404)),
    }
}

/// Equal, in time that does not depend on where they differ.
pub(crate) fn same(given: &str, expected: &SecretString) -> bool {
    given
        .as_bytes()
        .ct_eq(expected.expose_secret().as_bytes())
        .into()
}

/// Whether `signature` (decoded by the caller) is the HMAC of `parts`, checked in constant
/// time.
pub(crate) fn hmac_matches(key: &[u8], parts: &[&[u8]], signature: &[u8]) -> bool {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(signature).is_ok()
}

/// How a timestamped signature is carried (WHOOP, Oura): HMAC-SHA256 with the client secret
/// over the timestamp header's text followed by the raw body.
pub(crate) struct TimestampedSignature {
    pub signature_header: &'static str,
    pub decode: fn(&str) -> Option<Vec<u8>>,
    pub timestamp_header: &'static str,
    /// Timestamp units per second (1 for seconds, 1000 for milliseconds).
    pub per_second: i64,
}

impl TimestampedSignature {
    /// Whether the request is signed with `secret` and was sent within the freshness window.
    pub(crate) fn verify(
        &self,
        secret: &SecretString,
        request: &PushRequest,
        now: Timestamp,
    ) -> bool {
        let (Some(signature), Some(timestamp)) = (
            request
                .header(self.signature_header)
                .and_then(|text| (self.decode)(text.trim())),
            request.header(self.timestamp_header),
        ) else {
            return false;
        };
        let signed = hmac_matches(
            secret.expose_secret().as_bytes(),
            &[timestamp.as_bytes(), &request.body],
            &signature,
        );
        let on_time = timestamp
            .trim()
            .parse::<i64>()
            .is_ok_and(|value| fresh(value / self.per_second, now));
        signed && on_time
    }
}

pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text.trim()).ok()
}

/// The body as JSON, or a 400 reply.
pub(crate) fn json_body(request: &PushRequest) -> Result<Value, PushOutcome> {
    serde_json::from_slice(&request.body).map_err(|_| PushOutcome::reply(PushReply::status(400)))
}

/// Whether a provider timestamp (seconds since the epoch) is within the freshness window.
pub(crate) fn fresh(seconds: i64, now: Timestamp) -> bool {
    (now.millis() / 1000).abs_diff(seconds) <= FRESHNESS_SECONDS.unsigned_abs()
}

pub(crate) fn post_only(request: &PushRequest) -> Option<PushOutcome> {
    (request.method != PushMethod::Post).then(|| PushOutcome::reply(PushReply::status(405)))
}

/// The notice's fingerprint: the provider and the exact bytes it sent (a retry sends them
/// again), or a part of them.
pub(crate) fn fingerprint(provider: ProviderId, part: &[u8]) -> String {
    format!("{provider}:{}", String::from_utf8_lossy(part))
}

pub(crate) fn metrics(metrics: &[Metric]) -> Vec<DataType> {
    metrics.iter().map(|m| DataType::Metric(*m)).collect()
}

pub(crate) fn sessions(kind: SessionKind) -> DataType {
    DataType::Session(kind)
}

pub(crate) const DAY: i64 = 24 * 3600;
