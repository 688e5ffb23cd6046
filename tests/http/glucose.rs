//! Glucose as one metric whoever measured it: phones' blood glucose (HealthKit in mg/dL, Health
//! Connect in mmol/L) lands beside CGM readings in mmol/L, and a day of it reads as a CGM report:
//! mean, extremes and time below, in and above 70–180 mg/dL, each reading on the local date its
//! own offset gives (a DST change inside the day, a +05:45 zone).

use crate::harness::{Harness, Host, harness_on, on_both_hosts};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vitasync_domain::health::Metric;
use vitasync_domain::health::query::{DailyQuery, RecordsQuery, TimeseriesQuery};
use vitasync_domain::mobile::ingest::SamplePush;
use vitasync_domain::providers::ProviderId;
use vitasync_tests::{ROOT_KEY, TestHost};

/// Berlin on the night clocks go forward (01:00 UTC on 29 March 2026): readings either side.
fn apple_glucose() -> Value {
    json!([
        {"uuid": "G1", "type": "HKQuantityTypeIdentifierBloodGlucose", "start": "2026-03-29T00:45:00Z",
         "value": 65, "unit": "mg/dL", "timeZone": "Europe/Berlin"},
        {"uuid": "G2", "type": "HKQuantityTypeIdentifierBloodGlucose", "start": "2026-03-29T01:15:00Z",
         "value": 70, "unit": "mg/dL", "timeZone": "Europe/Berlin"},
        {"uuid": "G3", "type": "HKQuantityTypeIdentifierBloodGlucose", "start": "2026-03-29T11:00:00Z",
         "value": 180, "unit": "mg/dL", "timeZone": "Europe/Berlin"},
        {"uuid": "G4", "type": "HKQuantityTypeIdentifierBloodGlucose", "start": "2026-03-29T15:00:00Z",
         "value": 181, "unit": "mg/dL", "timeZone": "Europe/Berlin"}
    ])
}

/// Kathmandu, five and three-quarter hours ahead: 18:00 UTC is still the 29th there, 18:30 UTC
/// the 30th.
fn health_connect_glucose() -> Value {
    json!([
        {"uuid": "K1", "type": "BloodGlucoseRecord", "start": "2026-03-29T18:00:00Z",
         "value": 5.5, "unit": "mmol/L", "timeZone": "+05:45"},
        {"uuid": "K2", "type": "BloodGlucoseRecord", "start": "2026-03-29T18:30:00Z",
         "value": 3.9, "unit": "mmol/L", "timeZone": "+05:45"}
    ])
}

async fn push(h: &Harness, source: &str, samples: Value) {
    let (_, me) = h.signed_in().await;
    let report = h
        .services
        .phone_ingest
        .push_samples(
            &me,
            SamplePush::from_values(source, samples.as_array().unwrap(), &[]),
        )
        .await
        .unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
}

fn mmol(mg_dl: f64) -> f64 {
    vitasync_domain::health::glucose_mmol_l(mg_dl)
}

async fn phones_glucose_is_one_metric_read_as_a_cgm_day(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    push(&h, "apple_health", apple_glucose()).await;
    push(&h, "health_connect", health_connect_glucose()).await;

    let records = h
        .services
        .health_reads
        .list_records(
            &h.caller,
            &h.user,
            &RecordsQuery {
                metric_type: Some("glucose".into()),
                from: Some("2026-03-28T00:00:00Z".into()),
                to: Some("2026-03-31T00:00:00Z".into()),
                ..RecordsQuery::default()
            },
        )
        .await
        .unwrap();
    let readings: Vec<(i64, f64, i32)> = records
        .items
        .iter()
        .map(|r| (r.at_ms, r.value, r.utc_offset_seconds))
        .collect();
    let at = |raw: &str| {
        vitasync_domain::kernel::time::Timestamp::parse(raw)
            .unwrap()
            .millis()
    };
    let close = |(a, b): (f64, f64)| (a - b).abs() < 0.001;
    let expected = [
        (at("2026-03-29T18:30:00Z"), 3.9, 20_700),
        (at("2026-03-29T18:00:00Z"), 5.5, 20_700),
        (at("2026-03-29T15:00:00Z"), mmol(181.0), 7200),
        (at("2026-03-29T11:00:00Z"), mmol(180.0), 7200),
        (at("2026-03-29T01:15:00Z"), mmol(70.0), 7200),
        (at("2026-03-29T00:45:00Z"), mmol(65.0), 3600),
    ];
    assert_eq!(readings.len(), expected.len(), "{readings:?}");
    for (found, wanted) in readings.iter().zip(expected) {
        assert_eq!((found.0, found.2), (wanted.0, wanted.2));
        assert!(close((found.1, wanted.1)), "{found:?} vs {wanted:?}");
    }
    assert!(records.items.iter().all(|r| r.metric == Metric::Glucose));

    let days = h
        .services
        .health_reads
        .daily_summaries(
            &h.caller,
            &h.user,
            &DailyQuery {
                from: Some("2026-03-29".into()),
                to: Some("2026-03-30".into()),
                metric_types: Some("glucose".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(days.len(), 2, "{days:?}");
    let first = &days[0];
    assert_eq!(first.date, "2026-03-29");
    // Berlin's first reading came before the change: the day opens at +01:00.
    assert_eq!(first.utc_offset_seconds, 3600);
    let figures = first.glucose.unwrap();
    assert_eq!(figures.readings, 5);
    // 65 below; 70, 180 and 5.5 mmol/L (99 mg/dL) in; 181 above.
    assert_eq!(figures.below_range_percent, 20.0);
    assert_eq!(figures.in_range_percent, 60.0);
    assert_eq!(figures.above_range_percent, 20.0);
    assert!(close((figures.min, mmol(65.0))));
    assert!(close((figures.max, mmol(181.0))));
    let mean = (mmol(65.0) + mmol(70.0) + mmol(180.0) + mmol(181.0) + 5.5) / 5.0;
    assert!(close((figures.mean, mean)), "{} vs {mean}", figures.mean);
    assert_eq!(first.value, figures.mean);
    let mut providers: Vec<ProviderId> = first.sources.iter().map(|s| s.provider).collect();
    providers.sort();
    assert_eq!(
        providers,
        [ProviderId::AppleHealth, ProviderId::HealthConnect]
    );
    let second = &days[1];
    assert_eq!(
        (second.date.as_str(), second.utc_offset_seconds),
        ("2026-03-30", 20_700)
    );
    let figures = second.glucose.unwrap();
    assert_eq!((figures.readings, figures.in_range_percent), (1, 100.0));

    // The old name still reads the same data.
    let old_name = h
        .services
        .health_reads
        .timeseries(
            &h.caller,
            &h.user,
            &TimeseriesQuery {
                metric_type: Some("blood_glucose".into()),
                from: Some("2026-03-29T00:00:00Z".into()),
                to: Some("2026-03-30T00:00:00Z".into()),
                bucket: Some("day".into()),
                agg: Some("count".into()),
                tz: Some("UTC".into()),
                ..TimeseriesQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(old_name.metric, Metric::Glucose);
    assert_eq!(old_name.buckets.len(), 1);
    assert_eq!(old_name.buckets[0].value, 6.0);
}

#[tokio::test]
async fn the_api_answers_glucose_in_mmol_per_litre_with_its_day_figures() {
    let host = TestHost::start().await;
    let (user, access) = host.signed_in_phone(ROOT_KEY, "glucose-over-http").await;
    let access = access.as_str();
    let pushed = host
        .post(
            "/v1/me/samples",
            access,
            json!({"source": "apple_health", "samples": apple_glucose()}),
        )
        .await;
    assert_eq!(pushed.status, StatusCode::OK, "{}", pushed.body);

    let days = host
        .get(
            &format!("/v1/users/{user}/health/daily-summaries?from=2026-03-29&to=2026-03-29&metricTypes=glucose"),
            ROOT_KEY,
        )
        .await;
    assert_eq!(days.status, StatusCode::OK, "{}", days.body);
    let day = &days.body["data"][0];
    assert_eq!(day["metricType"], "glucose");
    assert_eq!(day["unit"], "mmol/L");
    assert_eq!(day["glucose"]["readings"], 4);
    assert_eq!(day["glucose"]["timeBelowRangePercent"], 25.0);
    assert_eq!(day["glucose"]["timeInRangePercent"], 50.0);
    assert_eq!(day["glucose"]["timeAboveRangePercent"], 25.0);
    assert_eq!(day["glucose"]["min"], 3.608);
    assert_eq!(day["glucose"]["max"], 10.047);
    assert_eq!(day["value"], day["glucose"]["mean"]);

    let records = host
        .get(
            &format!("/v1/users/{user}/health?metricType=glucose&from=2026-03-29T00:00:00Z&to=2026-03-30T00:00:00Z"),
            ROOT_KEY,
        )
        .await;
    let newest = &records.body["data"][0];
    assert_eq!(newest["metricType"], "glucose");
    assert_eq!(newest["unit"], "mmol/L");
    let value = newest["value"].as_f64().unwrap();
    assert!((value - 181.0 / 18.016).abs() < 1e-9, "{value}");
}

/// A CGM's 5-minute readings through the query routes: a chart at minute buckets shows each
/// reading, and a day's figures come from them (St. John's springs forward inside the hour).
async fn cgm_readings_chart_and_sum_up_by_day(host: Host) {
    let h = harness_on(host, ProviderId::Dexcom).await;
    let connection = h.connect().await;
    let job = h
        .sync_over(
            &connection,
            vitasync_domain::sync::SyncRequest {
                from: Some(crate::harness::at("2026-03-01T00:00:00Z")),
                to: Some(crate::harness::at("2026-03-10T00:00:00Z")),
                data_types: vec!["glucose".into()],
            },
        )
        .await;
    assert_eq!(
        job.status,
        vitasync_domain::sync::jobs::JobStatus::Succeeded,
        "{job:?}"
    );

    let chart = h
        .services
        .health_reads
        .timeseries(
            &h.caller,
            &h.user,
            &TimeseriesQuery {
                metric_type: Some("glucose".into()),
                from: Some("2026-03-08T05:00:00Z".into()),
                to: Some("2026-03-08T06:00:00Z".into()),
                bucket: Some("minute".into()),
                ..TimeseriesQuery::default()
            },
        )
        .await
        .unwrap();
    let points: Vec<(i64, f64)> = chart
        .buckets
        .iter()
        .map(|b| {
            (
                b.start.timestamp_millis(),
                (b.value * 1000.0).round() / 1000.0,
            )
        })
        .collect();
    let at = crate::harness::ms;
    assert_eq!(
        points,
        [
            (at("2026-03-08T05:20:00Z"), 6.106),
            (at("2026-03-08T05:25:00Z"), 5.995),
            (at("2026-03-08T05:30:00Z"), 5.828),
            (at("2026-03-08T05:35:00Z"), 5.717),
        ]
    );

    let days = h
        .services
        .health_reads
        .daily_summaries(
            &h.caller,
            &h.user,
            &DailyQuery {
                from: Some("2026-03-02".into()),
                to: Some("2026-03-08".into()),
                metric_types: Some("glucose".into()),
            },
        )
        .await
        .unwrap();
    let by_date = |date: &str| {
        days.iter()
            .find(|d| d.date == date)
            .unwrap_or_else(|| panic!("{date}: {days:?}"))
    };
    // 142 in range, 401 (pinned high) above it.
    let second = by_date("2026-03-02");
    let figures = second.glucose.unwrap();
    assert_eq!((figures.readings, second.utc_offset_seconds), (2, 3600));
    assert_eq!(
        (figures.in_range_percent, figures.above_range_percent),
        (50.0, 50.0)
    );
    assert_eq!(figures.max, 22.258);
    assert_eq!(second.sources[0].provider, ProviderId::Dexcom);
    // Newfoundland's night of the change: the day opens at −03:30, all four in range.
    let eighth = by_date("2026-03-08");
    let figures = eighth.glucose.unwrap();
    assert_eq!((figures.readings, eighth.utc_offset_seconds), (4, -12_600));
    assert_eq!(figures.in_range_percent, 100.0);
    assert_eq!(figures.min, 5.717);
}

on_both_hosts!(
    phones_glucose_is_one_metric_read_as_a_cgm_day,
    cgm_readings_chart_and_sum_up_by_day,
);
