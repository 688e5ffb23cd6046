//! Series in the compact form and compressed answers: `format=columns` on the timeseries and
//! records routes (one array per field, the rows form's values index for index, the same
//! cursor), and gzip or brotli for clients that ask, on the local host and through the Lambda
//! adapter (where a compressed body goes out base64 encoded).

use crate::harness::{Host, harness_on};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use tower::ServiceExt;
use vitasync_api::{Function, router_for};
use vitasync_domain::mobile::ingest::SamplePush;
use vitasync_domain::providers::ProviderId;
use vitasync_tests::{ROOT_KEY, TestHost};

/// Every field of a record; each is a column of the columns form.
const RECORD_FIELDS: [&str; 13] = [
    "kind",
    "metricType",
    "value",
    "secondaryValue",
    "unit",
    "at",
    "endAt",
    "utcOffsetSeconds",
    "localDate",
    "providerId",
    "connectionId",
    "recordId",
    "source",
];

fn ms(instant: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(instant)
        .unwrap()
        .timestamp_millis()
}

fn keys(object: &Value) -> BTreeSet<&str> {
    object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// A user signed in on their phone: `(user id, access token)`.
async fn signed_in(host: &TestHost, external_id: &str) -> (String, String) {
    host.signed_in_phone(ROOT_KEY, external_id).await
}

/// `count` heart-rate readings `step` minutes apart from `first` (UTC), recorded in `zone`:
/// 60, 61, … bpm.
fn heart_rate(prefix: &str, first: &str, count: i64, step: i64, zone: &str) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let at_ms = ms(first) + i * step * 60_000;
            let at = chrono::DateTime::from_timestamp_millis(at_ms).unwrap();
            json!({
                "uuid": format!("{prefix}{i}"),
                "type": "HKQuantityTypeIdentifierHeartRate",
                "start": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "value": 60 + i % 40,
                "unit": "count/min",
                "timeZone": zone
            })
        })
        .collect()
}

/// Berlin's night of the spring change (01:00 UTC on 29 March 2026: +01:00 before, +02:00
/// after) and an evening in Kathmandu (+05:45, where 18:20 UTC is already the 30th), with every
/// kind of record: samples of a series, measurements with and without a second value and a
/// source, and a day's total (with the interval it was summed from).
fn readings() -> Value {
    let mut samples = heart_rate("B", "2026-03-29T00:30:00Z", 13, 5, "Europe/Berlin");
    samples.extend(heart_rate(
        "K",
        "2026-03-29T18:00:00Z",
        4,
        10,
        "Asia/Kathmandu",
    ));
    samples.extend([
        json!({"uuid": "BP1", "type": "HKQuantityTypeIdentifierBloodPressure",
               "start": "2026-03-29T08:00:00Z", "value": 120, "secondaryValue": 80,
               "unit": "mmHg", "timeZone": "Europe/Berlin", "sourceName": "Omron M7"}),
        json!({"uuid": "W1", "type": "HKQuantityTypeIdentifierBodyMass",
               "start": "2026-03-29T06:30:00Z", "value": 72.5, "unit": "kg",
               "timeZone": "Europe/Berlin"}),
        json!({"uuid": "S1", "type": "HKQuantityTypeIdentifierStepCount",
               "start": "2026-03-29T09:00:00Z", "end": "2026-03-29T09:30:00Z", "value": 2400,
               "unit": "count", "timeZone": "Europe/Berlin"}),
    ]);
    json!({"source": "apple_health", "samples": samples})
}

/// A host with `readings()` pushed by a signed-in user: `(host, user id, access token)`.
async fn host_with_readings() -> (TestHost, String, String) {
    let host = TestHost::start().await;
    let (user, access) = signed_in(&host, "columns-reader").await;
    let pushed = host.post("/v1/me/samples", &access, readings()).await;
    assert_eq!(pushed.status, StatusCode::OK, "{}", pushed.body);
    assert_eq!(pushed.body["rejected"], json!([]));
    assert_eq!(pushed.body["accepted"], 20);
    (host, user, access)
}

/// `columns` holds what `rows` holds, bucket for bucket, and nothing else.
fn assert_timeseries_columns(rows: &Value, columns: &Value) {
    let fields = [
        "metricType",
        "unit",
        "format",
        "start",
        "utcOffsetSeconds",
        "value",
        "count",
    ];
    assert_eq!(keys(columns), BTreeSet::from(fields), "{columns}");
    assert_eq!(columns["format"], "columns");
    assert_eq!(columns["metricType"], rows["metricType"]);
    assert_eq!(columns["unit"], rows["unit"]);
    let buckets = rows["data"].as_array().unwrap();
    for field in ["start", "utcOffsetSeconds", "value", "count"] {
        let column = columns[field].as_array().unwrap();
        assert_eq!(column.len(), buckets.len(), "{field}");
    }
    for (i, bucket) in buckets.iter().enumerate() {
        let start = bucket["start"].as_str().unwrap();
        let start = chrono::DateTime::parse_from_rfc3339(start).unwrap();
        assert_eq!(columns["start"][i], start.timestamp_millis(), "{bucket}");
        let offset = start.offset().local_minus_utc();
        assert_eq!(columns["utcOffsetSeconds"][i], offset, "{bucket}");
        assert_eq!(columns["value"][i], bucket["value"], "{bucket}");
        assert_eq!(columns["count"][i], bucket["count"], "{bucket}");
    }
}

/// `columns` holds what the page `rows` holds, record for record (instants as epoch ms, `null`
/// for what a record lacks), with the same cursor, and nothing else.
fn assert_record_columns(rows: &Value, columns: &Value) {
    let mut fields = BTreeSet::from(RECORD_FIELDS);
    fields.extend(["format", "nextCursor"]);
    assert_eq!(keys(columns), fields, "{columns}");
    assert_eq!(columns["format"], "columns");
    assert_eq!(columns["nextCursor"], rows["nextCursor"]);
    let records = rows["data"].as_array().unwrap();
    for field in RECORD_FIELDS {
        let column = columns[field].as_array().unwrap();
        assert_eq!(column.len(), records.len(), "{field}");
    }
    for (i, record) in records.iter().enumerate() {
        assert!(
            keys(record).is_subset(&BTreeSet::from(RECORD_FIELDS)),
            "{record}"
        );
        for field in RECORD_FIELDS {
            let found = record.get(field).cloned().unwrap_or_default();
            let expected = match field {
                "at" | "endAt" => found
                    .as_str()
                    .map_or(Value::Null, |instant| json!(ms(instant))),
                _ => found,
            };
            assert_eq!(columns[field][i], expected, "{field} of {record}");
        }
    }
}

/// The records of pages in the columns form, each read back as an object.
fn records_of(pages: &[Value]) -> Vec<Value> {
    let mut records = Vec::new();
    for page in pages {
        for i in 0..page["kind"].as_array().unwrap().len() {
            let record: Map<String, Value> = RECORD_FIELDS
                .iter()
                .map(|field| ((*field).to_owned(), page[*field][i].clone()))
                .collect();
            records.push(Value::Object(record));
        }
    }
    records
}

#[tokio::test]
async fn a_timeseries_in_columns_is_the_rows_form_value_for_value() {
    let (host, user, access) = host_with_readings().await;
    let window = "metricType=heart_rate&from=2026-03-29T00:00:00Z&to=2026-03-30T00:00:00Z";
    for shape in [
        "bucket=minute",
        "bucket=hour",
        "bucket=hour&tz=Europe/Berlin",
        "bucket=day&agg=max",
    ] {
        let path = format!("/v1/users/{user}/health/timeseries?{window}&{shape}");
        let rows = host.get(&path, ROOT_KEY).await;
        assert_eq!(rows.status, StatusCode::OK, "{}", rows.body);
        assert!(!rows.body["data"].as_array().unwrap().is_empty(), "{shape}");
        let columns = host.get(&format!("{path}&format=columns"), ROOT_KEY).await;
        assert_eq!(columns.status, StatusCode::OK, "{}", columns.body);
        assert_timeseries_columns(&rows.body, &columns.body);
        // `rows` is the default, and may be named.
        let named = host.get(&format!("{path}&format=rows"), ROOT_KEY).await;
        assert_eq!(named.body, rows.body, "{shape}");
        // The user's own route answers the same.
        let mine = host
            .get(
                &format!("/v1/me/health/timeseries?{window}&{shape}&format=columns"),
                &access,
            )
            .await;
        assert_eq!(mine.body, columns.body, "{shape}");
    }

    // A minute chart: a bucket per reading, each at the offset it was recorded at.
    let minutes = host
        .get(
            &format!("/v1/users/{user}/health/timeseries?{window}&bucket=minute&format=columns"),
            ROOT_KEY,
        )
        .await
        .body;
    assert_eq!(minutes["metricType"], "heart_rate");
    assert_eq!(minutes["unit"], "bpm");
    let berlin = (0..13).map(|i| ms("2026-03-29T00:30:00Z") + i * 300_000);
    let kathmandu = (0..4).map(|i| ms("2026-03-29T18:00:00Z") + i * 600_000);
    let starts: Vec<i64> = berlin.chain(kathmandu).collect();
    assert_eq!(minutes["start"], json!(starts));
    let offsets: Vec<i32> = std::iter::repeat_n(3600, 6)
        .chain(std::iter::repeat_n(7200, 7))
        .chain(std::iter::repeat_n(20_700, 4))
        .collect();
    assert_eq!(minutes["utcOffsetSeconds"], json!(offsets));
    let values: Vec<f64> = (60..73).chain(60..64).map(f64::from).collect();
    assert_eq!(minutes["value"], json!(values));
    let ones = [1; 17];
    assert_eq!(minutes["count"], json!(ones));
}

#[tokio::test]
async fn a_page_of_records_in_columns_is_the_page_in_rows_and_the_cursor_still_pages() {
    let (host, user, access) = host_with_readings().await;
    let window = "from=2026-03-28T00:00:00Z&to=2026-03-31T00:00:00Z";
    let everything = host
        .get(
            &format!("/v1/users/{user}/health?{window}&limit=1000"),
            ROOT_KEY,
        )
        .await;
    assert_eq!(everything.status, StatusCode::OK, "{}", everything.body);
    let all = everything.body["data"].as_array().unwrap().clone();
    assert!(all.len() >= 20, "{}", everything.body);

    let mut cursor: Option<String> = None;
    let mut rows_seen = Vec::new();
    let mut pages = Vec::new();
    loop {
        let after = cursor
            .as_deref()
            .map(|cursor| format!("&cursor={cursor}"))
            .unwrap_or_default();
        let path = format!("/v1/users/{user}/health?{window}&limit=7{after}");
        let rows = host.get(&path, ROOT_KEY).await;
        assert_eq!(rows.status, StatusCode::OK, "{}", rows.body);
        let columns = host.get(&format!("{path}&format=columns"), ROOT_KEY).await;
        assert_eq!(columns.status, StatusCode::OK, "{}", columns.body);
        assert_record_columns(&rows.body, &columns.body);
        let mine = host
            .get(
                &format!("/v1/me/health?{window}&limit=7{after}&format=columns"),
                &access,
            )
            .await;
        assert_eq!(mine.body, columns.body);
        let page = rows.body["data"].as_array().unwrap();
        rows_seen.extend(page.iter().cloned());
        cursor = columns.body["nextCursor"].as_str().map(str::to_owned);
        pages.push(columns.body);
        if cursor.is_none() {
            break;
        }
        assert!(pages.len() < 10, "the cursor never ends");
    }
    // The pages in either form are the whole range, once, in order.
    assert_eq!(pages.len(), all.len().div_ceil(7));
    assert_eq!(rows_seen, all);

    let records = records_of(&pages);
    let by_id = |id: &str| {
        records
            .iter()
            .find(|record| record["recordId"] == id)
            .unwrap_or_else(|| panic!("{id} in {records:?}"))
    };
    let pressure = by_id("BP1");
    assert_eq!(pressure["kind"], "measurement");
    assert_eq!(pressure["metricType"], "blood_pressure");
    assert_eq!(pressure["unit"], "mmHg");
    assert_eq!(pressure["value"], 120.0);
    assert_eq!(pressure["secondaryValue"], 80.0);
    assert_eq!(pressure["source"], "Omron M7");
    assert_eq!(pressure["at"], ms("2026-03-29T08:00:00Z"));
    assert_eq!(pressure["endAt"], Value::Null);
    assert_eq!(pressure["utcOffsetSeconds"], 7200);
    assert_eq!(pressure["localDate"], "2026-03-29");
    assert_eq!(pressure["providerId"], "apple_health");
    assert!(pressure["connectionId"].is_string());

    let weight = by_id("W1");
    assert_eq!(weight["kind"], "measurement");
    assert_eq!(weight["value"], 72.5);
    assert_eq!(weight["unit"], "kg");
    assert_eq!(weight["secondaryValue"], Value::Null);
    assert_eq!(weight["source"], Value::Null);

    let steps = records
        .iter()
        .find(|record| record["kind"] == "daily" && record["metricType"] == "steps")
        .unwrap_or_else(|| panic!("a day's steps in {records:?}"));
    assert_eq!(steps["value"], 2400.0);
    assert_eq!(steps["localDate"], "2026-03-29");
    assert!(steps["endAt"].as_i64().unwrap() > steps["at"].as_i64().unwrap());

    for (instant, value, offset, date) in [
        ("2026-03-29T00:55:00Z", 65.0, 3600, "2026-03-29"),
        ("2026-03-29T01:00:00Z", 66.0, 7200, "2026-03-29"),
        ("2026-03-29T18:10:00Z", 61.0, 20_700, "2026-03-29"),
        ("2026-03-29T18:20:00Z", 62.0, 20_700, "2026-03-30"),
    ] {
        let sample = records
            .iter()
            .find(|record| record["kind"] == "sample" && record["at"] == ms(instant))
            .unwrap_or_else(|| panic!("{instant} in {records:?}"));
        assert_eq!(sample["metricType"], "heart_rate", "{instant}");
        assert_eq!(sample["value"], value, "{instant}");
        assert_eq!(sample["utcOffsetSeconds"], offset, "{instant}");
        assert_eq!(sample["localDate"], date, "{instant}");
        assert_eq!(sample["secondaryValue"], Value::Null, "{instant}");
        assert_eq!(sample["endAt"], Value::Null, "{instant}");
        assert_eq!(sample["recordId"], Value::Null, "{instant}");
    }
}

#[tokio::test]
async fn a_format_other_than_rows_or_columns_is_a_400_naming_format() {
    let host = TestHost::start().await;
    let (user, access) = signed_in(&host, "bogus-format").await;
    let me = access.as_str();
    let series = "metricType=heart_rate&from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z";
    let routes = [
        (
            format!("/v1/users/{user}/health/timeseries?{series}"),
            ROOT_KEY,
        ),
        (format!("/v1/users/{user}/health?limit=5"), ROOT_KEY),
        (format!("/v1/me/health/timeseries?{series}"), me),
        ("/v1/me/health?limit=5".to_owned(), me),
    ];
    for (path, key) in &routes {
        for format in ["bogus", "", "Columns", "rows,columns"] {
            let reply = host.get(&format!("{path}&format={format}"), key).await;
            assert_eq!(
                reply.invalid_field(),
                "format",
                "{path} with format={format}: {}",
                reply.body
            );
        }
        let columns = host.get(&format!("{path}&format=columns"), key).await;
        assert_eq!(columns.status, StatusCode::OK, "{path}: {}", columns.body);
    }
}

/// GETs `path` with the root key, asking for `encoding` if given: the status, the headers and
/// the body as it came over the wire.
async fn fetch(
    host: &TestHost,
    path: &str,
    encoding: Option<&str>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = host.raw().get(host.url(path)).bearer_auth(ROOT_KEY);
    if let Some(encoding) = encoding {
        request = request.header("accept-encoding", encoding);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// CRC-32 (IEEE), as a gzip trailer carries it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `compressed` is a gzip stream of exactly `plain`: its magic and method, and its trailer's
/// CRC-32 and length of the data it inflates to (no gzip decoder is linked into the tests).
fn assert_gzip_of(compressed: &[u8], plain: &[u8]) {
    assert!(compressed.len() > 18, "{} bytes", compressed.len());
    assert_eq!(compressed[..3], [0x1f_u8, 0x8b, 0x08], "gzip, deflated");
    let trailer = &compressed[compressed.len() - 8..];
    let crc = u32::from_le_bytes(trailer[..4].try_into().unwrap());
    let length = u32::from_le_bytes(trailer[4..].try_into().unwrap());
    assert_eq!(crc, crc32(plain), "the CRC-32 of the inflated body");
    assert_eq!(length as usize, plain.len(), "the inflated length");
}

#[tokio::test]
async fn a_large_timeseries_is_compressed_when_the_client_asks_and_only_then() {
    let host = TestHost::start().await;
    let (user, access) = signed_in(&host, "compressed-chart").await;
    // A day of minute readings in India (+05:30).
    let samples = heart_rate("M", "2026-03-02T00:00:00Z", 1440, 1, "Asia/Kolkata");
    let pushed = host
        .post(
            "/v1/me/samples",
            &access,
            json!({"source": "apple_health", "samples": samples}),
        )
        .await;
    assert_eq!(pushed.body["accepted"], 1440, "{}", pushed.body);
    let chart = format!(
        "/v1/users/{user}/health/timeseries?metricType=heart_rate&bucket=minute\
         &from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z"
    );

    // Not asked: as it is.
    let (status, headers, plain) = fetch(&host, &chart, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("content-encoding").is_none(), "{headers:?}");
    let body: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 1440);
    assert_eq!(body["data"][0]["start"], "2026-03-02T05:30:00+05:30");
    let (_, headers, identity) = fetch(&host, &chart, Some("identity")).await;
    assert!(headers.get("content-encoding").is_none(), "{headers:?}");
    assert_eq!(identity, plain);

    let (status, headers, gzipped) = fetch(&host, &chart, Some("gzip")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["content-type"], "application/json");
    let vary: Vec<&str> = headers
        .get_all("vary")
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert!(vary.contains(&"accept-encoding"), "{headers:?}");
    assert_gzip_of(&gzipped, &plain);
    assert!(
        gzipped.len() * 4 < plain.len(),
        "{} of {} bytes",
        gzipped.len(),
        plain.len()
    );

    let (status, headers, brotli) = fetch(&host, &chart, Some("br")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "br");
    assert!(
        brotli.len() * 4 < plain.len(),
        "{} of {} bytes",
        brotli.len(),
        plain.len()
    );
    // The client's preference decides between the two.
    let (_, headers, _) = fetch(&host, &chart, Some("br;q=0.5, gzip")).await;
    assert_eq!(headers["content-encoding"], "gzip");

    // The columns form is compact before any compression, and compresses as well.
    let columns_chart = format!("{chart}&format=columns");
    let (_, headers, columns) = fetch(&host, &columns_chart, None).await;
    assert!(headers.get("content-encoding").is_none(), "{headers:?}");
    assert!(
        columns.len() * 2 < plain.len(),
        "{} of {} bytes",
        columns.len(),
        plain.len()
    );
    let (_, headers, gzipped_columns) = fetch(&host, &columns_chart, Some("gzip")).await;
    assert_eq!(headers["content-encoding"], "gzip");
    assert_gzip_of(&gzipped_columns, &columns);
}

/// A timeseries request as API Gateway (payload 2.0) hands it to the query function, through
/// lambda_http's adapter: the Lambda response as JSON.
async fn lambda_timeseries(
    router: &axum::Router,
    user: &str,
    query: &str,
    encoding: Option<&str>,
) -> Value {
    let path = format!("/v1/users/{user}/health/timeseries");
    let host = "abc123.execute-api.eu-west-1.amazonaws.com";
    let mut headers = json!({
        "accept": "application/json",
        "host": host,
        "x-forwarded-proto": "https",
        "authorization": format!("Bearer {ROOT_KEY}")
    });
    if let Some(encoding) = encoding {
        headers["accept-encoding"] = json!(encoding);
    }
    let event = json!({
        "version": "2.0",
        "routeKey": "GET /v1/users/{userId}/health/timeseries",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": host,
            "domainPrefix": "abc123",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "vitasync-tests"
            },
            "requestId": "compact-series",
            "routeKey": "GET /v1/users/{userId}/health/timeseries",
            "stage": "$default",
            "time": "02/Mar/2026:10:00:00 +0000",
            "timeEpoch": 1_772_445_600_000_i64
        },
        "isBase64Encoded": false,
        "pathParameters": {"userId": user}
    });
    let request: LambdaRequest = serde_json::from_value(event).unwrap();
    let response = Adapter::from(router.clone())
        .oneshot(LambdaEvent::new(request, Context::default()))
        .await
        .unwrap();
    serde_json::to_value(&response).unwrap()
}

#[tokio::test]
async fn on_lambda_a_compressed_timeseries_goes_out_base64_encoded() {
    let h = harness_on(Host::Embedded, ProviderId::Withings).await;
    let (_, me) = h.signed_in().await;
    let report = h
        .services
        .phone_ingest
        .push_samples(
            &me,
            SamplePush::from_values(
                "apple_health",
                &heart_rate("L", "2026-03-02T00:00:00Z", 120, 1, "Asia/Kolkata"),
                &[],
            ),
        )
        .await
        .unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let router = router_for(Function::Query, (&h.services).into());
    let query = "metricType=heart_rate&bucket=minute\
                 &from=2026-03-02T00:00:00Z&to=2026-03-02T02:00:00Z";

    let plain = lambda_timeseries(&router, &h.user, query, None).await;
    assert_eq!(plain["statusCode"], 200, "{plain}");
    assert_eq!(plain["isBase64Encoded"], false);
    assert!(
        plain["headers"].get("content-encoding").is_none(),
        "{plain}"
    );
    let text = plain["body"].as_str().unwrap();
    let body: Value = serde_json::from_str(text).unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 120);

    let gzipped = lambda_timeseries(&router, &h.user, query, Some("gzip")).await;
    assert_eq!(gzipped["statusCode"], 200, "{gzipped}");
    assert_eq!(gzipped["isBase64Encoded"], true, "{gzipped}");
    assert_eq!(gzipped["headers"]["content-encoding"], "gzip");
    assert_eq!(gzipped["headers"]["content-type"], "application/json");
    let encoded = gzipped["body"].as_str().unwrap();
    let compressed = STANDARD.decode(encoded).unwrap();
    assert_gzip_of(&compressed, text.as_bytes());
}
