//! The one mapping from errors to HTTP: RFC 9457 `application/problem+json` bodies with stable
//! `type` URIs. Internal error text is logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use vitasync_domain::kernel::error::AuthFailure;
use vitasync_domain::{DomainError, StoreError};

const TYPE_BASE: &str = "https://vitasync.dev/problems/";

/// A kind of problem: its stable type, title and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemType {
    pub slug: &'static str,
    pub title: &'static str,
    pub status: StatusCode,
}

impl ProblemType {
    pub fn uri(&self) -> String {
        format!("{TYPE_BASE}{}", self.slug)
    }
}

macro_rules! problem_types {
    ($($name:ident => $slug:literal, $status:ident, $title:literal;)+) => {
        $(pub(crate) const $name: ProblemType =
            ProblemType { slug: $slug, title: $title, status: StatusCode::$status };)+
        /// Every problem type the API answers with.
        pub const PROBLEM_TYPES: &[ProblemType] = &[$($name),+];
    };
}

problem_types! {
    VALIDATION => "validation-error", BAD_REQUEST, "The request is not valid";
    MALFORMED_JSON => "malformed-json", BAD_REQUEST, "The body is not valid JSON";
    UNAUTHORIZED => "unauthorized", UNAUTHORIZED, "Authentication required";
    FORBIDDEN => "forbidden", FORBIDDEN, "Not allowed";
    NOT_FOUND => "not-found", NOT_FOUND, "Not found";
    METHOD_NOT_ALLOWED => "method-not-allowed", METHOD_NOT_ALLOWED, "Method not allowed";
    CONFLICT => "conflict", CONFLICT, "Conflict";
    PAYLOAD_TOO_LARGE => "payload-too-large", PAYLOAD_TOO_LARGE, "The body is too large";
    UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type", UNSUPPORTED_MEDIA_TYPE, "Unsupported content type";
    CONNECT_FAILED => "connect-failed", BAD_REQUEST, "The provider could not be connected";
    INVALID_GRANT => "invalid-grant", BAD_REQUEST, "The grant is not valid";
    UNAVAILABLE => "service-unavailable", SERVICE_UNAVAILABLE, "Temporarily unavailable";
    INTERNAL => "internal-error", INTERNAL_SERVER_ERROR, "Internal error";
}

/// One invalid field, as the client named it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Present on validation errors: every field that failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// On the token endpoint: the OAuth 2.0 error code (`invalid_grant`), for OAuth clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    kind: ProblemType,
    detail: String,
    errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let (field, message) = (field.into(), message.into());
        Self {
            kind: VALIDATION,
            detail: format!("{field}: {message}"),
            errors: vec![FieldError { field, message }],
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            NOT_FOUND,
            format!("no {what} with that id in this workspace"),
        )
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Validation { field, message } => Self::invalid(field, message),
            DomainError::NotFound(what) => Self::not_found(what),
            DomainError::Conflict(detail) => Self::new(CONFLICT, detail),
            DomainError::Unauthenticated(failure) => Self::new(
                UNAUTHORIZED,
                match failure {
                    AuthFailure::Missing => "send an API key as 'Authorization: Bearer <key>'",
                    AuthFailure::Unknown => "the API key is not valid (unknown or revoked)",
                    AuthFailure::Expired => "the API key has expired",
                    AuthFailure::TokenMissing => {
                        "send the user's access token as 'Authorization: Bearer <token>'"
                    }
                    AuthFailure::TokenUnknown => {
                        "the access token is not valid (unknown, revoked or signed out)"
                    }
                    AuthFailure::TokenExpired => {
                        "the access token has expired: exchange the refresh token for a new one"
                    }
                },
            ),
            DomainError::Forbidden(detail) => Self::new(FORBIDDEN, detail),
            DomainError::InvalidGrant(detail) => Self::new(INVALID_GRANT, detail),
            DomainError::Unavailable(what) => Self::new(
                UNAVAILABLE,
                format!("{what} is not available on this deployment right now"),
            ),
            DomainError::Store(err) => err.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(_) => {
                Self::new(CONFLICT, "the request conflicts with stored data")
            }
            StoreError::Unavailable(reason) => {
                tracing::error!(error = %reason, "store unavailable");
                Self::new(
                    UNAVAILABLE,
                    "the data store did not answer; try again shortly",
                )
            }
            StoreError::Corrupt(reason) => {
                tracing::error!(error = %reason, "stored item could not be read");
                Self::new(INTERNAL, "an internal error occurred")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.kind.status;
        let body = Problem {
            kind: self.kind.uri(),
            title: self.kind.title.into(),
            status: status.as_u16(),
            detail: self.detail,
            errors: self.errors,
            error: (self.kind == INVALID_GRANT).then_some("invalid_grant"),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
