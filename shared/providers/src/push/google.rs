//! Fitbit through the Google Health API: a project-level subscriber whose requests carry the
//! endpoint's authorization secret verbatim in `Authorization`, and (notifications) an ECDSA
//! P-256 signature over the raw body in Tink's format, checked against Google's published
//! keyset. The verification handshake: 201 with the secret, 401 without.

use super::{DAY, base64_decode, fingerprint, post_only, same};
use crate::rest::text;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vitasync_domain::health::DataType;
use vitasync_domain::inbound::push::{Notice, NoticeAction, PushOutcome, PushReply, PushRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// Google's public keyset for webhook signatures (rotated about monthly).
pub const DEFAULT_KEYSET_URL: &str =
    "https://www.gstatic.com/googlehealthapi/webhooks/webhooks_public_keyset.json";

/// An unknown key id refetches the keyset at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(60);

/// Tink's prefix: one version byte (1) and the key id, big-endian.
const TINK_PREFIX: usize = 5;

/// Google's signing keys by Tink key id, kept between requests.
#[derive(Default)]
pub struct KeysetCache {
    inner: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    keys: HashMap<u32, VerifyingKey>,
    fetched_at: Option<Instant>,
}

enum KeyLookup {
    Found(VerifyingKey),
    Unknown,
    /// The keyset could not be fetched: Google should retry later.
    Unavailable,
}

impl KeysetCache {
    fn cached(&self, id: u32) -> (Option<VerifyingKey>, bool) {
        let cached = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let stale = cached
            .fetched_at
            .is_none_or(|at| at.elapsed() >= REFETCH_AFTER);
        (cached.keys.get(&id).copied(), stale)
    }

    async fn key(&self, http: &reqwest::Client, url: &str, id: u32) -> KeyLookup {
        match self.cached(id) {
            (Some(key), _) => return KeyLookup::Found(key),
            (None, false) => return KeyLookup::Unknown,
            (None, true) => {}
        }
        let fetched = async {
            let response = http.get(url).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            parse_keyset(&response.json::<Value>().await.ok()?)
        }
        .await;
        let Some(keys) = fetched else {
            tracing::warn!("Google's webhook keyset could not be fetched");
            return KeyLookup::Unavailable;
        };
        let mut cached = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cached.keys = keys;
        cached.fetched_at = Some(Instant::now());
        cached
            .keys
            .get(&id)
            .copied()
            .map_or(KeyLookup::Unknown, KeyLookup::Found)
    }
}

/// A Tink JSON keyset of ECDSA P-256 public keys: `{key: [{keyId, keyData: {value}}]}`, each
/// value a serialised `EcdsaPublicKey` (field 3: x, field 4: y, big-endian, maybe with a
/// leading zero byte).
fn parse_keyset(keyset: &Value) -> Option<HashMap<u32, VerifyingKey>> {
    let mut keys = HashMap::new();
    for key in keyset.get("key")?.as_array()? {
        let Some(id) = key
            .get("keyId")
            .and_then(Value::as_u64)
            .and_then(|id| u32::try_from(id).ok())
        else {
            continue;
        };
        let Some(bytes) = key
            .pointer("/keyData/value")
            .and_then(Value::as_str)
            .and_then(base64_decode)
        else {
            continue;
        };
        if let Some(verifying) = public_key(&bytes) {
            keys.insert(id, verifying);
        }
    }
    Some(keys)
}

/// Reads x and y out of a serialised `EcdsaPublicKey` protobuf message.
fn public_key(message: &[u8]) -> Option<VerifyingKey> {
    let (mut x, mut y) = (None, None);
    let mut rest = message;
    while let Some((&tag, after)) = rest.split_first() {
        let (field, wire) = (tag >> 3, tag & 7);
        rest = after;
        match wire {
            0 => {
                let end = rest.iter().position(|byte| byte & 0x80 == 0)?;
                rest = rest.get(end + 1..)?;
            }
            2 => {
                let (&len, after) = rest.split_first()?;
                let value = after.get(..usize::from(len))?;
                rest = after.get(usize::from(len)..)?;
                match field {
                    3 => x = Some(value),
                    4 => y = Some(value),
                    _ => {}
                }
            }
            _ => return None,
        }
    }
    let coordinate = |raw: &[u8]| -> Option<[u8; 32]> {
        let trimmed = raw.get(raw.len().checked_sub(32)?..)?;
        raw[..raw.len() - 32]
            .iter()
            .all(|b| *b == 0)
            .then(|| trimmed.try_into().ok())
            .flatten()
    };
    let mut point = vec![0x04];
    point.extend(coordinate(x?)?);
    point.extend(coordinate(y?)?);
    VerifyingKey::from_sec1_bytes(&point).ok()
}

pub async fn receive(
    http: &reqwest::Client,
    keysets: &super::KeysetCache,
    settings: &ProviderSettings,
    request: &PushRequest,
) -> PushOutcome {
    if let Some(refused) = post_only(request) {
        return refused;
    }
    let Some(given) = request.header("authorization") else {
        // The handshake's second request must fail like this.
        return PushOutcome::reply(PushReply::status(401));
    };
    let authorised = settings
        .webhooks
        .secret
        .as_ref()
        .is_some_and(|secret| same(given, secret));
    if !authorised {
        return PushOutcome::reply(PushReply::status(403));
    }
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(_) => return PushOutcome::reply(PushReply::status(400)),
    };
    if body.get("type").and_then(Value::as_str) == Some("verification") {
        return PushOutcome::reply(PushReply::status(201));
    }
    let signature = request
        .header("google-health-api-signature")
        .or_else(|| request.header("x-healthapi-signature"))
        .and_then(base64_decode);
    let Some((key_id, der)) = signature.as_deref().and_then(split_tink) else {
        return PushOutcome::reply(PushReply::status(403));
    };
    let url = settings
        .webhooks
        .keyset_url
        .as_deref()
        .unwrap_or(DEFAULT_KEYSET_URL);
    let key = match keysets.key(http, url, key_id).await {
        KeyLookup::Found(key) => key,
        // A key newer than the keyset we could fetch (a rotation under way), or no keyset:
        // Google retries a 503, by which time the keyset has it.
        KeyLookup::Unknown | KeyLookup::Unavailable => {
            return PushOutcome::reply(PushReply::status(503));
        }
    };
    let verified = Signature::from_der(der)
        .is_ok_and(|signature| key.verify(&request.body, &signature).is_ok());
    if !verified {
        return PushOutcome::reply(PushReply::status(403));
    }
    let items = match body {
        Value::Array(items) => items,
        single => vec![single],
    };
    PushOutcome {
        reply: PushReply::status(204),
        notices: items.iter().filter_map(notice).collect(),
    }
}

/// `0x01 ‖ key id (4 bytes, big-endian) ‖ DER signature`.
fn split_tink(signature: &[u8]) -> Option<(u32, &[u8])> {
    if signature.len() <= TINK_PREFIX || signature[0] != 1 {
        return None;
    }
    let id = u32::from_be_bytes(signature[1..TINK_PREFIX].try_into().ok()?);
    Some((id, &signature[TINK_PREFIX..]))
}

/// One notification: a user, a data type and the intervals that changed.
fn notice(item: &Value) -> Option<Notice> {
    let data = item.get("data")?;
    let user = text(data, "/healthUserId")?;
    let data_types: Vec<DataType> = data
        .get("dataType")
        .and_then(Value::as_str)
        .and_then(crate::google_health::data_type_named)
        .into_iter()
        .collect();
    let mut span: Option<(Timestamp, Timestamp)> = None;
    for interval in data.get("intervals")?.as_array()? {
        let bound = |physical: &str, civil: &str| {
            interval
                .pointer(physical)
                .and_then(Value::as_str)
                .and_then(Timestamp::parse)
                .or_else(|| {
                    // A civil time has no offset: read it as UTC and widen by a day below.
                    let text = interval.pointer(civil).and_then(Value::as_str)?;
                    Timestamp::parse(&format!("{text}Z"))
                })
        };
        let (Some(start), Some(end)) = (
            bound(
                "/physicalTimeInterval/startTime",
                "/civilIso8601TimeInterval/startTime",
            ),
            bound(
                "/physicalTimeInterval/endTime",
                "/civilIso8601TimeInterval/endTime",
            ),
        ) else {
            continue;
        };
        span = Some(match span {
            None => (start, end),
            Some((from, to)) => (from.min(start), to.max(end)),
        });
    }
    let (from, to) = span?;
    Some(Notice {
        provider_user_id: user,
        // Daily values and a night's sleep are filed by local day: read a day either side.
        action: NoticeAction::Sync {
            data_types,
            from: from.plus_seconds(-DAY),
            to: to.plus_seconds(DAY),
        },
        fingerprint: fingerprint(ProviderId::Fitbit, item.to_string().as_bytes()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_tink_signature_names_its_key_and_carries_a_der_signature() {
        assert_eq!(
            split_tink(&[1, 0, 0, 1, 2, 0x30, 0x44]),
            Some((258, &[0x30, 0x44][..]))
        );
        assert_eq!(split_tink(&[0, 0, 0, 1, 2, 0x30]), None);
        assert_eq!(split_tink(&[1, 0, 0]), None);
    }
}
