use crate::tables;
use redb::{Database, ReadTransaction, ReadableDatabase, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::Arc;
use vitasync_domain::StoreError;

const FILE_NAME: &str = "vitasync.redb";

/// The on-disk store. Cheap to clone; every clone shares one database.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
}

/// What can go wrong inside a transaction: a database fault, or a rule the caller must hear of.
pub(crate) enum Fault {
    Db(redb::Error),
    Store(StoreError),
}

impl<E: Into<redb::Error>> From<E> for Fault {
    fn from(err: E) -> Self {
        Fault::Db(err.into())
    }
}

impl From<Fault> for StoreError {
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Db(err) => StoreError::Unavailable(err.to_string()),
            Fault::Store(err) => err,
        }
    }
}

pub(crate) fn conflict(what: &str) -> Fault {
    Fault::Store(StoreError::Conflict(what.into()))
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, Fault> {
    serde_json::to_vec(value).map_err(|err| Fault::Store(StoreError::Corrupt(err.to_string())))
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Fault> {
    serde_json::from_slice(bytes).map_err(|err| Fault::Store(StoreError::Corrupt(err.to_string())))
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`, creating the directory if needed.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|err| StoreError::Unavailable(format!("creating {}: {err}", dir.display())))?;
        let db = Database::create(dir.join(FILE_NAME)).map_err(|err| match err {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Unavailable(format!(
                "{} is in use by another VitaSync: stop it, or give this one another data \
                 directory (--data-dir or VITASYNC_DATA_DIR)",
                dir.display()
            )),
            other => StoreError::Unavailable(other.to_string()),
        })?;
        let store = Self { db: Arc::new(db) };
        store.create_tables().map_err(StoreError::from)?;
        Ok(store)
    }

    /// Creates every table up front so readers never meet a missing one.
    fn create_tables(&self) -> Result<(), Fault> {
        let txn = self.db.begin_write()?;
        txn.open_table(tables::WORKSPACES)?;
        txn.open_table(tables::WORKSPACE_SLUGS)?;
        txn.open_table(tables::API_KEYS)?;
        txn.open_table(tables::API_KEY_IDS)?;
        txn.open_table(tables::USERS)?;
        txn.open_table(tables::USER_EXTERNAL_IDS)?;
        txn.open_table(tables::QUEUE_MESSAGES)?;
        txn.open_table(tables::CONNECTIONS)?;
        txn.open_table(tables::STATES)?;
        txn.open_table(tables::CONNECTION_ACCOUNTS)?;
        txn.open_table(tables::CONNECTION_TOKENS)?;
        txn.open_table(tables::QUEUE_VISIBILITY)?;
        txn.open_table(tables::HEALTH_RECORDS)?;
        txn.open_table(tables::JOBS)?;
        txn.open_table(tables::USER_JOBS)?;
        txn.open_table(tables::ACTIVE_JOBS)?;
        txn.open_table(tables::WEBHOOKS)?;
        txn.open_table(tables::ACCOUNT_CONNECTIONS)?;
        txn.open_table(tables::SESSIONS)?;
        txn.open_table(tables::DELIVERIES)?;
        txn.open_table(tables::PROVIDER_APPS)?;
        txn.open_table(tables::PROVIDER_APP_IDS)?;
        txn.open_table(tables::OUTBOX)?;
        txn.commit()?;
        Ok(())
    }

    /// Runs `work` in a write transaction on the blocking pool and commits if it succeeds.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, Fault> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        Self::blocking(move || {
            let txn = db.begin_write()?;
            let out = work(&txn)?;
            txn.commit()?;
            Ok(out)
        })
        .await
    }

    /// Runs `work` against a consistent snapshot on the blocking pool.
    pub(crate) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T, Fault> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        Self::blocking(move || work(&db.begin_read()?)).await
    }

    async fn blocking<T, F>(work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, Fault> + Send + 'static,
    {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| StoreError::Unavailable(format!("store task failed: {err}")))?
            .map_err(StoreError::from)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_data_dir_in_use_names_the_other_vitasync() {
        let dir = tempfile::tempdir().unwrap();
        let _first = EmbeddedStore::open(dir.path()).unwrap();
        let Err(err) = EmbeddedStore::open(dir.path()) else {
            panic!("opened twice");
        };
        let message = err.to_string();
        assert!(message.contains("another VitaSync"), "{message}");
        assert!(message.contains("VITASYNC_DATA_DIR"), "{message}");
    }
}
