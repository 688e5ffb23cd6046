//! Extractors that turn requests into typed input or a problem response: the caller (key and
//! scope, checked before the body is looked at), JSON bodies, query strings and cursors.

use crate::problem::{
    ApiError, ApiResult, MALFORMED_JSON, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE,
};
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use vitasync_domain::kernel::page::PageRequest;
use vitasync_domain::kernel::scope::Scope;
use vitasync_domain::mobile::sessions::UserSessions;
use vitasync_domain::tenancy::Authenticator;
use vitasync_domain::tenancy::api_key::Principal;

/// A scope a route requires, as a type.
pub trait Required {
    const SCOPE: Scope;
}

pub struct Read;
pub struct Write;
pub struct Admin;

impl Required for Read {
    const SCOPE: Scope = Scope::Read;
}
impl Required for Write {
    const SCOPE: Scope = Scope::Write;
}
impl Required for Admin {
    const SCOPE: Scope = Scope::Admin;
}

/// The authenticated caller, holding at least scope `R`.
pub struct Caller<R> {
    pub principal: Principal,
    scope: PhantomData<R>,
}

impl<R, S> FromRequestParts<S> for Caller<R>
where
    R: Required + Send,
    S: Send + Sync,
    Authenticator: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let principal = Authenticator::from_ref(state)
            .authenticate(bearer_of(parts))
            .await?;
        principal.require(R::SCOPE)?;
        Ok(Self {
            principal,
            scope: PhantomData,
        })
    }
}

fn bearer_of(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
}

/// A signed-in user of the developer's app (`/v1/me` routes): their access token, never an
/// API key.
pub struct Me {
    pub principal: Principal,
    pub user_id: String,
}

impl<S> FromRequestParts<S> for Me
where
    S: Send + Sync,
    UserSessions: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let principal = UserSessions::from_ref(state)
            .authenticate_user(bearer_of(parts))
            .await?;
        let user_id = principal
            .user
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        Ok(Self { principal, user_id })
    }
}

/// A JSON body: `application/json` (or `+json`), within the router's size limit, parsed into
/// `T` with the failing field named.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> ApiResult<Self> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                UNSUPPORTED_MEDIA_TYPE,
                "send the body as 'Content-Type: application/json'",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        PAYLOAD_TOO_LARGE,
                        "the body is larger than this route accepts",
                    )
                } else {
                    ApiError::new(MALFORMED_JSON, "the body could not be read")
                }
            })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON, telling syntax errors (malformed) from shape errors (a named field is wrong).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    // Tracking the path costs on every value of a body (megabytes of a phone's samples): it
    // is paid only for a body that fails, to name where.
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let inner = err.inner();
        if inner.is_syntax() || inner.is_eof() {
            return malformed(inner);
        }
        let path = err.path().to_string();
        let message = strip_position(&inner.to_string());
        // serde names a missing field in its message, at the path of the object that lacks it;
        // every other error's path already ends at the field.
        match (missing_field(&message), path.as_str()) {
            (Some(field), ".") => ApiError::invalid(field, message),
            (Some(field), parent) => ApiError::invalid(format!("{parent}.{field}"), message),
            (None, ".") => ApiError::invalid("body", message),
            (None, _) => ApiError::invalid(path, message),
        }
    })?;
    deserializer.end().map_err(|err| malformed(&err))?;
    Ok(value)
}

fn malformed(err: &serde_json::Error) -> ApiError {
    ApiError::new(MALFORMED_JSON, format!("the body is not valid JSON: {err}"))
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next().map(str::to_owned)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 100;
const CURSOR_VERSION: &str = "v1.";

/// `limit` and `cursor` from a query string.
pub fn page_request(limit: Option<&str>, cursor: Option<&str>) -> ApiResult<PageRequest> {
    let limit = match limit {
        None => DEFAULT_PAGE_SIZE,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                )
            })?,
    };
    let after = cursor.map(decode_cursor).transpose()?;
    Ok(PageRequest { limit, after })
}

/// Wraps a store position so clients see one opaque token.
pub fn encode_cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}{position}"))
}

pub fn decode_cursor(cursor: &str) -> ApiResult<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(CURSOR_VERSION).map(str::to_owned))
        .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this API returned"))
}

/// A query string parsed leniently into `T`; failures name the parameter.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> ApiResult<Self> {
        let query = parts.uri.query().unwrap_or_default();
        // The last of repeated keys wins.
        let pairs: serde_json::Map<String, serde_json::Value> =
            form_urlencoded::parse(query.as_bytes())
                .map(|(key, value)| {
                    (
                        key.into_owned(),
                        serde_json::Value::String(value.into_owned()),
                    )
                })
                .collect();
        let value = serde_json::Value::Object(pairs);
        serde_path_to_error::deserialize(value)
            .map(QueryParams)
            .map_err(|err| ApiError::invalid(err.path().to_string(), err.inner().to_string()))
    }
}

/// The base URL a request arrived at (`scheme://host`), for links VitaSync hands out when the
/// deployment does not configure `VITASYNC_PUBLIC_URL`. Behind API Gateway that is HTTPS.
pub struct RequestBase(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestBase {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> ApiResult<Self> {
        let header_text = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        let host = header_text("host")
            .or_else(|| parts.uri.authority().map(|authority| authority.as_str()))
            .filter(|host| {
                host.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
            })
            .unwrap_or("localhost");
        let loopback = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .any(|name| host == *name || host.starts_with(&format!("{name}:")));
        let scheme = match header_text("x-forwarded-proto") {
            Some("http") => "http",
            Some(_) => "https",
            None if loopback => "http",
            None => "https",
        };
        Ok(Self(format!("{scheme}://{host}")))
    }
}
