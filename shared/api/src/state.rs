//! What each function's routes are served with: the services its handlers ask for. A handler
//! names the service it uses (`State<Users>`); a function's state holds exactly those, and
//! `FromRef` hands each handler its own.

use axum::extract::FromRef;
use vitasync_domain::announce::endpoints::WebhookEndpoints;
use vitasync_domain::connect::{Callback, Connect, ConnectLinks, Disconnector};
use vitasync_domain::health::query::HealthReads;
use vitasync_domain::inbound::push::Pushes;
use vitasync_domain::inbound::subscriptions::WebhookSubscriptions;
use vitasync_domain::mobile::ingest::PhoneIngest;
use vitasync_domain::mobile::sessions::UserSessions;
use vitasync_domain::providers::credentials::ProviderCredentials;
use vitasync_domain::services::Services;
use vitasync_domain::sync::SyncJobs;
use vitasync_domain::tenancy::{Authenticator, Tenancy};
use vitasync_domain::users::{UserDirectory, Users};

/// What any router state must be.
pub trait ApiState: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> ApiState for T {}

/// `functions/users`: authenticating callers, and the users of their workspace.
#[derive(Clone, FromRef)]
pub struct UsersApi {
    pub authenticator: Authenticator,
    pub directory: UserDirectory,
    pub users: Users,
}

/// `functions/admin`: workspaces, API keys, webhook endpoints, workspaces' own provider apps,
/// readiness and documentation.
#[derive(Clone, FromRef)]
pub struct AdminApi {
    pub authenticator: Authenticator,
    pub tenancy: Tenancy,
    pub directory: UserDirectory,
    pub webhook_endpoints: WebhookEndpoints,
    pub provider_credentials: ProviderCredentials,
}

/// `functions/connections`: providers, connections, connect links and widget sessions,
/// providers' webhook subscriptions, and the demo provider.
#[derive(Clone, FromRef)]
pub struct ConnectionsApi {
    pub authenticator: Authenticator,
    pub directory: UserDirectory,
    pub connect_links: ConnectLinks,
    /// The demo provider's pages.
    pub connect: Connect,
    pub disconnector: Disconnector,
    pub subscriptions: WebhookSubscriptions,
}

/// `functions/authorize`: the widget page and the redirect to a provider's consent screen.
#[derive(Clone, FromRef)]
pub struct AuthorizeApi {
    pub connect: Connect,
}

/// `functions/callback`: the provider's redirect back.
#[derive(Clone, FromRef)]
pub struct CallbackApi {
    pub callback: Callback,
}

/// `functions/sync-trigger`: starting syncs and reading their jobs.
#[derive(Clone, FromRef)]
pub struct SyncTriggerApi {
    pub authenticator: Authenticator,
    pub sync_jobs: SyncJobs,
}

/// `functions/query`: reading and erasing health data.
#[derive(Clone, FromRef)]
pub struct QueryApi {
    pub authenticator: Authenticator,
    pub health_reads: HealthReads,
}

/// `functions/webhook`: providers' pushes.
#[derive(Clone, FromRef)]
pub struct WebhookApi {
    pub pushes: Pushes,
}

/// `functions/mobile`: sign-in tokens and sessions, `/v1/me` reads, and phones' pushes.
#[derive(Clone, FromRef)]
pub struct MobileApi {
    pub authenticator: Authenticator,
    pub directory: UserDirectory,
    pub user_sessions: UserSessions,
    pub phone_ingest: PhoneIngest,
    pub health_reads: HealthReads,
}

/// The local host: every route, so every service.
#[derive(Clone, FromRef)]
pub struct LocalApi {
    pub authenticator: Authenticator,
    pub tenancy: Tenancy,
    pub directory: UserDirectory,
    pub users: Users,
    pub webhook_endpoints: WebhookEndpoints,
    pub provider_credentials: ProviderCredentials,
    pub connect_links: ConnectLinks,
    pub connect: Connect,
    pub callback: Callback,
    pub disconnector: Disconnector,
    pub subscriptions: WebhookSubscriptions,
    pub sync_jobs: SyncJobs,
    pub health_reads: HealthReads,
    pub pushes: Pushes,
    pub user_sessions: UserSessions,
    pub phone_ingest: PhoneIngest,
}

impl From<&Services> for LocalApi {
    fn from(services: &Services) -> Self {
        let services = services.clone();
        Self {
            authenticator: services.authenticator,
            tenancy: services.tenancy,
            directory: services.directory,
            users: services.users,
            webhook_endpoints: services.webhook_endpoints,
            provider_credentials: services.provider_credentials,
            connect_links: services.connect_links,
            connect: services.connect,
            callback: services.callback,
            disconnector: services.disconnector,
            subscriptions: services.subscriptions,
            sync_jobs: services.sync_jobs,
            health_reads: services.health_reads,
            pushes: services.pushes,
            user_sessions: services.user_sessions,
            phone_ingest: services.phone_ingest,
        }
    }
}
