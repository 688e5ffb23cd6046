//! A day of glucose readings as clinicians read a CGM report: the mean, the extremes, and the
//! share of readings below, in and above the target range of 70–180 mg/dL (3.9–10.0 mmol/L,
//! the international consensus on time in range). Readings are stored in mmol/L; the range is
//! checked on the whole mg/dL a meter shows, so 3.9 mmol/L (70.3 mg/dL) is in range and a
//! Dexcom 70 stored as 3.885 mmol/L still is.

use super::GLUCOSE_MG_DL_PER_MMOL_L;

/// The target range, mg/dL, both ends included.
pub const TARGET_MG_DL: (f64, f64) = (70.0, 180.0);

/// What a local day's glucose readings come to. Values in mmol/L, shares in percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlucoseDay {
    pub readings: u64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub below_range_percent: f64,
    pub in_range_percent: f64,
    pub above_range_percent: f64,
}

/// Readings added one at a time (a day of 5-minute readings is 288).
#[derive(Debug, Clone, Copy, Default)]
pub struct GlucoseTally {
    readings: u64,
    sum: f64,
    min: f64,
    max: f64,
    below: u64,
    above: u64,
}

impl GlucoseTally {
    pub fn add(&mut self, mmol_l: f64) {
        if !mmol_l.is_finite() {
            return;
        }
        if self.readings == 0 {
            self.min = mmol_l;
            self.max = mmol_l;
        } else {
            self.min = self.min.min(mmol_l);
            self.max = self.max.max(mmol_l);
        }
        self.readings += 1;
        self.sum += mmol_l;
        let mg_dl = (mmol_l * GLUCOSE_MG_DL_PER_MMOL_L).round();
        if mg_dl < TARGET_MG_DL.0 {
            self.below += 1;
        } else if mg_dl > TARGET_MG_DL.1 {
            self.above += 1;
        }
    }

    pub fn merge(&mut self, other: &GlucoseTally) {
        if other.readings == 0 {
            return;
        }
        if self.readings == 0 {
            *self = *other;
            return;
        }
        self.readings += other.readings;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.below += other.below;
        self.above += other.above;
    }

    pub fn mean(&self) -> Option<f64> {
        (self.readings > 0).then(|| round(self.sum / self.readings as f64, 3))
    }

    /// The day's figures; `None` without readings.
    pub fn finish(&self) -> Option<GlucoseDay> {
        let mean = self.mean()?;
        let share = |count: u64| round(count as f64 * 100.0 / self.readings as f64, 1);
        let below = share(self.below);
        let above = share(self.above);
        Some(GlucoseDay {
            readings: self.readings,
            mean,
            min: round(self.min, 3),
            max: round(self.max, 3),
            below_range_percent: below,
            in_range_percent: share(self.readings - self.below - self.above),
            above_range_percent: above,
        })
    }
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::glucose_mmol_l;

    #[test]
    fn the_range_is_read_on_whole_mg_dl_at_both_ends() {
        let mut day = GlucoseTally::default();
        // 69 and 181 are out; 70 and 180 (as Dexcom sends them, and as 3.9 and 10.0 mmol/L
        // phones write) are in.
        for mg_dl in [69.0, 70.0, 180.0, 181.0] {
            day.add(glucose_mmol_l(mg_dl));
        }
        day.add(3.9);
        day.add(10.0);
        let figures = day.finish().unwrap();
        assert_eq!(figures.readings, 6);
        assert_eq!(figures.below_range_percent, 16.7);
        assert_eq!(figures.above_range_percent, 16.7);
        assert_eq!(figures.in_range_percent, 66.7);
        assert_eq!(figures.min, 3.83);
        assert_eq!(figures.max, 10.047);
    }

    #[test]
    fn tallies_merge_as_if_added_together() {
        let mut one = GlucoseTally::default();
        let mut other = GlucoseTally::default();
        let mut both = GlucoseTally::default();
        for (n, value) in [5.5, 4.0, 12.1, 3.2, 7.7].into_iter().enumerate() {
            both.add(value);
            if n % 2 == 0 {
                one.add(value);
            } else {
                other.add(value);
            }
        }
        one.merge(&other);
        assert_eq!(one.finish(), both.finish());
        assert_eq!(GlucoseTally::default().finish(), None);
    }
}
