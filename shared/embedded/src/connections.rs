use crate::outbox::write_entries;
use crate::store::{EmbeddedStore, Fault, decode, encode};
use crate::tables::{
    ACCOUNT_CONNECTIONS, CONNECTION_ACCOUNTS, CONNECTION_TOKENS, CONNECTIONS, END,
};
use async_trait::async_trait;
use redb::{ReadableTable, WriteTransaction};
use std::sync::Arc;
use vitasync_domain::StoreError;
use vitasync_domain::connections::{Connection, StoredTokens, sync_due_bound, sync_due_key};
use vitasync_domain::kernel::ids::{ConnectionId, UserId, WorkspaceId};
use vitasync_domain::kernel::outbox::OutboxEntry;
use vitasync_domain::kernel::page::{Page, PageRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::ConnectionStore;
use vitasync_domain::ports::UpsertEntries;
use vitasync_domain::providers::ProviderId;

fn account_key(connection: &Connection) -> String {
    format!("{}:{}", connection.provider, connection.provider_user_id)
}

fn save(txn: &WriteTransaction, connection: &Connection) -> Result<(), Fault> {
    txn.open_table(CONNECTIONS)?.insert(
        (
            connection.workspace_id.as_str(),
            connection.user_id.as_str(),
            connection.id.as_str(),
        ),
        encode(connection)?.as_slice(),
    )?;
    Ok(())
}

fn save_tokens(
    txn: &WriteTransaction,
    connection: &Connection,
    tokens: &StoredTokens,
) -> Result<(), Fault> {
    txn.open_table(CONNECTION_TOKENS)?.insert(
        (
            connection.workspace_id.as_str(),
            connection.user_id.as_str(),
            connection.id.as_str(),
        ),
        encode(tokens)?.as_slice(),
    )?;
    Ok(())
}

fn load<T: serde::de::DeserializeOwned>(
    txn: &WriteTransaction,
    table: redb::TableDefinition<(&str, &str, &str), &[u8]>,
    key: (&str, &str, &str),
) -> Result<Option<T>, Fault> {
    let table = txn.open_table(table)?;
    let found = table.get(key)?;
    found.map(|item| decode(item.value())).transpose()
}

/// Removes every connection (and its tokens and account link) of one user.
pub(crate) fn purge_user_connections(
    txn: &WriteTransaction,
    workspace: &str,
    user: &str,
) -> Result<(), Fault> {
    let range = (workspace, user, "")..(workspace, user, END);
    let mut links = Vec::new();
    for entry in txn.open_table(CONNECTIONS)?.range(range.clone())? {
        let connection: Connection = decode(entry?.1.value())?;
        links.push((account_key(&connection), connection.id.to_string()));
    }
    let mut index = txn.open_table(ACCOUNT_CONNECTIONS)?;
    for (account, id) in &links {
        index.remove((account.as_str(), workspace, id.as_str()))?;
    }
    txn.open_table(CONNECTIONS)?
        .retain_in(range.clone(), |_, _| false)?;
    txn.open_table(CONNECTION_TOKENS)?
        .retain_in(range.clone(), |_, _| false)?;
    txn.open_table(CONNECTION_ACCOUNTS)?
        .retain_in(range, |_, _| false)?;
    Ok(())
}

#[async_trait]
impl ConnectionStore for EmbeddedStore {
    async fn upsert_connection(
        &self,
        connection: &Connection,
        tokens: &StoredTokens,
        announce: Arc<UpsertEntries>,
    ) -> Result<(Connection, bool), StoreError> {
        let (connection, tokens) = (connection.clone(), tokens.clone());
        self.write(move |txn| {
            let (ws, user) = (
                connection.workspace_id.as_str(),
                connection.user_id.as_str(),
            );
            let account = account_key(&connection);
            let existing_id = txn
                .open_table(CONNECTION_ACCOUNTS)?
                .get((ws, user, account.as_str()))?
                .map(|id| id.value().to_owned());
            if let Some(id) = existing_id
                && let Some(existing) =
                    load::<Connection>(txn, CONNECTIONS, (ws, user, id.as_str()))?
            {
                let previous: Option<StoredTokens> =
                    load(txn, CONNECTION_TOKENS, (ws, user, id.as_str()))?;
                let updated = existing.reconnected(&connection);
                let replacement = StoredTokens {
                    version: previous.map_or(1, |old| old.version + 1),
                    ..tokens
                };
                save(txn, &updated)?;
                save_tokens(txn, &updated, &replacement)?;
                write_entries(txn, &announce(&updated, false))?;
                return Ok((updated, false));
            }
            txn.open_table(CONNECTION_ACCOUNTS)?
                .insert((ws, user, account.as_str()), connection.id.as_str())?;
            txn.open_table(ACCOUNT_CONNECTIONS)?
                .insert((account.as_str(), ws, connection.id.as_str()), user)?;
            save(txn, &connection)?;
            save_tokens(txn, &connection, &tokens)?;
            write_entries(txn, &announce(&connection, true))?;
            Ok((connection, true))
        })
        .await
    }

    async fn get_connection(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
    ) -> Result<Option<Connection>, StoreError> {
        let (workspace, user, id) = (workspace.clone(), user.clone(), id.clone());
        self.read(move |txn| {
            let table = txn.open_table(CONNECTIONS)?;
            let found = table.get((workspace.as_str(), user.as_str(), id.as_str()))?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn list_connections(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<Connection>, StoreError> {
        let (workspace, user) = (workspace.clone(), user.clone());
        self.read(move |txn| {
            let (ws, user) = (workspace.as_str(), user.as_str());
            let table = txn.open_table(CONNECTIONS)?;
            let mut out = Vec::new();
            for entry in table.range((ws, user, "")..(ws, user, END))? {
                let (_, value) = entry?;
                out.push(decode(value.value())?);
            }
            Ok(out)
        })
        .await
    }

    async fn connections_for_account(
        &self,
        provider: ProviderId,
        provider_user_id: &str,
    ) -> Result<Vec<Connection>, StoreError> {
        let account = format!("{provider}:{provider_user_id}");
        self.read(move |txn| {
            let index = txn.open_table(ACCOUNT_CONNECTIONS)?;
            let connections = txn.open_table(CONNECTIONS)?;
            let mut found = Vec::new();
            let range = (account.as_str(), "", "")..(account.as_str(), END, "");
            for entry in index.range(range)? {
                let (key, user) = entry?;
                let (_, workspace, id) = key.value();
                if let Some(item) = connections.get((workspace, user.value(), id))? {
                    found.push(decode(item.value())?);
                }
            }
            Ok(found)
        })
        .await
    }

    async fn connections_due(
        &self,
        provider: ProviderId,
        synced_before: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<Connection>, StoreError> {
        let bound = sync_due_bound(synced_before);
        let page = page.clone();
        self.read(move |txn| {
            // The local host holds few connections: one pass over them all is cheap.
            let mut due = Vec::new();
            for entry in txn.open_table(CONNECTIONS)?.iter()? {
                let (_, value) = entry?;
                let connection: Connection = decode(value.value())?;
                if connection.provider != provider {
                    continue;
                }
                if let Some(key) = sync_due_key(&connection)
                    && key < bound
                    && page.after.as_ref().is_none_or(|after| &key > after)
                {
                    due.push((key, connection));
                }
            }
            due.sort_by(|a, b| a.0.cmp(&b.0));
            due.truncate(page.limit + 1);
            let page = Page::from_lookahead(due, page.limit, |(key, _)| key.clone());
            Ok(page.map(|(_, connection)| connection))
        })
        .await
    }

    async fn update_connection(
        &self,
        connection: &Connection,
        on_update: &[OutboxEntry],
    ) -> Result<bool, StoreError> {
        let (connection, on_update) = (connection.clone(), on_update.to_vec());
        self.write(move |txn| {
            let key = (
                connection.workspace_id.as_str(),
                connection.user_id.as_str(),
                connection.id.as_str(),
            );
            if load::<Connection>(txn, CONNECTIONS, key)?.is_none() {
                return Ok(false);
            }
            save(txn, &connection)?;
            write_entries(txn, &on_update)?;
            Ok(true)
        })
        .await
    }

    async fn record_sync(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let (workspace, user, id) = (workspace.clone(), user.clone(), id.clone());
        self.write(move |txn| {
            let key = (workspace.as_str(), user.as_str(), id.as_str());
            if let Some(current) = load::<Connection>(txn, CONNECTIONS, key)?
                && current.last_synced_at.is_none_or(|last| last < at)
            {
                save(
                    txn,
                    &Connection {
                        last_synced_at: Some(at),
                        ..current
                    },
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn disconnect(
        &self,
        connection: &Connection,
        on_disconnect: &[OutboxEntry],
    ) -> Result<bool, StoreError> {
        let (connection, on_disconnect) = (connection.clone(), on_disconnect.to_vec());
        self.write(move |txn| {
            let key = (
                connection.workspace_id.as_str(),
                connection.user_id.as_str(),
                connection.id.as_str(),
            );
            if load::<Connection>(txn, CONNECTIONS, key)?.is_none() {
                return Ok(false);
            }
            save(txn, &connection)?;
            txn.open_table(CONNECTION_TOKENS)?.remove(key)?;
            write_entries(txn, &on_disconnect)?;
            Ok(true)
        })
        .await
    }

    async fn delete_connection(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
    ) -> Result<bool, StoreError> {
        let (workspace, user, id) = (workspace.clone(), user.clone(), id.clone());
        self.write(move |txn| {
            let key = (workspace.as_str(), user.as_str(), id.as_str());
            let Some(connection) = load::<Connection>(txn, CONNECTIONS, key)? else {
                return Ok(false);
            };
            txn.open_table(CONNECTIONS)?.remove(key)?;
            txn.open_table(CONNECTION_TOKENS)?.remove(key)?;
            let account = account_key(&connection);
            txn.open_table(CONNECTION_ACCOUNTS)?.remove((
                workspace.as_str(),
                user.as_str(),
                account.as_str(),
            ))?;
            txn.open_table(ACCOUNT_CONNECTIONS)?.remove((
                account.as_str(),
                workspace.as_str(),
                connection.id.as_str(),
            ))?;
            Ok(true)
        })
        .await
    }

    async fn get_tokens(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
    ) -> Result<Option<StoredTokens>, StoreError> {
        let (workspace, user, id) = (workspace.clone(), user.clone(), id.clone());
        self.read(move |txn| {
            let table = txn.open_table(CONNECTION_TOKENS)?;
            let found = table.get((workspace.as_str(), user.as_str(), id.as_str()))?;
            found.map(|item| decode(item.value())).transpose()
        })
        .await
    }

    async fn replace_tokens(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
        expected_version: u64,
        tokens: &StoredTokens,
    ) -> Result<bool, StoreError> {
        let (workspace, user, id, tokens) =
            (workspace.clone(), user.clone(), id.clone(), tokens.clone());
        self.write(move |txn| {
            let key = (workspace.as_str(), user.as_str(), id.as_str());
            let current: Option<StoredTokens> = load(txn, CONNECTION_TOKENS, key)?;
            if current.map(|t| t.version) != Some(expected_version) {
                return Ok(false);
            }
            let next = StoredTokens {
                version: expected_version + 1,
                ..tokens
            };
            txn.open_table(CONNECTION_TOKENS)?
                .insert(key, encode(&next)?.as_slice())?;
            Ok(true)
        })
        .await
    }
}
