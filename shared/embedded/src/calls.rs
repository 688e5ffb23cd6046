use crate::store::EmbeddedStore;
use crate::tables::CALL_COUNTERS;
use async_trait::async_trait;
use redb::ReadableTable;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::CallCounter;

#[async_trait]
impl CallCounter for EmbeddedStore {
    async fn try_count(
        &self,
        key: &str,
        limit: u64,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let key = key.to_owned();
        let expires = expires_at.millis();
        self.write(move |txn| {
            let mut table = txn.open_table(CALL_COUNTERS)?;
            let count = table.get(key.as_str())?.map_or(0, |found| found.value().0);
            if count >= limit {
                return Ok(false);
            }
            if count == 0 {
                // A new window: forget spent ones (none of them lives two days past its end),
                // once per window rather than on every call.
                let stale: Vec<String> = table
                    .iter()?
                    .filter_map(|entry| entry.ok())
                    .filter(|(_, value)| value.value().1 < expires - 2 * 86_400_000)
                    .map(|(k, _)| k.value().to_owned())
                    .collect();
                for old in stale {
                    table.remove(old.as_str())?;
                }
            }
            table.insert(key.as_str(), (count + 1, expires))?;
            Ok(true)
        })
        .await
    }
}
