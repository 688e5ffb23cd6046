//! Wahoo: a JSON `workout_summary` event, sent when a summary is created and again each time
//! it is updated. No signature: the body carries the webhook token configured with the app,
//! compared in constant time. Any reply but 200 is retried (after 30 minutes, 4, 24 and 72
//! hours), so a retry must be a repeat while an update is a new notice: the fingerprint is the
//! summary's id and its `updated_at`.

use super::{fingerprint, json_body, post_only, same, sessions};
use crate::rest::text;
use serde_json::Value;
use vitasync_domain::health::SessionKind;
use vitasync_domain::inbound::push::{Notice, NoticeAction, PushOutcome, PushReply, PushRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// The sync around a workout's start (its record is found by when it started).
const AROUND_START_SECONDS: i64 = 3600;
/// Without a start, the days before the event.
const WITHOUT_START_SECONDS: i64 = 2 * super::DAY;

pub fn receive(settings: &ProviderSettings, request: &PushRequest, now: Timestamp) -> PushOutcome {
    if let Some(refused) = post_only(request) {
        return refused;
    }
    let body = match json_body(request) {
        Ok(body) => body,
        Err(bad) => return bad,
    };
    let authorised = match (
        body.get("webhook_token").and_then(Value::as_str),
        &settings.webhooks.secret,
    ) {
        (Some(given), Some(expected)) => !given.is_empty() && same(given, expected),
        _ => false,
    };
    if !authorised {
        return PushOutcome::reply(PushReply::status(401));
    }
    let ok = PushReply::status(200);
    if body.get("event_type").and_then(Value::as_str) != Some("workout_summary") {
        return PushOutcome::reply(ok);
    }
    let (Some(user), Some(summary)) = (
        text(&body, "/user/id"),
        body.get("workout_summary").filter(|s| s.is_object()),
    ) else {
        return PushOutcome::reply(PushReply::status(400));
    };
    let started = summary
        .pointer("/workout/starts")
        .and_then(Value::as_str)
        .and_then(Timestamp::parse);
    let (from, to) = match started {
        Some(at) => (
            at.plus_seconds(-AROUND_START_SECONDS),
            at.plus_seconds(AROUND_START_SECONDS),
        ),
        None => (now.plus_seconds(-WITHOUT_START_SECONDS), now),
    };
    let repeat_key = delivery(&user, summary, &request.body);
    PushOutcome {
        reply: ok,
        notices: vec![Notice {
            provider_user_id: user,
            action: NoticeAction::Sync {
                data_types: vec![sessions(SessionKind::Workout)],
                from,
                to,
            },
            fingerprint: repeat_key,
        }],
    }
}

/// The same for Wahoo's retries of one delivery, new for each update of the summary.
fn delivery(user: &str, summary: &Value, raw: &[u8]) -> String {
    match (text(summary, "/id"), text(summary, "/updated_at")) {
        (Some(id), Some(updated)) => fingerprint(
            ProviderId::Wahoo,
            format!("{user}:{id}:{updated}").as_bytes(),
        ),
        _ => fingerprint(ProviderId::Wahoo, raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use serde_json::json;
    use vitasync_domain::health::DataType;
    use vitasync_domain::inbound::push::PushMethod;
    use vitasync_domain::providers::WebhookSecrets;

    const TOKEN: &str = "4f0c2e9a-6b7d-4c1e-9a3f-2d8b5e7c1a06";

    fn settings(secret: Option<&str>) -> ProviderSettings {
        ProviderSettings {
            client_id: "wahoo-client".into(),
            client_secret: SecretString::from("wahoo-client-secret"),
            authorize_url: String::new(),
            token_url: String::new(),
            api_url: String::new(),
            revoke_url: None,
            webhooks: WebhookSecrets {
                verify_token: None,
                secret: secret.map(SecretString::from),
                keyset_url: None,
            },
            subscription_key: None,
        }
    }

    fn now() -> Timestamp {
        Timestamp::parse("2026-03-02T12:00:00Z").unwrap()
    }

    fn event() -> Value {
        json!({
            "event_type": "workout_summary",
            "webhook_token": TOKEN,
            "user": {"id": 123456},
            "workout_summary": {
                "id": 22334455,
                "calories_accum": "768.0",
                "power_avg": null,
                "time_zone": "Europe/Berlin",
                "updated_at": "2026-03-01T11:40:15.000Z",
                "workout": {
                    "id": 99887766,
                    "starts": "2026-03-01T09:15:00.000Z",
                    "minutes": 75,
                    "workout_type_id": 0
                }
            }
        })
    }

    fn post(body: &Value) -> PushRequest {
        PushRequest {
            method: PushMethod::Post,
            query: Vec::new(),
            headers: Vec::new(),
            body: serde_json::to_vec(body).unwrap(),
            path_secret: None,
        }
    }

    fn status(outcome: &PushOutcome) -> u16 {
        outcome.reply.status
    }

    #[test]
    fn a_summary_with_the_right_token_syncs_the_workouts_around_its_start() {
        let outcome = receive(&settings(Some(TOKEN)), &post(&event()), now());
        assert_eq!(status(&outcome), 200);
        assert_eq!(outcome.notices.len(), 1);
        let notice = &outcome.notices[0];
        assert_eq!(notice.provider_user_id, "123456");
        let start = Timestamp::parse("2026-03-01T09:15:00Z").unwrap();
        assert_eq!(
            notice.action,
            NoticeAction::Sync {
                data_types: vec![DataType::Session(SessionKind::Workout)],
                from: start.plus_seconds(-3600),
                to: start.plus_seconds(3600),
            }
        );
    }

    #[test]
    fn a_wrong_missing_or_unconfigured_token_is_refused() {
        let mut wrong = event();
        wrong["webhook_token"] = json!("guess");
        let mut missing = event();
        missing["webhook_token"] = Value::Null;
        let mut empty = event();
        empty["webhook_token"] = json!("");
        let plain = event();
        for (configured, body) in [
            (Some(TOKEN), &wrong),
            (Some(TOKEN), &missing),
            (Some(""), &empty),
            (None, &plain),
        ] {
            let outcome = receive(&settings(configured), &post(body), now());
            assert_eq!(status(&outcome), 401, "{body}");
            assert!(outcome.notices.is_empty());
        }
    }

    #[test]
    fn a_retry_repeats_its_fingerprint_and_an_update_does_not() {
        let settings = settings(Some(TOKEN));
        let first = receive(&settings, &post(&event()), now());
        let retried = receive(&settings, &post(&event()), now());
        let mut updated = event();
        updated["workout_summary"]["updated_at"] = json!("2026-03-01T12:02:44.000Z");
        updated["workout_summary"]["calories_accum"] = json!("771.0");
        let update = receive(&settings, &post(&updated), now());
        assert_eq!(first.notices[0].fingerprint, retried.notices[0].fingerprint);
        assert_ne!(first.notices[0].fingerprint, update.notices[0].fingerprint);
    }

    #[test]
    fn other_events_and_bad_requests_answer_without_notices() {
        let settings = settings(Some(TOKEN));
        let mut other = event();
        other["event_type"] = json!("plan_updated");
        let outcome = receive(&settings, &post(&other), now());
        assert_eq!((status(&outcome), outcome.notices.len()), (200, 0));

        let mut anonymous = event();
        anonymous["user"] = json!({});
        assert_eq!(status(&receive(&settings, &post(&anonymous), now())), 400);

        let mut get = post(&event());
        get.method = PushMethod::Get;
        assert_eq!(status(&receive(&settings, &get, now())), 405);

        let mut garbled = post(&event());
        garbled.body = b"not json".to_vec();
        assert_eq!(status(&receive(&settings, &garbled, now())), 400);
    }

    #[test]
    fn without_a_start_the_days_before_the_event_are_synced() {
        let mut body = event();
        body["workout_summary"]["workout"]["starts"] = Value::Null;
        let outcome = receive(&settings(Some(TOKEN)), &post(&body), now());
        let NoticeAction::Sync { from, to, .. } = &outcome.notices[0].action else {
            panic!("a sync");
        };
        assert_eq!((*from, *to), (now().plus_seconds(-2 * 24 * 3600), now()));
    }
}
