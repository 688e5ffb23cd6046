//! The developer's app on a user's phone: sign-in tokens minted by the developer's backend,
//! the token endpoint, and what a signed-in user may do (`/v1/me`): read their own data and
//! push their phone's.

use crate::dto::{ConnectionBody, List, UserBody};
use crate::extract::{Caller, JsonBody, Me, Write};
use crate::problem::{ApiError, ApiResult, Problem, UNSUPPORTED_MEDIA_TYPE};
use crate::state::ApiState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::FromRef;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::mobile::ingest::PhoneIngest;
use vitasync_domain::mobile::ingest::SamplePush;
use vitasync_domain::mobile::sessions::UserSessions;
use vitasync_domain::tenancy::Authenticator;
use vitasync_domain::users::UserDirectory;

/// A push of samples may be this large.
const MAX_SAMPLES_BYTES: usize = 5 * 1024 * 1024;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    UserDirectory: FromRef<S>,
    UserSessions: FromRef<S>,
    PhoneIngest: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_sign_in_token))
        .routes(routes!(token))
        .routes(routes!(revoke))
        .routes(routes!(me))
        .routes(routes!(my_connections))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(push_samples))
                .layer(DefaultBodyLimit::max(MAX_SAMPLES_BYTES)),
        )
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInTokenBody {
    pub user_id: String,
    /// Single use; hand it to the app, which exchanges it at `POST /v1/auth/token`.
    pub sign_in_token: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// Mint a sign-in token for one user
#[utoipa::path(
    post, path = "/v1/users/{userId}/sign-in-tokens", tag = "mobile",
    description = "For your backend: a single-use token, valid 10 minutes, that your app \
                   exchanges for the user's own access token. Needs `write`.",
    params(("userId" = String, Path, description = "The user's id")),
    responses(
        (status = 201, body = SignInTokenBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn create_sign_in_token(
    State(sessions): State<UserSessions>,
    caller: Caller<Write>,
    Path(user_id): Path<String>,
) -> ApiResult<(StatusCode, Json<SignInTokenBody>)> {
    let minted = sessions
        .create_sign_in_token(&caller.principal, &user_id)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SignInTokenBody {
            user_id: minted.user_id.to_string(),
            sign_in_token: minted.token,
            expires_at: minted.expires_at,
        }),
    ))
}

/// The token endpoint's form (or JSON) fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenForm {
    /// `sign_in_token` or `refresh_token`.
    pub grant_type: Option<String>,
    pub sign_in_token: Option<String>,
    pub refresh_token: Option<String>,
    /// `POST /v1/auth/revoke`: the access or refresh token to sign out.
    pub token: Option<String>,
}

/// RFC 6749 bodies come form-encoded; JSON is taken too.
fn read_form(headers: &HeaderMap, body: &[u8]) -> ApiResult<TokenForm> {
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match mime.as_str() {
        "application/x-www-form-urlencoded" => {
            let mut form = TokenForm::default();
            for (key, value) in form_urlencoded::parse(body) {
                let value = Some(value.into_owned());
                match key.as_ref() {
                    "grant_type" => form.grant_type = value,
                    "sign_in_token" => form.sign_in_token = value,
                    "refresh_token" => form.refresh_token = value,
                    "token" => form.token = value,
                    _ => {}
                }
            }
            Ok(form)
        }
        "application/json" => crate::extract::parse_json(body),
        _ => Err(ApiError::new(
            UNSUPPORTED_MEDIA_TYPE,
            "send the form as 'application/x-www-form-urlencoded' (or JSON)",
        )),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenBody {
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives (3600).
    pub expires_in: i64,
    /// Rotates on every use; an old one presented again signs the session out everywhere.
    pub refresh_token: String,
    pub user_id: String,
}

/// Exchange a sign-in token or a refresh token
#[utoipa::path(
    post, path = "/v1/auth/token", tag = "mobile", operation_id = "auth_token",
    description = "OAuth 2.0 token endpoint style, for your app. `grant_type=sign_in_token` \
                   with `sign_in_token`, or `grant_type=refresh_token` with `refresh_token`. \
                   Refusals are `invalid-grant` problems carrying `error: invalid_grant`.",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn token(
    State(sessions): State<UserSessions>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(HeaderMap, Json<TokenBody>)> {
    let form = read_form(&headers, &body)?;
    let missing = |field: &str| ApiError::invalid(field, "is required for this grant_type");
    let tokens = match form.grant_type.as_deref() {
        Some("sign_in_token") => {
            let token = form.sign_in_token.ok_or_else(|| missing("sign_in_token"))?;
            sessions.exchange_sign_in_token(&token).await?
        }
        Some("refresh_token") => {
            let token = form.refresh_token.ok_or_else(|| missing("refresh_token"))?;
            sessions.refresh_user_session(&token).await?
        }
        _ => {
            return Err(ApiError::invalid(
                "grant_type",
                "must be sign_in_token or refresh_token",
            ));
        }
    };
    let mut no_store = HeaderMap::new();
    no_store.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok((
        no_store,
        Json(TokenBody {
            access_token: tokens.access_token,
            token_type: "Bearer",
            expires_in: tokens.expires_in,
            refresh_token: tokens.refresh_token,
            user_id: tokens.user_id.to_string(),
        }),
    ))
}

/// Sign the app out
#[utoipa::path(
    post, path = "/v1/auth/revoke", tag = "mobile",
    description = "`token=<access or refresh token>`: ends the whole session. Unknown tokens \
                   are answered the same way (RFC 7009).",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Signed out"))
)]
async fn revoke(
    State(sessions): State<UserSessions>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let form = read_form(&headers, &body)?;
    let token = form
        .token
        .ok_or_else(|| ApiError::invalid("token", "is required"))?;
    sessions.revoke_user_session(&token).await?;
    Ok(StatusCode::OK)
}

/// The signed-in user
#[utoipa::path(
    get, path = "/v1/me", tag = "mobile",
    responses(
        (status = 200, body = UserBody),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("userToken" = []))
)]
async fn me(State(directory): State<UserDirectory>, me: Me) -> ApiResult<Json<UserBody>> {
    Ok(Json(
        directory.get_user(&me.principal, &me.user_id).await?.into(),
    ))
}

/// The signed-in user's connections
#[utoipa::path(
    get, path = "/v1/me/connections", tag = "mobile",
    responses(
        (status = 200, body = List<ConnectionBody>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("userToken" = []))
)]
async fn my_connections(
    State(directory): State<UserDirectory>,
    me: Me,
) -> ApiResult<Json<List<ConnectionBody>>> {
    let connections = directory
        .list_connections(&me.principal, &me.user_id)
        .await?;
    Ok(Json(List {
        data: connections.into_iter().map(ConnectionBody::from).collect(),
        next_cursor: None,
    }))
}

/// A push of samples and sessions from the phone
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SamplesRequest {
    /// `apple_health`, `health_connect` or `samsung_health`.
    pub source: String,
    /// `{uuid, type, start, end?, value, secondaryValue?, unit, timeZone, sourceName?}`: type
    /// a HealthKit quantity type (`HKQuantityTypeIdentifierStepCount`) or a Health Connect
    /// record (`StepsRecord`); timeZone an IANA zone or `+HH:MM`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub samples: Vec<Box<serde_json::value::RawValue>>,
    /// `{uuid, type: workout|sleep (or the store's name), start, end, timeZone, activity?,
    /// energyKcal?, distanceM?, stages?: [{stage, start, end}]}`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub sessions: Vec<Box<serde_json::value::RawValue>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RejectedBody {
    /// `samples[3]`, `sessions[0]`.
    pub item: String,
    pub index: usize,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SamplesBody {
    /// None when nothing from this source was ever accepted.
    pub connection_id: Option<String>,
    pub accepted: usize,
    pub rejected: Vec<RejectedBody>,
    /// Per data type: records `written` (new or changed) and `unchanged`.
    #[schema(value_type = Object)]
    pub counts: std::collections::BTreeMap<String, vitasync_domain::health::records::Counts>,
}

/// Push samples from the phone
#[utoipa::path(
    post, path = "/v1/me/samples", tag = "mobile",
    description = "Up to 5 MB of samples and sessions from Apple Health, Health Connect or \
                   Samsung Health. Stored by each item's uuid, so a push sent twice is stored \
                   once; a bad item is listed in `rejected` with its index and the others are \
                   stored. The connection to the source is made on first use.",
    request_body = SamplesRequest,
    responses(
        (status = 200, body = SamplesBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
    ),
    security(("userToken" = []))
)]
async fn push_samples(
    State(ingest): State<PhoneIngest>,
    me: Me,
    JsonBody(body): JsonBody<SamplesRequest>,
) -> ApiResult<Json<SamplesBody>> {
    let report = ingest
        .push_samples(
            &me.principal,
            SamplePush {
                source: body.source,
                samples: body.samples,
                sessions: body.sessions,
            },
        )
        .await?;
    Ok(Json(SamplesBody {
        connection_id: report.connection_id.map(|id| id.to_string()),
        accepted: report.accepted,
        rejected: report
            .rejected
            .into_iter()
            .map(|r| RejectedBody {
                item: format!("{}[{}]", r.list, r.index),
                index: r.index,
                message: r.message,
            })
            .collect(),
        counts: report.counts,
    }))
}
