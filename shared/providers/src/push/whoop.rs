//! WHOOP: events signed with the client secret over the timestamp (milliseconds) and the raw
//! body, base64 HMAC-SHA256.

use super::{
    DAY, TimestampedSignature, base64_decode, fingerprint, json_body, metrics, post_only, sessions,
};
use crate::rest::text;
use serde_json::Value;
use vitasync_domain::health::{DataType, Metric, SessionKind};
use vitasync_domain::inbound::push::{Notice, NoticeAction, PushOutcome, PushReply, PushRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::{ProviderId, ProviderSettings};

fn data_types(kind: &str) -> Option<Vec<DataType>> {
    Some(match kind {
        "workout" => vec![sessions(SessionKind::Workout)],
        "sleep" => [
            vec![sessions(SessionKind::Sleep)],
            metrics(&[Metric::RespiratoryRate]),
        ]
        .concat(),
        "recovery" => metrics(&[
            Metric::RestingHeartRate,
            Metric::HeartRateVariability,
            Metric::BloodOxygen,
            Metric::SkinTemperature,
        ]),
        _ => return None,
    })
}

pub fn receive(settings: &ProviderSettings, request: &PushRequest, now: Timestamp) -> PushOutcome {
    if let Some(refused) = post_only(request) {
        return refused;
    }
    let signature = TimestampedSignature {
        signature_header: "x-whoop-signature",
        decode: base64_decode,
        timestamp_header: "x-whoop-signature-timestamp",
        per_second: 1000,
    };
    if !signature.verify(&settings.client_secret, request, now) {
        return PushOutcome::reply(PushReply::status(401));
    }
    let body = match json_body(request) {
        Ok(body) => body,
        Err(bad) => return bad,
    };
    let ok = PushReply::status(200);
    let Some(user) = text(&body, "/user_id") else {
        return PushOutcome::reply(PushReply::status(400));
    };
    let event = body.get("type").and_then(Value::as_str).unwrap_or("");
    let (kind, change) = event.split_once('.').unwrap_or((event, ""));
    // A deletion at WHOOP leaves what was synced.
    let Some(data_types) = data_types(kind).filter(|_| change == "updated") else {
        return PushOutcome::reply(ok);
    };
    let repeat_key = text(&body, "/trace_id")
        .map(String::into_bytes)
        .unwrap_or_else(|| request.body.clone());
    PushOutcome {
        reply: ok,
        notices: vec![Notice {
            provider_user_id: user,
            // The event names a record, not its time: a recent window covers it.
            action: NoticeAction::Sync {
                data_types,
                from: now.plus_seconds(-3 * DAY),
                to: now,
            },
            fingerprint: fingerprint(ProviderId::Whoop, &repeat_key),
        }],
    }
}
