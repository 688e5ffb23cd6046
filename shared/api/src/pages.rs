//! The few HTML pages end users see: the hosted widget, the demo provider's consent screen, and
//! the "connected" / error pages. Served with a strict content security policy and no referrer,
//! since their URLs carry single-use tokens.

use crate::problem::{ApiError, CONNECT_FAILED};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::collections::HashMap;
use vitasync_domain::connect::ConnectFailure;

/// A browser step's query string as a map; the last of repeated keys wins, empty values count
/// as absent.
pub fn query(uri: &Uri) -> HashMap<String, String> {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f5f5f7;margin:0;color:#1d1d1f}\
main{max-width:420px;margin:48px auto;background:#fff;border-radius:16px;padding:32px;\
box-shadow:0 2px 12px rgba(0,0,0,.08)}h1{font-size:22px;margin:0 0 8px}p{color:#555;line-height:1.5}\
ul{list-style:none;padding:0;margin:24px 0 0}li{margin:8px 0}\
a.provider,button{display:flex;align-items:center;gap:12px;width:100%;box-sizing:border-box;\
padding:12px 16px;border:1px solid #ddd;border-radius:12px;background:#fff;color:inherit;\
text-decoration:none;font-size:16px;cursor:pointer}a.provider:hover,button:hover{border-color:#888}\
img{width:36px;height:36px}button.primary{background:#6b4de6;color:#fff;border-color:#6b4de6;\
justify-content:center}label{display:block;margin:16px 0 4px}input{width:100%;box-sizing:border-box;\
padding:10px;border:1px solid #ddd;border-radius:8px;font-size:16px}code{word-break:break-all}";

/// A whole page with `body` (already escaped HTML).
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    protect(response.headers_mut());
    response
}

/// Headers for every page and redirect of the browser leg.
pub fn protect(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// A 302 to `location` that leaks no referrer and is never cached.
pub fn redirect(location: &str) -> Response {
    let mut response = Redirect::to(location).into_response();
    *response.status_mut() = StatusCode::FOUND;
    protect(response.headers_mut());
    response
}

/// Whether the client asked for JSON rather than a page (API clients, scripts).
fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    accept.contains("json") && !accept.contains("text/html")
}

/// A browser-leg failure: an error page, or problem+json for clients that ask for JSON.
pub fn failure(headers: &HeaderMap, failure: &ConnectFailure) -> Response {
    if wants_json(headers) {
        return ApiError::new(
            CONNECT_FAILED,
            format!("{}: {}", failure.code, failure.description),
        )
        .into_response();
    }
    let body = format!(
        "<h1>Could not connect</h1><p data-error=\"{code}\">{description}</p>\
         <p><small>Error code: <code>{code}</code></small></p>",
        code = escape(failure.code),
        description = escape(&failure.description),
    );
    page(StatusCode::BAD_REQUEST, "Could not connect", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
