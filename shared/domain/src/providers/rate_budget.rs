//! Providers limit calls per app (and Google per user), shared by every worker of a
//! deployment. Each provider call first takes one unit from fixed-window counters kept in the
//! store; when a window is spent the call is not made and the job waits, as a delayed
//! message, until the window ends, as it would after a 429, but without having been refused.

use crate::kernel::error::StoreError;
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::CallCounter;
use crate::providers::ProviderId;
use crate::providers::client::FetchError;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// At most `calls` calls in each window of `seconds` (windows start on multiples of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub seconds: i64,
    pub calls: u64,
}

const fn window(seconds: i64, calls: u64) -> Window {
    Window { seconds, calls }
}

/// Each provider's documented default limits (per app unless `per_user`).
pub fn default_limits() -> BTreeMap<ProviderId, (Vec<Window>, bool)> {
    BTreeMap::from([
        (ProviderId::Withings, (vec![window(60, 120)], false)),
        (
            ProviderId::Whoop,
            (vec![window(60, 100), window(86_400, 10_000)], false),
        ),
        // Strava's read limits; its windows reset on the quarter hour and at midnight UTC.
        (
            ProviderId::Strava,
            (vec![window(900, 100), window(86_400, 1_000)], false),
        ),
        (ProviderId::Oura, (vec![window(300, 5_000)], false)),
        (ProviderId::Polar, (vec![window(900, 500)], false)),
        (ProviderId::Garmin, (vec![window(60, 100)], false)),
        (ProviderId::Fitbit, (vec![window(60, 300)], true)),
        // Dexcom: 60,000 calls an hour per app.
        (ProviderId::Dexcom, (vec![window(3600, 60_000)], false)),
        // Ultrahuman publishes no limit. A day is a call, and a job's whole window must fit in
        // one budget window (a spent window restarts the fetch): a year of days does.
        (ProviderId::Ultrahuman, (vec![window(60, 400)], false)),
        // Wahoo's production app limits (5 minutes, hour, day); sandbox apps get a tenth.
        (
            ProviderId::Wahoo,
            (
                vec![window(300, 200), window(3600, 1_000), window(86_400, 5_000)],
                false,
            ),
        ),
    ])
}

/// The budget one fetch spends from: the provider's windows, keyed per app or per user.
#[derive(Clone, Default)]
pub struct CallBudget {
    inner: Option<Arc<Spender>>,
}

struct Spender {
    counter: Arc<dyn CallCounter>,
    clock: Arc<dyn Clock>,
    key: String,
    windows: Vec<Window>,
}

impl std::fmt::Debug for CallBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallBudget")
    }
}

impl CallBudget {
    pub fn new(
        counter: Arc<dyn CallCounter>,
        clock: Arc<dyn Clock>,
        provider: ProviderId,
        account: &str,
        limits: &BTreeMap<ProviderId, (Vec<Window>, bool)>,
    ) -> Self {
        let Some((windows, per_user)) = limits.get(&provider).filter(|(w, _)| !w.is_empty()) else {
            return Self::default();
        };
        let key = if *per_user {
            format!("{provider}#{account}")
        } else {
            provider.as_str().to_owned()
        };
        Self {
            inner: Some(Arc::new(Spender {
                counter,
                clock,
                key,
                windows: windows.clone(),
            })),
        }
    }

    /// Takes one call from every window, or says how long to wait for the window that is
    /// spent. A store that cannot count is an outage, retried like one.
    pub async fn spend(&self) -> Result<(), FetchError> {
        let Some(spender) = &self.inner else {
            return Ok(());
        };
        let now = spender.clock.now().millis() / 1000;
        for window in &spender.windows {
            let index = now.div_euclid(window.seconds);
            let ends = (index + 1) * window.seconds;
            let key = format!("{}#{}#{index}", spender.key, window.seconds);
            // Counters outlive their window a little, then the store forgets them.
            let expires = Timestamp::from_millis((ends + window.seconds) * 1000)
                .unwrap_or(spender.clock.now());
            let counted = spender
                .counter
                .try_count(&key, window.calls, expires)
                .await
                .map_err(|err: StoreError| FetchError::Unavailable(err.to_string()))?;
            if !counted {
                let wait = u64::try_from(ends - now).unwrap_or(1).max(1);
                return Err(FetchError::RateLimited(Duration::from_secs(wait)));
            }
        }
        Ok(())
    }
}
