//! The demo provider's data: deterministic and plausible, for every metric VitaSync knows, so a
//! new deployment shows real numbers. The same account and day always give the same values;
//! today's totals grow with the time of day, like a real tracker's.

use crate::health::{
    DailySummary, HealthBatch, Measurement, Metric, Origin, SampleSeries, Session, SessionKind,
    SleepStage, StageSpan, StageTotals,
};
use crate::provider::ProviderId;
use crate::provider_client::FetchRequest;
use crate::time::Timestamp;
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};

const DAY_MS: i64 = 86_400_000;
const SOURCE: &str = "VitaSync Demo Band";

/// splitmix64: small, fast and the same everywhere.
struct Dice(u64);

impl Dice {
    fn new(account: &str, date: NaiveDate, salt: u64) -> Self {
        let mut seed = 0xcbf2_9ce4_8422_2325u64 ^ salt;
        for byte in account.bytes().chain(date.to_string().into_bytes()) {
            seed = (seed ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[low, high)`.
    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (high - low)
    }
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

fn origin(record_id: String) -> Origin {
    Origin {
        provider: ProviderId::Demo,
        record_id,
        source: Some(SOURCE.into()),
    }
}

/// The demo account's data for the request's window (whole UTC days it touches, up to `to`).
pub fn generate(account: &str, request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    let (Some(from), Some(to)) = (
        DateTime::<Utc>::from_timestamp_millis(request.from.millis()),
        DateTime::<Utc>::from_timestamp_millis(request.to.millis()),
    ) else {
        return batch;
    };
    let mut day = from.date_naive();
    while day <= to.date_naive() {
        batch.extend(one_day(account, day, request.to, request));
        day += Days::days(1);
    }
    batch
}

fn one_day(account: &str, day: NaiveDate, now: Timestamp, request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    let start = day
        .and_hms_opt(0, 0, 0)
        .map_or(0, |midnight| midnight.and_utc().timestamp_millis());
    let elapsed = ((now.millis() - start) as f64 / DAY_MS as f64).clamp(0.0, 1.0);
    if elapsed <= 0.0 {
        return batch;
    }
    let date = day.to_string();
    let mut dice = Dice::new(account, day, 1);
    let wants = |metric| request.wants(metric);

    // Daily totals, growing through the day.
    let steps = (dice.between(6_000.0, 14_000.0) * elapsed).round();
    let totals = [
        (Metric::Steps, steps),
        (Metric::Distance, round(steps * 0.76, 1)),
        (Metric::ActiveCalories, round(steps * 0.045, 1)),
        (
            Metric::TotalCalories,
            round(1_650.0 * elapsed + steps * 0.045, 1),
        ),
        (Metric::Floors, (dice.between(3.0, 18.0) * elapsed).round()),
        (
            Metric::ActiveMinutes,
            (dice.between(20.0, 90.0) * elapsed).round(),
        ),
    ];
    for (metric, value) in totals {
        if wants(metric) {
            batch.summaries.push(DailySummary {
                metric,
                date: date.clone(),
                value,
                utc_offset_seconds: 0,
                origin: origin(format!("{date}-{metric}")),
            });
        }
    }
    // Night-time physiology, known once the night is over (06:30).
    let night_over = elapsed >= 0.27;
    let nightly = [
        (Metric::RestingHeartRate, round(dice.between(52.0, 62.0), 0)),
        (
            Metric::HeartRateVariability,
            round(dice.between(35.0, 75.0), 1),
        ),
        (Metric::BloodOxygen, round(dice.between(95.0, 99.0), 1)),
        (Metric::RespiratoryRate, round(dice.between(12.5, 16.5), 1)),
        (Metric::Temperature, round(dice.between(36.3, 36.9), 2)),
        (Metric::SkinTemperature, round(dice.between(33.0, 34.5), 2)),
        (
            Metric::TemperatureDeviation,
            round(dice.between(-0.4, 0.4), 2),
        ),
    ];
    for (metric, value) in nightly {
        if night_over && wants(metric) {
            batch.summaries.push(DailySummary {
                metric,
                date: date.clone(),
                value,
                utc_offset_seconds: 0,
                origin: origin(format!("{date}-{metric}")),
            });
        }
    }
    // A morning weigh-in, blood pressure and glucose at 07:00.
    let morning = start + 7 * 3_600_000;
    if now.millis() >= morning {
        let weight = round(dice.between(68.0, 71.0), 2);
        let readings = [
            (Metric::Weight, weight, None),
            (Metric::BodyFat, round(dice.between(17.0, 21.0), 1), None),
            (Metric::Bmi, round(weight / (1.75 * 1.75), 1), None),
            (
                Metric::BloodPressure,
                round(dice.between(112.0, 126.0), 0),
                Some(round(dice.between(70.0, 82.0), 0)),
            ),
            (Metric::BloodGlucose, round(dice.between(4.4, 5.6), 1), None),
        ];
        for (metric, value, secondary) in readings {
            if wants(metric) {
                batch.measurements.push(Measurement {
                    metric,
                    at_ms: morning,
                    utc_offset_seconds: 0,
                    date: date.clone(),
                    value,
                    secondary,
                    origin: origin(format!("{date}-{metric}")),
                });
            }
        }
    }
    if night_over {
        batch.sessions.push(sleep(account, day, start));
    }
    // An evening run, 18:00 to 18:30, with 1 Hz heart rate.
    let run_start = start + 18 * 3_600_000;
    let run_end = run_start + 30 * 60_000;
    if now.millis() >= run_end {
        batch.sessions.push(Session {
            kind: SessionKind::Workout,
            start_ms: run_start,
            end_ms: run_end,
            utc_offset_seconds: 0,
            date: date.clone(),
            sport: Some("running".into()),
            provider_sport: None,
            duration_seconds: Some(1_800.0),
            distance_m: Some(round(dice.between(4_800.0, 6_200.0), 0)),
            energy_kcal: Some(round(dice.between(300.0, 420.0), 0)),
            heart_rate_avg: Some(round(dice.between(138.0, 152.0), 0)),
            heart_rate_max: Some(round(dice.between(165.0, 178.0), 0)),
            heart_rate_min: Some(round(dice.between(95.0, 110.0), 0)),
            stage_seconds: None,
            stages: Vec::new(),
            score: None,
            origin: origin(format!("{date}-run")),
        });
    }
    if wants(Metric::HeartRate) {
        batch.samples.push(heart_rate(
            account,
            day,
            start,
            now.millis(),
            (run_start, run_end),
        ));
    }
    batch
}

/// The night ending on `day`: 23:00 the evening before to 06:30, in 30-minute stages.
fn sleep(account: &str, day: NaiveDate, midnight: i64) -> Session {
    let mut dice = Dice::new(account, day, 2);
    let start = midnight - 3_600_000;
    let end = midnight + 6 * 3_600_000 + 30 * 60_000;
    let mut stages = Vec::new();
    let mut totals = StageTotals {
        awake: 0.0,
        light: 0.0,
        deep: 0.0,
        rem: 0.0,
    };
    let mut at = start;
    while at < end {
        let stage = match dice.next() % 10 {
            0 => SleepStage::Awake,
            1..=4 => SleepStage::Light,
            5..=7 => SleepStage::Deep,
            _ => SleepStage::Rem,
        };
        let span_end = (at + 30 * 60_000).min(end);
        let seconds = (span_end - at) as f64 / 1000.0;
        match stage {
            SleepStage::Awake => totals.awake += seconds,
            SleepStage::Light => totals.light += seconds,
            SleepStage::Deep => totals.deep += seconds,
            SleepStage::Rem => totals.rem += seconds,
        }
        stages.push(StageSpan {
            stage,
            start_ms: at,
            end_ms: span_end,
        });
        at = span_end;
    }
    Session {
        kind: SessionKind::Sleep,
        start_ms: start,
        end_ms: end,
        utc_offset_seconds: 0,
        date: day.to_string(),
        sport: None,
        provider_sport: None,
        duration_seconds: Some((end - start) as f64 / 1000.0),
        distance_m: None,
        energy_kcal: None,
        heart_rate_avg: Some(round(dice.between(52.0, 60.0), 0)),
        heart_rate_max: Some(round(dice.between(66.0, 76.0), 0)),
        heart_rate_min: Some(round(dice.between(44.0, 50.0), 0)),
        stage_seconds: Some(totals),
        stages,
        score: Some(round(dice.between(65.0, 92.0), 0)),
        origin: origin(format!("{day}-sleep")),
    }
}

/// A reading a minute all day, every second during the run.
fn heart_rate(
    account: &str,
    day: NaiveDate,
    start: i64,
    until: i64,
    run: (i64, i64),
) -> SampleSeries {
    let mut dice = Dice::new(account, day, 3);
    let mut points = Vec::new();
    let end = (start + DAY_MS).min(until);
    let mut at = start;
    while at < end {
        let in_run = at >= run.0 && at < run.1;
        let base = if in_run {
            140.0 + 20.0 * ((at - run.0) as f64 / (run.1 - run.0) as f64)
        } else if at < start + 6 * 3_600_000 {
            54.0
        } else {
            72.0
        };
        points.push((at, round(base + dice.between(-4.0, 4.0), 0)));
        at += if in_run { 1_000 } else { 60_000 };
    }
    SampleSeries {
        metric: Metric::HeartRate,
        points,
        utc_offset_seconds: 0,
        provider: ProviderId::Demo,
        source: Some(SOURCE.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(from: &str, to: &str) -> FetchRequest {
        FetchRequest {
            from: Timestamp::parse(from).unwrap(),
            to: Timestamp::parse(to).unwrap(),
            data_types: Vec::new(),
            granted_scopes: Vec::new(),
            budget: Default::default(),
            provider_user_id: "demo-wearer".into(),
        }
    }

    #[test]
    fn every_metric_appears_and_the_same_day_gives_the_same_data() {
        let window = request("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z");
        let batch = generate("demo-wearer", &window);
        let mut seen: Vec<Metric> = batch
            .summaries
            .iter()
            .map(|s| s.metric)
            .chain(batch.measurements.iter().map(|m| m.metric))
            .chain(batch.samples.iter().map(|s| s.metric))
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, Metric::ALL.to_vec());
        assert!(batch.sessions.iter().any(|s| s.kind == SessionKind::Sleep));
        assert!(
            batch
                .sessions
                .iter()
                .any(|s| s.kind == SessionKind::Workout)
        );
        let run_points = batch.samples[0]
            .points
            .windows(2)
            .filter(|pair| pair[1].0 - pair[0].0 == 1_000)
            .count();
        assert!(run_points >= 1_799, "1 Hz during the run");
        assert_eq!(generate("demo-wearer", &window), batch);
        assert_ne!(generate("demo-other", &window), batch);
    }

    #[test]
    fn todays_totals_grow_with_the_time_of_day() {
        let steps = |to: &str| {
            generate("demo-wearer", &request("2026-11-02T00:00:00Z", to))
                .summaries
                .iter()
                .find(|s| s.metric == Metric::Steps && s.date == "2026-11-02")
                .map(|s| s.value)
                .unwrap()
        };
        assert!(steps("2026-11-02T09:00:00Z") < steps("2026-11-02T21:00:00Z"));
    }
}
