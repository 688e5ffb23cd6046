//! The HTTP API and the function URL: an HTTP request turned into the payload format 2.0 event
//! API Gateway (or a function URL) hands a function, routed as the template's `HttpApi` events
//! say, and the function's answer turned back into the HTTP response.

use crate::runtime_stub::RuntimeStub;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// A route: its method, its path's segments, and the function behind it.
#[derive(Clone)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub function: RuntimeStub,
}

impl Route {
    /// The path parameters when `path` matches, and how specific the match is (literal
    /// segments count: API Gateway prefers the most specific route).
    fn matches(&self, method: &str, path: &str) -> Option<(usize, Map<String, Value>)> {
        if self.method != method && self.method != "ANY" {
            return None;
        }
        let pattern: Vec<&str> = self.path.trim_start_matches('/').split('/').collect();
        let given: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut parameters = Map::new();
        let mut literal = 0;
        for (index, segment) in pattern.iter().enumerate() {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
                parameters.insert(name.into(), given[index..].join("/").into());
                return Some((literal, parameters));
            }
            let value = given.get(index)?;
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if !value.is_empty() => {
                    let decoded = percent_decode(value);
                    parameters.insert(name.into(), decoded.into());
                }
                Some(_) => return None,
                None if segment == value => literal += 1,
                None => return None,
            }
        }
        (pattern.len() == given.len()).then_some((literal, parameters))
    }
}

fn percent_decode(value: &str) -> String {
    form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[derive(Clone)]
struct Front {
    routes: Arc<Vec<Route>>,
    /// A function URL: every request goes to this route's function, route key `$default`.
    function_url: bool,
    domain: String,
}

/// Serves `routes` on `listener` (a function URL when `function_url`: every request to its
/// one function).
pub fn serve(
    listener: tokio::net::TcpListener,
    routes: Vec<Route>,
    function_url: bool,
) -> tokio::task::JoinHandle<()> {
    let address = listener.local_addr().unwrap();
    let front = Front {
        routes: Arc::new(routes),
        function_url,
        domain: address.to_string(),
    };
    let app = Router::new().fallback(handle).with_state(front);
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    })
}

async fn handle(State(front): State<Front>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 10 * 1024 * 1024).await.unwrap();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let chosen = if front.function_url {
        front
            .routes
            .first()
            .map(|route| (route.clone(), "$default".to_owned(), Map::new()))
    } else {
        front
            .routes
            .iter()
            .filter_map(|route| route.matches(&method, &path).map(|m| (route, m)))
            .max_by_key(|(_, (literal, _))| *literal)
            .map(|(route, (_, parameters))| {
                (
                    route.clone(),
                    format!("{} {}", route.method, route.path),
                    parameters,
                )
            })
    };
    let Some((route, route_key, parameters)) = chosen else {
        return (StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#).into_response();
    };
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let value = value.to_str().unwrap_or_default().to_owned();
        if name == "cookie" {
            cookies.extend(value.split("; ").map(|c| Value::from(c.to_owned())));
            continue;
        }
        let joined = match headers.get(name.as_str()) {
            Some(Value::String(before)) => format!("{before},{value}"),
            _ => value,
        };
        headers.insert(name.as_str().to_owned(), joined.into());
    }
    headers.insert("x-forwarded-proto".into(), "https".into());
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let mut query_parameters = Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let joined = match query_parameters.get(key.as_ref()) {
            Some(Value::String(before)) => format!("{before},{value}"),
            _ => value.into_owned(),
        };
        query_parameters.insert(key.into_owned(), joined.into());
    }
    let (text, encoded) = match std::str::from_utf8(&body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (STANDARD.encode(&body), true),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": super::template::ACCOUNT,
            "apiId": "emulated",
            "domainName": front.domain,
            "domainPrefix": "emulated",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": parts.headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default(),
            },
            "requestId": format!("{now}"),
            "routeKey": route_key,
            "stage": "$default",
            "time": "29/Nov/2026:10:00:00 +0000",
            "timeEpoch": now,
        },
        "isBase64Encoded": encoded,
    });
    if !cookies.is_empty() {
        event["cookies"] = cookies.into();
    }
    if !query_parameters.is_empty() {
        event["queryStringParameters"] = query_parameters.into();
    }
    if !parameters.is_empty() {
        event["pathParameters"] = parameters.into();
    }
    if !body.is_empty() {
        event["body"] = text.into();
    }
    match route.function.invoke(event).await {
        Ok(answer) => response_of(&answer),
        // What API Gateway answers when the function fails.
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"message":"Internal Server Error"}"#,
        )
            .into_response(),
    }
}

fn response_of(answer: &Value) -> Response {
    let status = answer["statusCode"]
        .as_u64()
        .and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok())
        .unwrap_or(StatusCode::OK);
    let body = answer["body"].as_str().unwrap_or_default();
    let body = if answer["isBase64Encoded"] == true {
        STANDARD.decode(body).unwrap()
    } else {
        body.as_bytes().to_vec()
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let multi = answer["multiValueHeaders"]
        .as_object()
        .is_some_and(|map| !map.is_empty());
    if let Some(map) = answer["headers"].as_object().filter(|_| !multi) {
        for (name, value) in map {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value.as_str().unwrap_or_default()).unwrap(),
            );
        }
    }
    if let Some(map) = answer["multiValueHeaders"].as_object() {
        for (name, values) in map {
            for value in values.as_array().into_iter().flatten() {
                headers.append(
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value.as_str().unwrap_or_default()).unwrap(),
                );
            }
        }
    }
    for cookie in answer["cookies"].as_array().into_iter().flatten() {
        headers.append(
            "set-cookie",
            HeaderValue::from_str(cookie.as_str().unwrap()).unwrap(),
        );
    }
    response
}
