//! What each function's routes are served with: the services its handlers ask for. A handler
//! names the service it uses (`State<Users>`); a function's state holds exactly those.

use axum::extract::FromRef;
use vitasync_domain::App;
use vitasync_domain::sync::SyncJobs;
use vitasync_domain::tenancy::Tenancy;
use vitasync_domain::tenancy::users::{UserDirectory, Users};
use vitasync_domain::webhook_endpoints::WebhookEndpoints;

/// What any router state must be.
pub trait ApiState: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> ApiState for T {}

/// `functions/users`: authenticating callers, and the users of their workspace.
#[derive(Clone)]
pub struct UsersApi {
    pub tenancy: Tenancy,
    pub users: Users,
}

impl FromRef<UsersApi> for Tenancy {
    fn from_ref(state: &UsersApi) -> Self {
        state.tenancy.clone()
    }
}

impl FromRef<UsersApi> for Users {
    fn from_ref(state: &UsersApi) -> Self {
        state.users.clone()
    }
}

impl FromRef<UsersApi> for UserDirectory {
    fn from_ref(state: &UsersApi) -> Self {
        state.users.directory().clone()
    }
}

/// `functions/admin`: workspaces, API keys, webhook endpoints, readiness and documentation.
#[derive(Clone)]
pub struct AdminApi {
    pub tenancy: Tenancy,
    pub directory: UserDirectory,
    pub webhook_endpoints: WebhookEndpoints,
}

impl FromRef<AdminApi> for Tenancy {
    fn from_ref(state: &AdminApi) -> Self {
        state.tenancy.clone()
    }
}

impl FromRef<AdminApi> for UserDirectory {
    fn from_ref(state: &AdminApi) -> Self {
        state.directory.clone()
    }
}

impl FromRef<AdminApi> for WebhookEndpoints {
    fn from_ref(state: &AdminApi) -> Self {
        state.webhook_endpoints.clone()
    }
}

/// `functions/sync-trigger`: starting syncs and reading their jobs.
#[derive(Clone)]
pub struct SyncTriggerApi {
    pub tenancy: Tenancy,
    pub sync_jobs: SyncJobs,
}

impl FromRef<SyncTriggerApi> for Tenancy {
    fn from_ref(state: &SyncTriggerApi) -> Self {
        state.tenancy.clone()
    }
}

impl FromRef<SyncTriggerApi> for SyncJobs {
    fn from_ref(state: &SyncTriggerApi) -> Self {
        state.sync_jobs.clone()
    }
}

/// Functions whose use cases are still on `App` (with the services split out of it so far).
#[derive(Clone)]
pub struct AppApi {
    pub app: App,
}

impl FromRef<AppApi> for App {
    fn from_ref(state: &AppApi) -> Self {
        state.app.clone()
    }
}

impl FromRef<AppApi> for Tenancy {
    fn from_ref(state: &AppApi) -> Self {
        state.app.tenancy.clone()
    }
}

impl FromRef<AppApi> for UserDirectory {
    fn from_ref(state: &AppApi) -> Self {
        state.app.directory.clone()
    }
}

/// The local host: every route, so every service.
#[derive(Clone)]
pub struct LocalApi {
    pub app: App,
    pub users: Users,
    pub webhook_endpoints: WebhookEndpoints,
    pub sync_jobs: SyncJobs,
}

impl LocalApi {
    /// Every service of `app`, which must announce events.
    pub fn new(
        app: App,
        webhook_endpoints: WebhookEndpoints,
    ) -> Result<Self, vitasync_domain::DomainError> {
        Ok(Self {
            users: app.users()?,
            sync_jobs: app.sync_jobs()?,
            app,
            webhook_endpoints,
        })
    }
}

impl FromRef<LocalApi> for SyncJobs {
    fn from_ref(state: &LocalApi) -> Self {
        state.sync_jobs.clone()
    }
}

impl FromRef<LocalApi> for WebhookEndpoints {
    fn from_ref(state: &LocalApi) -> Self {
        state.webhook_endpoints.clone()
    }
}

impl FromRef<LocalApi> for App {
    fn from_ref(state: &LocalApi) -> Self {
        state.app.clone()
    }
}

impl FromRef<LocalApi> for Tenancy {
    fn from_ref(state: &LocalApi) -> Self {
        state.app.tenancy.clone()
    }
}

impl FromRef<LocalApi> for UserDirectory {
    fn from_ref(state: &LocalApi) -> Self {
        state.app.directory.clone()
    }
}

impl FromRef<LocalApi> for Users {
    fn from_ref(state: &LocalApi) -> Self {
        state.users.clone()
    }
}
