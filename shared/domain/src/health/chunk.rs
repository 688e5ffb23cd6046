//! Dense samples are stored as one compressed, write-once chunk per metric, connection and UTC
//! hour: 3,600 one-second heart-rate samples become one item of a few kilobytes instead of
//! 3,600 rows, and a sync during the day rewrites only the hour still filling up.
//!
//! Layout (format 2), LZ4-compressed after the version byte: the point count, the UTC offset
//! where the points were recorded, the value scale, then the timestamps as one column
//! (the first, then deltas of deltas: a steady 1 Hz series is all zeros) and the values as
//! another (deltas), all zig-zag varints. Values are kept to 1/1000 of their unit and written
//! with the coarsest scale that loses nothing (heart rate in whole beats takes one byte a
//! point). The encoding is deterministic, so the same points give the same bytes and an
//! unchanged chunk is not written again.
//!
//! Format 3 is format 2 with the offset changes inside the hour (a DST switch at :30 UTC, as
//! in Newfoundland; a traveller's phone) after the scale: their count, then each change's
//! instant and offset.
//!
//! Formats 4 and 5 (written now; 2 and 3 are still read) are 2 and 3 with the values' deltas
//! bit-packed: a byte giving the width in bits of the widest zig-zag delta, then every delta
//! in that many bits, least significant first. A wrist's heart rate moves a beat or two a
//! second, so an hour of it packs into two or three bits a point: under a kilobyte, where
//! varints took a byte a point and LZ4 found little to squeeze.

use thiserror::Error;

const FORMAT_VERSION: u8 = 2;
const FORMAT_WITH_OFFSET_CHANGES: u8 = 3;
const PACKED: u8 = 4;
const PACKED_WITH_OFFSET_CHANGES: u8 = 5;
/// The most a chunk decompresses to: far above an hour of millisecond samples.
const MAX_RAW_BYTES: u32 = 64 * 1024 * 1024;
/// Values are kept to this fraction of their unit.
const VALUE_SCALE: f64 = 1000.0;
/// `VALUE_SCALE` is 10^3: a chunk's values are written divided by 10^(3 - digits).
const SCALE_DIGITS: u32 = 3;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("the sample chunk is damaged")]
pub struct ChunkError;

/// Points of one metric in one hour: `(UTC ms, value × 1000)`, sorted, one per instant.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chunk {
    /// The UTC offset in force at the first point, in seconds.
    pub utc_offset_seconds: i32,
    /// Where the offset changes inside the hour: from each instant on, that offset. Sorted;
    /// empty for nearly every chunk.
    pub offset_changes: Vec<(i64, i32)>,
    pub points: Vec<(i64, i64)>,
}

impl Chunk {
    /// The UTC offset in force at `at_ms`.
    pub fn offset_at(&self, at_ms: i64) -> i32 {
        self.offset_changes
            .iter()
            .take_while(|(from, _)| *from <= at_ms)
            .last()
            .map_or(self.utc_offset_seconds, |(_, offset)| *offset)
    }

    /// A chunk of `points`, each with the offset it was recorded at (sorted, one per instant).
    pub fn with_offsets(points: &[(i64, i64, i32)]) -> Self {
        let utc_offset_seconds = points.first().map_or(0, |p| p.2);
        let mut offset_changes = Vec::new();
        let mut current = utc_offset_seconds;
        for (at, _, offset) in points {
            if *offset != current {
                offset_changes.push((*at, *offset));
                current = *offset;
            }
        }
        Self {
            utc_offset_seconds,
            offset_changes,
            points: points.iter().map(|(at, value, _)| (*at, *value)).collect(),
        }
    }

    /// Each point with the offset in force at it.
    pub fn points_with_offsets(&self) -> Vec<(i64, i64, i32)> {
        let mut changes = self.offset_changes.iter().peekable();
        let mut offset = self.utc_offset_seconds;
        self.points
            .iter()
            .map(|(at, value)| {
                while let Some((_, next)) = changes.next_if(|(from, _)| from <= at) {
                    offset = *next;
                }
                (*at, *value, offset)
            })
            .collect()
    }
}

pub(crate) fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

pub(crate) fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub(crate) fn take_varint(input: &mut &[u8]) -> Result<u64, ChunkError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first().ok_or(ChunkError)?;
        *input = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ChunkError)
}

/// `values` in as few bits each as the widest needs: the width, then the bits.
pub(crate) fn pack(values: &[u64], out: &mut Vec<u8>) {
    let width = values
        .iter()
        .map(|value| 64 - value.leading_zeros())
        .max()
        .unwrap_or(0);
    out.push(width as u8);
    let (mut pending, mut bits) = (0u128, 0u32);
    for value in values {
        pending |= u128::from(*value) << bits;
        bits += width;
        while bits >= 8 {
            out.push(pending as u8);
            pending >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(pending as u8);
    }
}

/// `count` values packed by `pack`.
pub(crate) fn unpack(input: &mut &[u8], count: usize) -> Result<Vec<u64>, ChunkError> {
    let (&width, rest) = input.split_first().ok_or(ChunkError)?;
    let width = u32::from(width);
    if width > 64 {
        return Err(ChunkError);
    }
    let bytes = (count as u64 * u64::from(width)).div_ceil(8) as usize;
    if rest.len() < bytes {
        return Err(ChunkError);
    }
    let (packed, after) = rest.split_at(bytes);
    let mask = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    let mut values = Vec::with_capacity(count);
    let (mut pending, mut bits, mut next) = (0u128, 0u32, packed.iter());
    for _ in 0..count {
        while bits < width {
            pending |= u128::from(*next.next().ok_or(ChunkError)?) << bits;
            bits += 8;
        }
        values.push(pending as u64 & mask);
        pending >>= width;
        bits -= width;
    }
    *input = after;
    Ok(values)
}

fn scaled(value: f64) -> i64 {
    (value * VALUE_SCALE).round() as i64
}

/// Sorts by time and keeps the last value (and its offset) given for each instant.
pub fn normalise_with_offsets(points: &[(i64, f64, i32)]) -> Vec<(i64, i64, i32)> {
    let mut sorted: Vec<(i64, i64, i32)> = points
        .iter()
        .map(|(at, v, offset)| (*at, scaled(*v), *offset))
        .collect();
    sorted.sort_by_key(|(at, _, _)| *at);
    let mut out: Vec<(i64, i64, i32)> = Vec::with_capacity(sorted.len());
    for point in sorted {
        match out.last_mut() {
            Some(last) if last.0 == point.0 => *last = point,
            _ => out.push(point),
        }
    }
    out
}

/// `existing` with `fresh` laid over it (a fresh point, and its offset, replaces a stored one
/// at the same instant).
pub fn merge_with_offsets(
    existing: &[(i64, i64, i32)],
    fresh: &[(i64, i64, i32)],
) -> Vec<(i64, i64, i32)> {
    let mut merged = Vec::with_capacity(existing.len() + fresh.len());
    let (mut old, mut new) = (existing.iter().peekable(), fresh.iter().peekable());
    while let (Some(a), Some(b)) = (old.peek().copied(), new.peek().copied()) {
        if a.0 < b.0 {
            merged.push(*a);
            old.next();
        } else {
            if a.0 == b.0 {
                old.next();
            }
            merged.push(*b);
            new.next();
        }
    }
    merged.extend(old);
    merged.extend(new);
    merged
}

/// The most decimal digits any value needs (0 when all are whole units).
fn digits_needed(points: &[(i64, i64)]) -> u32 {
    let mut digits = 0;
    for (_, value) in points {
        while digits < SCALE_DIGITS && value % 10i64.pow(SCALE_DIGITS - digits) != 0 {
            digits += 1;
        }
        if digits == SCALE_DIGITS {
            break;
        }
    }
    digits
}

/// Encodes a chunk whose points are already `normalise`d.
pub fn encode(chunk: &Chunk) -> Vec<u8> {
    let points = &chunk.points;
    let digits = digits_needed(points);
    let divisor = 10i64.pow(SCALE_DIGITS - digits);
    let mut raw = Vec::with_capacity(points.len() * 2 + 16);
    put_varint(&mut raw, points.len() as u64);
    put_varint(&mut raw, zigzag(i64::from(chunk.utc_offset_seconds)));
    put_varint(&mut raw, u64::from(digits));
    if !chunk.offset_changes.is_empty() {
        put_varint(&mut raw, chunk.offset_changes.len() as u64);
        for (at, offset) in &chunk.offset_changes {
            put_varint(&mut raw, zigzag(*at));
            put_varint(&mut raw, zigzag(i64::from(*offset)));
        }
    }
    let (mut last_at, mut last_step) = (0i64, 0i64);
    for (index, (at, _)) in points.iter().enumerate() {
        let step = at.wrapping_sub(last_at);
        let encoded = if index == 0 {
            *at
        } else {
            step.wrapping_sub(last_step)
        };
        put_varint(&mut raw, zigzag(encoded));
        if index > 0 {
            last_step = step;
        }
        last_at = *at;
    }
    let mut last_value = 0i64;
    let deltas: Vec<u64> = points
        .iter()
        .map(|(_, value)| {
            let value = value / divisor;
            let delta = zigzag(value.wrapping_sub(last_value));
            last_value = value;
            delta
        })
        .collect();
    // The first delta is the first value itself: kept as a varint so a steady series of
    // large values still packs narrow.
    if let Some((first, rest)) = deltas.split_first() {
        put_varint(&mut raw, *first);
        pack(rest, &mut raw);
    }
    let mut out = vec![if chunk.offset_changes.is_empty() {
        PACKED
    } else {
        PACKED_WITH_OFFSET_CHANGES
    }];
    out.extend(lz4_flex::compress_prepend_size(&raw));
    out
}

/// A chunk's points, sorted, values × 1000, and the offset they were recorded at.
pub fn decode(bytes: &[u8]) -> Result<Chunk, ChunkError> {
    let (&version, compressed) = bytes.split_first().ok_or(ChunkError)?;
    if !(FORMAT_VERSION..=PACKED_WITH_OFFSET_CHANGES).contains(&version) {
        return Err(ChunkError);
    }
    let packed = matches!(version, PACKED | PACKED_WITH_OFFSET_CHANGES);
    let with_changes = matches!(
        version,
        FORMAT_WITH_OFFSET_CHANGES | PACKED_WITH_OFFSET_CHANGES
    );
    // The size prefix is trusted by the decompressor: a damaged one must not allocate
    // gigabytes. An hour of millisecond samples is far below the cap.
    let size = compressed
        .get(..4)
        .and_then(|prefix| <[u8; 4]>::try_from(prefix).ok())
        .map(u32::from_le_bytes)
        .ok_or(ChunkError)?;
    if size > MAX_RAW_BYTES {
        return Err(ChunkError);
    }
    let raw = lz4_flex::decompress_size_prepended(compressed).map_err(|_| ChunkError)?;
    let mut input = raw.as_slice();
    let count = usize::try_from(take_varint(&mut input)?).map_err(|_| ChunkError)?;
    let utc_offset_seconds =
        i32::try_from(unzigzag(take_varint(&mut input)?)).map_err(|_| ChunkError)?;
    let digits = u32::try_from(take_varint(&mut input)?)
        .ok()
        .filter(|digits| *digits <= SCALE_DIGITS)
        .ok_or(ChunkError)?;
    let multiplier = 10i64.pow(SCALE_DIGITS - digits);
    let mut offset_changes = Vec::new();
    if with_changes {
        let changes = usize::try_from(take_varint(&mut input)?).map_err(|_| ChunkError)?;
        if changes > input.len() / 2 {
            return Err(ChunkError);
        }
        for _ in 0..changes {
            let at = unzigzag(take_varint(&mut input)?);
            let offset =
                i32::try_from(unzigzag(take_varint(&mut input)?)).map_err(|_| ChunkError)?;
            offset_changes.push((at, offset));
        }
    }
    // Each point's time takes at least a byte: a count beyond that is damage, not a big
    // chunk.
    if count > input.len() + 1 {
        return Err(ChunkError);
    }
    let mut points = Vec::with_capacity(count);
    let (mut at, mut step) = (0i64, 0i64);
    for index in 0..count {
        let encoded = unzigzag(take_varint(&mut input)?);
        if index == 0 {
            at = encoded;
        } else {
            step = if index == 1 {
                encoded
            } else {
                step.wrapping_add(encoded)
            };
            at = at.wrapping_add(step);
        }
        points.push((at, 0));
    }
    let deltas = if packed && count > 0 {
        let first = take_varint(&mut input)?;
        let mut deltas = vec![first];
        deltas.extend(unpack(&mut input, count - 1)?);
        deltas
    } else {
        (0..count)
            .map(|_| take_varint(&mut input))
            .collect::<Result<Vec<u64>, ChunkError>>()?
    };
    let mut value = 0i64;
    for (point, delta) in points.iter_mut().zip(deltas) {
        value = value.wrapping_add(unzigzag(delta));
        point.1 = value.wrapping_mul(multiplier);
    }
    if input.is_empty() {
        Ok(Chunk {
            utc_offset_seconds,
            offset_changes,
            points,
        })
    } else {
        Err(ChunkError)
    }
}

/// A chunk's points as values in their unit.
pub fn values(points: &[(i64, i64)]) -> impl Iterator<Item = (i64, f64)> + '_ {
    points
        .iter()
        .map(|(at, value)| (*at, *value as f64 / VALUE_SCALE))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points at one offset, as the chunk stores them.
    fn normalise(points: &[(i64, f64)]) -> Vec<(i64, i64)> {
        let at_zero: Vec<(i64, f64, i32)> = points.iter().map(|(at, v)| (*at, *v, 0)).collect();
        normalise_with_offsets(&at_zero)
            .into_iter()
            .map(|(at, value, _)| (at, value))
            .collect()
    }

    fn heart_rate_hour(start: i64) -> Vec<(i64, f64)> {
        (0..3600)
            .map(|s| (start + s * 1000, 60.0 + ((s / 37) % 40) as f64))
            .collect()
    }

    #[test]
    fn an_hour_of_one_hertz_heart_rate_round_trips_in_a_few_kilobytes() {
        let start = 1_790_000_000_000i64;
        let chunk = Chunk {
            utc_offset_seconds: -5 * 3600,
            offset_changes: Vec::new(),
            points: normalise(&heart_rate_hour(start)),
        };
        let bytes = encode(&chunk);
        assert!(bytes.len() < 2 * 1024, "{} bytes", bytes.len());
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded, chunk);
        assert_eq!(values(&decoded.points).next(), Some((start, 60.0)));
        assert_eq!(encode(&decoded), bytes, "deterministic");
    }

    #[test]
    fn a_wrists_random_walk_packs_into_under_a_kilobyte_an_hour() {
        let start = 1_790_000_000_000i64;
        let mut seed = 42u64;
        let mut bpm = 62i64;
        let walk: Vec<(i64, f64)> = (0..3600)
            .map(|s| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                bpm = (bpm + ((seed >> 33) % 3) as i64 - 1).clamp(45, 185);
                (start + s * 1000, bpm as f64)
            })
            .collect();
        let chunk = Chunk {
            points: normalise(&walk),
            ..Chunk::default()
        };
        let bytes = encode(&chunk);
        assert!(bytes.len() < 1000, "{} bytes", bytes.len());
        assert_eq!(decode(&bytes).unwrap(), chunk);
    }

    /// Format 2, as earlier versions wrote it: values as varint deltas.
    fn format_two(chunk: &Chunk) -> Vec<u8> {
        let mut raw = Vec::new();
        put_varint(&mut raw, chunk.points.len() as u64);
        put_varint(&mut raw, zigzag(i64::from(chunk.utc_offset_seconds)));
        put_varint(&mut raw, 3);
        let (mut last_at, mut last_step) = (0i64, 0i64);
        for (index, (at, _)) in chunk.points.iter().enumerate() {
            let step = at - last_at;
            put_varint(
                &mut raw,
                zigzag(if index == 0 { *at } else { step - last_step }),
            );
            if index > 0 {
                last_step = step;
            }
            last_at = *at;
        }
        let mut last = 0;
        for (_, value) in &chunk.points {
            put_varint(&mut raw, zigzag(value - last));
            last = *value;
        }
        let mut out = vec![FORMAT_VERSION];
        out.extend(lz4_flex::compress_prepend_size(&raw));
        out
    }

    #[test]
    fn chunks_earlier_versions_wrote_are_still_read() {
        let chunk = Chunk {
            utc_offset_seconds: 3600,
            offset_changes: Vec::new(),
            points: normalise(&[(1_000, 61.5), (2_000, 60.25), (4_000, 72.0)]),
        };
        assert_eq!(decode(&format_two(&chunk)).unwrap(), chunk);
        assert_eq!(encode(&chunk)[0], PACKED);
    }

    #[test]
    fn fractional_values_and_irregular_times_keep_their_precision() {
        let points = normalise(&[(5, 36.651), (1_000, -0.5), (1_007, 72.35), (90_000, 1e6)]);
        let chunk = Chunk {
            utc_offset_seconds: 19_800,
            offset_changes: Vec::new(),
            points,
        };
        assert_eq!(decode(&encode(&chunk)).unwrap(), chunk);
        let whole = Chunk {
            utc_offset_seconds: 0,
            offset_changes: Vec::new(),
            points: normalise(&[(1, 120.0), (2, 80.0)]),
        };
        assert_eq!(decode(&encode(&whole)).unwrap(), whole);
        assert_eq!(
            decode(&encode(&Chunk::default())).unwrap(),
            Chunk::default()
        );
    }

    #[test]
    fn normalising_sorts_and_keeps_the_last_value_per_instant() {
        let points = [(3, 1.0), (1, 2.5), (3, 4.0), (2, -1.25)];
        assert_eq!(normalise(&points), vec![(1, 2500), (2, -1250), (3, 4000)]);
    }

    #[test]
    fn merging_lays_fresh_points_over_stored_ones() {
        let stored = [(1, 10, 0), (2, 20, 0), (4, 40, 0)];
        let fresh = [(2, 21, 3600), (3, 30, 3600), (5, 50, 3600)];
        assert_eq!(
            merge_with_offsets(&stored, &fresh),
            vec![
                (1, 10, 0),
                (2, 21, 3600),
                (3, 30, 3600),
                (4, 40, 0),
                (5, 50, 3600)
            ]
        );
        assert_eq!(merge_with_offsets(&stored, &[]), stored.to_vec());
    }

    #[test]
    fn an_offset_change_inside_the_hour_is_kept_with_each_point() {
        // Newfoundland falls back at 04:30 UTC: -02:30 before, -03:30 after.
        let (ndt, nst) = (-9000, -12600);
        let start = 1_793_505_600_000i64; // 2026-11-01T04:00:00Z
        let points: Vec<(i64, f64, i32)> = (0..60)
            .map(|m| {
                let at = start + m * 60_000;
                (at, 60.0 + m as f64, if m < 30 { ndt } else { nst })
            })
            .collect();
        let chunk = Chunk::with_offsets(&normalise_with_offsets(&points));
        assert_eq!(chunk.offset_changes, vec![(start + 30 * 60_000, nst)]);
        assert_eq!(chunk.offset_at(start), ndt);
        assert_eq!(chunk.offset_at(start + 29 * 60_000), ndt);
        assert_eq!(chunk.offset_at(start + 30 * 60_000), nst);
        let bytes = encode(&chunk);
        assert_eq!(bytes[0], PACKED_WITH_OFFSET_CHANGES);
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded, chunk);
        assert_eq!(
            decoded.points_with_offsets(),
            normalise_with_offsets(&points)
        );
        // One offset: no changes written.
        let steady = Chunk::with_offsets(&normalise_with_offsets(&points[..30]));
        assert_eq!(encode(&steady)[0], PACKED);
    }

    #[test]
    fn extreme_values_round_trip_and_a_huge_size_prefix_is_refused() {
        let chunk = Chunk {
            utc_offset_seconds: 0,
            offset_changes: Vec::new(),
            points: vec![(i64::MIN + 1, i64::MAX), (0, i64::MIN), (i64::MAX, 0)],
        };
        assert_eq!(decode(&encode(&chunk)).unwrap(), chunk);
        // A damaged size prefix of 4 GiB is refused before anything is allocated.
        let mut bytes = encode(&chunk);
        bytes[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&bytes), Err(ChunkError));
    }

    #[test]
    fn damaged_chunks_are_refused() {
        let bytes = encode(&Chunk {
            utc_offset_seconds: 0,
            offset_changes: Vec::new(),
            points: normalise(&[(1, 1.0), (2, 2.0)]),
        });
        assert_eq!(decode(&bytes[..bytes.len() - 1]), Err(ChunkError));
        assert_eq!(decode(&[9, 0, 0]), Err(ChunkError));
        assert_eq!(decode(&[]), Err(ChunkError));
    }
}
