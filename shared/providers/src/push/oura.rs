//! Oura: a `GET` challenge with the verification token, then events signed with the client
//! secret over the timestamp and the raw body (uppercase hex HMAC-SHA256).

use super::{DAY, TimestampedSignature, fingerprint, json_body, metrics, same, sessions};
use crate::rest::{instant_ms, text};
use serde_json::{Value, json};
use vitasync_domain::health::{DataType, Metric, SessionKind};
use vitasync_domain::inbound::push::{
    Notice, NoticeAction, PushMethod, PushOutcome, PushReply, PushRequest,
};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::{ProviderId, ProviderSettings};

pub fn receive(settings: &ProviderSettings, request: &PushRequest, now: Timestamp) -> PushOutcome {
    match request.method {
        PushMethod::Get | PushMethod::Head => handshake(settings, request),
        PushMethod::Post => event(settings, request, now),
    }
}

/// `GET ?verification_token=…&challenge=…` → 200 `{"challenge": …}`.
fn handshake(settings: &ProviderSettings, request: &PushRequest) -> PushOutcome {
    let token_matches = match (
        request.query("verification_token"),
        &settings.webhooks.verify_token,
    ) {
        (Some(given), Some(expected)) => same(given, expected),
        _ => false,
    };
    match request.query("challenge") {
        Some(challenge) if token_matches => {
            PushOutcome::reply(PushReply::json(200, json!({ "challenge": challenge })))
        }
        _ => PushOutcome::reply(PushReply::status(401)),
    }
}

fn data_types(data_type: &str) -> Vec<DataType> {
    match data_type {
        "sleep" | "daily_sleep" => [
            vec![sessions(SessionKind::Sleep)],
            metrics(&[
                Metric::HeartRate,
                Metric::HeartRateVariability,
                Metric::RespiratoryRate,
            ]),
        ]
        .concat(),
        "daily_activity" => metrics(&[
            Metric::Steps,
            Metric::ActiveCalories,
            Metric::TotalCalories,
            Metric::ActiveMinutes,
        ]),
        "daily_readiness" => metrics(&[Metric::TemperatureDeviation]),
        "workout" | "session" => vec![sessions(SessionKind::Workout)],
        "heartrate" => metrics(&[Metric::HeartRate]),
        "daily_spo2" => metrics(&[Metric::BloodOxygen]),
        // Anything else: whatever Oura has for the window.
        _ => Vec::new(),
    }
}

fn event(settings: &ProviderSettings, request: &PushRequest, now: Timestamp) -> PushOutcome {
    let signature = TimestampedSignature {
        signature_header: "x-oura-signature",
        // Uppercase hex in the docs; compared as bytes, so either case.
        decode: |text| hex::decode(text).ok(),
        timestamp_header: "x-oura-timestamp",
        per_second: 1,
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
    // A deletion at Oura leaves what was synced; creations and updates are fetched.
    if body.get("event_type").and_then(Value::as_str) == Some("delete") {
        return PushOutcome::reply(ok);
    }
    let at = body
        .get("event_time")
        .and_then(Value::as_str)
        .and_then(instant_ms)
        .and_then(Timestamp::from_millis)
        .unwrap_or(now);
    let data_type = body.get("data_type").and_then(Value::as_str).unwrap_or("");
    PushOutcome {
        reply: ok,
        notices: vec![Notice {
            provider_user_id: user,
            action: NoticeAction::Sync {
                data_types: data_types(data_type),
                // A night's sleep and a day's totals belong to the day before the event.
                from: at.plus_seconds(-2 * DAY),
                to: at.plus_seconds(3600),
            },
            fingerprint: fingerprint(ProviderId::Oura, &request.body),
        }],
    }
}
