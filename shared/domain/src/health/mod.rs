//! The normalised health-data schema every provider's data is mapped into. Values are in SI
//! units (or the unit each metric names); every record keeps its UTC instant, the local date
//! and UTC offset where it happened, the provider, the source device and the provider's own
//! record id, so revisions can replace what they revise.

pub mod chunk;
pub mod glucose;
pub mod query;
pub mod records;
pub mod rollup;
pub mod sports;
pub mod timeseries;

use crate::kernel::provider::ProviderId;
use crate::kernel::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a number measures, and in which unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// count
    Steps,
    /// metres
    Distance,
    /// kilocalories burned by activity
    ActiveCalories,
    /// kilocalories burned in all (activity and resting)
    TotalCalories,
    /// floors (≈3 m of elevation)
    Floors,
    /// minutes of moderate or intense activity
    ActiveMinutes,
    /// beats per minute
    HeartRate,
    /// beats per minute
    RestingHeartRate,
    /// RMSSD, milliseconds
    HeartRateVariability,
    /// SpO2, percent
    BloodOxygen,
    /// breaths per minute
    RespiratoryRate,
    /// body temperature, degrees Celsius
    Temperature,
    /// skin temperature (wrist), degrees Celsius
    SkinTemperature,
    /// body temperature against the user's own baseline, degrees Celsius (Oura)
    TemperatureDeviation,
    /// kilograms
    Weight,
    /// percent
    BodyFat,
    /// kg/m²
    Bmi,
    /// systolic mmHg (`value`) and diastolic mmHg (`secondary`)
    BloodPressure,
    /// Blood or interstitial (CGM) glucose, mmol/L (mg/dL ÷ 18.016). Named `blood_glucose`
    /// before CGMs were connected; the old name is still read.
    #[serde(alias = "blood_glucose")]
    Glucose,
    /// carbohydrates eaten, grams (logged by the user)
    Carbohydrates,
    /// insulin taken, units (logged by the user)
    Insulin,
    /// estimated maximal oxygen uptake, mL/(kg·min)
    Vo2Max,
    /// the provider's recovery (readiness) index, 0–100
    RecoveryScore,
}

impl Metric {
    pub const ALL: [Metric; 23] = [
        Metric::Steps,
        Metric::Distance,
        Metric::ActiveCalories,
        Metric::TotalCalories,
        Metric::Floors,
        Metric::ActiveMinutes,
        Metric::HeartRate,
        Metric::RestingHeartRate,
        Metric::HeartRateVariability,
        Metric::BloodOxygen,
        Metric::RespiratoryRate,
        Metric::Temperature,
        Metric::SkinTemperature,
        Metric::TemperatureDeviation,
        Metric::Weight,
        Metric::BodyFat,
        Metric::Bmi,
        Metric::BloodPressure,
        Metric::Glucose,
        Metric::Carbohydrates,
        Metric::Insulin,
        Metric::Vo2Max,
        Metric::RecoveryScore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Steps => "steps",
            Metric::Distance => "distance",
            Metric::ActiveCalories => "active_calories",
            Metric::TotalCalories => "total_calories",
            Metric::Floors => "floors",
            Metric::ActiveMinutes => "active_minutes",
            Metric::HeartRate => "heart_rate",
            Metric::RestingHeartRate => "resting_heart_rate",
            Metric::HeartRateVariability => "heart_rate_variability",
            Metric::BloodOxygen => "blood_oxygen",
            Metric::RespiratoryRate => "respiratory_rate",
            Metric::Temperature => "temperature",
            Metric::SkinTemperature => "skin_temperature",
            Metric::TemperatureDeviation => "temperature_deviation",
            Metric::Weight => "weight",
            Metric::BodyFat => "body_fat",
            Metric::Bmi => "bmi",
            Metric::BloodPressure => "blood_pressure",
            Metric::Glucose => "glucose",
            Metric::Carbohydrates => "carbohydrates",
            Metric::Insulin => "insulin",
            Metric::Vo2Max => "vo2_max",
            Metric::RecoveryScore => "recovery_score",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        if raw == "blood_glucose" {
            return Some(Metric::Glucose);
        }
        Self::ALL.into_iter().find(|metric| metric.as_str() == raw)
    }

    pub fn unit(self) -> &'static str {
        match self {
            Metric::Steps => "count",
            Metric::Distance => "m",
            Metric::ActiveCalories | Metric::TotalCalories => "kcal",
            Metric::Floors => "count",
            Metric::ActiveMinutes => "min",
            Metric::HeartRate | Metric::RestingHeartRate => "bpm",
            Metric::HeartRateVariability => "ms",
            Metric::BloodOxygen | Metric::BodyFat => "%",
            Metric::RespiratoryRate => "breaths/min",
            Metric::Temperature | Metric::SkinTemperature | Metric::TemperatureDeviation => "degC",
            Metric::Weight => "kg",
            Metric::Bmi => "kg/m2",
            Metric::BloodPressure => "mmHg",
            Metric::Glucose => "mmol/L",
            Metric::Carbohydrates => "g",
            Metric::Insulin => "U",
            Metric::Vo2Max => "mL/kg/min",
            Metric::RecoveryScore => "score",
        }
    }
}

/// mg/dL in one mmol/L of glucose (its molar mass, 180.16 g/mol, over 10).
pub const GLUCOSE_MG_DL_PER_MMOL_L: f64 = 18.016;

/// A glucose reading in mg/dL as VitaSync stores it (mmol/L).
pub fn glucose_mmol_l(mg_dl: f64) -> f64 {
    mg_dl / GLUCOSE_MG_DL_PER_MMOL_L
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where and when something was recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    pub provider: ProviderId,
    /// The provider's id for the record (or the group it came in).
    pub record_id: String,
    /// The device or app that recorded it, when the provider says.
    pub source: Option<String>,
}

/// A day's total or average of one metric, in the user's local calendar. Upserted in place: a
/// total that grows during the day replaces the earlier one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailySummary {
    pub metric: Metric,
    /// `YYYY-MM-DD` in the user's local time.
    pub date: String,
    pub value: f64,
    /// Offset from UTC on that day, in seconds.
    pub utc_offset_seconds: i32,
    pub origin: Origin,
}

/// One reading at one instant: a weigh-in, a blood-pressure cuff, a spot SpO2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Measurement {
    pub metric: Metric,
    /// UTC, milliseconds since the epoch.
    pub at_ms: i64,
    pub utc_offset_seconds: i32,
    /// Local date of `at_ms`.
    pub date: String,
    pub value: f64,
    /// The second value of two-part readings (diastolic blood pressure).
    pub secondary: Option<f64>,
    pub origin: Origin,
}

/// A dense series of one metric (heart rate at up to 1 Hz, intraday steps).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSeries {
    pub metric: Metric,
    /// `(UTC milliseconds, value)`, any order; duplicates at one instant keep the last.
    pub points: Vec<(i64, f64)>,
    pub utc_offset_seconds: i32,
    pub provider: ProviderId,
    pub source: Option<String>,
}

impl SampleSeries {
    /// Points that each carry their own offset `(UTC ms, value, offset)`, as series of one
    /// offset each: a run across a DST change, or a traveller's day, keeps every point's own.
    pub fn by_offset(
        metric: Metric,
        provider: ProviderId,
        points: impl IntoIterator<Item = (i64, f64, i32)>,
    ) -> Vec<SampleSeries> {
        let mut out: Vec<SampleSeries> = Vec::new();
        for (at, value, offset) in points {
            match out.last_mut() {
                Some(series) if series.utc_offset_seconds == offset => {
                    series.points.push((at, value));
                }
                _ => out.push(SampleSeries {
                    metric,
                    points: vec![(at, value)],
                    utc_offset_seconds: offset,
                    provider,
                    source: None,
                }),
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Sleep,
    Workout,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Sleep => "sleep",
            SessionKind::Workout => "workout",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [SessionKind::Sleep, SessionKind::Workout]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }
}

/// What a sync can be asked for: a metric, or a kind of session (`sleep`, `workout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DataType {
    Metric(Metric),
    Session(SessionKind),
}

impl DataType {
    pub fn parse(raw: &str) -> Option<Self> {
        Metric::parse(raw)
            .map(Self::Metric)
            .or_else(|| SessionKind::parse(raw).map(Self::Session))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Metric(metric) => metric.as_str(),
            DataType::Session(kind) => kind.as_str(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SleepStage {
    Awake,
    Light,
    Deep,
    Rem,
}

/// A stretch of one sleep stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageSpan {
    pub stage: SleepStage,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// A sleep or a workout, keyed by the provider's record id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub kind: SessionKind,
    pub start_ms: i64,
    pub end_ms: i64,
    pub utc_offset_seconds: i32,
    /// Local date the session is counted on (the wake-up day for sleep).
    pub date: String,
    /// Workouts: the sport, in VitaSync's vocabulary (`sports::SPORTS`: `running`,
    /// `cycling`, … `other`). Providers set their own name here; storing maps it and keeps
    /// theirs in `provider_sport`.
    pub sport: Option<String>,
    /// Workouts: the sport as the provider or phone named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_sport: Option<String>,
    pub duration_seconds: Option<f64>,
    pub distance_m: Option<f64>,
    pub energy_kcal: Option<f64>,
    pub heart_rate_avg: Option<f64>,
    pub heart_rate_max: Option<f64>,
    pub heart_rate_min: Option<f64>,
    /// Sleep: seconds per stage, as the provider totals them.
    pub stage_seconds: Option<StageTotals>,
    /// Sleep: the hypnogram, when the provider gives one.
    pub stages: Vec<StageSpan>,
    /// The provider's own 0–100 score, when it has one.
    pub score: Option<f64>,
    /// Workouts: mean and highest power, watts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_avg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_max: Option<f64>,
    /// Workouts: normalised power, watts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_normalized: Option<f64>,
    /// Workouts: training stress score (TSS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_stress_score: Option<f64>,
    /// Workouts: mean cadence, revolutions (or steps) per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence_avg: Option<f64>,
    /// Workouts: elevation gained, metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ascent_m: Option<f64>,
    pub origin: Origin,
}

impl Session {
    /// A session of `kind` from `origin` with no times or measures yet: providers set what
    /// they know and leave the rest unset.
    pub fn new(kind: SessionKind, origin: Origin) -> Self {
        Self {
            kind,
            start_ms: 0,
            end_ms: 0,
            utc_offset_seconds: 0,
            date: String::new(),
            sport: None,
            provider_sport: None,
            duration_seconds: None,
            distance_m: None,
            energy_kcal: None,
            heart_rate_avg: None,
            heart_rate_max: None,
            heart_rate_min: None,
            stage_seconds: None,
            stages: Vec::new(),
            score: None,
            power_avg: None,
            power_max: None,
            power_normalized: None,
            training_stress_score: None,
            cadence_avg: None,
            ascent_m: None,
            origin,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageTotals {
    pub awake: f64,
    pub light: f64,
    pub deep: f64,
    pub rem: f64,
}

/// Everything one fetch from a provider brought, normalised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthBatch {
    pub summaries: Vec<DailySummary>,
    pub measurements: Vec<Measurement>,
    pub samples: Vec<SampleSeries>,
    pub sessions: Vec<Session>,
    /// Data types the provider would not give (a scope the user did not grant).
    pub skipped: Vec<DataType>,
    /// Records the provider now marks as not real: whatever was stored for them is removed.
    pub retracted: Vec<Retraction>,
    /// The user's IANA zone, where the provider says (kept on the connection).
    pub time_zone: Option<String>,
}

/// A record a provider marks deleted, unscorable or pending: not data. What an earlier sync
/// stored for it is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retraction {
    /// A sleep or workout, by the provider's id.
    Session {
        kind: SessionKind,
        record_id: String,
    },
    /// A day's value of `metric` that came from the record `record_id` (removed only while
    /// it still does: another record may have given that day its value since).
    Summary {
        metric: Metric,
        date: String,
        record_id: String,
    },
    /// A reading at an instant (a logged meal or insulin dose the user deleted).
    Measurement {
        metric: Metric,
        at_ms: i64,
        record_id: String,
    },
}

impl Retraction {
    pub fn data_type(&self) -> DataType {
        match self {
            Retraction::Session { kind, .. } => DataType::Session(*kind),
            Retraction::Summary { metric, .. } | Retraction::Measurement { metric, .. } => {
                DataType::Metric(*metric)
            }
        }
    }
}

/// The UTC instants (ms) a local day (`YYYY-MM-DD`) at `offset` seconds east of UTC starts
/// and ends at; `None` when `date` is not a date.
pub fn local_day_bounds(date: &str, offset: i32) -> Option<(i64, i64)> {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let midnight = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()?
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp_millis()
        - i64::from(offset) * 1000;
    Some((midnight, midnight + DAY_MS))
}

impl HealthBatch {
    /// `time_span` as instants, for `data.updated`'s `from` and `to`.
    pub fn time_window(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        let span = self.time_span();
        (
            span.and_then(|(from, _)| Timestamp::from_millis(from)),
            span.and_then(|(_, to)| Timestamp::from_millis(to)),
        )
    }

    /// The earliest and latest instant the batch has data for (UTC ms); a daily summary spans
    /// its local day.
    pub fn time_span(&self) -> Option<(i64, i64)> {
        let instants = self
            .summaries
            .iter()
            .filter_map(|s| local_day_bounds(&s.date, s.utc_offset_seconds))
            .flat_map(|(start, end)| [start, end])
            .chain(self.measurements.iter().map(|m| m.at_ms))
            .chain(
                self.samples
                    .iter()
                    .flat_map(|s| s.points.iter().map(|(at, _)| *at)),
            )
            .chain(self.sessions.iter().flat_map(|s| [s.start_ms, s.end_ms]));
        instants.fold(None, |span, at| match span {
            None => Some((at, at)),
            Some((from, to)) => Some((from.min(at), to.max(at))),
        })
    }

    /// Keeps only the records of the data types asked for (all when none are named).
    pub fn retain_types(&mut self, wanted: &[DataType]) {
        if wanted.is_empty() {
            return;
        }
        let metric = |m: Metric| wanted.contains(&DataType::Metric(m));
        self.summaries.retain(|s| metric(s.metric));
        self.measurements.retain(|m| metric(m.metric));
        self.samples.retain(|s| metric(s.metric));
        self.sessions
            .retain(|s| wanted.contains(&DataType::Session(s.kind)));
        self.retracted.retain(|r| wanted.contains(&r.data_type()));
    }

    pub fn extend(&mut self, other: HealthBatch) {
        self.summaries.extend(other.summaries);
        self.measurements.extend(other.measurements);
        self.samples.extend(other.samples);
        self.sessions.extend(other.sessions);
        self.skipped.extend(other.skipped);
        self.retracted.extend(other.retracted);
        self.time_zone = other.time_zone.or(self.time_zone.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_types_name_metrics_and_sessions_and_round_trip() {
        for name in ["steps", "sleep", "workout", "blood_pressure"] {
            let parsed = DataType::parse(name).unwrap();
            assert_eq!(parsed.as_str(), name);
            let json = serde_json::to_value(parsed).unwrap();
            assert_eq!(json, serde_json::Value::String(name.into()));
            assert_eq!(serde_json::from_value::<DataType>(json).unwrap(), parsed);
        }
        assert_eq!(DataType::parse("mood"), None);
    }

    #[test]
    fn metric_names_round_trip_and_match_serde() {
        for metric in Metric::ALL {
            assert_eq!(Metric::parse(metric.as_str()), Some(metric));
            assert_eq!(
                serde_json::to_value(metric).unwrap(),
                serde_json::Value::String(metric.as_str().into())
            );
        }
    }
}
