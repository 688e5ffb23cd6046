//! What the store has cost: write capacity units by DynamoDB's sizing rule (1 WCU per started
//! KB of each item written), read capacity units of health records read (a strongly
//! consistent read is 1 RCU per started 4 KB: of each item got, of each Query page's items
//! together) and the Query calls it made, for the benchmarks to report.

use super::Item;
use aws_sdk_dynamodb::types::{AttributeValue, WriteRequest};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
struct Counters {
    write_units: AtomicU64,
    items_written: AtomicU64,
    query_calls: AtomicU64,
    read_units: AtomicU64,
}

/// Shared by every clone of one store.
#[derive(Debug, Clone, Default)]
pub struct Usage(Arc<Counters>);

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UsageFigures {
    pub write_units: u64,
    pub items_written: u64,
    pub query_calls: u64,
    pub read_units: u64,
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number.len().div_ceil(2) + 1,
        AttributeValue::B(bytes) => bytes.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// An item's size as DynamoDB counts it: attribute names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

/// Write units of one standard write of the item.
pub fn write_units(item: &Item) -> u64 {
    (item_size(item).div_ceil(1024)).max(1) as u64
}

impl Usage {
    pub(crate) fn wrote(&self, requests: &[WriteRequest]) {
        for request in requests {
            let units = match (request.put_request(), request.delete_request()) {
                (Some(put), _) => write_units(put.item()),
                (None, Some(_)) => 1,
                (None, None) => 0,
            };
            self.0.write_units.fetch_add(units, Ordering::Relaxed);
            self.0.items_written.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn queried(&self) {
        self.0.query_calls.fetch_add(1, Ordering::Relaxed);
    }

    /// A Query page (or one item got) of `bytes` in all, read strongly consistent.
    pub(crate) fn read(&self, bytes: usize) {
        let units = bytes.div_ceil(4096).max(1) as u64;
        self.0.read_units.fetch_add(units, Ordering::Relaxed);
    }

    pub fn figures(&self) -> UsageFigures {
        UsageFigures {
            write_units: self.0.write_units.load(Ordering::Relaxed),
            items_written: self.0.items_written.load(Ordering::Relaxed),
            query_calls: self.0.query_calls.load(Ordering::Relaxed),
            read_units: self.0.read_units.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn write_units_count_every_started_kilobyte_of_names_and_values() {
        let item = |data: usize| -> Item {
            HashMap::from([
                ("pk".to_owned(), AttributeValue::S("a".repeat(10))),
                ("data".to_owned(), AttributeValue::B(vec![0u8; data].into())),
            ])
        };
        assert_eq!(item_size(&item(100)), 2 + 10 + 4 + 100);
        assert_eq!(write_units(&item(100)), 1);
        assert_eq!(write_units(&item(1024 - 16)), 1);
        assert_eq!(write_units(&item(1024 - 15)), 2);
        assert_eq!(write_units(&item(10_000)), 10);
    }
}
