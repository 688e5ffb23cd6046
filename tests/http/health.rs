//! The read side over the API on the local host, with a week of demo data synced: each route's
//! answer as a client reads it, and every refusal.

use crate::sync::{connect_demo, until_ended};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vitasync_tests::{ROOT_KEY, TestHost};

/// A host with a user whose demo connection synced the week before 2026-11-20.
async fn synced_week() -> (TestHost, String) {
    let host = TestHost::start().await;
    let user = host.user(ROOT_KEY, "ada").await;
    let connection = connect_demo(&host, &user).await;
    let job = host
        .post(
            &format!("/v1/users/{user}/connections/{connection}/sync"),
            ROOT_KEY,
            json!({"from": "2026-11-13T00:00:00Z", "to": "2026-11-20T00:00:00Z"}),
        )
        .await;
    let ended = until_ended(&host, job.body["jobId"].as_str().unwrap()).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    (host, user)
}

const WEEK: &str = "from=2026-11-13T00:00:00Z&to=2026-11-20T00:00:00Z";

#[tokio::test]
async fn every_read_route_answers_what_was_synced() {
    let (host, user) = synced_week().await;
    let get = |path: String| {
        let host = &host;
        async move {
            let reply = host.get(&path, ROOT_KEY).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            reply.body
        }
    };

    let records = get(format!(
        "/v1/users/{user}/health?metricType=heart_rate&limit=5&{WEEK}"
    ))
    .await;
    let data = records["data"].as_array().unwrap();
    assert_eq!(data.len(), 5);
    assert_eq!(data[0]["metricType"], "heart_rate");
    assert_eq!(data[0]["unit"], "bpm");
    assert_eq!(data[0]["providerId"], "demo");
    assert!(data[0]["at"].as_str().unwrap() > data[4]["at"].as_str().unwrap());
    let next = records["nextCursor"].as_str().unwrap();
    let more = get(format!(
        "/v1/users/{user}/health?metricType=heart_rate&limit=5&{WEEK}&cursor={next}"
    ))
    .await;
    assert!(more["data"][0]["at"].as_str().unwrap() < data[4]["at"].as_str().unwrap());

    let series = get(format!(
        "/v1/users/{user}/health/timeseries?metricType=heart_rate&bucket=day&agg=max&tz=Europe/Paris&{WEEK}"
    ))
    .await;
    assert_eq!(series["unit"], "bpm");
    let buckets = series["data"].as_array().unwrap();
    assert!((7..=8).contains(&buckets.len()), "{series}");
    assert!(
        buckets[1]["start"]
            .as_str()
            .unwrap()
            .ends_with("T00:00:00+01:00")
    );
    assert!(buckets.iter().all(|b| b["value"].as_f64().unwrap() > 40.0));

    let days = get(format!(
        "/v1/users/{user}/health/daily-summaries?from=2026-11-14&to=2026-11-18&metricTypes=steps,resting_heart_rate"
    ))
    .await;
    let rows = days["data"].as_array().unwrap();
    assert_eq!(rows.len(), 10, "5 days × 2 metrics: {days}");
    assert_eq!(rows[0]["date"], "2026-11-14");
    assert_eq!(rows[0]["providers"], json!(["demo"]));

    let summary = get(format!("/v1/users/{user}/health/summary")).await;
    let heart = summary["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metricType"] == "heart_rate")
        .unwrap();
    assert!(heart["count"].as_u64().unwrap() > 7 * 1440);

    let events = get(format!("/v1/users/{user}/events?eventType=workout&{WEEK}")).await;
    let workout = &events["data"][0];
    assert_eq!(workout["eventType"], "workout");
    // Sports with a distance have one; every workout has its time, energy and heart rate.
    let sport = workout["sport"].as_str().unwrap();
    let has_distance = !matches!(sport, "strength_training" | "yoga");
    assert_eq!(
        workout["distanceMeters"].as_f64().is_some(),
        has_distance,
        "{workout}"
    );
    assert!(workout["durationSeconds"].as_f64().unwrap() > 0.0);
    assert!(workout["heartRate"]["avg"].as_f64().unwrap() > 80.0);
    let id = workout["id"].as_str().unwrap();
    let one = get(format!("/v1/users/{user}/events/{id}")).await;
    assert_eq!(one["recordId"], workout["recordId"]);
    let sleeps = get(format!("/v1/users/{user}/events?eventType=sleep&{WEEK}")).await;
    assert!(sleeps["data"][0]["stageSeconds"]["deep"].as_f64().is_some());

    let records = get(format!("/v1/users/{user}/personal-records")).await;
    let types: Vec<&str> = records["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"steps") && types.contains(&"sleep_duration"),
        "{types:?}"
    );
    let steps = get(format!("/v1/users/{user}/personal-records/steps")).await;
    assert_eq!(steps["data"].as_array().unwrap().len(), 1);

    // Erasure: everything goes, the connection stays.
    let erased = host
        .delete(&format!("/v1/users/{user}/health"), ROOT_KEY)
        .await;
    assert_eq!(erased.status, StatusCode::OK);
    assert!(erased.body["deleted"].as_u64().unwrap() > 100);
    let empty = get(format!("/v1/users/{user}/health/summary")).await;
    assert_eq!(empty["data"], json!([]));
    let connections = get(format!("/v1/users/{user}/connections")).await;
    assert_eq!(connections["data"].as_array().unwrap().len(), 1);
}

fn field(reply: &vitasync_tests::Reply) -> &str {
    reply.invalid_field()
}

#[tokio::test]
async fn bad_reads_are_refused_with_the_field_named() {
    let host = TestHost::start().await;
    let user = host.user(ROOT_KEY, "ada").await;
    let ask = |query: &str| {
        let path = format!("/v1/users/{user}/{query}");
        let host = &host;
        async move { host.get(&path, ROOT_KEY).await }
    };

    assert_eq!(field(&ask("health?metricType=mood").await), "metricType");
    assert_eq!(field(&ask("health?providerId=acme").await), "providerId");
    assert_eq!(field(&ask("health?limit=1001").await), "limit");
    assert_eq!(field(&ask("health?limit=0").await), "limit");
    assert_eq!(field(&ask("health?from=yesterday").await), "from");
    assert_eq!(
        field(&ask("health?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z").await),
        "from"
    );
    assert_eq!(field(&ask("health?cursor=bm9wZQ").await), "cursor");
    assert_eq!(field(&ask("health?since=2026").await), "since");
    assert_eq!(field(&ask("health/timeseries").await), "metricType");
    assert_eq!(
        field(&ask("health/timeseries?metricType=heart_rate&bucket=fortnight").await),
        "bucket"
    );
    assert_eq!(
        field(&ask("health/timeseries?metricType=heart_rate&agg=median").await),
        "agg"
    );
    assert_eq!(
        field(&ask("health/timeseries?metricType=heart_rate&tz=Mars/Olympus").await),
        "tz"
    );
    assert_eq!(
        field(
            &ask("health/timeseries?metricType=heart_rate&from=2025-01-01T00:00:00Z&to=2026-11-01T00:00:00Z")
                .await
        ),
        "from",
        "more than 366 days"
    );
    assert_eq!(
        field(
            &ask("health/timeseries?metricType=heart_rate&bucket=minute&from=2026-01-01T00:00:00Z&to=2026-11-01T00:00:00Z")
                .await
        ),
        "bucket",
        "too many buckets"
    );
    assert_eq!(
        field(&ask("health/daily-summaries?from=2026-13-01").await),
        "from"
    );
    assert_eq!(
        field(&ask("health/daily-summaries?metricTypes=steps,mood").await),
        "metricTypes[1]"
    );
    assert_eq!(field(&ask("events?eventType=nap").await), "eventType");
    ask("events/not-an-event")
        .await
        .assert_problem(404, "not-found");
    ask("personal-records/fastest_mile")
        .await
        .assert_problem(404, "not-found");

    // Scopes and workspaces.
    let reader = host.key(ROOT_KEY, &["read"]).await;
    host.delete(&format!("/v1/users/{user}/health"), &reader)
        .await
        .assert_problem(403, "forbidden");
    let reply: Value = host
        .get(&format!("/v1/users/{user}/health"), &reader)
        .await
        .body;
    assert_eq!(reply["data"], json!([]));
    let other = host.workspace("elsewhere").await;
    for path in ["health", "health/summary", "events", "personal-records"] {
        host.get(&format!("/v1/users/{user}/{path}"), &other)
            .await
            .assert_problem(404, "not-found");
    }
    host.delete(&format!("/v1/users/{user}/health"), &other)
        .await
        .assert_problem(404, "not-found");
}

/// The documentation's first query after connecting: the last 7 days of steps, as daily
/// records; and the same totals through every read route.
#[tokio::test]
async fn daily_totals_are_readable_through_every_route() {
    let host = TestHost::start().await;
    let user = host.user(ROOT_KEY, "grace").await;
    connect_demo(&host, &user).await;
    // Connecting started the 30-day backfill.
    let jobs = host
        .get(&format!("/v1/users/{user}/sync-jobs"), ROOT_KEY)
        .await;
    let backfill = jobs.body["data"][0]["jobId"].as_str().unwrap().to_owned();
    let ended = until_ended(&host, &backfill).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");

    let steps = host
        .get(
            &format!("/v1/users/{user}/health?metricType=steps&limit=7"),
            ROOT_KEY,
        )
        .await;
    assert_eq!(steps.status, StatusCode::OK, "{}", steps.body);
    let days = steps.body["data"].as_array().unwrap();
    assert_eq!(days.len(), 7, "{}", steps.body);
    let dates: Vec<&str> = days
        .iter()
        .map(|d| d["localDate"].as_str().unwrap())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(dates, sorted, "one a day, newest first");
    for day in days {
        assert_eq!(day["kind"], "daily");
        assert_eq!(day["metricType"], "steps");
        assert_eq!(day["providerId"], "demo");
        assert!(day["value"].as_f64().unwrap() > 0.0);
        let start = chrono::DateTime::parse_from_rfc3339(day["at"].as_str().unwrap()).unwrap();
        let end = chrono::DateTime::parse_from_rfc3339(day["endAt"].as_str().unwrap()).unwrap();
        assert_eq!((end - start).num_hours(), 24);
        // The day starts at local midnight.
        let offset =
            chrono::FixedOffset::east_opt(day["utcOffsetSeconds"].as_i64().unwrap() as i32)
                .unwrap();
        let local = start.with_timezone(&offset);
        assert_eq!(
            local.format("%Y-%m-%d %H:%M").to_string(),
            format!("{} 00:00", day["localDate"].as_str().unwrap())
        );
    }
    assert!(
        steps.body["nextCursor"].is_string(),
        "more days to page through"
    );

    // The same days through the timeseries: a week's sum is the sum of its days.
    let first = dates.last().unwrap();
    let last = dates.first().unwrap();
    let by_day = host
        .get(
            &format!("/v1/users/{user}/health/timeseries?metricType=steps&bucket=day&agg=sum&from={first}T00:00:00Z&to={last}T23:59:59Z&tz=UTC"),
            ROOT_KEY,
        )
        .await;
    assert_eq!(by_day.status, StatusCode::OK, "{}", by_day.body);
    let summed: f64 = by_day.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["value"].as_f64().unwrap())
        .sum();
    let listed: f64 = days.iter().map(|d| d["value"].as_f64().unwrap()).sum();
    assert_eq!(summed, listed);
    let weekly = host
        .get(
            &format!("/v1/users/{user}/health/timeseries?metricType=steps&bucket=week&agg=sum"),
            ROOT_KEY,
        )
        .await;
    assert_eq!(weekly.status, StatusCode::OK, "{}", weekly.body);
    assert!(!weekly.body["data"].as_array().unwrap().is_empty());
    // Steps are kept a day at a time: an hourly chart says why it cannot be drawn.
    let hourly = host
        .get(
            &format!("/v1/users/{user}/health/timeseries?metricType=steps&bucket=hour"),
            ROOT_KEY,
        )
        .await;
    hourly.assert_problem(400, "validation-error");
    assert_eq!(hourly.invalid_field(), "bucket");

    // Daily summaries take RFC 3339 instants as every other range does.
    let summaries = host
        .get(
            &format!("/v1/users/{user}/health/daily-summaries?metricTypes=steps&from={first}T00:00:00Z&to={last}T12:00:00%2B01:00"),
            ROOT_KEY,
        )
        .await;
    assert_eq!(summaries.status, StatusCode::OK, "{}", summaries.body);
    assert_eq!(summaries.body["data"].as_array().unwrap().len(), 7);

    // The summary counts what the records route lists: one record per day with a value.
    let summary = host
        .get(&format!("/v1/users/{user}/health/summary"), ROOT_KEY)
        .await;
    let steps_summary = summary.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metricType"] == "steps")
        .unwrap()
        .clone();
    let (first, last) = (
        steps_summary["first"].as_str().unwrap(),
        steps_summary["last"].as_str().unwrap(),
    );
    let last_end = chrono::DateTime::parse_from_rfc3339(last).unwrap() + chrono::Duration::days(1);
    let all = host
        .get(
            &format!(
                "/v1/users/{user}/health?metricType=steps&limit=1000&from={}&to={}",
                first.replace('+', "%2B"),
                last_end.to_rfc3339().replace('+', "%2B")
            ),
            ROOT_KEY,
        )
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let listed = all.body["data"].as_array().unwrap().len() as u64;
    assert_eq!(
        listed,
        steps_summary["days"].as_u64().unwrap() + steps_summary["count"].as_u64().unwrap()
    );
}
