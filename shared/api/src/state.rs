//! What each function's routes are served with: the services its handlers ask for. A handler
//! names the service it uses (`State<Users>`); a function's state holds exactly those, and
//! `FromRef` hands each handler its own.

use axum::extract::FromRef;
use vitasync_domain::App;
use vitasync_domain::DomainError;
use vitasync_domain::health_query::HealthReads;
use vitasync_domain::ingest::PhoneIngest;
use vitasync_domain::sync::SyncJobs;
use vitasync_domain::tenancy::Tenancy;
use vitasync_domain::tenancy::users::{UserDirectory, Users};
use vitasync_domain::user_sessions::UserSessions;
use vitasync_domain::webhook_endpoints::WebhookEndpoints;

/// What any router state must be.
pub trait ApiState: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> ApiState for T {}

/// `functions/users`: authenticating callers, and the users of their workspace.
#[derive(Clone, FromRef)]
pub struct UsersApi {
    pub tenancy: Tenancy,
    pub directory: UserDirectory,
    pub users: Users,
}

/// `functions/admin`: workspaces, API keys, webhook endpoints, readiness and documentation.
#[derive(Clone, FromRef)]
pub struct AdminApi {
    pub tenancy: Tenancy,
    pub directory: UserDirectory,
    pub webhook_endpoints: WebhookEndpoints,
}

/// `functions/sync-trigger`: starting syncs and reading their jobs.
#[derive(Clone, FromRef)]
pub struct SyncTriggerApi {
    pub tenancy: Tenancy,
    pub sync_jobs: SyncJobs,
}

/// `functions/query`: reading and erasing health data.
#[derive(Clone, FromRef)]
pub struct QueryApi {
    pub tenancy: Tenancy,
    pub health_reads: HealthReads,
}

/// `functions/mobile`: sign-in tokens and sessions, `/v1/me` reads, and phones' pushes.
#[derive(Clone, FromRef)]
pub struct MobileApi {
    pub tenancy: Tenancy,
    pub directory: UserDirectory,
    pub user_sessions: UserSessions,
    pub phone_ingest: PhoneIngest,
    pub health_reads: HealthReads,
}

/// Functions whose use cases are still on `App`, with the services split out of it so far.
#[derive(Clone, FromRef)]
pub struct AppApi {
    pub app: App,
    pub tenancy: Tenancy,
    pub directory: UserDirectory,
}

impl AppApi {
    pub fn new(app: App) -> Self {
        Self {
            tenancy: app.tenancy.clone(),
            directory: app.directory.clone(),
            app,
        }
    }
}

/// The local host: every route, so every service.
#[derive(Clone, FromRef)]
pub struct LocalApi {
    pub app: App,
    pub tenancy: Tenancy,
    pub directory: UserDirectory,
    pub users: Users,
    pub webhook_endpoints: WebhookEndpoints,
    pub sync_jobs: SyncJobs,
    pub health_reads: HealthReads,
    pub user_sessions: UserSessions,
    pub phone_ingest: PhoneIngest,
}

impl LocalApi {
    /// Every service of `app`, which must announce events and queue sync jobs.
    pub fn new(app: App, webhook_endpoints: WebhookEndpoints) -> Result<Self, DomainError> {
        Ok(Self {
            tenancy: app.tenancy.clone(),
            directory: app.directory.clone(),
            users: app.users()?,
            sync_jobs: app.sync_jobs()?,
            health_reads: app.health_reads(),
            user_sessions: app.user_sessions(),
            phone_ingest: app.phone_ingest()?,
            webhook_endpoints,
            app,
        })
    }
}
