//! Polar: a `PING` when the webhook is created (answered before any check: the secret is
//! only handed out after it), then events signed with the webhook's `signature_secret_key`,
//! hex HMAC-SHA256 over the raw body.

use super::{DAY, fingerprint, hmac_matches, json_body, metrics, post_only, sessions};
use crate::rest::text;
use secrecy::ExposeSecret;
use serde_json::Value;
use vitasync_domain::health::{DataType, Metric, SessionKind};
use vitasync_domain::inbound::push::{Notice, NoticeAction, PushOutcome, PushReply, PushRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::{ProviderId, ProviderSettings};

fn data_types(event: &str) -> Option<Vec<DataType>> {
    Some(match event {
        "EXERCISE" => vec![sessions(SessionKind::Workout)],
        "SLEEP" => vec![sessions(SessionKind::Sleep)],
        "CONTINUOUS_HEART_RATE" => metrics(&[Metric::HeartRate]),
        "ACTIVITY_SUMMARY" => {
            metrics(&[Metric::Steps, Metric::ActiveCalories, Metric::TotalCalories])
        }
        "PHYSICAL_INFORMATION" => metrics(&[Metric::Weight]),
        _ => return None,
    })
}

pub fn receive(settings: &ProviderSettings, request: &PushRequest, now: Timestamp) -> PushOutcome {
    if let Some(refused) = post_only(request) {
        return refused;
    }
    let body = match json_body(request) {
        Ok(body) => body,
        Err(bad) => return bad,
    };
    let event = body.get("event").and_then(Value::as_str).unwrap_or("");
    if event == "PING" {
        return PushOutcome::reply(PushReply::status(200));
    }
    let signed = match (
        request
            .header("polar-webhook-signature")
            .and_then(|text| hex::decode(text.trim()).ok()),
        &settings.webhooks.secret,
    ) {
        (Some(signature), Some(secret)) => hmac_matches(
            secret.expose_secret().as_bytes(),
            &[&request.body],
            &signature,
        ),
        _ => false,
    };
    if !signed {
        return PushOutcome::reply(PushReply::status(401));
    }
    let ok = PushReply::status(200);
    let (Some(user), Some(data_types)) = (text(&body, "/user_id"), data_types(event)) else {
        return PushOutcome::reply(ok);
    };
    let at = body
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(Timestamp::parse)
        .unwrap_or(now);
    PushOutcome {
        reply: ok,
        notices: vec![Notice {
            provider_user_id: user,
            action: NoticeAction::Sync {
                data_types,
                from: at.plus_seconds(-2 * DAY),
                to: at.plus_seconds(3600),
            },
            fingerprint: fingerprint(ProviderId::Polar, &request.body),
        }],
    }
}
