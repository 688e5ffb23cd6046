use crate::outbox::write_entries;
use crate::store::{EmbeddedStore, Fault};
use crate::tables::HEALTH_RECORDS;
use async_trait::async_trait;
use redb::WriteTransaction;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::outbox::OutboxEntry;
use vitasync_domain::ports::{HealthStore, RecordOwner};

fn record_key(owner: &RecordOwner, key: &str) -> String {
    format!("{}/{key}", owner.connection)
}

/// Removes every health record of one user.
pub(crate) fn purge_user_records(
    txn: &WriteTransaction,
    workspace: &str,
    user: &str,
) -> Result<(), Fault> {
    txn.open_table(HEALTH_RECORDS)?.retain_in(
        (workspace, user, "")..(workspace, user, crate::tables::END),
        |_, _| false,
    )?;
    Ok(())
}

#[async_trait]
impl HealthStore for EmbeddedStore {
    async fn get_records(
        &self,
        owner: &RecordOwner,
        keys: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let owner = owner.clone();
        let keys = keys.to_vec();
        self.read(move |txn| {
            let table = txn.open_table(HEALTH_RECORDS)?;
            let (ws, user) = (owner.workspace.as_str(), owner.user.as_str());
            keys.iter()
                .map(|key| {
                    let found = table.get((ws, user, record_key(&owner, key).as_str()))?;
                    Ok(found.map(|item| item.value().to_vec()))
                })
                .collect()
        })
        .await
    }

    async fn put_records(
        &self,
        owner: &RecordOwner,
        records: &[(String, Vec<u8>)],
        on_write: &[OutboxEntry],
    ) -> Result<(), StoreError> {
        let owner = owner.clone();
        let (records, on_write) = (records.to_vec(), on_write.to_vec());
        self.write(move |txn| {
            {
                let mut table = txn.open_table(HEALTH_RECORDS)?;
                let (ws, user) = (owner.workspace.as_str(), owner.user.as_str());
                for (key, bytes) in &records {
                    table.insert(
                        (ws, user, record_key(&owner, key).as_str()),
                        bytes.as_slice(),
                    )?;
                }
            }
            write_entries(txn, &on_write)
        })
        .await
    }

    async fn delete_keys(&self, owner: &RecordOwner, keys: &[String]) -> Result<(), StoreError> {
        let owner = owner.clone();
        let keys = keys.to_vec();
        self.write(move |txn| {
            let mut table = txn.open_table(HEALTH_RECORDS)?;
            let (ws, user) = (owner.workspace.as_str(), owner.user.as_str());
            for key in &keys {
                table.remove((ws, user, record_key(&owner, key).as_str()))?;
            }
            Ok(())
        })
        .await
    }

    async fn records_between(
        &self,
        owner: &RecordOwner,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let owner = owner.clone();
        let (from, to) = (record_key(&owner, from), record_key(&owner, to));
        self.read(move |txn| {
            let table = txn.open_table(HEALTH_RECORDS)?;
            let (ws, user) = (owner.workspace.as_str(), owner.user.as_str());
            let prefix_len = owner.connection.as_str().len() + 1;
            let mut out = Vec::new();
            for entry in table.range((ws, user, from.as_str())..(ws, user, to.as_str()))? {
                let (key, value) = entry?;
                out.push((
                    key.value().2[prefix_len..].to_owned(),
                    value.value().to_vec(),
                ));
            }
            Ok(out)
        })
        .await
    }

    async fn newest_key_between(
        &self,
        owner: &RecordOwner,
        from: &str,
        to: &str,
    ) -> Result<Option<String>, StoreError> {
        let owner = owner.clone();
        let (from, to) = (record_key(&owner, from), record_key(&owner, to));
        self.read(move |txn| {
            let table = txn.open_table(HEALTH_RECORDS)?;
            let (ws, user) = (owner.workspace.as_str(), owner.user.as_str());
            let prefix_len = owner.connection.as_str().len() + 1;
            let newest = table
                .range((ws, user, from.as_str())..(ws, user, to.as_str()))?
                .next_back()
                .transpose()?
                .map(|(key, _)| key.value().2[prefix_len..].to_owned());
            Ok(newest)
        })
        .await
    }

    async fn delete_records(&self, owner: &RecordOwner) -> Result<u64, StoreError> {
        let owner = owner.clone();
        self.write(move |txn| {
            let mut table = txn.open_table(HEALTH_RECORDS)?;
            let (ws, user) = (owner.workspace.as_str(), owner.user.as_str());
            let (from, to) = (record_key(&owner, ""), record_key(&owner, "\u{10ffff}"));
            let mut deleted = 0u64;
            table.retain_in(
                (ws, user, from.as_str())..(ws, user, to.as_str()),
                |_, _| {
                    deleted += 1;
                    false
                },
            )?;
            Ok(deleted)
        })
        .await
    }
}
