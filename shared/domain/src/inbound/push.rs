//! Provider webhooks coming in. The provider adapter verifies a request over its raw bytes and
//! reads it into notices (or answers a handshake); here each notice becomes work: a targeted
//! sync on the queue, a disconnection, or pushed data queued in pieces for the worker to store.
//! Nothing slow happens before the reply, so providers' deadlines (2 s for some) hold.

use crate::connections::ConnectionStatus;
use crate::kernel::error::{DomainError, StoreError};
use crate::kernel::ids::{AppId, next_ulid};
use crate::kernel::queue::{JobQueue, Outgoing};
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::{CallCounter, ConnectionStore};
use crate::providers::ProviderId;
use crate::providers::apps::AppRef;
use crate::providers::client::{ProviderCalls, PushReader};
use crate::sync::JobStarter;
use crate::sync::jobs::PushedData;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub use crate::providers::push::{
    Notice, NoticeAction, PushMethod, PushOutcome, PushReply, PushRequest,
};

/// A queue message stays well under SQS's 256 KB.
const PIECE_BYTES: usize = 200 * 1024;

/// The window of the sync that checks a deauthorisation notice with the provider.
const DEAUTHORIZATION_CHECK_SECONDS: i64 = 3600;

/// A repeat of a notice within this long is dropped.
const REPEAT_WINDOW_SECONDS: i64 = 2 * 24 * 3600;

/// Splits `items` into runs whose JSON fits a queue message. An item too large on its own
/// still travels alone (and fails loudly at the queue rather than vanishing here).
fn pieces(items: Vec<Value>) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut current = Vec::new();
    let mut size = 0;
    for item in items {
        let item_size = item.to_string().len() + 1;
        if !current.is_empty() && size + item_size > PIECE_BYTES {
            out.push(std::mem::take(&mut current));
            size = 0;
        }
        size += item_size;
        current.push(item);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Providers' webhook requests: verified and read by the provider client, each notice turned
/// into queued work before the reply.
#[derive(Clone)]
pub struct Pushes {
    calls: ProviderCalls<dyn PushReader>,
    connections: Arc<dyn ConnectionStore>,
    /// Remembers notices already seen.
    seen: Arc<dyn CallCounter>,
    starter: JobStarter,
    /// Where pushed data is queued for the worker to store.
    jobs: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
}

impl Pushes {
    pub fn new(
        calls: ProviderCalls<dyn PushReader>,
        connections: Arc<dyn ConnectionStore>,
        seen: Arc<dyn CallCounter>,
        starter: JobStarter,
        jobs: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            calls,
            connections,
            seen,
            starter,
            jobs,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Handles a provider's webhook request and says what to answer: to the deployment's app
    /// (`app` `None`) or to a workspace's own app, by its id. `Err` only when the notices could
    /// not be acted on (the store or queue is down): the provider should retry.
    #[tracing::instrument(skip_all, fields(provider = %provider, app_id = app.unwrap_or_default()))]
    pub async fn receive_push(
        &self,
        provider: &str,
        app: Option<&str>,
        request: &PushRequest,
    ) -> Result<PushReply, DomainError> {
        let provider = ProviderId::parse(provider)
            .filter(|id| *id != ProviderId::Demo)
            .ok_or(DomainError::NotFound("provider"))?;
        let app = match app {
            None => AppRef::Deployment,
            // The app is known before the body is read: its secrets verify the request.
            Some(raw) => AppRef::Workspace(AppId::parse(raw).ok_or(DomainError::NotFound("app"))?),
        };
        let mut outcome = self.verify(provider, &app, request).await?;
        // A refusal may be a secret rotated since it was read: once stale, read it again.
        if outcome.reply.status >= 400
            && app == AppRef::Deployment
            && self.calls.registry().reread_after_refusal(provider)
        {
            outcome = self.verify(provider, &app, request).await?;
        }
        if outcome.reply.status >= 400 {
            tracing::warn!(provider = %provider, status = outcome.reply.status, "a provider webhook was refused");
        }
        for notice in &outcome.notices {
            self.act_on(provider, &app, notice).await?;
        }
        Ok(outcome.reply)
    }

    /// Verifies and reads `request` with `app`.
    async fn verify(
        &self,
        provider: ProviderId,
        app: &AppRef,
        request: &PushRequest,
    ) -> Result<PushOutcome, DomainError> {
        let not_found = || match app {
            AppRef::Deployment => DomainError::NotFound("provider"),
            AppRef::Workspace(_) => DomainError::NotFound("app"),
        };
        let settings = self
            .calls
            .resolved(provider, app)
            .await
            .map_err(|_| DomainError::Unavailable("the provider app"))?
            .ok_or_else(not_found)?;
        Ok(self
            .calls
            .client()
            .receive_push(provider, &settings, request, self.now())
            .await)
    }

    async fn act_on(
        &self,
        provider: ProviderId,
        app: &AppRef,
        notice: &Notice,
    ) -> Result<(), DomainError> {
        if let NoticeAction::Pushed {
            summary_type,
            items,
        } = &notice.action
        {
            // Storing is idempotent, so a repeated push only costs a comparison.
            return self
                .queue_pushed(provider, app, &notice.provider_user_id, summary_type, items)
                .await;
        }
        if !self
            .first_sighting(provider, app, &notice.fingerprint)
            .await?
        {
            tracing::info!(provider = %provider, "a repeated provider notice was dropped");
            return Ok(());
        }
        let connections = self
            .connections
            .connections_for_account(provider, &notice.provider_user_id)
            .await?
            .into_iter()
            // A notice to an app is about grants to that app only.
            .filter(|connection| connection.app() == *app)
            .collect::<Vec<_>>();
        if connections.is_empty() {
            tracing::info!(provider = %provider, "a provider notice names no connected account");
        }
        for connection in connections {
            match &notice.action {
                NoticeAction::Deauthorized => {
                    // Anyone can send a provider's unsigned push: ask the provider itself. A
                    // refused call disconnects the connection (or marks it failed when the
                    // refresh is refused); an accepted one only syncs the last hour.
                    if connection.status != ConnectionStatus::Disconnected {
                        let now = self.now();
                        let from = now.plus_seconds(-DEAUTHORIZATION_CHECK_SECONDS);
                        self.starter
                            .start_job(&connection, Some(from), Some(now), Vec::new())
                            .await?;
                    }
                }
                NoticeAction::Sync {
                    data_types,
                    from,
                    to,
                } => {
                    if connection.status == ConnectionStatus::Active {
                        let to = (*to).min(self.now());
                        // A job already under way for the connection takes this notice's
                        // place; the overlap of the next sync covers what it leaves out.
                        self.starter
                            .start_job(&connection, Some(*from), Some(to), data_types.clone())
                            .await?;
                    }
                }
                NoticeAction::Pushed { .. } => {}
            }
        }
        Ok(())
    }

    /// Whether this notice is new (and from now on, not). Repeats within two days are not.
    async fn first_sighting(
        &self,
        provider: ProviderId,
        app: &AppRef,
        fingerprint: &str,
    ) -> Result<bool, StoreError> {
        let digest = hex::encode(Sha256::digest(fingerprint.as_bytes()));
        // Each app's notices are its own: the same notice to two apps is two notices.
        let key = match app.id() {
            None => format!("PUSH#{provider}#{digest}"),
            Some(id) => format!("PUSH#{provider}#{id}#{digest}"),
        };
        self.seen
            .try_count(&key, 1, self.now().plus_seconds(REPEAT_WINDOW_SECONDS))
            .await
    }

    async fn queue_pushed(
        &self,
        provider: ProviderId,
        app: &AppRef,
        provider_user_id: &str,
        summary_type: &str,
        items: &[Value],
    ) -> Result<(), DomainError> {
        let mut messages = Vec::new();
        for piece in pieces(items.to_vec()) {
            let data = PushedData {
                pushed_id: next_ulid().to_string(),
                provider,
                provider_user_id: provider_user_id.to_owned(),
                app_id: app.id().cloned(),
                summary_type: summary_type.to_owned(),
                items: piece,
            };
            let body =
                serde_json::to_string(&data).map_err(|err| StoreError::Corrupt(err.to_string()))?;
            messages.push(Outgoing::now(body));
        }
        self.jobs.send_batch(messages).await.map_err(|err| {
            tracing::error!(error = %err, "pushed data could not be queued");
            DomainError::Unavailable("the job queue")
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn large_bodies_are_split_into_queue_sized_pieces_losing_nothing() {
        let item = serde_json::json!({ "summaryId": "x", "samples": "a".repeat(10_000) });
        let items: Vec<Value> = (0..100).map(|_| item.clone()).collect();
        let split = pieces(items);
        assert!(split.len() >= 5);
        assert_eq!(split.iter().map(Vec::len).sum::<usize>(), 100);
        for piece in &split {
            assert!(serde_json::to_string(piece).unwrap().len() <= PIECE_BYTES);
        }
    }
}
