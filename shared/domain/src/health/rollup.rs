//! Pre-aggregates of dense samples, written beside the raw chunks so charts need not scan
//! every sample. Each metric and UTC day has two: per minute (`M#<metric>#<day>`) and per
//! quarter hour (`Q#<metric>#<day>`). A slot holds the count, sum, min and max (values × 1000,
//! as chunks keep them: sums are exact) of its samples recorded at one UTC offset, so a slot a
//! traveller's phone changed offset in is two slots. Every UTC offset in use is a whole number
//! of quarter hours, so local minute, hour, day, week and month buckets, in any zone or at each
//! reading's recorded offset, are unions of whole slots: quarter hours serve hours and longer,
//! minutes serve minutes.
//!
//! A day's rollups are rebuilt from its hour chunks whenever one of them changes (a revision,
//! a late sample), slot by slot for the hours that changed, and removed with them. A
//! connection's records carry a marker (`V#rollups`) once every chunk it has is rolled up;
//! without it (data stored before rollups existed) reads scan the chunks, and the next write
//! rolls everything up first.
//!
//! Layout: a version byte, then LZ4 of: the slot count and the power of ten every value is
//! divided by (whole-unit values are written in whole units), as varints, then six columns,
//! each bit-packed as chunk values are (zig-zag where signed): the slots' starts (slots from
//! the day's midnight, as deltas), offsets (deltas), counts, minimums (deltas), maximums less
//! minimums, and sums less count × minimum. A minute of 1 Hz heart rate takes about two
//! bytes. Deterministic: the same slots give the same bytes, so an unchanged rollup is not
//! written again.

use super::Metric;
use super::chunk::{pack, put_varint, unpack, unzigzag, zigzag};
use thiserror::Error;

const FORMAT_VERSION: u8 = 1;
/// The most a rollup decompresses to: far above a day of minute slots at several offsets.
const MAX_RAW_BYTES: u32 = 4 * 1024 * 1024;
const DAY_MS: i64 = 86_400_000;

/// The key whose presence says a connection's chunks are all rolled up, and that a
/// `measured_marker` is there for every metric it has readings at an instant of.
pub const ROLLED_UP_MARKER: &str = "V#rollups";

/// `V#measured#weight`: the connection has readings at an instant (measurements) of `metric`
/// (charts of a metric without any skip looking for them).
pub fn measured_marker(metric: Metric) -> String {
    format!("V#measured#{metric}")
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("the rollup is damaged")]
pub struct RollupError;

/// How fine a rollup's slots are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    Minute,
    QuarterHour,
}

impl Grain {
    pub const ALL: [Grain; 2] = [Grain::Minute, Grain::QuarterHour];

    pub fn millis(self) -> i64 {
        match self {
            Grain::Minute => 60_000,
            Grain::QuarterHour => 900_000,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Grain::Minute => "M",
            Grain::QuarterHour => "Q",
        }
    }
}

/// The samples of one slot recorded at one offset. Values × 1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// UTC ms the slot starts at.
    pub start_ms: i64,
    /// The offset the samples were recorded at.
    pub offset: i32,
    pub count: u64,
    pub sum: i64,
    pub min: i64,
    pub max: i64,
}

/// `M#heart_rate#2026-10-01`: a metric's rollup of one UTC day.
pub fn rollup_key(grain: Grain, metric: Metric, utc_day: &str) -> String {
    format!("{}#{metric}#{utc_day}", grain.prefix())
}

/// The UTC midnight starting `utc_day`, in ms.
pub fn day_start(utc_day: &str) -> Option<i64> {
    super::local_day_bounds(utc_day, 0).map(|(start, _)| start)
}

/// The slots of `points` (`(UTC ms, value × 1000, offset)`, sorted by instant), in order of
/// start, then offset.
pub fn slots_of(grain: Grain, points: &[(i64, i64, i32)]) -> Vec<Slot> {
    let step = grain.millis();
    let mut slots: Vec<Slot> = Vec::new();
    for &(at, value, offset) in points {
        let start_ms = at.div_euclid(step) * step;
        // Points are in time order, so a slot's points at one offset are together unless the
        // offset flips back and forth inside it: then look for the slot's earlier entry.
        let found = slots
            .iter_mut()
            .rev()
            .take_while(|slot| slot.start_ms == start_ms)
            .find(|slot| slot.offset == offset);
        match found {
            Some(slot) => {
                slot.count += 1;
                slot.sum = slot.sum.saturating_add(value);
                slot.min = slot.min.min(value);
                slot.max = slot.max.max(value);
            }
            None => slots.push(Slot {
                start_ms,
                offset,
                count: 1,
                sum: value,
                min: value,
                max: value,
            }),
        }
    }
    slots.sort_by_key(|slot| (slot.start_ms, slot.offset));
    slots
}

/// `existing` with the slots in `[from, to)` replaced by `fresh` (whose slots all lie there).
pub fn replace_span(existing: &[Slot], from: i64, to: i64, fresh: &[Slot]) -> Vec<Slot> {
    let mut slots: Vec<Slot> = existing
        .iter()
        .filter(|slot| !(from..to).contains(&slot.start_ms))
        .copied()
        .chain(fresh.iter().copied())
        .collect();
    slots.sort_by_key(|slot| (slot.start_ms, slot.offset));
    slots
}

/// The UTC hour a chunk key (`S#<metric>#YYYY-MM-DDTHH`) names: its start in ms, and its day.
fn chunk_hour(chunk_key: &str) -> Option<(i64, String)> {
    let hour = chunk_key.rsplit('#').next()?;
    let day = hour.get(..10)?;
    let start = day_start(day)? + hour.get(11..13)?.parse::<i64>().ok()? * 3_600_000;
    Some((start, day.to_owned()))
}

/// The metrics and UTC days the chunks named by `keys` fall on.
pub fn days_of<'a>(
    keys: impl Iterator<Item = (&'a String, Metric)>,
) -> std::collections::BTreeSet<(Metric, String)> {
    keys.filter_map(|(key, metric)| chunk_hour(key).map(|(_, day)| (metric, day)))
        .collect()
}

/// The metric a chunk key names.
fn chunk_metric(chunk_key: &str) -> Option<Metric> {
    chunk_key.split('#').nth(1).and_then(Metric::parse)
}

/// Rollups being brought up to date by one write: the hours whose chunks it writes (or, when
/// a connection is first rolled up, every hour it has), each hour's slots replacing what the
/// day's rollup held for it.
/// Each hour's slots (by the hour's UTC start), per rollup: grain, metric and UTC day.
type HourSlots = std::collections::BTreeMap<(Grain, Metric, String), Vec<(i64, Vec<Slot>)>>;

#[derive(Default)]
pub struct Pending {
    hours: HourSlots,
    /// Build from the hours given alone, not over the stored rollups.
    whole: bool,
    /// Write the marker that the connection is rolled up.
    mark: bool,
    /// Metrics whose measured marker to write.
    measured: std::collections::BTreeSet<Metric>,
}

impl Pending {
    /// The hour chunk `chunk_key` now holds `points` (sorted, values × 1000, with offsets).
    pub fn hour(&mut self, chunk_key: &str, points: &[(i64, i64, i32)]) {
        let (Some((start, day)), Some(metric)) = (chunk_hour(chunk_key), chunk_metric(chunk_key))
        else {
            return;
        };
        for grain in Grain::ALL {
            self.hours
                .entry((grain, metric, day.clone()))
                .or_default()
                .push((start, slots_of(grain, points)));
        }
    }

    /// Every chunk the connection has was given: its stored rollups (if any) are not read.
    pub fn rebuilding(&mut self) {
        self.whole = true;
    }

    pub fn mark(&mut self) {
        self.mark = true;
    }

    /// The connection has measurements of `metric` (its marker is written).
    pub fn measured(&mut self, metric: Metric) {
        self.measured.insert(metric);
    }

    /// The rollups (and marker) to write: those whose bytes differ from what `stored` holds.
    pub fn finish(
        self,
        mut stored: impl FnMut(&String) -> Option<Vec<u8>>,
    ) -> Vec<(String, Vec<u8>)> {
        let mut writes = Vec::new();
        for ((grain, metric, day), hours) in self.hours {
            let Some(start) = day_start(&day) else {
                continue;
            };
            let key = rollup_key(grain, metric, &day);
            let before = stored(&key);
            let mut slots = match (&before, self.whole) {
                (Some(bytes), false) => decode(grain, start, bytes).unwrap_or_else(|_| {
                    tracing::warn!(key = %key, "a damaged rollup is rebuilt from this write");
                    Vec::new()
                }),
                _ => Vec::new(),
            };
            for (hour, fresh) in hours {
                slots = replace_span(&slots, hour, hour + 3_600_000, &fresh);
            }
            let bytes = encode(grain, start, &slots);
            if before.as_deref() != Some(bytes.as_slice()) {
                writes.push((key, bytes));
            }
        }
        for metric in self.measured {
            writes.push((measured_marker(metric), b"1".to_vec()));
        }
        if self.mark {
            writes.push((ROLLED_UP_MARKER.to_owned(), b"1".to_vec()));
        }
        writes
    }
}

/// The largest power of ten (up to 1000, the values' own scale) that divides every min, max
/// and sum: whole-unit values are written in whole units.
fn divisor_of(slots: &[Slot]) -> i64 {
    [1000, 100, 10]
        .into_iter()
        .find(|divisor| {
            slots
                .iter()
                .all(|s| s.min % divisor == 0 && s.max % divisor == 0 && s.sum % divisor == 0)
        })
        .unwrap_or(1)
}

/// Encodes one UTC day's slots (each within `[day_start, day_start + 1 day)`, sorted).
pub fn encode(grain: Grain, day_start_ms: i64, slots: &[Slot]) -> Vec<u8> {
    let step = grain.millis();
    let divisor = divisor_of(slots);
    let mut columns: [Vec<u64>; 6] = Default::default();
    let (mut last_index, mut last_offset, mut last_min) = (0i64, 0i64, 0i64);
    for slot in slots {
        let (min, max, sum) = (slot.min / divisor, slot.max / divisor, slot.sum / divisor);
        let index = (slot.start_ms - day_start_ms).div_euclid(step);
        let [indexes, offsets, counts, mins, spans, sums] = &mut columns;
        indexes.push(zigzag(index - last_index));
        offsets.push(zigzag(i64::from(slot.offset) - last_offset));
        counts.push(slot.count);
        mins.push(zigzag(min.wrapping_sub(last_min)));
        spans.push(zigzag(max.wrapping_sub(min)));
        sums.push(zigzag(
            sum.wrapping_sub(min.wrapping_mul(slot.count as i64)),
        ));
        (last_index, last_offset, last_min) = (index, i64::from(slot.offset), min);
    }
    let mut raw = Vec::with_capacity(slots.len() * 3 + 16);
    put_varint(&mut raw, slots.len() as u64);
    put_varint(&mut raw, divisor as u64);
    for column in &columns {
        pack(column, &mut raw);
    }
    let mut out = vec![FORMAT_VERSION];
    out.extend(lz4_flex::compress_prepend_size(&raw));
    out
}

pub fn decode(grain: Grain, day_start_ms: i64, bytes: &[u8]) -> Result<Vec<Slot>, RollupError> {
    let (&version, compressed) = bytes.split_first().ok_or(RollupError)?;
    if version != FORMAT_VERSION {
        return Err(RollupError);
    }
    let size = compressed
        .get(..4)
        .and_then(|prefix| <[u8; 4]>::try_from(prefix).ok())
        .map(u32::from_le_bytes)
        .ok_or(RollupError)?;
    if size > MAX_RAW_BYTES {
        return Err(RollupError);
    }
    let raw = lz4_flex::decompress_size_prepended(compressed).map_err(|_| RollupError)?;
    let mut input = raw.as_slice();
    let mut varint = || super::chunk::take_varint(&mut input).map_err(|_| RollupError);
    let count = usize::try_from(varint()?).map_err(|_| RollupError)?;
    let divisor = i64::try_from(varint()?)
        .ok()
        .filter(|divisor| [1, 10, 100, 1000].contains(divisor))
        .ok_or(RollupError)?;
    let step = grain.millis();
    // A day has this many slots at most per offset: a count far beyond is damage.
    if count as i64 > 4 * DAY_MS / step {
        return Err(RollupError);
    }
    let mut column = || unpack(&mut input, count).map_err(|_| RollupError);
    let (indexes, offsets, counts) = (column()?, column()?, column()?);
    let (mins, spans, sums) = (column()?, column()?, column()?);
    if !input.is_empty() {
        return Err(RollupError);
    }
    let mut slots = Vec::with_capacity(count);
    let (mut index, mut offset, mut min) = (0i64, 0i64, 0i64);
    for n in 0..count {
        index = index.wrapping_add(unzigzag(indexes[n]));
        offset = offset.wrapping_add(unzigzag(offsets[n]));
        let samples = counts[n];
        min = min.wrapping_add(unzigzag(mins[n]));
        let max = min.wrapping_add(unzigzag(spans[n]));
        let sum = min
            .wrapping_mul(samples as i64)
            .wrapping_add(unzigzag(sums[n]));
        if !(0..DAY_MS / step).contains(&index) {
            return Err(RollupError);
        }
        slots.push(Slot {
            start_ms: day_start_ms + index * step,
            offset: i32::try_from(offset).map_err(|_| RollupError)?,
            count: samples,
            sum: sum.wrapping_mul(divisor),
            min: min.wrapping_mul(divisor),
            max: max.wrapping_mul(divisor),
        });
    }
    Ok(slots)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn slots_sum_exactly_and_keep_each_offset_apart() {
        let day = day_start("2026-03-08").unwrap();
        // Newfoundland springs forward at 05:30 UTC: two offsets inside one quarter hour's
        // neighbour, and a phone flipping back and forth inside one minute.
        let points = [
            (day + 5 * 3_600_000 + 20 * 60_000, 61_000, -12_600),
            (day + 5 * 3_600_000 + 29 * 60_000, 63_500, -12_600),
            (day + 5 * 3_600_000 + 30 * 60_000, 70_000, -9000),
            (day + 5 * 3_600_000 + 30 * 60_000 + 10_000, 71_000, -12_600),
            (day + 5 * 3_600_000 + 30 * 60_000 + 20_000, 72_000, -9000),
        ];
        let quarters = slots_of(Grain::QuarterHour, &points);
        assert_eq!(quarters.len(), 3);
        assert_eq!(
            (
                quarters[0].count,
                quarters[0].sum,
                quarters[0].min,
                quarters[0].max
            ),
            (2, 124_500, 61_000, 63_500)
        );
        assert_eq!((quarters[1].offset, quarters[1].count), (-12_600, 1));
        assert_eq!((quarters[2].offset, quarters[2].sum), (-9000, 142_000));
        let minutes = slots_of(Grain::Minute, &points);
        assert_eq!(minutes.len(), 4);
        for grain in Grain::ALL {
            let slots = slots_of(grain, &points);
            let bytes = encode(grain, day, &slots);
            assert_eq!(decode(grain, day, &bytes).unwrap(), slots);
            assert_eq!(encode(grain, day, &slots), bytes, "deterministic");
        }
        assert_eq!(
            rollup_key(Grain::Minute, Metric::HeartRate, "2026-03-08"),
            "M#heart_rate#2026-03-08"
        );
    }

    #[test]
    fn replacing_an_hour_keeps_the_others() {
        let day = day_start("2026-01-01").unwrap();
        let hour = 3_600_000;
        let all = slots_of(
            Grain::QuarterHour,
            &[
                (day + 10, 1000, 0),
                (day + hour + 10, 2000, 0),
                (day + 2 * hour, 3000, 0),
            ],
        );
        let fresh = slots_of(Grain::QuarterHour, &[(day + hour + 20, 5000, 0)]);
        let replaced = replace_span(&all, day + hour, day + 2 * hour, &fresh);
        let sums: Vec<i64> = replaced.iter().map(|s| s.sum).collect();
        assert_eq!(sums, [1000, 5000, 3000]);
    }

    #[test]
    fn damage_is_refused() {
        let day = day_start("2026-01-01").unwrap();
        assert_eq!(decode(Grain::Minute, day, &[]), Err(RollupError));
        assert_eq!(
            decode(Grain::Minute, day, &[9, 0, 0, 0, 0]),
            Err(RollupError)
        );
        let mut bytes = encode(Grain::Minute, day, &slots_of(Grain::Minute, &[(day, 5, 0)]));
        bytes.truncate(bytes.len() - 1);
        assert_eq!(decode(Grain::Minute, day, &bytes), Err(RollupError));
    }
}
