use crate::store::{EmbeddedStore, Fault, conflict, decode, encode};
use crate::tables::{SESSIONS, USER_SESSIONS};
use async_trait::async_trait;
use redb::{ReadableTable, WriteTransaction};
use vitasync_domain::StoreError;
use vitasync_domain::mobile::sessions::{SessionId, UserSession};
use vitasync_domain::ports::SessionStore;

/// Removes every session of the user, in the transaction that removes the user.
pub(crate) fn purge_user_sessions(
    txn: &WriteTransaction,
    workspace: &str,
    user: &str,
) -> Result<(), Fault> {
    let range = (workspace, user, "")..(workspace, user, "\u{10ffff}");
    let mut ids = Vec::new();
    for entry in txn.open_table(USER_SESSIONS)?.range(range.clone())? {
        ids.push(entry?.0.value().2.to_owned());
    }
    let mut sessions = txn.open_table(SESSIONS)?;
    for id in &ids {
        sessions.remove(id.as_str())?;
    }
    txn.open_table(USER_SESSIONS)?
        .retain_in(range, |_, _| false)?;
    Ok(())
}

fn stored_version(txn: &WriteTransaction, id: &str) -> Result<Option<u64>, Fault> {
    let table = txn.open_table(SESSIONS)?;
    let found = table.get(id)?;
    Ok(found
        .map(|item| decode::<UserSession>(item.value()))
        .transpose()?
        .map(|session| session.version))
}

#[async_trait]
impl SessionStore for EmbeddedStore {
    async fn insert_session(&self, session: &UserSession) -> Result<(), StoreError> {
        let session = session.clone();
        self.write(move |txn| {
            if stored_version(txn, session.id.as_str())?.is_some() {
                return Err(conflict("the session id is taken"));
            }
            txn.open_table(SESSIONS)?
                .insert(session.id.as_str(), encode(&session)?.as_slice())?;
            txn.open_table(USER_SESSIONS)?.insert(
                (
                    session.workspace_id.as_str(),
                    session.user_id.as_str(),
                    session.id.as_str(),
                ),
                (),
            )?;
            Ok(())
        })
        .await
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<UserSession>, StoreError> {
        let id = id.clone();
        self.read(move |txn| {
            let table = txn.open_table(SESSIONS)?;
            let found = table.get(id.as_str())?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn update_session(&self, session: &UserSession) -> Result<bool, StoreError> {
        let session = session.clone();
        self.write(move |txn| {
            if stored_version(txn, session.id.as_str())? != Some(session.version.saturating_sub(1))
            {
                return Ok(false);
            }
            txn.open_table(SESSIONS)?
                .insert(session.id.as_str(), encode(&session)?.as_slice())?;
            Ok(true)
        })
        .await
    }
}
