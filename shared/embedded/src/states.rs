use crate::store::{EmbeddedStore, decode, encode};
use crate::tables::STATES;
use async_trait::async_trait;
use vitasync_domain::StoreError;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::StateStore;
use vitasync_domain::providers::oauth_state::OAuthState;

#[async_trait]
impl StateStore for EmbeddedStore {
    async fn put_state(&self, key: &str, state: &OAuthState) -> Result<(), StoreError> {
        let (key, state) = (key.to_owned(), state.clone());
        self.write(move |txn| {
            let mut table = txn.open_table(STATES)?;
            table.insert(key.as_str(), encode(&state)?.as_slice())?;
            Ok(())
        })
        .await
    }

    async fn take_state(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<OAuthState>, StoreError> {
        let key = key.to_owned();
        self.write(move |txn| {
            let mut table = txn.open_table(STATES)?;
            let state: Option<OAuthState> = match table.remove(key.as_str())? {
                Some(item) => Some(decode(item.value())?),
                None => None,
            };
            Ok(state.filter(|state| state.is_live(now)))
        })
        .await
    }

    async fn get_state(&self, key: &str, now: Timestamp) -> Result<Option<OAuthState>, StoreError> {
        let key = key.to_owned();
        self.read(move |txn| {
            let table = txn.open_table(STATES)?;
            let found = table.get(key.as_str())?;
            let state: Option<OAuthState> = found.map(|item| decode(item.value())).transpose()?;
            Ok(state.filter(|state| state.is_live(now)))
        })
        .await
    }
}
