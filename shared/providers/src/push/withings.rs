//! Withings: the `HEAD` check at subscription, then form-encoded notifications naming a user,
//! an `appli` (a data category) and a time range. Withings does not sign them: each one only
//! triggers a sync made with the user's own token.

use super::{DAY, fingerprint, metrics, sessions};
use vitasync_domain::health::{DataType, Metric, SessionKind};
use vitasync_domain::inbound::push::{
    Notice, NoticeAction, PushMethod, PushOutcome, PushReply, PushRequest,
};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::ProviderId;

/// The data types behind each notification category (Withings' `appli` codes).
fn appli_types(appli: u32) -> Option<Vec<DataType>> {
    Some(match appli {
        1 => metrics(&[Metric::Weight, Metric::BodyFat, Metric::Bmi]),
        2 => metrics(&[Metric::Temperature, Metric::SkinTemperature]),
        4 => metrics(&[
            Metric::BloodPressure,
            Metric::HeartRate,
            Metric::BloodOxygen,
        ]),
        16 => [
            metrics(&[
                Metric::Steps,
                Metric::Distance,
                Metric::ActiveCalories,
                Metric::TotalCalories,
                Metric::Floors,
                Metric::ActiveMinutes,
            ]),
            vec![sessions(SessionKind::Workout)],
        ]
        .concat(),
        44 => [
            vec![sessions(SessionKind::Sleep)],
            metrics(&[Metric::HeartRate, Metric::RespiratoryRate]),
        ]
        .concat(),
        58 => metrics(&[Metric::Glucose]),
        _ => return None,
    })
}

pub fn receive(request: &PushRequest) -> PushOutcome {
    if request.method != PushMethod::Post {
        // Withings checks the callback URL answers HEAD before it subscribes it.
        return PushOutcome::reply(PushReply::status(200));
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(request.body.trim_ascii())
        .into_owned()
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let (Some(user), Some(appli)) = (
        field("userid").filter(|id| !id.is_empty()),
        field("appli").and_then(|a| a.parse::<u32>().ok()),
    ) else {
        return PushOutcome::reply(PushReply::status(400));
    };
    let ok = PushReply::status(200);
    let action = if appli == 46 {
        match field("action") {
            Some("unlink" | "delete") => NoticeAction::Deauthorized,
            _ => return PushOutcome::reply(ok),
        }
    } else {
        let Some(data_types) = appli_types(appli) else {
            // Bed in/out and device events carry no data to sync.
            return PushOutcome::reply(ok);
        };
        let instant = |name: &str| {
            field(name)
                .and_then(|s| s.parse::<i64>().ok())
                .and_then(Timestamp::from_seconds)
        };
        let (Some(start), Some(end)) = (instant("startdate"), instant("enddate")) else {
            return PushOutcome::reply(PushReply::status(400));
        };
        // A day's totals are revised through the day: take in the whole day around it.
        NoticeAction::Sync {
            data_types,
            from: start.plus_seconds(-DAY),
            to: end.plus_seconds(3600),
        }
    };
    PushOutcome {
        reply: ok,
        notices: vec![Notice {
            provider_user_id: user.to_owned(),
            action,
            fingerprint: fingerprint(ProviderId::Withings, &request.body),
        }],
    }
}
