//! Garmin: push bodies (`{"<summary type>": [summaries…]}`) carry the data itself, ping bodies
//! a `callbackURL` to fetch, and `deregistrations` say a user ended the app's access. Garmin
//! signs nothing, and its client id is public (every consent redirect carries it): a push is
//! taken only at `/webhooks/garmin/<GARMIN_WEBHOOK_SECRET>`, the URL the operator registers in
//! Garmin's portal. Unknown users are ignored.

use super::{fingerprint, json_body, post_only, same};
use crate::rest::text;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;
use vitasync_domain::inbound::push::{Notice, NoticeAction, PushOutcome, PushReply, PushRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// Summary types that are not data.
const NOT_DATA: [&str; 2] = ["deregistrations", "userPermissionsChange"];

pub fn receive(settings: &ProviderSettings, request: &PushRequest) -> PushOutcome {
    if let Some(refused) = post_only(request) {
        return refused;
    }
    let secret_matches = match (&request.path_secret, &settings.webhooks.secret) {
        (Some(given), Some(expected)) if !expected.expose_secret().is_empty() => {
            same(given, expected)
        }
        _ => false,
    };
    // Garmin sends its client id too; a request without it is not Garmin's.
    let names_the_app = request
        .header("garmin-client-id")
        .is_some_and(|id| bool::from(id.as_bytes().ct_eq(settings.client_id.as_bytes())));
    if !(secret_matches && names_the_app) {
        return PushOutcome::reply(PushReply::status(401));
    }
    let body = match json_body(request) {
        Ok(Value::Object(body)) => body,
        Ok(_) => return PushOutcome::reply(PushReply::status(400)),
        Err(bad) => return bad,
    };
    let mut notices = Vec::new();
    for (kind, items) in &body {
        let Some(items) = items.as_array() else {
            continue;
        };
        if kind == "deregistrations" {
            for item in items {
                if let Some(user) = text(item, "/userId") {
                    notices.push(Notice {
                        fingerprint: fingerprint(ProviderId::Garmin, item.to_string().as_bytes()),
                        provider_user_id: user,
                        action: NoticeAction::Deauthorized,
                    });
                }
            }
            continue;
        }
        if NOT_DATA.contains(&kind.as_str()) {
            continue;
        }
        // Pushed summaries, grouped by user; pings become syncs of the window they name.
        let mut pushed: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for item in items {
            let Some(user) = text(item, "/userId") else {
                continue;
            };
            match item.get("callbackURL").and_then(Value::as_str) {
                Some(callback) => {
                    if let Some(action) = ping_window(kind, callback) {
                        notices.push(Notice {
                            provider_user_id: user,
                            action,
                            fingerprint: fingerprint(ProviderId::Garmin, callback.as_bytes()),
                        });
                    }
                }
                None => pushed.entry(user).or_default().push(item.clone()),
            }
        }
        for (user, items) in pushed {
            notices.push(Notice {
                fingerprint: fingerprint(ProviderId::Garmin, kind.as_bytes()),
                provider_user_id: user,
                action: NoticeAction::Pushed {
                    summary_type: kind.clone(),
                    items,
                },
            });
        }
    }
    PushOutcome {
        reply: PushReply::status(200),
        notices,
    }
}

/// A ping's callback names the upload window; the sync pulls the same summaries by it.
fn ping_window(kind: &str, callback: &str) -> Option<NoticeAction> {
    let url = url::Url::parse(callback).ok()?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| value.parse::<i64>().ok())
            .and_then(Timestamp::from_seconds)
    };
    let (from, to) = (
        param("uploadStartTimeInSeconds")?,
        param("uploadEndTimeInSeconds")?,
    );
    Some(NoticeAction::Sync {
        data_types: crate::garmin::kind_types(kind),
        from,
        to,
    })
}
