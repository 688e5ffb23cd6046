//! The outbox in the embedded store: entries by due time, written by the transaction of the
//! change they follow (`write_entries`) and drained by the local host's relay.

use crate::store::{EmbeddedStore, Fault, decode, encode};
use crate::tables::OUTBOX;
use async_trait::async_trait;
use redb::WriteTransaction;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::outbox::{OutboxEntry, OutboxStore};
use vitasync_domain::kernel::time::Timestamp;

fn due_key(entry: &OutboxEntry) -> u64 {
    u64::try_from(entry.due_at.millis()).unwrap_or(0)
}

/// Writes `entries` in `txn`, the change's own transaction.
pub(crate) fn write_entries(txn: &WriteTransaction, entries: &[OutboxEntry]) -> Result<(), Fault> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut table = txn.open_table(OUTBOX)?;
    for entry in entries {
        table.insert(
            (due_key(entry), entry.id.as_str()),
            encode(entry)?.as_slice(),
        )?;
    }
    Ok(())
}

#[async_trait]
impl OutboxStore for EmbeddedStore {
    async fn append(&self, entries: &[OutboxEntry]) -> Result<(), StoreError> {
        let entries = entries.to_vec();
        self.write(move |txn| write_entries(txn, &entries)).await
    }

    async fn due_entries(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let until = u64::try_from(before.millis()).unwrap_or(0);
        self.read(move |txn| {
            let table = txn.open_table(OUTBOX)?;
            let mut out = Vec::new();
            for item in table
                .range((0, "")..=(until, crate::tables::END))?
                .take(limit)
            {
                let (_, value) = item?;
                out.push(decode(value.value())?);
            }
            Ok(out)
        })
        .await
    }

    async fn remove_entry(&self, entry: &OutboxEntry) -> Result<(), StoreError> {
        let (due, id) = (due_key(entry), entry.id.clone());
        self.write(move |txn| {
            txn.open_table(OUTBOX)?.remove((due, id.as_str()))?;
            Ok(())
        })
        .await
    }
}
