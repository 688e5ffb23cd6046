//! The demo provider's data: deterministic and plausible, for every metric VitaSync knows, so a
//! new deployment shows real numbers. The same account and day always give the same values;
//! today's totals grow with the time of day, like a real tracker's.

use crate::health::{
    DailySummary, HealthBatch, Measurement, Metric, Origin, SampleSeries, Session, SessionKind,
    SleepStage, StageSpan, StageTotals,
};
use crate::kernel::time::Timestamp;
use crate::providers::ProviderId;
use crate::providers::client::FetchRequest;
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
            (Metric::Glucose, round(dice.between(4.4, 5.6), 1), None),
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
    // Fitness and recovery after the night; carbohydrates and the insulin for them at lunch
    // (the demo wearer's glucose comes from a meter). Their own dice: the values above stay.
    let mut more = Dice::new(account, day, 5);
    let recovery = [
        (Metric::Vo2Max, round(more.between(42.0, 46.0), 1)),
        (Metric::RecoveryScore, round(more.between(45.0, 92.0), 0)),
    ];
    for (metric, value) in recovery {
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
    let lunch = start + 12 * 3_600_000 + 30 * 60_000;
    let carbohydrates = round(more.between(45.0, 80.0), 0);
    let meal = [
        (Metric::Carbohydrates, carbohydrates),
        (Metric::Insulin, round(carbohydrates / 10.0, 1)),
    ];
    for (metric, value) in meal {
        if now.millis() >= lunch && wants(metric) {
            batch.measurements.push(Measurement {
                metric,
                at_ms: lunch,
                utc_offset_seconds: 0,
                date: date.clone(),
                value,
                secondary: None,
                origin: origin(format!("{date}-{metric}")),
            });
        }
    }
    let night = night(account, day, start);
    if now.millis() >= night.end_ms {
        batch.sessions.push(night.session.clone());
    }
    let workout = workout(account, day, start, night.end_ms);
    if let Some(workout) = workout.as_ref().filter(|w| now.millis() >= w.end_ms) {
        batch.sessions.push(workout.clone());
    }
    if wants(Metric::HeartRate) {
        batch.samples.push(heart_rate(
            account,
            day,
            (start, now.millis()),
            &night,
            workout.as_ref(),
        ));
    }
    batch
}

/// A night as the demo band saw it: the session, and when the user fell asleep and woke.
struct Night {
    session: Session,
    asleep_ms: i64,
    end_ms: i64,
}

/// The night ending on `day`: to bed between 22:15 and 23:45, up after 6½ to 8½ hours, in
/// sleep cycles of about 90 minutes (light, deep, light, REM), deep sleep early and REM late,
/// a few short wakings between cycles; the score follows the stages.
fn night(account: &str, day: NaiveDate, midnight: i64) -> Night {
    let mut dice = Dice::new(account, day, 2);
    let minute = 60_000;
    let bedtime = midnight - (105 - dice.between(0.0, 90.0) as i64) * minute;
    let end = bedtime + dice.between(390.0, 510.0) as i64 * minute;
    // Falling asleep takes 5 to 20 minutes.
    let asleep = bedtime + dice.between(5.0, 20.0) as i64 * minute;
    let mut stages = vec![StageSpan {
        stage: SleepStage::Awake,
        start_ms: bedtime,
        end_ms: asleep,
    }];
    let mut at = asleep;
    let mut cycle = 0u32;
    while at < end {
        let length = dice.between(85.0, 105.0);
        // Deep sleep fills the first cycles and fades; REM grows through the night.
        let deep = (35.0 - 9.0 * f64::from(cycle)).max(0.0) * dice.between(0.7, 1.1);
        let rem = (8.0 + 7.0 * f64::from(cycle)).min(38.0) * dice.between(0.8, 1.2);
        let light = (length - deep - rem).max(10.0);
        for (stage, minutes) in [
            (SleepStage::Light, light * 0.6),
            (SleepStage::Deep, deep),
            (SleepStage::Light, light * 0.4),
            (SleepStage::Rem, rem),
        ] {
            let span_end = (at + (minutes * 60_000.0) as i64).min(end);
            if span_end > at {
                stages.push(StageSpan {
                    stage,
                    start_ms: at,
                    end_ms: span_end,
                });
                at = span_end;
            }
        }
        // A brief waking after some cycles.
        if at < end && dice.next().is_multiple_of(3) {
            let span_end = (at + dice.between(1.0, 6.0) as i64 * minute).min(end);
            stages.push(StageSpan {
                stage: SleepStage::Awake,
                start_ms: at,
                end_ms: span_end,
            });
            at = span_end;
        }
        cycle += 1;
    }
    let mut totals = StageTotals {
        awake: 0.0,
        light: 0.0,
        deep: 0.0,
        rem: 0.0,
    };
    for span in &stages {
        let seconds = (span.end_ms - span.start_ms) as f64 / 1000.0;
        match span.stage {
            SleepStage::Awake => totals.awake += seconds,
            SleepStage::Light => totals.light += seconds,
            SleepStage::Deep => totals.deep += seconds,
            SleepStage::Rem => totals.rem += seconds,
        }
    }
    let asleep_seconds = totals.light + totals.deep + totals.rem;
    let in_bed = (end - bedtime) as f64 / 1000.0;
    // Long enough, deep and REM enough, little time awake: a good night.
    let score = 40.0
        + 5.0 * (asleep_seconds / 3600.0).min(8.0)
        + 20.0 * (totals.deep + totals.rem) / in_bed
        - 60.0 * totals.awake / in_bed;
    let session = Session {
        kind: SessionKind::Sleep,
        start_ms: bedtime,
        end_ms: end,
        utc_offset_seconds: 0,
        date: day.to_string(),
        sport: None,
        provider_sport: None,
        duration_seconds: Some(asleep_seconds),
        distance_m: None,
        energy_kcal: None,
        heart_rate_avg: Some(round(dice.between(52.0, 58.0), 0)),
        heart_rate_max: Some(round(dice.between(64.0, 72.0), 0)),
        heart_rate_min: Some(round(dice.between(44.0, 49.0), 0)),
        stage_seconds: Some(totals),
        stages,
        score: Some(round(score.clamp(0.0, 100.0), 0)),
        ..Session::new(SessionKind::Sleep, origin(format!("{day}-sleep")))
    };
    Night {
        session,
        asleep_ms: asleep,
        end_ms: end,
    }
}

/// A sport a demo day may bring.
struct DemoSport {
    name: &'static str,
    /// Shortest and longest session.
    minutes: (f64, f64),
    /// Metres a minute; none for sports without a distance.
    pace: Option<f64>,
    kcal_a_minute: f64,
    /// The heart rate it takes, low to high.
    effort: (f64, f64),
}

const fn sport(
    name: &'static str,
    minutes: (f64, f64),
    pace: Option<f64>,
    kcal_a_minute: f64,
    effort: (f64, f64),
) -> DemoSport {
    DemoSport {
        name,
        minutes,
        pace,
        kcal_a_minute,
        effort,
    }
}

const DEMO_SPORTS: [DemoSport; 6] = [
    sport("running", (25.0, 60.0), Some(175.0), 11.0, (135.0, 160.0)),
    sport("cycling", (40.0, 100.0), Some(420.0), 9.0, (125.0, 150.0)),
    sport("walking", (30.0, 75.0), Some(90.0), 4.5, (95.0, 115.0)),
    sport("strength_training", (35.0, 60.0), None, 6.5, (110.0, 140.0)),
    sport("yoga", (30.0, 60.0), None, 3.5, (90.0, 110.0)),
    sport("swimming", (25.0, 50.0), Some(40.0), 9.5, (125.0, 150.0)),
];

/// The day's workout, if any: a sport, a time (morning, once up, or evening) and a length
/// that vary from day to day; about one day in five is a rest day.
fn workout(account: &str, day: NaiveDate, midnight: i64, woke: i64) -> Option<Session> {
    let mut dice = Dice::new(account, day, 4);
    if dice.next().is_multiple_of(5) {
        return None;
    }
    let DemoSport {
        name: sport,
        minutes: (shortest, longest),
        pace,
        kcal_a_minute: burn,
        effort,
    } = &DEMO_SPORTS[(dice.next() % DEMO_SPORTS.len() as u64) as usize];
    let minutes = dice.between(*shortest, *longest).round();
    let starts_at_hour = if dice.next().is_multiple_of(2) {
        dice.between(6.5, 7.75)
    } else {
        dice.between(17.5, 19.25)
    };
    let start =
        (midnight + (starts_at_hour * 60.0).round() as i64 * 60_000).max(woke + 20 * 60_000);
    let end = start + minutes as i64 * 60_000;
    let average = round(dice.between(effort.0, effort.1), 0);
    Some(Session {
        kind: SessionKind::Workout,
        start_ms: start,
        end_ms: end,
        utc_offset_seconds: 0,
        date: day.to_string(),
        sport: Some((*sport).into()),
        provider_sport: None,
        duration_seconds: Some(minutes * 60.0),
        distance_m: pace.map(|pace| round(minutes * pace * dice.between(0.9, 1.1), 0)),
        energy_kcal: Some(round(minutes * burn * dice.between(0.9, 1.1), 0)),
        heart_rate_avg: Some(average),
        heart_rate_max: Some(average + round(dice.between(12.0, 22.0), 0)),
        heart_rate_min: Some(round(dice.between(85.0, 100.0), 0)),
        ..Session::new(SessionKind::Workout, origin(format!("{day}-workout")))
    })
}

/// A reading a minute, every second during the workout: low and falling through the night
/// (lowest in deep sleep, a little higher in REM), higher by day, climbing with effort.
fn heart_rate(
    account: &str,
    day: NaiveDate,
    (start, until): (i64, i64),
    night: &Night,
    workout: Option<&Session>,
) -> SampleSeries {
    let mut dice = Dice::new(account, day, 3);
    let resting = dice.between(50.0, 58.0);
    let mut points = Vec::new();
    let end = (start + DAY_MS).min(until);
    let stage_at = |at: i64| {
        night
            .session
            .stages
            .iter()
            .find(|span| span.start_ms <= at && at < span.end_ms)
            .map(|span| span.stage)
    };
    let mut at = start;
    while at < end {
        let in_workout = workout.filter(|w| w.start_ms <= at && at < w.end_ms);
        let base = if let Some(w) = in_workout {
            // Warming up over the first ten minutes, then near the session's average.
            let average = w.heart_rate_avg.unwrap_or(140.0);
            let warm = ((at - w.start_ms) as f64 / 600_000.0).min(1.0);
            95.0 + (average - 95.0) * warm
        } else if at >= night.asleep_ms && at < night.end_ms {
            // Falling through the night.
            let through = (at - night.asleep_ms) as f64 / (night.end_ms - night.asleep_ms) as f64;
            let stage = match stage_at(at) {
                Some(SleepStage::Deep) => -3.0,
                Some(SleepStage::Rem) => 4.0,
                Some(SleepStage::Awake) => 8.0,
                _ => 0.0,
            };
            resting + 6.0 - 5.0 * through + stage
        } else if at < night.end_ms {
            // In bed, not yet asleep.
            resting + 12.0
        } else {
            // Awake by day: higher, rising and falling with the day's activity.
            let hour = (at - start) as f64 / 3_600_000.0;
            resting + 18.0 + 8.0 * (hour / 24.0 * std::f64::consts::PI).sin()
        };
        points.push((at, round(base + dice.between(-3.0, 3.0), 0)));
        at += if in_workout.is_some() { 1_000 } else { 60_000 };
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
            time_zone: None,
            last_synced_at: None,
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
        let workout = batch
            .sessions
            .iter()
            .find(|s| s.kind == SessionKind::Workout)
            .unwrap();
        let one_hertz = batch
            .samples
            .iter()
            .flat_map(|s| s.points.windows(2))
            .filter(|pair| pair[1].0 - pair[0].0 == 1_000)
            .count() as f64;
        assert!(
            one_hertz >= workout.duration_seconds.unwrap() - 1.0,
            "1 Hz during the workout"
        );
        assert_eq!(generate("demo-wearer", &window), batch);
        assert_ne!(generate("demo-other", &window), batch);
    }

    fn fortnight() -> HealthBatch {
        generate(
            "demo-wearer",
            &request("2026-11-01T00:00:00Z", "2026-11-15T00:00:00Z"),
        )
    }

    #[test]
    fn nights_run_in_ninety_minute_cycles_deep_early_and_rem_late() {
        let batch = fortnight();
        let nights: Vec<&Session> = batch
            .sessions
            .iter()
            .filter(|s| s.kind == SessionKind::Sleep)
            .collect();
        assert!(nights.len() >= 13);
        for night in &nights {
            let in_bed = (night.end_ms - night.start_ms) as f64 / 1000.0;
            let totals = night.stage_seconds.clone().unwrap();
            assert!(totals.awake / in_bed < 0.10, "awake under 10 %");
            let half = night.start_ms + (night.end_ms - night.start_ms) / 2;
            let seconds = |stage: SleepStage, early: bool| -> i64 {
                night
                    .stages
                    .iter()
                    .filter(|s| s.stage == stage && (s.start_ms < half) == early)
                    .map(|s| (s.end_ms - s.start_ms) / 1000)
                    .sum()
            };
            assert!(seconds(SleepStage::Deep, true) > seconds(SleepStage::Deep, false));
            assert!(seconds(SleepStage::Rem, false) > seconds(SleepStage::Rem, true));
            // A cycle is light, deep, light, REM: REM spans come about every 90 minutes.
            let rem_starts: Vec<i64> = night
                .stages
                .iter()
                .filter(|s| s.stage == SleepStage::Rem)
                .map(|s| s.start_ms)
                .collect();
            for pair in rem_starts.windows(2) {
                let minutes = (pair[1] - pair[0]) / 60_000;
                assert!((70..=125).contains(&minutes), "{minutes} min between REM");
            }
            assert!(
                night
                    .stages
                    .windows(2)
                    .all(|p| p[0].end_ms == p[1].start_ms)
            );
        }
        // The score follows the night: the best night has more deep and REM sleep than the
        // worst.
        let quality = |n: &&Session| {
            let t = n.stage_seconds.clone().unwrap();
            (t.deep + t.rem) / (n.end_ms - n.start_ms) as f64
        };
        let best = nights
            .iter()
            .max_by_key(|n| n.score.unwrap() as i64)
            .unwrap();
        let worst = nights
            .iter()
            .min_by_key(|n| n.score.unwrap() as i64)
            .unwrap();
        assert!(quality(best) >= quality(worst) || best.duration_seconds > worst.duration_seconds);
        // Bed and wake times vary.
        let bedtimes: std::collections::BTreeSet<i64> = nights
            .iter()
            .map(|n| n.start_ms % DAY_MS / 60_000)
            .collect();
        assert!(bedtimes.len() > 5);
    }

    #[test]
    fn heart_rate_falls_in_the_night_and_rises_with_workouts() {
        let batch = fortnight();
        let points: Vec<(i64, f64)> = batch
            .samples
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .collect();
        let mean = |inside: &dyn Fn(i64) -> bool| {
            let chosen: Vec<f64> = points
                .iter()
                .filter(|(at, _)| inside(*at))
                .map(|(_, v)| *v)
                .collect();
            chosen.iter().sum::<f64>() / chosen.len() as f64
        };
        let within = |kind: SessionKind| {
            let spans: Vec<(i64, i64)> = batch
                .sessions
                .iter()
                .filter(|s| s.kind == kind)
                .map(|s| (s.start_ms, s.end_ms))
                .collect();
            move |at: i64| spans.iter().any(|(from, to)| *from <= at && at < *to)
        };
        let asleep = within(SessionKind::Sleep);
        let training = within(SessionKind::Workout);
        let night = mean(&|at| asleep(at));
        let workouts = mean(&|at| training(at));
        let day = mean(&|at| !asleep(at) && !training(at));
        assert!(night + 10.0 < day, "night {night}, day {day}");
        assert!(day + 25.0 < workouts, "day {day}, workouts {workouts}");
    }

    #[test]
    fn days_differ_in_steps_workouts_and_sports() {
        let batch = fortnight();
        let steps: std::collections::BTreeSet<i64> = batch
            .summaries
            .iter()
            .filter(|s| s.metric == Metric::Steps)
            .map(|s| s.value as i64)
            .collect();
        assert!(steps.len() >= 12);
        let workouts: Vec<&Session> = batch
            .sessions
            .iter()
            .filter(|s| s.kind == SessionKind::Workout)
            .collect();
        let sports: std::collections::BTreeSet<&str> =
            workouts.iter().filter_map(|w| w.sport.as_deref()).collect();
        assert!(sports.len() >= 3, "{sports:?}");
        assert!(workouts.len() >= 8 && workouts.len() < 15, "some rest days");
        for sport in sports {
            assert!(crate::health::sports::SPORTS.contains(&sport));
        }
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
