//! One sport vocabulary for every workout, whichever provider or phone recorded it. Each
//! provider's own value is kept beside it (`providerSport`); the mapping is data: a table of
//! the names providers use for each sport, compared after folding case, separators and the
//! prefixes phones add (`HKWorkoutActivityType`, `EXERCISE_TYPE_`).

/// Every sport a workout can have, `other` last.
pub const SPORTS: [&str; 40] = [
    "running",
    "cycling",
    "swimming",
    "walking",
    "hiking",
    "strength_training",
    "yoga",
    "pilates",
    "rowing",
    "elliptical",
    "stair_climbing",
    "hiit",
    "cardio",
    "dance",
    "boxing",
    "martial_arts",
    "climbing",
    "skiing",
    "snowboarding",
    "skating",
    "surfing",
    "paddling",
    "sailing",
    "tennis",
    "table_tennis",
    "badminton",
    "squash",
    "golf",
    "soccer",
    "basketball",
    "volleyball",
    "american_football",
    "rugby",
    "baseball",
    "hockey",
    "horse_riding",
    "gymnastics",
    "triathlon",
    "wheelchair",
    "other",
];

/// The names providers give each sport, folded (lower case, words joined by `_`).
const ALIASES: [(&str, &[&str]); 39] = [
    (
        "running",
        &[
            "run",
            "running",
            "trail_run",
            "trail_running",
            "virtual_run",
            "treadmill_running",
            "treadmill",
            "road_running",
            "street_running",
            "indoor_running",
            "track_running",
            "running_track",
            "running_trail",
            "running_treadmill",
            "ultra_run",
            "jogging",
            "running_race",
            "running_indoor_virtual",
            "fe_treadmill",
            "orienteering",
            "vertical_running",
            "obstacle_racing",
        ],
    ),
    (
        "cycling",
        &[
            "ride",
            "cycling",
            "biking",
            "bicycling",
            "road_biking",
            "road_cycling",
            "mountain_biking",
            "mountain_bike_ride",
            "gravel_ride",
            "gravel_cycling",
            "e_bike_ride",
            "e_mountain_bike_ride",
            "virtual_ride",
            "indoor_cycling",
            "spinning",
            "cyclocross",
            "bmx",
            "biking_stationary",
            "stationary_biking",
            "stationary_bike",
            "biking_indoor",
            "biking_road",
            "biking_mountain",
            "biking_cyclocross",
            // Wahoo's spelling (`workout_type_id` 11).
            "biking_cyclecross",
            "biking_indoor_trainer",
            "velomobile",
            "hand_cycling",
            "handcycle",
            "spin",
            "spinning_class",
            "ebike_ride",
            "emountain_bike_ride",
            "ebiking",
            "handcycling",
            "biking_recumbent",
            "biking_track",
            "biking_indoor_cycling_class",
            "biking_indoor_virtual",
            "fe_bike",
            "e_biking",
            "e_mtb",
        ],
    ),
    (
        "swimming",
        &[
            "swim",
            "swimming",
            "lap_swimming",
            "pool_swimming",
            "open_water_swimming",
            "swimming_pool",
            "swimming_open_water",
            "swimming_lap",
        ],
    ),
    (
        "walking",
        &[
            "walk",
            "walking",
            "indoor_walk",
            "indoor_walking",
            "treadmill_walking",
            "walking_treadmill",
            "nordic_walking",
            "walking_nordic",
            "speed_walking",
            "casual_walking",
            "walking_speed",
        ],
    ),
    (
        "hiking",
        &[
            "hike",
            "hiking",
            "mountaineering",
            "backpacking",
            "rucking",
            "hiking_rucking",
            "trekking",
        ],
    ),
    (
        "strength_training",
        &[
            "weight_training",
            // Suunto's bodyweight workouts on outdoor equipment.
            "outdoor_gym",
            "weightlifting",
            "weight_lifting",
            "lift_weights",
            "strength_training",
            "traditional_strength_training",
            "functional_strength_training",
            "strength",
            "powerlifting",
            "weights",
            "crossfit",
            "calisthenics",
            "bodyweight",
            "functional_fitness",
            "weight_lifting_home",
            "gym",
            "kettlebell",
            "circuit_training",
        ],
    ),
    ("yoga", &["yoga", "hot_yoga", "yoga_pilates"]),
    ("pilates", &["pilates", "barre"]),
    (
        "rowing",
        &[
            "rowing",
            "rowing_machine",
            "indoor_rowing",
            "virtual_row",
            "rower",
            "fe_rower",
        ],
    ),
    (
        "elliptical",
        &[
            "elliptical",
            "fe_elliptical",
            "cross_trainer",
            "crosstrainer",
        ],
    ),
    (
        "stair_climbing",
        &[
            "stair_climbing",
            "stair_stepper",
            "stair_climber",
            "stairs",
            "stair_climbing_machine",
            "stepper",
            "fe_climber",
        ],
    ),
    (
        "hiit",
        &[
            "hiit",
            "high_intensity_interval_training",
            "interval_training",
            "bootcamp",
        ],
    ),
    (
        "cardio",
        &[
            "cardio",
            "cardio_class",
            "aerobics",
            "mixed_cardio",
            "fitness_class",
            "jump_rope",
            "indoor_cardio",
            "fitness_equipment",
            "fe",
            "fe_general",
        ],
    ),
    (
        "dance",
        &["dance", "dancing", "zumba", "cardio_dance", "social_dance"],
    ),
    ("boxing", &["boxing", "kickboxing"]),
    (
        "martial_arts",
        &[
            "martial_arts",
            "fencing",
            "wrestling",
            "judo",
            "karate",
            "taekwondo",
            "tai_chi",
            "combat_sport",
        ],
    ),
    (
        "climbing",
        &["climbing", "rock_climbing", "bouldering", "indoor_climbing"],
    ),
    (
        "skiing",
        &[
            "skiing",
            "alpine_ski",
            "alpine_skiing",
            "downhill_skiing",
            "backcountry_ski",
            "nordic_ski",
            "cross_country_skiing",
            "skiing_downhill",
            "skiing_cross_country",
            "snow_sports",
            "roller_ski",
            "resort_skiing_snowboarding",
            "resort_skiing",
            "backcountry_skiing",
            "roller_skiing",
            "ski_touring",
            "telemark_skiing",
            "skate_skiing",
            "classic_skiing",
            "ski_mountaineering",
            "biathlon",
        ],
    ),
    (
        "snowboarding",
        &["snowboard", "snowboarding", "splitboarding"],
    ),
    (
        "skating",
        &[
            "skating",
            "ice_skate",
            "ice_skating",
            "skating_ice",
            "inline_skate",
            "inline_skating",
            "skating_inline",
            "roller_skating",
            "skateboard",
            "skateboarding",
            "longboarding",
            "skating_sports",
            "long_boarding",
        ],
    ),
    (
        "surfing",
        &[
            "surfing",
            "surf",
            "kitesurf",
            "kitesurfing",
            "windsurf",
            "windsurfing",
            "kiteboarding",
            "bodyboard",
            "bodyboarding",
            "surfing_sports",
        ],
    ),
    (
        "paddling",
        &[
            "paddling",
            "canoeing",
            "kayaking",
            "stand_up_paddling",
            "stand_up_paddle_board",
            "paddle_sports",
            "standup_paddling",
        ],
    ),
    ("sailing", &["sail", "sailing"]),
    ("tennis", &["tennis"]),
    ("table_tennis", &["table_tennis", "ping_pong", "pingpong"]),
    ("badminton", &["badminton"]),
    ("squash", &["squash", "racquetball"]),
    ("golf", &["golf", "golfing"]),
    ("soccer", &["soccer", "football_soccer", "futsal"]),
    ("basketball", &["basketball", "basket_ball"]),
    (
        "volleyball",
        &["volleyball", "volley_ball", "beach_volleyball"],
    ),
    (
        "american_football",
        &["american_football", "football_american"],
    ),
    ("rugby", &["rugby", "australian_football"]),
    ("baseball", &["baseball", "softball"]),
    ("hockey", &["hockey", "ice_hockey", "field_hockey"]),
    (
        "horse_riding",
        &["horse_riding", "equestrian_sports", "horseback_riding"],
    ),
    ("gymnastics", &["gymnastics"]),
    (
        "triathlon",
        &[
            "triathlon",
            "multisport",
            "multi_sport",
            "duathlon",
            "swimrun",
            "aquathlon",
            "adventure_racing",
        ],
    ),
    (
        "wheelchair",
        &[
            "wheelchair",
            "wheelchair_run_pace",
            "wheelchair_walk_pace",
            "wheelchair_sports",
        ],
    ),
];

/// A provider's sport name folded for comparison: the phones' prefixes dropped, lower
/// case, camel case and separators turned into single `_`.
fn fold(raw: &str) -> String {
    let raw = raw
        .trim()
        .trim_start_matches("HKWorkoutActivityType")
        .trim_start_matches("EXERCISE_TYPE_");
    let mut out = String::with_capacity(raw.len() + 4);
    let mut previous_lower = false;
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower && !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    out.trim_end_matches('_').to_owned()
}

/// The vocabulary's sport for a provider's name of it; `other` when it has none.
pub fn sport_of(raw: &str) -> &'static str {
    let folded = fold(raw);
    if let Some(sport) = SPORTS.iter().find(|sport| **sport == folded) {
        return sport;
    }
    ALIASES
        .iter()
        .find(|(_, names)| names.contains(&folded.as_str()))
        .map_or("other", |(sport, _)| sport)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_names_a_sport_of_the_vocabulary() {
        for (sport, _) in ALIASES {
            assert!(SPORTS.contains(&sport), "{sport}");
        }
        for sport in SPORTS {
            assert_eq!(sport_of(sport), sport);
        }
    }

    /// Each provider's documented names for the common sports.
    #[test]
    fn each_providers_names_map_into_the_vocabulary() {
        let table: [(&str, &[(&str, &str)]); 9] = [
            (
                "strava sport_type",
                &[
                    ("Run", "running"),
                    ("TrailRun", "running"),
                    ("VirtualRun", "running"),
                    ("Ride", "cycling"),
                    ("MountainBikeRide", "cycling"),
                    ("GravelRide", "cycling"),
                    ("EBikeRide", "cycling"),
                    ("VirtualRide", "cycling"),
                    ("Swim", "swimming"),
                    ("Walk", "walking"),
                    ("Hike", "hiking"),
                    ("WeightTraining", "strength_training"),
                    ("Crossfit", "strength_training"),
                    ("Yoga", "yoga"),
                    ("Pilates", "pilates"),
                    ("Rowing", "rowing"),
                    ("Elliptical", "elliptical"),
                    ("StairStepper", "stair_climbing"),
                    ("HighIntensityIntervalTraining", "hiit"),
                    ("AlpineSki", "skiing"),
                    ("NordicSki", "skiing"),
                    ("Snowboard", "snowboarding"),
                    ("IceSkate", "skating"),
                    ("InlineSkate", "skating"),
                    ("Kayaking", "paddling"),
                    ("StandUpPaddling", "paddling"),
                    ("Surfing", "surfing"),
                    ("Kitesurf", "surfing"),
                    ("RockClimbing", "climbing"),
                    ("Golf", "golf"),
                    ("Soccer", "soccer"),
                    ("Tennis", "tennis"),
                    ("TableTennis", "table_tennis"),
                    ("Badminton", "badminton"),
                    ("Squash", "squash"),
                    ("Sail", "sailing"),
                    ("Wheelchair", "wheelchair"),
                    ("Workout", "other"),
                ],
            ),
            (
                "whoop sport_name",
                &[
                    ("running", "running"),
                    ("cycling", "cycling"),
                    ("spin", "cycling"),
                    ("functional fitness", "strength_training"),
                    ("weightlifting", "strength_training"),
                    ("yoga", "yoga"),
                    ("swimming", "swimming"),
                    ("walking", "walking"),
                    ("hiking/rucking", "hiking"),
                    ("rowing", "rowing"),
                    ("boxing", "boxing"),
                    ("tennis", "tennis"),
                    ("golf", "golf"),
                    ("basketball", "basketball"),
                    ("soccer", "soccer"),
                    ("hiit", "hiit"),
                    ("pilates", "pilates"),
                ],
            ),
            (
                "garmin activityType",
                &[
                    ("RUNNING", "running"),
                    ("TREADMILL_RUNNING", "running"),
                    ("TRAIL_RUNNING", "running"),
                    ("CYCLING", "cycling"),
                    ("ROAD_BIKING", "cycling"),
                    ("MOUNTAIN_BIKING", "cycling"),
                    ("INDOOR_CYCLING", "cycling"),
                    ("LAP_SWIMMING", "swimming"),
                    ("OPEN_WATER_SWIMMING", "swimming"),
                    ("WALKING", "walking"),
                    ("HIKING", "hiking"),
                    ("STRENGTH_TRAINING", "strength_training"),
                    ("YOGA", "yoga"),
                    ("ELLIPTICAL", "elliptical"),
                    ("STAIR_CLIMBING", "stair_climbing"),
                    ("INDOOR_ROWING", "rowing"),
                    ("INDOOR_CARDIO", "cardio"),
                    ("RESORT_SKIING_SNOWBOARDING", "skiing"),
                ],
            ),
            (
                "polar sport / detailed_sport_info",
                &[
                    ("RUNNING", "running"),
                    ("ROAD_RUNNING", "running"),
                    ("TRAIL_RUNNING", "running"),
                    ("TREADMILL_RUNNING", "running"),
                    ("CYCLING", "cycling"),
                    ("ROAD_BIKING", "cycling"),
                    ("MOUNTAIN_BIKING", "cycling"),
                    ("INDOOR_CYCLING", "cycling"),
                    ("SWIMMING", "swimming"),
                    ("POOL_SWIMMING", "swimming"),
                    ("OPEN_WATER_SWIMMING", "swimming"),
                    ("WALKING", "walking"),
                    ("HIKING", "hiking"),
                    ("STRENGTH_TRAINING", "strength_training"),
                    ("YOGA", "yoga"),
                    ("PILATES", "pilates"),
                ],
            ),
            (
                "oura workout activity",
                &[
                    ("walking", "walking"),
                    ("running", "running"),
                    ("cycling", "cycling"),
                    ("strengthTraining", "strength_training"),
                    ("yoga", "yoga"),
                    ("hiking", "hiking"),
                    ("swimming", "swimming"),
                    ("dancing", "dance"),
                    ("elliptical", "elliptical"),
                    ("rowing", "rowing"),
                ],
            ),
            (
                "google health exerciseType",
                &[
                    ("RUNNING", "running"),
                    ("BIKING", "cycling"),
                    ("WALKING", "walking"),
                    ("SWIMMING", "swimming"),
                    ("HIKING", "hiking"),
                    ("WEIGHTLIFTING", "strength_training"),
                    ("YOGA", "yoga"),
                    ("ELLIPTICAL", "elliptical"),
                    ("ROWING", "rowing"),
                ],
            ),
            (
                "withings category names",
                &[
                    ("Walk", "walking"),
                    ("Run", "running"),
                    ("Hiking", "hiking"),
                    ("Bicycling", "cycling"),
                    ("Swimming", "swimming"),
                    ("Lift weights", "strength_training"),
                    ("Elliptical", "elliptical"),
                    ("Pilates", "pilates"),
                    ("Yoga", "yoga"),
                    ("Dancing", "dance"),
                    ("Zumba", "dance"),
                    ("Rowing", "rowing"),
                    ("Indoor running", "running"),
                    ("Indoor cycling", "cycling"),
                    ("Indoor walk", "walking"),
                    ("Multi-sport", "triathlon"),
                    ("category 999", "other"),
                ],
            ),
            (
                "healthkit HKWorkoutActivityType",
                &[
                    ("HKWorkoutActivityTypeRunning", "running"),
                    ("HKWorkoutActivityTypeCycling", "cycling"),
                    ("HKWorkoutActivityTypeSwimming", "swimming"),
                    ("HKWorkoutActivityTypeWalking", "walking"),
                    ("HKWorkoutActivityTypeHiking", "hiking"),
                    (
                        "HKWorkoutActivityTypeTraditionalStrengthTraining",
                        "strength_training",
                    ),
                    (
                        "HKWorkoutActivityTypeFunctionalStrengthTraining",
                        "strength_training",
                    ),
                    ("HKWorkoutActivityTypeYoga", "yoga"),
                    ("HKWorkoutActivityTypeRowing", "rowing"),
                    ("HKWorkoutActivityTypeElliptical", "elliptical"),
                    ("HKWorkoutActivityTypeStairClimbing", "stair_climbing"),
                    ("HKWorkoutActivityTypeHighIntensityIntervalTraining", "hiit"),
                    ("HKWorkoutActivityTypeDownhillSkiing", "skiing"),
                    ("HKWorkoutActivityTypeSkatingSports", "skating"),
                    ("HKWorkoutActivityTypePaddleSports", "paddling"),
                    ("HKWorkoutActivityTypeEquestrianSports", "horse_riding"),
                ],
            ),
            (
                "health connect EXERCISE_TYPE_",
                &[
                    ("EXERCISE_TYPE_RUNNING", "running"),
                    ("EXERCISE_TYPE_RUNNING_TREADMILL", "running"),
                    ("EXERCISE_TYPE_BIKING", "cycling"),
                    ("EXERCISE_TYPE_BIKING_STATIONARY", "cycling"),
                    ("EXERCISE_TYPE_SWIMMING_POOL", "swimming"),
                    ("EXERCISE_TYPE_SWIMMING_OPEN_WATER", "swimming"),
                    ("EXERCISE_TYPE_WALKING", "walking"),
                    ("EXERCISE_TYPE_WEIGHTLIFTING", "strength_training"),
                    ("EXERCISE_TYPE_STRENGTH_TRAINING", "strength_training"),
                    ("EXERCISE_TYPE_ROWING_MACHINE", "rowing"),
                    ("EXERCISE_TYPE_STAIR_CLIMBING_MACHINE", "stair_climbing"),
                    ("EXERCISE_TYPE_HIGH_INTENSITY_INTERVAL_TRAINING", "hiit"),
                    ("EXERCISE_TYPE_FOOTBALL_AMERICAN", "american_football"),
                    ("EXERCISE_TYPE_ICE_HOCKEY", "hockey"),
                ],
            ),
        ];
        for (provider, names) in table {
            for (raw, sport) in names {
                assert_eq!(sport_of(raw), *sport, "{provider}: {raw}");
            }
        }
    }

    #[test]
    fn provider_spellings_fold_into_one_name() {
        for (raw, sport) in [
            ("MountainBikeRide", "cycling"),
            ("road_biking", "cycling"),
            ("BIKING", "cycling"),
            (
                "HKWorkoutActivityTypeTraditionalStrengthTraining",
                "strength_training",
            ),
            ("EXERCISE_TYPE_RUNNING_TREADMILL", "running"),
            ("Weightlifting", "strength_training"),
            ("Stand Up Paddling", "paddling"),
            ("curling", "other"),
            ("", "other"),
        ] {
            assert_eq!(sport_of(raw), sport, "{raw}");
        }
    }
}
