//! Suunto: JSON notifications (`type`, `username`), signed with the app's notification secret
//! in `X-HMAC-SHA256-Signature` (hex HMAC-SHA256 over the raw body). A new workout is read
//! again from the API (its pushed summary may lack `stopTime`); 24/7 samples come inline and
//! are stored as pushed, and new activity samples also have their days' step totals read
//! again (a push holds part of a day, a total is the whole day's). Recovery samples only have
//! their days read again (a day's score is its latest balance). Routes are not data. The
//! older form-encoded workout notification is refused: the JSON one replaces it.

use super::{DAY, fingerprint, hmac_matches, json_body, metrics, post_only, sessions};
use crate::rest::{number, text};
use crate::suunto::{ACTIVITY_PUSH, RECOVERY_PUSH, SLEEP_PUSH};
use secrecy::ExposeSecret;
use serde_json::Value;
use vitasync_domain::health::{Metric, SessionKind};
use vitasync_domain::inbound::push::{Notice, NoticeAction, PushOutcome, PushReply, PushRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::{ProviderId, ProviderSettings};

const SIGNATURE_HEADER: &str = "x-hmac-sha256-signature";
const LEGACY_FORM: &str = "application/x-www-form-urlencoded";
const WORKOUT_CREATED: &str = "WORKOUT_CREATED";
/// How far before a new workout's start, and past its end, its sync reaches.
const WORKOUT_MARGIN_MS: i64 = 3_600_000;

/// Whether the body carries the notification secret's HMAC (with no secret configured,
/// nothing does).
fn signed(settings: &ProviderSettings, request: &PushRequest) -> bool {
    let (Some(signature), Some(secret)) = (
        request
            .header(SIGNATURE_HEADER)
            .and_then(|hex_text| hex::decode(hex_text.trim()).ok()),
        settings.webhooks.secret.as_ref(),
    ) else {
        return false;
    };
    !secret.expose_secret().is_empty()
        && hmac_matches(
            secret.expose_secret().as_bytes(),
            &[&request.body],
            &signature,
        )
}

/// A sync of workouts around the new one: Suunto's full record is read again.
fn workout_sync(body: &Value, now: Timestamp) -> NoticeAction {
    let millis = |pointer: &str| number(body, pointer).map(|ms| ms as i64);
    let window = millis("/workout/startTime").and_then(|start| {
        let end = millis("/workout/stopTime")
            .or_else(|| {
                number(body, "/workout/totalTime")
                    .map(|seconds| start.saturating_add((seconds * 1000.0) as i64))
            })
            .unwrap_or(start)
            .max(start);
        Some((
            Timestamp::from_millis(start.saturating_sub(WORKOUT_MARGIN_MS))?,
            Timestamp::from_millis(end.saturating_add(WORKOUT_MARGIN_MS))?,
        ))
    });
    let (from, to) = window.unwrap_or((now.plus_seconds(-2 * DAY), now));
    NoticeAction::Sync {
        data_types: vec![sessions(SessionKind::Workout)],
        from,
        to,
    }
}

/// The days pushed samples carrying `field` fall on, synced for `metric`: a day's figure
/// (its step total, its latest recovery) needs the whole day, which a push holds only part
/// of, so the fetch reads each of those days whole.
fn day_sync(samples: &[Value], field: &str, metric: Metric) -> Option<NoticeAction> {
    let pointer = format!("/entryData/{field}");
    let (from, to) = samples
        .iter()
        .filter(|sample| sample.pointer(&pointer).is_some())
        .filter_map(|sample| sample.get("timestamp")?.as_str().and_then(Timestamp::parse))
        .fold(None, |span: Option<(Timestamp, Timestamp)>, at| {
            Some(match span {
                None => (at, at),
                Some((from, to)) => (from.min(at), to.max(at)),
            })
        })?;
    Some(NoticeAction::Sync {
        data_types: metrics(&[metric]),
        from,
        to,
    })
}

pub fn receive(settings: &ProviderSettings, request: &PushRequest, now: Timestamp) -> PushOutcome {
    if let Some(refused) = post_only(request) {
        return refused;
    }
    let legacy_form = request
        .header("content-type")
        .is_some_and(|kind| kind.trim().to_ascii_lowercase().starts_with(LEGACY_FORM));
    if legacy_form {
        return PushOutcome::reply(PushReply::status(415));
    }
    if !signed(settings, request) {
        return PushOutcome::reply(PushReply::status(401));
    }
    let body = match json_body(request) {
        Ok(body) if body.is_object() => body,
        Ok(_) => return PushOutcome::reply(PushReply::status(400)),
        Err(bad) => return bad,
    };
    let kind = body.get("type").and_then(Value::as_str).unwrap_or_default();
    let samples_pushed = [ACTIVITY_PUSH, SLEEP_PUSH, RECOVERY_PUSH].contains(&kind);
    if kind != WORKOUT_CREATED && !samples_pushed {
        // Routes, and kinds Suunto may add later: acknowledged, nothing to store.
        return PushOutcome::reply(PushReply::status(200));
    }
    let Some(user) = text(&body, "/username") else {
        return PushOutcome::reply(PushReply::status(400));
    };
    let fingerprint = fingerprint(ProviderId::Suunto, &request.body);
    if kind == WORKOUT_CREATED {
        return PushOutcome {
            reply: PushReply::status(200),
            notices: vec![Notice {
                provider_user_id: user,
                action: workout_sync(&body, now),
                fingerprint,
            }],
        };
    }
    let Some(samples) = body.get("samples").and_then(Value::as_array) else {
        return PushOutcome::reply(PushReply::status(400));
    };
    let mut notices = Vec::new();
    let day_figure = match kind {
        ACTIVITY_PUSH => Some(("StepCount", Metric::Steps)),
        RECOVERY_PUSH => Some(("Balance", Metric::RecoveryScore)),
        _ => None,
    };
    if let Some((field, metric)) = day_figure
        && let Some(action) = day_sync(samples, field, metric)
    {
        notices.push(Notice {
            provider_user_id: user.clone(),
            action,
            fingerprint: fingerprint.clone(),
        });
    }
    // Recovery samples are only the day's latest Balance, which the sync above reads.
    if kind != RECOVERY_PUSH && !samples.is_empty() {
        notices.push(Notice {
            provider_user_id: user,
            action: NoticeAction::Pushed {
                summary_type: kind.to_owned(),
                items: samples.clone(),
            },
            fingerprint,
        });
    }
    PushOutcome {
        reply: PushReply::status(200),
        notices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use secrecy::SecretString;
    use serde_json::json;
    use sha2::Sha256;
    use vitasync_domain::inbound::push::PushMethod;
    use vitasync_domain::providers::WebhookSecrets;

    const SECRET: &str = "notification-secret";

    fn settings(secret: Option<&str>) -> ProviderSettings {
        ProviderSettings {
            client_id: "client".into(),
            client_secret: SecretString::from("client-secret"),
            authorize_url: String::new(),
            token_url: String::new(),
            api_url: String::new(),
            revoke_url: None,
            webhooks: WebhookSecrets {
                secret: secret.map(SecretString::from),
                ..WebhookSecrets::default()
            },
            subscription_key: None,
        }
    }

    fn post(body: &[u8], secret: &str, content_type: Option<&str>) -> PushRequest {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        let mut headers = vec![(
            "x-hmac-sha256-signature".to_owned(),
            hex::encode(mac.finalize().into_bytes()),
        )];
        if let Some(kind) = content_type {
            headers.push(("content-type".to_owned(), kind.to_owned()));
        }
        PushRequest {
            method: PushMethod::Post,
            query: Vec::new(),
            headers,
            body: body.to_vec(),
            path_secret: None,
        }
    }

    fn now() -> Timestamp {
        Timestamp::parse("2026-03-21T00:00:00Z").unwrap()
    }

    #[test]
    fn only_the_secrets_signature_is_taken() {
        let body = br#"{"type":"ROUTE_CREATED","username":"u"}"#;
        let ok = receive(&settings(Some(SECRET)), &post(body, SECRET, None), now());
        assert_eq!(ok.reply, PushReply::status(200));
        assert!(ok.notices.is_empty());
        for (configured, signed_with) in [(Some(SECRET), "wrong"), (None, SECRET), (Some(""), "")] {
            let refused = receive(&settings(configured), &post(body, signed_with, None), now());
            assert_eq!(refused.reply, PushReply::status(401));
        }
        let form = receive(
            &settings(Some(SECRET)),
            &post(b"username=u&workoutid=1", SECRET, Some(LEGACY_FORM)),
            now(),
        );
        assert_eq!(form.reply, PushReply::status(415));
    }

    #[test]
    fn a_new_workout_is_a_sync_around_it_and_activity_also_syncs_its_days_steps() {
        let body = json!({
            "type": "WORKOUT_CREATED", "username": "u",
            "workout": {
                "workoutKey": "k", "startTime": 1_773_993_600_000_i64, "totalTime": 10800.0
            },
        })
        .to_string();
        let outcome = receive(
            &settings(Some(SECRET)),
            &post(body.as_bytes(), SECRET, None),
            now(),
        );
        let NoticeAction::Sync { from, to, .. } = &outcome.notices[0].action else {
            panic!("{outcome:?}");
        };
        assert_eq!(*from, Timestamp::parse("2026-03-20T07:00:00Z").unwrap());
        assert_eq!(*to, Timestamp::parse("2026-03-20T12:00:00Z").unwrap());

        let body = json!({
            "type": ACTIVITY_PUSH, "username": "u",
            "samples": [
                { "timestamp": "2026-03-29T01:50:00.000+01:00",
                  "entryData": { "HR": 50, "StepCount": 5 } },
                { "timestamp": "2026-03-29T03:10:00.000+02:00", "entryData": { "HR": 49 } },
                { "timestamp": "2026-03-31T08:00:00.000+05:45",
                  "entryData": { "HR": 77, "StepCount": 640 } },
            ],
        })
        .to_string();
        let outcome = receive(
            &settings(Some(SECRET)),
            &post(body.as_bytes(), SECRET, None),
            now(),
        );
        assert_eq!(outcome.notices.len(), 2);
        assert_eq!(
            outcome.notices[0].action,
            NoticeAction::Sync {
                data_types: metrics(&[Metric::Steps]),
                from: Timestamp::parse("2026-03-29T00:50:00Z").unwrap(),
                to: Timestamp::parse("2026-03-31T02:15:00Z").unwrap(),
            }
        );
        assert!(matches!(
            &outcome.notices[1].action,
            NoticeAction::Pushed { summary_type, items }
                if summary_type == ACTIVITY_PUSH && items.len() == 3
        ));

        // Recovery: only the day's latest Balance counts, so its days are read whole.
        let body = json!({
            "type": RECOVERY_PUSH, "username": "u",
            "samples": [
                { "timestamp": "2026-03-29T08:00:00.000+02:00",
                  "entryData": { "Balance": 0.83, "StressState": 1 } },
            ],
        })
        .to_string();
        let outcome = receive(
            &settings(Some(SECRET)),
            &post(body.as_bytes(), SECRET, None),
            now(),
        );
        let at = Timestamp::parse("2026-03-29T06:00:00Z").unwrap();
        assert_eq!(outcome.notices.len(), 1);
        assert_eq!(
            outcome.notices[0].action,
            NoticeAction::Sync {
                data_types: metrics(&[Metric::RecoveryScore]),
                from: at,
                to: at,
            }
        );
    }
}
