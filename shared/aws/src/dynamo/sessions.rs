use super::actions::Condition;
use super::{DynamoStore, from_item, keys, to_item};
use crate::provision::TTL_ATTRIBUTE;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use vitasync_domain::StoreError;
use vitasync_domain::ports::SessionStore;
use vitasync_domain::user_sessions::{SessionId, UserSession};

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
    async fn insert_session(&self, session: &UserSession) -> Result<(), StoreError> {
        if self
            .put_if(session_item(session)?, Condition::Absent)
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Conflict("the session id is taken".into()))
        }
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<UserSession>, StoreError> {
        self.get(keys::session(id.as_str()), keys::SESSION_SK.into())
            .await?
            .map(from_item)
            .transpose()
    }

    async fn update_session(&self, session: &UserSession) -> Result<bool, StoreError> {
        self.put_if(
            session_item(session)?,
            Condition::Version(session.version.saturating_sub(1)),
        )
        .await
    }
}
