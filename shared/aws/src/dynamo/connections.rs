use super::actions::Condition;
use super::{
    DynamoStore, Item, TRANSACTION_ATTEMPTS, TxFailure, backoff, contention, from_item, keys, s,
    string_attr, to_item,
};
use async_trait::async_trait;
use std::collections::HashMap;
use vitasync_domain::StoreError;
use vitasync_domain::connection::{Connection, StoredTokens};
use vitasync_domain::ids::{ConnectionId, UserId, WorkspaceId};
use vitasync_domain::ports::ConnectionStore;

// A connection, its tokens and its provider-account guard live in the user's partition, so
// deleting the user purges them with everything else.

fn partition(connection: &Connection) -> String {
    keys::user_partition(
        connection.workspace_id.as_str(),
        connection.user_id.as_str(),
    )
}

fn connection_item(connection: &Connection) -> Result<Item, StoreError> {
    to_item(
        connection,
        partition(connection),
        keys::connection(connection.id.as_str()),
    )
}

fn tokens_item(connection: &Connection, tokens: &StoredTokens) -> Result<Item, StoreError> {
    to_item(
        tokens,
        partition(connection),
        keys::tokens(connection.id.as_str()),
    )
}

fn account_sk(connection: &Connection) -> String {
    keys::account(connection.provider.as_str(), &connection.provider_user_id)
}

#[async_trait]
impl ConnectionStore for DynamoStore {
    async fn upsert_connection(
        &self,
        connection: &Connection,
        tokens: &StoredTokens,
    ) -> Result<(Connection, bool), StoreError> {
        let pk = partition(connection);
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let guard = HashMap::from([
                (keys::PK.to_owned(), s(pk.clone())),
                (keys::SK.to_owned(), s(account_sk(connection))),
                ("connectionId".to_owned(), s(connection.id.to_string())),
            ]);
            let create = vec![
                self.put(guard, Condition::Absent)?,
                self.put(connection_item(connection)?, Condition::Absent)?,
                self.put(tokens_item(connection, tokens)?, Condition::Absent)?,
            ];
            match self.transact(create).await {
                Ok(()) => return Ok((connection.clone(), true)),
                Err(TxFailure::Store(err)) => return Err(err),
                Err(TxFailure::Contention) => {
                    backoff(attempt).await;
                    continue;
                }
                Err(TxFailure::Condition(_)) => {}
            }
            // This account is linked already: refresh that connection and its tokens.
            let Some(guard) = self.get(pk.clone(), account_sk(connection)).await? else {
                backoff(attempt).await;
                continue;
            };
            let id = ConnectionId::parse(&string_attr(&guard, "connectionId")?)
                .ok_or_else(|| StoreError::Corrupt("connection guard names no id".into()))?;
            let (ws, user) = (&connection.workspace_id, &connection.user_id);
            let Some(existing) = self.get_connection(ws, user, &id).await? else {
                backoff(attempt).await;
                continue;
            };
            // A disconnected connection has no tokens: its new ones start a fresh version.
            let (version, tokens_condition) = match self.get_tokens(ws, user, &id).await? {
                Some(previous) => (previous.version + 1, Condition::Version(previous.version)),
                None => (1, Condition::Absent),
            };
            let updated = existing.reconnected(connection);
            let replacement = StoredTokens {
                version,
                ..tokens.clone()
            };
            let actions = vec![
                self.put(connection_item(&updated)?, Condition::Present)?,
                self.put(tokens_item(&updated, &replacement)?, tokens_condition)?,
            ];
            match self.transact(actions).await {
                Ok(()) => return Ok((updated, false)),
                Err(TxFailure::Store(err)) => return Err(err),
                Err(_) => backoff(attempt).await,
            }
        }
        Err(contention())
    }

    async fn get_connection(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
    ) -> Result<Option<Connection>, StoreError> {
        self.get(
            keys::user_partition(workspace.as_str(), user.as_str()),
            keys::connection(id.as_str()),
        )
        .await?
        .map(from_item)
        .transpose()
    }

    async fn list_connections(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<Connection>, StoreError> {
        self.query_prefix(
            &keys::user_partition(workspace.as_str(), user.as_str()),
            keys::CONNECTION_PREFIX,
            None,
            None,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }

    async fn update_connection(&self, connection: &Connection) -> Result<bool, StoreError> {
        match self
            .transact(vec![
                self.put(connection_item(connection)?, Condition::Present)?,
            ])
            .await
        {
            Ok(()) => Ok(true),
            Err(TxFailure::Condition(_)) => Ok(false),
            Err(TxFailure::Contention) => Err(contention()),
            Err(TxFailure::Store(err)) => Err(err),
        }
    }

    async fn disconnect(&self, connection: &Connection) -> Result<bool, StoreError> {
        let actions = vec![
            self.put(connection_item(connection)?, Condition::Present)?,
            self.delete(
                partition(connection),
                keys::tokens(connection.id.as_str()),
                Condition::None,
            )?,
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(TxFailure::Condition(_)) => Ok(false),
            Err(TxFailure::Contention) => Err(contention()),
            Err(TxFailure::Store(err)) => Err(err),
        }
    }

    async fn delete_connection(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
    ) -> Result<bool, StoreError> {
        let Some(connection) = self.get_connection(workspace, user, id).await? else {
            return Ok(false);
        };
        let pk = partition(&connection);
        let actions = vec![
            self.delete(
                pk.clone(),
                keys::connection(id.as_str()),
                Condition::Present,
            )?,
            self.delete(pk.clone(), keys::tokens(id.as_str()), Condition::None)?,
            self.delete(pk, account_sk(&connection), Condition::None)?,
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(TxFailure::Condition(_)) => Ok(false),
            Err(TxFailure::Contention) => Err(contention()),
            Err(TxFailure::Store(err)) => Err(err),
        }
    }

    async fn get_tokens(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
    ) -> Result<Option<StoredTokens>, StoreError> {
        self.get(
            keys::user_partition(workspace.as_str(), user.as_str()),
            keys::tokens(id.as_str()),
        )
        .await?
        .map(from_item)
        .transpose()
    }

    async fn replace_tokens(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
        expected_version: u64,
        tokens: &StoredTokens,
    ) -> Result<bool, StoreError> {
        let next = StoredTokens {
            version: expected_version + 1,
            ..tokens.clone()
        };
        let item = to_item(
            &next,
            keys::user_partition(workspace.as_str(), user.as_str()),
            keys::tokens(id.as_str()),
        )?;
        match self
            .transact(vec![self.put(item, Condition::Version(expected_version))?])
            .await
        {
            Ok(()) => Ok(true),
            Err(TxFailure::Condition(_) | TxFailure::Contention) => Ok(false),
            Err(TxFailure::Store(err)) => Err(err),
        }
    }
}
