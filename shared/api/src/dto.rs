//! What the API reads and writes. Kept apart from the domain types so the wire format is a
//! deliberate choice (camelCase, no internal fields) and carries its OpenAPI schema.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use vitasync_domain::kernel::page::Page;
use vitasync_domain::kernel::scope::Scope;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::tenancy::api_key::{ApiKeyRecord, IssuedKey};
use vitasync_domain::tenancy::user::{Metadata, User, UserDraft, UserPatch};
use vitasync_domain::tenancy::workspace::Workspace;

use crate::extract::encode_cursor;

/// A page of results. Pass `nextCursor` as `cursor` to get the next page; `null` means last.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    pub fn from_page<D>(page: Page<D>, to_wire: impl FnMut(D) -> T) -> Self {
        let next_cursor = page.next.as_deref().map(encode_cursor);
        Self {
            data: page.items.into_iter().map(to_wire).collect(),
            next_cursor,
        }
    }
}

/// `null` and absent both mean "not given" here.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUser {
    /// Your own id for this user; unique within the workspace. Creating again with the same
    /// `externalId` returns (and updates) the existing user.
    pub external_id: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// Any JSON object, stored as sent (at most 16 KiB).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
}

impl From<CreateUser> for UserDraft {
    fn from(body: CreateUser) -> Self {
        UserDraft {
            external_id: body.external_id,
            email: body.email,
            display_name: body.display_name,
            metadata: body.metadata,
        }
    }
}

/// Fields left out stay as they are; `null` clears `email` and `displayName`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub display_name: Option<Option<String>>,
    /// Replaces the whole metadata object.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Option<Metadata>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`, via `default`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A field that cannot be cleared, sent as `null`.
pub struct NotNullable(pub &'static str);

impl TryFrom<UpdateUser> for UserPatch {
    type Error = NotNullable;

    fn try_from(body: UpdateUser) -> Result<Self, Self::Error> {
        Ok(UserPatch {
            external_id: match body.external_id {
                Some(None) => return Err(NotNullable("externalId")),
                other => other.flatten(),
            },
            email: body.email,
            display_name: body.display_name,
            metadata: match body.metadata {
                Some(None) => return Err(NotNullable("metadata")),
                other => other.flatten(),
            },
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserBody {
    /// VitaSync's id for the user (a ULID).
    pub id: String,
    pub external_id: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<User> for UserBody {
    fn from(user: User) -> Self {
        Self {
            id: user.id.to_string(),
            external_id: user.external_id,
            email: user.email,
            display_name: user.display_name,
            metadata: user.metadata,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: String,
    /// Any of `read`, `write`, `admin` (`admin` implies the others).
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    /// When the key stops working (RFC 3339). Never, if left out.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyBody {
    pub id: String,
    pub name: String,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub rotated_at: Option<Timestamp>,
}

impl From<ApiKeyRecord> for ApiKeyBody {
    fn from(key: ApiKeyRecord) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name,
            scopes: key.scopes,
            prefix: key.prefix,
            created_at: key.created_at,
            expires_at: key.expires_at,
            rotated_at: key.rotated_at,
        }
    }
}

/// A key with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuedApiKeyBody {
    #[serde(flatten)]
    pub key: ApiKeyBody,
    /// The secret. Store it now: it is never shown again.
    pub secret: String,
}

impl From<IssuedKey> for IssuedApiKeyBody {
    fn from(issued: IssuedKey) -> Self {
        Self {
            secret: reveal(&issued.secret),
            key: issued.record.into(),
        }
    }
}

/// The one place a secret is turned into response text.
fn reveal(secret: &SecretString) -> String {
    secret.expose_secret().to_owned()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWorkspace {
    /// Lowercase letters, digits and inner hyphens; unique in the deployment.
    pub slug: String,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceBody {
    pub id: String,
    pub slug: String,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// `GET /v1/workspace`: the calling key's workspace and what the key may do.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrentWorkspaceBody {
    pub workspace: WorkspaceBody,
    /// The key's scopes: `read`, `write`, `admin`.
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    /// Whether it is the deployment's root key.
    pub root: bool,
}

impl From<Workspace> for WorkspaceBody {
    fn from(workspace: Workspace) -> Self {
        Self {
            id: workspace.id.to_string(),
            slug: workspace.slug,
            name: workspace.name,
            created_at: workspace.created_at,
        }
    }
}

/// A new workspace and its first admin key, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWorkspaceBody {
    #[serde(flatten)]
    pub workspace: WorkspaceBody,
    pub api_key: String,
}

impl CreatedWorkspaceBody {
    pub fn new(workspace: Workspace, key: &IssuedKey) -> Self {
        Self {
            workspace: workspace.into(),
            api_key: reveal(&key.secret),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBody {
    pub status: &'static str,
}

/// `limit` and `cursor` as every list route takes them.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1 to 100; 50 if left out.
    pub limit: Option<String>,
    /// `nextCursor` from the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct UserListParams {
    /// Only the user with this external id (a list of zero or one).
    pub external_id: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderBody {
    /// e.g. `withings`
    pub id: &'static str,
    pub name: &'static str,
    /// `oauth2` or `oauth2_pkce`.
    pub auth_type: &'static str,
    /// Whether the caller's users can connect it: the deployment has an app for it, or the
    /// workspace brought its own.
    pub enabled: bool,
    /// Whether connections use the workspace's own app
    /// (`PUT /v1/providers/{providerId}/credentials`).
    pub own_app: bool,
    pub data_types: Vec<&'static str>,
    pub logo_url: String,
}

impl ProviderBody {
    pub fn new(
        info: vitasync_domain::providers::ProviderInfo,
        app: Option<&vitasync_domain::providers::apps::AppRef>,
    ) -> Self {
        let enabled = app.is_some();
        let own_app = app.is_some_and(|app| app.id().is_some());
        Self {
            id: info.id.as_str(),
            name: info.name,
            auth_type: if info.oauth.pkce {
                "oauth2_pkce"
            } else {
                "oauth2"
            },
            enabled,
            own_app,
            data_types: info.data_types.to_vec(),
            logo_url: format!("/v1/providers/{}/logo.svg", info.id),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionBody {
    pub id: String,
    pub user_id: String,
    pub provider_id: &'static str,
    /// The account's id at the provider.
    pub provider_user_id: String,
    /// `active`, `error` or `disconnected`.
    #[schema(value_type = String)]
    pub status: vitasync_domain::connections::ConnectionStatus,
    pub status_reason: Option<String>,
    /// The scopes the user granted.
    pub scopes: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub connected_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_synced_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub token_expires_at: Option<Timestamp>,
    /// The user's IANA time zone, where the provider tells it (e.g. `Europe/Berlin`).
    pub time_zone: Option<String>,
}

impl From<vitasync_domain::connections::Connection> for ConnectionBody {
    fn from(connection: vitasync_domain::connections::Connection) -> Self {
        Self {
            id: connection.id.to_string(),
            user_id: connection.user_id.to_string(),
            provider_id: connection.provider.as_str(),
            provider_user_id: connection.provider_user_id,
            status: connection.status,
            status_reason: connection.status_reason,
            scopes: connection.scopes,
            connected_at: connection.connected_at,
            time_zone: connection.time_zone,
            last_synced_at: connection.last_synced_at,
            token_expires_at: connection.token_expires_at,
        }
    }
}

/// `POST /v1/users/{userId}/connect-links`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateConnectLink {
    /// e.g. `withings`; must be enabled on this deployment.
    pub provider_id: String,
    /// Where the browser goes after connecting, with `connectionId`, `providerId`, `userId` and
    /// `externalId` added (or `error` and `error_description` on failure). Its origin must be
    /// allow-listed. Defaults to `OAUTH_CALLBACK_URL`, else VitaSync's own "done" page.
    pub redirect_url: Option<String>,
    /// Where a failure goes instead of `redirectUrl`.
    pub failure_redirect_url: Option<String>,
}

impl From<CreateConnectLink> for vitasync_domain::connect::ConnectLinkRequest {
    fn from(body: CreateConnectLink) -> Self {
        Self {
            provider: body.provider_id,
            redirect_url: body.redirect_url,
            failure_redirect_url: body.failure_redirect_url,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectLinkBody {
    /// Send the end user's browser here. Works once, until `expiresAt`.
    pub url: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// `POST /v1/widget/sessions`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWidgetSession {
    pub user_id: String,
    /// The providers to offer (default: every enabled one).
    pub providers: Option<Vec<String>>,
    pub success_redirect_url: Option<String>,
    pub failure_redirect_url: Option<String>,
}

impl From<CreateWidgetSession> for vitasync_domain::connect::WidgetSessionRequest {
    fn from(body: CreateWidgetSession) -> Self {
        Self {
            user_id: body.user_id,
            providers: body.providers,
            success_redirect_url: body.success_redirect_url,
            failure_redirect_url: body.failure_redirect_url,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetSessionBody {
    pub session_id: String,
    /// The hosted page listing the providers; open it in the end user's browser.
    pub url: String,
    /// Seconds the session stays usable.
    pub expires_in: i64,
}

/// `POST /v1/users/{userId}/connections/{connectionId}/sync`; every field is optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TriggerSync {
    /// Start of the window (RFC 3339). Default: the last sync minus an overlap, or 30 days
    /// back for the first sync.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    /// End of the window. Default: now.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub to: Option<Timestamp>,
    /// Data types to fetch: metrics (`steps`, `heart_rate`, …) and sessions (`sleep`,
    /// `workout`); default all the provider has.
    pub data_types: Option<Vec<String>>,
}

impl From<TriggerSync> for vitasync_domain::sync::SyncRequest {
    fn from(body: TriggerSync) -> Self {
        Self {
            from: body.from,
            to: body.to,
            data_types: body.data_types.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncWindowBody {
    #[schema(value_type = String, format = DateTime)]
    pub from: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub to: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobErrorBody {
    /// `token_refresh_failed`, `provider_revoked`, `provider_unavailable`, `provider_error`,
    /// `not_connected`, `queue_unavailable` or `abandoned` (no progress for 3 hours: its
    /// message was lost, and a new trigger replaced it).
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncJobBody {
    pub job_id: String,
    pub user_id: String,
    pub connection_id: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: &'static str,
    pub data_types: Vec<&'static str>,
    /// The window synced, once the job has started.
    pub window: Option<SyncWindowBody>,
    /// Per data type: records `fetched` from the provider, `written` (new or changed) and
    /// `unchanged`.
    #[schema(value_type = Object)]
    pub counts: std::collections::BTreeMap<String, vitasync_domain::health::records::Counts>,
    pub error: Option<JobErrorBody>,
    pub attempts: u32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
}

impl From<vitasync_domain::sync::jobs::SyncJob> for SyncJobBody {
    fn from(job: vitasync_domain::sync::jobs::SyncJob) -> Self {
        use vitasync_domain::sync::jobs::JobStatus;
        Self {
            job_id: job.id.to_string(),
            user_id: job.user_id.to_string(),
            connection_id: job.connection_id.to_string(),
            status: match job.status {
                JobStatus::Queued => "queued",
                JobStatus::Running => "running",
                JobStatus::Succeeded => "succeeded",
                JobStatus::Failed => "failed",
            },
            data_types: job.data_types.iter().map(|t| t.as_str()).collect(),
            window: job
                .window_from
                .zip(job.window_to)
                .map(|(from, to)| SyncWindowBody { from, to }),
            counts: job.counts,
            error: job.error.map(|error| JobErrorBody {
                code: error.code,
                message: error.message,
            }),
            attempts: job.attempts,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
        }
    }
}

/// A workspace's own app at a provider. Secrets go in and never come out.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderCredentialsBody {
    /// The app's OAuth client id.
    pub client_id: String,
    /// The app's OAuth client secret.
    #[schema(value_type = String, format = Password)]
    pub client_secret: SecretString,
    /// Polar's `signature_secret_key`, the secret in Garmin's push URL (16+ URL-safe
    /// characters), Google Health's endpoint authorization secret, Suunto's notification
    /// secret or Wahoo's webhook token.
    #[schema(value_type = Option<String>, format = Password)]
    pub webhook_secret: Option<SecretString>,
    /// The verify token given to Strava or Oura when subscribing to their webhooks.
    #[schema(value_type = Option<String>, format = Password)]
    pub verify_token: Option<SecretString>,
    /// Suunto's API subscription key (`Ocp-Apim-Subscription-Key`): required for Suunto.
    #[schema(value_type = Option<String>, format = Password)]
    pub subscription_key: Option<SecretString>,
    /// Dexcom: the region the app is registered in, `us` (default), `eu`, `jp` or `sandbox`.
    /// Its users' data is read from that region's host.
    pub region: Option<String>,
}

impl std::fmt::Debug for ProviderCredentialsBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderCredentialsBody")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Whether a workspace has its own app at a provider, and what to register there for it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderAppBody {
    pub provider_id: String,
    /// Whether the workspace uses its own app (else the deployment's).
    pub configured: bool,
    /// The app's id, named in its webhook URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub has_webhook_secret: bool,
    pub has_verify_token: bool,
    /// Dexcom: the app's region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub configured_at: Option<Timestamp>,
    /// The redirect URI to register with the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Where the provider should push for this app (Garmin: followed by `/<webhookSecret>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

impl From<vitasync_domain::providers::credentials::AppStatus> for ProviderAppBody {
    fn from(status: vitasync_domain::providers::credentials::AppStatus) -> Self {
        let app = status.app.as_ref();
        Self {
            provider_id: status.provider.to_string(),
            configured: app.is_some(),
            app_id: app.map(|app| app.id.to_string()),
            client_id: app.map(|app| app.client_id.clone()),
            has_webhook_secret: app.is_some_and(|app| app.has_webhook_secret),
            has_verify_token: app.is_some_and(|app| app.has_verify_token),
            region: app.and_then(|app| app.region.clone()),
            configured_at: app.map(|app| app.configured_at),
            callback_url: status.callback_url,
            webhook_url: app.and_then(|app| app.webhook_url.clone()),
        }
    }
}
