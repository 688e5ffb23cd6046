//! The relay: carries out outbox entries (an event fanned out to its listening endpoints, a
//! job message queued) and removes them. On AWS the table's stream hands it each new entry and
//! the schedule sweeps what the stream left; locally the background worker drains the outbox.
//! At least once: an entry relayed twice makes the same deliveries (their ids come from the
//! event's and the endpoint's), so each endpoint still gets the event once.

use crate::announce::dispatch::{Dispatcher, NewEvent};
use crate::announce::webhooks::{DeliveryId, EventId, EventType};
use crate::kernel::error::DomainError;
use crate::kernel::outbox::{OutboxAction, OutboxEntry, OutboxStore};
use crate::kernel::queue::{JobQueue, MAX_DELAY, Outgoing};
use crate::kernel::time::{Clock, Timestamp};
use std::sync::Arc;
use std::time::Duration;

/// Entries read from the outbox at a time.
const BATCH: usize = 32;
/// The stream hands an entry to the relay within seconds; the sweeper takes what is older.
pub const SWEEP_GRACE_SECONDS: i64 = 60;

/// What a round of relaying did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayRound {
    pub relayed: usize,
    /// Entries left for the next round (a store or queue fault).
    pub failed: usize,
}

#[derive(Clone)]
pub struct Relay {
    dispatcher: Dispatcher,
    outbox: Arc<dyn OutboxStore>,
    jobs: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
}

impl Relay {
    pub fn new(
        dispatcher: Dispatcher,
        outbox: Arc<dyn OutboxStore>,
        jobs: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            dispatcher,
            outbox,
            jobs,
            clock,
        }
    }

    /// Carries out `entry` and removes it from the outbox. On a fault the entry stays for the
    /// next round.
    #[tracing::instrument(skip_all, fields(entry_id = %entry.id, kind = entry.kind()))]
    pub async fn relay(&self, entry: &OutboxEntry) -> Result<(), DomainError> {
        self.carry_out(entry).await?;
        self.outbox.remove_entry(entry).await?;
        Ok(())
    }

    async fn carry_out(&self, entry: &OutboxEntry) -> Result<(), DomainError> {
        match &entry.action {
            OutboxAction::Event {
                event_type,
                payload,
            } => {
                let (Some(event_type), Some(id)) =
                    (EventType::parse(event_type), EventId::parse(&entry.id))
                else {
                    tracing::error!(entry_id = %entry.id, "an outbox event names no known event; dropped");
                    return Ok(());
                };
                let event = NewEvent {
                    id,
                    event_type,
                    payload: payload.clone(),
                };
                let endpoints = self
                    .dispatcher
                    .webhooks()
                    .list_endpoints(&entry.workspace_id)
                    .await?;
                for endpoint in endpoints.iter().filter(|e| e.listens_to(event_type)) {
                    let id = DeliveryId::for_event(&event.id, &endpoint.id);
                    self.dispatcher.deliver_to(endpoint, &event, id).await?;
                }
                Ok(())
            }
            OutboxAction::Delivery { body } => {
                self.dispatcher
                    .send_message(body, self.delay_until(entry.due_at))
                    .await
            }
            OutboxAction::Job { body } => self
                .jobs
                .send(Outgoing {
                    body: body.clone(),
                    // A retry due later waits on the queue (the worker defers one that
                    // arrives early).
                    delay: self.delay_until(entry.due_at),
                })
                .await
                .map_err(|err| {
                    tracing::error!(error = %err, "the job queue failed");
                    DomainError::Unavailable("the job queue")
                }),
        }
    }

    fn delay_until(&self, due: Timestamp) -> Duration {
        let seconds = due.millis().saturating_sub(self.clock.now().millis()) / 1000;
        Duration::from_secs(u64::try_from(seconds).unwrap_or(0)).min(MAX_DELAY)
    }

    /// Relays every entry due at or before `before`, oldest first.
    pub async fn relay_due(&self, before: Timestamp) -> Result<RelayRound, DomainError> {
        let mut round = RelayRound::default();
        loop {
            let entries = self.outbox.due_entries(before, BATCH).await?;
            let full = entries.len() == BATCH;
            let mut failed = 0;
            for entry in &entries {
                match self.relay(entry).await {
                    Ok(()) => round.relayed += 1,
                    Err(err) => {
                        failed += 1;
                        tracing::warn!(entry_id = %entry.id, error = %err, "an outbox entry was not relayed; the next round retries");
                    }
                }
            }
            round.failed += failed;
            // Failed entries come first again: stop rather than meet them in a loop.
            if !full || failed > 0 {
                return Ok(round);
            }
        }
    }

    /// The sweeper's round: what the stream has not relayed a while after it was due.
    pub async fn sweep(&self) -> Result<RelayRound, DomainError> {
        self.relay_due(self.clock.now().plus_seconds(-SWEEP_GRACE_SECONDS))
            .await
    }

    /// Every entry, each sent with what is left of its wait (capped at the queue's longest
    /// delay; the worker defers one that arrives early), as the stream does on AWS: the local
    /// host's drain, with no stream in front of it.
    pub async fn drain(&self) -> Result<RelayRound, DomainError> {
        const CENTURY_SECONDS: i64 = 100 * 365 * 86_400;
        self.relay_due(self.clock.now().plus_seconds(CENTURY_SECONDS))
            .await
    }
}
