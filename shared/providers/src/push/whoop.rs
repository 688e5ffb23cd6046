//! WHOOP: events signed with the client secret over the timestamp (milliseconds) and the raw
//! body, base64 HMAC-SHA256.

use super::{
    DAY, base64_decode, fingerprint, fresh, hmac_matches, id_text, json_body, metrics, post_only,
    sessions,
};
use secrecy::ExposeSecret;
use serde_json::Value;
use vitasync_domain::health::{DataType, Metric, SessionKind};
use vitasync_domain::provider::{ProviderId, ProviderSettings};
use vitasync_domain::push::{Notice, NoticeAction, PushOutcome, PushReply, PushRequest};
use vitasync_domain::time::Timestamp;

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
    let refused = PushOutcome::reply(PushReply::status(401));
    let (Some(signature), Some(timestamp)) = (
        request.header("x-whoop-signature").and_then(base64_decode),
        request.header("x-whoop-signature-timestamp"),
    ) else {
        return refused;
    };
    let signed = hmac_matches(
        settings.client_secret.expose_secret().as_bytes(),
        &[timestamp.as_bytes(), &request.body],
        &signature,
    );
    let on_time = timestamp
        .trim()
        .parse::<i64>()
        .is_ok_and(|millis| fresh(millis / 1000, now));
    if !signed || !on_time {
        return refused;
    }
    let body = match json_body(request) {
        Ok(body) => body,
        Err(bad) => return bad,
    };
    let ok = PushReply::status(200);
    let Some(user) = id_text(body.get("user_id")) else {
        return PushOutcome::reply(PushReply::status(400));
    };
    let event = body.get("type").and_then(Value::as_str).unwrap_or("");
    let (kind, change) = event.split_once('.').unwrap_or((event, ""));
    // A deletion at WHOOP leaves what was synced.
    let Some(data_types) = data_types(kind).filter(|_| change == "updated") else {
        return PushOutcome::reply(ok);
    };
    let repeat_key = id_text(body.get("trace_id"))
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
