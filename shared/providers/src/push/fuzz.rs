//! The webhook parsers (and Garmin's pushed-data mapping) take any body without panicking:
//! each provider's documented payload, with one value swapped for an extreme or a wrong type,
//! correctly signed so the parser behind the signature check is reached.

#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;
use vitasync_domain::providers::client::FetchRequest;
use vitasync_domain::providers::rate_budget::CallBudget;

const SECRET: &str = "fuzz-client-secret";
const GARMIN_PATH: &str = "fuzz-garmin-path-secret";

fn fixture(path: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/providers")
        .join(path);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn settings() -> ProviderSettings {
    ProviderSettings {
        client_id: "fuzz-client".into(),
        client_secret: SecretString::from(SECRET),
        authorize_url: String::new(),
        token_url: String::new(),
        api_url: String::new(),
        revoke_url: None,
        webhooks: vitasync_domain::providers::WebhookSecrets {
            verify_token: Some(SecretString::from("fuzz-verify")),
            secret: Some(SecretString::from(SECRET)),
            keyset_url: None,
        },
        subscription_key: None,
    }
}

fn now() -> Timestamp {
    Timestamp::parse("2026-03-02T12:00:00Z").unwrap()
}

/// Values that break arithmetic on instants, and values of the wrong type.
fn hostile() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(serde_json::json!(i64::MAX)),
        Just(serde_json::json!(i64::MIN)),
        Just(serde_json::json!(u64::MAX)),
        Just(serde_json::json!(f64::MAX)),
        Just(serde_json::json!(-f64::MAX)),
        Just(serde_json::json!(1e300)),
        Just(serde_json::json!(9_223_372_036_854_775_i64)),
        Just(serde_json::json!("9223372036854775807")),
        Just(serde_json::json!("-9223372036854775808")),
        Just(serde_json::json!("+99999-01-01T00:00:00Z")),
        Just(Value::Null),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |x| x.is_finite())
            .prop_map(|x| serde_json::json!(x)),
        "[0-9:TZ+-]{0,30}".prop_map(Value::String),
    ]
}

/// Every leaf (and every object member) of `value`, as JSON pointers.
fn paths(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let path = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push(path.clone());
                paths(inner, path, out);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                let path = format!("{at}/{index}");
                out.push(path.clone());
                paths(inner, path, out);
            }
        }
        _ => {}
    }
}

/// `document` with the value at one of its paths (picked by `pick`) replaced.
fn mutated(document: &Value, pick: usize, replacement: Value) -> Value {
    let mut all = Vec::new();
    paths(document, String::new(), &mut all);
    let mut out = document.clone();
    if let Some(slot) = all
        .get(pick % all.len().max(1))
        .and_then(|path| out.pointer_mut(path))
    {
        *slot = replacement;
    }
    out
}

fn push(headers: Vec<(String, String)>, body: Vec<u8>) -> PushRequest {
    PushRequest {
        method: PushMethod::Post,
        query: Vec::new(),
        headers,
        body,
        path_secret: None,
    }
}

fn hmac_of(parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Runs every receiver (and Garmin's mapping) over `body`, signed as each provider signs.
fn receive_everywhere(body: &[u8], timestamp: &str) {
    let settings = settings();
    let now = now();
    strava::receive(&settings, &push(Vec::new(), body.to_vec()));
    let oura_headers = vec![
        (
            "x-oura-signature".to_owned(),
            hex::encode(hmac_of(&[timestamp.as_bytes(), body])),
        ),
        ("x-oura-timestamp".to_owned(), timestamp.to_owned()),
    ];
    oura::receive(&settings, &push(oura_headers, body.to_vec()), now);
    let whoop_headers = vec![
        (
            "x-whoop-signature".to_owned(),
            STANDARD.encode(hmac_of(&[timestamp.as_bytes(), body])),
        ),
        (
            "x-whoop-signature-timestamp".to_owned(),
            timestamp.to_owned(),
        ),
    ];
    whoop::receive(&settings, &push(whoop_headers, body.to_vec()), now);
    let polar_headers = vec![(
        "polar-webhook-signature".to_owned(),
        hex::encode(hmac_of(&[body])),
    )];
    polar::receive(&settings, &push(polar_headers, body.to_vec()), now);
    let mut garmin_settings = settings.clone();
    garmin_settings.webhooks.secret = Some(SecretString::from(GARMIN_PATH));
    let garmin = PushRequest {
        path_secret: Some(GARMIN_PATH.into()),
        ..push(
            vec![("garmin-client-id".into(), "fuzz-client".into())],
            body.to_vec(),
        )
    };
    garmin::receive(&garmin_settings, &garmin);
    let suunto_headers = vec![(
        "x-hmac-sha256-signature".to_owned(),
        hex::encode(hmac_of(&[body])),
    )];
    suunto::receive(&settings, &push(suunto_headers, body.to_vec()), now);
    wahoo::receive(&settings, &push(Vec::new(), body.to_vec()), now);
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        let request = FetchRequest {
            time_zone: None,
            last_synced_at: None,
            from: Timestamp::EARLIEST,
            to: Timestamp::LATEST,
            data_types: Vec::new(),
            provider_user_id: "fuzz".into(),
            granted_scopes: Vec::new(),
            budget: CallBudget::default(),
        };
        crate::garmin::summaries(&value, &request);
        // Suunto's pushed samples are mapped as sent, like Garmin's.
        if let Some(kind) = value.get("type").and_then(Value::as_str) {
            let samples = value.get("samples").cloned().unwrap_or(Value::Null);
            crate::suunto::pushed(&serde_json::json!({ kind: samples }), &request);
        }
        crate::wahoo::workout(&value, None);
        if let Some(summary) = value.get("workout_summary") {
            crate::wahoo::workout(summary, None);
        }
    }
}

fn documented_bodies() -> Vec<Value> {
    [
        "strava/webhook-event-activity-create.json",
        "strava/webhook-event-athlete-deauthorize.json",
        "oura/webhook-event.json",
        "whoop/webhook-event-v2.json",
        "polar/webhook-event-exercise.json",
        "polar/webhook-event-sleep.json",
        "garmin/push-dailies.json",
        "garmin/push-sleeps.json",
        "garmin/push-activities.json",
        "garmin/push-hrv.json",
        "garmin/ping-dailies.json",
        "garmin/push-deregistrations.json",
        "garmin/pull-body-comps.json",
        "suunto/webhook-workout-created.json",
        "suunto/webhook-247-sleep-created.json",
        "suunto/webhook-247-activity-created.json",
        "suunto/webhook-247-recovery-created.json",
        "wahoo/webhook-workout-summary.json",
    ]
    .iter()
    .map(|path| {
        let mut body = fixture(path);
        // Wahoo's proof is a token in the body: the fuzzed app's, so the body is read on.
        if path.starts_with("wahoo/") {
            body["webhook_token"] = Value::String(SECRET.into());
        }
        body
    })
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn documented_payloads_with_one_hostile_value_never_panic(
        which in 0usize..18,
        pick in any::<usize>(),
        replacement in hostile(),
        timestamp in prop_oneof![
            Just(i64::MIN.to_string()),
            Just(i64::MAX.to_string()),
            Just("1772452800".to_owned()),
            Just("1772452800000".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
        ],
    ) {
        let bodies = documented_bodies();
        let body = mutated(&bodies[which % bodies.len()], pick, replacement);
        receive_everywhere(&serde_json::to_vec(&body).unwrap(), &timestamp);
    }

    #[test]
    fn any_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        receive_everywhere(&body, "1772452800");
    }

    #[test]
    fn withings_forms_with_any_numbers_never_panic(
        appli in prop_oneof![Just("1".to_owned()), Just("44".to_owned()), Just("46".to_owned()), any::<i64>().prop_map(|n| n.to_string())],
        start in prop_oneof![Just(i64::MAX), Just(i64::MIN), any::<i64>()],
        end in prop_oneof![Just(i64::MAX), Just(i64::MIN), any::<i64>()],
    ) {
        let form = format!("userid=1&appli={appli}&startdate={start}&enddate={end}&action=unlink");
        withings::receive(&push(Vec::new(), form.into_bytes()));
        let event = serde_json::json!({
            "object_type": "activity", "owner_id": 1, "event_time": start,
        });
        strava::receive(&settings(), &push(Vec::new(), serde_json::to_vec(&event).unwrap()));
    }
}
