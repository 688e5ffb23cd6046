//! The read side over each host's real stores, with data seeded as a sync stores it: a New
//! York user across the March DST change, two providers reporting the same day, a traveller
//! from Berlin to Tokyo, and erasure that leaves nothing behind.

use crate::harness::{Harness, Host, harness_on, on_both_hosts};
use chrono::DateTime;
use std::collections::BTreeSet;
use vitasync_domain::connections::{Connection, ConnectionStatus};
use vitasync_domain::health::query::{DailyQuery, RecordsQuery, SessionsQuery, TimeseriesQuery};
use vitasync_domain::health::records::store_batch;
use vitasync_domain::health::{
    DailySummary, HealthBatch, Measurement, Metric, Origin, SampleSeries, Session, SessionKind,
    StageTotals,
};
use vitasync_domain::kernel::ids::ConnectionId;
use vitasync_domain::ports::RecordOwner;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::tenancy::user::UserDraft;

const EST: i32 = -5 * 3600;
const EDT: i32 = -4 * 3600;

fn ms(raw: &str) -> i64 {
    DateTime::parse_from_rfc3339(raw)
        .unwrap()
        .timestamp_millis()
}

fn origin(provider: ProviderId, id: &str) -> Origin {
    Origin {
        provider,
        record_id: id.into(),
        source: Some("test band".into()),
    }
}

fn day(provider: ProviderId, metric: Metric, date: &str, value: f64, offset: i32) -> DailySummary {
    DailySummary {
        metric,
        date: date.into(),
        value,
        utc_offset_seconds: offset,
        origin: origin(provider, &format!("day-{date}")),
    }
}

fn session(
    kind: SessionKind,
    id: &str,
    start: &str,
    minutes: i64,
    sport: Option<&str>,
    distance: Option<f64>,
) -> Session {
    let start_ms = ms(start);
    Session {
        kind,
        start_ms,
        end_ms: start_ms + minutes * 60_000,
        utc_offset_seconds: EST,
        date: start[..10].into(),
        sport: sport.map(str::to_owned),
        provider_sport: None,
        duration_seconds: Some((minutes * 60) as f64),
        distance_m: distance,
        energy_kcal: Some(300.0),
        heart_rate_avg: Some(140.0),
        heart_rate_max: Some(170.0),
        heart_rate_min: Some(90.0),
        stage_seconds: (kind == SessionKind::Sleep).then_some(StageTotals {
            awake: 600.0,
            light: 12_000.0,
            deep: 5_400.0,
            rem: 7_200.0,
        }),
        stages: Vec::new(),
        score: None,
        ..Session::new(kind, origin(ProviderId::Withings, id))
    }
}

fn owner(connection: &Connection) -> RecordOwner {
    RecordOwner {
        workspace: connection.workspace_id.clone(),
        user: connection.user_id.clone(),
        connection: connection.id.clone(),
    }
}

/// A second provider's connection for the same user, stored directly (reads need no tokens).
async fn second_connection(h: &Harness, like: &Connection, provider: ProviderId) -> Connection {
    let connection = Connection {
        id: ConnectionId::generate(),
        provider,
        provider_user_id: "second-account".into(),
        status: ConnectionStatus::Active,
        ..like.clone()
    };
    let tokens = vitasync_tests::placeholder_tokens();
    h.ports
        .connections
        .upsert_connection(&connection, &tokens, vitasync_contract::fixtures::quietly())
        .await
        .unwrap()
        .0
}

/// Heart rate a minute from Saturday 7 March 00:00 EST to Monday 9 March 00:00 EDT (the
/// clocks went forward on Sunday at 02:00), weigh-ins, daily values, workouts and a sleep.
fn new_york_weekend() -> HealthBatch {
    let change = ms("2026-03-08T07:00:00Z");
    let minutes = (ms("2026-03-07T05:00:00Z")..ms("2026-03-09T04:00:00Z")).step_by(60_000);
    let (winter, summer): (Vec<i64>, Vec<i64>) = minutes.partition(|at| *at < change);
    let series = |points: Vec<i64>, offset| SampleSeries {
        metric: Metric::HeartRate,
        points: points
            .into_iter()
            .map(|at| (at, 60.0 + ((at / 60_000) % 30) as f64))
            .collect(),
        utc_offset_seconds: offset,
        provider: ProviderId::Withings,
        source: None,
    };
    let w = ProviderId::Withings;
    HealthBatch {
        samples: vec![series(winter, EST), series(summer, EDT)],
        measurements: vec![
            Measurement {
                metric: Metric::Weight,
                at_ms: ms("2026-03-07T12:00:00Z"),
                utc_offset_seconds: EST,
                date: "2026-03-07".into(),
                value: 72.4,
                secondary: None,
                origin: origin(w, "weigh-1"),
            },
            Measurement {
                metric: Metric::Weight,
                at_ms: ms("2026-03-08T12:00:00Z"),
                utc_offset_seconds: EDT,
                date: "2026-03-08".into(),
                value: 72.1,
                secondary: None,
                origin: origin(w, "weigh-2"),
            },
        ],
        summaries: vec![
            day(w, Metric::Steps, "2026-03-07", 10_000.0, EST),
            day(w, Metric::Steps, "2026-03-08", 12_000.0, EDT),
            day(w, Metric::RestingHeartRate, "2026-03-07", 55.0, EST),
            day(w, Metric::RestingHeartRate, "2026-03-08", 52.0, EDT),
        ],
        sessions: vec![
            session(
                SessionKind::Workout,
                "run-1",
                "2026-03-07T14:00:00Z",
                30,
                Some("running"),
                Some(5000.0),
            ),
            session(
                SessionKind::Workout,
                "run-2",
                "2026-03-08T14:00:00Z",
                45,
                Some("running"),
                Some(8000.0),
            ),
            session(
                SessionKind::Workout,
                "ride-1",
                "2026-03-08T18:00:00Z",
                60,
                Some("cycling"),
                Some(20_000.0),
            ),
            session(
                SessionKind::Sleep,
                "night-1",
                "2026-03-08T04:00:00Z",
                420,
                None,
                None,
            ),
        ],
        ..HealthBatch::default()
    }
}

async fn seeded(host: Host) -> (Harness, Connection, Connection) {
    let h = harness_on(host, ProviderId::Withings).await;
    let withings = h.connect().await;
    store_batch(
        h.ports.health.as_ref(),
        &owner(&withings),
        &new_york_weekend(),
    )
    .await
    .unwrap();
    let oura = second_connection(&h, &withings, ProviderId::Oura).await;
    let oura_days = HealthBatch {
        summaries: vec![day(
            ProviderId::Oura,
            Metric::Steps,
            "2026-03-08",
            11_000.0,
            EDT,
        )],
        ..HealthBatch::default()
    };
    store_batch(h.ports.health.as_ref(), &owner(&oura), &oura_days)
        .await
        .unwrap();
    (h, withings, oura)
}

fn weekend(metric: &str, bucket: &str, tz: Option<&str>) -> TimeseriesQuery {
    TimeseriesQuery {
        metric_type: Some(metric.into()),
        from: Some("2026-03-07T05:00:00Z".into()),
        to: Some("2026-03-09T04:00:00Z".into()),
        bucket: Some(bucket.into()),
        tz: tz.map(str::to_owned),
        ..TimeseriesQuery::default()
    }
}

async fn timeseries_follow_new_york_across_the_march_change(host: Host) {
    let (h, _, _) = seeded(host).await;
    for tz in [Some("America/New_York"), None] {
        let days = h
            .services
            .health_reads
            .timeseries(&h.caller, &h.user, &weekend("heart_rate", "day", tz))
            .await
            .unwrap();
        let starts: Vec<String> = days.buckets.iter().map(|b| b.start.to_rfc3339()).collect();
        assert_eq!(
            starts,
            ["2026-03-07T00:00:00-05:00", "2026-03-08T00:00:00-05:00"],
            "tz {tz:?}"
        );
        let counts: Vec<u64> = days.buckets.iter().map(|b| b.count).collect();
        assert_eq!(counts, [1440, 1380], "Sunday had 23 hours");
    }
    let hours = h
        .services
        .health_reads
        .timeseries(
            &h.caller,
            &h.user,
            &weekend("heart_rate", "hour", Some("America/New_York")),
        )
        .await
        .unwrap();
    assert_eq!(hours.buckets.len(), 47);
    assert_eq!(
        hours.buckets[26].start.to_rfc3339(),
        "2026-03-08T03:00:00-04:00"
    );
    assert!(hours.buckets.iter().all(|b| b.count == 60));
    let minutes = h
        .services
        .health_reads
        .timeseries(&h.caller, &h.user, &weekend("heart_rate", "minute", None))
        .await
        .unwrap();
    assert_eq!(minutes.buckets.len(), 2820);
    let maxima = h
        .services
        .health_reads
        .timeseries(
            &h.caller,
            &h.user,
            &TimeseriesQuery {
                agg: Some("max".into()),
                ..weekend("heart_rate", "day", None)
            },
        )
        .await
        .unwrap();
    assert!(maxima.buckets.iter().all(|b| b.value == 89.0));
    let weights = h
        .services
        .health_reads
        .timeseries(
            &h.caller,
            &h.user,
            &weekend("weight", "week", Some("America/New_York")),
        )
        .await
        .unwrap();
    // Saturday and Sunday close the week that began on Monday 2 March.
    assert_eq!(weights.buckets.len(), 1);
    assert_eq!(
        weights.buckets[0].start.to_rfc3339(),
        "2026-03-02T00:00:00-05:00"
    );
    assert!((weights.buckets[0].value - 72.25).abs() < 1e-9);
}

async fn records_page_newest_first_stably_while_data_arrives(host: Host) {
    let (h, withings, _) = seeded(host).await;
    let query = |after: Option<String>| RecordsQuery {
        metric_type: Some("heart_rate".into()),
        from: Some("2026-03-07T00:00:00Z".into()),
        to: Some("2026-03-10T00:00:00Z".into()),
        limit: Some("1000".into()),
        after,
        ..RecordsQuery::default()
    };
    let first = h
        .services
        .health_reads
        .list_records(&h.caller, &h.user, &query(None))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 1000);
    assert_eq!(first.items[0].at_ms, ms("2026-03-09T03:59:00Z"));
    assert_eq!(first.items[0].utc_offset_seconds, EDT);
    assert_eq!(first.items[0].local_date(), "2026-03-08");
    // New readings arrive, later and earlier than the page: the next pages neither repeat
    // nor skip anything that was there.
    let late = HealthBatch {
        samples: vec![SampleSeries {
            metric: Metric::HeartRate,
            points: vec![
                (ms("2026-03-09T05:00:00Z"), 99.0),
                (ms("2026-03-07T04:00:00Z"), 98.0),
            ],
            utc_offset_seconds: EDT,
            provider: ProviderId::Withings,
            source: None,
        }],
        ..HealthBatch::default()
    };
    store_batch(h.ports.health.as_ref(), &owner(&withings), &late)
        .await
        .unwrap();
    let mut seen: Vec<i64> = first.items.iter().map(|r| r.at_ms).collect();
    let mut next = first.next;
    while let Some(after) = next {
        let page = h
            .services
            .health_reads
            .list_records(&h.caller, &h.user, &query(Some(after)))
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|r| r.at_ms));
        next = page.next;
    }
    assert!(
        seen.windows(2).all(|pair| pair[0] > pair[1]),
        "strictly newest first"
    );
    assert_eq!(
        seen.len(),
        2821,
        "the earlier arrival is picked up, nothing repeats"
    );
    assert_eq!(*seen.last().unwrap(), ms("2026-03-07T04:00:00Z"));

    // Every metric at once, and one provider only.
    let all = RecordsQuery {
        from: Some("2026-03-07T11:00:00Z".into()),
        to: Some("2026-03-07T13:00:00Z".into()),
        ..RecordsQuery::default()
    };
    let page = h
        .services
        .health_reads
        .list_records(&h.caller, &h.user, &all)
        .await
        .unwrap();
    let metrics: BTreeSet<&str> = page.items.iter().map(|r| r.metric.as_str()).collect();
    assert_eq!(metrics, BTreeSet::from(["heart_rate", "weight"]));
    assert_eq!(
        page.items.len(),
        100,
        "120 readings and a weigh-in, 100 a page"
    );
    assert!(page.next.is_some());
    let oura_only = RecordsQuery {
        provider_id: Some("oura".into()),
        ..all
    };
    assert!(
        h.services
            .health_reads
            .list_records(&h.caller, &h.user, &oura_only)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn daily_summaries_never_count_a_day_twice(host: Host) {
    let (h, withings, oura) = seeded(host).await;
    // Syncing the same days again changes nothing.
    store_batch(
        h.ports.health.as_ref(),
        &owner(&withings),
        &new_york_weekend(),
    )
    .await
    .unwrap();
    let rows = h
        .services
        .health_reads
        .daily_summaries(
            &h.caller,
            &h.user,
            &DailyQuery {
                from: Some("2026-03-07".into()),
                to: Some("2026-03-08".into()),
                metric_types: Some("steps,resting_heart_rate".into()),
            },
        )
        .await
        .unwrap();
    let summary: Vec<(&str, &str, f64, usize)> = rows
        .iter()
        .map(|r| (r.date.as_str(), r.metric.as_str(), r.value, r.sources.len()))
        .collect();
    assert_eq!(
        summary,
        [
            ("2026-03-07", "steps", 10_000.0, 1),
            ("2026-03-07", "resting_heart_rate", 55.0, 1),
            ("2026-03-08", "steps", 12_000.0, 2),
            ("2026-03-08", "resting_heart_rate", 52.0, 1),
        ]
    );
    let sunday = &rows[2];
    let providers: BTreeSet<ProviderId> = sunday.sources.iter().map(|s| s.provider).collect();
    assert_eq!(
        providers,
        BTreeSet::from([ProviderId::Withings, ProviderId::Oura])
    );
    assert!(
        sunday
            .sources
            .iter()
            .any(|s| s.connection_id == oura.id && s.value == 11_000.0)
    );
    assert_eq!(sunday.utc_offset_seconds, EDT);
}

async fn summary_events_and_personal_records(host: Host) {
    let (h, _, _) = seeded(host).await;
    let summary = h
        .services
        .health_reads
        .health_summary(&h.caller, &h.user)
        .await
        .unwrap();
    let heart = &summary[&Metric::HeartRate];
    assert_eq!(heart.count, 2820);
    assert_eq!(heart.first_ms, Some(ms("2026-03-07T05:00:00Z")));
    assert_eq!(heart.last_ms, Some(ms("2026-03-09T03:59:00Z")));
    assert_eq!(summary[&Metric::Weight].count, 2);
    assert_eq!(
        summary[&Metric::Steps].days,
        3,
        "two from Withings, one from Oura"
    );

    let events = h
        .services
        .health_reads
        .list_sessions(
            &h.caller,
            &h.user,
            &SessionsQuery {
                session_type: Some("workout".into()),
                from: Some("2026-03-01T00:00:00Z".into()),
                to: Some("2026-03-10T00:00:00Z".into()),
                limit: Some("2".into()),
                after: None,
            },
        )
        .await
        .unwrap();
    let ids: Vec<&str> = events
        .items
        .iter()
        .map(|e| e.session.origin.record_id.as_str())
        .collect();
    assert_eq!(ids, ["ride-1", "run-2"]);
    let rest = h
        .services
        .health_reads
        .list_sessions(
            &h.caller,
            &h.user,
            &SessionsQuery {
                session_type: Some("workout".into()),
                from: Some("2026-03-01T00:00:00Z".into()),
                to: Some("2026-03-10T00:00:00Z".into()),
                limit: Some("2".into()),
                after: events.next.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next.is_none());
    let ride = h
        .services
        .health_reads
        .get_session(&h.caller, &h.user, &events.items[0].id)
        .await
        .unwrap();
    assert_eq!(ride.session.distance_m, Some(20_000.0));
    assert!(
        h.services
            .health_reads
            .get_session(&h.caller, &h.user, "bm90LWFuLWV2ZW50")
            .await
            .is_err()
    );

    let records = h
        .services
        .health_reads
        .personal_records(&h.caller, &h.user, None)
        .await
        .unwrap();
    let best = |kind: &str, sport: Option<&str>| {
        records
            .iter()
            .find(|r| r.record_type == kind && r.sport.as_deref() == sport)
            .map(|r| (r.value, r.date.clone()))
            .unwrap_or_else(|| panic!("no {kind} record"))
    };
    assert_eq!(best("steps", None), (12_000.0, "2026-03-08".into()));
    assert_eq!(
        best("resting_heart_rate", None),
        (52.0, "2026-03-08".into())
    );
    assert_eq!(
        best("workout_distance", Some("running")),
        (8000.0, "2026-03-08".into())
    );
    assert_eq!(
        best("workout_distance", Some("cycling")),
        (20_000.0, "2026-03-08".into())
    );
    assert_eq!(best("sleep_duration", None).0, 25_200.0);
    let steps_only = h
        .services
        .health_reads
        .personal_records(&h.caller, &h.user, Some("steps"))
        .await
        .unwrap();
    assert_eq!(steps_only.len(), 1);
    assert!(
        h.services
            .health_reads
            .personal_records(&h.caller, &h.user, Some("bogus"))
            .await
            .is_err()
    );
}

async fn a_traveller_gets_local_days_wherever_they_are(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let connection = h.connect().await;
    // Every half hour in Berlin on 1 June, a flight, then every half hour in Tokyo.
    let berlin: Vec<(i64, f64)> = (ms("2026-06-01T08:00:00Z")..ms("2026-06-01T14:00:00Z"))
        .step_by(1_800_000)
        .map(|at| (at, 70.0))
        .collect();
    let tokyo: Vec<(i64, f64)> = (ms("2026-06-02T00:00:00Z")..ms("2026-06-02T06:00:00Z"))
        .step_by(1_800_000)
        .map(|at| (at, 60.0))
        .collect();
    let series = |points, offset| SampleSeries {
        metric: Metric::HeartRate,
        points,
        utc_offset_seconds: offset,
        provider: ProviderId::Withings,
        source: None,
    };
    let batch = HealthBatch {
        samples: vec![series(berlin, 7200), series(tokyo, 32_400)],
        ..HealthBatch::default()
    };
    store_batch(h.ports.health.as_ref(), &owner(&connection), &batch)
        .await
        .unwrap();
    let days = h
        .services
        .health_reads
        .timeseries(
            &h.caller,
            &h.user,
            &TimeseriesQuery {
                metric_type: Some("heart_rate".into()),
                from: Some("2026-06-01T00:00:00Z".into()),
                to: Some("2026-06-03T00:00:00Z".into()),
                bucket: Some("day".into()),
                ..TimeseriesQuery::default()
            },
        )
        .await
        .unwrap();
    let starts: Vec<String> = days.buckets.iter().map(|b| b.start.to_rfc3339()).collect();
    assert_eq!(
        starts,
        ["2026-06-01T00:00:00+02:00", "2026-06-02T00:00:00+09:00"]
    );
    assert_eq!((days.buckets[0].value, days.buckets[1].value), (70.0, 60.0));
    // The same readings in one zone put the Tokyo morning on 1 June in Berlin.
    let in_berlin = h
        .services
        .health_reads
        .timeseries(
            &h.caller,
            &h.user,
            &TimeseriesQuery {
                metric_type: Some("heart_rate".into()),
                from: Some("2026-06-01T00:00:00Z".into()),
                to: Some("2026-06-03T00:00:00Z".into()),
                bucket: Some("day".into()),
                tz: Some("Europe/Berlin".into()),
                ..TimeseriesQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(in_berlin.buckets.len(), 2);
    assert_eq!(in_berlin.buckets[0].count, 12);
    assert_eq!(in_berlin.buckets[1].count, 12);
}

async fn erasure_leaves_nothing_of_the_user(host: Host) {
    let (h, withings, oura) = seeded(host).await;
    // Another user's data in the same store must survive.
    let draft = UserDraft {
        external_id: "someone-else".into(),
        ..UserDraft::default()
    };
    let (someone, _) = h
        .services
        .users
        .upsert_user(&h.caller, draft)
        .await
        .unwrap();
    let theirs_like = Connection {
        user_id: someone.id.clone(),
        ..withings.clone()
    };
    let others = second_connection(&h, &theirs_like, ProviderId::Whoop).await;
    store_batch(
        h.ports.health.as_ref(),
        &owner(&others),
        &new_york_weekend(),
    )
    .await
    .unwrap();
    let deleted = h
        .services
        .health_reads
        .erase_health(&h.caller, &h.user)
        .await
        .unwrap();
    // 47 hour chunks, 2 weigh-ins, 4 + 1 daily values, 4 sessions, the minute and
    // quarter-hour rollups of the 3 UTC days the chunks fall on, and the markers that the
    // connection is rolled up and has weigh-ins.
    assert_eq!(deleted, 47 + 2 + 5 + 4 + 2 * 3 + 2);
    for connection in [&withings, &oura] {
        let left = h
            .ports
            .health
            .records_between(&owner(connection), "", "~")
            .await
            .unwrap();
        assert!(left.is_empty());
    }
    if let Some(table) = &h.table {
        let items = crate::harness::table_keys(table).await;
        let prefix = format!("WS#{}#U#{}", withings.workspace_id, withings.user_id);
        assert!(
            !items
                .iter()
                .any(|(pk, sk)| pk == &prefix && sk.starts_with("REC#")),
            "a health item of the user is left in the table"
        );
    }
    assert!(
        h.services
            .health_reads
            .health_summary(&h.caller, &h.user)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        h.services
            .directory
            .list_connections(&h.caller, &h.user)
            .await
            .unwrap()
            .len(),
        2,
        "connections stay"
    );
    let theirs = h
        .ports
        .health
        .records_between(&owner(&others), "", "~")
        .await
        .unwrap();
    assert_eq!(theirs.len(), 47 + 2 + 4 + 4 + 2 * 3 + 2);
}

on_both_hosts!(
    timeseries_follow_new_york_across_the_march_change,
    records_page_newest_first_stably_while_data_arrives,
    daily_summaries_never_count_a_day_twice,
    summary_events_and_personal_records,
    a_traveller_gets_local_days_wherever_they_are,
    erasure_leaves_nothing_of_the_user,
    an_offset_change_inside_an_hour_keeps_both_offsets,
    daily_values_are_records_and_chart_by_day,
);

/// Samples whose offset changes inside one UTC hour (Newfoundland falls back at 04:30 UTC)
/// are read back each at its own offset, on both hosts.
async fn an_offset_change_inside_an_hour_keeps_both_offsets(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let connection = h.connect().await;
    let owner = owner(&connection);
    let (ndt, nst) = (-9000, -12600);
    let start = ms("2026-11-01T04:00:00Z");
    let points = (0..60).map(|m| {
        let at = start + m * 60_000;
        (at, 60.0 + m as f64, if m < 30 { ndt } else { nst })
    });
    let batch = HealthBatch {
        samples: SampleSeries::by_offset(Metric::HeartRate, ProviderId::Withings, points),
        ..HealthBatch::default()
    };
    store_batch(h.ports.health.as_ref(), &owner, &batch)
        .await
        .unwrap();
    let page = h
        .services
        .health_reads
        .list_records(
            &h.caller,
            &h.user,
            &RecordsQuery {
                metric_type: Some("heart_rate".into()),
                from: Some("2026-11-01T04:00:00Z".into()),
                to: Some("2026-11-01T05:00:00Z".into()),
                limit: Some("100".into()),
                ..RecordsQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 60);
    for record in &page.items {
        let expected = if record.at_ms < start + 30 * 60_000 {
            ndt
        } else {
            nst
        };
        assert_eq!(record.utc_offset_seconds, expected, "at {}", record.at_ms);
    }
    // Stored again: nothing changes.
    let again = store_batch(h.ports.health.as_ref(), &owner, &batch)
        .await
        .unwrap();
    assert_eq!(again["heart_rate"].written, 0);
}

/// Daily values are records too: one per local day, starting at that day's local midnight,
/// newest first, on both hosts; and they are what day, week and month charts add up.
async fn daily_values_are_records_and_chart_by_day(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let connection = h.connect().await;
    let owner = owner(&connection);
    let (kathmandu, newfoundland) = (5 * 3600 + 45 * 60, -(3 * 3600 + 30 * 60));
    let w = ProviderId::Withings;
    let batch = HealthBatch {
        summaries: vec![
            day(w, Metric::Steps, "2026-11-18", 8000.0, kathmandu),
            day(w, Metric::Steps, "2026-11-19", 9000.0, kathmandu),
            day(w, Metric::Steps, "2026-11-20", 10000.0, newfoundland),
        ],
        // Step samples: one on a day that has its total (already counted in it), two on a
        // day whose total has not come yet (counted in charts by day).
        samples: vec![SampleSeries {
            metric: Metric::Steps,
            points: vec![
                (ms("2026-11-20T12:00:00Z"), 999.0),
                (ms("2026-11-21T15:00:00Z"), 100.0),
                (ms("2026-11-21T15:15:00Z"), 200.0),
            ],
            utc_offset_seconds: newfoundland,
            provider: w,
            source: None,
        }],
        ..HealthBatch::default()
    };
    store_batch(h.ports.health.as_ref(), &owner, &batch)
        .await
        .unwrap();
    let page = h
        .services
        .health_reads
        .list_records(
            &h.caller,
            &h.user,
            &RecordsQuery {
                metric_type: Some("steps".into()),
                limit: Some("2".into()),
                to: Some("2026-11-20T11:00:00Z".into()),
                ..RecordsQuery::default()
            },
        )
        .await
        .unwrap();
    let got: Vec<(String, i64, f64)> = page
        .items
        .iter()
        .map(|r| (r.local_date(), r.at_ms, r.value))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-11-20".into(), ms("2026-11-20T03:30:00Z"), 10000.0),
            ("2026-11-19".into(), ms("2026-11-18T18:15:00Z"), 9000.0),
        ]
    );
    assert_eq!(
        page.items[0].day.as_ref().unwrap().end_ms,
        ms("2026-11-21T03:30:00Z")
    );
    let rest = h
        .services
        .health_reads
        .list_records(
            &h.caller,
            &h.user,
            &RecordsQuery {
                metric_type: Some("steps".into()),
                after: page.next.clone(),
                to: Some("2026-11-20T11:00:00Z".into()),
                ..RecordsQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].local_date(), "2026-11-18");

    let weekly = h
        .services
        .health_reads
        .timeseries(
            &h.caller,
            &h.user,
            &TimeseriesQuery {
                metric_type: Some("steps".into()),
                bucket: Some("month".into()),
                agg: Some("sum".into()),
                ..TimeseriesQuery::default()
            },
        )
        .await
        .unwrap();
    let total: f64 = weekly.buckets.iter().map(|b| b.value).sum();
    assert_eq!(
        total, 27300.0,
        "three days' totals and the samples of the fourth"
    );
    assert!(matches!(
        h.services
            .health_reads
            .timeseries(
                &h.caller,
                &h.user,
                &TimeseriesQuery {
                    metric_type: Some("steps".into()),
                    bucket: Some("minute".into()),
                    // Days kept only as totals: no minute to chart.
                    from: Some("2026-11-18T00:00:00Z".into()),
                    to: Some("2026-11-19T12:00:00Z".into()),
                    ..TimeseriesQuery::default()
                },
            )
            .await,
        Err(vitasync_domain::DomainError::Validation { .. })
    ));
}
