//! The HTTP client the OAuth library sends through. It smooths over token endpoints that do not
//! follow RFC 6749 so the library can read them: Withings wraps every reply in `{status, body}`
//! with HTTP 200, some providers omit `token_type`, and many answer errors without an `error`
//! field. Throttling and server faults become transport errors: they are worth retrying, a
//! refusal is not.

use http::{HeaderValue, StatusCode, header};
use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};
use serde_json::{Map, Value, json};
use std::future::Future;
use std::pin::Pin;
use thiserror::Error;
use vitasync_domain::providers::ProviderId;

/// The header Azure API Management gateways (Suunto's) read the subscription key from.
pub const SUBSCRIPTION_KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";

#[derive(Debug, Error)]
pub enum WireError {
    #[error("transport: {0}")]
    Transport(String),
    #[error("the provider answered HTTP {0}")]
    Unavailable(u16),
    #[error("the provider asked us to slow down")]
    RateLimited,
}

/// One provider's token endpoint, reached through `http`.
pub struct TokenWire<'a> {
    pub http: &'a reqwest::Client,
    pub provider: ProviderId,
    /// Suunto's API gateway wants the subscription key on the token endpoint too.
    pub subscription_key: Option<&'a secrecy::SecretString>,
}

impl<'c> AsyncHttpClient<'c> for TokenWire<'_> {
    type Error = WireError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, WireError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut outgoing = self
                .http
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body);
            if let Some(key) = self.subscription_key {
                outgoing = outgoing.header(
                    SUBSCRIPTION_KEY_HEADER,
                    secrecy::ExposeSecret::expose_secret(key),
                );
            }
            let response = outgoing
                .send()
                .await
                .map_err(|err| WireError::Transport(describe(&err)))?;
            let status = response.status();
            let bytes = response
                .bytes()
                .await
                .map_err(|err| WireError::Transport(describe(&err)))?;
            normalise(self.provider, status, &bytes)
        })
    }
}

/// A reqwest error without its URL (which may carry a token in its query).
pub fn describe(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_body() || err.is_decode() {
        "bad body"
    } else {
        "request failed"
    };
    kind.to_owned()
}

fn json_response(status: StatusCode, body: &Value) -> Result<HttpResponse, WireError> {
    let mut response = HttpResponse::new(body.to_string().into_bytes());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

fn refusal(code: &str, description: &str) -> Result<HttpResponse, WireError> {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": code, "error_description": description}),
    )
}

/// Withings status codes that mean the grant or the client is not accepted.
fn withings_auth_failure(status: i64) -> bool {
    matches!(status, 100..=102 | 200 | 401)
}

fn normalise(
    provider: ProviderId,
    status: StatusCode,
    body: &[u8],
) -> Result<HttpResponse, WireError> {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(WireError::RateLimited);
    }
    if status.is_server_error() {
        return Err(WireError::Unavailable(status.as_u16()));
    }
    let parsed: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
    if provider == ProviderId::Withings && status.is_success() {
        let Some(envelope) = parsed else {
            return refusal("invalid_response", "Withings sent a body that is not JSON");
        };
        let code = envelope.get("status").and_then(Value::as_i64).unwrap_or(-1);
        return match (code, envelope.get("body")) {
            (0, Some(Value::Object(inner))) => success(inner.clone()),
            (601, _) => Err(WireError::RateLimited),
            (code, _) => {
                let message = envelope
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("request refused");
                let kind = if withings_auth_failure(code) {
                    "invalid_grant"
                } else {
                    "invalid_request"
                };
                refusal(kind, &format!("Withings status {code}: {message}"))
            }
        };
    }
    match parsed {
        Some(fields) if status.is_success() => success(fields),
        Some(fields) if fields.get("error").is_some_and(Value::is_string) => {
            json_response(StatusCode::BAD_REQUEST, &Value::Object(fields))
        }
        Some(fields) => {
            let message = fields
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("request refused");
            refusal(&format!("http_{}", status.as_u16()), message)
        }
        None if status.is_success() => refusal("invalid_response", "the body is not JSON"),
        None => refusal(&format!("http_{}", status.as_u16()), "request refused"),
    }
}

fn success(mut fields: Map<String, Value>) -> Result<HttpResponse, WireError> {
    // Some providers leave `token_type` out; every token here is a bearer token.
    fields
        .entry("token_type")
        .or_insert_with(|| Value::String("bearer".into()));
    json_response(StatusCode::OK, &Value::Object(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &HttpResponse) -> Value {
        serde_json::from_slice(response.body()).unwrap()
    }

    #[test]
    fn withings_envelopes_are_unwrapped_and_their_errors_become_refusals() {
        let ok = normalise(
            ProviderId::Withings,
            StatusCode::OK,
            br#"{"status":0,"body":{"access_token":"a","userid":"1","token_type":"Bearer"}}"#,
        )
        .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(body(&ok)["userid"], "1");
        let refused = normalise(
            ProviderId::Withings,
            StatusCode::OK,
            br#"{"status":503,"error":"Invalid Params: invalid code"}"#,
        )
        .unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body(&refused)["error"], "invalid_request");
        let expired = normalise(
            ProviderId::Withings,
            StatusCode::OK,
            br#"{"status":401,"body":{}}"#,
        )
        .unwrap();
        assert_eq!(body(&expired)["error"], "invalid_grant");
        assert!(matches!(
            normalise(
                ProviderId::Withings,
                StatusCode::OK,
                br#"{"status":601,"body":{}}"#
            ),
            Err(WireError::RateLimited)
        ));
    }

    #[test]
    fn odd_replies_from_other_providers_become_readable() {
        let no_type = normalise(
            ProviderId::Garmin,
            StatusCode::OK,
            br#"{"access_token":"a"}"#,
        )
        .unwrap();
        assert_eq!(body(&no_type)["token_type"], "bearer");
        let strava = normalise(
            ProviderId::Strava,
            StatusCode::BAD_REQUEST,
            br#"{"message":"Bad Request","errors":[{"resource":"AuthorizationCode","field":"code","code":"invalid"}]}"#,
        )
        .unwrap();
        assert_eq!(body(&strava)["error"], "http_400");
        assert!(matches!(
            normalise(ProviderId::Oura, StatusCode::BAD_GATEWAY, b"<html>"),
            Err(WireError::Unavailable(502))
        ));
        assert!(matches!(
            normalise(ProviderId::Oura, StatusCode::TOO_MANY_REQUESTS, b""),
            Err(WireError::RateLimited)
        ));
    }
}
