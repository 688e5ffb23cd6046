//! Strava: the `hub.challenge` handshake with the verify token, and JSON events (no
//! signature: the event only triggers a sync made with the athlete's own token).

use super::{DAY, fingerprint, json_body, metrics, same, sessions};
use crate::rest::text;
use serde_json::{Value, json};
use vitasync_domain::health::{Metric, SessionKind};
use vitasync_domain::inbound::push::{
    Notice, NoticeAction, PushMethod, PushOutcome, PushReply, PushRequest,
};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::{ProviderId, ProviderSettings};

pub fn receive(settings: &ProviderSettings, request: &PushRequest) -> PushOutcome {
    match request.method {
        PushMethod::Get | PushMethod::Head => handshake(settings, request),
        PushMethod::Post => event(request),
    }
}

/// `GET ?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…` → 200 `{"hub.challenge": …}`.
fn handshake(settings: &ProviderSettings, request: &PushRequest) -> PushOutcome {
    let token_matches = match (
        request.query("hub.verify_token"),
        &settings.webhooks.verify_token,
    ) {
        (Some(given), Some(expected)) => same(given, expected),
        _ => false,
    };
    match request.query("hub.challenge") {
        Some(challenge) if token_matches && request.query("hub.mode") == Some("subscribe") => {
            PushOutcome::reply(PushReply::json(200, json!({ "hub.challenge": challenge })))
        }
        _ => PushOutcome::reply(PushReply::status(403)),
    }
}

fn event(request: &PushRequest) -> PushOutcome {
    let body = match json_body(request) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let Some(owner) = text(&body, "/owner_id") else {
        return PushOutcome::reply(PushReply::status(400));
    };
    let ok = PushReply::status(200);
    let object_type = body.get("object_type").and_then(Value::as_str);
    let deauthorized = body.pointer("/updates/authorized").and_then(Value::as_str) == Some("false");
    let action = match object_type {
        Some("athlete") if deauthorized => NoticeAction::Deauthorized,
        Some("activity") => {
            let at = body
                .get("event_time")
                .and_then(Value::as_i64)
                .and_then(Timestamp::from_seconds);
            let Some(at) = at else {
                return PushOutcome::reply(PushReply::status(400));
            };
            // An upload can come days after the ride; its activity starts before the event.
            NoticeAction::Sync {
                data_types: [
                    vec![sessions(SessionKind::Workout)],
                    metrics(&[Metric::HeartRate]),
                ]
                .concat(),
                from: at.plus_seconds(-3 * DAY),
                to: at.plus_seconds(3600),
            }
        }
        _ => return PushOutcome::reply(ok),
    };
    PushOutcome {
        reply: ok,
        notices: vec![Notice {
            provider_user_id: owner,
            action,
            fingerprint: fingerprint(ProviderId::Strava, &request.body),
        }],
    }
}
