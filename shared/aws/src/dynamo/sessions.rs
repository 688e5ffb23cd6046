use super::actions::Condition;
use super::{DynamoStore, TxFailure, contention, from_item, keys, to_item};
use crate::provision::TTL_ATTRIBUTE;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use vitasync_domain::StoreError;
use vitasync_domain::mobile::sessions::{SessionId, UserSession};
use vitasync_domain::ports::SessionStore;

/// A session item, removed by TTL once its refresh token has expired.
fn session_item(session: &UserSession) -> Result<super::Item, StoreError> {
    let mut item = to_item(
        session,
        keys::session(session.id.as_str()),
        keys::SESSION_SK.into(),
    )?;
    let expires = session.refresh_expires_at.millis().div_euclid(1000) + 1;
    item.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(expires.to_string()));
    Ok(item)
}

#[async_trait]
impl SessionStore for DynamoStore {
    #[tracing::instrument(skip_all)]
    async fn insert_session(&self, session: &UserSession) -> Result<(), StoreError> {
        // The session and its pointer in the user's partition (so erasing the user finds
        // the session) are written together or not at all.
        let mut pointer = super::Item::new();
        pointer.insert(
            keys::PK.into(),
            AttributeValue::S(keys::user_partition(
                session.workspace_id.as_str(),
                session.user_id.as_str(),
            )),
        );
        pointer.insert(
            keys::SK.into(),
            AttributeValue::S(keys::session(session.id.as_str())),
        );
        let expires = session.refresh_expires_at.millis().div_euclid(1000) + 1;
        pointer.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(expires.to_string()));
        let writes = vec![
            self.put(session_item(session)?, Condition::Absent)?,
            self.put(pointer, Condition::None)?,
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Condition(_)) => {
                Err(StoreError::Conflict("the session id is taken".into()))
            }
            Err(TxFailure::Contention) => Err(contention()),
            Err(TxFailure::Store(err)) => Err(err),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn get_session(&self, id: &SessionId) -> Result<Option<UserSession>, StoreError> {
        self.get(keys::session(id.as_str()), keys::SESSION_SK.into())
            .await?
            .map(from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn update_session(&self, session: &UserSession) -> Result<bool, StoreError> {
        self.put_if(
            session_item(session)?,
            Condition::Version(session.version.saturating_sub(1)),
            &[],
        )
        .await
    }
}

impl DynamoStore {
    /// Removes the sessions whose pointers are in the user's partition `pk` (the pointers go
    /// with the partition).
    pub(crate) async fn purge_user_sessions(&self, pk: &str) -> Result<(), StoreError> {
        let prefix = keys::session("");
        let requests = self
            .query_prefix(pk, &prefix, None, None)
            .await?
            .iter()
            .filter_map(|pointer| match pointer.get(keys::SK) {
                Some(AttributeValue::S(sk)) => Some(sk.clone()),
                _ => None,
            })
            .map(|session_pk| {
                super::delete_request(
                    [
                        (keys::PK.to_owned(), AttributeValue::S(session_pk)),
                        (
                            keys::SK.to_owned(),
                            AttributeValue::S(keys::SESSION_SK.into()),
                        ),
                    ]
                    .into(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_write(requests).await
    }
}
