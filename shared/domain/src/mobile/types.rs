//! What phones' health stores call things: HealthKit and Health Connect type names (Samsung
//! Health's SDK uses Health Connect's), the units they write, and how each maps to the schema.

use crate::health::{GLUCOSE_MG_DL_PER_MMOL_L, Metric, SleepStage};

/// How a type's samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A count over an interval (steps in 10 minutes): summed into the local day's total.
    Total,
    /// A dense series (heart rate): stored with its instant.
    Series,
    /// A reading (weight, SpO2): stored as a measurement.
    Reading,
}

/// The metric and storage of a sample type; `Err` explains a type that is known but not taken.
pub fn sample_type(name: &str) -> Option<Result<(Metric, Kind), &'static str>> {
    use Kind::{Reading, Series, Total};
    let name = name
        .strip_prefix("HKQuantityTypeIdentifier")
        .or_else(|| name.strip_suffix("Record"))
        .unwrap_or(name);
    Some(Ok(match name {
        "StepCount" | "Steps" => (Metric::Steps, Total),
        "DistanceWalkingRunning" | "DistanceCycling" | "DistanceSwimming" | "Distance" => {
            (Metric::Distance, Total)
        }
        "ActiveEnergyBurned" | "ActiveCaloriesBurned" => (Metric::ActiveCalories, Total),
        "TotalCaloriesBurned" => (Metric::TotalCalories, Total),
        "FlightsClimbed" | "FloorsClimbed" => (Metric::Floors, Total),
        "AppleExerciseTime" => (Metric::ActiveMinutes, Total),
        "HeartRate" => (Metric::HeartRate, Series),
        "RestingHeartRate" => (Metric::RestingHeartRate, Reading),
        "HeartRateVariabilityRmssd" => (Metric::HeartRateVariability, Reading),
        "OxygenSaturation" => (Metric::BloodOxygen, Reading),
        "RespiratoryRate" => (Metric::RespiratoryRate, Reading),
        "BodyTemperature" => (Metric::Temperature, Reading),
        "BodyMass" | "Weight" => (Metric::Weight, Reading),
        "BodyFatPercentage" | "BodyFat" => (Metric::BodyFat, Reading),
        "BodyMassIndex" => (Metric::Bmi, Reading),
        "BloodPressure" => (Metric::BloodPressure, Reading),
        "BloodGlucose" => (Metric::Glucose, Reading),
        "DietaryCarbohydrates" => (Metric::Carbohydrates, Reading),
        "InsulinDelivery" => (Metric::Insulin, Reading),
        "HeartRateVariabilitySDNN" => {
            return Some(Err(
                "is SDNN; VitaSync's heart_rate_variability is RMSSD, so it is not taken",
            ));
        }
        "BasalEnergyBurned" => {
            return Some(Err(
                "is not taken; send TotalCaloriesBurned or ActiveEnergyBurned",
            ));
        }
        _ => return None,
    }))
}

/// `value` in `unit`, in the metric's own unit (`Metric::unit`).
pub fn convert(metric: Metric, value: f64, unit: &str) -> Result<f64, &'static str> {
    let unit = unit.trim();
    let factor = match (metric, unit) {
        (Metric::Steps | Metric::Floors, "count" | "steps" | "floors" | "") => 1.0,
        (Metric::Distance, "m" | "meter" | "meters") => 1.0,
        (Metric::Distance, "km") => 1000.0,
        (Metric::Distance, "mi") => 1609.344,
        (Metric::Distance, "ft") => 0.3048,
        (Metric::Distance, "yd") => 0.9144,
        (Metric::ActiveCalories | Metric::TotalCalories, "kcal" | "Cal" | "kilocalories") => 1.0,
        (Metric::ActiveCalories | Metric::TotalCalories, "kJ") => 1.0 / 4.184,
        (Metric::ActiveCalories | Metric::TotalCalories, "J") => 1.0 / 4184.0,
        (Metric::ActiveMinutes, "min") => 1.0,
        (Metric::ActiveMinutes, "s") => 1.0 / 60.0,
        (Metric::ActiveMinutes, "h" | "hr") => 60.0,
        (
            Metric::HeartRate | Metric::RestingHeartRate | Metric::RespiratoryRate,
            "count/min" | "bpm" | "/min" | "beats/min" | "breaths/min",
        ) => 1.0,
        (Metric::HeartRateVariability, "ms") => 1.0,
        (Metric::HeartRateVariability, "s") => 1000.0,
        (Metric::BloodOxygen | Metric::BodyFat, "%" | "percent") => {
            // HealthKit writes percentages as fractions (0.97); others as percent (97).
            return Ok(if value <= 1.0 { value * 100.0 } else { value });
        }
        (Metric::BloodOxygen | Metric::BodyFat, "fraction") => 100.0,
        (Metric::Temperature, "degC" | "°C" | "C" | "celsius") => 1.0,
        (Metric::Temperature, "degF" | "°F" | "F" | "fahrenheit") => {
            return Ok((value - 32.0) * 5.0 / 9.0);
        }
        (Metric::Weight, "kg") => 1.0,
        (Metric::Weight, "g") => 0.001,
        (Metric::Weight, "lb" | "lbs") => 0.453_592_37,
        (Metric::Bmi, "count" | "kg/m^2" | "kg/m2" | "") => 1.0,
        (Metric::BloodPressure, "mmHg") => 1.0,
        // HealthKit spells it with the molar mass: `mmol<180.15588000005408>/L`.
        (Metric::Glucose, molar) if molar.starts_with("mmol") => 1.0,
        (Metric::Glucose, "mg/dL" | "mg/dl") => 1.0 / GLUCOSE_MG_DL_PER_MMOL_L,
        (Metric::Carbohydrates, "g") => 1.0,
        (Metric::Insulin, "IU" | "U" | "units") => 1.0,
        _ => return Err("is not a unit this type is written in"),
    };
    Ok(value * factor)
}

/// The sessions phones record: workouts and nights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionType {
    Workout,
    Sleep,
}

pub fn session_type(name: &str) -> Option<SessionType> {
    match name {
        "workout"
        | "HKWorkout"
        | "HKWorkoutTypeIdentifier"
        | "ExerciseSession"
        | "ExerciseSessionRecord" => Some(SessionType::Workout),
        "sleep"
        | "HKCategoryTypeIdentifierSleepAnalysis"
        | "SleepSession"
        | "SleepSessionRecord" => Some(SessionType::Sleep),
        _ => None,
    }
}

/// A sleep stage as HealthKit (`asleepDeep`) or Health Connect (`deep`, `STAGE_TYPE_DEEP`)
/// names it; `Ok(None)` for stretches that are not sleep stages (in bed, unknown).
pub fn sleep_stage(name: &str) -> Result<Option<SleepStage>, &'static str> {
    let name = name
        .trim_start_matches("STAGE_TYPE_")
        .trim_start_matches("asleep")
        .to_ascii_lowercase();
    Ok(Some(match name.as_str() {
        "awake" | "out_of_bed" | "awake_in_bed" => SleepStage::Awake,
        "core" | "light" | "unspecified" | "sleeping" | "" => SleepStage::Light,
        "deep" => SleepStage::Deep,
        "rem" => SleepStage::Rem,
        "inbed" | "in_bed" | "unknown" => return Ok(None),
        _ => return Err("is not a sleep stage"),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn healthkit_and_health_connect_names_map_to_one_schema() {
        assert_eq!(
            sample_type("HKQuantityTypeIdentifierStepCount"),
            Some(Ok((Metric::Steps, Kind::Total)))
        );
        assert_eq!(
            sample_type("StepsRecord"),
            Some(Ok((Metric::Steps, Kind::Total)))
        );
        assert_eq!(
            sample_type("HeartRate"),
            Some(Ok((Metric::HeartRate, Kind::Series)))
        );
        assert!(matches!(
            sample_type("HKQuantityTypeIdentifierHeartRateVariabilitySDNN"),
            Some(Err(_))
        ));
        assert_eq!(sample_type("HKQuantityTypeIdentifierDietaryWater"), None);
    }

    #[test]
    fn units_convert_to_the_schemas() {
        assert_eq!(convert(Metric::Weight, 150.0, "lb").unwrap(), 68.0388555);
        assert_eq!(convert(Metric::Distance, 5.0, "km").unwrap(), 5000.0);
        assert_eq!(convert(Metric::BloodOxygen, 0.97, "%").unwrap(), 97.0);
        assert_eq!(convert(Metric::BloodOxygen, 97.0, "%").unwrap(), 97.0);
        assert_eq!(convert(Metric::Temperature, 98.6, "degF").unwrap(), 37.0);
        assert!((convert(Metric::Glucose, 90.0, "mg/dL").unwrap() - 4.9957).abs() < 1e-3);
        assert!(convert(Metric::Steps, 10.0, "kg").is_err());
    }

    #[test]
    fn sleep_stages_from_either_store() {
        assert_eq!(sleep_stage("asleepDeep"), Ok(Some(SleepStage::Deep)));
        assert_eq!(sleep_stage("asleepCore"), Ok(Some(SleepStage::Light)));
        assert_eq!(sleep_stage("STAGE_TYPE_REM"), Ok(Some(SleepStage::Rem)));
        assert_eq!(sleep_stage("inBed"), Ok(None));
        assert!(sleep_stage("dreaming").is_err());
    }
}
