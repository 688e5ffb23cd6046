//! Dense samples are stored as one compressed, write-once chunk per metric, connection and UTC
//! day: 86,400 one-second heart-rate samples become one item of a few tens of kilobytes instead
//! of 86,400 rows. Points are sorted, timestamps and values delta-encoded as zig-zag varints
//! (values kept to 1/1000 of their unit), then LZ4-compressed. The encoding is deterministic, so
//! writing the same points again produces the same bytes, and an unchanged chunk is not written.

use thiserror::Error;

const FORMAT_VERSION: u8 = 1;
/// Values are kept to this fraction of their unit.
const VALUE_SCALE: f64 = 1000.0;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("the sample chunk is damaged")]
pub struct ChunkError;

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn take_varint(input: &mut &[u8]) -> Result<u64, ChunkError> {
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

fn scaled(value: f64) -> i64 {
    (value * VALUE_SCALE).round() as i64
}

/// Sorts by time and keeps the last value given for each instant.
pub fn normalise(points: &[(i64, f64)]) -> Vec<(i64, i64)> {
    let mut sorted: Vec<(i64, i64)> = points.iter().map(|(at, v)| (*at, scaled(*v))).collect();
    // A stable sort keeps later duplicates after earlier ones; keep the last of each run.
    sorted.sort_by_key(|(at, _)| *at);
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(sorted.len());
    for point in sorted {
        match out.last_mut() {
            Some(last) if last.0 == point.0 => *last = point,
            _ => out.push(point),
        }
    }
    out
}

/// Encodes points already `normalise`d.
pub fn encode(points: &[(i64, i64)]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(points.len() * 3 + 8);
    put_varint(&mut raw, points.len() as u64);
    let (mut last_at, mut last_value) = (0i64, 0i64);
    for (at, value) in points {
        put_varint(&mut raw, zigzag(at - last_at));
        put_varint(&mut raw, zigzag(value - last_value));
        (last_at, last_value) = (*at, *value);
    }
    let mut out = vec![FORMAT_VERSION];
    out.extend(lz4_flex::compress_prepend_size(&raw));
    out
}

/// The points of a chunk, sorted, values scaled by 1000.
pub fn decode(bytes: &[u8]) -> Result<Vec<(i64, i64)>, ChunkError> {
    let (&version, compressed) = bytes.split_first().ok_or(ChunkError)?;
    if version != FORMAT_VERSION {
        return Err(ChunkError);
    }
    let raw = lz4_flex::decompress_size_prepended(compressed).map_err(|_| ChunkError)?;
    let mut input = raw.as_slice();
    let count = usize::try_from(take_varint(&mut input)?).map_err(|_| ChunkError)?;
    let mut points = Vec::with_capacity(count.min(1 << 20));
    let (mut at, mut value) = (0i64, 0i64);
    for _ in 0..count {
        at += unzigzag(take_varint(&mut input)?);
        value += unzigzag(take_varint(&mut input)?);
        points.push((at, value));
    }
    if input.is_empty() {
        Ok(points)
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

/// `existing` with `fresh` laid over it: a fresh point replaces a stored one at the same instant.
pub fn merge(existing: &[(i64, i64)], fresh: &[(i64, i64)]) -> Vec<(i64, i64)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_of_one_hertz_heart_rate_round_trips_small() {
        let start = 1_790_000_000_000i64;
        let points: Vec<(i64, f64)> = (0..86_400)
            .map(|s| (start + s * 1000, 60.0 + ((s / 37) % 40) as f64))
            .collect();
        let normalised = normalise(&points);
        let bytes = encode(&normalised);
        assert!(bytes.len() < 64 * 1024, "{} bytes", bytes.len());
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded, normalised);
        assert_eq!(values(&decoded).next(), Some((start, 60.0)));
        assert_eq!(encode(&decoded), bytes, "deterministic");
    }

    #[test]
    fn normalising_sorts_and_keeps_the_last_value_per_instant() {
        let points = [(3, 1.0), (1, 2.5), (3, 4.0), (2, -1.25)];
        assert_eq!(normalise(&points), vec![(1, 2500), (2, -1250), (3, 4000)]);
    }

    #[test]
    fn merging_lays_fresh_points_over_stored_ones() {
        let stored = [(1, 10), (2, 20), (4, 40)];
        let fresh = [(2, 21), (3, 30), (5, 50)];
        assert_eq!(
            merge(&stored, &fresh),
            vec![(1, 10), (2, 21), (3, 30), (4, 40), (5, 50)]
        );
        assert_eq!(merge(&stored, &[]), stored.to_vec());
    }

    #[test]
    fn damaged_chunks_are_refused() {
        let bytes = encode(&normalise(&[(1, 1.0), (2, 2.0)]));
        assert_eq!(decode(&bytes[..bytes.len() - 1]), Err(ChunkError));
        assert_eq!(decode(&[9, 0, 0]), Err(ChunkError));
        assert_eq!(decode(&[]), Err(ChunkError));
    }
}
