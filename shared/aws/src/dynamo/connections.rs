use super::actions::Condition;
use super::{
    DynamoStore, Item, TRANSACTION_ATTEMPTS, TxFailure, backoff, contention, from_item, keys, s,
    string_attr, to_item, unavailable,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use std::collections::HashMap;
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

// A connection, its tokens and its provider-account guard live in the user's partition, so
// deleting the user purges them with everything else.

fn partition(connection: &Connection) -> String {
    keys::user_partition(
        connection.workspace_id.as_str(),
        connection.user_id.as_str(),
    )
}

fn connection_item(connection: &Connection) -> Result<Item, StoreError> {
    let mut item = to_item(
        connection,
        partition(connection),
        keys::connection(connection.id.as_str()),
    )?;
    item.insert(
        keys::ACCOUNT_PK.into(),
        s(keys::account_partition(
            connection.provider.as_str(),
            &connection.provider_user_id,
        )),
    );
    item.insert(
        keys::ACCOUNT_SK.into(),
        s(format!("{}#{}", connection.workspace_id, connection.id)),
    );
    // Only active connections enter the polling index (it is sparse).
    if let Some(due) = sync_due_key(connection) {
        item.insert(
            keys::SYNC_DUE_PK.into(),
            s(keys::sync_due_partition(connection.provider.as_str())),
        );
        item.insert(keys::SYNC_DUE_SK.into(), s(due));
    }
    Ok(item)
}

/// A page position in the polling index: the last item's table and index keys.
fn due_position(item: &Item) -> Result<String, StoreError> {
    let keys = [keys::PK, keys::SK, keys::SYNC_DUE_SK]
        .map(|name| string_attr(item, name))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    serde_json::to_string(&keys).map_err(|err| StoreError::Corrupt(err.to_string()))
}

fn due_start_key(provider: &str, position: &str) -> Result<Item, StoreError> {
    let [pk, sk, due]: [String; 3] = serde_json::from_str(position)
        .map_err(|_| StoreError::Corrupt("unreadable page position".into()))?;
    Ok(HashMap::from([
        (keys::PK.to_owned(), s(pk)),
        (keys::SK.to_owned(), s(sk)),
        (
            keys::SYNC_DUE_PK.to_owned(),
            s(keys::sync_due_partition(provider)),
        ),
        (keys::SYNC_DUE_SK.to_owned(), s(due)),
    ]))
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
    #[tracing::instrument(skip_all)]
    async fn upsert_connection(
        &self,
        connection: &Connection,
        tokens: &StoredTokens,
        announce: Arc<UpsertEntries>,
    ) -> Result<(Connection, bool), StoreError> {
        let pk = partition(connection);
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let guard = HashMap::from([
                (keys::PK.to_owned(), s(pk.clone())),
                (keys::SK.to_owned(), s(account_sk(connection))),
                ("connectionId".to_owned(), s(connection.id.to_string())),
            ]);
            let mut create = vec![
                self.put(guard, Condition::Absent)?,
                self.put(connection_item(connection)?, Condition::Absent)?,
                self.put(tokens_item(connection, tokens)?, Condition::Absent)?,
            ];
            create.extend(self.entry_puts(&announce(connection, true))?);
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
            let mut actions = vec![
                self.put(connection_item(&updated)?, Condition::Present)?,
                self.put(tokens_item(&updated, &replacement)?, tokens_condition)?,
            ];
            actions.extend(self.entry_puts(&announce(&updated, false))?);
            match self.transact(actions).await {
                Ok(()) => return Ok((updated, false)),
                Err(TxFailure::Store(err)) => return Err(err),
                Err(_) => backoff(attempt).await,
            }
        }
        Err(contention())
    }

    #[tracing::instrument(skip_all)]
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

    #[tracing::instrument(skip_all)]
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

    #[tracing::instrument(skip_all)]
    async fn connections_for_account(
        &self,
        provider: ProviderId,
        provider_user_id: &str,
    ) -> Result<Vec<Connection>, StoreError> {
        let mut start = None;
        let mut connections = Vec::new();
        loop {
            let output = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(keys::ACCOUNT_INDEX)
                .key_condition_expression("#account = :account")
                .expression_attribute_names("#account", keys::ACCOUNT_PK)
                .expression_attribute_values(
                    ":account",
                    s(keys::account_partition(provider.as_str(), provider_user_id)),
                )
                .set_limit(self.query_page_limit)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items.unwrap_or_default() {
                connections.push(from_item(item)?);
            }
            match output.last_evaluated_key {
                Some(last) => start = Some(last),
                None => return Ok(connections),
            }
        }
    }

    #[tracing::instrument(skip_all)]
    async fn connections_due(
        &self,
        provider: ProviderId,
        synced_before: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<Connection>, StoreError> {
        let want = page.limit + 1;
        let mut start = page
            .after
            .as_deref()
            .map(|position| due_start_key(provider.as_str(), position))
            .transpose()?;
        let mut items = Vec::new();
        loop {
            let remaining = i32::try_from(want - items.len()).unwrap_or(i32::MAX);
            let output = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(keys::SYNC_DUE_INDEX)
                .key_condition_expression("#due_pk = :provider AND #due_sk < :bound")
                .expression_attribute_names("#due_pk", keys::SYNC_DUE_PK)
                .expression_attribute_names("#due_sk", keys::SYNC_DUE_SK)
                .expression_attribute_values(
                    ":provider",
                    s(keys::sync_due_partition(provider.as_str())),
                )
                .expression_attribute_values(":bound", s(sync_due_bound(synced_before)))
                .limit(self.page_limit(remaining))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(last) if items.len() < want => start = Some(last),
                _ => break,
            }
        }
        items.truncate(want);
        let mut positions = Vec::with_capacity(items.len());
        for item in &items {
            positions.push(due_position(item)?);
        }
        let connections = items
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<Connection>, _>>()?;
        let paired: Vec<(String, Connection)> = positions.into_iter().zip(connections).collect();
        Ok(
            Page::from_lookahead(paired, page.limit, |(position, _)| position.clone())
                .map(|(_, connection)| connection),
        )
    }

    #[tracing::instrument(skip_all)]
    async fn update_connection(
        &self,
        connection: &Connection,
        on_update: &[OutboxEntry],
    ) -> Result<bool, StoreError> {
        let mut actions = vec![self.put(connection_item(connection)?, Condition::Present)?];
        actions.extend(self.entry_puts(on_update)?);
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(TxFailure::Condition(_)) => Ok(false),
            Err(TxFailure::Contention) => Err(contention()),
            Err(TxFailure::Store(err)) => Err(err),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn record_sync(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let later = "(attribute_not_exists(#last) OR attribute_type(#last, :null) OR #last < :at)";
        // An active connection also moves in the polling index; others only note the time.
        for active in [true, false] {
            let update = self
                .client()
                .update_item()
                .table_name(self.table())
                .key(
                    keys::PK,
                    s(keys::user_partition(workspace.as_str(), user.as_str())),
                )
                .key(keys::SK, s(keys::connection(id.as_str())))
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#last", "lastSyncedAt")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":at", s(at.to_string()))
                .expression_attribute_values(":active", s("active"))
                .expression_attribute_values(":null", s("NULL"));
            let update = if active {
                update
                    .update_expression("SET #last = :at, #due = :due")
                    .expression_attribute_names("#due", keys::SYNC_DUE_SK)
                    .expression_attribute_values(
                        ":due",
                        s(format!("{:013}#{id}", at.millis().max(0))),
                    )
                    .condition_expression(format!(
                        "attribute_exists(#pk) AND #status = :active AND {later}"
                    ))
            } else {
                update
                    .update_expression("SET #last = :at")
                    .condition_expression(format!(
                        "attribute_exists(#pk) AND #status <> :active AND {later}"
                    ))
            };
            match update.send().await {
                Ok(_) => return Ok(()),
                Err(err) => match err.into_service_error() {
                    UpdateItemError::ConditionalCheckFailedException(_) => {}
                    other => {
                        return Err(StoreError::Unavailable(
                            DisplayErrorContext(other).to_string(),
                        ));
                    }
                },
            }
        }
        // Gone, or already synced further: nothing to record.
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn disconnect(
        &self,
        connection: &Connection,
        on_disconnect: &[OutboxEntry],
    ) -> Result<bool, StoreError> {
        let mut actions = vec![
            self.put(connection_item(connection)?, Condition::Present)?,
            self.delete(
                partition(connection),
                keys::tokens(connection.id.as_str()),
                Condition::None,
            )?,
        ];
        actions.extend(self.entry_puts(on_disconnect)?);
        match self.transact(actions).await {
            Ok(()) => Ok(true),
            Err(TxFailure::Condition(_)) => Ok(false),
            Err(TxFailure::Contention) => Err(contention()),
            Err(TxFailure::Store(err)) => Err(err),
        }
    }

    #[tracing::instrument(skip_all)]
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

    #[tracing::instrument(skip_all)]
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

    #[tracing::instrument(skip_all)]
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
