//! The use cases not yet split into services, over every port. Tenancy, the user directory and
//! announcing events are services of their own (`tenancy`, `events::Announcer`).

use crate::connect::ConnectSettings;
use crate::error::DomainError;
use crate::events::Announcer;
use crate::health_query::HealthReads;
use crate::ingest::PhoneIngest;
use crate::ports::Ports;
use crate::provider::ProviderRegistry;
use crate::queue::JobQueue;
use crate::sync::{SyncJobs, SyncSettings};
use crate::tenancy::Tenancy;
use crate::tenancy::users::{UserDirectory, Users};
use crate::time::Timestamp;
use crate::user_sessions::UserSessions;
use std::sync::Arc;

#[derive(Clone)]
pub struct App {
    pub(crate) ports: Ports,
    pub tenancy: Tenancy,
    pub directory: UserDirectory,
    pub(crate) announcer: Option<Announcer>,
    providers: Arc<ProviderRegistry>,
    pub(crate) connect: Option<Arc<ConnectSettings>>,
    pub(crate) jobs_queue: Option<Arc<dyn JobQueue>>,
    pub(crate) sync: SyncSettings,
}

impl App {
    /// The use cases over `ports`, with no provider enabled.
    pub fn new(ports: Ports) -> Self {
        Self {
            tenancy: Tenancy::new(
                ports.workspaces.clone(),
                ports.api_keys.clone(),
                ports.clock.clone(),
            ),
            directory: UserDirectory::new(ports.users.clone(), ports.connections.clone()),
            announcer: None,
            ports,
            providers: Arc::default(),
            connect: None,
            jobs_queue: None,
            sync: SyncSettings::default(),
        }
    }

    /// Where sync jobs are queued (SQS on AWS, the embedded queue locally).
    pub fn with_jobs_queue(mut self, queue: Arc<dyn JobQueue>) -> Self {
        self.jobs_queue = Some(queue);
        self
    }

    pub fn with_sync_settings(mut self, settings: SyncSettings) -> Self {
        self.sync = settings;
        self
    }

    /// What connecting providers needs: the provider client, the vault for tokens, redirects.
    pub fn with_connect(mut self, settings: ConnectSettings) -> Self {
        self.connect = Some(Arc::new(settings));
        self
    }

    /// The providers this deployment connects to.
    pub fn with_providers(mut self, providers: ProviderRegistry) -> Self {
        self.providers = Arc::new(providers);
        self
    }

    pub fn providers(&self) -> &ProviderRegistry {
        &self.providers
    }

    pub fn now(&self) -> Timestamp {
        self.ports.clock.now()
    }

    /// Starting sync jobs, when this host queues them.
    pub fn sync_jobs(&self) -> Result<SyncJobs, DomainError> {
        let queue = self
            .jobs_queue
            .clone()
            .ok_or(DomainError::Unavailable("syncing"))?;
        Ok(SyncJobs::new(
            self.directory.clone(),
            self.ports.jobs.clone(),
            queue,
            self.ports.connections.clone(),
            self.providers.clone(),
            self.sync.poll_interval,
            self.ports.clock.clone(),
        ))
    }

    /// Reading users' health data.
    pub fn health_reads(&self) -> HealthReads {
        HealthReads::new(
            self.directory.clone(),
            self.ports.connections.clone(),
            self.ports.health.clone(),
            self.ports.clock.clone(),
        )
    }

    /// Users signed in on their phones.
    pub fn user_sessions(&self) -> UserSessions {
        UserSessions::new(
            self.directory.clone(),
            self.ports.states.clone(),
            self.ports.sessions.clone(),
            self.ports.clock.clone(),
        )
    }

    /// What phones push, when this host announces events.
    pub fn phone_ingest(&self) -> Result<PhoneIngest, DomainError> {
        Ok(PhoneIngest::new(
            self.directory.clone(),
            self.ports.connections.clone(),
            self.ports.health.clone(),
            self.announcer()?.clone(),
            self.ports.clock.clone(),
        ))
    }

    /// Changing users, when this host announces events.
    pub fn users(&self) -> Result<Users, DomainError> {
        Ok(Users::new(
            self.directory.clone(),
            self.ports.users.clone(),
            self.announcer()?.clone(),
            self.ports.clock.clone(),
        ))
    }
}
