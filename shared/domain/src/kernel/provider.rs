//! Who the data comes from: the providers VitaSync connects to and the phone sources, by name.
//! Their OAuth and configuration are the providers area's; the name is everyone's.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderId {
    Withings,
    Whoop,
    Strava,
    Oura,
    Garmin,
    Polar,
    Fitbit,
    Dexcom,
    Ultrahuman,
    Suunto,
    Wahoo,
    Demo,
    /// Pushed from the user's iPhone by the developer's app (no server API).
    #[serde(rename = "apple_health")]
    AppleHealth,
    /// Pushed from the user's Android phone by the developer's app.
    #[serde(rename = "health_connect")]
    HealthConnect,
    #[serde(rename = "samsung_health")]
    SamsungHealth,
}

impl ProviderId {
    pub const ALL: [ProviderId; 12] = [
        ProviderId::Withings,
        ProviderId::Whoop,
        ProviderId::Strava,
        ProviderId::Oura,
        ProviderId::Garmin,
        ProviderId::Polar,
        ProviderId::Fitbit,
        ProviderId::Dexcom,
        ProviderId::Ultrahuman,
        ProviderId::Suunto,
        ProviderId::Wahoo,
        ProviderId::Demo,
    ];

    /// On-device stores whose data the developer's app pushes (`POST /v1/me/samples`).
    pub const MOBILE: [ProviderId; 3] = [
        ProviderId::AppleHealth,
        ProviderId::HealthConnect,
        ProviderId::SamsungHealth,
    ];

    /// Whether the data comes from the user's phone rather than a provider's server.
    pub fn is_mobile(self) -> bool {
        Self::MOBILE.contains(&self)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderId::Withings => "withings",
            ProviderId::Whoop => "whoop",
            ProviderId::Strava => "strava",
            ProviderId::Oura => "oura",
            ProviderId::Garmin => "garmin",
            ProviderId::Polar => "polar",
            ProviderId::Fitbit => "fitbit",
            ProviderId::Dexcom => "dexcom",
            ProviderId::Ultrahuman => "ultrahuman",
            ProviderId::Suunto => "suunto",
            ProviderId::Wahoo => "wahoo",
            ProviderId::Demo => "demo",
            ProviderId::AppleHealth => "apple_health",
            ProviderId::HealthConnect => "health_connect",
            ProviderId::SamsungHealth => "samsung_health",
        }
    }

    /// A cloud provider (or the demo) by name; the mobile sources are `parse_mobile`'s.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|id| id.as_str() == raw)
    }

    pub fn parse_mobile(raw: &str) -> Option<Self> {
        Self::MOBILE.into_iter().find(|id| id.as_str() == raw)
    }

    /// The prefix of this provider's environment variables, e.g. `WITHINGS`.
    pub fn env_prefix(self) -> String {
        self.as_str().to_uppercase()
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
